"""The chat UI: safe uploads and error handling in-process, then `groundwork serve` in a real
headless Chromium driven by selenium (ask, click [n], follow a follow-up, upload a document).

Everything is real: the demo corpus ingested into a temp index, the venv's `groundwork` script as
a subprocess, Debian's chromium and chromedriver. Without chromium the browser tests skip, or fail
when CI=true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import CORPUS, HEADLINE, PASSWORD, groundwork_serve, sign_in

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.config import Settings
from assistant.engine import EMPTY_INDEX, Engine
from assistant.procs import free_port
from assistant.render import MAY_ANSWER
from assistant.types import Answer, Citation, Claim
from assistant.ui import ChatHandlers, build_app
from assistant.ui.render import answer_html, sources_html
from assistant.ui.uploads import UploadRefused, safe_filename, safe_target, save_upload

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def last_message(history: list) -> str:
    content = history[-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(demo_index, tmp_path_factory) -> Settings:
    """A copy of the session's demo index for this module (the server adds to it): an index is
    its folder, so copying it is the same as ingesting the demo corpus again, in a second."""
    target = tmp_path_factory.mktemp("ui") / "index"
    shutil.copytree(demo_index.index_dir, target)
    return demo_index.replace(index_dir=target)


@pytest.fixture(scope="module")
def engine(index) -> Engine:
    return Engine(index)


@pytest.fixture(scope="module")
def server(index, tmp_path_factory):
    """`groundwork serve` on a free port over the module's index; uploads go to a corpus copy."""
    work = tmp_path_factory.mktemp("serve")
    shutil.copytree(CORPUS, work / "corpus")
    with groundwork_serve(work, index.index_dir, work / "corpus") as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; skipped when it is not installed (a failure when CI=true)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = (f"browser tests need {' and '.join(missing)}: apt-get install chromium "
                   "chromium-driver")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gw-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1600,1000",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# -- safe uploads (no browser) ------------------------------------------------------------------


@pytest.mark.parametrize("name, saved", [
    ("../../etc/passwd.md", "passwd.md"),
    ("/etc/passwd.md", "passwd.md"),
    ("C:\\Users\\me\\..\\report.pdf", "report.pdf"),
    ("..\\..\\boot.ini.txt", "boot.ini.txt"),
    ("my report (final).docx", "my_report_final.docx"),
    (".hidden.md", "hidden.md"),
    ("Notes.MD", "Notes.md"),
    ("r\u00e9sum\u00e9.md", "r\u00e9sum\u00e9.md"),
    ("..\uff0f..\uff0fwide.md", "wide.md"),  # fullwidth solidus: a slash after NFKC
    ("a;rm -rf *;b.html", "a_rm_-rf_b.html"),
])
def test_upload_names_are_reduced_to_a_safe_basename(tmp_path, name, saved):
    assert safe_filename(name) == saved
    target = safe_target(tmp_path, name)
    assert target.parent == tmp_path.resolve() and target.name == saved


@pytest.mark.parametrize("name, reason", [
    ("..", "unsupported file type"),
    ("../", "unsupported file type"),
    ("", "unsupported file type"),
    ("..md", "no usable file name"),
    (".md", "no usable file name"),
    ("tool.exe", "unsupported file type '.exe'"),
    ("archive.tar.gz", "unsupported file type '.gz'"),
    ("README", "unsupported file type '(none)'"),
    ("report.md\x00.exe", "unsupported file type '.exe'"),
    ("___.md", "no usable file name"),
])
def test_unusable_upload_names_are_refused(tmp_path, name, reason):
    with pytest.raises(UploadRefused, match=re.escape(reason)):
        safe_target(tmp_path, name)


def test_save_upload_stays_inside_the_corpus_folder(tmp_path):
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "upload"
    corpus.mkdir()
    elsewhere.mkdir()
    src = elsewhere / "x.md"
    src.write_text("# Traversal\n\nThis file tried to climb out of the corpus folder.\n")
    target, note = save_upload(src, "../../etc/passwd.md", corpus, max_mb=1)
    assert target == (corpus / "passwd.md").resolve() and target.read_text() == src.read_text()
    assert note == ""
    assert sorted(p.name for p in corpus.iterdir()) == ["passwd.md"]  # no temp file left
    assert not (tmp_path / "etc").exists()
    src.write_text("# Traversal\n\nA second version of the file.\n")
    _, note = save_upload(src, "passwd.md", corpus, max_mb=1)
    assert note == "replaced the file of the same name"


