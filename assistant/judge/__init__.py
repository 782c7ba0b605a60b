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
import json
import os
import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.judge.inputs import (  # noqa: F401  (the judge's public interface)
    CONFIG,
    CONTEXT_WORDS,
    DELTA,
    MAX_LENGTH,
    WEIGHTS,
    base_path,
    candidate_text,
    config,
    encode,
    pad,
    passage_candidates,
    query_text,
    tokenizer,
)

GROUP = 8  # pairs run together at inference, grouped by length

_LOCK = threading.Lock()


def onnx_file() -> Path:
    """Where this delta's merged model lives: keyed by the base weights (path, size, mtime),
    the delta's bytes, how it merges (the config less the threshold, which the graph does not
    hold) and the torch version that exports it, all read without importing torch."""
    from assistant.models import onnx_cache_file, torch_version

    base = base_path()
    merge = {k: v for k, v in config().items() if k != "threshold"}
    parts = [str(base.resolve()), torch_version(),
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
        """All of a question's candidates in one call. Inside, pairs of similar length run
        together (GROUP at a time), so a long sentence does not pad every short one."""
        logits = np.zeros(len(pairs), dtype=np.float64)
        encodings = tokenizer().encode_batch(pairs)
        order = sorted(range(len(pairs)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), GROUP):
            rows = order[start:start + GROUP]
            logits[rows] = self._logits(pad([encodings[i] for i in rows]))
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def _logits(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        if self.backend == "onnx":
            return self._session.run(None, feed)[0]
        import torch

        with torch.inference_mode():
            return self._model(**{k: torch.from_numpy(v) for k, v in feed.items()}).numpy()


def load_judge(backend: str = "onnx") -> Judge:
    """One judge per process and backend; safe to call from several UI workers at once."""
    with _LOCK:
        return _load(backend)


@lru_cache(maxsize=2)
def _load(backend: str) -> Judge:
    return Judge(backend)
