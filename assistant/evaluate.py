"""The eval harness: cases -> answers -> grounding metrics -> report.json / report.md -> the gate.

The metrics are recomputed here from the final answer and the retrieved passages, not read from
the verifier's own flags, so a verifier that wrongly approves something is caught, not trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant import evaluate_figures
from assistant.analysis import as_sentences, read_terms, terms
from assistant.config import Settings
from assistant.question import analyse, prepare
from assistant.render import body, bottom_line, is_compact, quote, stated, unconfirmed_parts
from assistant.tables import unit_of
from assistant.text import clean, coverage, same_question
from assistant.types import Answer, Passage
from assistant.verify import FALLBACK_NOTE, same_fact

REQUIRED = ("id", "question", "answers", "answerable")
STATUSES = ("answered", "partial", "unconfirmed", "not_documented")


@dataclass
class Case:
    id: str
    question: str
    answers: list[str]
    answerable: bool
    file: str  # the cases file it came from
    passages: list[dict] | None = None
    corpus: str | None = None
    gold: list[str] = field(default_factory=list)  # gold passage ids or source file names
    # The parts of a compound question the sources do not answer: such a case expects "partial".
    undocumented_parts: list[str] = field(default_factory=list)
    expect_status: str | None = None  # overrides the status the case expects
    # A turn of a scripted conversation: asked after the conversation's earlier turns, and its
    # standalone rewrite must hold these words (the subject carried over).
    conversation: str | None = None
    turn: int = 0
    standalone_has: list[str] = field(default_factory=list)
    standalone_lacks: list[str] = field(default_factory=list)  # a new topic carries nothing over
    # The table cell that holds the answer: {"source", "sheet" or "page", "row", "column"}.
    cell: dict | None = None

    @property
    def expected_status(self) -> str:
        if self.expect_status:
            return self.expect_status
        if not self.answerable:
            return "not_documented"
        return "partial" if self.undocumented_parts else "answered"


@dataclass
class CaseResult:
    id: str
    file: str
    question: str
    answerable: bool
    expected: list[str]
    status: str
    got: str
    passed: bool
    why: str
    invented_numbers: list[str]
    self_contradiction: str  # empty, or how the answer contradicts itself
    invalid_citations: int
    citations: int
    precise_citations: int
    gold_retrieved: bool | None
    generator_claims_kept: int  # the generator's own sentences that survived verification
    generator_claims_rejected: int
    timings: dict
    standalone: str = ""  # the question that was answered, when the case was a follow-up
    resolved: bool | None = None  # a follow-up's rewrite holds what it must carry over
    duplicate_claims: int = 0  # claims stating a fact another claim already states
    words: int | None = None  # words of a one-part answered question's answer (sources aside)
    repeated_follow_ups: int = 0  # suggestions that ask this or an earlier turn's question
    # Only `answered` is right or wrong: wrong when it does not state an expected answer, or
    # answers a question (or a part) the sources do not answer.
    right: bool = False
    wrong: bool = False
    unconfirmed_parts: int = 0  # parts shown as "may answer", not confirmed
    unconfirmed_with_answer: int = 0  # of those, parts whose quoted evidence states the answer


def load_cases(paths: list[Path]) -> list[Case]:
    cases, seen = [], set()
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"no cases file at {path}")
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            where = f"{path}:{lineno}"
            missing = [] if "turns" in raw else [k for k in REQUIRED if k not in raw]
            missing += [] if raw.get("passages") or raw.get("corpus") else ["passages|corpus"]
            if missing:
                raise ValueError(f"{where}: case lacks {', '.join(missing)}")
            corpus = str(_resolve(raw["corpus"], path)) if raw.get("corpus") else None
            if "turns" in raw:  # a scripted conversation: one case per turn, in order
                if not raw.get("id") or not raw["turns"]:
                    raise ValueError(f"{where}: a conversation needs an id and turns")
                turns = [dict(turn, id=f"{raw['id']}.{k + 1}", passages=raw.get("passages"))
                         for k, turn in enumerate(raw["turns"])]
                new = [_case(turn, where, path, corpus, raw["id"], k)
                       for k, turn in enumerate(turns)]
            else:
                new = [_case(raw, where, path, corpus)]
            for case in new:
                if case.id in seen:
                    raise ValueError(f"{where}: duplicate case id {case.id!r}")
                seen.add(case.id)
            cases += new
    return cases


def _case(raw: dict, where: str, path: Path, corpus: str | None,
          conversation: str | None = None, turn: int = 0) -> Case:
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise ValueError(f"{where}: case lacks {', '.join(missing)}")
    status = raw.get("expect_status")
    if status is not None and status not in STATUSES:
        raise ValueError(f"{where}: expect_status must be one of {', '.join(STATUSES)}, "
                         f"not {status!r}")
    return Case(id=raw["id"], question=raw["question"], answers=raw["answers"],
                answerable=bool(raw["answerable"]), file=path.name,
                passages=raw.get("passages"), corpus=corpus,
                gold=raw.get("gold_passages") or raw.get("gold_sources") or [],
                undocumented_parts=raw.get("undocumented_parts") or [],
                expect_status=status, conversation=conversation, turn=turn,
                standalone_has=raw.get("standalone_has") or [],
                standalone_lacks=raw.get("standalone_lacks") or [], cell=raw.get("cell"))


def _resolve(corpus: str, cases_file: Path) -> Path:
    """A case's corpus folder: relative to the working directory, else to the cases file's
    folders (so `evals/cases/x.jsonl` naming "corpus/" works from anywhere in the project)."""
    for base in [Path.cwd(), *cases_file.resolve().parents]:
        if (base / corpus).is_dir():
            return (base / corpus).resolve()
    raise FileNotFoundError(f"{cases_file}: corpus folder {corpus!r} not found")


# -- running ---------------------------------------------------------------------------------


class Evaluator:
    """Owns one throwaway index per distinct passage set or corpus, reused across cases."""

    def __init__(self, settings: Settings, workdir: Path | None = None):
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="groundwork-eval-")
        self.workdir = workdir or Path(self._tmp.name)
        self.settings = settings.replace(index_dir=self.workdir / "index", chroma_url=None)
        self._assistants: dict[str, object] = {}

    def assistant_for(self, case: Case):
        from assistant.ingest import ingest
        from assistant.pipeline import Assistant
        from assistant.retrieve import Retriever
        from assistant.store import Store

        key = hashlib.sha256(json.dumps(case.passages or case.corpus, sort_keys=True)
                             .encode()).hexdigest()[:12]
        if key not in self._assistants:
            settings = self.settings.replace(collection=f"eval-{key}")
            root = Path(case.corpus) if case.corpus else self._write_passages(key, case.passages)
            store = Store(settings)  # opened once for the ingest and the answers (70 ms each)
            report = ingest([root], settings, store=store, progress=False)
            if not report.chunks_total:
                raise ValueError(f"case {case.id}: nothing could be ingested from {root}")
            self._assistants[key] = Assistant(settings, Retriever(settings, store))
        return self._assistants[key]

    def _write_passages(self, key: str, passages: list[dict]) -> Path:
        """A case's own passages become files, so they go through the real ingestion."""
        root = self.workdir / "passages" / key
        root.mkdir(parents=True, exist_ok=True)
        for p in passages:
            (root / f"{p['id']}.md").write_text(f"# {p.get('title') or p['id']}\n\n{p['text']}\n")
        return root

    def run(self, cases: list[Case], progress: bool = False) -> list[CaseResult]:
        from tqdm import tqdm

        results = []
        prepare([case.question for case in cases])  # parsed in batches, not one by one
        history: dict[str, list[Answer]] = {}  # conversation -> its answers so far
        for case in tqdm(cases, desc="eval", unit="case", disable=not progress):
            earlier = history.setdefault(case.conversation, []) if case.conversation else []
            answer = self.assistant_for(case).chat(case.question, earlier)
            earlier.append(answer)
            results.append(judge(case, answer, [a.question for a in earlier[:-1]]))
        return results

    def close(self) -> None:
        if self._tmp:
            self._tmp.cleanup()


