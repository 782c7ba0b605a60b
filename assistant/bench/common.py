"""What every section shares: the constants and goals, the plan (how much of each section, from
the sizes asked for), the error a section reports, the settings a child gets, and the small
measuring helpers (percentiles, peak memory, per-call durations)."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import resource
import time
from dataclasses import dataclass, fields
from pathlib import Path

from assistant.config import Settings

SEED = 1729
DIM = 384
CONCURRENT = 50
ADD_BATCH = 5000  # Chroma refuses much larger add() batches
FULL_SCALE = 10_000  # a largest size at or above this runs the full bench
MIN_INGEST_CHUNKS = 40  # two files of the generated corpus: the least that fills every row
GOALS = {"ingest_ratio_min": 0.8, "reingest_fraction_max": 0.02, "retrieval_p50_ms_max": 30.0,
         "retrieval_goal_size": 100_000, "help_seconds_max": 0.5, "cold_ask_seconds_max": 2.5,
         "ask_p50_ms_max": 250.0, "ask_first_analysis_p50_ms_max": 600.0}


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
                   ingest_chunks=min(max(max(sizes), MIN_INGEST_CHUNKS), 2000),
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


def settings_fields(settings: Settings) -> dict:
    """The settings a child process needs (never the API key), as JSON-able values."""
    skip = {"openai_api_key", "index_dir", "chroma_url", "collection"}
    return {f.name: (str(v) if isinstance(v := getattr(settings, f.name), Path) else v)
            for f in fields(settings) if f.name not in skip}


def child_env() -> dict[str, str]:
    """The environment of the bench's children and servers: this one without the access
    secrets (the servers it starts are open on loopback), offline, no telemetry."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GROUNDWORK_UI_PASSWORD", "GROUNDWORK_UI_USER", "GROUNDWORK_API_KEY")}
    env.update(TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    return env


def child_settings(params: dict, **where) -> Settings:
    values = dict(params["settings"], generator="extractive")
    return Settings().replace(**values, **where)


# -- measuring ----------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), values in seconds -> milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return round(ordered[rank] * 1000, 2)


def tree_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, read before stopping it."""
    return tree_memory_mb(pid, "VmHWM")


def tree_memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of /proc/PID/status (VmRSS now, VmHWM the peak) summed over a process
    and its children."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return round(total / 1024, 1)


def record(owner, attr: str, sink: list):
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
