"""What a question asks: its parts, the kind of answer each needs, and when a sentence answers one.

This is the answer-type check. "How many escalations led to arrests?" is not answered by a
sentence stating how many reports were escalated, however close the figure sits: the evidence
sentence must state a figure of the right kind *and* name what was asked about. "Who runs it?"
needs a person or an organisation in the sentence, "where" a place, "when" a date (spaCy's
named entities).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import analysis
from assistant.analysis import context_before
from assistant.text import STOPWORDS, is_duration
from assistant.types import Passage, Sentence

_KINDS = [  # first match wins
    ("share", r"^(what|which)\b.*\b(share|percentage|percent|proportion|fraction|rate)\b|"
              r"\bhow\s+large\s+a\s+share\b"),
    ("date", r"^\s*when\b|\b(what|which)\s+(year|date|month|day)\b|\bsince\s+when\b"),
    ("duration", r"\bhow\s+long\b"),
    ("money", r"\bhow\s+much\b.*\b(spend|spent|cost|costs|pay|paid|price|budget|revenue|fund|"
              r"funding|raise|raised|earn|earned|charge|charged|worth|money)\b|"
              r"^(what|which)\b.*\b(cost|price|budget|revenue|profit|spending|expenditure|"
              r"funding|income|salary|fee|turnover)s?\b"),
    ("count", r"\bhow\s+(many|much|large|big)\b|^(what|which)\b.*\b(number|total|count|amount|"
              r"median|average|mean|size|attendance|population|tally|time|distance|length|"
              r"weight|height|age|temperature|speed|score)\b"),
    ("agent", r"^\s*(who|whom|whose)\b"),
    ("place", r"^\s*where\b|\b(what|which)\s+(country|city|town|state|region|place|county)\b"),
]
FIGURE_KINDS = ("share", "date", "duration", "money", "count")
# The entity labels (spaCy, OntoNotes) an answer of each kind carries.
ENTITY_LABELS = {"agent": {"PERSON", "ORG", "NORP", "GPE"},
                 "place": {"GPE", "LOC", "FAC", "ORG"},
                 "date": {"DATE", "TIME"}}
# Names a question is about: the evidence must mention them (a fact about another country,
# person or organisation is not an answer).
NAME_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART",
               "LAW", "LANGUAGE"}
_COUNTED_AFTER = re.compile(r"\b(?:how\s+(?:many|much)|share\s+of|percentage\s+of|"
                            r"proportion\s+of|fraction\s+of|number\s+of|total\s+of)\s+(?:of\s+)?",
                            re.I)
_PART_JOIN = re.compile(r",?\s+(?:and|or)\s+(?=(?:how|what|when|which|who|where|why)\b)", re.I)
_PAIR = re.compile(r"\b([A-Za-z][A-Za-z-]{2,})\s+(or|and)\s+([A-Za-z][A-Za-z-]{2,})\b")


FACT_COVERAGE = 0.6  # share of a descriptive question's words its answer must contain


@dataclass
class Part:
    """One thing the question asks. `label` is how it is named when it is not documented."""

    label: str
    kind: str  # share | date | duration | money | count | agent | place | fact
    terms: list[str]  # content terms the evidence (sentence + its context) must contain
    focus: list[str] = field(default_factory=list)  # must be in the evidence sentence itself
    distinct: list[str] = field(default_factory=list)  # what sets it apart from its sibling parts
    years: list[str] = field(default_factory=list)
    names: list[list[str]] = field(default_factory=list)  # terms of each name the part mentions
    # Terms of its nouns and adjectives: what a figure is about ("women's" in "the women's race").
    nominal: list[str] = field(default_factory=list)

    @property
    def wants_figure(self) -> bool:
        return self.kind in FIGURE_KINDS


def analyse(question: str) -> list[Part]:
    """Split a compound question into parts ("arrests or prosecutions" -> two) and type each."""
    return list(_analysed(" ".join(question.split()).rstrip("?. ")))


@lru_cache(maxsize=1024)
def _analysed(q: str) -> tuple[Part, ...]:
    """Parsed once per distinct question: the generator, the verifier and the follow-ups all
    ask. The parts are not changed after this."""
    names = _names(q)
    clauses = [c for c in _PART_JOIN.split(q) if c.strip()]
    parts: list[Part] = []
    for clause in clauses:
        for text, distinguishing in _split_pair(clause):
            parts.append(_part(text, distinguishing, names))
    for later in parts[1:]:
        # "..., and how many did it close?": a later clause leans on the first one's subject.
        later.focus = later.focus or [t for t in parts[0].focus if t not in parts[0].distinct]
        later.names = later.names or parts[0].names
        later.years = later.years or parts[0].years
        later.terms += [t for t in later.focus + later.years + [n for name in later.names
                                                                  for n in name]
                        if t not in later.terms]
    return tuple(parts)


def _names(question: str) -> list[list[str]]:
    """The terms of each name the question mentions (its proper nouns, grouped as spaCy's
    entities group them): "Which Nintendo employee" -> [["nintendo"]]."""
    found = []
    for ent in _tagged(question).ents:
        if ent.label_ in NAME_LABELS:
            name = [t for tok in ent if tok.pos_ == "PROPN" for t in analysis.terms(tok.text)]
            if name and name not in found:
                found.append(name)
    return found


def _split_pair(clause: str) -> list[tuple[str, list[str]]]:
    """"led to arrests or prosecutions" asks two things; each must be answered on its own.
    Only a pair of nouns does: "time-sensitive and sent to police" describes one thing."""
    pos = {tok.idx: tok.pos_ for tok in _tagged(clause)}
    for m in _PAIR.finditer(clause):
        a, b = m.group(1), m.group(3)
        if a.lower() in STOPWORDS or b.lower() in STOPWORDS:
            continue
        if pos.get(m.start(1)) != "NOUN" or pos.get(m.start(3)) != "NOUN":
            continue
        ta, tb = analysis.terms(a), analysis.terms(b)
        if not ta or not tb or ta == tb:
            continue
        if m.start() < len(clause) * 0.3:
            continue  # a pair in the opening words names the subject, not two quantities
        before, after = clause[:m.start()], clause[m.end():]
        return [(f"{before}{a}{after}", list(ta)), (f"{before}{b}{after}", list(tb))]
    return [(clause, [])]


def _part(text: str, distinguishing: list[str], names: list[list[str]]) -> Part:
    low = text.lower()
    kind = next((name for name, pattern in _KINDS if re.search(pattern, low)), "fact")
    focus = [t for t in _counted(text) if t not in distinguishing] + list(distinguishing)
    frame = set(analysis.terms(" ".join(_FRAME_WORDS)))
    part_terms = [t for t in analysis.terms(text) if t not in frame]
    years = [t for t in part_terms if analysis.YEAR.fullmatch(t)]
    nominal = {t for tok in _tagged(text) if tok.pos_ in ("NOUN", "PROPN", "ADJ")
               for t in analysis.terms(tok.text)}
    return Part(label=text.strip(), kind=kind, terms=part_terms, focus=focus,
                distinct=list(distinguishing), years=years,
                names=[n for n in names if n and all(t in part_terms for t in n)],
                nominal=[t for t in part_terms if t in nominal])


@lru_cache(maxsize=256)
def _tagged(text: str):
    """The question's tokens with parts of speech (spaCy), parsed once per distinct text."""
    return analysis.nlp()(text)


