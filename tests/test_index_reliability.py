"""Issue 14, parts 1-3, with real processes: a damaged index is found at start and repaired, a
`groundwork serve` keeps answering while a separate `groundwork ingest` changes the corpus, and
it survives its `chroma run` server going away and coming back.

The server is driven through its HTTP API (`POST /api/ask`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import (
    GROUNDWORK,
    chroma_run,
    groundwork_serve,
    kill_ingest_when,
    post,
    request,
    subprocess_env,
)

from assistant.ingest import Manifest, ingest
from assistant.procs import free_port
from assistant.retrieve import Retriever
from assistant.store import MANIFEST, IndexDamaged, Store, chroma_dir, local_dir

FACTS = {
    "owls.md": ("# Barn owls\n\nThe barn owl survey of 2023 counted 412 nesting pairs in the "
                "valley. Each pair raised an average of 3 chicks.\n\nVolunteers checked 96 nest "
                "boxes every month from March to August."),
    "bridges.md": ("# River bridges\n\nThe river authority inspected 58 bridges in 2023. Seven "
                   "bridges were closed for repairs after the spring floods.\n\nThe oldest "
                   "bridge, built in 1821, carries 4,300 vehicles a day."),
    "bakery.md": ("# The village bakery\n\nThe village bakery sells 640 loaves of rye bread every "
                  "Saturday. It opened in 1987 in the old post office.\n\nIts sourdough starter "
                  "is fed twice a day with rye flour."),
}
QUESTIONS = {"owls.md": "How many barn owl nesting pairs did the 2023 survey count?",
             "bridges.md": "How many bridges did the river authority inspect in 2023?",
             "bakery.md": "How many loaves of rye bread does the village bakery sell?"}


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def contents(settings) -> dict:
    """What an index holds: each chunk's text and location, the manifest, the BM25 ids."""
    store = Store(settings)
    got = store.collection.get(include=["documents", "metadatas"])
    chunks = {pid: (text, {k: m[k] for k in ("source", "title", "page", "start", "end")})
              for pid, text, m in zip(got["ids"], got["documents"], got["metadatas"])}
    lexical = store.load_lexical_index()
    return {"chunks": chunks, "manifest": Manifest(store.manifest_path).entries,
            "bm25": sorted(map(str, lexical.ids)) if lexical is not None else None}


def answers_like(settings, clean) -> None:
    """Same passages, same order, for every question: the repaired index is a correct one."""
    repaired, reference = Retriever(settings), Retriever(clean)
    for question in QUESTIONS.values():
        got = [p.id for p in repaired.run(question)]
        assert got and got == [p.id for p in reference.run(question)], question


# -- 3. a damaged index ---------------------------------------------------------------------------


@pytest.fixture
def indexed(tmp_path, make_settings):
    """(corpus folder, its freshly ingested index, a clean index of the same folder)."""
    root = write_corpus(tmp_path / "docs", FACTS)
    settings, clean = make_settings("index"), make_settings("clean")
    for s in (settings, clean):
        assert ingest([root], s, progress=False).files_ingested == len(FACTS)
    return root, settings, clean


def _vector_folder(settings) -> Path:
    return next(p for p in chroma_dir(settings).iterdir() if p.is_dir())


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _drop_manifest_entry(settings, name: str) -> None:
    manifest = Manifest(Store(settings).manifest_path)
    del manifest.entries[name]
    manifest.save()


