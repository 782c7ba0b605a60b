"""The data model: plain dataclasses that cross module boundaries, no logic but (de)serialising."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from typing import Literal, NamedTuple

Status = Literal["answered", "partial", "unconfirmed", "not_documented"]

@dataclass(frozen=True)
class Figure:
    """A number as a reader means it: 63,892 = 63892; 36.2 million; forty-one percent = 41%;
    -5.2% = (5.2)%; "5-7%" a range; "1.5x" a multiple; "COVID-19" a token matched as written."""

    text: str  # as written
    value: float  # signed; NaN for a token
    kind: str  # percent | points | multiple | temperature | money | year | number | token
    unit: str  # the word after it ("reports", "minutes"), lower case; a currency or C/F
    start: int = field(default=0, compare=False)  # where it stands in the text given
    end: int = field(default=0, compare=False)
    high: float | None = None  # the upper end of a range ("5-7%", "between 5 and 7")
    approx: bool = False  # a fraction in words: "a third" is 33%, 33.3% or 33.33%

    def same_as(self, other: Figure) -> bool:
        """The same figure however written: equal value and a comparable kind (41% is not 41
        reports, nor 41 percentage points); a range only equals the same range; a token only
        the same token."""
        if _family(self) != _family(other):
            return False
        if self.kind == "token":
            return self.text.lower() == other.text.lower()
        if (self.high is None) != (other.high is None):
            return False
        return _equal(self, self.value, other, other.value) and (
            self.high is None or _equal(self, self.high, other, other.high))

    def moved(self, offset: int) -> Figure:
        return replace(self, start=self.start + offset, end=self.end + offset)


def _family(fig: Figure) -> str:
    if fig.kind in ("number", "money", "year"):
        return "pence" if fig.unit == "pence" else "amount"
    if fig.kind == "temperature":
        return "temperature " + fig.unit
    return fig.kind


def _equal(a: Figure, x: float, b: Figure, y: float) -> bool:
    if a.approx != b.approx:  # round the fraction to the precision the other is written in
        exact, written = (x, b) if a.approx else (y, a)
        digits = re.search(r"\d(?:[.,](\d+))?", written.text)
        places = len(digits.group(1) or "") if digits else 0
        return round(exact, places) == round(y if a.approx else x, places)
    return abs(x - y) <= 1e-9 * max(1.0, abs(x))


class Token(NamedTuple):
    """One word of a parsed sentence."""

    start: int  # offset in the analysed text
    term: str  # its content term ("" for a stopword or a figure)
    dep: str  # spaCy's dependency label: nsubj, dobj, agent, pobj, relcl, ...
    head: int  # the index of its head in the sentence's tokens (itself for the root)
    pos: str  # VERB, NOUN, PROPN, AUX, PRON, ...
    lemma: str


@dataclass
class Sentence:
    """One sentence of an analysed text, with what the grounding checks read of it."""

    start: int  # offsets in the analysed text
    end: int
    text: str
    terms: list[str]  # content words as lemma stems ("sold" -> "sell"), in order, no repeats
    entities: list[tuple[str, str]]  # (spaCy label, text): "ORG", "GPE", "DATE", "PERCENT", ...
    figures: list[Figure]  # offsets in the analysed text
    negated: bool  # says what is not, or not known ("do not state", "no count of")
    # spaCy's dependency parse, one Token a word: what binds an answer to the asked relation.
    tokens: list[Token] = field(default_factory=list)


# A stored analysis made by another version is made again when its chunk is next retrieved.
ANALYSIS_VERSION = "en_core_web_sm-3.8.0/14"  # 2: figures in every form; 3: tables; 4: parse;
# 5: currency words ("4.8 billion kroner") make money; 6: a subject cut from a heading;
# 7: a do-support question parsed in its declarative order; 8: a modifier cut from a heading;
# 9: "not only" negates nothing; 10: "n't" negates; 11: "loans" is a term of "lend";
# 12: a bold lead-in is one sentence with what it defines; 13: "one drop of" is a figure;
# 14: a do-support question's verb is no word read as its subject ("the leisure pool open"),
# "kids" is a term of "children"


@dataclass
class Table:
    """A table as its reader found it: every cell's text as displayed, nothing parsed out yet."""

    caption: str  # the caption or title; else the sheet name or "Table N"
    columns: list[str]  # each column's header, several header rows joined with " / "
    rows: list[list[str]]  # cell texts as displayed; rows[i][0] is the row label
    number: int = 1  # 1-based among the file's tables
    sheet: str = ""  # XLSX
    page: int | None = None  # PDF
    footnotes: list[str] = field(default_factory=list)
    # Where the rows and columns sit in a sheet (XLSX), for "Sheet"!D7 addresses; empty otherwise.
    row_numbers: list[int] = field(default_factory=list)
    column_numbers: list[int] = field(default_factory=list)
    at: int = 0  # offset in its page's prose where the table stood (document order)


@dataclass(slots=True)  # a 100,000-row table has hundreds of thousands of them
class Cell:
    """One value of a table chunk: its place in the table, located in the chunk's text."""

    start: int  # offsets of the value in the chunk text
    end: int
    row: int  # 0-based index into the chunk's Table.rows
    column: int  # 0-based index into Table.columns (never 0: that is the row label)
    address: str  # '"Harbour 2026"!D7', or "table 2, row 5, column 3"


