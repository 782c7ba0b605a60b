"""retrieve -> answer -> verify, with models and the index kept loaded between questions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence

from assistant import analysis, figures
from assistant.answer import Generator, make_generator
from assistant.config import Settings
from assistant.conversation import condense, condense_with_llm
from assistant.decide import answering
from assistant.question import analyse
from assistant.retrieve import Retriever
from assistant.text import clean, same_question
from assistant.types import Answer, Passage
from assistant.verify import Verifier


class Assistant:
    def __init__(self, settings: Settings | None = None, retriever: Retriever | None = None):
        self.settings = settings or Settings.load()
        self._retriever = retriever
        self._generators: dict[str, Generator] = {}
        self._lock = threading.Lock()  # the retriever and local LLMs are not thread-safe

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.settings)
        return self._retriever

    def generator(self, name: str | None = None) -> Generator:
        name = name or self.settings.generator
        if name not in self._generators:
            self._generators[name] = make_generator(self.settings.replace(generator=name))
        return self._generators[name]

    def ask(self, question: str, *, k: int | None = None, generator: str | None = None) -> Answer:
        *_, answer = self.stream(question, k=k, generator=generator)
        return answer

    def chat(self, question: str, history: Sequence[Answer | str] = (), *,
             k: int | None = None, generator: str | None = None) -> Answer:
        """`question` as a turn of a conversation: `history` holds the earlier turns, oldest
        first (their Answers, or the user's earlier questions as text)."""
        *_, answer = self.stream(question, history=history, k=k, generator=generator)
        return answer

    def stream(self, question: str, *, history: Sequence[Answer | str] = (),
               k: int | None = None, generator: str | None = None) -> Iterator[str | Answer]:
        """Yields draft text as the generator writes it, then the verified Answer."""
        asked = " ".join((question or "").split())
        if not asked:
            raise ValueError("the question is empty")
        with self._lock:
            timings: dict[str, float] = {}
            t0 = time.perf_counter()
            earlier = self._standalone_history(history, generator)
            question = self._standalone(asked, earlier, generator, history)
            timings["condense"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            passages = self.retriever.run(question, k)
            timings["retrieve"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._analysed(passages)
            timings["analyse"] = time.perf_counter() - t0
            gen = self.generator(generator)
            t0 = time.perf_counter()
            draft = None
            for piece in gen.stream(question, passages):
                if isinstance(piece, str):
                    yield piece
                else:
                    draft = piece
            timings["generate"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            verifier = Verifier(self.settings)
            fallback = None
            if gen.name != "extractive":
                fallback = self.generator("extractive").run(question, draft.passages)
            answer = verifier.run(question, draft, fallback)
            answer.asked = asked
            timings["verify"] = time.perf_counter() - t0
            answer.retrieved = passages
            t0 = time.perf_counter()
            answer.follow_ups = (self.follow_ups(question, passages, earlier + [asked])
                                 if answer.claims else [])
            timings["follow_ups"] = time.perf_counter() - t0
            answer.timings = {k: round(v, 4) for k, v in timings.items()}
            answer.timings["total"] = round(sum(timings.values()), 4)
        yield answer

    def _standalone_history(self, history: Sequence[Answer | str], generator: str | None):
        """The earlier turns as standalone questions: an Answer knows its own; a bare question
        (from an API client) is made standalone in turn, oldest first."""
        earlier: list[str] = []
        for turn in history:
            earlier.append(turn.question if isinstance(turn, Answer)
                           else self._standalone(" ".join(str(turn).split()), earlier, generator))
        return earlier

    def _standalone(self, asked: str, earlier: list[str], generator: str | None,
                    history: Sequence[Answer | str] = ()) -> str:
        """The follow-up rewritten to stand alone, against the previous answer when there is
        one (what it stated, and the answers before it): by the LLM when one answers (its
        rewrite kept only if it keeps the follow-up's own words), else by the rules."""
        if not earlier:
            return asked
        last = history[-1] if history else None
        previous = last if isinstance(last, Answer) else earlier[-1]
        gen = self.generator(generator)
        llm = getattr(gen, "llm", None)
        rewritten = condense_with_llm(asked, earlier, llm, previous) if llm is not None else None
        return rewritten or condense(asked, previous, history[:-1])

    def _analysed(self, passages: list[Passage]) -> list[Passage]:
        """Chunks are analysed when a question first retrieves them, not at ingest (the parse
        cost as much as the embedding, for chunks most of which are never retrieved): those
        still without one are parsed in one batch and the analyses stored beside them."""
        missing = [p for p in passages if p.analysis is None]
        if missing:
            made = analysis.analyse([p.text for p in missing], [p.title for p in missing])
            for p, found in zip(missing, made):
                p.analysis = found
            self.retriever.store.save_analyses(missing)
        return passages

    def follow_ups(self, question: str, passages: list[Passage],
                   asked_before: Sequence[str] = (), limit: int = 3) -> list[str]:
        """2-3 questions the corpus can answer, near the asked one: questions the documents pose
        themselves (FAQ headings) in a wider retrieval, else "what does <title> report?";
        each kept only if its own passage answers it (the checks every answer passes), and
        none the same as this question or an earlier one of the conversation."""
        analysis.read_terms([question, *asked_before])
        seen = [set(analysis.terms(q)) for q in [question, *asked_before]]
        topic = {t for t in seen[0] if not analysis.YEAR.fullmatch(t)}
        wider = self.retriever.run(question, 3 * self.settings.top_k)
        asking = self._analysed([p for p in wider if "?" in p.text])  # only these can pose one
        candidates = [(clean(s.text), p) for p in asking for s in analysis.of(p).sentences
                      if _QUESTION.match(clean(s.text)) and topic & set(s.terms)]
        browse = {f'What else does "{p.title}" describe?': p for p in passages}
        candidates += list(browse.items())
        analysis.read_terms(c for c, _ in candidates)
        known = [f for p in passages for s in analysis.of(p).sentences for f in s.figures]
        found: list[str] = []
        for candidate, source in dict(candidates).items():
            if not all(any(f.same_as(k) for k in known) for f in figures.read(candidate)):
                continue  # even a question must not show a figure the answer's passages lack
            new = set(analysis.terms(candidate))
            if len(candidate) > 160 or any(same_question(new, s) for s in seen) or any(
                    same_question(new, set(analysis.terms(f))) for f in found):
                continue  # the same question again, in other words
            if self._answerable(candidate, [source], browse=candidate in browse):
                found.append(candidate)
            if len(found) >= limit:
                break
        return found

    def _answerable(self, question: str, passages: list[Passage], browse: bool = False) -> bool:
        """Every part answered; for "what else does <title> describe?" a sentence of the
        document that may answer is enough: no clause of it holds the title's words, so the
        decision can only leave it unconfirmed, shown with the document's own sentences."""
        parts = analyse(question)
        candidates = [(p, s) for p in passages for s in analysis.of(p).sentences]
        return bool(parts) and all(f.answers or (browse and f.unconfirmed)
                                   for f in answering(parts, candidates))


# A question a document asks itself (an FAQ heading), not a sentence that ends with one.
_QUESTION = re.compile(r"^(how|what|why|when|who|where|which|is|are|do|does|did|can|should)\b"
                       r"[^?]*\?$", re.I)

_DEFAULT: Assistant | None = None


def ask(question: str, **options) -> Answer:
    """`ask("...")` with the default settings; options: k, generator, or any Settings field."""
    global _DEFAULT
    k, generator = options.pop("k", None), options.pop("generator", None)
    if options:
        return Assistant(Settings.load(**options)).ask(question, k=k, generator=generator)
    if _DEFAULT is None:
        _DEFAULT = Assistant()
    return _DEFAULT.ask(question, k=k, generator=generator)