# -- judging one answer --------------------------------------------------------------------------


def judge(case: Case, answer: Answer, asked_before: list[str] = ()) -> CaseResult:
    retrieved = answer.retrieved
    asserted = stated(answer)
    invented = invented_numbers(answer)
    given = {p.id for p in retrieved}
    invalid = sum(c.passage_id not in given for c in answer.citations)
    quoted = [(c.text, [_quoted(answer.citations[n - 1]) for n in c.citations])
              for c in asserted if c.citations]
    read_terms([t for claim, quotes in quoted for t in (claim, " ".join(quotes))])  # one batch
    precise = sum(_citation_supports(claim, quotes) for claim, quotes in quoted)
    cited = sum(1 for c in asserted if c.citations)
    unit = _cell_unit(case.cell, retrieved)
    says_answer = any(c.citations and _states(c.text, a, unit)
                      for c in asserted for a in case.answers)
    contradiction = self_contradiction(case, answer, says_answer)
    if case.answerable:
        cell_cited = not case.cell or any(_names_cell(c, case.cell) for c in answer.citations)
        passed = (says_answer and answer.status == case.expected_status and not invented
                  and not contradiction and cell_cited)
        why = ("states the expected answer, cited, status " + answer.status if passed else
               "no citation names the expected cell" if says_answer and not cell_cited else
               "invented a number" if invented else
               "answered not documented" if answer.status == "not_documented" else
               "expected answer not in a cited claim" if not says_answer else
               contradiction or f"status {answer.status}, expected {case.expected_status}")
    else:
        passed = answer.status != "answered" and not invented and not contradiction
        why = (f"does not answer it: status {answer.status}" if passed else
               "invented a number" if invented else
               contradiction or "answered instead of abstaining")
    gold = None
    if case.gold and case.answerable:
        gold = any(p.source in case.gold or Path(p.source).stem in case.gold for p in retrieved)
    resolved = None
    if case.turn:
        have = set(terms(answer.question))
        resolved = (all(set(terms(w)) <= have for w in case.standalone_has)
                    and not any(set(terms(w)) <= have for w in case.standalone_lacks))
        if not resolved:
            passed = False
            why = f"the follow-up was read as {answer.question!r}"
    got = f"[{answer.status}] " + (answer.summary[:300])
    maybe = unconfirmed_parts(answer)
    # Marking a compound question `answered` also answers its undocumented part: wrong too.
    answered = answer.status == "answered"
    right = case.answerable and says_answer and not case.undocumented_parts
    return CaseResult(id=case.id, file=case.file, question=case.question,
                      answerable=case.answerable, expected=case.answers, status=answer.status,
                      got=got, passed=passed, why=why, invented_numbers=invented,
                      self_contradiction=contradiction, invalid_citations=invalid,
                      citations=cited, precise_citations=precise,
                      gold_retrieved=gold, generator_claims_kept=sum(
                          1 for c in asserted if not c.reason.startswith(FALLBACK_NOTE)),
                      generator_claims_rejected=len(answer.rejected), timings=answer.timings,
                      standalone=answer.question if case.turn else "", resolved=resolved,
                      right=answered and right, wrong=answered and not right,
                      unconfirmed_parts=len(maybe),
                      unconfirmed_with_answer=sum(  # the evidence shown, in the source's words
                          any(_states(quote(answer, c), a) for c in claims for a in case.answers)
                          for _, claims in maybe),
                      **_shape(case, answer, asked_before))