@dataclass
class Analysis:
    """A text parsed once (a chunk when first retrieved, a question or a draft once per ask).

    A table chunk has no sentences: its table (the chunk's rows, with the table's caption and
    headers) and its cells, from the reader's structure at ingest."""

    sentences: list[Sentence]
    # Content words of the passage title; None in a table chunk until first read (analysis.of):
    # ingest would load spaCy for them alone.
    title_terms: list[str] | None = field(default_factory=list)
    table: Table | None = None
    cells: list[Cell] = field(default_factory=list)

    def to_json(self) -> str:
        """Compact: chunks carry it in the store's metadata; texts are not repeated."""
        import json

        data = {"t": self.title_terms, "s": [
            [s.start, s.end, s.terms, s.entities, s.negated,
             [[f.text, f.value, f.kind, f.unit, f.start, f.end, f.high, f.approx]
              for f in s.figures], [list(t) for t in s.tokens]]
            for s in self.sentences]}
        if self.table is not None:
            data["table"] = asdict(self.table)
            data["cells"] = [[c.start, c.end, c.row, c.column, c.address] for c in self.cells]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str, text: str) -> Analysis:
        import json

        raw = json.loads(data)
        return cls(title_terms=raw["t"], sentences=[
            Sentence(start=start, end=end, text=text[start:end], terms=terms,
                     entities=[tuple(e) for e in ents], figures=[Figure(*f) for f in figs],
                     negated=bool(neg), tokens=[Token(*t) for t in toks])
            for start, end, terms, ents, neg, figs, toks in raw["s"]],
            table=Table(**raw["table"]) if raw.get("table") else None,
            cells=[Cell(*c) for c in raw.get("cells", [])])


@dataclass
class Passage:
    """A chunk of a source file, located precisely enough to be shown and highlighted in place."""

    id: str
    text: str
    source: str  # path relative to the ingested root
    title: str
    page: int | None  # 1-based, PDF only
    start: int  # character offsets in the extracted text of the source file
    end: int
    score: float = 0.0  # fused retrieval score (higher is better)
    similarity: float = 0.0  # cosine similarity to the question, the relevance floor's measure
    section: str = ""  # the heading the chunk sits under in its file, if any
    # Made the first time a question retrieves the chunk and stored beside it; None until then
    # (the checks analyse a passage without one on first use: assistant.analysis.of).
    analysis: Analysis | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("analysis")
        return data


@dataclass
class Citation:
    """What a reader needs to check one [n]: where it is, and the exact span that supports it."""

    n: int
    passage_id: str
    source: str
    title: str
    page: int | None
    quote: str  # the supporting span, verbatim from `text`
    quote_start: int  # offsets of `quote` inside `text`
    quote_end: int
    text: str  # the whole passage
    start: int  # the passage's offsets in the source file
    end: int
    cell: CellCitation | None = None  # set when the support is one table cell


@dataclass
class CellCitation:
    """A cited table cell, named as a person finds it, with the rows around it to show it in."""

    sheet: str  # or ""
    caption: str
    row: str  # the row label
    column: str  # the column header(s)
    address: str  # '"Harbour 2026"!D7', or "table 2, row 5, column 3"
    value: str  # as displayed
    unit: str  # from the column header ("$ thousands", "%"), or ""
    columns: list[str]  # the table's headers
    rows: list[list[str]]  # the rows shown around the cell
    at: list[int]  # [row, column] of the cell in `rows`


@dataclass
class Claim:
    text: str
    citations: list[int]
    supported: bool
    score: float
    reason: str = ""  # why it was rejected, or which question part it answers
    answers: list[str] = field(default_factory=list)  # question parts this claim answers
    gap: bool = False  # True: the claim says a part is not documented (citing where that is said)
    # Evidence of the asked kind the checks could not confirm: shown as "may answer", never as
    # the answer.
    unconfirmed: bool = False


@dataclass
class Draft:
    """A generator's output before verification: text with [n] markers over numbered passages."""

    text: str
    passages: list[Passage]  # passages[0] is [1]
    generator: str


@dataclass
class Answer:
    question: str  # the standalone question that was answered
    status: Status
    summary: str
    claims: list[Claim]  # supported claims only: what the answer asserts
    undocumented: list[str]  # parts of the question the sources do not answer, in words
    citations: list[Citation]
    follow_ups: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rejected: list[Claim] = field(default_factory=list)  # what the verifier removed, and why
    # Parts with evidence of the asked kind that the checks could not confirm.
    unconfirmed: list[str] = field(default_factory=list)
    generator: str = "extractive"
    asked: str = ""  # the user's own words, when a follow-up was rewritten to `question`
    # What retrieval returned, for callers that audit the answer (the eval); not serialised.
    retrieved: list[Passage] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        from assistant.render import render

        return render(self)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("retrieved")
        data["text"] = str(self)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The inverse of to_dict() for an answer that comes back from outside (a client's
        conversation history): every field is checked against its type, and ValueError names
        the first one that is missing or wrong. "text" is derived, so it is not read."""
        return _load(cls, data, "answer")


def _load(cls, data, where: str):
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        if f.name == "retrieved":  # never serialised
            continue
        if f.name in data:
            values[f.name] = _checked(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ValueError(f"{where}.{f.name} is missing")
    return cls(**values)


def _checked(kind, value, where: str):
    """value if it is of the annotated `kind` (JSON's view: an int is a float, a bool is not a
    number), dataclasses loaded; else ValueError."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if is_dataclass(kind):
        return _load(kind, value, where)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _checked(option, value, where)
            except ValueError:
                pass
    elif origin is Literal:
        if value in args:
            return value
    elif origin is list:
        if isinstance(value, list):
            return [_checked(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: _checked(args[1], v, f"{where}.{k}") for k, v in value.items()}
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is type(None):
        if value is None:
            return value
    elif isinstance(value, kind):
        return value
    raise ValueError(f"{where} must be {_named(kind)}, not {_json_type(value)}")


def _named(kind) -> str:
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(kind)))
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")


def _json_type(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")