def test_save_upload_refuses_oversize_unreadable_and_symlinked_files(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    big = tmp_path / "big.md"
    big.write_text("word " * 1000)  # 5,000 bytes
    with pytest.raises(UploadRefused, match="over the 0.001 MB limit"):
        save_upload(big, "big.md", corpus, max_mb=0.001)
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    with pytest.raises(UploadRefused, match="empty file"):
        save_upload(empty, "empty.md", corpus, max_mb=1)
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(UploadRefused, match="binary"):
        save_upload(binary, "blob.txt", corpus, max_mb=1)
    (corpus / "link.md").symlink_to(tmp_path / "outside.md")
    with pytest.raises(UploadRefused, match="not a plain file"):
        save_upload(big, "link.md", corpus, max_mb=1)
    assert not (tmp_path / "outside.md").exists()
    assert sorted(p.name for p in corpus.iterdir()) == ["link.md"]


# -- rendering (no browser) ---------------------------------------------------------------------


def _citation(n: int, text: str, quote: str, start: int | None = None, **extra) -> Citation:
    start = text.find(quote) if start is None else start
    return Citation(n=n, passage_id=extra.pop("passage_id", f"p{n}"), source=f"doc{n}.md",
                    title=extra.pop("title", f"Doc {n}"), page=extra.pop("page", None),
                    quote=quote, quote_start=start, quote_end=start + len(quote), text=text,
                    start=0, end=len(text))


def test_answer_and_sources_render_from_the_answer_object_escaped():
    text = "Intro line.\nThe <b>fleet</b> had 41 ships in 2020. Other facts follow."
    quote = "The <b>fleet</b> had 41 ships in 2020."
    answer = Answer(
        question="How many ships <script>?", status="partial",
        summary="The fleet had 41 ships in 2020 [1].",
        claims=[Claim("The <b>fleet</b> had 41 ships in 2020.", [1], True, 1.0,
                      answers=["ships"]),
                Claim("How many crew: not documented in the sources.", [2], True, 1.0,
                      gap=True)],
        undocumented=["How many crew <i>served</i>"],
        citations=[_citation(1, text, quote, page=3, title="Fleet & <co>"),
                   _citation(2, text, "Other facts follow.", passage_id="p1"),
                   _citation(3, "Short.", "not in the passage")],
        follow_ups=["Where did the fleet sail?"])
    html = answer_html(answer, 4)
    assert "<script>" not in html and "&lt;b&gt;fleet&lt;/b&gt;" in html
    assert '<a class="gw-cite" href="#src-4-1"' in html and 'href="#src-4-2"' in html
    assert '<div class="gw-nd" role="note">' in html and "How many crew &lt;i&gt;" in html
    for heading in ("Executive summary", "1. What the sources state",
                    "2. What the sources do not document",
                    "3. Bottom line and reporting limitation", "Want to dive deeper?"):
        assert heading in html, heading
    assert "\n" not in html  # one HTML block for the chat's markdown

    panel = sources_html([(4, answer)])
    # [1] and [2] quote the same passage: one card, two highlighted spans, an anchor for [2].
    assert panel.count('class="gw-src"') == 2
    assert 'id="src-4-1"' in panel and 'id="src-4-2"' in panel and 'id="src-4-3"' in panel
    assert ('<mark class="gw-m-1" title="supports [1]">The &lt;b&gt;fleet&lt;/b&gt; had 41 '
            "ships in 2020.</mark>") in panel
    assert '<mark class="gw-m-2" title="supports [2]">Other facts follow.</mark>' in panel
    assert "Intro line. <mark" in panel  # a lone line break (PDF layout) shown as a space
    assert "page 3" in panel and "Fleet &amp; &lt;co&gt;" in panel
    assert "supporting words: <mark>not in the passage</mark>" in panel  # bad offsets: shown


ESCALATED = ("NCMEC staff escalated 63,892 CyberTipline reports to law enforcement as urgent in "
             "2023.")
CYBERTIPLINE = f"In 2023 the CyberTipline received 36.2 million reports. {ESCALATED}"


def unconfirmed_answer() -> Answer:
    """Escalations not confirmed (the claim's own words differ from its quote, as an LLM's
    would), arrests not documented: what the answer decision may return."""
    maybe = Claim("Escalations reached 63,892.", [1], True, 0.4,
                  answers=["how many reports were escalated"], unconfirmed=True)
    gap = Claim("how many led to arrests: not documented in the sources.", [], True, 0.0,
                gap=True)
    return Answer("How many reports were escalated, and how many led to arrests?", "unconfirmed",
                  "Not documented: the indexed sources do not answer this question.",
                  [maybe, gap], ["how many led to arrests"],
                  [_citation(1, CYBERTIPLINE, ESCALATED, title="CyberTipline 2023")],
                  unconfirmed=["how many reports were escalated"])


def test_a_one_fact_answer_is_one_sentence_with_its_citations_and_sources():
    fact = "In 2023 the CyberTipline received 36.2 million reports."
    answer = Answer("How many reports did the CyberTipline receive in 2023?", "answered",
                    fact[:-1] + " [1].", [Claim(fact, [1], True, 1.0, answers=["reports"])], [],
                    [_citation(1, CYBERTIPLINE, fact, title="CyberTipline 2023")])
    html = answer_html(answer, 1)
    assert html.count("36.2 million") == 1, html  # not summary, section and bottom line
    assert '<p class="gw-one"><span class="gw-claim">In 2023' in html
    assert 'href="#src-1-1"' in html and '<ul class="gw-srclist">' in html
    for heading in ("Executive summary", "1. What the sources state", "Bottom line"):
        assert heading not in html
    answer.status = "partial"  # a question with a part not answered keeps the full shape
    assert "Executive summary" in answer_html(answer, 1)


def test_an_unconfirmed_part_is_boxed_with_its_quote_never_as_the_answer():
    html = answer_html(unconfirmed_answer(), 2)
    assert '<div class="gw-status gw-status-unconfirmed">Not confirmed by your sources' in html
    box = html[html.index('<div class="gw-uc"'):html.index('<div class="gw-nd"')]
    assert "<strong>how many reports were escalated:</strong>" in box
    assert (f'{MAY_ANSWER}:</span> <q>{ESCALATED[:-1]}</q> <a class="gw-cite" '
            'href="#src-2-1"') in box
    assert "Escalations reached" not in html  # the source's words, not the claim's
    assert "What the sources may answer" not in html  # the box holds it: not repeated below
    assert "1. What the sources do not document" in html and '<div class="gw-nd"' in html


def test_a_cell_citation_shows_its_table_with_the_cell_and_headers_marked():
    from assistant.types import CellCitation

    rows = [["Glass (tonnes)", "188", "240"], ["Plastics <b>", "96", "n/a"]]
    cell = CellCitation(sheet="Collections 2023", caption="Recycling", row="Glass (tonnes)",
                        column="Q4", address="'Collections 2023'!C3", value="240",
                        unit="tonnes", columns=["Material", "Q1", "Q4"], rows=rows, at=[0, 2])
    cite = _citation(1, "Table 1: Recycling\nGlass (tonnes) — Q1: 188; Q4: 240", "Q4: 240")
    cite.cell = cell
    answer = Answer("How much glass in Q4?", "answered", "Glass (tonnes), Q4: 240 [1].",
                    [Claim("Glass (tonnes), Q4: 240.", [1], True, 1.0)], [], [cite])
    panel = sources_html([(1, answer)])
    assert '<caption>Recycling &middot; sheet Collections 2023</caption>' in panel
    assert ('<td class="gw-cell-hit gw-m-1" title="[1] &#x27;Collections 2023&#x27;!C3">'
            '<mark class="gw-m-1">240</mark></td>') in panel
    assert '<th scope="col" class="gw-head-hit">Q4</th>' in panel
    assert '<th scope="row" class="gw-head-hit">Glass (tonnes)</th>' in panel
    assert '<th scope="row">Plastics &lt;b&gt;</th>' in panel and "<td>n/a</td>" in panel
    assert panel.count("gw-cell-hit") == 1


def test_a_rewritten_follow_up_shows_the_question_answered():
    answer = Answer("How many of the reports were urgent in 2023?", "answered", "A [1].",
                    [Claim("A.", [1], True, 1.0)], [], [_citation(1, "A. More.", "A.")])
    assert "gw-answering" not in answer_html(answer, 1)  # asked on its own: nothing to show
    answer.asked = answer.question
    assert "gw-answering" not in answer_html(answer, 1)
    answer.asked = "And how many of <them> were urgent?"
    html = answer_html(answer, 2)
    assert ('<div class="gw-answering">Answering: How many of the reports were urgent in 2023?'
            "</div>") in html
    assert "&lt;them&gt;" not in html  # the standalone question is shown, not the typed words


def test_earlier_answers_sources_stay_reachable():
    first = Answer("Q one?", "answered", "A [1].", [Claim("A.", [1], True, 1.0)], [],
                   [_citation(1, "A. More.", "A.")])
    second = Answer("Q two?", "answered", "B [1].", [Claim("B.", [1], True, 1.0)], [],
                    [_citation(1, "B. More.", "B.")])
    panel = sources_html([(1, first), (2, second)])
    assert panel.index("Q two?") < panel.index("Q one?")  # the latest first
    assert 'class="gw-turn gw-latest" data-turn="2"' in panel
    assert '<details class="gw-turn" data-turn="1">' in panel and 'id="src-1-1"' in panel


# -- handlers in-process (no browser) -----------------------------------------------------------


def test_empty_index_is_reported_not_a_crash(tmp_path):
    settings = Settings.load(index_dir=tmp_path / "empty")
    handlers = ChatHandlers(settings, tmp_path / "corpus")
    assert handlers.engine.status() == (False, EMPTY_INDEX)
    assert build_app(settings, tmp_path / "corpus") is not None
    with pytest.warns(UserWarning, match="index is empty"):  # gr.Warning, outside a request
        *_, last = handlers.respond("What is in my documents?", [], [], "extractive", 6)
    assert "the index is empty: upload documents or run" in last_message(last[0]).lower()
    assert "Traceback" not in last_message(last[0])


def test_draft_streams_then_the_verified_answer_replaces_it(engine, tmp_path):
    handlers = ChatHandlers(engine.settings, tmp_path, engine)
    updates = list(handlers.respond(HEADLINE, [], [], "extractive", 6))
    drafts = [u for u in updates if "gw-draft" in last_message(u[0])]
    assert drafts and "gw-answer" not in last_message(drafts[-1][0])
    history, turns, sources, *_ , copy, _question = updates[-1]
    assert [m["role"] for m in history] == ["user", "assistant"]
    html = last_message(history)
    assert 'class="gw-nd"' in html and "arrests" in html and "prosecutions" in html
    assert 'href="#src-1-1"' in html and "Executive summary" in html
    assert "<mark" in sources and "63,892" in sources
    assert "Sources" in copy and "[1]" in copy  # render(answer): the text to copy


def test_llm_endpoint_down_is_a_readable_message(engine, tmp_path):
    settings = engine.settings.replace(openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
                                       llm_timeout_s=5.0)
    handlers = ChatHandlers(settings, tmp_path, Engine(settings))
    with pytest.warns(UserWarning, match="openai generator could not run"):
        *_, last = handlers.respond(HEADLINE, [], [], "openai", 6)
    message = last_message(last[0])
    assert "gw-error" in message and "could not run" in message and "did not answer" in message
    assert "Traceback" not in message
    assert handlers.answer(HEADLINE, "openai", 6)["error"].startswith("The openai generator")


def test_uploads_report_per_file_and_reach_the_next_question(tmp_path):
    settings = Settings.load(index_dir=tmp_path / "index")
    corpus, incoming = tmp_path / "corpus", tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "saltmere_ferry.md"
    good.write_text("# Saltmere ferry 2023\n\nThe Saltmere ferry carried 48,210 passengers in "
                    "2023.\n")
    (incoming / "tool.exe").write_bytes(b"MZ\x90\x00")
    (incoming / "blank.txt").write_text("")
    handlers = ChatHandlers(settings, corpus)
    assert handlers.engine.status()[0] is False
    with pytest.warns(UserWarning, match="2 of 3 file"):
        table, banner = handlers.add_documents([str(p) for p in sorted(incoming.iterdir())])
    rows = re.findall(r"<tr class=\"gw-r-(\w+)\"><td>([^<]+)</td>", table)
    assert sorted(rows) == [("ingested", "saltmere_ferry.md"), ("refused", "blank.txt"),
                            ("refused", "tool.exe")], table
    assert "unsupported file type" in table and "empty file" in table
    assert sorted(p.name for p in corpus.iterdir()) == ["saltmere_ferry.md"]
    assert "1 document, 1 passage indexed" in banner
    answer = handlers.answer("How many passengers did the Saltmere ferry carry in 2023?")
    assert "48,210" in answer["summary"] and answer["citations"], answer
    table, _ = handlers.add_documents([str(good)])
    assert "gw-r-unchanged" in table


def test_an_upload_shows_progress_in_rows_within_a_large_table(tmp_path):
    """A table written in several parts reports its rows as they are written, in the handler's
    context (Gradio's progress finds its event there), though ingest writes from a thread."""
    import contextvars

    settings = Settings.load(index_dir=tmp_path / "index", chunk_tokens=64, ingest_batch=8)
    upload = tmp_path / "counts.csv"
    upload.write_text("Station,Riders\n" + "".join(f"Station {k},{1000 + k}\n"
                                                      for k in range(90)))
    handler_context = contextvars.ContextVar("event", default=None)
    handler_context.set("this upload")
    shown = []

    def progress(at, desc="", unit=""):
        shown.append((at, desc, unit, handler_context.get()))

    handlers = ChatHandlers(settings, tmp_path / "corpus")
    table, _ = handlers.add_documents([str(upload)], progress)
    assert "gw-r-ingested" in table
    rows = [(at, event) for at, desc, unit, event in shown if unit == "rows"]
    assert len(rows) > 2 and all(event == "this upload" for _, event in rows)
    assert [done for (done, _), _ in rows] == sorted(done for (done, _), _ in rows)
    assert rows[0][0][0] < 90 and rows[-1][0] == (90, 90)
    assert all("counts.csv" in desc for _, desc, unit, _ in shown if unit == "rows")


# -- the served page --------------------------------------------------------------------------


def _outside_hosts(text: str) -> set[str]:
    text = re.sub(r"<meta\b[^>]*>", "", text, flags=re.S | re.I)  # og:/twitter: preview tags
    text = re.sub(r"xmlns(:\w+)?=[\"']?https?://www\.w3\.org/[^\"'\s>]*", "", text)
    text = text.replace("http://www.w3.org/2000/svg", "")  # an XML namespace, never fetched
    hosts = {urlparse(u).hostname for u in re.findall(r"(?:https?|wss?):?//[^\s\"'<>)\\]+", text)}
    return {h for h in hosts if h and h not in LOCAL_HOSTS}


def test_served_page_names_no_outside_host(server):
    with urllib.request.urlopen(server["url"], timeout=10) as resp:
        page = resp.read().decode()
        csp = resp.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in csp and "default-src 'self'" in csp
    assert _outside_hosts(page) == set()
    sheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page)
    for path in [*sheets, "theme.css"]:
        with urllib.request.urlopen(server["url"] + path.lstrip("./"), timeout=10) as resp:
            css = resp.read().decode()
        assert "@import" not in css and "googleapis" not in css, path
        assert _outside_hosts(css) == set(), path
    assert f"Uvicorn running on http://127.0.0.1:{server['port']}" in server["log"].read_text()


