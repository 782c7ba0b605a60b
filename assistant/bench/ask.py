"""`Assistant.ask` with the extractive generator: warm p50/p95 and where the time goes (`measure`),
and the first answer from a cold process, spawn to answer (`cold`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.bench.common import SEED, BenchError, child_settings, pct, peak_rss_mb, record
from assistant.bench.corpus import questions


def measure(params: dict) -> dict:
    """Warm Assistant.ask with the extractive generator: p50/p95 and where the time goes."""
    from assistant.pipeline import Assistant
    from assistant.retrieve import Retriever

    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    qs = questions(params["questions"] + 1, seed=SEED + 2)
    bot.ask(qs[0])
    runs: list[float] = []
    record(Retriever, "run", runs)  # how many retrievals one ask makes (follow-ups retrieve)
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


def cold(params: dict) -> dict:
    """One question from a fresh process: what `groundwork ask` costs the first time."""
    started = time.perf_counter()
    from assistant.pipeline import Assistant

    imported = time.perf_counter()
    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    bot.retriever  # noqa: B018  (Chroma, the encoder and BM25)
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


def section(bench) -> dict:
    if "error" in bench.report.get("ingest", {}):
        raise BenchError("needs the ingest section's index")
    bench.log(f"ask: {bench.plan.ask_questions} warm questions, {bench.plan.cold_runs} cold")
    data = bench.child("ask", {"index": str(bench.index), "questions": bench.plan.ask_questions},
                       timeout=1200)
    runs = []
    for _ in range(bench.plan.cold_runs):
        spawned = time.time()
        run = bench.child("cold", {"index": str(bench.index)}, timeout=600)
        run["first_answer_seconds"] = round(run.pop("answered_at") - spawned, 3)
        runs.append(run)
    pick = sorted(runs, key=lambda r: r["first_answer_seconds"])[len(runs) // 2]
    data["cold"] = {**pick, "runs": [r["first_answer_seconds"] for r in runs]}
    return data

