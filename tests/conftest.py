"""Shared fixtures: the demo index (built once per session), a real `chroma run` server, fresh
per-test indexes, the `groundwork` CLI as a subprocess, `groundwork serve` as a server process,
and small PDF/DOCX builders.

Everything here is real: the packaged MiniLM embedder, embedded Chroma or a Chroma server, BM25.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from http.client import HTTPConnection, HTTPMessage
from pathlib import Path

import pytest

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.config import Settings
from assistant.procs import free_port, running

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
HEADLINE = ("How many CyberTipline escalations (urgent reports) led to arrests or prosecutions "
            "in 2023?")
BIN = Path(sys.executable).parent
GROUNDWORK = BIN / "groundwork"
CHROMA = BIN / "chroma"
# The longest files first, longest first (their seconds in a `make test`, 2026-12-07): the two
# workers of `make test` take files as they free up, so no long file is left to run alone at the
# end.
LONGEST_FIRST = ("test_bench.py",  # 126: one quick bench run
                 "test_evaluate.py",  # 111: the eval gate over every shipped case
                 "test_ingest.py", "test_index_reliability.py", "test_ui.py", "test_hostile.py",
                 "test_api.py", "test_verify.py", "test_soak.py", "test_models.py",
                 "test_answer.py", "test_retrieve.py", "test_server.py")  # 105 down to 12


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept


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
    """The demo corpus ingested once per session into a temp index (embedded Chroma).

    The xdist workers share the ingest (7 s of CPU): the first one here builds it, under a
    file lock, in the session's folder above the workers' own; nothing opens that build
    again, and each worker answers from a copy of its own, as if it had ingested the corpus
    itself (asking stores analyses, and a copy of a store being written would be torn).
    """
    import shutil

    from assistant.ingest import ingest
    from assistant.procs import file_lock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    built = shared / "demo-built"
    with file_lock(shared / "demo-built.lock", exclusive=True):
        if not (built / "done").exists():
            report = ingest([CORPUS], Settings.load(index_dir=built / "index"), progress=False)
            assert report.files_failed == [], report.summary()
            assert report.files_ingested >= 10 and report.chunks_total > 0, report.summary()
            (built / "done").write_text(report.summary())
    index = tmp_path_factory.mktemp("demo") / "index"
    shutil.copytree(built / "index", index)
    return Settings.load(index_dir=index)


@pytest.fixture(scope="session")
def eval_indexes(tmp_path_factory) -> Path:
    """One folder for every eval run of the session (`evaluate(workdir=)`, `eval --index`): each
    case set is ingested once, by whichever test evaluates it first."""
    return tmp_path_factory.mktemp("eval-indexes")


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


# -- a real Chroma server ---------------------------------------------------------------------


@contextlib.contextmanager
def chroma_run(data: Path, port: int, db: Path | None = None) -> Iterator[subprocess.Popen]:
    """`chroma run` on 127.0.0.1:`port` storing under `data` (or serving the database `db`)
    until the block ends; the same folder and port again make the same server after a kill
    (each start logs to its own file)."""
    assert CHROMA.exists(), f"chroma CLI not found at {CHROMA}"
    data.mkdir(parents=True, exist_ok=True)
    log = data / f"server-{len(list(data.glob('server-*.log')))}.log"
    with running([CHROMA, "run", "--path", db or data / "db", "--host", "127.0.0.1", "--port",
                  port],
                 log, f"http://127.0.0.1:{port}/api/v2/heartbeat", env=subprocess_env(),
                 limit_s=60) as proc:
        yield proc


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A `chroma run` server on a free port for the session; yields its http://HOST:PORT."""
    port = free_port()
    with chroma_run(tmp_path_factory.mktemp("chroma-server"), port):
        yield f"http://127.0.0.1:{port}"


# -- an LLM that says what it is told ----------------------------------------------------------


