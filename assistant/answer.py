"""Passages -> a draft with [n] markers. Three generators behind one interface.

A generator is only trusted to *propose*: whatever it writes goes through the verifier. The
extractive generator is the default because it is offline, deterministic and grounded by
construction; the LLM generators write more fluently and are kept honest by the verifier.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from assistant.config import Settings
from assistant.question import analyse, answers
from assistant.text import (
    clean,
    coverage,
    figures,
    is_instruction,
    is_negated,
    jaccard,
    sentence_spans,
    terms,
)
from assistant.types import Draft, Passage
from assistant.verify import context_before

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


class GeneratorError(RuntimeError):
    """The generator could not run; the message says what to do (start the server, set a path)."""


def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text()


class Generator:
    """One interface: `stream()` yields text as it is written, then the finished Draft."""

    name = "base"

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        raise NotImplementedError

    def run(self, question: str, passages: list[Passage]) -> Draft:
        *_, draft = self.stream(question, passages)
        return draft


class ExtractiveGenerator(Generator):
    """Answers with the passages' own sentences: for each part of the question the sentence that
    states it, then the closest documented context. Writes nothing a passage does not say."""

    name = "extractive"

    def __init__(self, settings: Settings, embedder=None):
        self.settings = settings
        self.embedder = embedder  # ranks descriptive answers by meaning; optional

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        pieces = []
        for n, sentence in self.select(question, passages):
            # A "[7]" planted inside a passage must not become a citation of ours.
            piece = f"{clean(_CITE.sub('', sentence)).rstrip('.')} [{n}]."
            pieces.append(piece)
            yield piece + " "
        yield Draft(" ".join(pieces), passages, self.name)

    def select(self, question: str, passages: list[Passage], context_claims: int = 2):
        candidates = []  # (passage rank, sentence, its context)
        for i, p in enumerate(passages):
            for s, e in sentence_spans(p.text):
                sentence = p.text[s:e]
                if not sentence.rstrip("\"')]").endswith((".", "!")) or sentence.startswith("#"):
                    continue  # headings and FAQ questions assert nothing
                if is_instruction(sentence):
                    continue  # text aimed at a model, planted in a document
                candidates.append((i, s, sentence, context_before(p, s)))
        chosen: list[tuple[int, str]] = []

        def take(i: int, sentence: str) -> None:
            new = set(terms(sentence))
            if all(jaccard(new, set(terms(t))) < 0.7 for _, t in chosen):  # no near-repeats
                chosen.append((i + 1, sentence))

        parts = analyse(question)
        for part in parts:
            hits = [(i, sent) for i, _, sent, ctx in candidates
                    if answers(part, sent, ctx, strict=self.settings.answer_type_check).ok]
            for i, sentence in self._rank(part, hits)[:1 if part.wants_figure else 2]:
                take(i, sentence)
        wanted = terms(question)
        related = sorted(
            ((coverage(wanted, set(terms(sent)) | set(terms(passages[i].title))),
              bool(figures(sent)), -i, i, sent) for i, _, sent, _ in candidates
             if not is_negated(sent)),
            reverse=True)
        for cov, _, _, i, sentence in related[:context_claims * 3]:
            if cov < 0.5 or len(chosen) >= len(parts) + context_claims:
                break
            take(i, sentence)
        return chosen


    def _rank(self, part, hits: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """A figure: the sentence with most of the part's own words, then the most focused one.
        A description: closest in meaning to the question, when an embedder is at hand."""
        def lexical(hit):
            i, sent = hit
            return (coverage(part.terms, set(terms(sent))), -len(terms(sent)), -i)

        if part.wants_figure or self.embedder is None or len(hits) < 2:
            return sorted(hits, key=lexical, reverse=True)
        import numpy as np

        vectors = np.asarray(self.embedder.get_text_embedding_batch(
            [part.label] + [clean(sent) for _, sent in hits]))
        sims = vectors[1:] @ vectors[0]
        why = part.label.lower().startswith("why")
        order = sorted(range(len(hits)), key=lambda k: (
            sims[k] + lexical(hits[k])[0] + (0.5 if why and _CAUSAL.search(hits[k][1]) else 0)),
            reverse=True)
        return [hits[k] for k in order]


_CITE = re.compile(r"\[\d+\]")
_CAUSAL = re.compile(r"\b(because|due to|since|so that|as a result|in order to|deemed|reason)\b",
                     re.I)


class LLMGenerator(Generator):
    """Any llama-index LLM: numbered passages packed into its context, answer streamed back."""

    def __init__(self, settings: Settings, llm, name: str):
        self.settings = settings
        self.llm = llm
        self.name = name

    def pack(self, question: str, passages: list[Passage]) -> tuple[str, list[Passage]]:
        """Most relevant passages first, until the context is full; a passage that does not fit
        whole is cut at a sentence boundary, never mid-sentence."""
        from assistant.ingest import token_encoder

        encode = token_encoder()
        # Local models tokenise less compactly than cl100k_base: leave a margin of a quarter.
        budget = int((self.settings.llm_context_tokens - self.settings.llm_max_tokens) / 1.25)
        budget -= len(encode(prompt("answer_system") + prompt("answer_user") + question))
        blocks, used = [], []
        for p in passages:
            block = self._block(len(used) + 1, p, p.text)
            if len(encode(block)) > budget:
                kept = ""
                for _, e in sentence_spans(p.text):
                    if len(encode(self._block(len(used) + 1, p, p.text[:e]))) > budget:
                        break
                    kept = p.text[:e]
                if not kept:
                    break
                block = self._block(len(used) + 1, p, kept)
            blocks.append(block)
            used.append(p)
            budget -= len(encode(block))
        return "\n".join(blocks), used

    @staticmethod
    def _block(n: int, p: Passage, text: str) -> str:
        return prompt("passage").format(n=n, title=p.title, text=clean(text))

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        from llama_index.core.llms import ChatMessage

        packed, used = self.pack(question, passages)
        messages = [ChatMessage(role="system", content=prompt("answer_system")),
                    ChatMessage(role="user", content=prompt("answer_user").format(
                        passages=packed, question=question))]
        text = ""
        try:
            for chunk in self.llm.stream_chat(messages):
                if chunk.delta:
                    text += chunk.delta
                    yield chunk.delta
        except Exception as exc:  # each backend raises its own types; the user needs one message
            raise GeneratorError(self._explain(exc)) from exc
        yield Draft(text, used, self.name)

    def _explain(self, exc: Exception) -> str:
        name = type(exc).__name__
        if self.name == "openai":
            return (f"the LLM endpoint at {self.settings.openai_base_url} did not answer ({name}: "
                    f"{str(exc)[:200]}); start it or set GROUNDWORK_OPENAI_BASE_URL")
        return f"the local model failed ({name}: {str(exc)[:200]})"


def chatml(messages) -> str:
    """SmolLM2's chat template (ChatML)."""
    text = "".join(f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages)
    return text + "<|im_start|>assistant\n"


