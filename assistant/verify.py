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
    is_instruction,
    is_negated,
    sentence_spans,
    terms,
)
from assistant.types import NOT_DOCUMENTED, Answer, Citation, Claim, Draft, Passage

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
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

    def cite_previous(numbers: list[int]) -> None:
        out[-1] = (out[-1][0], list(dict.fromkeys(out[-1][1] + numbers)))

    for s, e in sentence_spans(text):
        sentence = text[s:e]
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:  # "... is 6. [2] Next sentence": the [2] closes the sentence before
            cite_previous(_numbers(lead.group(0)))
            sentence = sentence[lead.end():]
        body = clean(_MARKER.sub("", sentence)).strip(" .")
        if body and any(ch.isalnum() for ch in body):
            out.append((body + ".", list(dict.fromkeys(_numbers(sentence)))))
        elif out:
            cite_previous(_numbers(sentence))
    return out


def _numbers(text: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


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
        gaps = [self._gap_claim(part, passages) for k, part in enumerate(parts)
                if k not in documented]
        return self._assemble(question, parts, documented, kept, gaps, rejected, passages,
                              draft.generator)

    def _verify_all(self, text: str, passages: list[Passage]):
        kept: list[tuple[Claim, Evidence]] = []
        rejected: list[Claim] = []
        for sentence, cited in split_claims(text):
            claim, evidence = self._check(sentence, cited, passages)
            if claim is not None and evidence is not None:
                kept.append((claim, evidence))
            elif claim is not None:
                rejected.append(claim)
        return kept, rejected

    # -- one claim -------------------------------------------------------------------------------

    def _check(self, text: str, cited: list[int], passages: list[Passage]):
        """(Claim, Evidence) when supported, (Claim, None) when rejected, (None, None) for a
        sentence that asserts nothing the verifier must check."""
        if _is_gap_statement(text) and all(f.kind == "year" for f in figures(text)):
            return None, None  # "X is not documented": the verifier decides that itself
        if _asserts_nothing(text, passages):
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
        if self.settings.numeric_guard:
            missing = [f.text for f in figures(text)
                       if not any(f.same_as(g) for p in cited_passages for g in figures(p.text))]
            if missing:
                return Claim(text, [], False, 0.0, note + f"figure(s) {', '.join(missing)} "
                             "appear in no cited passage"), None
        evidence = self._best_evidence(text, [n - 1 for n in valid], passages)
        if evidence is None:
            return Claim(text, [], False, 0.0, note + "no sentence of the cited passages "
                         "supports it"), None
        return Claim(text, [evidence.passage_index + 1], True, round(evidence.coverage, 3),
                     note.strip("; ")), evidence

    def _best_evidence(self, claim: str, indexes: list[int], passages: list[Passage]):
        """The cited sentence that holds the claim's figures, shares most of its words (the
        sentence itself at least half of them) and has the same polarity."""
        claim_terms = terms(claim)
        claim_term_set = set(claim_terms)
        claim_figures = [f for f in figures(claim) if f.kind != "year"]
        negated = is_negated(claim)
        best: Evidence | None = None
        candidates = []
        for i in indexes:
            p = passages[i]
            title_terms = set(terms(p.title))
            for s, e in sentence_spans(p.text):
                sentence = p.text[s:e]
                if is_negated(sentence) != negated or is_instruction(sentence):
                    continue
                if self.settings.numeric_guard and not all(
                        _figure_in_context(f, sentence, claim_term_set) for f in claim_figures):
                    continue
                sent_terms = set(terms(sentence))
                if coverage(claim_terms, sent_terms) < 0.5:
                    continue  # a title cannot carry a claim on its own
                cov = coverage(claim_terms, sent_terms | title_terms)
                candidates.append((sentence, Evidence(i, s, e, cov)))
                if best is None or cov > best.coverage:
                    best = Evidence(i, s, e, cov)
        if best is None or best.coverage < self.settings.support_threshold:
            best = self._embedding_rescue(claim, candidates)
        if best is not None and not self._model_agrees(best.sentence(passages), claim):
            return None
        return best

    def _model_agrees(self, evidence: str, claim: str) -> bool:
        """With `support_model` set, a cross-encoder must also judge that the evidence supports
        the claim: an NLI model's entailment label, or a single relevance score above 0.5."""
        if not self.settings.support_model:
            return True
        import numpy as np

        from assistant.models import load_cross_encoder

        model = load_cross_encoder(self.settings.support_model)
        scores = np.atleast_1d(np.asarray(model.predict([(evidence, claim)]))[0])
        if scores.size == 1:  # predict() already applies the model's sigmoid to one score
            score = float(scores[0])
            return (score if 0.0 <= score <= 1.0 else 1 / (1 + np.exp(-score))) >= 0.5
        labels = {v.lower(): int(k) for k, v in model.config.id2label.items()}
        entail = labels.get("entailment", int(np.argmax(scores)))
        return int(np.argmax(scores)) == entail

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

    def _decide_parts(self, parts: list[Part], kept, passages: list[Passage]) -> set[int]:
        """The indexes of the parts some claim answers. A claim answers a part when its evidence
        sentence passes the answer-type check and the claim itself carries the asked figure
        and names what was asked about."""
        documented: set[int] = set()
        for claim, evidence in kept:
            claim.answers = []
            p = passages[evidence.passage_index]
            sentence = evidence.sentence(passages)
            context = context_before(p, evidence.start)
            claim_terms = set(terms(claim.text))
            for k, part in enumerate(parts):
                strict = self.settings.answer_type_check
                if not answers(part, sentence, context, strict=strict).ok:
                    continue
                if strict and not all(t in claim_terms for t in part.focus):
                    continue
                if strict and part.wants_figure and not answers(
                        part, claim.text, context + " " + sentence).ok:
                    continue
                documented.add(k)
                claim.answers.append(part.label)
        return documented

    def _gap_claim(self, part: Part, passages: list[Passage]) -> tuple[Part, Evidence | None]:
        """The sentence that says this part is not known, when the sources have one."""
        needed = part.distinct or part.focus or part.terms
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
        for claim, evidence in ordered:
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
        if parts and len(documented) == len(parts):
            status = "answered"
        elif any(not c.gap for c in claims):
            status = "partial"
        else:
            status = "not_documented"
        return Answer(question=question, status=status, summary=_summary(claims, status),
                      claims=claims, undocumented=[part.label for part, _ in gaps],
                      citations=citations, rejected=rejected, generator=generator)


def _figure_in_context(fig, sentence: str, claim_terms: set[str]) -> bool:
    """The sentence states this figure, and the claim keeps what the figure is about.

    "63,892 reports were made" is not supported by "63,892 reports were escalated to law
    enforcement": the words around a figure in the source are part of its meaning, and a claim
    that drops most of them states a different quantity.
    """
    for g in figures(sentence):
        if not fig.same_as(g):
            continue
        before = sentence[:g.start].split()[-_WINDOW:]
        after = sentence[g.end:].split()[:_WINDOW]
        around = terms(" ".join(_clause(before, reverse=True) + _clause(after)))
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


def _asserts_nothing(text: str, passages: list[Passage]) -> bool:
    """A fragment ("The 2023 report is a report."), a question, or a passage title repeated."""
    claim_terms = terms(text)
    if len(claim_terms) < 2 or text.rstrip(".").endswith("?"):
        return True
    if any(f.kind != "year" for f in figures(text)):
        return False
    return any(coverage(claim_terms, t) >= 0.75 and coverage(list(t), set(claim_terms)) >= 0.75
               for t in (set(terms(p.title)) for p in passages))


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