def test_password_from_the_environment_guards_the_app(guarded):
    """GROUNDWORK_UI_PASSWORD puts a sign-in in front of everything (tests/test_server.py checks
    every route)."""
    page = urllib.request.urlopen(guarded["url"], timeout=5).read().decode()
    assert '"auth_required":true' in page
    for path in ("config", "gradio_api/info"):
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(guarded["url"] + path, timeout=5)
        assert denied.value.code == 401
    assert sign_in(guarded["url"], "wrong")[0] == 400
    assert sign_in(guarded["url"], PASSWORD)[0] == 200


def test_several_users_at_once_are_queued_not_dropped(server):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = ["How many reports did the CyberTipline receive in 2023?", HEADLINE,
                 "Who runs the CyberTipline?", "Why was the 2023 CyberTipline total so large?"]

    def ask(question: str) -> dict:
        return Client(server["url"], verbose=False).predict(question, "extractive", 0,
                                                            api_name="/ask")

    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(ask, questions))
    assert [a.get("question") for a in answers] == questions
    assert all(a.get("citations") and not a.get("error") for a in answers), answers


# -- the browser --------------------------------------------------------------------------------


def _open(driver, url: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    return WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#gw-question textarea, #gw-question input"))


def _ask(driver, question: str, answers_before: int):
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, "#gw-question textarea, #gw-question input")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "gw-ask").click()
    return _wait_answer(driver, answers_before)


