"""`groundwork bench`: measured speed and scale, each figure next to the limit it is judged by.

    groundwork bench [--sizes 1000,10000,100000] [--out DIR] [--json]

Sections (each one runs in its own child process, so its peak memory is its own):

- encoder: the encoder options on CPU (batch size, threads, torch or onnxruntime, OpenMP wait
  policy) on the same chunk texts; the fastest that keeps the same top-10 results is named.
- ingest: chunks/s of `ingest()` on a deterministic generated corpus versus the raw encoder's
  `encode` of the very same chunk texts in the same process; where the time goes (exclusive
  time per component); re-ingest of the unchanged corpus as a fraction, in process and as a new
  `groundwork ingest` process.
- retrieval: p50/p95 of `Retriever.run` (query embedding + dense + BM25 + fusion + floor, no LLM)
  at each size, embedded Chroma and a `chroma run` server. Sizes up to the ingest corpus use its
  real vectors; larger ones use seeded random unit vectors (BM25 texts and queries stay real).
- ask: `Assistant.ask` with the extractive generator, warm p50/p95, and first answer from a cold
  process.
- concurrency: 50 questions at once through the Python API and through the UI's HTTP queue.

The largest size decides the scale of everything else: below 10,000 chunks is the quick mode CI
runs (it checks that the report is complete, not the timings). Nothing here touches the index
named by --index: the bench works in a temporary folder and deletes it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.config import Settings

SEED = 1729
DIM = 384
CONCURRENT = 50
ADD_BATCH = 5000  # Chroma refuses much larger add() batches
FULL_SCALE = 10_000  # a largest size at or above this runs the full bench
GOALS = {"ingest_ratio_min": 0.8, "reingest_fraction_max": 0.02, "retrieval_p50_ms_max": 30.0,
         "retrieval_goal_size": 100_000, "help_seconds_max": 0.5, "cold_ask_seconds_max": 2.5}


class BenchError(RuntimeError):
    """A section could not run; the report records the message and the bench goes on."""


# -- the plan: how much of each section, from the sizes asked for -------------------------------


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    full: bool
    ingest_chunks: int  # the generated corpus for the ingest section
    sweep_texts: int  # chunk texts per encoder option
    sweep_batches: tuple[int, ...]
    queries: int  # timed retrieval queries per size and store
    ask_questions: int
    cold_runs: int

    @classmethod
    def from_sizes(cls, sizes: list[int]) -> Plan:
        if not sizes or any(s < 10 for s in sizes):
            raise ValueError("--sizes takes chunk counts of at least 10, e.g. 1000,10000,100000")
        full = max(sizes) >= FULL_SCALE
        return cls(sizes=tuple(sorted(set(sizes))), full=full,
                   ingest_chunks=min(max(max(sizes), 100), 2000),
                   sweep_texts=256 if full else 32,
                   sweep_batches=(16, 32, 64, 128) if full else (),
                   queries=200 if full else 30,
                   ask_questions=50 if full else 10,
                   cold_runs=3 if full else 1)


def parse_sizes(text: str) -> list[int]:
    try:
        return [int(s.replace("_", "").replace("k", "000")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes must be comma-separated chunk counts, got {text!r}") from None


# -- deterministic text: a corpus, chunk texts and questions from one small vocabulary ---------

NOUNS = ["permit", "inspection", "grant", "complaint", "vehicle", "school", "clinic", "bridge",
         "contract", "survey", "audit", "licence", "patient", "tenant", "shipment", "hearing",
         "claim", "hydrant", "library card", "bus route", "well", "pothole", "apprentice",
         "volunteer", "ferry crossing", "water meter", "court case", "food bank", "streetlight",
         "allotment", "vaccination", "road closure", "fishing licence", "ambulance call"]
ADJECTIVES = ["annual", "regional", "urgent", "delayed", "municipal", "quarterly", "rural",
              "coastal", "emergency", "routine", "independent", "provisional", "revised",
              "northern", "southern", "temporary", "public", "private", "disputed", "final"]
VERBS = ["approved", "recorded", "reviewed", "rejected", "processed", "funded", "inspected",
         "closed", "opened", "delayed", "referred", "resolved", "registered", "repaired",
         "cancelled", "audited", "renewed", "issued", "flagged", "completed"]
ORGS = ["city council", "water board", "health department", "transit authority",
        "school district", "county court", "housing office", "fire service", "port authority",
        "parks department", "harbour trust", "library service", "roads agency", "census office",
        "energy regulator", "fisheries board"]
PLACES = ["Northfield", "Eastbrook", "Lowmoor", "Ashford", "Redhill", "Wexcombe", "Dunmere",
          "Calder Vale", "Brightwater", "Oakhurst", "Fenwick", "Stonebridge", "Marlow Heath",
          "Kingsreach", "Holloway", "Saltmarsh", "Glenarrow", "Pinecrest", "Thornby", "Ravensworth"]


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"


def _number(rng: random.Random) -> str:
    value = rng.choice([rng.randint(2, 99), rng.randint(100, 9999), rng.randint(10000, 250000)])
    return f"{value:,}"


def sentence(rng: random.Random) -> str:
    n, a, v, o, p = (rng.choice(NOUNS), rng.choice(ADJECTIVES), rng.choice(VERBS), rng.choice(ORGS),
                     rng.choice(PLACES))
    year = rng.randint(2012, 2024)
    forms = [
        f"In {year}, the {a} {o} {v} {_number(rng)} {_plural(n)} in {p}.",
        f"The {o} of {p} {v} {_number(rng)} {_plural(n)} after the {a} review of {year}.",
        f"Staff at the {o} said that {rng.randint(2, 97)} percent of {a} {_plural(n)} were {v} "
        f"within {rng.randint(2, 60)} days.",
        f"Between {year - rng.randint(1, 6)} and {year}, {p} {v} {_number(rng)} {a} "
        f"{_plural(n)}, up from {_number(rng)}.",
        f"A {a} {n} costs the {o} about {_number(rng)} pounds a year in {p}.",
        f"No {a} {n} was {v} in {p} during {year}, according to the {o}.",
        f"The {o} expects to have {v} {_number(rng)} {_plural(n)} by the end of {year + 1}.",
    ]
    return rng.choice(forms)


def question(rng: random.Random) -> str:
    n, v, o, p = rng.choice(NOUNS), rng.choice(VERBS), rng.choice(ORGS), rng.choice(PLACES)
    year = rng.randint(2012, 2024)
    forms = [f"How many {_plural(n)} did the {o} report as {v} in {p} in {year}?",
             f"How many {_plural(n)} were {v} in {p} in {year}?",
             f"What share of {_plural(n)} did the {o} handle within the target time?",
             f"How much does a {n} cost the {o} in {p}?"]
    return rng.choice(forms)


def questions(n: int, seed: int = SEED) -> list[str]:
    rng = random.Random(f"{seed}-questions")
    out: list[str] = []
    while len(out) < n:
        q = question(rng)
        if q not in out:
            out.append(q)
    return out


def document(rng: random.Random, index: int, target_tokens: int, count_tokens) -> str:
    """A markdown report: a title, paragraphs, now and then an FAQ heading with its answer."""
    o, p = rng.choice(ORGS), rng.choice(PLACES)
    parts = [f"# {o.title()} of {p}: report {index:04d}", ""]
    tokens = 0
    while tokens < target_tokens:
        if rng.random() < 0.15:
            n, v, year = rng.choice(NOUNS), rng.choice(VERBS), rng.randint(2012, 2024)
            para = (f"## How many {_plural(n)} were {v} in {p} in {year}?\n\n"
                    f"The {o} {v} {_number(rng)} {_plural(n)} in {p} in {year}.")
        else:
            para = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
        parts += [para, ""]
        tokens += count_tokens(para)
    return "\n".join(parts)


def write_corpus(folder: Path, target_chunks: int, settings: Settings) -> list[str]:
    """Seeded markdown files holding about `target_chunks` chunks; returns the chunk texts."""
    from assistant.ingest import chunk
    from assistant.models import token_encoder

    encode = token_encoder()
    rng = random.Random(f"{SEED}-corpus")
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 20  # chunks per file, a long-ish report
    new_tokens = settings.chunk_tokens - settings.chunk_overlap
    texts: list[str] = []
    index = 0
    while len(texts) < target_chunks:
        want = min(per_file, target_chunks - len(texts))
        body = document(rng, index, max(want * new_tokens - 40, 40), lambda s: len(encode(s)))
        (folder / f"report_{index:04d}.md").write_text(body, encoding="utf-8")
        texts += [c[0] for c in chunk([body], settings)]
        index += 1
    return texts


def synthetic_texts(n: int, seed: int) -> list[str]:
    """Chunk-sized texts (about 128 cl100k tokens each) for the sizes beyond the real corpus."""
    rng = random.Random(f"{seed}-synthetic")
    out = []
    for _ in range(n):
        words, parts = 0, []
        while words < 80:
            s = sentence(rng)
            parts.append(s)
            words += s.count(" ") + 1
        out.append(" ".join(parts))
    return out


def unit_vectors(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


# -- small helpers -------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), values in seconds -> milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return round(ordered[rank] * 1000, 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return 200 <= resp.status < 300
    except Exception:
        return False


def wait_http(url: str, proc: subprocess.Popen, log: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not http_ok(url):
        if proc.poll() is not None:
            raise BenchError(f"{proc.args[0]} exited with {proc.returncode}: {tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"no answer from {url} within {limit_s:.0f} s: {tail(log)}")
        time.sleep(0.25)


def tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""


def tree_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, read before stopping it."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return round(total / 1024, 1)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def settings_fields(settings: Settings) -> dict:
    """The settings a child process needs (never the API key), as JSON-able values."""
    skip = {"openai_api_key", "index_dir", "chroma_url", "collection"}
    return {f.name: (str(v) if isinstance(v := getattr(settings, f.name), Path) else v)
            for f in fields(settings) if f.name not in skip}


def child_settings(params: dict, **where) -> Settings:
    values = dict(params["settings"], generator="extractive")
    return Settings().replace(**values, **where)


# -- exclusive-time accounting for the ingest breakdown -----------------------------------------


class Timers:
    """Wraps functions so each one's *exclusive* time is summed: nested wrapped calls are charged
    to themselves, not to their caller, so the parts add up to the whole. Opaque parts keep the
    time of everything inside them (the BM25 rebuild reads Chroma, but that is its cost)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []  # [label, time spent in wrapped callees]
        self._opaque = 0
        self._undo: list = []

    def wrap(self, owner, attr: str, label: str, opaque: bool = False) -> None:
        original = getattr(owner, attr)
        timers = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if timers._opaque:
                return original(*args, **kwargs)
            timers._stack.append([label, 0.0])
            timers._opaque += opaque
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                timers._opaque -= opaque
                _, inner = timers._stack.pop()
                timers.seconds[label] = timers.seconds.get(label, 0.0) + elapsed - inner
                timers.calls[label] = timers.calls.get(label, 0) + 1
                if timers._stack:
                    timers._stack[-1][1] += elapsed

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()


