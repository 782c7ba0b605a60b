"""The CLI as a user starts it: `groundwork --help` and `groundwork ask` from new processes, wall
time to their output, and where the ask's imports go (`python -X importtime`). The full bench
asks on the demo index when this is a source checkout (what the README's figure is about); the
quick one, and an installed package, on the ingest section's index."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from assistant.bench.common import GOALS, SEED, BenchError, pct
from assistant.bench.corpus import questions

DEMO_CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DEMO_QUESTION = "How many CyberTipline reports were made in 2023?"


def section(bench) -> dict:
    index, question, label = bench.index, questions(1, seed=SEED + 3)[0], "the bench corpus"
    if bench.plan.full and DEMO_CORPUS.is_dir():
        index, question, label = bench.work / "demo-index", DEMO_QUESTION, "the demo index"
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(DEMO_CORPUS),
                               "--index", str(index), "--json"], capture_output=True, text=True,
                              env=bench.env, timeout=900, stdin=subprocess.DEVNULL)
        if proc.returncode:
            raise BenchError(f"ingesting the demo corpus failed: {proc.stderr[-800:]}")
    elif "error" in bench.report.get("ingest", {}):
        raise BenchError("needs the ingest section's index")
    bench.log(f"start-up: --help and ask as new processes on {label}")
    data = cli_startup(bench.env, index, question, 5 if bench.plan.full else 1)
    data["index"] = label
    data["help_met"] = data["help_seconds"] <= GOALS["help_seconds_max"]
    data["ask_met"] = data["ask_seconds"] <= GOALS["cold_ask_seconds_max"]
    return data


def cli_startup(env: dict, index: Path, question: str, runs: int) -> dict:
    """p50 of `runs` wall times of each command, and the ask's costliest imports."""
    script = Path(sys.executable).parent / "groundwork"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]

    def wall(args: list[str], **extra: str) -> tuple[float, subprocess.CompletedProcess]:
        started = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True, env={**env, **extra},
                              timeout=600, stdin=subprocess.DEVNULL)
        if proc.returncode:
            raise BenchError(f"{' '.join(args[:3])} failed: {proc.stderr[-800:]}")
        return time.perf_counter() - started, proc

    help_runs = [wall([*cli, "--help"])[0] for _ in range(runs)]
    ask = [*cli, "ask", question, "--index", str(index)]
    ask_runs = [wall(ask)[0] for _ in range(runs)]
    _, traced = wall([sys.executable, "-X", "importtime", "-m", "assistant.cli", "ask", question,
                      "--index", str(index)])
    return {"runs": runs, "help_seconds": round(pct(help_runs, 50) / 1000, 3),
            "ask_seconds": round(pct(ask_runs, 50) / 1000, 3),
            "ask_runs": [round(x, 2) for x in ask_runs],
            "imports": top_imports(traced.stderr)}


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