def _wait_answer(driver, answers_before: int):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def done(d):
        errors = d.find_elements(By.CSS_SELECTOR, "#gw-chat .gw-error")
        assert not errors, errors[-1].text
        found = d.find_elements(By.CSS_SELECTOR, "#gw-chat .gw-answer")
        return found[-1] if len(found) > answers_before else False

    return WebDriverWait(driver, 120, poll_frequency=0.2).until(done)


def _follow_up_buttons(driver) -> list:
    from selenium.webdriver.common.by import By

    return [b for b in driver.find_elements(By.CSS_SELECTOR, "#gw-followups button")
            if b.is_displayed() and b.text.strip()]


_IN_VIEW = """
const card = document.getElementById(arguments[0]).closest('.gw-src');
const r = card.getBoundingClientRect();
const box = card.closest('.gw-sources').getBoundingClientRect();
const top = Math.max(0, box.top), bottom = Math.min(window.innerHeight, box.bottom);
return [card.classList.contains('active'), r.top >= top - 2 && r.top < bottom - 20];
"""


def _requested_hosts(driver) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            url = (message["params"].get("request") or {}).get("url") or message["params"].get(
                "url", "")
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                hosts.add(urlparse(url).hostname)
    return hosts


def test_headline_question_in_the_browser(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("performance")  # start the network record with this test
    _open(browser, server["url"])
    answer = _ask(browser, HEADLINE, 0)
    browser.save_screenshot(str(tmp_path / "1-answer.png"))

    marker = answer.find_element(By.CSS_SELECTOR, ".gw-nd")
    assert "NOT DOCUMENTED" in marker.text.upper()
    items = [li.text.lower() for li in marker.find_elements(By.TAG_NAME, "li")]
    assert any("arrests" in i for i in items) and any("prosecutions" in i for i in items), items
    assert "executive summary" in answer.text.lower()
    assert "bottom line and reporting limitation" in answer.text.lower()
    marks = browser.find_elements(By.CSS_SELECTOR, "#gw-sources-panel .gw-src mark")
    assert any("63,892" in m.text for m in marks), [m.text for m in marks]

    # [n] brings its source forward: the last one, whose card starts out of view.
    browser.execute_script("document.querySelector('.gw-sources').scrollTop = 0")
    cites = answer.find_elements(By.CSS_SELECTOR, "a.gw-cite")
    target = max(cites, key=lambda a: int(a.text.strip("[]")))
    sid = target.get_attribute("href").split("#")[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
    target.click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(_IN_VIEW, sid) == [True, True])
    assert browser.current_url.endswith("#" + sid)
    assert len(browser.window_handles) == 1  # the link did not open a tab
    browser.save_screenshot(str(tmp_path / "2-source.png"))

    # A follow-up button asks its question: a second answer appears.
    buttons = _follow_up_buttons(browser)
    if not buttons:  # this answer offered none; one that does, to test the buttons
        _ask(browser, "How many reports did the CyberTipline receive in 2023?", 1)
        buttons = WebDriverWait(browser, 10).until(_follow_up_buttons)
    asked = len(browser.find_elements(By.CSS_SELECTOR, "#gw-chat .gw-answer"))
    follow_up = buttons[0].text.strip()
    buttons[0].click()
    second = _wait_answer(browser, asked)
    assert second.find_elements(By.CSS_SELECTOR, "a.gw-cite") or second.find_elements(
        By.CSS_SELECTOR, ".gw-nd")
    latest = browser.find_element(By.CSS_SELECTOR, ".gw-sources .gw-latest .gw-turn-q")
    assert latest.text.strip() == follow_up
    # "Copy answer with sources": the rendered answer, its sources and quotes, a copy button.
    browser.find_element(By.CSS_SELECTOR, "#gw-copy-box button").click()
    copy = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#gw-copy textarea"))
    text = copy.get_attribute("value") or ""
    assert text.startswith(follow_up) and "Sources" in text and "[1]" in text, text
    assert browser.find_elements(By.CSS_SELECTOR, "#gw-copy button[aria-label*='opy'], "
                                                  "#gw-copy button[title*='opy']")
    browser.save_screenshot(str(tmp_path / "3-follow-up.png"))

    outside = _requested_hosts(browser) - LOCAL_HOSTS
    assert outside == set(), f"the page fetched from {outside}"


def test_a_one_fact_question_in_the_browser_is_one_sentence(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    _open(browser, server["url"])
    answer = _ask(browser, "How many reports did the CyberTipline receive in 2023?", 0)
    browser.save_screenshot(str(tmp_path / "one-fact.png"))
    one = answer.find_elements(By.CSS_SELECTOR, ".gw-one")
    assert len(one) == 1, answer.text
    sentences = one[0].find_elements(By.CSS_SELECTOR, ".gw-claim")
    assert len(sentences) == 1 and "36.2 million" in sentences[0].text, one[0].text
    assert answer.text.count("36.2 million") == 1, answer.text
    assert sentences[0].find_elements(By.CSS_SELECTOR, "a.gw-cite")
    assert answer.find_elements(By.CSS_SELECTOR, ".gw-srclist li a.gw-cite")
    for heading in ("executive summary", "bottom line"):
        assert heading not in answer.text.lower()
    marks = browser.find_elements(By.CSS_SELECTOR, "#gw-sources-panel .gw-latest mark")
    assert any("36.2 million" in m.text for m in marks), [m.text for m in marks]


class ServedAnswer(Engine):
    """An engine whose assistant returns one Answer built by hand: the page shows what the
    pipeline would, for outcomes the pipeline on this branch does not produce yet."""

    def __init__(self, settings: Settings, answer: Answer):
        super().__init__(settings)
        self.answer = answer

    def assistant(self):
        engine = self

        class Fixed:
            def stream(self, question, **_):
                yield "Checking the draft."
                yield engine.answer

        return Fixed()

    def status(self):
        return True, "1 document, 1 passage indexed."


@pytest.fixture(scope="module")
def served_answer(tmp_path_factory):
    """The real page and server in this process, answering with `unconfirmed_answer()`."""
    import uvicorn

    from assistant.server import Access, build_server

    work = tmp_path_factory.mktemp("served-answer")
    settings = Settings.load(index_dir=work / "index")
    app = build_server(settings, work / "corpus", ServedAnswer(settings, unconfirmed_answer()),
                       Access())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def test_an_unconfirmed_part_in_the_browser(browser, served_answer, tmp_path):
    from selenium.webdriver.common.by import By

    _open(browser, served_answer)
    answer = _ask(browser, "How many reports were escalated, and how many led to arrests?", 0)
    browser.save_screenshot(str(tmp_path / "unconfirmed.png"))
    status = answer.find_element(By.CSS_SELECTOR, ".gw-status")
    assert status.text.lower() == "not confirmed by your sources"
    box = answer.find_element(By.CSS_SELECTOR, ".gw-uc")
    assert "NOT CONFIRMED" in box.text.upper() and box.is_displayed()
    item = box.find_element(By.TAG_NAME, "li")
    assert item.text.startswith(f"how many reports were escalated: {MAY_ANSWER}: "), item.text
    assert ESCALATED[:-1] in item.text and item.find_elements(By.CSS_SELECTOR, "a.gw-cite")
    assert "Escalations reached" not in answer.text  # never in the claim's own words
    assert "arrests" in answer.find_element(By.CSS_SELECTOR, ".gw-nd").text
    marks = browser.find_elements(By.CSS_SELECTOR, "#gw-sources-panel .gw-latest mark")
    assert any("63,892" in m.text for m in marks), [m.text for m in marks]


# Turn 2 ("it") and turn 3 ("them") mean nothing alone; the UI sends the earlier answers along.
CONVERSATION = ["Who runs the CyberTipline?", "How many reports did it receive in 2023?",
                "How many of them were escalated as urgent?"]


def test_three_turn_conversation_in_the_browser(browser, server, tmp_path):
    """A pronoun follow-up is answered as a standalone question, shown above its answer; the
    suggestions never repeat a question already asked; a new conversation starts clean."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server["url"])
    asked: set[str] = set()  # what the user typed, and what was answered
    for turn, question in enumerate(CONVERSATION):
        answer = _ask(browser, question, turn)
        shown = [e.text.removeprefix("Answering: ")
                 for e in answer.find_elements(By.CSS_SELECTOR, ".gw-answering")]
        asked |= {q.lower() for q in [question, *shown]}
        suggested = {b.text.strip().lower() for b in _follow_up_buttons(browser)}
        assert not suggested & asked, f"turn {turn + 1} suggests {suggested & asked}"
    browser.save_screenshot(str(tmp_path / "1-three-turns.png"))

    assert len(shown) == 1, answer.text
    standalone = shown[0]
    for carried in ("reports", "CyberTipline", "2023", "urgent"):
        assert carried in standalone, standalone  # "them": the reports of turn 2
    cited = [c for c in answer.find_elements(By.CSS_SELECTOR, ".gw-claim, .gw-summary")
             if "63,892" in c.text and c.find_elements(By.CSS_SELECTOR, "a.gw-cite")]
    assert cited, answer.text
    link = cited[0].find_element(By.CSS_SELECTOR, "a.gw-cite")
    sid = link.get_attribute("href").split("#")[1]
    assert sid.startswith("src-3-")  # this turn's sources, not an earlier turn's
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(_IN_VIEW, sid) == [True, True])
    card = browser.execute_script(
        "return document.getElementById(arguments[0]).closest('.gw-src')", sid)
    assert any("63,892" in m.text for m in card.find_elements(By.TAG_NAME, "mark")), card.text

    # "New conversation": nothing carried over, so "them" is read on its own.
    browser.find_element(By.ID, "gw-clear").click()
    WebDriverWait(browser, 10).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "#gw-chat .gw-answer"))
    assert not _follow_up_buttons(browser)
    fresh = _ask(browser, CONVERSATION[2], 0)
    browser.save_screenshot(str(tmp_path / "2-new-conversation.png"))
    assert not fresh.find_elements(By.CSS_SELECTOR, ".gw-answering"), fresh.text
    assert "gw-turn-1" in fresh.get_attribute("class")
    # The chat's own trash button is a new conversation too (the sources panel shows it ran).
    browser.find_element(By.CSS_SELECTOR, "#gw-chat button[aria-label='Clear']").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#gw-sources-panel .gw-empty"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#gw-chat .gw-answer")


def test_upload_in_the_browser_then_ask_about_it(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    doc = tmp_path / "harbor_lights_festival_2024.md"
    doc.write_text("# Harbor Lights Festival 2024\n\nThe Harbor Lights festival drew 12,345 "
                   "visitors in 2024. The festival ran for three evenings along the old quay "
                   "in Port Ellery.\n")
    _open(browser, server["url"])
    if not browser.find_elements(By.CSS_SELECTOR, "#gw-files input[type=file]"):
        browser.find_element(By.CSS_SELECTOR, "#gw-upload button").click()  # open the accordion
    file_input = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#gw-files input[type=file]"))
    file_input.send_keys(str(doc))

    def result(d):
        rows = d.find_elements(By.CSS_SELECTOR, "#gw-upload-results tbody tr")
        return rows[0].text if rows else False

    row = WebDriverWait(browser, 120, poll_frequency=0.3).until(result)
    browser.save_screenshot(str(tmp_path / "1-uploaded.png"))
    assert "harbor_lights_festival_2024.md" in row and "ingested" in row, row
    assert (server["corpus"] / doc.name).read_text() == doc.read_text()

    answer = _ask(browser, "How many visitors did the Harbor Lights festival draw in 2024?", 0)
    browser.save_screenshot(str(tmp_path / "2-answer.png"))
    cited = [c for c in answer.find_elements(By.CSS_SELECTOR, ".gw-claim, .gw-summary")
             if "12,345" in c.text and c.find_elements(By.CSS_SELECTOR, "a.gw-cite")]
    assert cited, answer.text
    cards = browser.find_elements(By.CSS_SELECTOR, ".gw-sources .gw-latest .gw-src")
    assert any(doc.name in c.text and "12,345" in " ".join(
        m.text for m in c.find_elements(By.TAG_NAME, "mark")) for c in cards)


def test_sign_in_in_the_browser_then_ask(browser, guarded, tmp_path):
    """The password's sign-in page works through the server's guard, and so does the page
    behind it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(guarded["url"])
    user = WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "input[data-testid=textbox]"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#gw-question")
    user.send_keys("groundwork")
    browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(PASSWORD)
    browser.find_element(By.XPATH, "//button[normalize-space()='Login']").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "#gw-question textarea, #gw-question input"))
    answer = _ask(browser, HEADLINE, 0)
    browser.save_screenshot(str(tmp_path / "signed-in.png"))
    assert answer.find_elements(By.CSS_SELECTOR, ".gw-nd a.gw-cite, .gw-nd li")


def test_a_cell_citation_in_the_browser(browser, server, tmp_path):
    """A question answered from an XLSX cell of the demo corpus: clicking [n] brings forward
    the table with the cell, its row label and its column header highlighted."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server["url"])
    answer = _ask(browser, "How many tonnes of glass did Millbrook collect for recycling in "
                           "Q4 2023?", 0)
    assert "240" in answer.text and "answered" in answer.text.lower()
    cite = answer.find_element(By.CSS_SELECTOR, "a.gw-cite")
    sid = cite.get_attribute("href").split("#")[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cite)
    cite.click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(_IN_VIEW, sid) == [True, True])
    card = browser.find_element(By.ID, sid).find_element(By.XPATH, "ancestor-or-self::div["
                                                                   "contains(@class,'gw-src')]")
    hit = card.find_element(By.CSS_SELECTOR, "td.gw-cell-hit")
    assert hit.text == "240"
    heads = [h.text for h in card.find_elements(By.CSS_SELECTOR, ".gw-head-hit")]
    assert heads == ["Q4", "Glass (tonnes)"], heads
    assert "millbrook_recycling_2023.xlsx" in card.text and "'Collections 2023'!E4" in card.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
    browser.save_screenshot(str(tmp_path / "table-cell.png"))
