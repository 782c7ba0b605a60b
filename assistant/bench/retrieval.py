"""Retrieval at each size, embedded Chroma and a `chroma run` server: p50/p95 of `Retriever.run`
(query embedding + dense + BM25 + fusion + floor, no LLM), each stage timed inside the very call
that is measured, and Chroma alone for comparison.

Children: `build` writes a store of the size (the ingest section's real chunks and vectors up to
its size, generated texts with seeded random unit vectors beyond), `measure` times it. Synthetic
chunks go into a `chroma run` server by chromadb's own `add` (`_bulk_load`): the store's
llama-index write path ran at ~140 chunks/s here, 2.5 hours for a million.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from assistant.bench.common import (
    ADD_BATCH,
    SEED,
    BenchError,
    child_settings,
    pct,
    peak_rss_mb,
    tree_peak_mb,
)
from assistant.bench.corpus import questions, synthetic_texts, unit_vectors
from assistant.procs import free_port

# Retriever.timings keys -> the report's stage names
STAGES = {"embed_query": "embed query", "dense": "chroma query (ids, distances)",
          "lexical": "bm25 (bm25s, beside the two above)",
          "lexical_wait": "bm25 wait after the chroma query", "fusion": "fusion (reciprocal rank)",
          "read": "chroma get (kept passages)", "floor": "floor (cosine)"}
# From this size on, retrieval is measured against a `chroma run` server only: one embedded
# process holding a million chunks and their HNSW index is not how such an index is served. The
# store is bulk-loaded into the embedded PersistentClient (no HTTP round trip per batch) and that
# directory is then served with `chroma run --path`.
SERVER_ONLY_FROM = 1_000_000
PROGRESS_EVERY = 50_000  # the bulk load logs its count and rate this often (the child's log)
BULK_BATCH = 20_000  # chunks per add() in the bulk load, if the server takes that many


def build(params: dict) -> dict:
    """A store of `size` chunks through Store.add_with_embeddings, then its BM25 index."""
    import numpy as np

    from assistant.store import Store
    from assistant.types import Passage

    settings = child_settings(params, index_dir=Path(params["index"]),
                              chroma_url=params.get("chroma_url"), collection=params["collection"])
    size = params["size"]
    if params["vectors"] == "synthetic" and (settings.chroma_url or params.get("served")):
        return _bulk_load(settings, size)
    started = time.perf_counter()
    if params["vectors"] == "real":
        rows = json.loads(Path(params["passages"]).read_text())[:size]
        vectors = np.load(params["vectors_file"])[:size]
        passages = [Passage(**r) for r in rows]
    else:
        texts = synthetic_texts(size, SEED + size)
        vectors = unit_vectors(size, SEED + size)
        passages = [Passage(id=f"syn{size}-{i:07d}", text=t, title=f"Synthetic report {i // 20}",
                            source=f"synthetic/doc{i // 20:05d}.md", page=None,
                            start=(i % 20) * 700, end=(i % 20) * 700 + len(t))
                    for i, t in enumerate(texts)]
    generate = time.perf_counter() - started
    store = Store(settings)
    started = time.perf_counter()
    for i in range(0, size, ADD_BATCH):
        store.add_with_embeddings(passages[i:i + ADD_BATCH], vectors[i:i + ADD_BATCH])
    add = time.perf_counter() - started
    started = time.perf_counter()
    store.rebuild_lexical_index()
    bm25 = time.perf_counter() - started
    if store.count() != size:
        raise BenchError(f"the store holds {store.count()} chunks, not {size}")
    return {"generate_seconds": round(generate, 3), "add_seconds": round(add, 3),
            "bm25_seconds": round(bm25, 3), "peak_rss_mb": peak_rss_mb()}


def _bulk_load(settings, size: int) -> dict:
    """`size` synthetic chunks straight into the collection the Store opens (its name and
    metadata, `passage_metadata` beside each text, normalised float32 vectors), in batches as
    large as the client takes; then BM25 from the texts in hand, not read back from Chroma.
    Generating a batch overlaps Chroma's insertion of the previous one."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.store import Store, passage_metadata
    from assistant.types import Passage

    store = Store(settings)
    batch = min(BULK_BATCH, store.client.get_max_batch_size())
    ids: list[str] = []
    texts: list[str] = []
    generate = add = 0.0
    pending = None
    begun = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        for first in range(0, size, batch):
            started = time.perf_counter()
            n = min(batch, size - first)
            part = synthetic_texts(n, SEED + size + first)
            vectors = unit_vectors(n, SEED + size + first)
            part_ids = [f"syn{size}-{i:07d}" for i in range(first, first + n)]
            metadatas = [passage_metadata(Passage(
                id=pid, text=t, title=f"Synthetic report {i // 20}",
                source=f"synthetic/doc{i // 20:05d}.md", page=None, start=(i % 20) * 700,
                end=(i % 20) * 700 + len(t))) for i, pid, t in zip(range(first, first + n),
                                                                    part_ids, part)]
            generate += time.perf_counter() - started
            started = time.perf_counter()
            if pending:
                pending.result()
            add += time.perf_counter() - started  # waiting for the server, not generating
            pending = pool.submit(store.collection.add, ids=part_ids, embeddings=vectors,
                                  documents=part, metadatas=metadatas)
            ids += part_ids
            texts += part
            if first // PROGRESS_EVERY != (first + n) // PROGRESS_EVERY:
                done = first  # the batch before this one is in Chroma
                elapsed = time.perf_counter() - begun
                print(f"bulk load: {done} chunks in {elapsed:.0f} s, "
                      f"{done / elapsed:.0f} chunks/s", flush=True)
        started = time.perf_counter()
        pending.result()
        add += time.perf_counter() - started
    started = time.perf_counter()
    store.write_lexical_index(ids, texts)
    bm25 = time.perf_counter() - started
    if store.count() != size:
        raise BenchError(f"the store holds {store.count()} chunks, not {size}")
    return {"generate_seconds": round(generate, 3), "add_seconds": round(generate + add, 3),
            "bm25_seconds": round(bm25, 3), "peak_rss_mb": peak_rss_mb(), "bulk": True,
            "batch": batch, "chunks_per_s": round(size / (generate + add), 1)}


