"""retrieve -> answer -> verify, with models and the index kept loaded between questions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from assistant.answer import Generator, make_generator
from assistant.config import Settings
from assistant.question import analyse, answers
from assistant.retrieve import Retriever
from assistant.text import clean, is_negated, sentence_spans
from assistant.types import Answer, Passage
from assistant.verify import Verifier, context_before


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
            self._generators[name] = make_generator(self.settings.replace(generator=name),
                                                    self.retriever.embedder)
        return self._generators[name]

    def ask(self, question: str, *, k: int | None = None, generator: str | None = None) -> Answer:
        *_, answer = self.stream(question, k=k, generator=generator)
        return answer

    def stream(self, question: str, *, k: int | None = None,
               generator: str | None = None) -> Iterator[str | Answer]:
        """Yields draft text as the generator writes it, then the verified Answer."""
        question = " ".join((question or "").split())
        if not question:
            raise ValueError("the question is empty")
        with self._lock:
            timings: dict[str, float] = {}
            t0 = time.perf_counter()
            passages = self.retriever.run(question, k)
            timings["retrieve"] = time.perf_counter() - t0
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
            verifier = Verifier(self.settings, embedder=self.retriever.embedder)
            fallback = None
            if gen.name != "extractive":
                fallback = self.generator("extractive").run(question, draft.passages)
            answer = verifier.run(question, draft, fallback)
            timings["verify"] = time.perf_counter() - t0
            answer.retrieved = passages
            t0 = time.perf_counter()
            answer.follow_ups = self.follow_ups(question, passages) if answer.claims else []
            timings["follow_ups"] = time.perf_counter() - t0
            answer.timings = {k: round(v, 4) for k, v in timings.items()}
            answer.timings["total"] = round(sum(timings.values()), 4)
        yield answer

    def follow_ups(self, question: str, passages: list[Passage], limit: int = 3) -> list[str]:
        """Questions the corpus itself poses (FAQ headings) that retrieval shows it can answer."""
        asked = clean(question).lower().rstrip("?")
        seen, found = {asked}, []
        for p in passages:
            for s, e in sentence_spans(p.text):
                candidate = clean(p.text[s:e])
                key = candidate.lower().rstrip("?")
                if not candidate.endswith("?") or key in seen or len(candidate) > 160:
                    continue
                seen.add(key)
                if self._answerable(candidate):
                    found.append(candidate)
                if len(found) >= limit:
                    return found
        return found

    def _answerable(self, question: str) -> bool:
        passages = self.retriever.run(question)
        parts = analyse(question)
        for part in parts:
            if not any(answers(part, p.text[s:e], context_before(p, s)).ok
                       for p in passages for s, e in sentence_spans(p.text)
                       if not is_negated(p.text[s:e])):
                return False
        return bool(parts)


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
