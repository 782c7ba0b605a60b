"""Draft -> Answer: keep only what the cited passages support, and say what they do not document.

Runs after every generator, the extractive one included, so the promise does not depend on the
generator behaving: citations to passages that were not given are removed, every figure must
appear in a cited passage, every claim needs a supporting sentence, and each part of the question
is decided answered, unconfirmed or not documented from the evidence sentences, never from the
generator's say-so. The decisions themselves are decide.py's; this module runs the claim loop
and assembles the Answer.
"""

from __future__ import annotations

import re

from assistant import analysis, cells
from assistant.analysis import context_before
from assistant.config import Settings
from assistant.decide import (
    ANSWERED,
    UNCONFIRMED,
    UNDOCUMENTED,
    Evidence,
    claim_answers,
    heading_terms,
    reads_as_answer,
    support,
)
from assistant.figures import unsupported
from assistant.question import Part, analyse
from assistant.render import MAY_ANSWER, NOT_DOCUMENTED
from assistant.text import clean, coverage, jaccard
from assistant.types import Answer, Citation, Claim, Draft, Passage, Sentence

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Sentences about the sources' silence, which the verifier states itself, as opposed to negative
# claims about the world ("no public dataset links ..."), which are checked like any claim.
_GAP_WORDS = ("not documented", "not stated in", "not mentioned", "no information",
              "the sources do not", "the passages do not", "the documents do not",
              "the context does not", "do not say", "does not say", "not specified")


