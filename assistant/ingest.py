"""Files -> located chunks -> embeddings -> the store, incrementally and safe to kill at any point.

Crash safety comes from ordering, not from transactions: a file's chunks are upserted under ids
derived from their content, its stale chunks are deleted by asking the store (not the manifest),
and only then is the manifest entry written (atomically). A run killed anywhere leaves at worst
a file whose manifest entry is old, which the next run simply redoes with the same ids. The new
chunks of several files share one encoder pass (the encoder is most of the cost, and small
calls waste it), but each file is still written, then recorded, in turn; a writer thread does
that while the next files are read and chunked. A file's chunks are made as they are written,
`ingest_batch` at a time, so a 100,000-row table is never held as chunks, cells and vectors all
at once (its rows are: the reader's table); it is recorded only once its last part is written,
and its stale chunks deleted then. Chunks are not analysed here: spaCy's pass cost
as much as the embedding, and most chunks of a large corpus are never retrieved; a chunk is
analysed the first time a question retrieves it, and that analysis stored beside it
(`Store.save_analyses`).

A run over files that have not changed since the last complete ingest is answered from the
manifest without opening the store or loading a model.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import fnmatch
import functools
import hashlib
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.config import Settings, hidden, import_past_inits
from assistant.models import token_encoder
from assistant.procs import file_lock
from assistant.readers import PAGE_SEP, Extracted, Unreadable, extract
from assistant.store import (
    BM25_DIR,
    BM25_STAMP,
    INGEST_LOCK,
    INGEST_RECORD,
    MANIFEST,
    Store,
    chroma_dir,
    drop_index,
    embed_model_id,
    local_dir,
    read_ingest_state,
    save_ingest_state,
)
from assistant.text import opens_bold_lead, section_headings
from assistant.types import Analysis, Passage

IGNORE_FILE = ".groundworkignore"


@dataclass
class IngestReport:
    files_seen: int = 0
    files_ingested: int = 0
    files_unchanged: int = 0
    files_failed: list[dict] = field(default_factory=list)  # {path, reason}
    files_pruned: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    store_opened: bool = True  # False: nothing changed since the last complete ingest
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            f"{self.files_seen} files seen: {self.files_ingested} ingested, "
            f"{self.files_unchanged} unchanged, {len(self.files_failed)} failed"
            + (f", {self.files_pruned} pruned" if self.files_pruned else ""),
            f"chunks: +{self.chunks_added} -{self.chunks_deleted}, "
            f"{self.chunks_embedded} embedded, "
            f"{self.chunks_total} in the index ({self.seconds:.1f} s"
            + ("" if self.store_opened else "; nothing changed since the last ingest") + ")",
        ]
        lines += [f"  failed: {one_line(f['path'])}: {f['reason']}" for f in self.files_failed]
        return "\n".join(lines)


def one_line(name: str) -> str:
    """A file name shown as one line that reads as what it is: line breaks, other controls and
    bidirectional marks (which can make "invoice\u202efdp.txt" look like "invoicetxt.pdf")
    escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


CHUNKING = 2  # a store chunked by another version is chunked again: 2 keeps a bold lead-in whole


