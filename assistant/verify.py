"""Draft -> Answer: keep only what the cited passages support, and say what they do not document.

Runs after every generator, the extractive one included, so the promise does not depend on the
generator behaving: citations to passages that were not given are removed, every figure must
appear in a cited passage, every claim needs a supporting sentence, and each part of the question
is decided documented or not from the evidence sentences, never from the generator's say-so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.config import Settings
from assistant.question import Part, analyse, answers
from assistant.text import (
    clean,
    coverage,
    figures,
    is_negated,
    sentence_spans,
    terms,
)
from assistant.types import NOT_DOCUMENTED, Answer, Citation, Claim, Draft, Passage

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Sentences about the sources' silence, which the verifier states itself, as opposed to negative
# claims about the world ("no public dataset links ..."), which are checked like any claim.
_GAP_WORDS = ("not documented", "not stated in", "not mentioned", "no information",
              "the sources do not", "the passages do not", "the documents do not",
              "the context does not", "do not say", "does not say", "not specified")


@dataclass
class Evidence:
    """The sentence of a passage that best supports a claim, located for highlighting."""

    passage_index: int  # 0-based into the draft's passages
    start: int  # offsets in the passage text
    end: int
    coverage: float

    def sentence(self, passages: list[Passage]) -> str:
        return passages[self.passage_index].text[self.start:self.end]


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of a draft with the [n] numbers they cite (markers removed from the text).

    A marker standing after the full stop ("... in 2023. [1]") belongs to the sentence before it.
    """
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        cited = [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"[,;]", m.group(1))]
        body = clean(_MARKER.sub("", sentence)).strip(" .")
        if body and any(ch.isalnum() for ch in body):
            out.append((body + ".", list(dict.fromkeys(cited))))
        elif out and cited:
            out[-1] = (out[-1][0], list(dict.fromkeys(out[-1][1] + cited)))
    return out


def context_before(passage: Passage, start: int) -> str:
    """Title and the passage's earlier affirmative sentences: what a sentence's subject may rely on.

    Negated sentences are left out so that "nobody published how many runners started" cannot
    lend the word "started" to the next sentence's figure.
    """
    earlier = [passage.text[s:e] for s, e in sentence_spans(passage.text) if e <= start]
    return " ".join([passage.title] + [s for s in earlier if not is_negated(s)])


