"""The data model: plain dataclasses that cross module boundaries, no logic but (de)serialising."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["answered", "partial", "not_documented"]

# The one phrase for "the sources do not say". Defined once; the verifier and the renderer use it.
NOT_DOCUMENTED = "not documented"


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

    def to_dict(self) -> dict:
        return asdict(self)


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


@dataclass
class Claim:
    text: str
    citations: list[int]
    supported: bool
    score: float
    reason: str = ""  # why it was rejected, or which question part it answers
    answers: list[str] = field(default_factory=list)  # question parts this claim answers
    gap: bool = False  # True: the claim says a part is not documented (citing where that is said)


@dataclass
class Draft:
    """A generator's output before verification: text with [n] markers over numbered passages."""

    text: str
    passages: list[Passage]  # passages[0] is [1]
    generator: str


@dataclass
class Answer:
    question: str
    status: Status
    summary: str
    claims: list[Claim]  # supported claims only: what the answer asserts
    undocumented: list[str]  # parts of the question the sources do not answer, in words
    citations: list[Citation]
    follow_ups: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rejected: list[Claim] = field(default_factory=list)  # what the verifier removed, and why
    generator: str = "extractive"
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