def chunk(extracted_pages: list[str], settings: Settings,
          paged: bool | None = None) -> list[tuple[str, int | None, int, int, str]]:
    """Split pages into (text, page, start, end, section) with offsets into the pages joined by
    PAGE_SEP; `section` is the heading the chunk sits under (its subject is often named only
    there).

    Chunks never span a page, so a PDF citation names exactly one page. `paged` says whether
    the pages are real pages (a PDF, even a one-page one); None guesses from their number.
    Raises Unreadable past `max_file_chunks` chunks, or when no part of the text can be cited.
    """
    splitter_class, no_callbacks = _splitter_classes()
    splitter = splitter_class(chunk_size=settings.chunk_tokens,
                              chunk_overlap=settings.chunk_overlap, tokenizer=token_encoder(),
                              callback_manager=no_callbacks())
    multi_page = len(extracted_pages) > 1 if paged is None else paged
    chunks, page_offset, runs_skipped = [], 0, False
    for page_no, page in enumerate(extracted_pages, start=1):
        headings = section_headings(page)
        heading_starts = [at for at, _ in headings]
        for start, end in _spans(page):
            if start is None:
                runs_skipped = True
                continue
            part, cursor = page[start:end], 0
            for piece in splitter.split_text(part):
                piece = piece.strip()
                if not piece:
                    continue
                found = _locate(part, piece, cursor)
                line = part.rfind("\n", 0, found) + 1 if found > 0 else found
                if opens_bold_lead(part[line:found]):
                    # a cut inside a bold lead-in ("**18 U.S.C. | 2258A.** The federal law"):
                    # the chunk starts with its term, which the definition is about
                    piece, found = part[line:found + len(piece)], line
                cursor = found + 1
                in_page = start + max(found, 0)
                under = bisect.bisect_right(heading_starts, in_page) - 1
                chunks.append((part[found:found + len(piece)] if found >= 0 else piece,
                               page_no if multi_page else None, page_offset + in_page,
                               page_offset + in_page + len(piece),
                               headings[under][1] if under >= 0 else ""))
            if len(chunks) > settings.max_file_chunks:
                raise Unreadable(f"more than {settings.max_file_chunks:,} chunks of "
                                 f"{settings.chunk_tokens} tokens (setting max_file_chunks): "
                                 "split the file or raise the limit")
        page_offset += len(page) + len(PAGE_SEP)
    if not chunks and runs_skipped:
        raise Unreadable(f"no text to index: only runs of over {UNBROKEN_RUN:,} characters "
                         "without a space or a line break (encoded data?)")
    return chunks


def prepare() -> None:
    """Import what chunking needs (llama-index whole, tiktoken) ahead of the first file."""
    _splitter_classes()
    token_encoder()


_splitter_alone = False  # set by `import_splitter_alone`


def import_splitter_alone() -> None:
    """For a process that only ingests (`groundwork ingest`): when chunking first needs it,
    the sentence splitter's module is imported without `llama_index.core`'s and
    `node_parser`'s package inits, which import the whole library (1.3 s of CPU, the largest
    part of a one-file ingest; `config.import_past_inits`). Not for a process that goes on to
    use more of llama-index (a server, an eval with an LLM): llama-index's package init, run
    after the splitter's modules, meets a circular import."""
    global _splitter_alone
    _splitter_alone = True


@functools.cache
def _splitter_classes():
    """llama-index's SentenceSplitter and a callback manager without handlers to give it: the
    default one asks `llama_index.core` for its global handler and imports the library's
    settings (all of llama-index, where `import_splitter_alone` avoided it). The splitter's
    sentence tokenizer is nltk's, and `import nltk` imports scipy.stats for collocation
    statistics the splitter never uses (1.6 of the 1.9 s that import costs): scipy is hidden
    while nltk is imported (nltk goes on without it) and stays importable for whoever needs
    it."""
    with hidden("scipy"):
        import nltk  # noqa: F401
    if _splitter_alone:
        import_past_inits("llama_index.core.node_parser.text.sentence", "llama_index.core",
                          "llama_index.core.node_parser", "llama_index.core.node_parser.text")
    from llama_index.core.node_parser.text.sentence import CallbackManager, SentenceSplitter

    class NoCallbacks(CallbackManager):
        def __init__(self):  # no handlers: nothing to look up
            self.handlers = []
            self._trace_map = collections.defaultdict(list)

    return SentenceSplitter, NoCallbacks


def table_chunks(extracted: Extracted, settings: Settings,
                 paged: bool) -> Iterator[tuple[str, int | None, int, int, str, Analysis]]:
    """Each table's chunks of rows, as (text, page, start, end, section, analysis): `start` =
    `end`, the place in the extracted text where the table stood (its text is not in it), the
    section its caption, the analysis its rows and cells. Made as they are taken (see
    tables.chunks). They count against max_table_rows (checked by the reader), not
    max_file_chunks."""
    from assistant.tables import chunks

    encode = token_encoder()
    starts = [0]
    for page in extracted.pages:
        starts.append(starts[-1] + len(page) + len(PAGE_SEP))
    for table in extracted.tables:
        at = starts[(table.page or 1) - 1] + table.at
        for text, found in chunks(table, settings.chunk_tokens, lambda t: len(encode(t))):
            yield text, table.page if paged else None, at, at, table.caption, found