def _shape(case: Case, answer: Answer, asked_before: list[str]) -> dict:
    """How the answer reads: repeated facts, length of a one-fact answer, repeated follow-ups."""
    parsed = as_sentences([c.text for c in stated(answer)])
    one_fact = case.answerable and is_compact(answer) and len(analyse(answer.question)) == 1
    asked = [set(terms(q)) for q in [answer.question, *asked_before]]
    return {
        "duplicate_claims": sum(any(same_fact(a, b) for b in parsed[:k])
                                for k, a in enumerate(parsed)),
        "words": len(" ".join(body(answer)).split()) if one_fact else None,
        "repeated_follow_ups": sum(any(same_question(set(terms(f)), q) for q in asked)
                                   for f in answer.follow_ups),
    }


def self_contradiction(case: Case, answer: Answer, says_answer: bool) -> str:
    """How the answer says both "here is the answer" and "this is not documented", or "".

    Two forms: a claim presented as the answer to a part that is also listed as undocumented;
    and, for an answerable case, the expected answer stated while a part the case does not
    declare undocumented is listed as undocumented.
    """
    listed = set(answer.undocumented)
    both = sorted({label for c in stated(answer) for label in c.answers} & listed)
    if both:
        return f"a claim answers {both[0]!r}, which is also listed as not documented"
    if case.answerable and says_answer:
        declared = [set(terms(p)) for p in case.undocumented_parts]
        for label in answer.undocumented:
            if not any(coverage(list(d), set(terms(label))) >= 0.5 for d in declared):
                return f"states the answer yet lists {label!r} as not documented"
    return ""


