"""Encoder options on CPU: batch size, threads, torch or onnxruntime, the OpenMP wait policy, all
on the same chunk texts; the fastest that keeps the same top-10 results is named.

The child measures the options (`measure`); the section (`section`) runs it once, and in full
mode again in a process started with OMP_WAIT_POLICY=ACTIVE, which torch reads only at start.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from assistant.bench.common import child_settings, pct, peak_rss_mb
from assistant.bench.corpus import questions
from assistant.config import Settings


def measure(params: dict) -> dict:
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


def summarise(data: dict, settings: Settings) -> dict:
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


def section(bench) -> dict:
    bench.log(f"encoder options on {bench.plan.sweep_texts} chunk texts")
    params = {"texts": str(bench.work / "chunks.json"), "n": bench.plan.sweep_texts,
              "batches": list(bench.plan.sweep_batches)}
    data = bench.child("encoder", params, timeout=1800)
    if bench.plan.full:
        # torch's default: OpenMP threads spin while they wait, which on 2 busy cores steals
        # them back (why make_offline() sets PASSIVE). Read once at process start, so the
        # contrast needs a process of its own.
        bench.log("encoder options again with OMP_WAIT_POLICY=ACTIVE")
        policy = bench.env.get("OMP_WAIT_POLICY")
        bench.env["OMP_WAIT_POLICY"] = "ACTIVE"
        try:
            active = bench.child("encoder", {**params, "batches": [], "onnx": False,
                                             "env": "OMP_WAIT_POLICY=ACTIVE"}, timeout=1800)
        finally:
            bench.env.pop("OMP_WAIT_POLICY")
            if policy:
                bench.env["OMP_WAIT_POLICY"] = policy
        data["options"] += active["options"]
        data["peak_rss_mb"] = max(data["peak_rss_mb"], active["peak_rss_mb"])
    return summarise(data, bench.settings)