# Words that frame the kind of answer rather than say what it is about: "what share of",
# "on what date", "how long". The answer-type check covers them.
_FRAME_WORDS = ("share", "percentage", "percent", "proportion", "fraction", "rate", "date",
                "month", "day", "long", "price", "cost", "large", "big", "size")
_PHRASE_POS = {"ADJ", "NOUN", "PROPN", "NUM", "DET", "PART", "PRON", "VERB", "PUNCT"}


def _counted(text: str) -> list[str]:
    """The terms of what a quantity question counts: "how many first-time contributors" ->
    first, contributor; "what share of Elm County's 2022 ballots" -> ballot. Names and years are
    checked on their own; what remains must be in the evidence sentence itself."""
    tokens = _counted_tokens(text)
    found: list[str] = []
    words = [tok for tok in tokens if tok.pos_ in ("ADJ", "NOUN", "VERB")]
    if not any(tok.pos_ == "NOUN" for tok in tokens):  # "how many Halvorsen Early Career
        words = [tok for tok in tokens if tok.pos_ == "PROPN"][-1:]  # Grants": the name's head
    for tok in words:
        found += [t for t in analysis.terms(tok.text) if t not in found]
    return found


def counted_phrase(text: str) -> str:
    """What a quantity question counts, as written: "CyberTipline reports" (or "")."""
    tokens = [tok for tok in _counted_tokens(text) if tok.pos_ in ("ADJ", "NOUN", "PROPN")
              or tok.text == "-"]
    if not tokens:
        return ""
    return tokens[0].doc[tokens[0].i:tokens[-1].i + 1].text


def _counted_tokens(text: str) -> list:
    """The noun phrase after "how many", "share of" ...: up to where its nouns end."""
    trigger = _COUNTED_AFTER.search(text)
    if not trigger:
        return []
    found = []
    seen_noun = False
    for tok in _tagged(text):
        if tok.idx < trigger.end():
            continue
        if tok.pos_ not in _PHRASE_POS or (tok.pos_ == "PUNCT" and tok.text != "-"):
            break
        if tok.pos_ == "NOUN":
            seen_noun = True
        elif seen_noun:
            break  # the noun phrase has ended: "ballots were cast", "water Brackwater Valley"
        found.append(tok)
    return found


@dataclass
class Match:
    """Why a sentence answers a part: kept so the verdict can be explained and tested."""

    ok: bool
    reason: str
    coverage: float = 0.0


