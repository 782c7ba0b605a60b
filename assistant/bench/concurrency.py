"""CONCURRENT questions released at the same moment by a barrier, three ways: threads asking one
`Assistant` in process (`python_api`), and clients of one `groundwork serve`: POST /api/ask
(`http_api`) and the UI's queue through gradio_client (`ui_queue`). Answered = a non-error answer
came back; the served answers are also compared with the in-process ones for the same question.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.bench.common import (
    CONCURRENT,
    SEED,
    BenchError,
    child_settings,
    pct,
    peak_rss_mb,
    tree_peak_mb,
)
from assistant.bench.corpus import questions
from assistant.procs import free_port


def _at_once(ask: Callable[[str], object], timeout: float):
    """Each question in a thread of its own, all released together: ([(question, seconds,
    result)], [errors of those that raised], wall seconds)."""
    qs = questions(CONCURRENT, seed=SEED + 4)
    gate = threading.Barrier(len(qs))

    def one(q: str):
        gate.wait()
        started = time.perf_counter()
        out = ask(q)
        return q, time.perf_counter() - started, out

    started = time.perf_counter()
    results, errors = [], []
    with ThreadPoolExecutor(max_workers=len(qs)) as pool:
        for future in [pool.submit(one, q) for q in qs]:
            try:
                results.append(future.result(timeout=timeout))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return results, errors, time.perf_counter() - started


def _latency(results) -> dict:
    return {"latency_p50_ms": pct([s for _, s, _ in results], 50),
            "latency_max_ms": pct([s for _, s, _ in results], 100)}


def python_api(params: dict) -> dict:
    """CONCURRENT threads ask one Assistant at the same moment."""
    from assistant.pipeline import Assistant

    settings = child_settings(params, index_dir=Path(params["index"]))
    bot = Assistant(settings)
    bot.ask(questions(1, seed=SEED + 3)[0])  # models loaded: the wave measures answering
    results, errors, wall = _at_once(bot.ask, params["timeout"])
    answered = [a for _, _, a in results if a.summary and a.status]
    return {"questions": CONCURRENT, "answered": len(answered),
            "dropped": CONCURRENT - len(answered), "errors": errors[:5],
            "seconds": round(wall, 3), **_latency(results),
            "summaries": {a.question: a.summary for _, _, a in results},
            "peak_rss_mb": peak_rss_mb()}


def _served(params: dict, ask: Callable[[str], object], endpoint: str) -> dict:
    """A wave against the server: each answer a dict, {"error": ...} when refused."""
    results, errors, wall = _at_once(ask, params["timeout"])
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
    return {"endpoint": endpoint, "questions": CONCURRENT, "answered": answered,
            "dropped": CONCURRENT - answered, "errors": errors[:5], "seconds": round(wall, 3),
            "same_answer_as_api": same, **_latency(results), "client_peak_rss_mb": peak_rss_mb()}


def http_api(params: dict) -> dict:
    """CONCURRENT questions at once as POST /api/ask, a connection each."""
    url = params["url"] + "api/ask"

    def ask(q: str) -> dict:
        request = urllib.request.Request(url, data=json.dumps({"question": q}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=params["timeout"]) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            return {"error": f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}"}

    return _served(params, ask, "/api/ask")


def ui_queue(params: dict) -> dict:
    """CONCURRENT questions at once through the UI's queue (its `ask` API endpoint)."""
    from gradio_client import Client

    # As patient as the HTTP wave's clients: gradio_client's own 5 s for joining the queue
    # would count a slow join on a busy machine as a dropped question.
    client = Client(params["url"], verbose=False, max_workers=CONCURRENT + 2,
                    download_files=False, analytics_enabled=False,
                    httpx_kwargs={"timeout": params["timeout"]})
    api = client.view_api(print_info=False, return_format="dict") or {}
    named = api.get("named_endpoints", {})
    endpoint = "/ask" if "/ask" in named else next(iter(named), None)
    if endpoint is None:
        raise BenchError("the UI exposes no named API endpoint")
    first = named[endpoint]["parameters"][0]["parameter_name"]
    return _served(params, lambda q: client.predict(api_name=endpoint, **{first: q}), endpoint)


def section(bench) -> dict:
    if "error" in bench.report.get("ingest", {}):
        raise BenchError("needs the ingest section's index")
    bench.log(f"{CONCURRENT} questions at once through the Python API")
    out = {}
    try:
        out["api"] = bench.child("concurrent_api", {"index": str(bench.index), "timeout": 900},
                                 timeout=1200)
    except BenchError as exc:
        out["api"] = {"error": str(exc)}
    params = {"timeout": 900, "summaries": out["api"].pop("summaries", {})}
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    try:
        started = time.perf_counter()
        with bench.server([sys.executable, "-m", "assistant.cli", "serve", "--index", bench.index,
                           "--port", port, "--host", "127.0.0.1", "--corpus",
                           bench.work / "ui-uploads"], "serve", url, limit_s=180) as proc:
            out["server"] = {"start_seconds": round(time.perf_counter() - started, 2)}
            for key, phase, how in (("ui", "concurrent_ui", "the UI's queue"),
                                    ("http", "concurrent_http", "POST /api/ask")):
                bench.log(f"{CONCURRENT} questions at once through {how}")
                try:
                    out[key] = bench.child(phase, {**params, "url": url}, timeout=1200)
                except BenchError as exc:
                    out[key] = {"error": str(exc)}
            out["server"]["peak_rss_mb"] = tree_peak_mb(proc.pid)
    except BenchError as exc:  # the server did not start
        out["ui"] = out["http"] = {"error": str(exc)}
    return out
