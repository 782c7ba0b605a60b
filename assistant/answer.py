"""Passages -> a draft with [n] markers. Three generators behind one interface.

A generator is only trusted to *propose*: whatever it writes goes through the verifier. The
extractive generator is the default because it is offline, deterministic and grounded by
construction; the LLM generators write more fluently and are kept honest by the verifier.
"""

from __future__ import annotations

import atexit
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from assistant import analysis, cells
from assistant.config import Settings
from assistant.decide import answering, reads_as_answer
from assistant.models import token_encoder
from assistant.question import analyse
from assistant.text import clean, coverage, is_instruction, jaccard
from assistant.types import Draft, Passage

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

    def __init__(self, settings: Settings):
        self.settings = settings

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        pieces = []
        for n, sentence in self.select(question, passages):
            # A "[7]" planted inside a passage must not become a citation of ours; a document's
            # own lead-in label ("Bottom line: ...") is not part of what it states.
            piece = f"{_LABEL.sub('', clean(_CITE.sub('', sentence))).rstrip('.')} [{n}]."
            pieces.append(piece)
            yield piece + " "
        yield Draft(" ".join(pieces), passages, self.name)

    def select(self, question: str, passages: list[Passage], context_claims: int = 2):
        candidates = []  # (passage, sentence), with the passage's rank in `ranks`
        ranks = []
        for i, p in enumerate(passages):
            for sentence in analysis.of(p).sentences:
                text = sentence.text
                if not text.rstrip("\"')]").endswith((".", "!")) or text.startswith("#"):
                    continue  # headings and FAQ questions assert nothing
                if is_instruction(text):
                    continue  # text aimed at a model, planted in a document
                candidates.append((p, sentence))
                ranks.append(i)
        chosen: list[tuple[int, str, set[str]]] = []

        def take(k: int) -> None:
            new = set(candidates[k][1].terms)
            if all(jaccard(new, seen) < 0.7 for _, _, seen in chosen):  # no near-repeats
                chosen.append((ranks[k] + 1, candidates[k][1].text, new))

        parts = analyse(question)
        open_parts = []
        strict = self.settings.answer_type_check
        for part, found in zip(parts, answering(parts, candidates, strict=strict)):
            cell = cells.ground(part, passages)  # a table cell that answers it
            if cell is not None:  # or the table shows it is not documented: nothing beside it
                if cell.answered:
                    chosen.append((cell.passage + 1, cells.claim_text(cell, part), set()))
                continue
            for k, _ in found.answers[:1 if part.wants_figure else 2] or found.unconfirmed[:1]:
                take(k)  # the answer, else the sentence that may answer it (shown as such)
            if not found.answers and not found.unconfirmed:
                open_parts.append(part)
        if not open_parts:
            return [(n, text) for n, text, _ in chosen]  # the answer, and nothing beside it
        # A part the passages do not answer: say what they do state closest to it, as the
        # reference answer gives the escalation count beside the missing arrest count, but
        # never one that would read as the missing answer (`reads_as_answer`).
        wanted = list(analysis.terms(question))
        related = sorted(
            ((coverage(wanted, set(s.terms) | set(analysis.of(p).title_terms)),
              bool(s.figures), -ranks[k], k) for k, (p, s) in enumerate(candidates)
             if not s.negated
             and not any(reads_as_answer(part, s) for part in open_parts)),
            reverse=True)
        for cov, _, _, k in related[:context_claims * 3]:
            if cov < 0.5 or len(chosen) >= len(parts) - len(open_parts) + context_claims:
                break
            take(k)
        return [(n, text) for n, text, _ in chosen]


_CITE = re.compile(r"\[\d+\]")
_LABEL = re.compile(r"^[A-Z][\w-]*(?:\s[\w-]+){0,2}:\s+(?=[A-Z0-9])")


class LLMGenerator(Generator):
    """Any llama-index LLM: numbered passages packed into its context, answer streamed back."""

    def __init__(self, settings: Settings, llm, name: str):
        self.settings = settings
        self.llm = llm
        self.name = name

    def pack(self, question: str, passages: list[Passage]) -> tuple[str, list[Passage]]:
        """Most relevant passages first, until the context is full; a passage that does not fit
        whole is cut at a sentence boundary, never mid-sentence."""
        encode = token_encoder()
        # Local models tokenise less compactly than cl100k_base: leave a margin of a quarter.
        budget = int((self.settings.llm_context_tokens - self.settings.llm_max_tokens) / 1.25)
        budget -= len(encode(prompt("answer_system") + prompt("answer_user") + question))
        blocks, used = [], []
        for p in passages:
            block = self._block(len(used) + 1, p, p.text)
            if len(encode(block)) > budget:
                kept = ""
                for s in analysis.of(p).sentences:
                    if len(encode(self._block(len(used) + 1, p, p.text[:s.end]))) > budget:
                        break
                    kept = p.text[:s.end]
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

    llm = LlamaCPP(model_path=path, temperature=0.0, max_new_tokens=max_tokens,
                   context_window=context, verbose=False,
                   generate_kwargs={"top_k": 1, "seed": 0},
                   model_kwargs={"n_threads": os.cpu_count() or 2, "seed": 0},
                   messages_to_prompt=chatml, completion_to_prompt=lambda c: c)
    # llama-cpp-python frees the model in its destructor, which at interpreter exit can run
    # after the module it calls into is torn down (a TypeError from free_model printed after
    # every run); freeing it at exit, while everything is still loaded, is clean.
    atexit.register(llm._model.close)
    return llm


def _llama_cpp_generator(settings: Settings) -> Generator:
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


def _openai_generator(settings: Settings) -> Generator:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model=settings.openai_model, api_base=settings.openai_base_url,
                     api_key=settings.openai_api_key, is_chat_model=True, temperature=0.0,
                     max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout_s,
                     max_retries=1, context_window=settings.llm_context_tokens)
    return LLMGenerator(settings, llm, "openai")


# name -> factory(settings). Register another backend here (tests register fakes).
GENERATORS = {"extractive": ExtractiveGenerator, "llama-cpp": _llama_cpp_generator,
              "openai": _openai_generator}


def make_generator(settings: Settings) -> Generator:
    factory = GENERATORS.get(settings.generator)
    if factory is None:
        raise ValueError(f"unknown generator {settings.generator!r}: choose "
                         f"{', '.join(GENERATORS)}")
    return factory(settings)
