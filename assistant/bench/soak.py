"""`groundwork bench --soak`: mixed load against one `groundwork serve` for a long stretch.

A server on a copy of the corpus and its index; N clients asking continuously (POST /api/ask,
demo questions in turn) and one uploader adding a small new document every so often the way the
page does it (Gradio's upload route, then the upload event through the queue), after which it
asks about that document. It answers what a short test cannot: whether a long-running server
keeps answering (0 failed), keeps its latency, and keeps its memory (RSS at the start and the
end) while documents are added under it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.bench.common import BenchError, child_env, pct, tree_memory_mb
from assistant.bench.report import machine_line, md_table
from assistant.procs import NotStarted, free_port, running, tail

# Asked in turn by the clients: answerable ones and ones the corpus does not document.
QUESTIONS = (
    "How many reports did the CyberTipline receive in 2023?",
    "How many CyberTipline escalations (urgent reports) led to arrests or prosecutions in 2023?",
    "How many urgent escalations were there in 2023?",
    "Which organisation runs the CyberTipline?",
    "Why were CyberTipline reports escalated as urgent in 2023?",
    "What does ESP stand for in CyberTipline reporting?",
    "What did the Stanford Internet Observatory find about duplicate CyberTipline reports?",
    "How many reports did the CyberTipline receive in 2022?",
    "What limits law enforcement's ability to act on every CyberTipline tip?",
    "What is NCMEC's annual budget?",
    "Who is legally required to report apparent CSAM to the CyberTipline in the United States?",
    "What percentage of CyberTipline reports in 2023 were duplicates?",
)
# The uploaded documents: one made-up lighthouse each, a name and a figure no other file holds.
_HEADS = ("Quill", "Varn", "Brisk", "Holl", "Marr", "Tams", "Orbel", "Wend")
_TAILS = ("moor", "holt", "wick", "stead", "ford", "combe", "ness", "thwaite")
RSS_EVERY_S = 5.0
REQUEST_TIMEOUT_S = 600  # more than the API's own queue timeout (300 s): it answers first


@dataclass
class Call:
    kind: str  # "ask" (a client), "upload", "check" (the uploader's question about its file)
    started: float  # seconds since the load began
    seconds: float
    ok: bool
    error: str = ""


def document(i: int) -> tuple[str, str, str, str]:
    """The i-th upload: (file name, text, question about it, the figure the answer must give)."""
    name = _HEADS[i % len(_HEADS)] + _TAILS[(i // len(_HEADS)) % len(_TAILS)]
    nights = f"{1000 + 37 * i:,}"
    text = (f"# The {name} lighthouse\n\nThe {name} lighthouse was lit {nights} nights in "
            f"2023, according to its keeper's log.\n")
    return (f"soak-{i:03d}-{name.lower()}.md", text,
            f"How many nights was the {name} lighthouse lit in 2023?", nights)


def ask(url: str, question: str) -> dict:
    """POST /api/ask; the Answer, or RuntimeError with the reason the server gave."""
    req = urllib.request.Request(url + "api/ask", data=json.dumps({"question": question}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as resp:  # noqa: S310
            answer = json.load(resp)
    except urllib.error.HTTPError as exc:
        reason = exc.read()[:200].decode(errors="replace")
        raise RuntimeError(f"HTTP {exc.code}: {reason}") from None
    if not answer.get("status") or not answer.get("summary"):
        raise RuntimeError(f"no answer in the reply: {json.dumps(answer)[:200]}")
    return answer


class PageUploader:
    """Adds a document as the page does: POST /gradio_api/upload (the file into Gradio's
    cache), then the upload event of the page's file component through the queue, whose reply
    is the result table. The event is private to the page, so it is found in /config by the
    component's elem_id."""

    def __init__(self, url: str, elem_id: str = "gw-files"):
        self.url = url
        with urllib.request.urlopen(url + "config", timeout=60) as resp:  # noqa: S310
            config = json.load(resp)
        component = next((c["id"] for c in config["components"]
                          if c.get("props", {}).get("elem_id") == elem_id), None)
        self.fn_index = next((d["id"] for d in config["dependencies"]
                              if [component, "upload"] in d.get("targets", [])), None)
        if component is None or self.fn_index is None:
            raise BenchError(f"the page has no upload event on #{elem_id}")
        self.component = component

    def _request(self, method: str, path: str, body: bytes, headers: dict):
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
        conn.request(method, path, body=body, headers=headers)
        return conn, conn.getresponse()

    def upload(self, name: str, content: bytes) -> str:
        """The result table's HTML; RuntimeError when a step is refused or the event fails."""
        boundary = uuid.uuid4().hex
        form = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{name}"\r\nContent-Type: text/markdown\r\n\r\n').encode() + content \
            + f"\r\n--{boundary}--\r\n".encode()
        conn, resp = self._request("POST", "/gradio_api/upload", form, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with contextlib.closing(conn):
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"upload route: HTTP {resp.status}: {data[:200]!r}")
            [cached] = json.loads(data)
        session = uuid.uuid4().hex
        file = {"path": cached, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
        join = {"data": [[file]],
                "fn_index": self.fn_index, "trigger_id": self.component, "session_hash": session,
                "event_data": None}
        conn, resp = self._request("POST", "/gradio_api/queue/join", json.dumps(join).encode(),
                                   {"Content-Type": "application/json"})
        with contextlib.closing(conn):
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"queue/join: HTTP {resp.status}: {data[:200]!r}")
        conn, resp = self._request("GET", f"/gradio_api/queue/data?session_hash={session}", b"",
                                   {"Accept": "text/event-stream"})
        with contextlib.closing(conn):
            for raw in resp:
                line = raw.decode(errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise RuntimeError(f"upload event failed: {json.dumps(output)[:200]}")
                    return str(output.get("data", [""])[0])
        raise RuntimeError("the queue's stream ended before the upload event completed")


def load(url: str, minutes: float, clients: int, upload_every_s: float, log) -> dict:
    """Clients and the uploader until `minutes` are up; every call, and what was uploaded."""
    calls: list[Call] = []
    lock = threading.Lock()
    t0 = time.perf_counter()
    deadline = t0 + minutes * 60
    uploads: list[dict] = []
    uploader = PageUploader(url)

    def timed(kind: str, fn):
        started = time.perf_counter()
        error, out = "", None
        try:
            out = fn()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        with lock:
            calls.append(Call(kind, round(started - t0, 3), time.perf_counter() - started,
                              not error, error))
        return out

    def client(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            question = QUESTIONS[i % len(QUESTIONS)]
            timed("ask", lambda q=question: ask(url, q))
            i += clients

    def add(name: str, text: str) -> str:
        table = uploader.upload(name, text.encode())
        if "ingested" not in table:
            raise RuntimeError(f"{name} not ingested: {table[-300:]}")
        return table

    def upload_loop() -> None:
        i = 0
        while (due := t0 + i * upload_every_s) < deadline:
            time.sleep(max(0.0, due - time.perf_counter()))
            name, text, question, figure = document(i)
            ingested = timed("upload", lambda n=name, t=text: add(n, t)) is not None
            answer = timed("check", lambda q=question: ask(url, q))
            answerable = bool(answer) and figure in answer.get("summary", "")
            uploads.append({"file": name, "at_s": round(due - t0, 1), "ingested": ingested,
                            "answerable": answerable,
                            "summary": (answer or {}).get("summary", "")[:200]})
            log(f"upload {i + 1}: {name} ingested={ingested} answerable={answerable}")
            i += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    threads.append(threading.Thread(target=upload_loop, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"calls": calls, "uploads": uploads, "seconds": round(time.perf_counter() - t0, 1)}


def summarise(calls: list[Call], uploads: list[dict], rss: list[tuple[float, float]]) -> dict:
    """Requests served and failed, p50/p95 per minute (by the minute a request started), RSS."""
    per_minute = []
    for minute in range(int(max((c.started for c in calls), default=0) // 60) + 1):
        inside = [c for c in calls if minute * 60 <= c.started < (minute + 1) * 60]
        asks = [c.seconds for c in inside if c.kind != "upload" and c.ok]
        per_minute.append({"minute": minute + 1, "requests": len(inside),
                           "failed": sum(not c.ok for c in inside),
                           "uploads": sum(c.kind == "upload" for c in inside),
                           "p50_ms": pct(asks, 50), "p95_ms": pct(asks, 95)})
    asks = [c.seconds for c in calls if c.kind != "upload" and c.ok]
    start, end = rss[0][1], rss[-1][1]
    return {"requests": len(calls), "served": sum(c.ok for c in calls),
            "failed": sum(not c.ok for c in calls),
            "asks": sum(c.kind != "upload" for c in calls),
            "p50_ms": pct(asks, 50), "p95_ms": pct(asks, 95), "max_ms": pct(asks, 100),
            "errors": sorted({c.error for c in calls if c.error})[:10],
            "uploads": len(uploads), "uploads_ingested": sum(u["ingested"] for u in uploads),
            "uploads_answerable": sum(u["answerable"] for u in uploads),
            "per_minute": per_minute,
            "rss_start_mb": start, "rss_end_mb": end,
            "rss_peak_mb": max(v for _, v in rss),
            "rss_growth": round((end - start) / start, 4) if start else None,
            "rss_samples": [[round(t, 1), v] for t, v in rss]}


def soak(corpus: Path, index: Path | None, minutes: float, clients: int, upload_every_s: float,
         work: Path, log) -> dict:
    """Copies the corpus (and `index`, or ingests the copy), serves it, loads it, reports."""
    env = child_env()
    corpus_copy, index_copy = work / "corpus", work / "index"
    shutil.copytree(corpus, corpus_copy)
    started = time.perf_counter()
    if index is not None:
        log(f"copying the index {index}")
        shutil.copytree(index, index_copy)
    else:
        log(f"ingesting a copy of {corpus}")
        done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus_copy),
                               "--index", str(index_copy)], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL, timeout=1800)
        if done.returncode != 0:
            raise BenchError(f"ingest failed: {(done.stdout + done.stderr)[-800:]}")
    prepared_s = time.perf_counter() - started
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log(f"starting groundwork serve on {url}")
    started = time.perf_counter()
    try:
        with running([sys.executable, "-m", "assistant.cli", "serve", "--index", index_copy,
                      "--corpus", corpus_copy, "--port", port, "--host", "127.0.0.1"],
                     work / "serve.log", url, env=env, limit_s=300) as proc:
            start_s = time.perf_counter() - started
            warm = time.perf_counter()
            ask(url, QUESTIONS[0])  # models and index loaded: the load measures answering
            warm_s = time.perf_counter() - warm
            rss: list[tuple[float, float]] = []
            stopped = threading.Event()
            t0 = time.perf_counter()

            def sample() -> None:
                while True:
                    rss.append((time.perf_counter() - t0, tree_memory_mb(proc.pid)))
                    if stopped.wait(RSS_EVERY_S):
                        return

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            log(f"{minutes:g} min: {clients} clients asking, an upload every {upload_every_s:g} s")
            try:
                result = load(url, minutes, clients, upload_every_s, log)
            finally:
                stopped.set()
                sampler.join()
            rss.append((time.perf_counter() - t0, tree_memory_mb(proc.pid)))
            if proc.poll() is not None:
                raise BenchError(f"the server exited with {proc.returncode}: "
                                 f"{tail(work / 'serve.log')}")
    except NotStarted as exc:
        raise BenchError(str(exc)) from None
    out = summarise(result["calls"], result["uploads"], rss)
    out.update(minutes=minutes, clients=clients, upload_every_s=upload_every_s,
               load_seconds=result["seconds"], prepare_seconds=round(prepared_s, 1),
               server_start_seconds=round(start_s, 1), first_answer_seconds=round(warm_s, 1),
               upload_results=result["uploads"])
    return out


def markdown(r: dict, command: str) -> str:
    growth = "-" if r["rss_growth"] is None else f"{r['rss_growth']:+.1%}"
    lines = ["## Soak: one `groundwork serve` under mixed load\n",
             f"`{command}`: {r['clients']} clients asking continuously (POST /api/ask), one "
             f"uploader adding a document every {r['upload_every_s']:g} s through the page's "
             f"upload route and asking about it, for {r['minutes']:g} min "
             f"({r['load_seconds']:.0f} s). Server start {r['server_start_seconds']:.1f} s, "
             f"first answer {r['first_answer_seconds']:.1f} s (before the clock starts).\n",
             md_table([("measure", "result", "goal"),
                     ("requests served / failed", f"{r['served']:,} / {r['failed']}", "0 failed"),
                     ("answers p50 / p95 / max", f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} / "
                      f"{r['max_ms']:.0f} ms", ""),
                     ("uploads ingested / answerable right after",
                      f"{r['uploads_ingested']}/{r['uploads']} / "
                      f"{r['uploads_answerable']}/{r['uploads']}", "all"),
                     ("server RSS start -> end (peak)",
                      f"{r['rss_start_mb']:.0f} -> {r['rss_end_mb']:.0f} MB, {growth} "
                      f"(peak {r['rss_peak_mb']:.0f} MB)", "growth < 10%")]), ""]
    if r["errors"]:
        lines += ["Errors: " + "; ".join(r["errors"]), ""]
    rows = [("minute", "requests", "failed", "uploads", "p50 ms", "p95 ms")]
    rows += [(str(m["minute"]), str(m["requests"]), str(m["failed"]), str(m["uploads"]),
              f"{m['p50_ms']:.0f}", f"{m['p95_ms']:.0f}") for m in r["per_minute"]]
    lines += ["Per minute (by when a request started; latencies of answers, uploads "
              "excluded):\n", md_table(rows), ""]
    return "\n".join(lines)


def run_cli(args, settings) -> int:
    from assistant.bench.runner import machine

    if args.minutes <= 0 or args.clients < 1 or args.upload_every <= 0:
        raise ValueError("--soak needs --minutes > 0, --clients >= 1 and --upload-every > 0")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = (f"groundwork bench --soak --minutes {args.minutes:g} --clients {args.clients} "
               f"--upload-every {args.upload_every:g}")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"soak [{time.perf_counter() - t0:6.0f} s] {msg}", file=sys.stderr, flush=True)

    report = {"machine": machine(), "command": command,
              "started": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="groundwork-soak-") as work:
        try:
            report["soak"] = soak(Path(args.corpus), args.index, args.minutes, args.clients,
                                  args.upload_every, Path(work), log)
        except BenchError as exc:
            report["soak"] = {"error": str(exc)}
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    (out / "report.json").write_text(json.dumps(report, indent=2))
    s = report["soak"]
    md = f"# groundwork bench --soak\n\nOn {machine_line(report['machine'])}.\n\n" + (
        f"error: {s['error']}\n" if "error" in s else markdown(s, command))
    (out / "report.md").write_text(md)
    print(json.dumps(report, indent=2) if args.json else md)
    print(f"bench: report in {out / 'report.md'} and {out / 'report.json'}", file=sys.stderr)
    ok = "error" not in s and s["failed"] == 0 and s["uploads_answerable"] == s["uploads"]
    return 0 if ok else 1