def _work_done(passage: Passage) -> int:
    """What a written chunk counts for in a file's progress: a prose chunk 1, a table chunk the
    rows it ends (a row wider than a chunk counts in the piece holding its last column)."""
    found = passage.analysis
    if found is None or found.table is None:
        return 1
    last = len(found.table.columns) - 1
    return len({c.row for c in found.cells if c.column == last})


SPLIT_WINDOW = 65_536  # characters the splitter is given at once
UNBROKEN_RUN = 4_096  # characters without a break: encoded data, not text anyone cites
_BREAKS = r"\s.,;:!?\u3002\uff01\uff1f\uff0c\uff1b\uff1a\u3001"  # and CJK punctuation
_LONG_RUN = re.compile(rf"(?<![^{_BREAKS}])[^{_BREAKS}]{{{UNBROKEN_RUN},}}")


def _spans(page: str):
    """(start, end) of the parts of a page to split, or (None, None) for a run left out.

    The splitter is linear only on short texts: on one 40 MB line its sentence tokenizer (nltk)
    raises TimeoutError after 5 s, and a run without spaces is split and token-counted one
    character at a time (19 s and 400 MB for 1 MB). So it sees windows of at most SPLIT_WINDOW
    characters, cut at a paragraph, line, sentence or word break (a page shorter than that is
    split exactly as before), and runs of UNBROKEN_RUN characters or more with no break at all
    (base64, hex dumps) are not chunked.
    """
    start = 0
    for run in [*_LONG_RUN.finditer(page), None]:
        end = run.start() if run else len(page)
        while end - start > SPLIT_WINDOW:
            cut = _break_before(page, start + SPLIT_WINDOW // 2, start + SPLIT_WINDOW)
            yield start, cut
            start = cut
        if end > start:
            yield start, end
        if run:
            yield None, None
            start = run.end()


def _break_before(page: str, low: int, high: int) -> int:
    """Where to end a window within page[low:high]: after its last paragraph, line, sentence
    or word break, else at `high`."""
    for sep in ("\n\n", "\n", ". ", "\u3002", " "):
        found = page.rfind(sep, low, high)
        if found >= 0:
            return found + len(sep)
    return high


def _locate(page: str, piece: str, cursor: int) -> int:
    """Where the splitter's piece sits in the page; splitters may normalise whitespace."""
    found = page.find(piece, cursor)
    if found < 0:
        found = page.find(piece)
    if found < 0:  # whitespace differs: match on the first words instead
        head = " ".join(piece.split()[:6])
        found = page.find(head, cursor)
    return found


def iter_files(paths: list[Path], report: IngestReport):
    """Yield (root, file) for every candidate file; refuse symlinks that leave their root."""
    for arg in paths:
        if not arg.exists():
            report.files_failed.append({"path": str(arg), "reason": "no such file or folder"})
            continue
        root = arg if arg.is_dir() else arg.parent
        files = [arg] if arg.is_file() else sorted(
            Path(d) / name
            for d, dirs, names in os.walk(arg)  # does not descend into symlinked folders
            for name in names
            if not any(part.startswith(".") for part in (Path(d) / name).relative_to(arg).parts)
            and not dirs.sort()  # deterministic order; sort() returns None
        )
        real_root = root.resolve()
        ignored = _ignore_patterns(root)
        for f in files:
            rel = f.relative_to(root).as_posix()
            if any(_ignored(rel, pat) for pat in ignored):
                continue
            if f.is_symlink() and not f.resolve().is_relative_to(real_root):
                report.files_seen += 1
                report.files_failed.append({"path": rel,
                                            "reason": "symlink points outside the ingested folder "
                                                      "(not followed)"})
                continue
            yield root, f


def _ignore_patterns(root: Path) -> list[str]:
    """Glob patterns from ROOT/.groundworkignore: notes about a corpus that are not part of it."""
    ignore = root / IGNORE_FILE
    if not ignore.is_file():
        return []
    lines = (ln.strip() for ln in ignore.read_text().splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _ignored(rel: str, pattern: str) -> bool:
    """gitignore-like: "drafts/" skips a folder, "*.tmp" or "SOURCES.md" a name at any depth."""
    if pattern.endswith("/"):
        return f"/{rel}".find(f"/{pattern}") >= 0
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)


class Manifest:
    """rel path -> file content hash, written atomically after the store reflects the file."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict] = {}
        if path.exists():
            self.entries = json.loads(path.read_text())

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def ingest(paths: list[str | Path], settings: Settings | None = None, *, store=None,
           prune: bool = False, progress: bool | None = None, rebuild: bool = False,
           on_progress: Callable[[FileProgress], None] | None = None) -> IngestReport:
    """Bring the index in line with `paths`. `rebuild` first deletes the collection and what is
    derived from it, for an index that is damaged (the store's messages say when). `progress`
    shows bars on stderr (files, and the rows of a file written in several parts);
    `on_progress` is told each time part of a file is written (the UI's upload progress)."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    recipe = f"{settings.chunk_tokens}/{settings.chunk_overlap}/{embed_model_id(settings)}" \
        f"/{CHUNKING}"
    if store is None and not settings.chroma_url and not rebuild:
        report = _unchanged_since_last_ingest(paths, settings, recipe, prune)
        if report:
            report.seconds = round(time.perf_counter() - started, 3)
            return report
    folder = local_dir(settings)
    with _one_ingest_at_a_time(folder):
        state = read_ingest_state(folder)
        roots = {str((Path(p) if Path(p).is_dir() else Path(p).parent).resolve()) for p in paths}
        save_ingest_state(folder, {"roots": sorted(roots | set(state.get("roots", []))),
                              "pid": os.getpid(), "started": _now(), "finished": None})
        if rebuild:
            drop_index(settings)
            store = None
        if store is None:
            store = Store(settings)
        else:  # opened before this ingest: see what other processes wrote since
            store.reopen()
        store.bound_replay()
        report = _ingest(paths, settings, store, prune, progress, recipe, on_progress)
        save_ingest_state(folder, {**read_ingest_state(folder), "finished": _now()})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@contextlib.contextmanager
def _one_ingest_at_a_time(folder: Path):
    """Two ingests into one index would interleave their manifest writes: the second waits."""
    try:
        with file_lock(folder / INGEST_LOCK, exclusive=True, wait=False):
            yield
            return
    except BlockingIOError:
        pid = read_ingest_state(folder).get("pid")
        print(f"groundwork: waiting for another ingest of {folder} (pid {pid}) to finish",
              file=sys.stderr)
    with file_lock(folder / INGEST_LOCK, exclusive=True):
        yield


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FileProgress:
    """How far one file is written: `done` of `total`, counting its table rows and prose
    chunks (a 100,000-row CSV is written for minutes, a part at a time)."""

    path: str
    done: int
    total: int


def _ingest(paths, settings: Settings, store: Store, prune: bool, progress: bool | None,
            recipe: str, on_progress: Callable[[FileProgress], None] | None) -> IngestReport:
    from tqdm import tqdm

    report = IngestReport()
    failed_hashes: dict[str, str] = {}
    lexical_recorded = _lexical_index_recorded(store)  # before this run's first write
    manifest = Manifest(store.manifest_path)
    # The files the store holds chunks of, when the last complete ingest's record vouches
    # that it held exactly what the manifest says: prune need not read every chunk's
    # metadata (4 s of CPU at 10,000 chunks under load, most of a one-file removal).
    recorded_sources = ({rel for rel, entry in manifest.entries.items() if entry.get("chunks", 1)}
                        if _store_is_manifest(store, recipe) else None)
    if manifest.entries and store.count() == 0:
        # The store was emptied or is another one (a deleted collection, a new Chroma server):
        # the manifest describes chunks that are not there, so every file must be redone.
        manifest.entries = {}
    candidates = list(iter_files([Path(p) for p in paths], report))
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(candidates), desc="ingest", unit="file", disable=not show)
    within: dict[str, tqdm] = {}  # a bar for each file written in several parts
    seen_sources: set[str] = set()
    # (rel, file hash, passages, kept, total) to write: `kept` is None while more of the file
    # is to come, else the ids of all its chunks; `total` its rows and prose chunks
    pending: list[tuple[str, str, list[Passage], set[str] | None, int]] = []
    done: dict[str, int] = {}  # rows and prose chunks written of the files being written
    # An abandoned executor (an exception below) ends its thread once collected.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundwork-ingest")
    writing: list[Future] = []  # the batch being embedded and written, if any
    warming: list[Future] = []  # the encoder loading, once a file is to be chunked

    def write(batch: list[tuple[str, str, list[Passage], set[str] | None, int]]) -> None:
        """One encoder pass for the batch's chunks, then each finished file recorded in turn."""
        results = store.replace_sources([(rel, passages, kept)
                                         for rel, _, passages, kept, _ in batch])
        for (rel, file_hash, passages, kept, total), (added, deleted, embedded) in zip(batch,
                                                                                      results):
            report.chunks_added += added
            report.chunks_deleted += deleted
            report.chunks_embedded += embedded
            done[rel] = done.get(rel, 0) + sum(map(_work_done, passages))
            if kept is None or rel in within:
                if rel not in within:
                    within[rel] = tqdm(total=total, desc=one_line(rel), unit="row",
                                       leave=False, disable=not show)
                within[rel].update(done[rel] - within[rel].n)
            if on_progress is not None:
                on_progress(FileProgress(rel, done[rel], total))
            if kept is None:
                continue
            done.pop(rel)
            if rel in within:
                within.pop(rel).close()
            report.files_ingested += 1
            manifest.entries[rel] = {"hash": file_hash, "recipe": recipe, "chunks": len(kept)}
            manifest.save()
            bar.update()

    def write_pending(wait: bool = False) -> None:
        """Hand the pending chunks to the writer thread and go on reading and chunking meanwhile:
        the encoder (which releases the GIL) is not idle while files are read. One batch at a
        time, so files are still written in order, each recorded after its chunks; `wait`
        waits for it."""
        for running in writing:
            running.result()
        writing[:] = [writer.submit(write, pending[:])] if pending else []
        pending.clear()
        if wait:
            for running in writing:
                running.result()

    for root, path in candidates:
        report.files_seen += 1
        rel = path.relative_to(root).as_posix()
        seen_sources.add(rel)
        file_hash = None
        try:
            refused = _refused_unread(rel, path.stat().st_size, settings)
            if refused:
                report.files_failed.append(refused)
                bar.update()
                continue
            data = path.read_bytes()
            file_hash = sha256(data)
            if _current(manifest.entries.get(rel), file_hash, recipe):
                report.files_unchanged += 1
                bar.update()
                continue
            if not warming:  # the encoder loads (0.5 s) in the writer thread meanwhile
                warming.append(writer.submit(lambda: store.embedder))
            extracted = extract(path, data, max_unpacked_mb=settings.max_unpacked_mb,
                                max_table_rows=settings.max_table_rows)
            del data
            paged = path.suffix.lower() == ".pdf"
            prose = chunk(extracted.pages, settings, paged=paged)
        except Unreadable as exc:
            report.files_failed.append({"path": rel, "reason": str(exc)})
            if file_hash:
                failed_hashes[rel] = file_hash
            bar.update()
            continue
        except OSError as exc:
            report.files_failed.append({"path": rel, "reason": f"cannot read: {exc.strerror}"})
            bar.update()
            continue
        except Exception as exc:  # one file a library cannot cope with must not stop the rest
            report.files_failed.append({"path": rel, "reason": _crashed(exc)})
            bar.update()
            continue
        if any(rel == other for other, *_ in pending):  # same name under two roots: last wins
            write_pending()
        total = len(prose) + sum(len(t.rows) for t in extracted.tables)
        kept: set[str] = set()
        part: list[Passage] = []
        queued = sum(len(passages) for _, _, passages, _, _ in pending)
        # The file's chunks are made as they are written, a batch at a time: a 100,000-row
        # table is never held as chunks, cells and passages all at once.
        stream = _passages(rel, extracted.title,
                           itertools.chain(prose, table_chunks(extracted, settings, paged)))
        try:
            for passage in stream:
                kept.add(passage.id)
                part.append(passage)
                if queued + len(part) >= settings.ingest_batch:
                    pending.append((rel, file_hash, part, None, total))
                    write_pending()
                    part, queued = [], 0
        except Exception as exc:  # a bug in chunking: what was written of the file goes too
            write_pending(wait=True)
            store.replace_source(rel, [])
            manifest.entries.pop(rel, None)
            manifest.save()
            done.pop(rel, None)
            if rel in within:
                within.pop(rel).close()
            report.files_failed.append({"path": rel, "reason": _crashed(exc)})
            bar.update()
            continue
        pending.append((rel, file_hash, part, kept, total))
        if queued + len(part) >= settings.ingest_batch:
            write_pending()
    write_pending(wait=True)
    writer.shutdown()
    bar.close()
    changed = report.files_ingested > 0
    # A path that does not exist (a typo) must not make every indexed file look deleted.
    if prune and all(Path(p).exists() for p in paths):
        stored = store.sources() if recorded_sources is None else recorded_sources
        for source in sorted(stored - seen_sources):
            report.chunks_deleted += store.replace_source(source, [])[1]
            manifest.entries.pop(source, None)
            report.files_pruned += 1
            changed = True
        manifest.save()
    if lexical_recorded:
        if changed:
            store.update_lexical_index()
    elif changed or not store.lexical_index_current():
        store.rebuild_lexical_index()
    report.chunks_total = store.count()
    _record_ingest(store, manifest, recipe, report, failed_hashes)
    return report


def _crashed(exc: Exception) -> str:
    return f"could not be read ({type(exc).__name__}: {str(exc)[:120]})"


def _refused_unread(rel: str, size: int, settings: Settings) -> dict | None:
    """A failure decided from the name and size alone, before reading: the same in the full and
    in the quick run, so a 200 MB file does not make every re-ingest a full one."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as lone surrogates, which no
        # JSON, Chroma metadata or chunk id can take
        return {"path": os.fsencode(rel).decode("utf-8", "backslashreplace"),
                "reason": "file name is not valid UTF-8: rename it"}
    if size > settings.max_file_mb * 2**20:
        return {"path": rel, "reason": f"file is {size / 2**20:.1f} MB, over the "
                                       f"{settings.max_file_mb:g} MB limit (setting max_file_mb)"}
    return None


def _current(entry: dict | None, file_hash: str, recipe: str) -> bool:
    """Whether a manifest entry still describes the file: same bytes, same chunking and model."""
    return bool(entry) and entry.get("hash") == file_hash and entry.get("recipe") == recipe


def _record_ingest(store, manifest: Manifest, recipe: str, report: IngestReport,
                   failed_hashes: dict[str, str]) -> None:
    """Note that the store now holds exactly what the manifest says, for the quick re-ingest.

    Embedded stores only: a server's collection can change under us without our noticing.
    """
    if store.settings.chroma_url:
        return
    if not store.manifest_path.exists():  # nothing ingested yet: the record needs one anyway
        manifest.save()
    failed = {f["path"]: {"hash": failed_hashes[f["path"]], "reason": f["reason"]}
              for f in report.files_failed if f["path"] in failed_hashes}
    record = {"manifest": sha256(store.manifest_path.read_bytes()), "recipe": recipe,
              "bm25": _bm25_stamp(store.local_dir), "chroma": _chroma_identity(store.settings),
              "chunks_total": report.chunks_total, "failed": failed}
    tmp = store.local_dir / (INGEST_RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    os.replace(tmp, store.local_dir / INGEST_RECORD)


def _lexical_index_recorded(store: Store) -> bool:
    """Whether the BM25 index on disk is the one the last complete ingest left beside exactly
    this store: then this run's own changes are all it lacks, and it is updated for them. Any
    doubt (an interrupted run, a server's collection) checks it against every id the store
    holds, and rebuilds it from every text when they differ."""
    try:
        record = json.loads((store.local_dir / INGEST_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return (record.get("bm25") is not None and record.get("bm25") == _bm25_stamp(store.local_dir)
            and record.get("chroma") == _chroma_identity(store.settings))


def _store_is_manifest(store: Store, recipe: str) -> bool:
    """Whether the record of the last complete ingest says this store holds the chunks of
    exactly the manifest's files: every write since would have removed the record."""
    return not store.settings.chroma_url and _vouched(store.settings, recipe) is not None


def _vouched(settings: Settings, recipe: str) -> tuple[dict, bytes] | None:
    """The record of the last complete ingest and the manifest's bytes, when the record vouches
    for that manifest, this recipe and this very database file; else None."""
    folder = local_dir(settings)
    try:
        record = json.loads((folder / INGEST_RECORD).read_text())
        manifest_bytes = (folder / MANIFEST).read_bytes()
    except (OSError, ValueError):
        return None
    if (record.get("manifest") != sha256(manifest_bytes) or record.get("recipe") != recipe
            or record.get("chroma") is None or record.get("chroma") != _chroma_identity(settings)):
        return None
    return record, manifest_bytes


def _bm25_stamp(folder: Path) -> str | None:
    stamp = folder / BM25_DIR / BM25_STAMP
    return stamp.read_text() if stamp.exists() else None


def _chroma_identity(settings: Settings) -> int | None:
    """The database file's inode: another Chroma folder put in place is another store.

    (Its size and times change on every open, reads included, so they cannot tell.)
    """
    db = chroma_dir(settings) / "chroma.sqlite3"
    return db.stat().st_ino if db.exists() else None


def _unchanged_since_last_ingest(paths, settings: Settings, recipe: str,
                                 prune: bool) -> IngestReport | None:
    """The report of a re-ingest that would change nothing, or None if anything might change.

    Answers from the files, the manifest and the record of the last complete ingest, without
    opening Chroma or loading a model, so an unchanged corpus costs file hashing and little else
    (bench: re-ingest as a fraction of the first ingest). Any doubt falls back to the full run.
    """
    vouched = _vouched(settings, recipe)
    if vouched is None or vouched[0].get("bm25") != _bm25_stamp(local_dir(settings)):
        return None
    record, manifest_bytes = vouched
    entries = json.loads(manifest_bytes)
    report = IngestReport(store_opened=False, chunks_total=record["chunks_total"])
    seen = set()
    for root, path in iter_files([Path(p) for p in paths], report):
        report.files_seen += 1
        rel = path.relative_to(root).as_posix()
        seen.add(rel)
        try:
            refused = _refused_unread(rel, path.stat().st_size, settings)
            if refused:
                report.files_failed.append(refused)
                continue
            file_hash = sha256(path.read_bytes())
        except OSError:
            return None
        if _current(entries.get(rel), file_hash, recipe):
            report.files_unchanged += 1
        elif record["failed"].get(rel, {}).get("hash") == file_hash:
            report.files_failed.append({"path": rel, "reason": record["failed"][rel]["reason"]})
        else:
            return None
    if prune and all(Path(p).exists() for p in paths) and set(entries) - seen:
        return None
    return report


def _passages(source: str, title: str, chunks: Iterable[tuple]) -> Iterator[Passage]:
    occurrences: dict[str, int] = {}
    for text, page, start, end, section, *found in chunks:
        key = sha256(text)
        occurrences[key] = occurrences.get(key, 0) + 1
        # Stable across runs: same file, same text at the same place -> same id, so a rerun after
        # a crash upserts over its own earlier writes instead of leaving duplicates. The location
        # and title are part of the id because the store never rewrites a chunk whose id it
        # already holds: text that moved within an edited file must become a new chunk (its
        # vector is reused by content hash), or it would keep its old offsets and title.
        pid = sha256(f"{source}\0{key}\0{occurrences[key]}\0{title}\0{page}\0{start}")[:20]
        table = found[0] if found else None  # a table chunk: its structure is the reader's
        if table is not None:
            table.title_terms = None  # read when first retrieved (analysis.of), without spaCy here
        yield Passage(id=pid, text=text, source=source, title=title, page=page, start=start,
                      end=end, section=section, analysis=table)