@contextlib.contextmanager
def scripted_llm(reply) -> Iterator[str]:
    """An OpenAI-compatible endpoint on 127.0.0.1 whose model answers every chat with `reply`,
    or with `reply(prompt)` when it is a function of the last message (streamed in small pieces
    when asked): a model that misstates the sources on purpose. Yields its base URL (".../v1")."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = reply(body["messages"][-1]["content"]) if callable(reply) else reply
            self.send_response(200)
            if not body.get("stream"):
                data = json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                                   "model": "scripted", "choices": [{
                                       "index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": text}}]})
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data.encode())
                return
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for k in range(0, len(text), 40):
                delta = {"role": "assistant", "content": text[k:k + 40]}
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0,
                         "model": "scripted",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# -- `groundwork serve` -----------------------------------------------------------------------


@contextlib.contextmanager
def groundwork_serve(work: Path, index_dir: Path, corpus: Path | None = None,
                     **env: str) -> Iterator[dict]:
    """`groundwork serve` on a free port over `index_dir` until the block ends, with `env` added
    (GROUNDWORK_UI_PASSWORD, GROUNDWORK_API_KEY, ...); yields its url, port, log and corpus."""
    corpus = corpus or work / "corpus"
    port = free_port()
    log = work / f"serve-{port}.log"
    url = f"http://127.0.0.1:{port}/"
    with running([GROUNDWORK, "serve", "--index", index_dir, "--corpus", corpus, "--port", port],
                 log, url, env=subprocess_env(**env), cwd=work) as proc:
        yield {"url": url, "port": port, "log": log, "corpus": corpus, "proc": proc}


# The guarded server's secrets, and a word only its one added document holds.
PASSWORD, KEY = "open sesame", "k3y-for-tests"
MARKER = "Quillmoor"


@pytest.fixture(scope="session")
def guarded(demo_index, tmp_path_factory):
    """`groundwork serve` behind both secrets (GROUNDWORK_UI_PASSWORD and GROUNDWORK_API_KEY),
    one for the session's guard tests (every route in test_server, the sign-in in test_ui): a
    copy of the demo index plus one MARKER document, so that a leak of any document's text
    shows and the demo questions are answered once signed in."""
    import shutil

    from assistant.ingest import ingest

    work = tmp_path_factory.mktemp("guarded")
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "quillmoor.md").write_text(f"# {MARKER} lighthouse\n\nThe {MARKER} lighthouse "
                                         "was lit 4,812 nights in 2023.\n")
    index = work / "index"
    shutil.copytree(demo_index.index_dir, index)
    report = ingest([corpus], demo_index.replace(index_dir=index), progress=False)
    assert report.files_ingested == 1, report.summary()
    with groundwork_serve(work, index, corpus, GROUNDWORK_UI_PASSWORD=PASSWORD,
                          GROUNDWORK_API_KEY=KEY) as served:
        served["index"] = index
        yield served


def request(url: str, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes, HTTPMessage]:
    """One request to a server under test, the path sent exactly as given (`..` included):
    (status, body, headers), whatever the status."""
    parts = urllib.parse.urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=180)  # a first answer loads models
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, b"" if method == "HEAD" else resp.read(), resp.headers
    finally:
        conn.close()


def post(url: str, path: str, body, headers: dict | None = None) -> tuple[int, dict | str]:
    """(status, the JSON reply or the event stream's text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, reply, answered = request(url, "POST", path, data, headers)
    kind = answered["Content-Type"] or ""
    return status, json.loads(reply) if kind.startswith("application/json") else reply.decode()


def sign_in(url: str, password: str, user: str = "groundwork") -> tuple[int, str]:
    """POST /login as the UI's sign-in form does: (status, the Cookie header of the session)."""
    form = urllib.parse.urlencode({"username": user, "password": password}).encode()
    status, _, headers = request(url, "POST", "/login", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
    return status, "; ".join(c.split(";")[0] for c in headers.get_all("set-cookie") or [])


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


def xlsx_bytes(sheets: dict[str, list[list]], formats: dict[str, str] | None = None,
               hidden: tuple[str, ...] = ()) -> bytes:
    """A real XLSX (openpyxl): rows per sheet name; `formats` maps "Sheet!B3" to a number
    format; sheets named in `hidden` are hidden."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    for where, fmt in (formats or {}).items():
        name, cell = where.rsplit("!", 1)
        book[name][cell].number_format = fmt
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def docx_table_bytes(blocks: list[str | list[list[str]]]) -> bytes:
    """A real DOCX whose blocks are paragraphs (str) or tables (rows of cell texts)."""
    import docx

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        table = document.add_table(rows=len(block), cols=len(block[0]))
        for r, row in enumerate(block):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def pdf_table_bytes(pages: list[list[str | list[list[str]]]], ruled: bool = True) -> bytes:
    """A real PDF (reportlab) whose pages hold paragraphs (str) and tables (rows of cells):
    ruled tables have grid lines, the others only columns that line up."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    style = getSampleStyleSheet()["Normal"]
    story = []
    for k, blocks in enumerate(pages):
        if k:
            story.append(PageBreak())
        for block in blocks:
            if isinstance(block, str):
                story += [Paragraph(block, style), Spacer(1, 6)]
            else:
                grid = [("GRID", (0, 0), (-1, -1), 0.5, "black")] if ruled else []
                story += [Table(block, style=grid + [("ALIGN", (1, 0), (-1, -1), "RIGHT")]),
                          Spacer(1, 8)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)
    return buf.getvalue()


@pytest.fixture(scope="session")
def builders():
    """Document builders for tests in any module: builders.pdf / .encrypt_pdf / .docx /
    .xlsx / .docx_tables / .pdf_tables."""

    class Builders:
        pdf = staticmethod(pdf_bytes)
        encrypt_pdf = staticmethod(encrypt_pdf)
        docx = staticmethod(docx_bytes)
        xlsx = staticmethod(xlsx_bytes)
        docx_tables = staticmethod(docx_table_bytes)
        pdf_tables = staticmethod(pdf_table_bytes)

    return Builders
