"""The eval harness: cases -> answers -> grounding metrics -> report.json / report.md -> the gate.

The metrics are recomputed here from the final answer and the retrieved passages, not read from
the verifier's own flags, so a verifier that wrongly approves something is caught, not trusted.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.text import clean, coverage, figures, terms
from assistant.types import Answer, Passage
from assistant.verify import FALLBACK_NOTE

REQUIRED = ("id", "question", "answers", "answerable")


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
    invalid_citations: int
    citations: int
    precise_citations: int
    gold_retrieved: bool | None
    generator_claims_kept: int  # the generator's own sentences that survived verification
    generator_claims_rejected: int
    timings: dict


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
            missing = [k for k in REQUIRED if k not in raw]
            if missing or not (raw.get("passages") or raw.get("corpus")):
                missing += [] if raw.get("passages") or raw.get("corpus") else ["passages|corpus"]
                raise ValueError(f"{path}:{lineno}: case lacks {', '.join(missing)}")
            if raw["id"] in seen:
                raise ValueError(f"{path}:{lineno}: duplicate case id {raw['id']!r}")
            seen.add(raw["id"])
            corpus = raw.get("corpus")
            if corpus:
                corpus = str(_resolve(corpus, path))
            cases.append(Case(id=raw["id"], question=raw["question"], answers=raw["answers"],
                              answerable=bool(raw["answerable"]), file=path.name,
                              passages=raw.get("passages"), corpus=corpus,
                              gold=raw.get("gold_passages") or raw.get("gold_sources") or []))
    return cases


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

        key = hashlib.sha256(json.dumps(case.passages or case.corpus, sort_keys=True)
                             .encode()).hexdigest()[:12]
        if key not in self._assistants:
            settings = self.settings.replace(collection=f"eval-{key}")
            root = Path(case.corpus) if case.corpus else self._write_passages(key, case.passages)
            report = ingest([root], settings, progress=False)
            if not report.chunks_total:
                raise ValueError(f"case {case.id}: nothing could be ingested from {root}")
            self._assistants[key] = Assistant(settings)
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
        for case in tqdm(cases, desc="eval", unit="case", disable=not progress):
            answer = self.assistant_for(case).ask(case.question)
            results.append(judge(case, answer))
        return results

    def close(self) -> None:
        if self._tmp:
            self._tmp.cleanup()


# -- judging one answer --------------------------------------------------------------------------


def judge(case: Case, answer: Answer) -> CaseResult:
    retrieved = answer.retrieved
    asserted = [c for c in answer.claims if not c.gap]
    invented = invented_numbers(answer, retrieved)
    given = {p.id for p in retrieved}
    invalid = sum(c.passage_id not in given for c in answer.citations)
    precise = sum(_citation_supports(c.text, [answer.citations[n - 1].quote for n in c.citations])
                  for c in asserted if c.citations)
    cited = sum(1 for c in asserted if c.citations)
    if case.answerable:
        stating = [c for c in asserted if c.citations and any(_states(c.text, a)
                                                              for a in case.answers)]
        passed = bool(stating) and answer.status != "not_documented" and not invented
        why = ("states the expected answer, cited" if passed else
               "answered not documented" if answer.status == "not_documented" else
               "invented a number" if invented else "expected answer not in a cited claim")
    else:
        abstained = answer.status == "not_documented" or bool(answer.undocumented)
        passed = abstained and not invented
        why = ("says the asked part is not documented" if passed else
               "invented a number" if invented else "answered instead of abstaining")
    gold = None
    if case.gold and case.answerable:
        gold = any(p.source in case.gold or Path(p.source).stem in case.gold for p in retrieved)
    got = f"[{answer.status}] " + (answer.summary[:300])
    return CaseResult(id=case.id, file=case.file, question=case.question,
                      answerable=case.answerable, expected=case.answers, status=answer.status,
                      got=got, passed=passed, why=why, invented_numbers=invented,
                      invalid_citations=invalid, citations=cited, precise_citations=precise,
                      gold_retrieved=gold, generator_claims_kept=sum(
                          1 for c in asserted if not c.reason.startswith(FALLBACK_NOTE)),
                      generator_claims_rejected=len(answer.rejected), timings=answer.timings)


def invented_numbers(answer: Answer, retrieved: list[Passage]) -> list[str]:
    """Figures the answer asserts that no retrieved passage contains (the question's own figures,
    quoted back when saying what is not documented, are not assertions)."""
    from assistant.render import bottom_line

    known = [f for p in retrieved for f in figures(p.text)] + figures(answer.question)
    # What the answer says in its own voice; section numbers and page numbers are layout.
    text = " ".join([answer.summary, bottom_line(answer), *(c.text for c in answer.claims),
                     *answer.follow_ups])
    return [f.text for f in figures(text) if not any(f.same_as(k) for k in known)]


def _states(claim: str, expected: str) -> bool:
    """The claim states the expected answer: the same figure(s), or the phrase itself."""
    want = figures(expected)
    if want:
        have = figures(claim)
        return all(any(w.same_as(h) for h in have) for w in want)
    return clean(expected).lower() in clean(claim).lower()


def _citation_supports(claim: str, quotes: list[str]) -> bool:
    """Independent of the verifier: a quote holds the claim's figures and most of its words."""
    quote = " ".join(quotes)
    claim_figures = figures(claim)
    quote_figures = figures(quote)
    if not all(any(f.same_as(g) for g in quote_figures) for f in claim_figures):
        return False
    return coverage(terms(claim), set(terms(quote))) >= 0.5


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
    return {
        "total": len(results),
        "passed": sum(r.passed for r in results),
        "answerable_accuracy": share(answerable, lambda r: r.passed),
        "abstention_rate": share(unanswerable, lambda r: r.passed),
        "false_abstention_rate": share(answerable, lambda r: r.status == "not_documented"),
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
        for key in ("answerable_accuracy", "abstention_rate", "false_abstention_rate",
                    "invented_numbers", "invalid_citations", "citation_precision",
                    "retrieval_recall_at_k", "generator_claims_kept",
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
                         f"{'pass' if r.passed else '**FAIL**'} | {_cell(r.why)} |")
        return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.1%}" if isinstance(v, float) else str(v))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def evaluate(cases: list[Case], settings: Settings | None = None, *, progress: bool = False,
             baseline: dict | None = None) -> Report:
    settings = settings or Settings.load()
    started = time.perf_counter()
    evaluator = Evaluator(settings)
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