def answers(part: Part, sentence: Sentence | str, context: set[str] | str = frozenset(), *,
            strict: bool = True) -> Match:
    """Does `sentence` (with `context`: the terms of its passage's title, section and earlier
    sentences) answer `part`, as far as exact checks can tell?

    strict=False is the naive check (a figure of the right kind, most words shared); it exists
    to show in the eval gate what the answer-type check prevents.
    """
    if isinstance(sentence, str):
        sentence = analysis.as_sentence(sentence)
    if isinstance(context, str):
        context = {t for s in analysis.sentences(context) if not s.negated for t in s.terms}
    if part.wants_figure and sentence.negated:
        return Match(False, "the sentence says what is not known")
    sent_terms = set(sentence.terms)
    all_terms = sent_terms | set(context)
    if not _has_answer_type(part.kind, sentence, strict):
        return Match(False, f"no {part.kind} in the sentence")
    cov = sum(t in all_terms for t in part.terms) / len(part.terms) if part.terms else 1.0
    if not strict:
        return Match(cov >= 0.5, "naive overlap", cov)
    missing_focus = [t for t in part.focus if not _mentions(t, sent_terms)]
    if missing_focus:
        return Match(False, f"the sentence does not mention {', '.join(missing_focus)}", cov)
    for name in part.names:
        if not all(t in all_terms for t in name):
            return Match(False, f"nothing names {' '.join(name)}", cov)
    for year in part.years:
        if year not in all_terms:
            return Match(False, f"not stated for {year}", cov)
    # A figure must be about exactly what was asked; a description may use other words.
    if cov < (1.0 if part.wants_figure else FACT_COVERAGE):
        missing = [t for t in part.terms if t not in all_terms]
        return Match(False, f"nothing states {', '.join(missing)}", cov)
    if not part.wants_figure and len(sent_terms & set(part.terms)) < min(2, len(part.terms)):
        return Match(False, "the sentence itself says little about the question", cov)
    return Match(True, "states the asked quantity for the asked subject", cov)


def _mentions(term: str, terms: set[str]) -> bool:
    """The term, or the word for who does it: "vote" is mentioned by "voters" (the stemmer
    leaves "voter" whole but cuts "reviewers" to "review")."""
    return term in terms or any(
        len(a) >= 3 and b in (a + "r", a + "er", a + "or")
        for t in terms for a, b in ((term, t), (t, term)))


def reads_as_answer(part: Part, sentence: Sentence) -> bool:
    """Would `sentence`, shown beside "not documented" for `part`, read as its answer? A count,
    share or sum does when it is of the asked kind and about something the part asks about
    (what sets it apart from its sibling parts, else any of its nouns but those naming the
    kind): the escalation count beside "arrests: not documented" does not, "53.7 percent" of
    the voters beside "share of the vote" does. For a date, a duration, a name, a place or a
    description any sentence of the asked kind does: whether it answers is what the checks
    could not tell."""
    if not _has_answer_type(part.kind, sentence, True):
        return False
    if part.kind not in _MEASURES:
        return True
    needed = set(part.distinct or part.focus + part.nominal) - _KIND_WORDS
    return not needed or any(_mentions(t, set(sentence.terms)) for t in needed)


_MEASURES = ("count", "share", "money")  # kinds whose nearby figures are often of another measure
_KIND_WORDS = {"money", "sum", "share", "percentag", "proport"}  # stems naming the answer type


@dataclass
class Found:
    """What answers one part: the candidates that do, best first as (index, word coverage)."""

    answers: list[tuple[int, float]] = field(default_factory=list)


def answering(parts: list[Part], candidates: list[tuple[Passage, Sentence]], *,
              strict: bool = True) -> list[Found]:
    """For each part, which candidates answer it."""
    found = [Found() for _ in parts]
    for j, part in enumerate(parts):
        for k, (passage, sentence) in enumerate(candidates):
            match = answers(part, sentence, context_before(passage, sentence), strict=strict)
            if match.ok:
                found[j].answers.append((k, match.coverage))
    for f in found:
        f.answers.sort(key=lambda ks: (-ks[1], ks[0]))
    return found


def _has_answer_type(kind: str, sentence: Sentence, strict: bool) -> bool:
    figs = sentence.figures
    labels = {label for label, _ in sentence.entities}
    if kind == "share":
        return any(f.kind == "percent" for f in figs)
    if kind == "date":
        return any(f.kind == "year" for f in figs) or bool(labels & ENTITY_LABELS["date"])
    if kind == "duration":
        return any(is_duration(f) for f in figs)
    if kind == "money":
        return any(f.kind == "money" or f.unit in _MONEY_WORDS for f in figs)
    if kind == "count":  # "one button": a lone "one" is not a figure, but spaCy counts it
        return any(f.kind == "number" for f in figs) or bool(labels & {"CARDINAL", "QUANTITY"})
    if kind in ENTITY_LABELS and strict:
        return bool(labels & ENTITY_LABELS[kind])
    return True


_MONEY_WORDS = {"dollars", "euros", "pounds", "usd", "eur", "gbp"}
