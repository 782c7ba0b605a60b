"""Ingest speed against the encoder's: `ingest()` of the generated corpus, then the raw encoder on
the very same chunk texts in the same process (as ingest calls it, and each fp32 backend alone:
the ratio is taken to the best), where the ingest time goes (exclusive time per component), and
re-ingest of the unchanged corpus, in process and as a new `groundwork ingest`.

The child (`measure`) also saves the chunks and their vectors for the retrieval section.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from assistant.bench.common import GOALS, BenchError, child_settings, peak_rss_mb


class Timers:
    """Wraps functions so each one's *exclusive* time is summed: nested wrapped calls are charged
    to themselves, not to their caller, so the parts of one thread add up to its whole. Opaque
    parts keep the time of everything inside them (the BM25 rebuild reads Chroma, but that is
    its cost). Each thread keeps its own nesting (ingest embeds and writes in a thread of its
    own while the next files are read)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._local = threading.local()  # .stack: [label, time in wrapped callees]; .opaque
        self._undo: list = []

    def wrap(self, owner, attr: str, label: str, opaque: bool = False) -> None:
        original = getattr(owner, attr)
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            local = timers._local
            if not hasattr(local, "stack"):
                local.stack, local.opaque = [], 0
            if local.opaque:
                return original(*args, **kwargs)
            local.stack.append([label, 0.0])
            local.opaque += opaque
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                local.opaque -= opaque
                _, inner = local.stack.pop()
                timers.seconds[label] = timers.seconds.get(label, 0.0) + elapsed - inner
                timers.calls[label] = timers.calls.get(label, 0) + 1
                if local.stack:
                    local.stack[-1][1] += elapsed

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()


ENCODER_LABEL = "encoder (torch or onnxruntime encode)"


def instrument_ingest() -> Timers:
    import chromadb.api.models.Collection as chroma_collection

    import assistant.ingest as ingest_module
    from assistant.models import Encoder
    from assistant.store import Store

    t = Timers()
    t.wrap(Encoder, "encode", ENCODER_LABEL)  # onnxruntime, or torch for ingest-sized batches
    t.wrap(Store, "_embeddings_for", "embedding wrapper (batching, content hashes)")
    t.wrap(chroma_collection.Collection, "get", "chroma get (existing ids, known vectors)")
    t.wrap(chroma_collection.Collection, "delete", "chroma delete")
    t.wrap(chroma_collection.Collection, "add", "chroma add (write, HNSW insert)")
    t.wrap(ingest_module, "extract", "read + extract")
    t.wrap(ingest_module, "chunk", "chunking (SentenceSplitter + tiktoken)")
    t.wrap(ingest_module, "sha256", "hashing (files, chunk ids)")
    t.wrap(ingest_module.Manifest, "save", "manifest save")
    t.wrap(Store, "rebuild_lexical_index", "BM25 rebuild", opaque=True)
    t.wrap(Store, "lexical_index_current", "BM25 freshness check", opaque=True)
    return t