def gate_failures(report_metrics: dict, gate_file: Path) -> list[str]:
    """Each threshold the metrics miss, in words; empty when the gate passes."""
    limits = tomllib.loads(gate_file.read_text())
    failures = []
    for key, limit in limits.items():
        bound, metric = key.split("_", 1)
        value = report_metrics.get(metric)
        if value is None:
            failures.append(f"{metric}: not measured")
        elif (bound == "min" and value < limit) or (bound == "max" and value > limit):
            failures.append(f"{metric} = {value} ({bound} {limit})")
    return failures


def run_cli(args, settings: Settings) -> int:
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    report = evaluate(load_cases(args.cases), settings, progress=not args.json and
                      sys.stderr.isatty(), baseline=baseline)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(report.to_dict(), indent=2))
        (args.out / "report.md").write_text(report.markdown())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        m = report.metrics
        print(f"{m['passed']}/{m['total']} passed | answerable accuracy "
              f"{_fmt(m['answerable_accuracy'])} | abstention {_fmt(m['abstention_rate'])} | "
              f"false abstention {_fmt(m['false_abstention_rate'])} | invented numbers "
              f"{m['invented_numbers']} | invalid citations {m['invalid_citations']} | citation "
              f"precision {_fmt(m['citation_precision'])} | retrieval recall@k "
              f"{_fmt(m['retrieval_recall_at_k'])}")
        for r in report.cases:
            if not r.passed:
                print(f"  FAIL {r.id}: {r.why}: {r.question}")
    if args.gate:
        failures = gate_failures(report.metrics, args.gate)
        for f in failures:
            print(f"gate: {f}", file=sys.stderr)
        return 1 if failures else 0
    return 0
