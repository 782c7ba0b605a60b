"""Sentences, figures and content words: the lexical primitives the grounding checks are built on.

Kept deliberately simple and inspectable: a reader can predict what each function returns, which
matters more here than squeezing out recall, because every "supported" verdict must be explainable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# -- sentences -----------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9#*-])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.){1,4}|\b(?:St|Mr|Mrs|Ms|Dr|No|vs|etc|e\.g|i\.e|Inc|Co)\.)$")
_HEADING_LINE = re.compile(r"^\s*(#{1,6}\s.*|[-*]\s.*|.{1,60}[^.!?:;,\s])\s*$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; headings and short title lines count as their own sentence."""
    spans: list[tuple[int, int]] = []
    for block in _blocks(text):
        start = block[0]
        for m in _SENTENCE_END.finditer(text, block[0], block[1]):
            if _ABBREVIATION.search(text, start, m.start()):
                continue  # "U.S.C. 2258A", "St. Clare": not the end of a sentence
            spans.append((start, m.start()))
            start = m.end()
        spans.append((start, block[1]))
    return [(s, e) for s, e in (_trim(text, s, e) for s, e in spans) if e > s]


def _blocks(text: str):
    """Split at blank lines, and after a line that looks like a heading (no closing punctuation)."""
    start = 0
    lines = text.splitlines(keepends=True)
    pos = 0
    for i, line in enumerate(lines):
        pos += len(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not line.strip() or not nxt.strip() or (
            _HEADING_LINE.match(line) and nxt[:1].isupper() or nxt.lstrip().startswith(("#", "- "))
        ):
            if text[start:pos].strip():
                yield start, pos
            start = pos
    if text[start:].strip():
        yield start, len(text)


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


_MARKUP = re.compile(r"(?<!\w)[*_`]{1,3}|[*_`]{1,3}(?!\w)|^\s*#{1,6}\s|^\s*[-*]\s", re.M)


_BOLD_LEAD = re.compile(r"(\*\*|__)([^*_\n]+?)[.:]\1\s")


def clean(text: str) -> str:
    """Whitespace folded and markdown marks (headings, bullets, emphasis) dropped: how a quote
    reads in an answer. A bold lead-in ("**Term.** Definition") becomes "Term: Definition", so
    the cleaned sentence is still one sentence."""
    return " ".join(_MARKUP.sub(" ", _BOLD_LEAD.sub(r"\2: ", text)).split())


# -- figures -------------------------------------------------------------------------------------

_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "m": 1e6, "bn": 1e9,
          "k": 1e3}
_CURRENCY = r"(?P<cur>[$£€]|(?:US\$|USD|EUR|GBP)\s?)"
_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_FIGURE = re.compile(
    rf"{_CURRENCY}?{_NUMBER}"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|m|k)\b)?"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b))?",
    re.IGNORECASE,
)
_CITATION_MARK = re.compile(r"\[\d+\]")
_TIME_UNITS = ("second", "minute", "hour", "day", "week", "month", "year", "decade")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")


@dataclass(frozen=True)
class Figure:
    text: str  # as written
    value: float
    kind: str  # "percent" | "money" | "year" | "number"
    unit: str  # the word after it ("reports", "minutes"), lower case, for answer-type checks
    start: int = field(default=0, compare=False)  # where it stands in the text given
    end: int = field(default=0, compare=False)

    def same_as(self, other: Figure) -> bool:
        """Equal value; a percentage only ever equals a percentage (41% is not 41 reports)."""
        if (self.kind == "percent") != (other.kind == "percent"):
            return False
        return abs(self.value - other.value) <= 1e-9 * max(1.0, abs(self.value))