ENCODER_LABEL = "encoder (torch or onnxruntime encode)"


def instrument_ingest() -> Timers:
    import chromadb.api.models.Collection as chroma_collection
    from llama_index.vector_stores.chroma import ChromaVectorStore

    import assistant.ingest as ingest_module
    from assistant.models import Encoder
    from assistant.store import Store

    t = Timers()
    t.wrap(Encoder, "encode", ENCODER_LABEL)  # onnxruntime, or torch for ingest-sized batches
    t.wrap(Store, "_embeddings_for", "embedding wrapper (batching, content hashes)")
    t.wrap(chroma_collection.Collection, "get", "chroma get (existing ids, known vectors)")
    t.wrap(chroma_collection.Collection, "delete", "chroma delete")
    t.wrap(ChromaVectorStore, "add", "chroma add (node -> metadata, write, HNSW insert)")
    t.wrap(ingest_module, "extract", "read + extract")
    t.wrap(ingest_module, "chunk", "chunking (SentenceSplitter + tiktoken)")
    t.wrap(ingest_module, "sha256", "hashing (files, chunk ids)")
    t.wrap(ingest_module.Manifest, "save", "manifest save")
    t.wrap(Store, "rebuild_lexical_index", "BM25 rebuild", opaque=True)
    t.wrap(Store, "lexical_index_current", "BM25 freshness check", opaque=True)
    return t


# -- the child phases ---------------------------------------------------------------------------