def measure(params: dict) -> dict:
    """ingest() of the generated corpus, then raw encode of the same chunk texts, then re-ingest."""
    import numpy as np

    from assistant.ingest import ingest, prepare
    from assistant.models import load_embedder
    from assistant.store import Store

    settings = child_settings(params, index_dir=Path(params["index"]))
    started = time.perf_counter()
    model = load_embedder(settings.embed_model, settings.embed_batch_size,
                          settings.embed_backend)
    model_load = time.perf_counter() - started
    model.encode(["warm up the encoder"] * 8, batch_size=8)
    sample = json.loads(Path(params["texts"]).read_text())
    batches_by = model.batch_backend(sample) if model.backend == "auto" else model.backend
    # The chunker's imports (llama-index's splitter, nltk, tiktoken's tables), like the model,
    # load once per process before the timed ingest: a fixed cost (the one-file ingest's
    # concern), not throughput. The ratio with it inside is reported beside.
    started = time.perf_counter()
    prepare()
    chunker_load = time.perf_counter() - started

    timers = instrument_ingest()
    started = time.perf_counter()
    report = ingest([params["corpus"]], settings, progress=False)
    first = time.perf_counter() - started
    timers.restore()
    if report.files_failed or not report.chunks_embedded:
        raise BenchError(f"the bench corpus did not ingest: {report.summary()}")
    breakdown = {k: round(v, 3) for k, v in sorted(timers.seconds.items(), key=lambda kv: -kv[1])}
    # The writer thread's parts ran beside the reading ones: the rest can be below zero, by
    # the time the two overlapped.
    breakdown["other (loop, nodes, ids, tqdm, Python), minus the overlap"] = round(
        first - sum(timers.seconds.values()), 3)
    encoder_in_ingest = timers.seconds.get(ENCODER_LABEL, 0.0)

    store = Store(settings)
    rows = [(pid, doc, meta) for batch in store._all(["documents", "metadatas"])
            for pid, doc, meta in zip(batch["ids"], batch["documents"], batch["metadatas"],
                                      strict=True)]
    texts = [doc for _, doc, _ in rows]
    by_file: dict[str, list[str]] = {}
    for _, doc, meta in sorted(rows, key=lambda r: (r[2]["source"], r[2]["start"])):
        by_file.setdefault(meta["source"], []).append(doc)
    # The encoder alone, called the way ingest calls it: once per file with that file's chunks.
    started = time.perf_counter()
    for file_texts in by_file.values():
        model.encode(file_texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    per_file = time.perf_counter() - started
    # The physical limit: every chunk text in one call (full, length-sorted batches).
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=settings.embed_batch_size,
                           normalize_embeddings=True)
    raw = time.perf_counter() - started
    # Each fp32 backend alone on the same texts: the limit ingest is held to is the best one.
    backends = {}
    for name, run in (("onnx", model.onnx_encode), ("torch", model.torch_encode)):
        if name == "onnx" and model.backend == "torch":
            continue
        run(texts[:8], settings.embed_batch_size, True)
        started = time.perf_counter()
        run(texts, settings.embed_batch_size, True)
        backends[name] = round(len(texts) / (time.perf_counter() - started), 2)
    # Saved for the retrieval section: its small sizes use these real chunks and vectors.
    np.save(params["vectors"], np.asarray(vectors, dtype=np.float32))
    Path(params["passages"]).write_text(json.dumps(
        [{"id": pid, "text": doc, "source": m["source"], "title": m["title"],
          "page": m.get("page") or None, "start": m["start"], "end": m["end"]}
         for pid, doc, m in rows]))
    peak_first = peak_rss_mb()

    started = time.perf_counter()
    again = ingest([params["corpus"]], settings, progress=False)
    second = time.perf_counter() - started
    if again.chunks_embedded or again.files_ingested:
        raise BenchError(f"re-ingest of the unchanged corpus did work: {again.summary()}")

    chunks = report.chunks_added
    return {
        "files": report.files_ingested, "chunks": chunks, "chunks_total": report.chunks_total,
        "batch_size": settings.embed_batch_size, "model_load_seconds": round(model_load, 3),
        "seconds": round(first, 3), "chunks_per_s": round(chunks / first, 2),
        "encode_seconds": round(raw, 3), "encode_chunks_per_s": round(len(texts) / raw, 2),
        "chunks_embedded": report.chunks_embedded,
        "ratio": round(raw / first * chunks / len(texts), 3),
        "batch_backend": batches_by, "raw_chunks_per_s": backends,
        "ratio_to_best_raw": round(chunks / first / max(backends.values()), 3),
        "chunker_load_seconds": round(chunker_load, 3),
        "ratio_to_best_raw_with_chunker_load": round(
            chunks / (first + chunker_load) / max(backends.values()), 3),
        "encoder_in_ingest_seconds": round(encoder_in_ingest, 3),
        "encoder_share_of_ingest": round(encoder_in_ingest / first, 4),
        "encode_per_file_seconds": round(per_file, 3),
        "encode_per_file_chunks_per_s": round(len(texts) / per_file, 2),
        "chunks_per_file": round(len(texts) / len(by_file), 1),
        "breakdown_seconds": breakdown,
        "reingest_seconds": round(second, 4),
        "reingest_fraction": round(second / first, 5),
        "peak_rss_mb": peak_first,
    }


def section(bench) -> dict:
    bench.log(f"ingest of {bench.plan.ingest_chunks} chunks, then raw encode of the same texts")
    data = bench.child("ingest", {"corpus": str(bench.corpus), "index": str(bench.index),
                                  "texts": str(bench.work / "chunks.json"),
                                  "vectors": str(bench.work / "vectors.npy"),
                                  "passages": str(bench.work / "passages.json")},
                       timeout=600 + 2 * bench.plan.ingest_chunks)
    # `groundwork ingest` again from a new process: what a user waits for when nothing changed.
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(bench.corpus),
                           "--index", str(bench.index), "--json"], capture_output=True,
                          text=True, env=bench.env, timeout=600, stdin=subprocess.DEVNULL)
    cli = time.perf_counter() - started
    again = json.loads(proc.stdout) if proc.returncode == 0 else {}
    if again.get("chunks_embedded") != 0:
        raise BenchError(f"CLI re-ingest failed: {proc.stderr[-800:]}")
    data["reingest_cli_seconds"] = round(cli, 3)
    data["reingest_cli_fraction"] = round(cli / data["seconds"], 4)
    data["reingest_cli_store_opened"] = again["store_opened"]
    data["ratio_met"] = data["ratio_to_best_raw"] >= GOALS["ingest_ratio_min"]
    data["reingest_met"] = max(data["reingest_fraction"],
                               data["reingest_cli_fraction"]) < GOALS["reingest_fraction_max"]
    return data