FALLBACK_NOTE = "from the passages: the generator did not state this"


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of a draft with the [n] numbers they cite (markers removed from the text).

    A marker standing after the full stop ("... in 2023. [1]") belongs to the sentence before it.
    Sentences are found with the markers blanked out (same offsets): spaCy reads "[2] C" as a
    sentence start.
    """
    masked = _MARKER.sub(lambda m: " " * len(m.group(0)), text)
    spans = analysis.sentence_spans(masked)
    out: list[tuple[str, list[int]]] = []
    for k, (s, e) in enumerate(spans):
        start = 0 if k == 0 else s
        end = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        numbers = list(dict.fromkeys(_numbers(text[start:end])))
        body = clean(_MARKER.sub("", text[s:e])).strip(" .")
        if body and any(ch.isalnum() for ch in body):
            out.append((body + ".", numbers))
        elif out:  # a stray marker: it cites what came before
            out[-1] = (out[-1][0], list(dict.fromkeys(out[-1][1] + numbers)))
    return out


def _numbers(text: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


class Verifier:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.load()

    def run(self, question: str, draft: Draft, fallback: Draft | None = None) -> Answer:
        """Verify `draft`. `fallback` (the extractive draft over the same passages) fills in parts
        the draft leaves unanswered, so a weak model cannot make a documented figure vanish."""
        passages = draft.passages
        parts = analyse(question)
        kept, rejected = self._verify_all(draft.text, passages)
        outcomes = self._decide_parts(parts, kept, passages)
        if fallback is not None and (any(o != ANSWERED for o in outcomes)
                                     or all(not c.answers for c, _ in kept)):
            extra, _ = self._verify_all(fallback.text, passages)
            for claim, _ in extra:
                claim.reason = FALLBACK_NOTE
            known = {c.text.lower() for c, _ in kept}
            kept += [(c, e) for c, e in extra if c.text.lower() not in known]
            outcomes = self._decide_parts(parts, kept, passages)
        kept, withdrawn = self._without_doubted(parts, outcomes, kept)
        rejected += withdrawn
        gaps = [self._gap_claim(part, passages) for part, outcome in zip(parts, outcomes)
                if outcome == UNDOCUMENTED]
        return self._assemble(question, parts, outcomes, kept, gaps, rejected, passages,
                              draft.generator)

    def _verify_all(self, text: str, passages: list[Passage]):
        kept: list[tuple[Claim, Evidence]] = []
        rejected: list[Claim] = []
        split = split_claims(text)
        for (sentence, cited), parsed in zip(split, analysis.as_sentences([s for s, _ in split])):
            claim, evidence = self._check(sentence, parsed, cited, passages)
            if claim is not None and evidence is not None:
                kept.append((claim, evidence))
            elif claim is not None:
                rejected.append(claim)
        return kept, rejected

    # -- one claim -------------------------------------------------------------------------------

    def _check(self, text: str, parsed: Sentence, cited: list[int], passages: list[Passage]):
        """(Claim, Evidence) when supported, (Claim, None) when rejected, (None, None) for a
        sentence that asserts nothing the verifier must check."""
        if _is_gap_statement(text) and all(f.kind == "year" for f in parsed.figures):
            return None, None  # "X is not documented": the verifier decides that itself
        if _asserts_nothing(text, parsed, passages):
            return None, None
        valid = [n for n in cited if 1 <= n <= len(passages)]
        invalid = [n for n in cited if n not in valid]
        note = f"removed citation(s) {invalid} to passages that were not given; " if invalid else ""
        if not valid:
            # The generator forgot to cite (small models often do): look for the support
            # ourselves; the claim still has to pass every check below.
            note += "citation added by the verifier; "
            valid = list(range(1, len(passages) + 1))
        cited_passages = [passages[n - 1] for n in valid]
        # A claim stating a cited table cell is grounded on the cell (cells.py).
        cell = cells.support(parsed, passages, [n - 1 for n in valid])
        if cell is not None:
            ev = Evidence(cell.passage, cells.evidence(cell, passages[cell.passage]), 1.0, cell)
            return Claim(text, [cell.passage + 1], True, 1.0, note.strip("; ")), ev
        if self.settings.numeric_guard:  # fail closed: a figure the reader cannot match is out
            stated = [s for p in cited_passages for s in analysis.of(p).sentences]
            missing = [f.text for f in unsupported(parsed, stated)]
            if missing:
                return Claim(text, [], False, 0.0, note + f"figure(s) {', '.join(missing)} "
                             "appear in no cited passage"), None
        evidence, why = support(parsed, [n - 1 for n in valid], passages,
                                threshold=self.settings.support_threshold,
                                numeric_guard=self.settings.numeric_guard)
        if evidence is None:
            return Claim(text, [], False, 0.0, note + why), None
        return Claim(text, [evidence.passage_index + 1], True, round(evidence.coverage, 3),
                     note.strip("; ")), evidence

    # -- the question's parts ----------------------------------------------------------------------

    def _decide_parts(self, parts: list[Part], kept, passages: list[Passage]) -> list[str]:
        """Each part's outcome (answered, unconfirmed, not documented) from the kept claims: the
        best any claim reaches (decide.claim_answers). A claim records the parts it answers,
        and is marked unconfirmed when it may answer a part no claim answers."""
        strict = self.settings.answer_type_check
        for claim, _ in kept:
            claim.answers, claim.unconfirmed = [], False
        parsed = analysis.as_sentences([claim.text for claim, _ in kept]) if kept else []
        contexts = [context_before(passages[ev.passage_index], ev.sentence) for _, ev in kept]
        headings = [heading_terms(passages[ev.passage_index], ev.sentence) for _, ev in kept]
        outcomes = []
        for part in parts:
            cell = cells.ground(part, passages)  # a table cell that answers the part
            answering = [j for j, (_, ev) in enumerate(kept) if cell and cell.answered and ev.cell
                         and ev.cell.cell == cell.cell
                         and passages[ev.passage_index].id == passages[cell.passage].id]
            # A cell answers only the part `cells.ground` gives it; sentences are decided here.
            verdicts = {j: claim_answers(part, parsed[j], ev.sentence, contexts[j], strict=strict,
                                         heading=headings[j])
                        for j, (_, ev) in enumerate(kept) if ev.cell is None}
            answering += [j for j, v in verdicts.items() if v.outcome == ANSWERED]
            for j in answering:
                kept[j][0].answers.append(part.label)
            maybe = [j for j, v in verdicts.items() if v.outcome == UNCONFIRMED]
            if not answering and maybe:
                best = max(maybe, key=lambda j: verdicts[j].coverage)
                claim = kept[best][0]
                claim.unconfirmed = True
                claim.reason = (f"may answer {part.label!r}, not confirmed: "
                                f"{verdicts[best].reason}")
            outcomes.append(ANSWERED if answering else UNCONFIRMED if maybe
                            else UNDOCUMENTED)
        return outcomes

    def _without_doubted(self, parts: list[Part], outcomes: list[str], kept):
        """Claims that read as the answer to a part left undocumented are withdrawn: next to
        "not documented" they would read as the answer it says is missing."""
        open_parts = [p for p, o in zip(parts, outcomes) if o == UNDOCUMENTED]
        if not open_parts or not kept:
            return kept, []
        doubted = {j for j, (claim, ev) in enumerate(kept)
                   if not claim.answers and not claim.unconfirmed
                   and any(reads_as_answer(p, ev.sentence) for p in open_parts)}
        withdrawn = []
        for j in sorted(doubted):
            claim = kept[j][0]
            claim.supported = False
            claim.reason = "reads as an answer to a part the sources leave undocumented"
            withdrawn.append(claim)
        return [ce for j, ce in enumerate(kept) if j not in doubted], withdrawn

    def _gap_claim(self, part: Part, passages: list[Passage]) -> tuple[Part, Evidence | None]:
        """The sentence that says this part is not known, when the sources have one."""
        found = cells.ground(part, passages)  # what the table does give, when it is one
        if found is not None and not found.answered:
            p = passages[found.passage]
            return part, Evidence(found.passage, cells.evidence(found, p), 1.0, found, found.note)
        needed = part.distinct or part.focus or part.terms
        best = None
        for i, p in enumerate(passages):
            title_terms = set(analysis.of(p).title_terms)
            for sentence in analysis.of(p).sentences:
                if not sentence.negated:
                    continue
                sent_terms = set(sentence.terms)
                if not all(t in sent_terms for t in needed):
                    continue
                cov = coverage(part.terms, sent_terms | title_terms)
                if best is None or cov > best.coverage:
                    best = Evidence(i, sentence, cov)
        return part, (best if best and best.coverage >= 0.5 else None)

    # -- the Answer ------------------------------------------------------------------------------

    def _assemble(self, question, parts, outcomes, kept, gaps, rejected, passages, generator):
        citations: list[Citation] = []
        index: dict[tuple[int, int], int] = {}

        def cite(ev: Evidence) -> int:
            key = (ev.passage_index, ev.sentence.start)
            if key not in index:
                p = passages[ev.passage_index]
                s = ev.sentence
                index[key] = len(citations) + 1
                citations.append(Citation(
                    n=index[key], passage_id=p.id, source=p.source, title=p.title, page=p.page,
                    quote=clean(s.text), quote_start=s.start, quote_end=s.end,
                    text=p.text, start=p.start, end=p.end,
                    cell=cells.citation(ev.cell) if ev.cell else None))
            return index[key]

        claims: list[Claim] = []
        stated: list[tuple[Claim, Sentence]] = []
        # answers first, then what may answer, then the related context
        ordered = sorted(kept, key=lambda ce: (not ce[0].answers, not ce[0].unconfirmed))
        for claim, evidence in ordered:
            n = cite(evidence)
            parsed = analysis.as_sentence(claim.text)
            same = next((c for c, seen in stated if same_fact(parsed, seen)), None)
            if same is not None:  # one fact is stated once, citing every passage that states it
                same.citations += [n] if n not in same.citations else []
                same.answers += [a for a in claim.answers if a not in same.answers]
                same.unconfirmed = same.unconfirmed and not same.answers
                continue
            claim.citations = [n]
            stated.append((claim, parsed))
            claims.append(claim)
        for part, evidence in gaps:
            note = f" ({evidence.note})" if evidence and evidence.note else ""
            text = f"{part.label}: {NOT_DOCUMENTED} in the sources{note}."
            claims.append(Claim(text, [cite(evidence)] if evidence else [], True,
                                round(evidence.coverage, 3) if evidence else 0.0,
                                "states what the sources do not document", gap=True))
        status = _status(outcomes, any(not c.gap for c in claims))
        unconfirmed = [p.label for p, o in zip(parts, outcomes) if o == UNCONFIRMED]
        return Answer(question=question, status=status, summary=_summary(claims, status),
                      claims=claims, undocumented=[part.label for part, _ in gaps],
                      citations=citations, rejected=rejected, unconfirmed=unconfirmed,
                      generator=generator)


def _status(outcomes: list[str], states_something: bool) -> str:
    """answered: every part is; partial: some are; unconfirmed: none is, some may be. With no
    part answered or unconfirmed, an answer that shows related documented facts beside the
    undocumented parts (the headline's 63,892 escalations beside its arrests) stays partial;
    not_documented when it states nothing."""
    if outcomes and all(o == ANSWERED for o in outcomes):
        return "answered"
    if ANSWERED in outcomes:
        return "partial"
    if UNCONFIRMED in outcomes:
        return "unconfirmed"
    return "partial" if states_something else "not_documented"


def same_fact(a: Sentence, b: Sentence) -> bool:
    """Two claims state one fact: the same figures (years aside) and mostly the same words,
    or, without figures, nearly the same words."""
    figs_a = [f for f in a.figures if f.kind != "year"]
    figs_b = [f for f in b.figures if f.kind != "year"]
    overlap = jaccard(set(a.terms), set(b.terms))
    if figs_a or figs_b:
        same_figures = len(figs_a) == len(figs_b) and all(
            any(f.same_as(g) for g in figs_b) for f in figs_a)
        return same_figures and overlap >= 0.4
    return overlap >= 0.7


def _asserts_nothing(text: str, parsed: Sentence, passages: list[Passage]) -> bool:
    """A fragment ("The 2023 report is a report."), a question, or a passage title repeated."""
    claim_terms = [t for t in parsed.terms if not analysis.YEAR.fullmatch(t)]
    if len(claim_terms) < 2 or text.rstrip(".").endswith("?"):
        return True
    if any(f.kind != "year" for f in parsed.figures):
        return False
    return any(coverage(claim_terms, t) >= 0.75 and coverage(list(t), set(claim_terms)) >= 0.75
               for t in (set(analysis.of(p).title_terms) for p in passages))


def _is_gap_statement(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in _GAP_WORDS)


def _summary(claims: list[Claim], status: str) -> str:
    """One or two cited sentences: the answer (or nearest documented fact), then the gap."""
    def with_cites(c: Claim) -> str:
        marks = "".join(f" [{n}]" for n in c.citations)
        return c.text.rstrip(".") + marks + "."

    if status == "not_documented" and not any(c.citations for c in claims):
        return ("Not documented: the indexed sources do not answer this question "
                f"({NOT_DOCUMENTED}).")
    facts = [c for c in claims if not c.gap]
    maybe = [c for c in facts if c.unconfirmed][:1]
    lead = [c for c in facts if c.answers][:1] or ([] if maybe else facts[:1])
    gaps = [c for c in claims if c.gap]
    sentences = [with_cites(c) for c in lead]
    sentences += [f"{MAY_ANSWER}: {with_cites(c)}" for c in maybe]
    if gaps:
        labels = "; ".join(c.text.split(": " + NOT_DOCUMENTED)[0] for c in gaps)
        marks = "".join(f" [{n}]" for n in dict.fromkeys(n for c in gaps for n in c.citations))
        sentences.append(f"The sources do not document the following: {labels}{marks}.")
    return " ".join(sentences)