def _grow_past_chromas_log(settings) -> None:
    """1,200 more chunks (synthetic vectors): Chroma saves its vector files every 1,000 writes
    and replays its log over them when it opens, so in a smaller index it repairs damage to
    those files itself; here the loss is real."""
    import numpy as np

    from assistant.types import Passage

    vectors = np.random.default_rng(7).normal(size=(1200, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    Store(settings).add_with_embeddings(
        [Passage(id=f"filler{i:05d}", text=f"filler chunk {i}", source="filler.md",
                 title="Filler", page=None, start=0, end=14) for i in range(1200)], vectors)


# name -> (what happens to the index, how the refusal names it, needs a large index)
DAMAGE = {
    "Chroma database truncated": (lambda s: _truncate(chroma_dir(s) / "chroma.sqlite3"),
                                  r"Chroma database under .* cannot be", False),
    "Chroma folder deleted": (lambda s: shutil.rmtree(chroma_dir(s)),
                              r"manifest lists \d+ chunks in 3 files but the vector store .* "
                              r"holds 0", False),
    "manifest missing a file": (lambda s: _drop_manifest_entry(s, "owls.md"),
                                r"manifest lists \d+ chunks in 2 files but the vector store .* "
                                r"holds \d+", False),
    "vector file truncated": (lambda s: _truncate(_vector_folder(s) / "data_level0.bin"),
                              r"vector index at .* (is damaged|does not find)", True),
    "vector folder deleted": (lambda s: shutil.rmtree(_vector_folder(s)),
                              r"vector index at .* (is damaged|does not find)", True),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_is_named_at_start_and_rebuild_restores_a_correct_index(damage, indexed):
    root, settings, clean = indexed
    harm, problem, large = DAMAGE[damage]
    if large:
        _grow_past_chromas_log(settings)
    harm(settings)
    with pytest.raises(IndexDamaged, match=problem) as refused:
        Retriever(settings)
    assert f"rebuild the index with `groundwork ingest --rebuild {root.resolve()}" in str(
        refused.value)
    report = ingest([root], settings, rebuild=True, progress=False)
    assert report.files_ingested == len(FACTS) and not report.files_failed
    assert contents(settings) == contents(clean)
    answers_like(settings, clean)


def test_damage_through_the_cli_is_a_message_and_rebuild_fixes_it(indexed, cli):
    root, settings, _ = indexed
    _truncate(chroma_dir(settings) / "chroma.sqlite3")
    asked = cli("ask", QUESTIONS["owls.md"], "--index", settings.index_dir)
    assert asked.returncode == 2 and "Traceback" not in asked.stderr
    assert "error: the Chroma database under" in asked.stderr
    assert f"groundwork ingest --rebuild {root.resolve()} --index {settings.index_dir}" in (
        asked.stderr)
    rebuilt = cli("ingest", "--rebuild", root, "--index", settings.index_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    asked = cli("ask", QUESTIONS["owls.md"], "--index", settings.index_dir)
    assert asked.returncode == 0 and "412" in asked.stdout, asked.stderr


@pytest.mark.parametrize("harm", ["missing", "stale"])
def test_bm25_index_missing_or_stale_is_rebuilt_from_the_store(harm, tmp_path, make_settings):
    """BM25 holds nothing Chroma does not: rebuilding it at start is safe, so it is automatic."""
    root = write_corpus(tmp_path / "docs", dict(list(FACTS.items())[:2]))
    settings, clean = make_settings("index"), make_settings("clean")
    ingest([root], settings, progress=False)
    bm25 = Store(settings).bm25_dir
    shutil.copytree(bm25, tmp_path / "older-bm25")
    write_corpus(root, FACTS)
    for s in (settings, clean):
        ingest([root], s, progress=False)
    shutil.rmtree(bm25)
    if harm == "stale":  # built from two files; the store holds three
        shutil.copytree(tmp_path / "older-bm25", bm25)
    retriever = Retriever(settings)
    assert retriever.repaired.startswith(f"the BM25 index was {harm}")
    assert contents(settings) == contents(clean)
    answers_like(settings, clean)


def test_interrupted_ingest_is_named_and_finished_by_running_it_again(tmp_path, make_settings):
    root = write_corpus(tmp_path / "docs", {
        f"note_{i:02d}.md": f"# Note {i}\n\n" + FACTS[name].split("\n\n", 1)[1].replace(
            "2023", str(1990 + i))
        for i, name in enumerate(list(FACTS) * 8)})
    settings, clean = make_settings("index"), make_settings("clean")
    killed, done = kill_ingest_when(root, settings.index_dir, Store(settings).manifest_path, 3,
                                    0.0, tmp_path / "ingest.log", GROUNDWORK_INGEST_BATCH="4")
    assert killed and 0 < done < 24, (killed, done)
    with pytest.raises(IndexDamaged, match=r"the last `groundwork ingest` .* did not finish: "
                                           rf"run it again .*groundwork ingest {root.resolve()}"):
        Retriever(settings)
    ingest([root], settings, progress=False)
    ingest([root], clean, progress=False)
    assert contents(settings) == contents(clean)


# -- 1. ingest while answering ------------------------------------------------------------------


def ask(url: str, question: str) -> tuple[int, dict]:
    """One question to `POST /api/ask`: (status, the Answer's JSON or {"error": reason})."""
    return post(url, "/api/ask", {"question": question})


def cited_sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer.get("citations", [])}


def test_server_answers_while_a_separate_ingest_adds_edits_and_removes(tmp_path, make_settings):
    root = write_corpus(tmp_path / "docs", FACTS)
    settings = make_settings()
    ingest([root], settings, progress=False)
    log: list[tuple[float, str, int, dict]] = []  # (sent at, question, status, reply)
    stop = threading.Event()
    stream = [*QUESTIONS.values(), "What is the ferry timetable on the lake?",
              "How many swans nest on the lake?"]

    def keep_asking(url: str) -> None:
        i = 0
        while not stop.is_set():
            question = stream[i % len(stream)]
            sent = time.monotonic()
            log.append((sent, question, *ask(url, question)))
            i += 1

    with groundwork_serve(tmp_path, settings.index_dir, tmp_path / "uploads") as served:
        url = served["url"]
        status, first = ask(url, QUESTIONS["bakery.md"])
        assert status == 200 and "bakery.md" in cited_sources(first), first
        assert "640" in first["summary"], first
        asker = threading.Thread(target=keep_asking, args=(url,))
        asker.start()
        try:
            # One ingest adds a file and edits another; the next removes a file (--prune).
            (root / "lake.md").write_text(
                "# The lake\n\nThe lake ferry leaves the north pier every 40 minutes. In 2023, "
                "23 pairs of swans nested on the lake.")
            (root / "owls.md").write_text(FACTS["owls.md"].replace("412", "437"))
            rounds = []
            for change in ("add and edit", "remove"):
                if change == "remove":
                    (root / "bakery.md").unlink()
                ran = subprocess.run([str(GROUNDWORK), "ingest", str(root), "--prune", "--index",
                                      str(settings.index_dir), "--json"], capture_output=True,
                                     text=True, timeout=300, env=subprocess_env())
                assert ran.returncode == 0, ran.stderr
                rounds.append(time.monotonic())
                time.sleep(1.0)  # a few questions between and after the ingests
        finally:
            stop.set()
            asker.join(timeout=120)
        assert not asker.is_alive() and served["proc"].poll() is None
        # No request failed, and none sent after the removal cites the removed file.
        assert len(log) >= 4 and all(status == 200 for _, _, status, _ in log), [
            reply for _, _, status, reply in log if status != 200]
        after_removal = [reply for sent, _, _, reply in log if sent > rounds[1]]
        assert after_removal and all("bakery.md" not in cited_sources(a) for a in after_removal)
        # The new and the edited content are answerable without restarting the server.
        _, lake = ask(url, "How many pairs of swans nested on the lake in 2023?")
        assert "lake.md" in cited_sources(lake) and "23" in lake["summary"], lake
        _, owls = ask(url, QUESTIONS["owls.md"])
        assert "437" in owls["summary"] and "412" not in owls["summary"], owls
        _, gone = ask(url, QUESTIONS["bakery.md"])
        assert "bakery.md" not in cited_sources(gone) and "640" not in gone["summary"], gone


# -- 2. the vector server goes away and comes back -------------------------------------------------


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_chroma_server_outage_while_serving(tmp_path, make_settings):
    data, chroma_port = tmp_path / "chroma", free_port()
    chroma_url = f"http://127.0.0.1:{chroma_port}"
    root = write_corpus(tmp_path / "docs", FACTS)
    settings = make_settings(chroma_url=chroma_url, collection="outage")
    with contextlib.ExitStack() as servers:
        chroma = servers.enter_context(chroma_run(data, chroma_port))
        ingest([root], settings, progress=False)
        served = servers.enter_context(groundwork_serve(
            tmp_path, settings.index_dir, tmp_path / "uploads",
            GROUNDWORK_CHROMA_URL=chroma_url, GROUNDWORK_COLLECTION="outage"))
        status, before = ask(served["url"], QUESTIONS["owls.md"])
        assert status == 200 and "412" in before["summary"], before
        kill(chroma)
        for question in (QUESTIONS["bridges.md"], QUESTIONS["owls.md"]):
            status, down, headers = request(served["url"], "POST", "/api/ask",
                                            json.dumps({"question": question}).encode())
            assert status == 503 and headers["Retry-After"] == "10", (status, down)
            assert json.loads(down)["error"].startswith(
                f"the vector store at {chroma_url} is not reachable"), down
        assert served["proc"].poll() is None  # the process stays up
        servers.enter_context(chroma_run(data, chroma_port))  # the same data, the same port
        status, back = ask(served["url"], QUESTIONS["bridges.md"])
        assert status == 200 and "58" in back["summary"], back


def test_ingest_cut_off_by_an_outage_ends_as_a_clean_one_when_rerun(tmp_path, make_settings):
    data, chroma_port = tmp_path / "chroma", free_port()
    chroma_url = f"http://127.0.0.1:{chroma_port}"
    root = write_corpus(tmp_path / "docs", {
        f"extra_{i:02d}.md": f"# Extra {i}\n\nSurvey {i} counted {100 + i} hedgehogs in the "
                             f"parish of Little Ashby in {1990 + i}." for i in range(12)})
    settings = make_settings(chroma_url=chroma_url, collection="outage")
    manifest = local_dir(settings) / MANIFEST
    with contextlib.ExitStack() as servers:
        chroma = servers.enter_context(chroma_run(data, chroma_port))
        ingesting = subprocess.Popen(
            [str(GROUNDWORK), "ingest", str(root), "--index", str(settings.index_dir),
             "--chroma-url", chroma_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=subprocess_env(GROUNDWORK_COLLECTION="outage",
                                          GROUNDWORK_INGEST_BATCH="2"))
        deadline = time.monotonic() + 180
        while len(Manifest(manifest).entries) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        kill(chroma)
        _, err = ingesting.communicate(timeout=120)
        assert ingesting.returncode == 2, err
        assert f"error: the vector store at {chroma_url} is not reachable" in err
        assert "Traceback" not in err
        servers.enter_context(chroma_run(data, chroma_port))
        rerun = subprocess.run([str(GROUNDWORK), "ingest", str(root), "--index",
                                str(settings.index_dir), "--chroma-url", chroma_url],
                               capture_output=True, text=True, timeout=300,
                               env=subprocess_env(GROUNDWORK_COLLECTION="outage"))
        assert rerun.returncode == 0, rerun.stderr
        clean = make_settings("clean", chroma_url=chroma_url, collection="outage-clean")
        ingest([root], clean, progress=False)
        assert contents(settings) == contents(clean)