def phase_encoder(params: dict) -> dict:
    """Encoder options on the same chunk texts; which are fastest with identical top-10s."""
    import numpy as np
    import torch


    settings = child_settings(params)
    texts = json.loads(Path(params["texts"]).read_text())[:params["n"]]
    queries = questions(20 if params["n"] >= 100 else 8)
    default_threads = torch.get_num_threads()
    bs = settings.embed_batch_size
    # The first option, sentence-transformers on torch, is the reference for "same results".
    options = [{"backend": "torch", "batch_size": b, "threads": default_threads}
               for b in dict.fromkeys([bs, *params["batches"]])]
    options.append({"backend": "torch", "batch_size": bs, "threads": 1})
    if params.get("onnx", True):
        options += [{"backend": b, "batch_size": bs, "threads": default_threads}
                    for b in ("onnx", "auto", "sentence-transformers onnx")]
    for opt in options:
        opt["env"] = params.get("env", "")

    def top10(docs, qs):
        return np.argsort(-(qs @ docs.T), axis=1)[:, :10]

    baseline = None
    results = []
    for opt in options:
        row = dict(opt)
        try:
            encode = _encoder_for(opt, settings)
            torch.set_num_threads(opt["threads"])
            encode(texts[:8])  # warm-up: first-call allocations, lazy initialisation
            started = time.perf_counter()
            docs = np.asarray(encode(texts))
            seconds = time.perf_counter() - started
            qs = np.asarray(encode(queries))
            single = []
            for q in queries:  # one question at a time, as retrieval embeds it
                started = time.perf_counter()
                encode([q])
                single.append(time.perf_counter() - started)
            torch.set_num_threads(default_threads)
            row.update(seconds=round(seconds, 3), chunks_per_s=round(len(texts) / seconds, 2),
                       query_p50_ms=pct(single, 50))
            if baseline is None:
                baseline = (docs, qs)
            b_docs, b_qs = baseline
            row["max_abs_diff"] = float(np.abs(docs - b_docs).max())
            row["same_top10"] = bool((top10(docs, qs) == top10(b_docs, b_qs)).all())
        except Exception as exc:  # an option that cannot run here is itself a finding
            torch.set_num_threads(default_threads)
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        results.append(row)
    return {"texts": len(texts), "default_threads": default_threads, "options": results,
            "peak_rss_mb": peak_rss_mb()}


def summarise_encoder(data: dict, settings: Settings) -> dict:
    """The current setting (default environment) and the fastest option with the same top-10s."""
    ok = [r for r in data["options"] if "error" not in r]
    current = next((r for r in ok if r["backend"] == settings.embed_backend
                    and r["batch_size"] == settings.embed_batch_size
                    and r["threads"] == data["default_threads"] and not r["env"]), None)
    usable = [r for r in ok if r["same_top10"]]
    fastest = max(usable, key=lambda r: r["chunks_per_s"]) if usable else None
    quickest = min(usable, key=lambda r: r["query_p50_ms"]) if usable else None
    speedup = (round(fastest["chunks_per_s"] / current["chunks_per_s"], 3)
               if fastest and current else None)
    return {**data, "current": current, "fastest": fastest, "speedup_vs_current": speedup,
            "fastest_single_query": quickest}


def _encoder_for(opt: dict, settings: Settings):
    """A function texts -> normalised vectors (numpy) for one encoder option."""
    from assistant.models import embedder_path, load_embedder

    if opt["backend"] == "sentence-transformers onnx":  # its own ONNX backend (needs optimum)
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(embedder_path(settings.embed_model), device="cpu",
                                    backend="onnx")
    else:  # torch, onnx (onnxruntime) or auto, as the project loads them
        model = load_embedder(settings.embed_model, settings.embed_batch_size, opt["backend"])
    return lambda texts: model.encode(texts, batch_size=opt["batch_size"],
                                      normalize_embeddings=True)


def phase_ingest(params: dict) -> dict:
    """ingest() of the generated corpus, then raw encode of the same chunk texts, then re-ingest."""
    import numpy as np

    from assistant.ingest import ingest
    from assistant.models import load_embedder
    from assistant.store import Store

    settings = child_settings(params, index_dir=Path(params["index"]))
    started = time.perf_counter()
    model = load_embedder(settings.embed_model, settings.embed_batch_size,
                          settings.embed_backend)
    model_load = time.perf_counter() - started
    model.encode(["warm up the encoder"] * 8, batch_size=8)

    timers = instrument_ingest()
    started = time.perf_counter()
    report = ingest([params["corpus"]], settings, progress=False)
    first = time.perf_counter() - started
    timers.restore()
    if report.files_failed or not report.chunks_embedded:
        raise BenchError(f"the bench corpus did not ingest: {report.summary()}")
    breakdown = {k: round(v, 3) for k, v in sorted(timers.seconds.items(), key=lambda kv: -kv[1])}
    breakdown["other (loop, nodes, ids, tqdm, Python)"] = round(
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


def phase_build(params: dict) -> dict:
    """A store of `size` chunks through Store.add_with_embeddings, then its BM25 index."""
    import numpy as np

    from assistant.store import Store
    from assistant.types import Passage

    settings = child_settings(params, index_dir=Path(params["index"]),
                              chroma_url=params.get("chroma_url"), collection=params["collection"])
    size = params["size"]
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


def phase_retrieve(params: dict) -> dict:
    """p50/p95 of Retriever.run, stage by stage (timed inside each call), and Chroma alone."""
    from assistant.retrieve import Retriever

    settings = child_settings(params, index_dir=Path(params["index"]),
                              chroma_url=params.get("chroma_url"), collection=params["collection"])
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


# Retriever.timings keys -> the report's stage names
STAGES = {"embed_query": "embed query", "dense": "chroma query (ids, distances)",
          "lexical": "bm25 (bm25s)", "fusion": "fusion (reciprocal rank)",
          "read": "chroma get (kept passages)", "floor": "floor (cosine)"}


def _record(owner, attr: str, sink: list):
    """Append the duration of every call of owner.attr to sink; returns what undoes it."""
    original = getattr(owner, attr)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - started)

    setattr(owner, attr, timed)
    return owner, attr, original