def invented_numbers(answer: Answer) -> list[str]:
    """Figures the answer states in its own voice that no passage it cites holds, nor the
    question (quoted back when saying what is not documented); follow-ups, against the passages
    retrieved. Fail-closed and read by the harness's own reader, not the verifier's: a figure
    the verifier cannot read is still counted here."""
    evidence = [text for c in answer.citations for text in (c.text, c.title)]
    evidence += [form for c in answer.citations if c.cell is not None
                 for form in _with_unit(c.cell.value, c.cell.unit)]
    asked = [answer.question, answer.asked]
    said = " ".join([answer.summary, bottom_line(answer), *(c.text for c in answer.claims)])
    found = evaluate_figures.unmatched(said, evidence + asked)
    wider = [text for p in answer.retrieved for text in (p.text, p.title)] + evidence + asked
    found += evaluate_figures.unmatched(" ".join(answer.follow_ups), wider)
    return list(dict.fromkeys(found))  # a figure repeated by the summary is one invention


def _cell_unit(expected: dict | None, retrieved: list[Passage]) -> str | None:
    """The unit the stored table's headers give the expected cell (None: not a table case)."""
    if not expected:
        return None
    for p in retrieved:
        table = p.analysis.table if p.analysis is not None else None
        if table is None or p.source != expected["source"]:
            continue
        for row in table.rows:
            if row[0] == expected["row"] and expected["column"] in table.columns:
                return (unit_of(expected["column"]) or unit_of(row[0])
                        or unit_of(table.caption))
    return ""


def _quoted(citation) -> str:
    """What a citation shows as support: its quote, or a cell with its headers and caption."""
    cell = citation.cell
    if cell is None:
        return citation.quote
    return f"{cell.row}, {cell.column}: {cell.value} ({cell.caption}, {cell.sheet})"


def _names_cell(citation, expected: dict) -> bool:
    """The citation is to the expected cell: same file, sheet or page, row and column."""
    cell = citation.cell
    return bool(cell) and citation.source == expected["source"] and (
        cell.row, cell.column) == (expected["row"], expected["column"]) and (
        "sheet" not in expected or cell.sheet == expected["sheet"]) and (
        "page" not in expected or citation.page == expected["page"])


def _with_unit(shown: str, unit: str) -> list[str]:
    """A cell's value with its header's unit applied, written out for the harness's own reader:
    18,207 under "$ thousands" is "$18,207 thousand"; 63.8 under "%" is "63.8%"."""
    low = unit.lower()
    if not low:
        return []
    if "%" in low or "percent" in low:
        return [shown + "%"]
    scale = next((w for w in ("thousand", "million", "billion") if w in low), "")
    currency = next((c for c in "$£€" if c in unit), "")
    return [f"{currency}{shown} {scale}".strip()] if scale or currency else []


def _states(claim: str, expected: str, unit: str | None = None) -> bool:
    """The claim states the expected answer: the same figure(s), or the phrase itself. For a
    table cell (`unit` not None) also the figure with its header's unit applied."""
    have = evaluate_figures.read(claim)[0]
    for form in [expected, *_with_unit(expected, unit or "")]:
        want = evaluate_figures.read(form)[0]
        if want and all(any(w.same_as(h) or _occasions(w, h, claim) for h in have)
                        for w in want):
            return True
    if evaluate_figures.read(expected)[0]:
        return False
    return clean(expected).lower() in clean(claim).lower()


def _occasions(want, have, claim: str) -> bool:
    """"nominated five times but never won" states five (occasions): "N times" is a multiple
    only before what it multiplies ("five times as many", "five times the 2022 total")."""
    at = claim.lower().find(have.text.lower())
    return want.kind == "number" and have.kind == "multiple" and want.value == have.value \
        and have.text.lower().endswith("times") and at >= 0 and not re.match(
            r"\s*(?:as|more|less|fewer|the|that|over|\w+er)\b", claim[at + len(have.text):],
            re.I)