class Verifier:
    def __init__(self, settings: Settings | None = None, embedder=None):
        self.settings = settings or Settings.load()
        self.embedder = embedder  # optional paraphrase rescue; lexical support alone is enough

    def run(self, question: str, draft: Draft) -> Answer:
        passages = draft.passages
        parts = analyse(question)
        kept: list[tuple[Claim, list[Evidence]]] = []
        rejected: list[Claim] = []
        for text, cited in split_claims(draft.text):
            claim, evidence = self._check(text, cited, passages)
            if claim is None:
                continue
            (kept if claim.supported else rejected).append((claim, evidence) if claim.supported
                                                           else claim)
        documented, undocumented = self._decide_parts(parts, kept, passages)
        gaps = [self._gap_claim(part, passages) for part in undocumented]
        return self._assemble(question, parts, documented, kept, gaps, rejected, passages,
                              draft.generator)

    # -- one claim -------------------------------------------------------------------------------

    def _check(self, text: str, cited: list[int], passages: list[Passage]):
        """(Claim, evidence) with the verdict; (None, []) for a sentence that asserts nothing."""
        if _is_gap_statement(text) and not figures(text):
            return None, []  # "X is not documented": the verifier decides that itself
        valid = [n for n in cited if 1 <= n <= len(passages)]
        invalid = [n for n in cited if n not in valid]
        note = f"removed citation(s) {invalid} to passages that were not given; " if invalid else ""
        if not valid:
            return Claim(text, [], False, 0.0, note + "cites no retrieved passage"), []
        cited_passages = [passages[n - 1] for n in valid]
        if self.settings.numeric_guard:
            missing = [f.text for f in figures(text)
                       if not any(f.same_as(g) for p in cited_passages for g in figures(p.text))]
            if missing:
                return Claim(text, valid, False, 0.0, note + f"figure(s) {', '.join(missing)} "
                             "appear in no cited passage"), []
        evidence = self._best_evidence(text, [n - 1 for n in valid], passages)
        if evidence is None:
            return Claim(text, valid, False, 0.0, note + "no sentence of the cited passages "
                         "supports it"), []
        return Claim(text, [evidence.passage_index + 1], True, round(evidence.coverage, 3),
                     note.strip("; ")), [evidence]

    def _best_evidence(self, claim: str, indexes: list[int], passages: list[Passage]):
        """The cited sentence sharing most of the claim's words, same polarity, holding its figures."""
        claim_terms = terms(claim)
        claim_figures = [f for f in figures(claim) if f.kind != "year"]
        negated = is_negated(claim)
        best: Evidence | None = None
        candidates = []
        for i in indexes:
            p = passages[i]
            title_terms = set(terms(p.title))
            for s, e in sentence_spans(p.text):
                sentence = p.text[s:e]
                if is_negated(sentence) != negated:
                    continue
                sent_figures = figures(sentence)
                if self.settings.numeric_guard and not all(
                        any(f.same_as(g) for g in sent_figures) for f in claim_figures):
                    continue  # the figure must sit in the supporting sentence, not elsewhere
                cov = coverage(claim_terms, set(terms(sentence)) | title_terms)
                candidates.append((sentence, Evidence(i, s, e, cov)))
                if best is None or cov > best.coverage:
                    best = Evidence(i, s, e, cov)
        if best is not None and best.coverage >= self.settings.support_threshold:
            return best
        return self._embedding_rescue(claim, candidates)

    def _embedding_rescue(self, claim: str, candidates):
        """A paraphrase that shares few words can still be supported if it means the same."""
        if self.embedder is None or not candidates:
            return None
        import numpy as np

        vectors = self.embedder.get_text_embedding_batch([claim] + [s for s, _ in candidates])
        sims = np.asarray(vectors[1:]) @ np.asarray(vectors[0])
        k = int(np.argmax(sims))
        evidence = candidates[k][1]
        if sims[k] >= 0.85 and evidence.coverage >= 0.4:
            evidence.coverage = float(sims[k])
            return evidence
        return None

    # -- the question's parts ----------------------------------------------------------------------

    def _decide_parts(self, parts: list[Part], kept, passages: list[Passage]):
        documented: dict[int, list[Claim]] = {}
        for claim, (evidence,) in kept:
            p = passages[evidence.passage_index]
            sentence = evidence.sentence(passages)
            context = context_before(p, evidence.start)
            for k, part in enumerate(parts):
                if answers(part, sentence, context, strict=self.settings.answer_type_check).ok:
                    documented.setdefault(k, []).append(claim)
                    claim.answers.append(part.label)
        undocumented = [part for k, part in enumerate(parts) if k not in documented]
        return documented, undocumented

    def _gap_claim(self, part: Part, passages: list[Passage]) -> tuple[Part, Evidence | None]:
        """The sentence that says this part is not known, when the sources have one."""
        needed = part.focus or part.terms
        best = None
        for i, p in enumerate(passages):
            for s, e in sentence_spans(p.text):
                sentence = p.text[s:e]
                if not is_negated(sentence):
                    continue
                sent_terms = set(terms(sentence))
                if not all(t in sent_terms for t in needed):
                    continue
                cov = coverage(part.terms, sent_terms | set(terms(p.title)))
                if best is None or cov > best.coverage:
                    best = Evidence(i, s, e, cov)
        return part, (best if best and best.coverage >= 0.5 else None)

    # -- the Answer ------------------------------------------------------------------------------

    def _assemble(self, question, parts, documented, kept, gaps, rejected, passages, generator):
        citations: list[Citation] = []
        index: dict[tuple[int, int, int], int] = {}

        def cite(ev: Evidence) -> int:
            key = (ev.passage_index, ev.start, ev.end)
            if key not in index:
                p = passages[ev.passage_index]
                index[key] = len(citations) + 1
                citations.append(Citation(
                    n=index[key], passage_id=p.id, source=p.source, title=p.title, page=p.page,
                    quote=clean(p.text[ev.start:ev.end]), quote_start=ev.start, quote_end=ev.end,
                    text=p.text, start=p.start, end=p.end))
            return index[key]

        claims: list[Claim] = []
        seen_text = set()
        ordered = sorted(kept, key=lambda ce: (not ce[0].answers,))  # answers first
        for claim, (evidence,) in ordered:
            if claim.text.lower() in seen_text:
                continue
            seen_text.add(claim.text.lower())
            claim.citations = [cite(evidence)]
            claims.append(claim)
        for part, evidence in gaps:
            text = f"{part.label}: {NOT_DOCUMENTED} in the sources."
            claims.append(Claim(text, [cite(evidence)] if evidence else [], True,
                                round(evidence.coverage, 3) if evidence else 0.0,
                                "states what the sources do not document", gap=True))
        answered = [c for c in claims if c.answers]
        if parts and len(documented) == len(parts):
            status = "answered"
        elif answered or any(not c.gap for c in claims):
            status = "partial"
        else:
            status = "not_documented"
        return Answer(question=question, status=status, summary=_summary(claims, status),
                      claims=claims, undocumented=[part.label for part, _ in gaps],
                      citations=citations, rejected=rejected, generator=generator)


def _is_gap_statement(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in _GAP_WORDS)


def _summary(claims: list[Claim], status: str) -> str:
    """One or two cited sentences: the answer (or nearest documented fact), then the gap."""
    def with_cites(c: Claim) -> str:
        marks = "".join(f" [{n}]" for n in c.citations)
        return c.text.rstrip(".") + marks + "."

    if status == "not_documented" and not any(c.citations for c in claims):
        return f"Not documented: the indexed sources do not answer this question ({NOT_DOCUMENTED})."
    facts = [c for c in claims if not c.gap]
    lead = [c for c in facts if c.answers][:1] or facts[:1]
    gaps = [c for c in claims if c.gap]
    sentences = [with_cites(c) for c in lead]
    if gaps:
        labels = "; ".join(c.text.split(": " + NOT_DOCUMENTED)[0] for c in gaps)
        marks = "".join(f" [{n}]" for n in dict.fromkeys(n for c in gaps for n in c.citations))
        sentences.append(f"The sources do not document the following: {labels}{marks}.")
    return " ".join(sentences)
