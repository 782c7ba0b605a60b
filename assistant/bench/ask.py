"""`Assistant.ask` with the extractive generator: warm p50/p95 and where the time goes (`measure`),
and the first answer from a cold process, spawn to answer (`cold`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.bench.common import (
    GOALS,
    SEED,
    BenchError,
    child_settings,
    pct,
    peak_rss_mb,
    record,
)
from assistant.bench.corpus import questions


def measure(params: dict) -> dict:
    """Warm Assistant.ask with the extractive generator: p50/p95 and where the time goes, first
    with every retrieved passage analysed for the first time (as after an ingest), then, once
    every chunk has been analysed (the analysis's own chunks/s), on other questions."""
    import assistant.store as store_module
    from assistant.pipeline import Assistant
    from assistant.retrieve import Retriever

    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    n = params["questions"]
    qs = questions(2 * n + 1, seed=SEED + 2)
    bot.ask(qs[0])
    runs: list[float] = []
    record(Retriever, "run", runs)  # how many retrievals one ask makes (follow-ups retrieve)
    version = store_module.ANALYSIS_VERSION
    try:
        # Each question sees every stored analysis as another version's: all it retrieves is
        # analysed as if for the first time, and stored (under that question's own version).
        first = _timed(bot, qs[1:n + 1], runs, lambda i: setattr(
            store_module, "ANALYSIS_VERSION", f"{version}/bench-{i}"))
    finally:
        store_module.ANALYSIS_VERSION = version
    analysed = analyse_index(bot.retriever.store)
    data = _timed(bot, qs[n + 1:], runs)
    first["p50_met"] = first["p50_ms"] <= GOALS["ask_first_analysis_p50_ms_max"]
    return {**data, "p50_met": data["p50_ms"] <= GOALS["ask_p50_ms_max"],
            "first_analysis": first, "analysis": analysed, "peak_rss_mb": peak_rss_mb()}


def _timed(bot, qs: list[str], runs: list[float], before=lambda i: None) -> dict:
    total, cpu, stages, statuses, per_ask = [], [], {}, {}, []
    first_run = len(runs)
    for i, q in enumerate(qs):
        before(i)
        count = len(runs)
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = bot.ask(q)
        total.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        per_ask.append(len(runs) - count)
        for k, v in answer.timings.items():
            stages.setdefault(k, []).append(v)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    return {"questions": len(total), "p50_ms": pct(total, 50), "p95_ms": pct(total, 95),
            "cpu_p50_ms": pct(cpu, 50),
            "stages_p50_ms": {k: pct(v, 50) for k, v in stages.items() if k != "total"},
            "stages_p95_ms": {k: pct(v, 95) for k, v in stages.items() if k != "total"},
            "retrievals_per_ask": {"p50": sorted(per_ask)[len(per_ask) // 2],
                                   "max": max(per_ask)},
            "retrieval_p50_ms": pct(runs[first_run:], 50), "statuses": statuses}


def analyse_index(store) -> dict:
    """Every chunk of the index analysed in one pass and stored, as ingest used to: the
    analysis's chunks/s (spaCy, the cost ingest no longer pays)."""
    from assistant.analysis import analyse
    from assistant.store import record_to_passage

    passages = [record_to_passage(pid, text, meta) for batch in store._all(
        ["documents", "metadatas"]) for pid, text, meta in zip(batch["ids"], batch["documents"],
                                                              batch["metadatas"])]
    started = time.perf_counter()
    for p, found in zip(passages, analyse([p.text for p in passages],
                                          [p.title for p in passages])):
        p.analysis = found
    seconds = time.perf_counter() - started
    store.save_analyses(passages)
    return {"chunks": len(passages), "seconds": round(seconds, 3),
            "chunks_per_s": round(len(passages) / seconds, 2)}


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

