"""What a question asks: its parts, the kind of answer each needs, and when a sentence answers one.

This is the answer-type check. "How many escalations led to arrests?" is not answered by a
sentence stating how many reports were escalated, however close the figure sits: the evidence
sentence must state a figure of the right kind *and* name what was asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.text import (
    STOPWORDS,
    figures,
    is_duration,
    is_negated,
    mentions_date,
    sentences,
    stem,
    terms,
    words,
)

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
]
_UNIT_AFTER = re.compile(r"\b(?:how\s+(?:many|much)|share\s+of|percentage\s+of|proportion\s+of|"
                         r"fraction\s+of|number\s+of|total\s+of)\s+(?:of\s+)?(?:the\s+|those\s+|"
                         r"these\s+|its\s+|their\s+)?([A-Za-z][A-Za-z'-]*)", re.I)
_PART_JOIN = re.compile(r",?\s+(?:and|or)\s+(?=(?:how|what|when|which|who|where|why)\b)", re.I)
_PAIR = re.compile(r"\b([A-Za-z][A-Za-z-]{2,})\s+(or|and)\s+([A-Za-z][A-Za-z-]{2,})\b")


FACT_COVERAGE = 0.6  # share of a descriptive question's words its answer must contain


@dataclass
class Part:
    """One thing the question asks. `label` is how it is named when it is not documented."""

    label: str
    kind: str  # share | date | duration | money | count | fact
    terms: list[str]  # stemmed content words the evidence (sentence + its context) must contain
    focus: list[str] = field(default_factory=list)  # must be in the evidence sentence itself
    distinct: list[str] = field(default_factory=list)  # what sets it apart from its sibling parts
    years: list[str] = field(default_factory=list)

    @property
    def wants_figure(self) -> bool:
        return self.kind != "fact"


def analyse(question: str) -> list[Part]:
    """Split a compound question into parts ("arrests or prosecutions" -> two) and type each."""
    q = " ".join(question.split()).rstrip("?. ")
    clauses = [c for c in _PART_JOIN.split(q) if c.strip()]
    parts: list[Part] = []
    for clause in clauses:
        for text, distinguishing in _split_pair(clause):
            parts.append(_part(text, distinguishing))
    return parts


def _split_pair(clause: str) -> list[tuple[str, list[str]]]:
    """"led to arrests or prosecutions" asks two things; each must be answered on its own."""
    for m in _PAIR.finditer(clause):
        a, b = m.group(1), m.group(3)
        if a.lower() in STOPWORDS or b.lower() in STOPWORDS or stem(a) == stem(b):
            continue
        if m.start() < len(clause) * 0.3:
            continue  # a pair in the opening words names the subject, not two quantities
        before, after = clause[:m.start()], clause[m.end():]
        return [(f"{before}{a}{after}", [stem(a)]), (f"{before}{b}{after}", [stem(b)])]
    return [(clause, [])]


def _part(text: str, distinguishing: list[str]) -> Part:
    low = text.lower()
    kind = next((name for name, pattern in _KINDS if re.search(pattern, low)), "fact")
    unit = _UNIT_AFTER.search(text)
    focus = list(distinguishing)
    if unit and unit.group(1).lower() not in STOPWORDS:
        focus.insert(0, stem(unit.group(1)))
    years = [f"{int(f.value)}" for f in figures(text) if f.kind == "year"]
    return Part(label=text.strip(), kind=kind, terms=terms(text), focus=focus,
                distinct=list(distinguishing), years=years)


@dataclass
class Match:
    """Why a sentence answers a part: kept so the verdict can be explained and tested."""

    ok: bool
    reason: str
    coverage: float = 0.0


def answers(part: Part, sentence: str, context: str = "", *, strict: bool = True) -> Match:
    """Does `sentence` (with `context`: its passage's title and earlier sentences) answer `part`?

    strict=False is the naive check (a figure of the right kind, most words shared); it exists
    to show in the eval gate what the answer-type check prevents.
    """
    if part.wants_figure and is_negated(sentence):
        return Match(False, "the sentence says what is not known")
    sent_terms = set(terms(sentence))
    # A sentence saying what is *not* known cannot lend its words to another's figure.
    affirmative = " ".join(c for c in sentences(context) if not is_negated(c))
    all_terms = sent_terms | set(terms(affirmative))
    if part.wants_figure and not _has_figure_of_kind(part.kind, sentence):
        return Match(False, f"no {part.kind} figure in the sentence")
    cov = sum(t in all_terms for t in part.terms) / len(part.terms) if part.terms else 1.0
    if not strict:
        return Match(cov >= 0.5, "naive overlap", cov)
    missing_focus = [t for t in part.focus if t not in sent_terms]
    if missing_focus:
        return Match(False, f"the sentence does not mention {', '.join(missing_focus)}", cov)
    # A figure must be about exactly what was asked; a description may use other words.
    if cov < (1.0 if part.wants_figure else FACT_COVERAGE):
        missing = [t for t in part.terms if t not in all_terms]
        return Match(False, f"nothing states {', '.join(missing)}", cov)
    if not part.wants_figure and len(sent_terms & set(part.terms)) < min(2, len(part.terms)):
        return Match(False, "the sentence itself says little about the question", cov)
    for year in part.years:
        if year not in words_and_numbers(sentence + " " + context):
            return Match(False, f"not stated for {year}", cov)
    return Match(True, "states the asked quantity for the asked subject", cov)


def words_and_numbers(text: str) -> set[str]:
    return {w.lower() for w in words(text)} | {str(int(f.value)) for f in figures(text)
                                                 if f.value == int(f.value)}


def _has_figure_of_kind(kind: str, sentence: str) -> bool:
    figs = figures(sentence)
    if kind == "share":
        return any(f.kind == "percent" for f in figs)
    if kind == "date":
        return mentions_date(sentence)
    if kind == "duration":
        return any(is_duration(f) for f in figs)
    if kind == "money":
        return any(f.kind == "money" or f.unit in _MONEY_WORDS for f in figs)
    return any(f.kind in ("number", "money") for f in figs)


_MONEY_WORDS = {"dollars", "euros", "pounds", "usd", "eur", "gbp"}