def phase_ask(params: dict) -> dict:
    """Warm Assistant.ask with the extractive generator: p50/p95 and where the time goes."""
    from assistant.pipeline import Assistant
    from assistant.retrieve import Retriever

    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    qs = questions(params["questions"] + 1, seed=SEED + 2)
    bot.ask(qs[0])
    runs: list[float] = []
    _record(Retriever, "run", runs)  # how many retrievals one ask makes (follow-ups retrieve)
    total, cpu, stages, statuses, per_ask = [], [], {}, {}, []
    for q in qs[1:]:
        before = len(runs)
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = bot.ask(q)
        total.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        per_ask.append(len(runs) - before)
        for k, v in answer.timings.items():
            stages.setdefault(k, []).append(v)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    return {"questions": len(total), "p50_ms": pct(total, 50), "p95_ms": pct(total, 95),
            "cpu_p50_ms": pct(cpu, 50),
            "stages_p50_ms": {k: pct(v, 50) for k, v in stages.items() if k != "total"},
            "stages_p95_ms": {k: pct(v, 95) for k, v in stages.items() if k != "total"},
            "retrievals_per_ask": {"p50": sorted(per_ask)[len(per_ask) // 2],
                                   "max": max(per_ask)},
            "retrieval_p50_ms": pct(runs, 50), "statuses": statuses,
            "peak_rss_mb": peak_rss_mb()}


def phase_cold(params: dict) -> dict:
    """One question from a fresh process: what `groundwork ask` costs the first time."""
    started = time.perf_counter()
    from assistant.pipeline import Assistant

    imported = time.perf_counter()
    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    bot.retriever  # noqa: B018  (Chroma, the encoder and BM25, loading side by side)
    loaded = time.perf_counter()
    answer = bot.ask(questions(1, seed=SEED + 3)[0])
    answered_at = time.time()
    return {"answered_at": answered_at, "import_seconds": round(imported - started, 3),
            "load_seconds": round(loaded - imported, 3),
            "answer_seconds": round(time.perf_counter() - loaded, 3), "status": answer.status,
            "heavy_modules": sorted(m for m in HEAVY_MODULES if m in sys.modules),
            "peak_rss_mb": peak_rss_mb()}


# What only ingest, serve or an LLM generator need: a question must not import them.
HEAVY_MODULES = ("torch", "transformers", "sentence_transformers", "llama_index.core", "gradio",
                 "llama_cpp")


def phase_concurrent_api(params: dict) -> dict:
    """CONCURRENT threads ask one Assistant at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.pipeline import Assistant

    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    bot.ask(questions(1, seed=SEED + 3)[0])  # models loaded: the wave measures answering
    qs = questions(CONCURRENT, seed=SEED + 4)
    gate = threading.Barrier(len(qs))

    def one(q: str):
        gate.wait()
        started = time.perf_counter()
        answer = bot.ask(q)
        return time.perf_counter() - started, answer

    started = time.perf_counter()
    results, errors = [], []
    with ThreadPoolExecutor(max_workers=len(qs)) as pool:
        for future in [pool.submit(one, q) for q in qs]:
            try:
                results.append(future.result(timeout=params["timeout"]))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    wall = time.perf_counter() - started
    answered = [a for _, a in results if a.summary and a.status]
    return {"questions": len(qs), "answered": len(answered), "dropped": len(qs) - len(answered),
            "errors": errors[:5], "seconds": round(wall, 3),
            "latency_p50_ms": pct([s for s, _ in results], 50),
            "latency_max_ms": pct([s for s, _ in results], 100),
            "summaries": {a.question: a.summary for _, a in results},
            "peak_rss_mb": peak_rss_mb()}


def phase_concurrent_ui(params: dict) -> dict:
    """CONCURRENT questions at once through the UI's HTTP queue (the `ask` API endpoint)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    client = Client(params["url"], verbose=False, max_workers=CONCURRENT + 2,
                    download_files=False, analytics_enabled=False)
    api = client.view_api(print_info=False, return_format="dict") or {}
    named = api.get("named_endpoints", {})
    endpoint = "/ask" if "/ask" in named else next(iter(named), None)
    if endpoint is None:
        raise BenchError("the UI exposes no named API endpoint")
    first = named[endpoint]["parameters"][0]["parameter_name"]
    qs = questions(CONCURRENT, seed=SEED + 4)
    gate = threading.Barrier(len(qs))

    def one(q: str):
        gate.wait()
        started = time.perf_counter()
        out = client.predict(api_name=endpoint, **{first: q})
        return time.perf_counter() - started, out

    started = time.perf_counter()
    results, errors = [], []
    with ThreadPoolExecutor(max_workers=len(qs)) as pool:
        for q, future in [(q, pool.submit(one, q)) for q in qs]:
            try:
                results.append((q, *future.result(timeout=params["timeout"])))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    wall = time.perf_counter() - started
    expected = params.get("summaries") or {}
    answered, same = 0, 0
    for q, _, out in results:
        if isinstance(out, dict) and "error" in out:
            errors.append(str(out["error"])[:200])
            continue
        text = json.dumps(out) if not isinstance(out, str) else out
        if len(text.strip()) > 2:
            answered += 1
            summary = expected.get(q)
            same += bool(summary and isinstance(out, dict) and out.get("summary") == summary)
    return {"endpoint": endpoint, "questions": len(qs), "answered": answered,
            "dropped": len(qs) - answered, "errors": errors[:5], "seconds": round(wall, 3),
            "same_answer_as_api": same,
            "latency_p50_ms": pct([s for _, s, _ in results], 50),
            "latency_max_ms": pct([s for _, s, _ in results], 100),
            "client_peak_rss_mb": peak_rss_mb()}


PHASES = {"encoder": phase_encoder, "ingest": phase_ingest, "build": phase_build,
          "retrieve": phase_retrieve, "ask": phase_ask, "cold": phase_cold,
          "concurrent_api": phase_concurrent_api, "concurrent_ui": phase_concurrent_ui}


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.bench")
    parser.add_argument("--phase", choices=sorted(PHASES), required=True)
    parser.add_argument("--params", type=Path, required=True)
    args = parser.parse_args(argv)
    params = json.loads(args.params.read_text())
    result = PHASES[args.phase](params)
    Path(params["result"]).write_text(json.dumps(result))
    return 0


# -- the parent: runs the phases, servers around them, and writes the report ------------------