def _citation_supports(claim: str, quotes: list[str]) -> bool:
    """Independent of the verifier: a quote holds the claim's figures and most of its words."""
    if evaluate_figures.unmatched(claim, quotes):
        return False
    return coverage(terms(claim), set(terms(" ".join(quotes)))) >= 0.5


# -- metrics and reports -------------------------------------------------------------------------


def metrics(results: list[CaseResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    with_gold = [r for r in results if r.gold_retrieved is not None]
    cited = sum(r.citations for r in results)

    def share(items, pred):
        return round(sum(map(pred, items)) / len(items), 4) if items else None

    stages = sorted({k for r in results for k in r.timings})
    latency = {}
    for stage in stages:
        values = sorted(r.timings[stage] for r in results if stage in r.timings)
        latency[stage] = {"p50_ms": round(1000 * statistics.median(values), 1),
                          "p95_ms": round(1000 * values[min(len(values) - 1,
                                                            int(0.95 * len(values)))], 1)}
    right, wrong = sum(r.right for r in results), sum(r.wrong for r in results)
    return {
        "total": len(results),
        "passed": sum(r.passed for r in results),
        "answerable_accuracy": share(answerable, lambda r: r.passed),
        # Only `answered` is right or wrong; an honest "not documented" is neither.
        "wrong_answers": wrong,
        "answer_precision": round(right / (right + wrong), 4) if right + wrong else None,
        "abstention_rate": share(unanswerable, lambda r: r.status != "answered"),
        "false_abstention_rate": share(answerable, lambda r: r.status == "not_documented"),
        "unconfirmed": sum(r.status == "unconfirmed" or r.unconfirmed_parts > 0
                           for r in results),
        "unconfirmed_parts": sum(r.unconfirmed_parts for r in results),
        "unconfirmed_with_answer": sum(r.unconfirmed_with_answer for r in results),
        "self_contradictions": sum(bool(r.self_contradiction) for r in results),
        "follow_up_turns_resolved": share([r for r in results if r.resolved is not None],
                                          lambda r: r.resolved),
        "duplicate_claims_per_answer": round(sum(r.duplicate_claims for r in results)
                                             / len(results), 3) if results else None,
        "median_words_one_fact": statistics.median_low(words) if (words := [
            r.words for r in results if r.words is not None]) else None,
        "repeated_follow_ups": sum(r.repeated_follow_ups for r in results),
        "invented_numbers": sum(len(r.invented_numbers) for r in results),
        "invalid_citations": sum(r.invalid_citations for r in results),
        "citation_precision": round(sum(r.precise_citations for r in results) / cited, 4)
        if cited else None,
        "retrieval_recall_at_k": share(with_gold, lambda r: r.gold_retrieved),
        # How much of the answers the generator wrote itself, and how much the verifier removed.
        "generator_claims_kept": sum(r.generator_claims_kept for r in results),
        "generator_claims_rejected": sum(r.generator_claims_rejected for r in results),
        "latency": latency,
    }


@dataclass
class Report:
    metrics: dict
    per_file: dict
    cases: list[CaseResult]
    generator: str
    seconds: float
    comparison: dict | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(self.metrics)  # top-level keys for scripts: answerable_accuracy, ...
        return data

    def markdown(self) -> str:
        m = self.metrics
        lines = [f"# Eval report ({self.generator})", "",
                 f"{m['passed']}/{m['total']} cases passed in {self.seconds:.0f} s.", "",
                 "| metric | overall | " + " | ".join(self.per_file) + " |",
                 "|---|---|" + "---|" * len(self.per_file)]
        for key in ("answerable_accuracy", "wrong_answers", "answer_precision",
                    "abstention_rate", "false_abstention_rate", "unconfirmed",
                    "unconfirmed_parts", "unconfirmed_with_answer", "self_contradictions",
                    "invented_numbers", "invalid_citations", "citation_precision",
                    "retrieval_recall_at_k", "follow_up_turns_resolved",
                    "duplicate_claims_per_answer", "median_words_one_fact",
                    "repeated_follow_ups", "generator_claims_kept",
                    "generator_claims_rejected"):
            row = [_fmt(m[key])] + [_fmt(f[key]) for f in self.per_file.values()]
            lines.append(f"| {key} | " + " | ".join(row) + " |")
        lines += ["", "| stage | p50 ms | p95 ms |", "|---|---|---|"]
        lines += [f"| {s} | {v['p50_ms']} | {v['p95_ms']} |" for s, v in m["latency"].items()]
        if self.comparison:
            c = self.comparison
            lines += ["", "## Against the baseline", "",
                      f"Better: {', '.join(c['better']) or 'none'}",
                      f"Worse: {', '.join(c['worse']) or 'none'}"]
        lines += ["", "## Cases", "", "| case | question | expected | got | result | why |",
                  "|---|---|---|---|---|---|"]
        for r in self.cases:
            expected = ", ".join(r.expected) if r.answerable else "(not documented)"
            lines.append(f"| {r.id} | {_cell(r.question)} | {_cell(expected)} | {_cell(r.got)} | "
                         f"{_result(r)} | {_cell(r.why)} |")
        return "\n".join(lines) + "\n"


def _result(r: CaseResult) -> str:
    """A wrong answer stands out from an honest miss: the worst failure the product can have."""
    return "pass" if r.passed else "**WRONG**" if r.wrong else "**FAIL**"


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.1%}" if isinstance(v, float) else str(v))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def evaluate(cases: list[Case], settings: Settings | None = None, *, progress: bool = False,
             baseline: dict | None = None, workdir: Path | None = None) -> Report:
    """`workdir` keeps the cases' indexes for the next run, which then ingests nothing that it
    holds already (a temporary folder by default)."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    evaluator = Evaluator(settings, workdir)
    try:
        results = evaluator.run(cases, progress=progress)
    finally:
        evaluator.close()
    per_file = {name: metrics([r for r in results if r.file == name])
                for name in dict.fromkeys(r.file for r in results)}
    report = Report(metrics=metrics(results), per_file=per_file, cases=results,
                    generator=settings.generator, seconds=round(time.perf_counter() - started, 1))
    if baseline:
        before = {c["id"]: c["passed"] for c in baseline.get("cases", [])}
        report.comparison = {
            "better": [r.id for r in results if r.passed and before.get(r.id) is False],
            "worse": [r.id for r in results if not r.passed and before.get(r.id) is True],
        }
    return report


def gate_failures(report: Report, gate_file: Path) -> list[str]:
    """Each threshold a cases file misses, in words; empty when the gate passes.

    Top-level thresholds apply to every cases file on its own (a held-out set must not hide
    behind an easy one); a `[files."NAME.jsonl"]` table overrides them for that file. A rate
    that a file cannot measure (no unanswerable case, say) is skipped unless its table names it.
    """
    limits = tomllib.loads(gate_file.read_text())
    overrides = limits.pop("files", {})
    failures = []
    for name, file_metrics in report.per_file.items():
        own = overrides.get(name, {})
        for key, limit in {**limits, **own}.items():
            bound, metric = key.split("_", 1)
            value = file_metrics.get(metric)
            if value is None:
                if key in own:
                    failures.append(f"{name}: {metric} not measured")
            elif (bound == "min" and value < limit) or (bound == "max" and value > limit):
                failures.append(f"{name}: {metric} = {value} ({bound} {limit})")
    return failures


def run_cli(args, settings: Settings) -> int:
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    report = evaluate(load_cases(args.cases), settings, progress=not args.json and
                      sys.stderr.isatty(), baseline=baseline, workdir=args.index)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(report.to_dict(), indent=2))
        (args.out / "report.md").write_text(report.markdown())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        m = report.metrics
        print(f"{m['passed']}/{m['total']} passed | answerable accuracy "
              f"{_fmt(m['answerable_accuracy'])} | wrong answers {m['wrong_answers']} | answer "
              f"precision {_fmt(m['answer_precision'])} | unconfirmed {m['unconfirmed']} | "
              f"abstention {_fmt(m['abstention_rate'])} | "
              f"false abstention {_fmt(m['false_abstention_rate'])} | self-contradictions "
              f"{m['self_contradictions']} | invented numbers "
              f"{m['invented_numbers']} | invalid citations {m['invalid_citations']} | citation "
              f"precision {_fmt(m['citation_precision'])} | retrieval recall@k "
              f"{_fmt(m['retrieval_recall_at_k'])}")
        for r in report.cases:
            if not r.passed:
                print(f"  FAIL {r.id}: {r.why}: {r.question}")
    if args.gate:
        failures = gate_failures(report, args.gate)
        for f in failures:
            print(f"gate: {f}", file=sys.stderr)
        return 1 if failures else 0
    return 0
