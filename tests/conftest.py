"""Shared fixtures: the demo index (built once per session), a real `chroma run` server, fresh
per-test indexes, the `groundwork` CLI as a subprocess, and small PDF/DOCX builders.

Everything here is real: the packaged MiniLM embedder, embedded Chroma or a Chroma server, BM25.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
HEADLINE = ("How many CyberTipline escalations (urgent reports) led to arrests or prosecutions "
            "in 2023?")
BIN = Path(sys.executable).parent
GROUNDWORK = BIN / "groundwork"
CHROMA = BIN / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test process's environment minus GROUNDWORK_* overrides, offline, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWORK_")}
    env.update(ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", GRADIO_ANALYTICS_ENABLED="False")
    env.update(extra)
    return env


# -- settings and indexes ---------------------------------------------------------------------


@pytest.fixture
def make_settings(tmp_path):
    """make_settings(name="index", **overrides) -> Settings for a fresh index under tmp_path.

    Each distinct name is a separate index folder, so one test can build several.
    """

    def make(name: str = "index", **overrides) -> Settings:
        return Settings.load(index_dir=tmp_path / name, **overrides)

    return make


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory) -> Settings:
    """The demo corpus ingested once per session into a temp index (embedded Chroma)."""
    from assistant.ingest import ingest

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("demo") / "index")
    report = ingest([CORPUS], settings, progress=False)
    assert report.files_failed == [], report.summary()
    assert report.files_ingested >= 10 and report.chunks_total > 0, report.summary()
    return settings


# -- the CLI ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cli():
    """cli(*args, timeout=180, input=None, **env) -> CompletedProcess of the venv's `groundwork`
    script (`input` is its stdin)."""

    def run(*args, timeout: float = 180, cwd: Path | None = None, input: str | None = None,
            **env: str):
        return subprocess.run([str(GROUNDWORK), *map(str, args)], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd, input=input, env=subprocess_env(**env))

    return run


# -- a killed ingest ---------------------------------------------------------------------------


def files_done(manifest_path: Path, hashes: dict[str, str]) -> int:
    """Files whose manifest entry matches their current content (the manifest is atomic)."""
    try:
        entries = json.loads(manifest_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0
    return sum(1 for rel, h in hashes.items() if entries.get(rel, {}).get("hash") == h)


def kill_ingest_when(root: Path, index: Path, manifest: Path, target: int, delay: float,
                     log: Path, **env: str) -> tuple[bool, int]:
    """Run `groundwork ingest` and SIGKILL it once `target` files are done (+ delay).

    Returns (killed before finishing, files done at the kill).
    """
    hashes = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in root.rglob("*") if p.is_file()}
    with open(log, "ab") as err:
        proc = subprocess.Popen([str(GROUNDWORK), "ingest", str(root), "--index", str(index),
                                 "--json"], stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, env=subprocess_env(**env))
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            if files_done(manifest, hashes) >= target:
                time.sleep(delay)  # land inside the next file's embed/add/delete
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.003)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = files_done(manifest, hashes)
    return proc.returncode == -signal.SIGKILL and done < len(hashes), done


# -- real servers ---------------------------------------------------------------------------


def wait_until_up(probe, proc: subprocess.Popen, log_path: Path, what: str,
                  timeout: float = 120) -> None:
    """Poll `probe()` until it returns True; fail with the log's tail if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n"
                        f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if probe():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up within {timeout:.0f} s:\n"
                        f"{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def start_chroma(data: Path, port: int) -> subprocess.Popen:
    """`chroma run` on 127.0.0.1:`port` storing into `data`, returned once it answers."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assert CHROMA.exists(), f"chroma CLI not found at {CHROMA}"
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / f"server-{port}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=subprocess_env())
    def up() -> bool:
        return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(
            anonymized_telemetry=False)).heartbeat() is not None

    wait_until_up(up, proc, log_path, "chroma run", 60)
    return proc


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A `chroma run` server on a free port for the session; yields its http://HOST:PORT."""
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, 10)


def start_serve(settings: Settings, corpus: Path, port: int, log_path: Path) -> subprocess.Popen:
    """`groundwork serve` over `settings`' index on 127.0.0.1:`port`, returned once it answers."""
    import urllib.request

    args = [str(GROUNDWORK), "serve", "--index", str(settings.index_dir), "--corpus", str(corpus),
            "--port", str(port)]
    if settings.chroma_url:
        args += ["--chroma-url", settings.chroma_url]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=log_path.parent,
                                env=subprocess_env(GROUNDWORK_COLLECTION=settings.collection))

    def up() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return resp.status == 200

    wait_until_up(up, proc, log_path, "groundwork serve", 180)
    return proc


# -- document builders ------------------------------------------------------------------------


def pdf_bytes(pages: list[list[str]], title: str | None = None) -> bytes:
    """A real PDF (reportlab) with one list of text lines per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle(title or "")  # reportlab's default title is "untitled"
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(56, y, line)
            y -= 14
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes, user_password: str, owner_password: str | None = None) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(paragraphs: list[str], heading: str | None = None,
               core_title: str | None = None) -> bytes:
    """A real DOCX (python-docx) with an optional level-1 heading first."""
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="session")
def builders():
    """Document builders for tests in any module: builders.pdf / .encrypt_pdf / .docx."""

    class Builders:
        pdf = staticmethod(pdf_bytes)
        encrypt_pdf = staticmethod(encrypt_pdf)
        docx = staticmethod(docx_bytes)

    return Builders