class Bench:
    def __init__(self, settings: Settings, plan: Plan, work: Path, log=None):
        self.settings = settings
        self.plan = plan
        self.work = work
        t0 = time.perf_counter()
        self.log = log or (lambda msg: print(f"bench [{time.perf_counter() - t0:6.0f} s] {msg}",
                                             file=sys.stderr, flush=True))
        self.calls = 0
        self.report: dict = {}
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("GROUNDWORK_UI_PASSWORD", "GROUNDWORK_UI_USER")}
        self.env.update(TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False",
                        GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")

    # children and servers

    def child(self, phase: str, params: dict, timeout: float) -> dict:
        self.calls += 1
        name = f"{self.calls:02d}-{phase}"
        result = self.work / f"{name}.result.json"
        pfile = self.work / f"{name}.params.json"
        pfile.write_text(json.dumps({**params, "result": str(result),
                                     "settings": settings_fields(self.settings)}))
        log = self.work / f"{name}.log"
        started = time.perf_counter()
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "assistant.bench", "--phase", phase,
                                     "--params", str(pfile)], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=self.env)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop(proc)
                raise BenchError(f"{phase} did not finish within {timeout:.0f} s") from None
        if proc.returncode != 0 or not result.exists():
            raise BenchError(f"{phase} failed (exit {proc.returncode}): {tail(log)}")
        data = json.loads(result.read_text())
        data["process_seconds"] = round(time.perf_counter() - started, 3)
        return data

    @contextlib.contextmanager
    def chroma_server(self, name: str):
        """A `chroma run` on a free loopback port, unless --chroma-url names one already."""
        if self.settings.chroma_url:
            yield self.settings.chroma_url, None
            return
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            raise BenchError(f"no chroma CLI at {chroma}")
        port = free_port()
        log = self.work / f"chroma-{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(chroma), "run", "--path",
                                     str(self.work / f"chroma-{name}"),
                                     "--host", "127.0.0.1", "--port", str(port)],
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=self.env)
        try:
            wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, 120)
            yield f"http://127.0.0.1:{port}", proc
        finally:
            stop(proc)

    def section(self, key: str, fn) -> None:
        started = time.perf_counter()
        try:
            self.report[key] = fn()
        except BenchError as exc:
            self.log(f"{key} failed: {exc}")
            self.report[key] = {"error": str(exc)}
        self.report.setdefault("section_seconds", {})[key] = round(time.perf_counter() - started, 1)

    # the sections

    def run(self) -> dict:
        s, plan = self.settings, self.plan
        self.report.update(machine=machine(), plan=asdict(plan), goals=GOALS,
                           started=datetime.now(UTC).isoformat(timespec="seconds"),
                           settings={"embed_model": Path(_embedder_path(s)).name,
                                     "embed_batch_size": s.embed_batch_size,
                                     "chunk_tokens": s.chunk_tokens, "top_k": s.top_k,
                                     "candidates": s.candidates, "generator": "extractive"})
        started = time.perf_counter()
        self.corpus = self.work / "corpus"
        self.log(f"writing a corpus of about {plan.ingest_chunks} chunks")
        texts = write_corpus(self.corpus, plan.ingest_chunks, s)
        (self.work / "chunks.json").write_text(json.dumps(texts))
        self.index = self.work / "ingest-index"
        self.section("encoder", self.encoder)
        self.section("ingest", self.ingest)
        self.section("retrieval", self.retrieval)
        self.section("ask", self.ask)
        self.section("startup", self.startup)
        self.section("concurrency", self.concurrency)
        self.report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        self.report["seconds"] = round(time.perf_counter() - started, 1)
        return self.report

    def encoder(self) -> dict:
        self.log(f"encoder options on {self.plan.sweep_texts} chunk texts")
        params = {"texts": str(self.work / "chunks.json"), "n": self.plan.sweep_texts,
                  "batches": list(self.plan.sweep_batches)}
        data = self.child("encoder", params, timeout=1800)
        if self.plan.full:
            # torch's default: OpenMP threads spin while they wait, which on 2 busy cores steals
            # them back (why make_offline() sets PASSIVE). Read once at process start, so the
            # contrast needs a process of its own.
            self.log("encoder options again with OMP_WAIT_POLICY=ACTIVE")
            policy = self.env.get("OMP_WAIT_POLICY")
            self.env["OMP_WAIT_POLICY"] = "ACTIVE"
            try:
                active = self.child("encoder", {**params, "batches": [], "onnx": False,
                                                "env": "OMP_WAIT_POLICY=ACTIVE"}, timeout=1800)
            finally:
                self.env.pop("OMP_WAIT_POLICY")
                if policy:
                    self.env["OMP_WAIT_POLICY"] = policy
            data["options"] += active["options"]
            data["peak_rss_mb"] = max(data["peak_rss_mb"], active["peak_rss_mb"])
        return summarise_encoder(data, self.settings)

    def ingest(self) -> dict:
        self.log(f"ingest of {self.plan.ingest_chunks} chunks, then raw encode of the same texts")
        data = self.child("ingest", {"corpus": str(self.corpus), "index": str(self.index),
                                     "vectors": str(self.work / "vectors.npy"),
                                     "passages": str(self.work / "passages.json")},
                          timeout=600 + 2 * self.plan.ingest_chunks)
        # `groundwork ingest` again from a new process: what a user waits for when nothing changed.
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(self.corpus),
                               "--index", str(self.index), "--json"], capture_output=True,
                              text=True, env=self.env, timeout=600, stdin=subprocess.DEVNULL)
        cli = time.perf_counter() - started
        again = json.loads(proc.stdout) if proc.returncode == 0 else {}
        if again.get("chunks_embedded") != 0:
            raise BenchError(f"CLI re-ingest failed: {proc.stderr[-800:]}")
        data["reingest_cli_seconds"] = round(cli, 3)
        data["reingest_cli_fraction"] = round(cli / data["seconds"], 4)
        data["reingest_cli_store_opened"] = again["store_opened"]
        data["ratio_met"] = data["ratio"] >= GOALS["ingest_ratio_min"]
        data["reingest_met"] = max(data["reingest_fraction"],
                                   data["reingest_cli_fraction"]) < GOALS["reingest_fraction_max"]
        return data

    def retrieval(self) -> list[dict]:
        rows = []
        real = self.report.get("ingest", {}).get("chunks_total", 0)
        for size in self.plan.sizes:
            for backend in ("embedded", "server") if size < SERVER_ONLY_FROM else ("server",):
                self.log(f"retrieval at {size} chunks, {backend} Chroma")
                row = {"size": size, "backend": backend,
                       "vectors": "real" if size <= real else "synthetic"}
                try:
                    row.update(self.retrieval_row(size, backend, row["vectors"]))
                except BenchError as exc:
                    self.log(f"retrieval {size} {backend} failed: {exc}")
                    row["error"] = str(exc)
                rows.append(row)
        return rows

    def retrieval_row(self, size: int, backend: str, vectors: str) -> dict:
        index = self.work / f"index-{size}-{backend}"
        collection = f"bench{size}"
        common = {"index": str(index), "collection": collection, "size": size,
                  "vectors": vectors, "vectors_file": str(self.work / "vectors.npy"),
                  "passages": str(self.work / "passages.json"), "queries": self.plan.queries}
        timeout = 900 + size * 0.05
        try:
            if backend == "embedded":
                build = self.child("build", common, timeout)
                measured = self.child("retrieve", common, timeout)
                server_peak = None
            else:
                with self.chroma_server(str(size)) as (url, proc):
                    common["chroma_url"] = url
                    if self.settings.chroma_url:  # someone else's server: do not collide
                        common["collection"] = f"{collection}-{os.getpid()}"
                    build = self.child("build", common, timeout)
                    measured = self.child("retrieve", common, timeout)
                    server_peak = tree_peak_mb(proc.pid) if proc else None
                    if proc is None:
                        _drop_collection(url, common["collection"])
        finally:
            shutil.rmtree(index, ignore_errors=True)
            shutil.rmtree(self.work / f"chroma-{size}", ignore_errors=True)
        return {**measured, "build_seconds": round(build["add_seconds"] + build["bm25_seconds"], 1),
                "build": build, "server_peak_rss_mb": server_peak}

    def ask(self) -> dict:
        if "error" in self.report.get("ingest", {}):
            raise BenchError("needs the ingest section's index")
        self.log(f"ask: {self.plan.ask_questions} warm questions, {self.plan.cold_runs} cold")
        data = self.child("ask", {"index": str(self.index), "questions": self.plan.ask_questions},
                          timeout=1200)
        runs = []
        for _ in range(self.plan.cold_runs):
            spawned = time.time()
            cold = self.child("cold", {"index": str(self.index)}, timeout=600)
            cold["first_answer_seconds"] = round(cold.pop("answered_at") - spawned, 3)
            runs.append(cold)
        pick = sorted(runs, key=lambda r: r["first_answer_seconds"])[len(runs) // 2]
        data["cold"] = {**pick, "runs": [r["first_answer_seconds"] for r in runs]}
        return data

    def startup(self) -> dict:
        """The CLI as a user starts it, on the demo corpus when this is a source checkout."""
        index, question, label = self.index, questions(1, seed=SEED + 3)[0], "the bench corpus"
        if DEMO_CORPUS.is_dir():
            index, question, label = self.work / "demo-index", DEMO_QUESTION, "the demo index"
            proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest",
                                   str(DEMO_CORPUS), "--index", str(index), "--json"],
                                  capture_output=True, text=True, env=self.env, timeout=900,
                                  stdin=subprocess.DEVNULL)
            if proc.returncode:
                raise BenchError(f"ingesting the demo corpus failed: {proc.stderr[-800:]}")
        elif "error" in self.report.get("ingest", {}):
            raise BenchError("needs the ingest section's index")
        self.log(f"start-up: --help and ask as new processes on {label}")
        runs = 5 if self.plan.full else 2
        data = cli_startup(self.env, index, question, runs)
        data["index"] = label
        data["help_met"] = data["help_seconds"] <= GOALS["help_seconds_max"]
        data["ask_met"] = data["ask_seconds"] <= GOALS["cold_ask_seconds_max"]
        return data

    def concurrency(self) -> dict:
        if "error" in self.report.get("ingest", {}):
            raise BenchError("needs the ingest section's index")
        self.log(f"{CONCURRENT} questions at once through the Python API")
        out = {}
        try:
            out["api"] = self.child("concurrent_api", {"index": str(self.index), "timeout": 900},
                                    timeout=1200)
        except BenchError as exc:
            out["api"] = {"error": str(exc)}
        summaries = out["api"].pop("summaries", {})
        if not ui_available():
            out["ui"] = {"skipped": "no UI"}
            return out
        self.log(f"{CONCURRENT} questions at once through the UI's HTTP queue")
        try:
            out["ui"] = self.concurrent_ui(summaries)
        except BenchError as exc:
            out["ui"] = {"error": str(exc)}
        return out

    def concurrent_ui(self, summaries: dict) -> dict:
        port = free_port()
        log = self.work / "serve.log"
        uploads = self.work / "ui-uploads"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--index",
                                     str(self.index), "--port", str(port), "--host", "127.0.0.1",
                                     "--corpus", str(uploads)],
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=self.env)
        try:
            started = time.perf_counter()
            wait_http(f"http://127.0.0.1:{port}/", proc, log, 180)
            up = time.perf_counter() - started
            data = self.child("concurrent_ui", {"url": f"http://127.0.0.1:{port}/",
                                                "timeout": 900, "summaries": summaries},
                              timeout=1200)
            data["server_start_seconds"] = round(up, 2)
            data["server_peak_rss_mb"] = tree_peak_mb(proc.pid)
            return data
        finally:
            stop(proc)


