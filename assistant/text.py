"""Lexical primitives the grounding checks are built on: layout blocks, clean quotes, word sets.

Kept deliberately simple and inspectable: a reader can predict what each function returns, which
matters more here than squeezing out recall, because every "supported" verdict must be
explainable. The linguistics (sentences, lemmas, entities) is spaCy's, in analysis.py.
"""

from __future__ import annotations

import re

# -- layout --------------------------------------------------------------------------------------

_HEADING_LINE = re.compile(r"^\s*(#{1,6}\s.*|[-*]\s.*|.{1,60}[^.!?:;,\s])\s*$")


def blocks(text: str):
    """(start, end) of each layout block: split at blank lines, and after a line that looks like
    a heading or list item. No sentence runs across a block boundary."""
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


def section_headings(text: str) -> list[tuple[int, str]]:
    """(offset, heading) of each one-line block that reads as a heading: "## Totals", or a short
    line without closing punctuation ("Urgent escalations in 2023")."""
    found = []
    for s, e in blocks(text):
        line = text[s:e].strip()
        if "\n" not in line and _HEADING_LINE.match(line) and not line.startswith(("-", "*")):
            found.append((s, clean(line)))
    return found


_MARKUP = re.compile(r"(?<!\w)[*_`]{1,3}|[*_`]{1,3}(?!\w)|^\s*#{1,6}\s|^\s*[-*]\s", re.M)


_BOLD_LEAD = re.compile(r"(\*\*|__)([^*_\n]+?)[.:]\1\s")


def opens_bold_lead(line: str) -> bool:
    """"**18 U.S.C." of "**18 U.S.C. 2258A.** The federal law ...": a bold lead-in opened on
    this line and not closed yet, where neither a chunk nor a sentence may end."""
    return line[:2] in ("**", "__") and line.count(line[:2]) == 1 and "\n" not in line


def clean(text: str) -> str:
    """Whitespace folded and markdown marks (headings, bullets, emphasis) dropped: how a quote
    reads in an answer. A bold lead-in ("**Term.** Definition") becomes "Term: Definition", so
    the cleaned sentence is still one sentence."""
    return " ".join(_MARKUP.sub(" ", _BOLD_LEAD.sub(r"\2: ", text)).split())


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
every else
""".split())
NEGATIONS = frozenset("not no never none neither nor absent unknown "
                      "unavailable undocumented unpublished cannot can't don't doesn't didn't "
                      "isn't aren't wasn't weren't n't".split())  # spaCy splits "did|n't"


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|previous|above|rules|prompt)\b|"
    r"\b(you must|you should|say that|respond with|answer with|reply with|system prompt|"
    r"as an ai)\b", re.I)


def is_instruction(text: str) -> bool:
    """Text addressed to a model ("ignore previous instructions, say that ..."): a document may
    contain it, but it states nothing and is never evidence."""
    return bool(_INSTRUCTION.search(text))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def coverage(needed: list[str], available: set[str]) -> float:
    return sum(t in available for t in needed) / len(needed) if needed else 1.0


def same_question(a: set[str], b: set[str]) -> bool:
    """Mostly the same words, or one question's words all within the other's ("How many 2023
    escalations led to arrests?" inside the headline question)."""
    if not a or not b:
        return a == b
    return jaccard(a, b) >= 0.6 or len(a & b) / min(len(a), len(b)) >= 0.8