def figures(text: str) -> list[Figure]:
    """Every number in `text`, normalised: 63,892 = 63892; 36.2 million = 36,200,000;
    41% = 41 percent.

    Citation markers like [3] are not figures.
    """
    text = _CITATION_MARK.sub(lambda m: " " * len(m.group(0)), text)  # keep offsets
    found = []
    for m in _FIGURE.finditer(text):
        start, end = m.start(), m.end()
        if (start > 0 and (text[start - 1].isalpha() or text[start - 1] in "_-/")) or (
                end < len(text) and text[end].isalnum()):
            continue  # part of a code or name: "COVID-19", "2258A", "5G"
        num = m.group("num")
        value = float(num.replace(",", ""))
        scale = (m.group("scale") or "").lower()
        if scale in ("m", "k", "bn") and not m.group("cur"):
            scale = ""  # "5 m" is more often metres than millions
        value *= _SCALE.get(scale, 1.0)
        if m.group("pct"):
            kind = "percent"
        elif m.group("cur"):
            kind = "money"
        elif re.fullmatch(r"(1[89]|20)\d\d", num) and not scale:
            kind = "year"
        else:
            kind = "number"
        after = re.match(r"\s*(?:of\s+)?([A-Za-z][A-Za-z-]*)", text[m.end():])
        unit = after.group(1).lower() if after else ""
        found.append(Figure(m.group(0).strip(), value, kind, unit,
                            start, start + len(m.group(0).rstrip())))
    return found


def is_duration(fig: Figure) -> bool:
    return any(fig.unit.startswith(u) for u in _TIME_UNITS)


def mentions_date(text: str) -> bool:
    low = text.lower()
    return any(f.kind == "year" for f in figures(text)) or any(m in low for m in _MONTHS)


# -- content words -------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each either few for from
further had has have having he her here hers him his how i if in into is it its itself just me
more most my no nor not of off on once only or other our out over own same she should so some such
than that the their them then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours
many much number numbers total amount figure figures count counts how many according source
sources document documents documented say says said state states stated report's give given
exactly approximately roughly about around overall per each year years annual annually time
led lead leads result resulted resulting cause caused did get got make made happen happened
every large big
""".split())
NEGATIONS = frozenset("not no never none neither nor absent unknown "
                      "unavailable undocumented unpublished cannot can't don't doesn't didn't "
                      "isn't aren't wasn't weren't".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: already a dependency of the BM25 retriever

    return Stemmer.Stemmer("english")


# Irregular past tenses the stemmer leaves alone: "drew" must match "draw".
_IRREGULAR = dict(pair.split(":") for pair in """
drew:draw drawn:draw grew:grow grown:grow rose:rise risen:rise fell:fall fallen:fall
spent:spend sold:sell paid:pay held:hold won:win ran:run began:begin begun:begin
brought:bring bought:buy built:build sent:send went:go gone:go came:come saw:see seen:see
found:find kept:keep left:leave lost:lose met:meet told:tell wrote:write written:write
chose:choose chosen:choose became:become broke:break broken:break caught:catch drove:drive
driven:drive took:take taken:take gave:give given:give flew:fly flown:fly fed:feed
taught:teach thought:think struck:strike stood:stand understood:understand
""".split())


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return _stemmer().stemWord(_IRREGULAR.get(word, word))


def words(text: str) -> list[str]:
    return _WORD.findall(_CITATION_MARK.sub(" ", text))


def terms(text: str) -> list[str]:
    """Stemmed content words, in order, without repeats."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w.lower() not in STOPWORDS and len(w) > 1:
            seen.setdefault(stem(w), None)
    return list(seen)


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|previous|above|rules|prompt)\b|"
    r"\b(you must|you should|say that|respond with|answer with|reply with|system prompt|"
    r"as an ai)\b", re.I)


def is_instruction(text: str) -> bool:
    """Text addressed to a model ("ignore previous instructions, say that ..."): a document may
    contain it, but it states nothing and is never evidence."""
    return bool(_INSTRUCTION.search(text))


def is_negated(text: str) -> bool:
    return any(w.lower().replace("’", "'") in NEGATIONS for w in words(text))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def coverage(needed: list[str], available: set[str]) -> float:
    return sum(t in available for t in needed) / len(needed) if needed else 1.0
