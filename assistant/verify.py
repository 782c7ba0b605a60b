"""Draft -> Answer: keep only what the cited passages support, and say what they do not document.

Runs after every generator, the extractive one included, so the promise does not depend on the
generator behaving: citations to passages that were not given are removed, every figure must
appear in a cited passage, every claim needs a supporting sentence, and each part of the question
is decided documented or not from the evidence sentences, never from the generator's say-so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant import analysis, cells
from assistant.analysis import context_before
from assistant.config import Settings
from assistant.judge import load_judge, query_text
from assistant.question import (
    Part,
    analyse,
    answering,
    answers,
    judge_candidate,
    reads_as_answer,
)
from assistant.render import NOT_DOCUMENTED
from assistant.text import clean, coverage, is_instruction, jaccard
from assistant.types import Answer, Citation, Claim, Draft, Passage, Sentence

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Sentences about the sources' silence, which the verifier states itself, as opposed to negative
# claims about the world ("no public dataset links ..."), which are checked like any claim.
_GAP_WORDS = ("not documented", "not stated in", "not mentioned", "no information",
              "the sources do not", "the passages do not", "the documents do not",
              "the context does not", "do not say", "does not say", "not specified")


FALLBACK_NOTE = "from the passages: the generator did not state this"


@dataclass
class Evidence:
    """The sentence of a passage that best supports a claim, located for highlighting."""

    passage_index: int  # 0-based into the draft's passages
    sentence: Sentence  # offsets in the passage text
    coverage: float
    cell: cells.Grounding | None = None  # the table cell it is, when it is one
    note: str = ""  # for a gap: what the table does give


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of a draft with the [n] numbers they cite (markers removed from the text).

    A marker standing after the full stop ("... in 2023. [1]") belongs to the sentence before it.
    Sentences are found with the markers blanked out (same offsets): spaCy reads "[2] C" as a
    sentence start.
    """
    masked = _MARKER.sub(lambda m: " " * len(m.group(0)), text)
    spans = [(s.start, s.end) for s in analysis.sentences(masked)]
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
        self.judge = load_judge() if self.settings.judge else None

    def run(self, question: str, draft: Draft, fallback: Draft | None = None) -> Answer:
        """Verify `draft`. `fallback` (the extractive draft over the same passages) fills in parts
        the draft leaves unanswered, so a weak model cannot make a documented figure vanish."""
        passages = draft.passages
        parts = analyse(question)
        kept, rejected = self._verify_all(draft.text, passages)
        documented = self._decide_parts(parts, kept, passages)
        if fallback is not None and (len(documented) < len(parts)
                                     or all(not c.answers for c, _ in kept)):
            extra, _ = self._verify_all(fallback.text, passages)
            for claim, _ in extra:
                claim.reason = FALLBACK_NOTE
            known = {c.text.lower() for c, _ in kept}
            kept += [(c, e) for c, e in extra if c.text.lower() not in known]
            documented = self._decide_parts(parts, kept, passages)
        kept, withdrawn = self._without_doubted(parts, documented, kept, passages)
        rejected += withdrawn
        gaps = [self._gap_claim(part, passages) for k, part in enumerate(parts)
                if k not in documented]
        return self._assemble(question, parts, documented, kept, gaps, rejected, passages,
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
        # Tables (issue 17): a claim stating a cited cell is grounded on the cell (cells.py).
        cell = cells.support(parsed, passages, [n - 1 for n in valid])
        if cell is not None:
            ev = Evidence(cell.passage, cells.evidence(cell, passages[cell.passage]), 1.0, cell)
            return Claim(text, [cell.passage + 1], True, 1.0, note.strip("; ")), ev
        if self.settings.numeric_guard:
            stated = [g for p in cited_passages for s in analysis.of(p).sentences
                      for g in s.figures]
            missing = [f.text for f in parsed.figures if not any(f.same_as(g) for g in stated)]
            if missing:
                return Claim(text, [], False, 0.0, note + f"figure(s) {', '.join(missing)} "
                             "appear in no cited passage"), None
        evidence = self._best_evidence(text, parsed, [n - 1 for n in valid], passages)
        if evidence is None:
            return Claim(text, [], False, 0.0, note + "no sentence of the cited passages "
                         "supports it"), None
        return Claim(text, [evidence.passage_index + 1], True, round(evidence.coverage, 3),
                     note.strip("; ")), evidence

    def _best_evidence(self, claim: str, parsed: Sentence, indexes: list[int],
                       passages: list[Passage]) -> Evidence | None:
        """The cited sentence that supports the claim: it holds the claim's figures with what
        they count, has the same polarity, shares at least half the claim's words, and the
        judge reads it as supporting the claim (without the judge: most of the claim's words
        must be in it or its title). A sentence quoted whole supports itself."""
        claim_term_set = set(parsed.terms)
        claim_figures = [f for f in parsed.figures if f.kind != "year"]
        candidates: list[Evidence] = []
        for i in indexes:
            p = passages[i]
            title_terms = set(analysis.of(p).title_terms)
            for sentence in analysis.of(p).sentences:
                if sentence.negated != parsed.negated or is_instruction(sentence.text):
                    continue
                if self.settings.numeric_guard and not all(
                        _figure_in_context(f, sentence, claim_term_set) for f in claim_figures):
                    continue
                sent_terms = set(sentence.terms)
                if coverage(parsed.terms, sent_terms) < 0.5:
                    continue  # a title cannot carry a claim on its own
                candidates.append(Evidence(i, sentence, coverage(parsed.terms,
                                                                 sent_terms | title_terms)))
        candidates.sort(key=lambda ev: -ev.coverage)
        quoted = _words(claim)
        for ev in candidates:
            if _words(ev.sentence.text) == quoted:
                return ev
        judge = self.judge
        if judge is None:
            best = candidates[0] if candidates else None
            return best if best and best.coverage >= self.settings.support_threshold else None
        if not candidates:
            return None
        scores = judge.score([(query_text(claim, "claim"),
                               judge_candidate(passages[ev.passage_index], ev.sentence))
                              for ev in candidates])
        best = max(range(len(candidates)), key=lambda k: scores[k])
        return candidates[best] if scores[best] >= judge.threshold else None

    # -- the question's parts ----------------------------------------------------------------------

    def _decide_parts(self, parts: list[Part], kept, passages: list[Passage]) -> set[int]:
        """The indexes of the parts some claim answers. A claim answers a part when its evidence
        sentence answers it (exact checks, then the judge) and the claim itself carries the
        asked figure and names what was asked about."""
        documented: set[int] = set()
        strict = self.settings.answer_type_check
        for claim, _ in kept:
            claim.answers = []
        for k, part in enumerate(parts):  # tables (issue 17): the cell that answers the part
            found = cells.ground(part, passages)
            for claim, ev in kept:
                if found and found.answered and ev.cell and ev.cell.cell == found.cell and (
                        passages[ev.passage_index].id == passages[found.passage].id):
                    documented.add(k)
                    claim.answers.append(part.label)
        evidence = [(passages[ev.passage_index], ev.sentence) for _, ev in kept]
        parsed = analysis.as_sentences([claim.text for claim, _ in kept]) if kept else []
        for k, (part, found) in enumerate(zip(parts, answering(parts, evidence, self.judge,
                                                               strict=strict))):
            for j, _ in found.answers:
                claim, ev = kept[j]
                if ev.cell is not None:
                    continue  # a cell answers only the part `cells.ground` gives it
                if strict and not all(t in parsed[j].terms for t in part.focus):
                    continue
                context = context_before(*evidence[j]) | set(ev.sentence.terms)
                if strict and part.wants_figure and not answers(
                        part, parsed[j], context, judged=self.judge is not None).ok:
                    continue
                documented.add(k)
                claim.answers.append(part.label)
        return documented

    def _without_doubted(self, parts, documented: set[int], kept, passages):
        """Claims that read as the answer to a part left undocumented are withdrawn: next to
        "not documented" they would read as the answer it says is missing. Those are claims
        that passed the exact checks but not the judge, and those `reads_as_answer` names."""
        open_parts = [p for k, p in enumerate(parts) if k not in documented]
        if not open_parts or not kept:
            return kept, []
        doubted = {j for j, (claim, ev) in enumerate(kept) if not claim.answers and any(
            reads_as_answer(p, ev.sentence) for p in open_parts)}
        if self.judge is not None:
            evidence = [(passages[ev.passage_index], ev.sentence) for _, ev in kept]
            doubted |= {j for found in answering(open_parts, evidence, self.judge)
                        for j in found.doubted if not kept[j][0].answers}
        withdrawn = []
        for j in sorted(doubted):
            claim = kept[j][0]
            claim.supported = False
            claim.reason = "reads as an answer to a part the sources leave undocumented"
            withdrawn.append(claim)
        return [ce for j, ce in enumerate(kept) if j not in doubted], withdrawn

    def _gap_claim(self, part: Part, passages: list[Passage]) -> tuple[Part, Evidence | None]:
        """The sentence that says this part is not known, when the sources have one."""
        found = cells.ground(part, passages)  # tables (issue 17): what the table does give
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

    def _assemble(self, question, parts, documented, kept, gaps, rejected, passages, generator):
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
        ordered = sorted(kept, key=lambda ce: (not ce[0].answers,))  # answers first
        for claim, evidence in ordered:
            n = cite(evidence)
            parsed = analysis.as_sentence(claim.text)
            same = next((c for c, seen in stated if same_fact(parsed, seen)), None)
            if same is not None:  # one fact is stated once, citing every passage that states it
                same.citations += [n] if n not in same.citations else []
                same.answers += [a for a in claim.answers if a not in same.answers]
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
        if parts and len(documented) == len(parts):
            status = "answered"
        elif any(not c.gap for c in claims):
            status = "partial"
        else:
            status = "not_documented"
        return Answer(question=question, status=status, summary=_summary(claims, status),
                      claims=claims, undocumented=[part.label for part, _ in gaps],
                      citations=citations, rejected=rejected, generator=generator)


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


def _figure_in_context(fig, sentence: Sentence, claim_terms: set[str]) -> bool:
    """The sentence states this figure, and the claim keeps what the figure is about.

    "63,892 reports were made" is not supported by "63,892 reports were escalated to law
    enforcement": the words around a figure in the source are part of its meaning, and a claim
    that drops most of them states a different quantity.
    """
    for g in sentence.figures:
        if not fig.same_as(g):
            continue
        before = sentence.text[:g.start - sentence.start].split()[-_WINDOW:]
        after = sentence.text[g.end - sentence.start:].split()[:_WINDOW]
        around = list(analysis.terms(" ".join(_clause(before, reverse=True) + _clause(after))))
        if coverage(around, claim_terms) >= 0.5:
            return True
    return False


def _clause(tokens: list[str], reverse: bool = False) -> list[str]:
    """The tokens up to the nearest clause break (, ; : parentheses) on the figure's side."""
    out = []
    for tok in reversed(tokens) if reverse else tokens:
        if reverse and tok.endswith((",", ";", ":", ")")):
            break
        out.append(tok)
        if not reverse and tok.endswith((",", ";", ":", "(", ".")):
            break
    return out[::-1] if reverse else out


_WINDOW = 6


def _asserts_nothing(text: str, parsed: Sentence, passages: list[Passage]) -> bool:
    """A fragment ("The 2023 report is a report."), a question, or a passage title repeated."""
    claim_terms = [t for t in parsed.terms if not analysis.YEAR.fullmatch(t)]
    if len(claim_terms) < 2 or text.rstrip(".").endswith("?"):
        return True
    if any(f.kind != "year" for f in parsed.figures):
        return False
    return any(coverage(claim_terms, t) >= 0.75 and coverage(list(t), set(claim_terms)) >= 0.75
               for t in (set(analysis.of(p).title_terms) for p in passages))


def _words(text: str) -> list[str]:
    """A sentence's words, for telling a verbatim quote from a rewording."""
    return re.findall(r"\w+", clean(text).lower())


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
    lead = [c for c in facts if c.answers][:1] or facts[:1]
    gaps = [c for c in claims if c.gap]
    sentences = [with_cites(c) for c in lead]
    if gaps:
        labels = "; ".join(c.text.split(": " + NOT_DOCUMENTED)[0] for c in gaps)
        marks = "".join(f" [{n}]" for n in dict.fromkeys(n for c in gaps for n in c.citations))
        sentences.append(f"The sources do not document the following: {labels}{marks}.")
    return " ".join(sentences)