# From this size on, retrieval is measured against a `chroma run` server only: one embedded
# process holding a million chunks and their HNSW index is not how such an index is served.
SERVER_ONLY_FROM = 1_000_000
DEMO_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DEMO_QUESTION = "How many CyberTipline reports were made in 2023?"


def cli_startup(env: dict, index: Path, question: str, runs: int) -> dict:
    """`groundwork --help` and `groundwork ask` from new processes, wall time to their output
    (p50 of `runs`), and where the ask's imports go (`python -X importtime`)."""
    script = Path(sys.executable).parent / "groundwork"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]

    def wall(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
        started = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600,
                              stdin=subprocess.DEVNULL)
        if proc.returncode:
            raise BenchError(f"{' '.join(args[:3])} failed: {proc.stderr[-800:]}")
        return time.perf_counter() - started, proc

    help_runs = [wall([*cli, "--help"])[0] for _ in range(runs)]
    ask_runs = [wall([*cli, "ask", question, "--index", str(index)])[0] for _ in range(runs)]
    _, traced = wall([sys.executable, "-X", "importtime", "-m", "assistant.cli", "ask", question,
                      "--index", str(index)])
    return {"runs": runs, "help_seconds": round(pct(help_runs, 50) / 1000, 3),
            "ask_seconds": round(pct(ask_runs, 50) / 1000, 3),
            "ask_runs": [round(x, 2) for x in ask_runs], "imports": top_imports(traced.stderr)}


def top_imports(importtime: str, n: int = 12) -> dict[str, float]:
    """The `n` costliest top-level imports (cumulative seconds) in `python -X importtime` output."""
    found: dict[str, float] = {}
    for line in importtime.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or "cumulative" in line:
            continue
        name = parts[2][1:]
        if name and not name.startswith(" "):
            found[name] = max(found.get(name, 0.0), int(parts[1]) / 1e6)
    return dict(sorted(found.items(), key=lambda kv: -kv[1])[:n])


def _drop_collection(url: str, name: str) -> None:
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    u = urlparse(url)
    with contextlib.suppress(Exception):
        chromadb.HttpClient(host=u.hostname, port=u.port or 8000,
                            settings=ChromaSettings(anonymized_telemetry=False)
                            ).delete_collection(name)


def _embedder_path(settings: Settings) -> str:
    from assistant.models import embedder_path

    return embedder_path(settings.embed_model)


def ui_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("assistant.ui") is not None