def measure(params: dict) -> dict:
    """p50/p95 of Retriever.run, stage by stage (timed inside each call), and Chroma alone."""
    from assistant.retrieve import Retriever
    from assistant.store import Store

    settings = child_settings(params, index_dir=Path(params["index"]),
                              chroma_url=params.get("chroma_url"), collection=params["collection"])
    if params["vectors"] == "synthetic":
        # The start-up probe finds stored vectors among their nearest; HNSW cannot do that for
        # random 384-d vectors at scale (at 1M, 5 of 12 were not in their own top 100, and one
        # not in its top 1,000; real embeddings cluster). Not damage: this child skips it.
        Store._probe = lambda self, count: None
    started = time.perf_counter()
    retriever = Retriever(settings)
    load = time.perf_counter() - started
    qs = questions(params["queries"] + 5, seed=SEED + 1)
    for q in qs[:5]:
        retriever.run(q)
    total, cpu, returned = [], [], 0
    stages: dict[str, list[float]] = {label: [] for label in STAGES.values()}
    for q in qs[5:]:
        started, cpu_started = time.perf_counter(), time.process_time()
        returned += len(retriever.run(q))
        total.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        for key, label in STAGES.items():
            stages[label].append(retriever.timings[key])
    alone = []  # Chroma by itself, top 10, as the 2 ms reference was measured
    for q in qs[5:]:
        embedding = retriever.embedder.get_query_embedding(q)
        started = time.perf_counter()
        retriever.store.collection.query(query_embeddings=[embedding], n_results=10,
                                         include=["distances"])
        alone.append(time.perf_counter() - started)
    return {"queries": len(total), "p50_ms": pct(total, 50), "p95_ms": pct(total, 95),
            "cpu_p50_ms": pct(cpu, 50), "stages_p50_ms": {k: pct(v, 50) for k, v in stages.items()},
            "chroma_alone_top10_p50_ms": pct(alone, 50), "load_seconds": round(load, 3),
            "passages_per_query": round(returned / len(total), 2), "peak_rss_mb": peak_rss_mb()}


