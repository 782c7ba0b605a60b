"""retrieve -> answer -> verify, with models and the index kept loaded between questions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from assistant.answer import Generator, make_generator
from assistant.config import Settings
from assistant.question import analyse, answers
from assistant.retrieve import Retriever
from assistant.text import clean, figures, is_negated, jaccard, sentence_spans, terms
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
        """2-3 questions the corpus can answer, near the asked one: questions the documents pose
        themselves (FAQ headings) in a wider retrieval, else "what does <title> report?";
        each kept only if retrieval and the answer-type check show it is answerable."""
        asked = set(terms(question))
        wider = self.retriever.run(question, 3 * self.settings.top_k)
        candidates = [clean(p.text[s:e]) for p in wider for s, e in sentence_spans(p.text)
                      if p.text[s:e].rstrip().endswith("?")]
        candidates += [f'What else does "{p.title}" document?' for p in passages]
        known = [f for p in passages for f in figures(p.text)]
        found: list[str] = []
        tried = 0
        for candidate in dict.fromkeys(candidates):
            if not all(any(f.same_as(k) for k in known) for f in figures(candidate)):
                continue  # even a question must not show a figure the answer's passages lack
            new = set(terms(candidate))
            if len(candidate) > 160 or jaccard(new, asked) >= 0.6 or any(
                    jaccard(new, set(terms(f))) >= 0.6 for f in found):
                continue  # the same question again, in other words
            tried += 1
            if self._answerable(candidate):
                found.append(candidate)
            if len(found) >= limit or tried >= 2 * limit:  # each try costs a retrieval
                break
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