def machine() -> dict:
    mem = 0
    with contextlib.suppress(OSError, ValueError):
        line = next(ln for ln in Path("/proc/meminfo").read_text().splitlines()
                    if ln.startswith("MemTotal:"))
        mem = int(line.split()[1]) / 2**20
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(ln.split(":", 1)[1].strip() for ln in
                   Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_start": [round(x, 2) for x in os.getloadavg()]}


# -- the report ---------------------------------------------------------------------------------


def _ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def _mb(v) -> str:
    return "-" if v is None else f"{v:.0f}"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def markdown(r: dict, command: str) -> str:
    m = r.get("machine", {})
    lines = ["# groundwork bench\n",
             f"`{command}` on {m.get('cpus')} CPU cores ({m.get('cpu')}), "
             f"{m.get('memory_gb')} GB RAM, Python {m.get('python')}; load average "
             f"{m.get('load_average_start')} at the start, {m.get('load_average_end')} at the end; "
             f"{r.get('seconds')} s in all.\n"]
    ing = r.get("ingest", {})
    ret = [x for x in r.get("retrieval", []) if isinstance(x, dict)] \
        if isinstance(r.get("retrieval"), list) else []
    ask = r.get("ask", {})
    conc = r.get("concurrency", {})
    big = max((x["size"] for x in ret), default=None)

    def p50(backend):
        row = next((x for x in ret if x["size"] == big and x["backend"] == backend), {})
        return row.get("p50_ms")

    goal_size = GOALS["retrieval_goal_size"]
    rows = [("measure", "result", "goal", "")]
    if "error" in ing:
        rows.append(("ingest", f"error: {ing['error'][:120]}", "", ""))
    elif ing:
        rows.append(("ingest throughput / raw encoder throughput",
                     f"{ing['ratio']:.2f} ({ing['chunks_per_s']:.1f} vs "
                     f"{ing['encode_chunks_per_s']:.1f} chunks/s, {ing['chunks']} chunks); "
                     f"the encoder is {ing['encoder_share_of_ingest']:.0%} of the ingest time",
                     f">= {GOALS['ingest_ratio_min']}", _met(ing["ratio_met"])))
        rows.append(("re-ingest unchanged corpus / first ingest",
                     f"{ing['reingest_fraction']:.2%} ({ing['reingest_seconds']:.2f} s in "
                     f"process); CLI {ing['reingest_cli_fraction']:.1%} "
                     f"({ing['reingest_cli_seconds']:.1f} s)",
                     f"< {GOALS['reingest_fraction_max']:.0%}", _met(ing["reingest_met"])))
    if big:
        emb, srv = p50("embedded"), p50("server")
        goal = f"< {GOALS['retrieval_p50_ms_max']:.0f} ms at {goal_size:,}"
        ok = None if big < goal_size or emb is None else emb < GOALS["retrieval_p50_ms_max"]
        rows.append((f"retrieval p50 at {big:,} chunks (embedded / server)",
                     f"{_ms(emb)} / {_ms(srv)} ms", goal, _met(ok)))
    start = r.get("startup", {})
    if "error" in start:
        rows.append(("start-up", f"error: {start['error'][:120]}", "", ""))
    elif start:
        rows.append(("`groundwork --help`, new process", f"{start['help_seconds']:.2f} s",
                     f"<= {GOALS['help_seconds_max']} s", _met(start["help_met"])))
        rows.append((f"`groundwork ask` on {start['index']}, new process, to the answer",
                     f"{start['ask_seconds']:.2f} s", f"<= {GOALS['cold_ask_seconds_max']} s",
                     _met(start["ask_met"])))
    if "error" in ask:
        rows.append(("ask", f"error: {ask['error'][:120]}", "", ""))
    elif ask:
        rows.append(("ask p50 / p95 (warm, extractive)",
                     f"{ask['p50_ms']:.0f} / {ask['p95_ms']:.0f} ms", "", ""))
        rows.append(("first answer from a cold process",
                     f"{ask['cold']['first_answer_seconds']:.1f} s", "", ""))
    for key, label in (("api", "Python API"), ("ui", "UI HTTP queue")):
        c = conc.get(key, {}) if isinstance(conc, dict) else {}
        if "skipped" in c:
            text = f"skipped: {c['skipped']}"
        elif "error" in c:
            text = f"error: {c['error'][:120]}"
        elif c:
            text = (f"{c['answered']}/{c['questions']} answered, {c['dropped']} dropped, "
                    f"{c['seconds']:.1f} s for all")
        else:
            continue
        rows.append((f"{CONCURRENT} questions at once, {label}", text, "all answered",
                     _met(c.get("answered") == CONCURRENT) if "answered" in c else "-"))
    lines += [_table(rows), ""]

    if ret:
        lines.append("## Retrieval (query embedding + dense + BM25 + fusion + floor, no LLM)\n")
        head = ("chunks", "store", "vectors", "p50 ms", "p95 ms", "CPU p50 ms", *STAGES.values(),
                "Chroma alone, top 10", "load s", "build s", "peak MB", "server peak MB")
        t = [head]
        for x in ret:
            if "error" in x:
                t.append((f"{x['size']:,}", x["backend"], x["vectors"], "error: "
                          + x["error"][:80], *[""] * (len(head) - 4)))
                continue
            st = x["stages_p50_ms"]
            t.append((f"{x['size']:,}", x["backend"], x["vectors"], _ms(x["p50_ms"]),
                      _ms(x["p95_ms"]), _ms(x["cpu_p50_ms"]),
                      *[_ms(st[k]) for k in STAGES.values()],
                      _ms(x["chroma_alone_top10_p50_ms"]),
                      f"{x['load_seconds']:.1f}", f"{x['build_seconds']:.1f}",
                      _mb(x["peak_rss_mb"]), _mb(x.get("server_peak_rss_mb"))))
        lines += [_table(t), "", "Stage columns are p50 in ms. " + growth(ret), ""]

    enc = r.get("encoder", {})
    if enc.get("options"):
        lines.append(f"## Encoder options ({enc['texts']} chunk texts; one query = p50 of "
                     "single-question encodes)\n")
        t = [("backend", "batch", "threads", "environment", "chunks/s", "one query ms",
              "same top-10", "max diff", "note")]
        for o in enc["options"]:
            t.append((o["backend"], str(o["batch_size"]), str(o["threads"]), o.get("env") or "-",
                      f"{o['chunks_per_s']:.1f}" if "chunks_per_s" in o else "-",
                      _ms(o.get("query_p50_ms")), str(o.get("same_top10", "-")),
                      f"{o['max_abs_diff']:.1e}" if "max_abs_diff" in o else "-",
                      o.get("error", "")))

        def name(o: dict) -> str:
            return (f"{o.get('backend')} batch {o.get('batch_size')} threads {o.get('threads')}"
                    + (f" {o['env']}" if o.get("env") else ""))

        f, q = enc.get("fastest") or {}, enc.get("fastest_single_query") or {}
        lines += [_table(t), "", f"Fastest with the same results: {name(f)} "
                  f"({enc.get('speedup_vs_current')}x the current setting); quickest single "
                  f"query: {name(q)} ({_ms(q.get('query_p50_ms'))} ms).", ""]
    elif "error" in enc:
        lines += ["## Encoder options\n", f"error: {enc['error']}", ""]

    if ing.get("breakdown_seconds"):
        lines.append(f"## Where the first ingest's {ing['seconds']:.1f} s go (exclusive time)\n")
        t = [("part", "seconds", "share")]
        for k, v in ing["breakdown_seconds"].items():
            t.append((k, f"{v:.2f}", f"{v / ing['seconds']:.1%}"))
        lines += [_table(t), "",
                  f"Model load before the ingest: {ing['model_load_seconds']:.1f} s. The encoder "
                  f"alone: {ing['encode_chunks_per_s']:.1f} chunks/s over all texts in one call, "
                  f"{ing['encode_per_file_chunks_per_s']:.1f} chunks/s called once per file as "
                  f"ingest calls it ({ing['chunks_per_file']} chunks a file). Re-ingest: "
                  f"{ing['reingest_seconds']:.3f} s in process, {ing['reingest_cli_seconds']:.1f} "
                  f"s as a new `groundwork ingest` process. Peak memory of the ingest process: "
                  f"{_mb(ing['peak_rss_mb'])} MB.", ""]

    if ask.get("stages_p50_ms"):
        lines.append("## ask (warm, extractive generator)\n")
        t = [("stage", "p50 ms", "p95 ms")] + [(k, _ms(v), _ms(ask["stages_p95_ms"].get(k)))
                                               for k, v in ask["stages_p50_ms"].items()]
        cold = ask["cold"]
        per = ask["retrievals_per_ask"]
        lines += [_table(t), "",
                  f"Retrievals per ask: {per['p50']} (p50), {per['max']} (max), "
                  f"{_ms(ask['retrieval_p50_ms'])} ms each (p50). CPU p50 "
                  f"{_ms(ask['cpu_p50_ms'])} ms. "
                  f"{ask['questions']} questions, statuses {ask['statuses']}; peak memory "
                  f"{_mb(ask['peak_rss_mb'])} MB. Cold process: first answer after "
                  f"{cold['first_answer_seconds']:.1f} s (runs {cold['runs']}): importing the "
                  f"pipeline {cold['import_seconds']:.1f} s, opening Chroma, the onnxruntime "
                  f"encoder and BM25 side by side (their imports included) "
                  f"{cold['load_seconds']:.1f} s, answering {cold['answer_seconds']:.1f} s, the "
                  f"rest is interpreter start; libraries only ingest or serve need, imported: "
                  f"{', '.join(cold.get('heavy_modules') or []) or 'none'}; peak "
                  f"{_mb(cold['peak_rss_mb'])} MB.", ""]

    start = r.get("startup", {})
    if start.get("imports"):
        lines.append("## Start-up: new `groundwork` processes\n")
        t = [("module (imported at top level)", "cumulative s")]
        t += [(name, f"{sec:.2f}") for name, sec in start["imports"].items()]
        lines += [f"`groundwork --help` {start['help_seconds']:.2f} s, `groundwork ask` on "
                  f"{start['index']} {start['ask_seconds']:.2f} s to the printed answer (p50 of "
                  f"{start['runs']}; runs {start['ask_runs']}). Where the ask's imports go "
                  "(`python -X importtime -m assistant.cli ask ...`; imports on the loading "
                  "threads are top level too, and overlap):\n", _table(t), ""]

    mem = [("process", "peak RSS MB")]
    for label, value in (("encoder options", enc.get("peak_rss_mb")),
                         ("ingest + raw encode", ing.get("peak_rss_mb")),
                         ("ask (warm)", ask.get("peak_rss_mb")),
                         ("ask (cold process)", ask.get("cold", {}).get("peak_rss_mb")),
                         ("50 at once, Python API", conc.get("api", {}).get("peak_rss_mb")),
                         ("UI server during 50 at once", conc.get("ui", {}).get(
                             "server_peak_rss_mb"))):
        if value is not None:
            mem.append((label, _mb(value)))
    for x in ret:
        if "build" in x:
            mem.append((f"build {x['size']:,} {x['backend']}", _mb(x["build"]["peak_rss_mb"])))
    lines += ["## Peak memory\n", _table(mem), ""]
    return "\n".join(lines)


def growth(rows: list[dict]) -> str:
    """How the size-dependent part (every stage but the query embedding) grows with the data."""
    out = []
    for backend in ("embedded", "server"):
        ok = [x for x in rows if x["backend"] == backend and "p50_ms" in x]
        if len(ok) > 1:
            a, b = ok[0], ok[-1]

            def search(x):
                return sum(v for k, v in x["stages_p50_ms"].items() if k != "embed query")

            out.append(f"{backend}: everything but the query embedding {search(a):.1f} -> "
                       f"{search(b):.1f} ms (x{search(b) / search(a):.2f}), whole p50 "
                       f"x{b['p50_ms'] / a['p50_ms']:.2f}, from {a['size']:,} to {b['size']:,} "
                       f"chunks (x{b['size'] / a['size']:.0f} data)")
    return ("Growth with size: " + "; ".join(out) + ".") if out else ""


def _table(rows: list[tuple]) -> str:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in body]
    return "\n".join(out)


def run_cli(args, settings: Settings) -> int:
    sizes = parse_sizes(args.sizes)
    plan = Plan.from_sizes(sizes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = f"groundwork bench --sizes {','.join(map(str, plan.sizes))} --out {out}" + (
        " --json" if args.json else "")
    with tempfile.TemporaryDirectory(prefix="groundwork-bench-") as work:
        report = Bench(settings, plan, Path(work)).run()
    report["command"] = command
    (out / "report.json").write_text(json.dumps(report, indent=2))
    md = markdown(report, command)
    (out / "report.md").write_text(md)
    print(json.dumps(report, indent=2) if args.json else md)
    failed = [k for k in ("encoder", "ingest", "ask", "startup")
              if "error" in report.get(k, {})]
    failed += [f"retrieval {x['size']} {x['backend']}" for x in report.get("retrieval", [])
               if isinstance(x, dict) and "error" in x]
    failed += [f"concurrency {k}" for k, v in report.get("concurrency", {}).items()
               if isinstance(v, dict) and "error" in v]
    if failed:
        print(f"bench: sections that failed: {', '.join(failed)}", file=sys.stderr)
    print(f"bench: report in {out / 'report.md'} and {out / 'report.json'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(child_main())