@contextlib.contextmanager
def _chroma_server(bench, name: str, path: Path):
    """A `chroma run --path path` on a free loopback port, unless --chroma-url names one."""
    if bench.settings.chroma_url:
        yield bench.settings.chroma_url, None
        return
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        raise BenchError(f"no chroma CLI at {chroma}")
    port = free_port()
    with bench.server([chroma, "run", "--path", path, "--host", "127.0.0.1", "--port", port],
                      f"chroma-{name}", f"http://127.0.0.1:{port}/api/v2/heartbeat",
                      limit_s=600) as proc:
        yield f"http://127.0.0.1:{port}", proc


def section(bench) -> list[dict]:
    rows = []
    real = bench.report.get("ingest", {}).get("chunks_total", 0)
    for size in bench.plan.sizes:
        for backend in ("embedded", "server") if size < SERVER_ONLY_FROM else ("server",):
            bench.log(f"retrieval at {size} chunks, {backend} Chroma")
            row = {"size": size, "backend": backend,
                   "vectors": "real" if size <= real else "synthetic"}
            try:
                row.update(_row(bench, size, backend, row["vectors"]))
            except BenchError as exc:
                bench.log(f"retrieval {size} {backend} failed: {exc}")
                row["error"] = str(exc)
            rows.append(row)
    return rows


def _row(bench, size: int, backend: str, vectors: str) -> dict:
    index = bench.work / f"index-{size}-{backend}"
    collection = f"bench{size}"
    common = {"index": str(index), "collection": collection, "size": size,
              "vectors": vectors, "vectors_file": str(bench.work / "vectors.npy"),
              "passages": str(bench.work / "passages.json"), "queries": bench.plan.queries}
    timeout = 900 + size * 0.05
    server_dir = bench.work / f"chroma-{size}"
    # built in the embedded store, then that directory served (see SERVER_ONLY_FROM)
    served = (backend == "server" and size >= SERVER_ONLY_FROM and vectors == "synthetic"
              and not bench.settings.chroma_url)
    record = index / "built.json"  # a kept work folder's earlier build (bench --work)
    reuse = bench.keep and record.exists() and not bench.settings.chroma_url
    built: dict = json.loads(record.read_text()) if reuse else {}
    if built:
        bench.log(f"reusing the store of {size} chunks built in {index}")

    def build(params: dict) -> dict:
        if built:
            return built
        result = bench.child("build", params, timeout)
        index.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(result))
        return result

    try:
        if backend == "embedded":
            built = build(common)
            measured = bench.child("retrieve", common, timeout)
            server_peak = None
        else:
            if served:
                built = build({**common, "served": True})
                server_dir = index / "chroma"
            with _chroma_server(bench, str(size), server_dir) as (url, proc):
                common["chroma_url"] = url
                if bench.settings.chroma_url:  # someone else's server: do not collide
                    common["collection"] = f"{collection}-{os.getpid()}"
                if not served:
                    built = build(common)
                measured = bench.child("retrieve", common, timeout)
                server_peak = tree_peak_mb(proc.pid) if proc else None
                if proc is None:
                    _drop_collection(url, common["collection"])
        disk = _disk_mb(index) + (0 if served else _disk_mb(server_dir))
    except BenchError as exc:  # a build that took an hour is reported even when measuring fails
        raise BenchError(f"{exc} (built: {json.dumps(built)})" if built else str(exc)) from None
    finally:
        if not bench.keep:
            shutil.rmtree(index, ignore_errors=True)
            shutil.rmtree(server_dir, ignore_errors=True)
    return {**measured, "build_seconds": round(built["add_seconds"] + built["bm25_seconds"], 1),
            "build": built, "server_peak_rss_mb": server_peak, "disk_mb": disk,
            "built_embedded_then_served": served}


def _disk_mb(folder: Path) -> float:
    """What a store takes on disk (Chroma's files and the BM25 index), in allocated blocks."""
    return round(sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
                 / 2**20, 1) if folder.exists() else 0.0


def _drop_collection(url: str, name: str) -> None:
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    u = urlparse(url)
    with contextlib.suppress(Exception):
        chromadb.HttpClient(host=u.hostname, port=u.port or 8000,
                            settings=ChromaSettings(anonymized_telemetry=False)
                            ).delete_collection(name)