@lru_cache(maxsize=2)
def _llama_cpp(path: str, context: int, max_tokens: int):
    from llama_index.llms.llama_cpp import LlamaCPP

    return LlamaCPP(model_path=path, temperature=0.0, max_new_tokens=max_tokens,
                    context_window=context, verbose=False,
                    generate_kwargs={"top_k": 1, "seed": 0},
                    model_kwargs={"n_threads": os.cpu_count() or 2, "seed": 0},
                    messages_to_prompt=chatml, completion_to_prompt=lambda c: c)


def _extractive(settings: Settings, embedder) -> Generator:
    return ExtractiveGenerator(settings, embedder)


def _llama_cpp_generator(settings: Settings, embedder) -> Generator:
    from assistant.models import default_gguf_path

    path = settings.llm_model_path or default_gguf_path()
    if not Path(path).is_file():
        raise GeneratorError(f"no GGUF model at {path}: set llm_model_path")
    try:
        llm = _llama_cpp(path, settings.llm_context_tokens, settings.llm_max_tokens)
    except ImportError:
        raise GeneratorError("llama-cpp-python is not installed: pip install "
                             "'groundwork[llm]'") from None
    return LLMGenerator(settings, llm, "llama-cpp")


def _openai_generator(settings: Settings, embedder) -> Generator:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model=settings.openai_model, api_base=settings.openai_base_url,
                     api_key=settings.openai_api_key, is_chat_model=True, temperature=0.0,
                     max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout_s,
                     max_retries=1, context_window=settings.llm_context_tokens)
    return LLMGenerator(settings, llm, "openai")


# name -> factory(settings, embedder). Register another backend here (tests register fakes).
GENERATORS = {"extractive": _extractive, "llama-cpp": _llama_cpp_generator,
              "openai": _openai_generator}


def make_generator(settings: Settings, embedder=None) -> Generator:
    factory = GENERATORS.get(settings.generator)
    if factory is None:
        raise ValueError(f"unknown generator {settings.generator!r}: choose "
                         f"{', '.join(GENERATORS)}")
    return factory(settings, embedder)
