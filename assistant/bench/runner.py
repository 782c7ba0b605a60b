"""The parent: writes the corpus, runs each section in order (each measurement in a child process
of its own, servers around them), and writes the report. `child_main` is the child's side."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.bench import ask, concurrency, encoder, ingest, retrieval, startup
from assistant.bench.common import (
    GOALS,
    BenchError,
    Plan,
    child_env,
    parse_sizes,
    settings_fields,
)
from assistant.bench.corpus import write_corpus
from assistant.bench.report import markdown
from assistant.config import Settings
from assistant.procs import NotStarted, running, stop, tail

# What `python -m assistant.bench --phase NAME` runs in the child.
PHASES = {"encoder": encoder.measure, "ingest": ingest.measure, "build": retrieval.build,
          "retrieve": retrieval.measure, "ask": ask.measure, "cold": ask.cold,
          "concurrent_api": concurrency.python_api, "concurrent_ui": concurrency.ui_queue,
          "concurrent_http": concurrency.http_api}
SECTIONS = {"encoder": encoder.section, "ingest": ingest.section,
            "retrieval": retrieval.section, "ask": ask.section, "startup": startup.section,
            "concurrency": concurrency.section}


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.bench")
    parser.add_argument("--phase", choices=sorted(PHASES), required=True)
    parser.add_argument("--params", type=Path, required=True)
    args = parser.parse_args(argv)
    params = json.loads(args.params.read_text())
    result = PHASES[args.phase](params)
    Path(params["result"]).write_text(json.dumps(result))
    return 0


class Bench:
    """What the sections share: the plan, the work folder, the report so far, the children's
    environment, and how to start a child or a server."""

    def __init__(self, settings: Settings, plan: Plan, work: Path, log=None, keep=False):
        self.settings = settings
        self.keep = keep  # the work folder outlives the run: stores built in it are reused
        self.plan = plan
        self.work = work
        self.corpus = work / "corpus"
        self.index = work / "ingest-index"
        t0 = time.perf_counter()
        self.log = log or (lambda msg: print(f"bench [{time.perf_counter() - t0:6.0f} s] {msg}",
                                             file=sys.stderr, flush=True))
        self.calls = 0
        self.report: dict = {}
        self.env = child_env()

    def child(self, phase: str, params: dict, timeout: float) -> dict:
        """Run one PHASES entry in a new process; its result, or BenchError with its log."""
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
    def server(self, args: list, name: str, ready_url: str, limit_s: float = 120):
        """A server process (log `name`.log in the work folder) once `ready_url` answers."""
        try:
            with running(args, self.work / f"{name}.log", ready_url, env=self.env,
                         limit_s=limit_s) as proc:
                yield proc
        except NotStarted as exc:
            raise BenchError(str(exc)) from None

    def section(self, key: str) -> None:
        started = time.perf_counter()
        try:
            self.report[key] = SECTIONS[key](self)
        except BenchError as exc:
            self.log(f"{key} failed: {exc}")
            self.report[key] = {"error": str(exc)}
        self.report.setdefault("section_seconds", {})[key] = round(time.perf_counter() - started, 1)

    def run(self, sections: list[str] | None = None) -> dict:
        from assistant.models import embedder_path

        s, plan = self.settings, self.plan
        self.report.update(machine=machine(), plan=asdict(plan), goals=GOALS,
                           started=datetime.now(UTC).isoformat(timespec="seconds"),
                           settings={"embed_model": Path(embedder_path(s.embed_model)).name,
                                     "embed_batch_size": s.embed_batch_size,
                                     "chunk_tokens": s.chunk_tokens, "top_k": s.top_k,
                                     "candidates": s.candidates, "generator": "extractive"})
        started = time.perf_counter()
        self.log(f"writing a corpus of about {plan.ingest_chunks} chunks")
        texts = write_corpus(self.corpus, plan.ingest_chunks, s)
        (self.work / "chunks.json").write_text(json.dumps(texts))
        for key in sections or SECTIONS:
            self.section(key)
        self.report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        self.report["seconds"] = round(time.perf_counter() - started, 1)
        return self.report


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


def run_cli(args, settings: Settings) -> int:
    sizes = parse_sizes(args.sizes)
    plan = Plan.from_sizes(sizes)
    sections = [s.strip() for s in args.sections.split(",")] if args.sections else None
    if unknown := set(sections or ()) - set(SECTIONS):
        raise ValueError(f"--sections: no such section {', '.join(sorted(unknown))}; "
                         f"there are {', '.join(SECTIONS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = (f"groundwork bench --sizes {','.join(map(str, plan.sizes))} --out {out}"
               + (f" --sections {','.join(sections)}" if sections else "")
               + (f" --work {args.work}" if args.work else "")
               + (" --json" if args.json else ""))
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(args.work) if args.work
          else tempfile.TemporaryDirectory(prefix="groundwork-bench-")) as work:
        report = Bench(settings, plan, Path(work), keep=bool(args.work)).run(sections)
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
