"""assistant.ingest + assistant.store: real files, the packaged embedder, real Chroma and BM25."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, GROUNDWORK, kill_ingest_when, subprocess_env
from hostile_files import PROSE, markdown_with_base64

from assistant.config import Settings
from assistant.ingest import Manifest, ingest, sha256
from assistant.procs import free_port
from assistant.readers import PAGE_SEP, Unreadable, extract
from assistant.retrieve import Retriever
from assistant.store import SYNC_THRESHOLD, Store, StoreError, StoreUnavailable
from assistant.types import Analysis

REPORT_KEYS = {"files_seen", "files_ingested", "files_unchanged", "files_failed", "chunks_added",
               "chunks_deleted", "chunks_embedded", "seconds"}


# -- helpers ----------------------------------------------------------------------------------


def paragraphs(topic: str, n: int, seed: int = 0) -> str:
    """Distinct, deterministic prose: n paragraphs of a few sentences about `topic`."""
    out = []
    for i in range(n):
        k = seed * 1000 + i
        out.append(f"{topic} paragraph {k}. The {topic.lower()} station logged {k * 37 + 11} "
                   f"readings on day {k % 28 + 1}, and the crew replaced {k % 9 + 2} sensors. "
                   f"At the {topic.lower()} site, wind from the "
                   f"{['north', 'south', 'east', 'west'][k % 4]} reached "
                   f"{k % 60 + 20} km/h before the shift change at {k % 24:02d}:00.")
    return "\n\n".join(out)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_good_files(root: Path, builders) -> dict[str, str]:
    """One readable file per format; returns {relative path: a phrase only that file contains}."""
    write(root / "notes.txt", "Field notes\n\n" + paragraphs("Harbour", 6, seed=1))
    write(root / "guide.md", "# Glacier Guide\n\n" + paragraphs("Glacier", 8, seed=2))
    write(root / "page.html", "<html><head><title>Forest Page</title><script>var x = 1;</script>"
          "</head><body><h1>Forest</h1>"
          + "".join(f"<p>{p}</p>" for p in paragraphs("Forest", 5, seed=3).split("\n\n"))
          + "</body></html>")
    pdf_pages = [paragraphs("Desert", 3, seed=4).replace(". ", ".\n").splitlines(),
                 paragraphs("Canyon", 3, seed=5).replace(". ", ".\n").splitlines()]
    write(root / "report.pdf", builders.pdf(pdf_pages, title="Desert Report"))
    write(root / "memo.docx", builders.docx(paragraphs("Tundra", 4, seed=6).split("\n\n"),
                                            heading="Tundra Memo"))
    write(root / "sub" / "nested.md", "# Nested\n\n" + paragraphs("Marsh", 3, seed=7))
    return {"notes.txt": "Harbour paragraph 1000", "guide.md": "Glacier paragraph 2000",
            "page.html": "Forest paragraph 3000", "report.pdf": "Canyon paragraph 5000",
            "memo.docx": "Tundra paragraph 6000", "sub/nested.md": "Marsh paragraph 7000"}


def write_bad_files(root: Path, builders) -> dict[str, str]:
    """Every kind of unreadable file; returns {relative path: expected reason fragment}."""
    write(root / "empty.txt", b"")
    write(root / "blank.md", b"   \n\t\n")
    write(root / "binary.txt", b"ELF\x00\x00\x01\x02 binary")
    write(root / "latin1.txt", "Caf\u00e9 au lait".encode("latin-1"))
    write(root / "sheet.xlsx", b"PK\x03\x04 not a workbook")
    write(root / "garbage.pdf", b"garbage bytes that are not a PDF")
    write(root / "locked.pdf", builders.encrypt_pdf(builders.pdf([["Secret: 3 keys."]]), "secret"))
    write(root / "broken.docx", b"PK\x03\x04 broken zip")
    return {"empty.txt": "empty file", "blank.md": "empty file",
            "binary.txt": "binary content", "latin1.txt": "not valid UTF-8",
            "sheet.xlsx": "corrupt XLSX", "garbage.pdf": "corrupt PDF",
            "locked.pdf": "encrypted PDF", "broken.docx": "corrupt DOCX"}


def stored(settings) -> dict[str, dict]:
    """id -> everything Chroma holds for a chunk (its text and flat metadata)."""
    store = Store(settings)
    got = store.collection.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == len(set(got["ids"])) == store.count()
    out = {}
    for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        flat = {k: meta[k] for k in ("source", "title", "page", "start", "end", "content_hash")}
        out[pid] = {"text": text, **flat}
    return out


def extracted_text(root: Path, source: str) -> tuple[str, list[str]]:
    path = root / source
    pages = extract(path, path.read_bytes()).pages
    return PAGE_SEP.join(pages), pages


def assert_locations(root: Path, chunks: dict[str, dict]) -> None:
    """Every chunk's [start:end] in its file's extracted text is exactly its text."""
    cache: dict[str, tuple[str, list[str]]] = {}
    for pid, c in chunks.items():
        if c["source"] not in cache:
            cache[c["source"]] = extracted_text(root, c["source"])
        full, pages = cache[c["source"]]
        if c["start"] == c["end"]:  # a table chunk: rendered from its rows, where the table stood
            assert c["text"].startswith("Table ") and c["start"] <= len(full), (pid, c["source"])
            continue
        assert full[c["start"]:c["end"]] == c["text"], (pid, c["source"], c["start"], c["end"])
        assert c["content_hash"] == sha256(c["text"])
        if c["source"].endswith(".pdf"):
            page = c["page"]
            assert 1 <= page <= len(pages), (pid, page)
            page_start = sum(len(p) + len(PAGE_SEP) for p in pages[:page - 1])
            assert page_start <= c["start"] < c["end"] <= page_start + len(pages[page - 1])
        else:
            assert c["page"] == 0  # stored as 0, surfaced as None


def bm25_ids(settings) -> list[str]:
    lexical = Store(settings).load_lexical_index()
    assert lexical is not None
    return [str(i) for i in lexical.ids]


def texts_of(chunks: dict[str, dict], source: str) -> list[str]:
    return [c["text"] for c in chunks.values() if c["source"] == source]


# -- good and bad files -----------------------------------------------------------------------


def test_mixed_folder_good_ingested_bad_reported_cli_exit_0(tmp_path, builders, cli):
    root = tmp_path / "docs"
    good = write_good_files(root, builders)
    bad = write_bad_files(root, builders)
    outside = write(tmp_path / "outside" / "secret.md", "# Outside\n\nNot part of the corpus.")
    (root / "escape.md").symlink_to(outside)
    (root / "alias.md").symlink_to(root / "guide.md")  # inside the root: fine
    bad["escape.md"] = "symlink points outside the ingested folder"

    index = tmp_path / "index"
    proc = cli("ingest", root, "--index", index, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) >= REPORT_KEYS
    failed = {f["path"]: f["reason"] for f in report["files_failed"]}
    assert set(failed) == set(bad)
    for path, reason in bad.items():
        assert reason in failed[path], (path, failed[path])
    assert report["files_ingested"] == len(good) + 1  # + alias.md
    assert report["files_seen"] == len(good) + 1 + len(bad)
    assert report["files_unchanged"] == 0
    assert report["chunks_added"] == report["chunks_total"] > len(good)
    # alias.md has guide.md's text: its chunks reuse guide.md's vectors
    assert report["chunks_embedded"] < report["chunks_added"]

    chunks = stored(Settings.load(index_dir=index))
    sources = {c["source"] for c in chunks.values()}
    assert sources == set(good) | {"alias.md"}
    assert texts_of(chunks, "alias.md") == texts_of(chunks, "guide.md")
    assert not any("Not part of the corpus" in c["text"] for c in chunks.values())
    assert not any("var x" in c["text"] for c in chunks.values())
    for source, phrase in good.items():
        assert any(phrase in t for t in texts_of(chunks, source)), source


def test_only_bad_files_cli_exits_nonzero_with_json(tmp_path, builders, cli):
    root = tmp_path / "bad"
    bad = write_bad_files(root, builders)
    proc = cli("ingest", root, "--index", tmp_path / "index", "--json")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    report = json.loads(proc.stdout)  # stdout is JSON and nothing else
    assert set(report) >= REPORT_KEYS
    assert report["files_seen"] == len(bad)
    assert report["files_ingested"] == report["files_unchanged"] == 0
    assert report["chunks_added"] == report["chunks_embedded"] == 0
    assert sorted(f["path"] for f in report["files_failed"]) == sorted(bad)
    assert isinstance(report["seconds"], float)


def test_file_over_size_limit_is_refused(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "small.txt", "Tiny note: 7 owls.")  # 18 bytes
    write(root / "large.txt", "Large note. " * 40)  # 480 bytes > 0.0001 MB (104 bytes)
    settings = make_settings(max_file_mb=0.0001)
    report = ingest([root], settings, progress=False)
    assert report.files_ingested == 1
    assert [f["path"] for f in report.files_failed] == ["large.txt"]
    assert "over the 0.0001 MB limit" in report.files_failed[0]["reason"]
    assert {c["source"] for c in stored(settings).values()} == {"small.txt"}


def test_missing_path_is_reported(tmp_path, make_settings):
    report = ingest([tmp_path / "nope"], make_settings(), progress=False)
    assert report.files_failed == [{"path": str(tmp_path / "nope"),
                                    "reason": "no such file or folder"}]
    assert report.files_ingested == 0


def test_ignore_file_and_hidden_files_are_skipped(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "keep.md", "# Keep\n\nKept: 12 herons.")
    write(root / "SOURCES.md", "# Sources\n\nIgnored by name.")
    write(root / "drafts" / "wip.md", "# WIP\n\nIgnored by folder glob.")
    write(root / "old.bak.txt", "Ignored by suffix glob.")
    write(root / ".hidden.md", "# Hidden\n\nHidden file.")
    write(root / ".git" / "notes.md", "# Git\n\nInside a hidden folder.")
    write(root / "sub" / ".secret.txt", "Hidden file in a subfolder.")
    write(root / "sub" / "deep.txt", "Deep: 4 cranes.")
    write(root / ".groundworkignore", "# comment line\nSOURCES.md\ndrafts/*\n\n*.bak.txt\n")
    settings = make_settings()
    report = ingest([root], settings, progress=False)
    assert report.files_seen == report.files_ingested == 2
    assert report.files_failed == []
    assert {c["source"] for c in stored(settings).values()} == {"keep.md", "sub/deep.txt"}


def test_demo_corpus_ignore_file_is_honoured(demo_index):
    sources = Store(demo_index).sources()
    assert "SOURCES.md" not in sources and "build_documents.py" not in sources
    assert ".groundworkignore" not in sources
    assert "cybertipline_policy_brief_2024.pdf" in sources


# -- chunk ids and locations ------------------------------------------------------------------


def test_chunks_are_located_and_ids_are_stable(tmp_path, builders, make_settings):
    root = tmp_path / "docs"
    good = write_good_files(root, builders)
    first, second = make_settings("one"), make_settings("two")
    ingest([root], first, progress=False)
    ingest([root], second, progress=False)
    a, b = stored(first), stored(second)
    assert a == b  # same ids, texts and metadata in two fresh indexes
    assert {c["source"] for c in a.values()} == set(good)
    assert all(len(pid) == 20 and int(pid, 16) >= 0 for pid in a)
    assert_locations(root, a)
    titles = {c["source"]: c["title"] for c in a.values()}
    assert titles == {"notes.txt": "Field notes", "guide.md": "Glacier Guide",
                      "page.html": "Forest Page", "report.pdf": "Desert Report",
                      "memo.docx": "Tundra Memo", "sub/nested.md": "Nested"}
    pdf_pages = {c["page"] for c in a.values() if c["source"] == "report.pdf"}
    assert pdf_pages == {1, 2}
    canyon = [c for c in a.values() if "Canyon paragraph 5000" in c["text"]]
    assert canyon and all(c["page"] == 2 for c in canyon)


def test_single_page_pdf_chunks_carry_page_1(tmp_path, builders, make_settings):
    root = tmp_path / "docs"
    write(root / "one.pdf", builders.pdf([["One page: 9 bridges."]], title="One"))
    settings = make_settings()
    ingest([root], settings, progress=False)
    chunks = stored(settings)
    assert [c["page"] for c in chunks.values()] == [1]
    assert_locations(root, chunks)


def test_demo_corpus_chunks_are_located(demo_index):
    chunks = stored(demo_index)
    assert len(chunks) > 40
    assert_locations(CORPUS, chunks)
    pdf = [c for c in chunks.values() if c["source"].endswith(".pdf")]
    assert len({c["page"] for c in pdf}) > 1


# -- incremental ingest -----------------------------------------------------------------------


def test_unchanged_changed_and_moved_chunks(tmp_path, builders, make_settings):
    root = tmp_path / "docs"
    good = write_good_files(root, builders)
    settings = make_settings()
    first = ingest([root], settings, progress=False)
    assert first.files_ingested == len(good) and first.chunks_embedded == first.chunks_added > 0

    again = ingest([root], settings, progress=False)
    assert again.files_unchanged == again.files_seen == len(good)
    assert again.files_ingested == again.chunks_embedded == again.chunks_added == 0
    assert again.chunks_deleted == 0 and again.chunks_total == first.chunks_total

    # notes.txt rewritten entirely: none of its old text may survive
    old_notes = texts_of(stored(settings), "notes.txt")
    write(root / "notes.txt", "Field notes v2\n\n" + paragraphs("Volcano", 5, seed=8))
    changed = ingest([root], settings, progress=False)
    assert changed.files_ingested == 1 and changed.files_unchanged == len(good) - 1
    assert changed.chunks_deleted == len(old_notes)
    chunks = stored(settings)
    new_notes = texts_of(chunks, "notes.txt")
    assert changed.chunks_added == len(new_notes) and changed.chunks_embedded == len(new_notes)
    assert not set(old_notes) & {c["text"] for c in chunks.values()}
    assert any("Volcano paragraph 8000" in t for t in new_notes)
    manifest = Manifest(Store(settings).manifest_path).entries
    assert sum(e["chunks"] for e in manifest.values()) == len(chunks) == changed.chunks_total
    assert_locations(root, chunks)

    # guide.md gets a new title and a paragraph inserted on top: the chunks that kept their text
    # moved, and their title and offsets must follow (nothing re-embedded but the new text)
    guide = (root / "guide.md").read_text()
    write(root / "guide.md", guide.replace("# Glacier Guide\n\n",
                                           "# Glacier Guide, revised\n\nA new opening paragraph "
                                           "about the revised glacier survey.\n\n"))
    moved = ingest([root], settings, progress=False)
    assert moved.files_ingested == 1
    chunks = stored(settings)
    assert_locations(root, chunks)
    assert {c["title"] for c in chunks.values() if c["source"] == "guide.md"} == {
        "Glacier Guide, revised"}
    assert moved.chunks_embedded < len(texts_of(chunks, "guide.md"))
    assert Store(settings).lexical_index_current()
    # what retrieval returns (dense and BM25 paths) carries the new locations too
    passages = Retriever(settings).run("Glacier station readings and sensors", 30)
    guide_hits = [p for p in passages if p.source == "guide.md"]
    assert guide_hits
    full, _ = extracted_text(root, "guide.md")
    for p in guide_hits:
        assert full[p.start:p.end] == p.text and p.title == "Glacier Guide, revised"


def test_prune_removes_deleted_files_only_when_asked(tmp_path, builders, make_settings):
    root = tmp_path / "docs"
    good = write_good_files(root, builders)
    settings = make_settings()
    ingest([root], settings, progress=False)
    total = Store(settings).count()
    gone = len(texts_of(stored(settings), "memo.docx"))
    assert gone > 0
    (root / "memo.docx").unlink()

    kept = ingest([root], settings, progress=False)
    assert kept.files_pruned == 0 and kept.chunks_deleted == 0
    assert "memo.docx" in Store(settings).sources() and Store(settings).count() == total

    pruned = ingest([root], settings, prune=True, progress=False)
    assert pruned.files_pruned == 1 and pruned.chunks_deleted == gone
    assert pruned.files_unchanged == len(good) - 1
    store = Store(settings)
    assert store.sources() == set(good) - {"memo.docx"}
    assert store.count() == total - gone == pruned.chunks_total
    assert "memo.docx" not in Manifest(store.manifest_path).entries
    assert store.lexical_index_current()
    assert sorted(bm25_ids(settings)) == sorted(stored(settings))


def test_prune_reads_the_files_from_the_manifest_only_when_the_record_vouches(
        tmp_path, make_settings, monkeypatch):
    """After a complete ingest, --prune takes the indexed files from the manifest (reading
    every chunk's metadata was most of a one-file removal); chunks the manifest does not know
    of (written since, the record gone) are still found by asking the store."""
    from assistant.types import Passage

    root = tmp_path / "docs"
    for name in ("a.md", "b.md", "c.md"):
        write(root / name, f"# {name}\n\n" + paragraphs(name[0].upper() + "Isle", 3))
    settings = make_settings()
    ingest([root], settings, progress=False)
    (root / "b.md").unlink()
    real_sources = Store.sources

    def refuse(self):
        raise AssertionError("the store was asked for its files")

    monkeypatch.setattr(Store, "sources", refuse)
    pruned = ingest([root], settings, prune=True, progress=False)
    assert pruned.files_pruned == 1 and pruned.chunks_deleted > 0
    monkeypatch.setattr(Store, "sources", real_sources)
    assert Store(settings).sources() == {"a.md", "c.md"}

    orphan = Passage(id="orphan-1", text="A chunk no manifest entry names.", source="ghost.md",
                     title="ghost", page=None, start=0, end=32, section="")
    Store(settings).replace_source("ghost.md", [orphan])  # a write: the record is gone
    again = ingest([root], settings, prune=True, progress=False)
    assert again.files_pruned == 1 and again.chunks_deleted == 1
    assert Store(settings).sources() == {"a.md", "c.md"}
    assert sorted(bm25_ids(settings)) == sorted(stored(settings))


def test_prune_with_a_missing_path_deletes_nothing(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\nAlpha: 3 kites.")
    settings = make_settings()
    ingest([root], settings, progress=False)
    report = ingest([tmp_path / "dcos"], settings, prune=True, progress=False)  # a typo
    assert report.files_failed == [{"path": str(tmp_path / "dcos"),
                                    "reason": "no such file or folder"}]
    assert report.files_pruned == report.chunks_deleted == 0
    assert Store(settings).sources() == {"a.md"}


def test_prune_via_cli(tmp_path, cli, make_settings):
    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\nAlpha: 3 kites.")
    write(root / "b.md", "# B\n\nBravo: 5 kites.")
    settings = make_settings()
    ingest([root], settings, progress=False)
    (root / "b.md").unlink()
    proc = cli("ingest", root, "--index", settings.index_dir, "--prune", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files_pruned"] == 1 and report["chunks_deleted"] == 1
    assert report["chunks_total"] == 1


def test_identical_files_are_both_stored_but_embedded_once(tmp_path, make_settings):
    root = tmp_path / "docs"
    body = "# Twins\n\n" + paragraphs("Lagoon", 6, seed=9)
    write(root / "one.md", body)
    write(root / "two.md", body)
    settings = make_settings()
    report = ingest([root], settings, progress=False)
    chunks = stored(settings)
    one, two = texts_of(chunks, "one.md"), texts_of(chunks, "two.md")
    assert one and sorted(one) == sorted(two)
    assert report.chunks_added == len(chunks) == 2 * len(one)
    assert report.chunks_embedded == len(set(one))
    assert len(set(chunks)) == len(chunks)  # per-file ids
    embeddings = Store(settings).embeddings(list(chunks))
    by_text: dict[str, list] = {}
    for pid, c in chunks.items():
        by_text.setdefault(c["text"], []).append(np.asarray(embeddings[pid]))
    # the second file reuses the first one's vectors (equal up to float32 storage)
    assert all(len(v) == 2 and np.allclose(v[0], v[1], atol=1e-6) for v in by_text.values())


def test_repeated_text_inside_one_file_gets_distinct_ids(tmp_path, make_settings):
    root = tmp_path / "docs"
    block = paragraphs("Reef", 2, seed=10).replace("\n\n", " ")  # about 100 tokens
    write(root / "echo.txt", "\n\n".join([block] * 4))
    settings = make_settings()
    report = ingest([root], settings, progress=False)
    chunks = stored(settings)
    texts = [c["text"] for c in chunks.values()]
    assert len(texts) > len(set(texts))  # some chunk text occurs twice
    assert report.chunks_embedded == len(set(texts))
    assert_locations(root, chunks)


def test_files_share_encoder_passes_but_are_recorded_one_by_one(tmp_path, make_settings,
                                                                monkeypatch):
    """Chunks of several files are embedded together, yet each file's manifest entry is saved
    only once its own chunks are in the store (what crash safety rests on)."""
    root = tmp_path / "docs"
    for i in range(6):
        write(root / f"f{i}.txt", f"File {i}\n\n" + paragraphs(f"Reef{i}", 2, seed=i))
    passes: list[int] = []
    saves: list[tuple[set[str], set[str]]] = []  # (sources in the manifest, sources stored)
    original_embed, original_save = Store._embeddings_for, Manifest.save

    def counting_embed(self, passages):
        passes.append(len(passages))
        return original_embed(self, passages)

    def checking_save(self):
        stored_sources = {m["source"] for m in Store(together).collection.get()["metadatas"]}
        saves.append((set(self.entries), stored_sources))
        original_save(self)

    monkeypatch.setattr(Store, "_embeddings_for", counting_embed)
    monkeypatch.setattr(Manifest, "save", checking_save)
    together = make_settings("together")  # default batch: all six files in one encoder pass
    report = ingest([root], together, progress=False)
    assert report.files_ingested == 6 and passes == [report.chunks_embedded]
    assert len(saves) == 6 and [len(m) for m, _ in saves] == [1, 2, 3, 4, 5, 6]
    assert all(manifest <= stored_sources for manifest, stored_sources in saves)

    passes.clear()
    separate = make_settings("separate", ingest_batch=1)  # one file per pass, as before
    ingest([root], separate, progress=False)
    assert len(passes) == 6 and sum(passes) == report.chunks_embedded
    a, b = Store(together), Store(separate)
    ids = sorted(stored(together))
    assert ids == sorted(stored(separate))
    va, vb = a.embeddings(ids), b.embeddings(ids)
    assert max(float(np.abs(np.asarray(va[i]) - np.asarray(vb[i])).max()) for i in ids) < 1e-5


class SlowEncoder:
    """Store._embeddings_for made slower (the encoder of a big corpus), noting when it runs,
    and ingest.chunk noting whether it ran while an encode did: what the overlap is."""

    def __init__(self, monkeypatch, seconds: float = 0.3):
        import assistant.ingest as ingest_module

        self.encoding = threading.Event()
        self.passes: list[int] = []
        self.chunked_while_encoding = 0
        real_embed, real_chunk = Store._embeddings_for, ingest_module.chunk

        def embed(store, passages):
            self.encoding.set()
            try:
                time.sleep(seconds)
                self.passes.append(len(passages))
                return real_embed(store, passages)
            finally:
                self.encoding.clear()

        def chunk(*args, **kwargs):
            self.chunked_while_encoding += self.encoding.wait(timeout=1.0)  # (the writer may
            # not have reached the encoder yet)
            return real_chunk(*args, **kwargs)

        monkeypatch.setattr(Store, "_embeddings_for", embed)
        monkeypatch.setattr(ingest_module, "chunk", chunk)


def test_files_chunked_while_the_encoder_runs_make_the_same_index(tmp_path, make_settings,
                                                                  monkeypatch):
    """The writer thread embeds a batch while the next files are read and chunked; the index,
    the manifest order (each file recorded after its chunks are stored) and the BM25 index
    are those of an ingest that chunks everything first and embeds it in one pass."""
    root = tmp_path / "docs"
    for i in range(8):
        write(root / f"f{i}.md", f"# Reef {i}\n\n" + paragraphs(f"Reef{i}", 12, seed=i))
    overlapped = make_settings("overlapped", embed_batch_size=8, ingest_batch=8)
    assert Store(overlapped).embedder  # loaded before: the first batch is embedded at once
    slow = SlowEncoder(monkeypatch)
    saves: list[tuple[set[str], set[str]]] = []
    original_save = Manifest.save

    def checking_save(self):
        saves.append((set(self.entries), Store(overlapped).sources()))
        original_save(self)

    monkeypatch.setattr(Manifest, "save", checking_save)
    report = ingest([root], overlapped, progress=False)
    assert report.files_ingested == 8 and not report.files_failed
    assert slow.chunked_while_encoding > 0  # chunking overlapped an encode
    assert len(slow.passes) > 1 and all(n >= 8 for n in slow.passes[:-1])
    assert len(saves) == 8 and [len(m) for m, _ in saves] == list(range(1, 9))
    assert all(manifest <= stored_sources for manifest, stored_sources in saves)

    slow.passes.clear()
    monkeypatch.setattr(Manifest, "save", original_save)
    whole = make_settings("whole", embed_batch_size=100_000, ingest_batch=100_000)
    ingest([root], whole, progress=False)
    assert len(slow.passes) == 1  # everything chunked first, then one pass
    assert stored(overlapped) == stored(whole)
    ids = sorted(stored(whole))
    a, b = Store(overlapped).embeddings(ids), Store(whole).embeddings(ids)
    assert max(float(np.abs(np.asarray(a[i]) - np.asarray(b[i])).max()) for i in ids) < 1e-5
    assert sorted(bm25_ids(overlapped)) == ids == sorted(bm25_ids(whole))
    assert Manifest(Store(overlapped).manifest_path).entries == \
        Manifest(Store(whole).manifest_path).entries


def test_a_file_failing_mid_chunking_while_another_is_encoded_leaves_the_index_as_before(
        tmp_path, make_settings, monkeypatch):
    """A bug that stops one file's chunking half way, while the writer is embedding another
    file's chunks (and some of the failing file's own): the other file is written and
    recorded, the failing one leaves no chunk, no manifest entry and no BM25 entry, and the
    next run ingests it into the same index a clean run makes."""
    import assistant.ingest as ingest_module

    root = tmp_path / "docs"
    write(root / "c_old.md", "# Old\n\n" + paragraphs("Lagoon", 4, seed=1))
    settings = make_settings(embed_batch_size=8, ingest_batch=8)
    ingest([root], settings, progress=False)  # the encoder is loaded from here on
    before = stored(settings)
    write(root / "a_big.md", "# Big\n\n" + paragraphs("Atoll", 40, seed=2))
    write(root / "b_bad.md", "# Bad\n\n" + paragraphs("Shoal", 40, seed=3))
    slow = SlowEncoder(monkeypatch)
    real_passages = ingest_module._passages
    failed_while_encoding = []

    def failing(source, title, chunks):
        for n, passage in enumerate(real_passages(source, title, chunks)):
            if source == "b_bad.md" and n == 12:
                failed_while_encoding.append(slow.encoding.wait(timeout=10))
                raise RuntimeError("a bug half way through the file")
            yield passage

    monkeypatch.setattr(ingest_module, "_passages", failing)
    report = ingest([root], settings, progress=False)
    assert failed_while_encoding == [True]
    assert [f["path"] for f in report.files_failed] == ["b_bad.md"]
    assert "RuntimeError" in report.files_failed[0]["reason"]
    after = stored(settings)
    assert {c["source"] for c in after.values()} == {"c_old.md", "a_big.md"}
    assert {k: v for k, v in after.items() if v["source"] == "c_old.md"} == before
    assert sorted(bm25_ids(settings)) == sorted(after)
    assert Store(settings).lexical_index_current()
    assert set(Manifest(Store(settings).manifest_path).entries) == {"c_old.md", "a_big.md"}

    monkeypatch.setattr(ingest_module, "_passages", real_passages)
    again = ingest([root], settings, progress=False)
    assert again.files_ingested == 1 and not again.files_failed
    clean = make_settings("clean", embed_batch_size=8)
    ingest([root], clean, progress=False)
    assert stored(settings) == stored(clean)
    assert sorted(bm25_ids(settings)) == sorted(stored(clean))


def test_unchanged_folder_is_answered_without_opening_the_store(tmp_path, builders,
                                                                make_settings, cli):
    root = tmp_path / "docs"
    write_good_files(root, builders)
    write(root / "empty.txt", "")
    settings = make_settings()
    first = ingest([root], settings, progress=False)
    assert first.store_opened and [f["path"] for f in first.files_failed] == ["empty.txt"]

    quick = ingest([root], settings, progress=False)
    full = ingest([root], settings, store=Store(settings), progress=False)  # checks the store
    assert not quick.store_opened and full.store_opened
    skip = {"seconds", "store_opened"}
    assert ({k: v for k, v in quick.to_dict().items() if k not in skip}
            == {k: v for k, v in full.to_dict().items() if k not in skip})
    assert quick.files_unchanged == first.files_ingested and quick.files_failed

    def opened(**kwargs) -> bool:
        return ingest([root], settings, progress=False, **kwargs).store_opened

    # Whatever may have changed sends the run through the store again, once.
    write(root / "notes.txt", "Field notes v3\n\n" + paragraphs("Tundra", 2, seed=9))
    assert opened() and not opened()
    Store(settings).replace_source("notes.txt", [])  # a write that did not come from ingest
    assert opened() and not opened()
    shutil.rmtree(settings.index_dir / settings.collection / "bm25")
    assert opened() and Store(settings).lexical_index_current() and not opened()
    (root / "guide.md").unlink()
    assert not opened() and opened(prune=True) and not opened(prune=True)
    resized = ingest([root], settings.replace(chunk_tokens=96), progress=False)
    assert resized.store_opened and resized.files_ingested == resized.files_seen - 1
    # Another store in its place (in a new process: this one's Chroma client caches the old).
    shutil.rmtree(settings.index_dir / "chroma")
    run = cli("ingest", root, "--index", settings.index_dir, "--json")
    refilled = json.loads(run.stdout)
    assert refilled["store_opened"] and refilled["chunks_embedded"] > 0


def test_cli_reingest_of_unchanged_folder_loads_no_model_or_store(tmp_path, cli):
    """The quick path is about process start: no torch, Chroma or llama-index imported."""
    index = tmp_path / "index"
    assert cli("ingest", CORPUS, "--index", index).returncode == 0
    probe = ("import sys, assistant.cli as c; code = c.main(['ingest', sys.argv[1], '--index', "
             "sys.argv[2], '--json']); heavy = [m for m in ('torch', 'chromadb', "
             "'llama_index.core', 'sentence_transformers') if m in sys.modules]; "
             "print('HEAVY', heavy, code)")
    run = subprocess.run([str(GROUNDWORK.with_name("python")), "-c", probe, str(CORPUS),
                          str(index)], capture_output=True, text=True, env=subprocess_env(),
                         timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout[:run.stdout.rindex("HEAVY")])
    assert report["files_ingested"] == 0 and report["store_opened"] is False
    assert run.stdout.strip().endswith("HEAVY [] 0")


def test_cli_ingest_of_one_new_file_imports_only_what_it_uses(tmp_path, cli):
    """A one-file ingest's fixed cost: the sentence splitter without llama-index's package init,
    the encoder on onnxruntime without torch, and the collection set to save its vector index
    often enough that the next process replays few writes."""
    index, docs = tmp_path / "index", tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    assert cli("ingest", docs, "--index", index).returncode == 0
    write(docs / "new.md", "# Kites\n\n" + paragraphs("Kite", 3, seed=5))
    probe = ("import sys, assistant.cli as c; code = c.main(['ingest', sys.argv[1], '--index', "
             "sys.argv[2], '--json']); core = sys.modules.get('llama_index.core'); "
             "print('USED', 'torch' in sys.modules, 'VectorStoreIndex' in vars(core), code)")
    run = subprocess.run([str(GROUNDWORK.with_name("python")), "-c", probe, str(docs),
                          str(index)], capture_output=True, text=True, env=subprocess_env(),
                         timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout[:run.stdout.rindex("USED")])
    assert report["files_ingested"] == 1 and report["chunks_added"] > 0
    assert run.stdout.strip().endswith("USED False False 0")
    hnsw = Store(Settings.load(index_dir=index)).collection.configuration_json["hnsw"]
    assert hnsw["sync_threshold"] == SYNC_THRESHOLD


def test_a_process_that_chunks_still_loads_the_rest_of_llama_index():
    """Only `groundwork ingest` imports the splitter without llama-index's package inits: a
    server that chunked an upload goes on to load an LLM generator's llama-index modules."""
    code = ("from assistant.config import Settings\nfrom assistant.ingest import chunk\n"
            "chunk(['One sentence. Another one.'], Settings.load())\n"
            "from llama_index.llms.openai_like import OpenAILike\nprint('OK')")
    run = subprocess.run([str(GROUNDWORK.with_name("python")), "-c", code], capture_output=True,
                         text=True, env=subprocess_env(), timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "OK", run.stderr[-2000:]


def test_a_store_reopens_only_after_writes_it_did_not_make(tmp_path, make_settings,
                                                            monkeypatch):
    """An ingest through an open store (a UI upload) reopens Chroma only when someone else
    wrote since: its own writes it has seen, another process's it must. (The other writer is a
    process of its own, as in use: two embedded clients of one folder in one process is what
    Chroma warns against, and it could fail here with "database is locked".)"""
    root = tmp_path / "docs"
    write(root / "harbour.md", "# Harbour\n\n" + paragraphs("Harbour", 2))
    settings = make_settings()
    mine = Store(settings)
    opened = []
    real_open = Store._open
    monkeypatch.setattr(Store, "_open", lambda self: (opened.append(self), real_open(self))[1])
    ingest([root], settings, store=mine, progress=False)
    write(root / "glacier.md", "# Glacier\n\n" + paragraphs("Glacier", 2, seed=1))
    ingest([root], settings, store=mine, progress=False)
    assert opened == []
    harbour = len(mine.collection.get(where={"source": "harbour.md"}, include=[])["ids"])
    total = mine.count()
    assert 0 < harbour < total
    other = ("import sys; from assistant.config import Settings; from assistant.store import "
             "Store; Store(Settings.load(index_dir=sys.argv[1])).replace_source('harbour.md', [])")
    run = subprocess.run([str(GROUNDWORK.with_name("python")), "-c", other,
                          str(settings.index_dir)], capture_output=True, text=True,
                         env=subprocess_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    mine.reopen()
    assert opened == [mine] and mine.count() == total - harbour


def test_bm25_scores_are_bm25s_own(tmp_path):
    """The BM25 index is written with numpy, not bm25s's per-chunk loop: the same float32
    score matrix and vocabulary as bm25s.BM25().index() of the same tokens."""
    import bm25s

    from assistant.store import LexicalIndex

    texts = [paragraphs(topic, 2, seed=i) for i, topic in enumerate(
        ["Harbour", "Glacier", "Forest", "Desert", "Harbour"])] + ["", "gulls gulls gulls"]
    ids = [f"c{i}" for i in range(len(texts))]
    LexicalIndex.build(tmp_path, ids, texts)
    ours = bm25s.BM25.load(str(tmp_path))
    vocab: dict[str, int] = {}
    theirs = bm25s.BM25()
    theirs.index(bm25s.tokenization.Tokenized(
        ids=LexicalIndex._ids(LexicalIndex._tokenise(texts), vocab), vocab=vocab),
        show_progress=False)
    assert ours.vocab_dict == theirs.vocab_dict
    assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(texts)
    for key in ("data", "indices", "indptr"):
        assert ours.scores[key].dtype == theirs.scores[key].dtype
        assert np.array_equal(ours.scores[key], theirs.scores[key]), key


# -- crash safety -----------------------------------------------------------------------------


def test_killed_ingest_recovers_to_the_same_index(tmp_path, make_settings):
    root = tmp_path / "many"
    n_files = 40
    for i in range(n_files):
        write(root / f"file_{i:02d}.txt", f"File {i}\n\n" + paragraphs(f"Site{i}", 3, seed=i))
    # two files share one paragraph, so content-hash reuse is in play during the crash too
    write(root / "file_40.txt", "Shared\n\n" + paragraphs("Site3", 2, seed=3))
    n_files += 1

    crashed = make_settings("crashed")
    manifest = crashed.index_dir / crashed.collection / "manifest.json"
    log = tmp_path / "stderr.log"
    attempts = []
    # Kill once a few files are done (+ a delay that lands inside the next file's embed/add/
    # delete), then again further on; more attempts only if no kill was really mid-run.
    for target, delay in ((4, 0.0), (7, 0.02), (12, 0.045), (18, 0.01)):
        if len(attempts) == 1:
            # edit files that are already indexed, so the next kill can land between writing a
            # file's new chunks and deleting its stale ones
            for i in range(3):
                p = root / f"file_{i:02d}.txt"
                write(p, p.read_text().replace(f"Site{i} paragraph", f"Site{i} revised paragraph")
                      + "\n\nAppended closing paragraph for file " + str(i) + ".")
        killed, done = kill_ingest_when(root, crashed.index_dir, manifest, target, delay, log)
        attempts.append((target, delay, killed, done))
        if len(attempts) >= 2 and any(k and 0 < d < n_files for _, _, k, d in attempts):
            break
    assert any(killed and 0 < done < n_files for _, _, killed, done in attempts), attempts

    rerun = ingest([root], crashed, progress=False)
    assert rerun.files_failed == []
    assert rerun.files_unchanged + rerun.files_ingested == n_files
    assert rerun.files_unchanged == attempts[-1][3]

    clean = make_settings("clean")
    ingest([root], clean, progress=False)
    got, want = stored(crashed), stored(clean)
    assert sorted(got) == sorted(want)  # same ids: no duplicates, no orphans
    assert got == want  # same texts, sources and locations
    assert_locations(root, got)
    assert Manifest(Store(crashed).manifest_path).entries == Manifest(
        Store(clean).manifest_path).entries
    assert Store(crashed).lexical_index_current()
    assert sorted(bm25_ids(crashed)) == sorted(want)
    # and it answers like the clean index
    q = "How many sensors did the Site17 crew replace?"
    top = [p.id for p in Retriever(crashed).run(q, 5)]
    assert top and top == [p.id for p in Retriever(clean).run(q, 5)]


# -- Chroma server ----------------------------------------------------------------------------


def test_ingest_and_retrieve_against_chroma_server(tmp_path, builders, make_settings,
                                                   chroma_server):
    root = tmp_path / "docs"
    good = write_good_files(root, builders)
    settings = make_settings(chroma_url=chroma_server, collection="test-ingest-server")
    first = ingest([root], settings, progress=False)
    assert first.files_ingested == len(good) and first.files_failed == []
    store = Store(settings)
    assert store.client.__class__.__name__ != "PersistentClient"
    assert not (settings.index_dir / "chroma").exists()  # nothing embedded locally
    chunks = stored(settings)
    assert len(chunks) == first.chunks_total == store.count()
    assert_locations(root, chunks)

    local = make_settings("local")
    ingest([root], local, progress=False)
    assert chunks == stored(local)

    again = ingest([root], settings, progress=False)
    assert again.files_unchanged == len(good) and again.chunks_embedded == 0

    passages = Retriever(settings).run("How strong was the wind at the Glacier station?", 3)
    assert passages and passages[0].source == "guide.md"
    assert passages[0].similarity >= settings.relevance_floor


def test_emptied_store_is_refilled_despite_the_manifest(tmp_path, make_settings, chroma_server):
    import chromadb

    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\n" + paragraphs("Alpine", 3, seed=11))
    write(root / "b.txt", "B\n\n" + paragraphs("Bayou", 3, seed=12))
    settings = make_settings(chroma_url=chroma_server, collection="test-wiped-server")
    first = ingest([root], settings, progress=False)
    assert first.files_ingested == 2 and first.chunks_total > 0
    port = int(chroma_server.rsplit(":", 1)[1])
    chromadb.HttpClient(host="127.0.0.1", port=port).delete_collection(settings.collection)

    # the local manifest still lists both files; the server has nothing
    again = ingest([root], settings, progress=False)
    assert again.files_ingested == 2 and again.files_unchanged == 0
    assert again.chunks_total == first.chunks_total
    assert Retriever(settings).run("Alpine station readings", 3)


def test_unreachable_chroma_server_is_a_clear_error(tmp_path, make_settings, cli):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match=r"the vector store at .* is not reachable .*"
                                               r"Connection refused.*chroma run"):
        Store(make_settings(chroma_url=url))
    with pytest.raises(StoreError, match="chroma_url must look like http://HOST:PORT"):
        Store(make_settings(chroma_url="localhost:8000"))

    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\nAlpha.")
    proc = cli("ingest", root, "--index", tmp_path / "index", "--chroma-url", url, "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"error: the vector store at {url} is not reachable" in proc.stderr
    assert "Traceback" not in proc.stderr



def test_ignore_patterns_are_gitignore_like(make_settings, tmp_path):
    from assistant.ingest import ingest

    root = tmp_path / "docs"
    (root / "drafts").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "keep.md").write_text("# Keep\n\nThe kept file says 7 things.\n")
    (root / "drafts" / "wip.md").write_text("# Draft\n\nNot ready.\n")
    (root / "sub" / "NOTES.md").write_text("# Notes\n\nAbout the folder.\n")
    (root / ".groundworkignore").write_text("# comment\ndrafts/\nNOTES.md\n")
    report = ingest([root], make_settings(), progress=False)
    assert (report.files_seen, report.files_ingested) == (1, 1)


def test_cli_exit_code_when_nothing_can_be_ingested(cli, tmp_path):
    result = cli("ingest", tmp_path / "no-such-folder", "--index", tmp_path / "ix", "--json")
    assert result.returncode == 1
    assert "no such file or folder" in result.stdout


# -- chunking hostile text: windows, unbroken runs, the per-file cap ----------------------------


def test_a_page_shorter_than_the_window_is_split_as_the_splitter_splits_it():
    from llama_index.core.node_parser import SentenceSplitter

    from assistant.ingest import SPLIT_WINDOW, chunk
    from assistant.models import token_encoder

    page = paragraphs("Harbour", 60, seed=3)
    assert len(page) < SPLIT_WINDOW
    settings = Settings.load()
    splitter = SentenceSplitter(chunk_size=settings.chunk_tokens,
                                chunk_overlap=settings.chunk_overlap, tokenizer=token_encoder())
    assert [c[0] for c in chunk([page], settings)] == [p.strip() for p in
                                                         splitter.split_text(page)]


def test_one_long_line_is_split_in_windows_and_every_chunk_located():
    from assistant.ingest import SPLIT_WINDOW, chunk

    line = PROSE * (3 * SPLIT_WINDOW // len(PROSE))
    chunks = chunk([line], Settings.load())
    assert len(chunks) > 3 * SPLIT_WINDOW // 800
    for text, page, start, end, _ in chunks:
        assert line[start:end] == text and page is None
    assert chunks[-1][3] == len(line.rstrip())


def test_runs_without_a_break_are_left_out_and_the_text_around_them_kept():
    from assistant.ingest import chunk

    page = markdown_with_base64(kilobytes=50)
    chunks = chunk([page], Settings.load())
    assert [t for t, *_ in chunks if "316 bowls" in t] and [t for t, *_ in chunks if "9 hours" in t]
    assert not any("iVBORw0KGgo" * 3 in t for t, *_ in chunks)
    assert all(page[start:end] == text for text, _, start, end, _ in chunks)
    with pytest.raises(Unreadable, match="no text to index: only runs of over 4,096 characters"):
        chunk(["A" * 10_000], Settings.load())


def test_a_file_over_max_file_chunks_is_refused(tmp_path, make_settings):
    from assistant.ingest import chunk

    with pytest.raises(Unreadable, match=r"more than 5 chunks of 128 tokens \(setting "
                                         r"max_file_chunks\)"):
        chunk([paragraphs("Harbour", 40)], Settings.load(max_file_chunks=5))
    write(tmp_path / "docs" / "long.md", paragraphs("Harbour", 40))
    write(tmp_path / "docs" / "short.md", "A short note: 3 gulls.")
    report = ingest([tmp_path / "docs"], make_settings(max_file_chunks=5), progress=False)
    assert report.files_ingested == 1
    assert [f["path"] for f in report.files_failed] == ["long.md"]


def test_bm25_is_updated_for_the_changed_chunks_and_ranks_as_a_rebuild(tmp_path, make_settings,
                                                                       monkeypatch):
    """An ingest that adds, edits and removes files applies only its own changes to the BM25
    index (nothing read back from Chroma), and that index ranks every question exactly as one
    rebuilt from every stored text."""
    root = tmp_path / "docs"
    for i, topic in enumerate(["Harbour", "Glacier", "Forest", "Desert"]):
        write(root / f"{topic.lower()}.md", f"# {topic}\n\n" + paragraphs(topic, 4, seed=i))
    settings = make_settings()
    ingest([root], settings, progress=False)

    def no_rebuild(self):
        raise AssertionError("the BM25 index was rebuilt from the store")

    monkeypatch.setattr(Store, "rebuild_lexical_index", no_rebuild)
    write(root / "volcano.md", "# Volcano\n\n" + paragraphs("Volcano", 3, seed=8))
    write(root / "forest.md", "# Forest\n\n" + paragraphs("Forest", 2, seed=9))
    (root / "desert.md").unlink()
    report = ingest([root], settings, prune=True, progress=False)
    assert report.files_ingested == 2 and report.files_pruned == 1 and report.chunks_deleted
    assert sorted(bm25_ids(settings)) == sorted(stored(settings))
    assert Store(settings).lexical_index_current()
    updated = Store(settings).load_lexical_index()
    questions = ["volcano station readings", "forest paragraph 9001 sensors", "desert wind",
                 "harbour crew replaced sensors on day 3", "glacier shift change"]
    monkeypatch.undo()
    Store(settings).rebuild_lexical_index()
    rebuilt = Store(settings).load_lexical_index()
    for q in questions:
        got, want = updated.search(q, 10), rebuilt.search(q, 10)
        assert [pid for pid, _ in got] == [pid for pid, _ in want], q
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5), q


# -- tables --------------------------------------------------------------------------------------


def test_table_chunks_carry_caption_headers_and_located_cells(tmp_path, builders,
                                                              make_settings):
    from assistant.store import record_to_passage

    root = tmp_path / "docs"
    root.mkdir()
    rows = [["Indicator", 2023, 2024]] + [[f"Berth {k} calls", 100 + k, 200 + k]
                                          for k in range(1, 41)]
    (root / "harbour.xlsx").write_bytes(builders.xlsx({"Harbour 2026": rows}))
    settings = make_settings(chunk_tokens=64, max_file_chunks=2)  # tables do not count there
    report = ingest([root], settings, progress=False)
    assert not report.files_failed, report.summary()
    got = Store(settings).collection.get(include=["documents", "metadatas"])
    passages = [record_to_passage(pid, text, meta) for pid, text, meta
                in zip(got["ids"], got["documents"], got["metadatas"])]
    assert len(passages) > 2
    seen = {}
    for p in passages:
        assert p.text.startswith("Table 1: Harbour 2026") and p.section == "Harbour 2026"
        assert p.analysis.sentences == [] and p.analysis.table.columns == rows[0][:1] + [
            "2023", "2024"]
        for cell in p.analysis.cells:
            row = p.analysis.table.rows[cell.row]
            assert p.text[cell.start:cell.end] == row[cell.column]
            line = p.text[p.text.rfind("\n", 0, cell.start) + 1:cell.end]
            assert line.startswith(f"{row[0]} — ") and line.endswith(
                f"{p.analysis.table.columns[cell.column]}: {row[cell.column]}")
            seen[cell.address] = row[cell.column]
    assert seen["'Harbour 2026'!C41"] == "240" and len(seen) == 80  # every cell, once
    # An index made by an earlier analysis version keeps its tables: only spaCy's part is
    # redone (from the text alone, a table chunk would read as prose).
    pid, text, meta = got["ids"][0], got["documents"][0], got["metadatas"][0]
    older = record_to_passage(pid, text, {**meta, "analysis_version": "en_core_web_sm-3.8.0/1"})
    assert older.analysis.table == passages[0].analysis.table
    assert older.analysis.cells == passages[0].analysis.cells
    assert older.analysis.title_terms is None  # read again when retrieved
    prose = {**meta, "analysis": Analysis([], ["x"]).to_json(), "analysis_version": "old"}
    assert record_to_passage(pid, text, prose).analysis is None  # made again when retrieved


def test_a_row_wider_than_a_chunk_is_split_by_columns_keeping_its_label():
    from assistant.models import token_encoder
    from assistant.tables import chunks, from_grid

    header = ["Site"] + [f"Count in {year}" for year in range(1990, 2030)]
    table = from_grid([header, ["North Point lighthouse"] + [str(k) for k in range(40)]])
    encode = token_encoder()
    pieces = list(chunks(table, 64, lambda t: len(encode(t))))
    assert len(pieces) > 2
    assert all(len(encode(text)) <= 64 for text, _ in pieces)
    assert all(text.split("\n")[1].startswith("North Point lighthouse — ") for text, _ in pieces)
    assert sorted(c.column for _, a in pieces for c in a.cells) == list(range(1, 41))


def test_table_rows_past_max_table_rows_are_refused_with_the_reason(tmp_path, make_settings):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "big.csv").write_text("Row,Value\n" + "".join(f"r{k},{k}\n" for k in range(30)))
    (root / "ok.txt").write_text("A short note about nothing in particular.\n")
    report = ingest([root], make_settings(max_table_rows=10), progress=False)
    assert report.files_ingested == 1
    (failed,) = report.files_failed
    assert failed["path"] == "big.csv" and "max_table_rows" in failed["reason"]


def test_a_large_table_is_written_a_part_at_a_time_with_progress_in_rows(tmp_path, monkeypatch,
                                                                          make_settings, capsys):
    """Its chunks are made as they are written (never all held at once), the progress counts
    its rows, and the manifest records it only once its last part is written."""
    from assistant import tables

    root = tmp_path / "docs"
    root.mkdir()
    rows = 120
    (root / "counts.csv").write_text("Station,Riders,Delay (min)\n" + "".join(
        f"Station {k},{1000 + k},{k % 7}\n" for k in range(rows)))
    (root / "note.txt").write_text("A short note about the station counts.\n")
    events: list[str] = []  # "chunk" made, "pass" of the encoder, in order
    passes: list[int] = []
    seen = []  # the FileProgress reports
    recorded: list[int] = []  # the CSV's rows reported done when the manifest first names it
    original_chunks, original_embed, original_save = tables.chunks, Store._embeddings_for, \
        Manifest.save

    def counting_chunks(*args):
        for piece in original_chunks(*args):
            events.append("chunk")
            yield piece

    def counting_embed(self, passages):
        events.append("pass")
        passes.append(len(passages))
        return original_embed(self, passages)

    def checking_save(self):
        if "counts.csv" in self.entries and not recorded:
            recorded.append(max(p.done for p in seen if p.path == "counts.csv"))
        original_save(self)

    monkeypatch.setattr(tables, "chunks", counting_chunks)
    monkeypatch.setattr(Store, "_embeddings_for", counting_embed)
    monkeypatch.setattr(Manifest, "save", checking_save)
    settings = make_settings(chunk_tokens=64, ingest_batch=8)
    report = ingest([root], settings, progress=True, on_progress=seen.append)
    assert report.files_ingested == 2 and not report.files_failed
    table = [p for p in seen if p.path == "counts.csv"]
    assert len(table) > 3 and all(p.total == rows for p in table)
    assert [p.done for p in table] == sorted(p.done for p in table)
    assert 0 < table[0].done < rows and table[-1].done == rows
    # Encoder passes of a batch each, the first before the table was all chunked.
    assert len(passes) > 3 and max(passes) <= 8
    assert events.index("pass") < len(events) - 1 - events[::-1].index("chunk")
    assert recorded == [rows]  # recorded once all its rows were written
    store = Store(settings)
    stored = store.collection.get(where={"source": "counts.csv"})["ids"]
    assert Manifest(store.manifest_path).entries["counts.csv"]["chunks"] == len(stored)
    assert "counts.csv" in capsys.readouterr().err  # the bar within the file


def test_a_chunk_never_starts_inside_a_bold_lead_in():
    """The splitter cuts "**18 U.S.C. 2258A.** The federal law ..." after "U.S.": the chunk
    must start with the term its definition is about."""
    from assistant.ingest import chunk

    text = (CORPUS / "cybertipline_glossary.md").read_text()
    starts = [piece for piece, *_ in chunk([text], Settings())]
    assert any(p.startswith("**18 U.S.C. 2258A.** The U.S. federal law") for p in starts)
    assert not [p for p in starts if p.startswith("*") and not p.startswith("**")]
    assert not [p for p in starts if p[:1].isdigit() and ".**" in p.split("\n")[0][:20]]
