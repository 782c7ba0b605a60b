"""Chroma (embedded or a `chroma run` server) for vectors, and the persisted BM25 index beside it.

Chroma is the source of truth for what is indexed; the manifest and the BM25 index are derived
from it and can always be rebuilt, which is what makes an interrupted ingest recoverable.

Reading and writing are direct: a Chroma query for ids and distances, bm25s for the lexical
side, one Chroma get for the passages that are kept, Chroma's add for new chunks. llama-index's
wrappers around the same calls cost more than the calls (bench/README.md, "Retrieval"), and
importing its vector store took longer than a whole answer or a one-file ingest.

Several processes may use one index: a server answering while `groundwork ingest` writes.
Embedded Chroma keeps each collection's vector index in memory, loaded once, so a reader sees
another process's writes only after reopening the database (`Store.reopen`), and must not load
the files while a writer is saving them: writers hold `write.lock` around each write, readers
share it while they open. One ingest at a time holds `ingest.lock` for its whole run.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlparse

from assistant.analysis import remember
from assistant.config import Settings
from assistant.models import embedder_path, load_embedder
from assistant.procs import file_lock
from assistant.types import ANALYSIS_VERSION, Analysis, Passage

_PAGE_SIZE = 5000  # Chroma get() batch when reading the whole collection
# New chunks embedded and written at a time, so that a file of tens of thousands of chunks (a
# 100,000-row table) is not held as nodes with their vectors, in Python floats, all at once.
_WRITE_SLICE = 2048
log = logging.getLogger("groundwork.store")


class StoreError(RuntimeError):
    """A store problem the user can fix; the message says how."""


class StoreUnavailable(StoreError):
    """The Chroma server does not answer. Temporary: the same call works once it is back (the
    HTTP API answers 503)."""

    def __init__(self, url: str, why: str = ""):
        super().__init__(f"the vector store at {url} is not reachable"
                         + (f" ({why})" if why else "")
                         + ": is `chroma run` up, and is --chroma-url right?")
        self.url = url


class IndexDamaged(StoreError):
    """The index on disk is not one a complete ingest leaves behind; the message names the
    problem and the command that repairs it."""


# An index folder's layout, known without opening Chroma (the quick re-ingest reads it).
MANIFEST = "manifest.json"
BM25_DIR = "bm25"
BM25_STAMP = "groundwork.json"  # inside BM25_DIR: what it was built from
BM25_FORMAT = 3  # bm25s saved directly, ids and token ids beside it (2: without token ids;
# 1: llama-index's BM25Retriever)
INGEST_RECORD = "ingested.json"  # ingest's note that the store is exactly what it last wrote
INGEST_STATE = "ingest.json"  # the last ingest: its folders, and whether it finished
INGEST_LOCK = "ingest.lock"  # held by a running ingest
WRITE_LOCK = "write.lock"  # held around each Chroma write (embedded); readers share it to open;
# it holds a note of the last write (Store.reopen)
PROBES = 12  # stored vectors read back and searched for at start (Store.check)
PROBE_DEPTH = 100  # ... each among this many nearest (see Store._probe)
SYNC_THRESHOLD = 100  # writes after which embedded Chroma saves its vectors (Store.bound_replay)


def local_dir(settings: Settings) -> Path:
    """Where a collection's manifest, BM25 index and ingest record live."""
    return settings.index_dir / settings.collection


def chroma_dir(settings: Settings) -> Path:
    """The embedded Chroma database of every collection under index_dir."""
    return settings.index_dir / "chroma"


def embed_model_id(settings: Settings) -> str:
    """The name the collection and the manifest record the embedding model under."""
    return Path(embedder_path(settings.embed_model)).name


def forget_ingest_record(folder: Path) -> None:
    """Any write makes that note untrue; the next ingest then checks the store itself."""
    (folder / INGEST_RECORD).unlink(missing_ok=True)


def read_ingest_state(folder: Path) -> dict:
    """The last ingest into this index: its folders (`roots`), `pid`, `started`, `finished`."""
    return _read_json(folder / INGEST_STATE)


def save_ingest_state(folder: Path, state: dict) -> None:
    """Written when an ingest starts and when it finishes, so that readers can tell a running
    ingest (its pid is alive) from an interrupted one."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (INGEST_STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, folder / INGEST_STATE)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def passage_metadata(p: Passage) -> dict:
    """What Chroma stores beside a chunk's text: where it came from, and its analysis once made."""
    metadata = {"source": p.source, "title": p.title, "page": p.page or 0, "start": p.start,
                "end": p.end, "section": p.section, "content_hash": _content_hash(p.text)}
    if p.analysis:
        metadata.update(analysis_metadata(p.analysis))
    return metadata


def analysis_metadata(analysis: Analysis) -> dict:
    """An analysis as stored (JSON), with the version that made it: another version's is redone."""
    return {"analysis": analysis.to_json(), "analysis_version": ANALYSIS_VERSION}


_PASSAGE_FIELDS = {f.name for f in fields(Passage)} - {"id", "text", "score", "similarity"}


def record_to_passage(pid: str, text: str, metadata: dict, score: float = 0.0) -> Passage:
    """A stored chunk as a Passage: every metadata key that names a Passage field is carried
    (the analysis parsed back from its JSON, if this version made it)."""
    values = {k: v for k, v in metadata.items() if k in _PASSAGE_FIELDS}
    values["page"] = values.get("page") or None  # stored as 0: Chroma has no null
    stored = values.get("analysis")
    if not stored:
        values["analysis"] = None
    elif metadata.get("analysis_version") == ANALYSIS_VERSION:
        values["analysis"] = _analysis(pid, stored, text)
    else:
        values["analysis"] = _reader_table(pid, stored, text)
    return Passage(id=pid, text=text, score=score, **values)


def _reader_table(pid: str, stored: str, text: str) -> Analysis | None:
    """What another version's analysis still holds: a table chunk's table and cells come from
    its reader, not from spaCy, and only ingest can make them again (redone from the text, the
    chunk would be prose); its title's terms are read again."""
    try:
        found = _analysis(pid, stored, text)
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return Analysis([], None, found.table, found.cells) if found.table else None


def _analysis(pid: str, stored: str, text: str) -> Analysis:
    """A chunk's stored analysis, read from its JSON once while the chunk and its analysis stay
    the same: retrieval fetches the same chunks again and again, and reading one back costs
    half a millisecond."""
    key = (pid, stored, text)
    found = _ANALYSES.get(key)
    if found is None:
        found = remember(_ANALYSES, ANALYSES_KEPT, key, Analysis.from_json(stored, text))
    return found


_ANALYSES: dict[tuple[str, str, str], Analysis] = {}  # oldest first (a bounded cache)
ANALYSES_KEPT = 4096


def import_chromadb():
    """chromadb, its classes made without `overrides`' checks: its @override decorator reads
    each overriding method's signature and looks up its base classes by name as the class is
    made (0.2 of the 1.1 s of CPU the import costs, paid by every one-file ingest). The methods
    are still marked, as its EnforceOverrides metaclass requires; a chromadb imported before
    (by anyone) is used as it is, and `overrides` is put back for everyone else."""
    import importlib

    if "chromadb" in sys.modules:
        return sys.modules["chromadb"]
    import overrides

    def mark(method=None, **_options):
        if method is None:  # @override(check_signature=...)
            return mark
        method.__override__ = True
        return method

    checked = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = mark
    try:
        return importlib.import_module("chromadb")
    finally:
        overrides.override, overrides.overrides = checked


class Store:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings = settings or Settings.load()
        self.embed_model_id = embed_model_id(settings)
        self.local_dir = local_dir(settings)
        self.local_dir.mkdir(parents=True, exist_ok=True)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise StoreError(f"chroma_url must look like http://HOST:PORT, got "
                                 f"{settings.chroma_url!r}")
        # What this process wrote since the BM25 index was last brought up to date: chunk id ->
        # text added, ids deleted (update_lexical_index applies them instead of re-reading all).
        self._lexical_added: dict[str, str] = {}
        self._lexical_deleted: set[str] = set()
        self.written_signature: tuple | None = None  # of the BM25 index this object last wrote
        self._seen_write: str | None = None  # the note of the last write when opened or written
        self._open()

    def _open(self) -> None:
        chromadb = import_chromadb()
        from chromadb.config import Settings as ChromaSettings

        settings = self.settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            try:
                client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                             ssl=url.scheme == "https", settings=chroma_settings)
                client.heartbeat()
            except Exception as exc:
                raise StoreUnavailable(settings.chroma_url, _reason(_root_cause(exc))) from None
        else:
            from chromadb.api import ServerAPI
            from chromadb.api.client import Client
            from chromadb.config import System
            from chromadb.telemetry.product import ProductTelemetryClient

            chroma_dir(settings).mkdir(parents=True, exist_ok=True)
            # A System of our own rather than chromadb's per-path shared one, so that reopening
            # loads what is on disk now (another process may have written since).
            system = System(ChromaSettings(anonymized_telemetry=False, is_persistent=True,
                                           persist_directory=str(chroma_dir(settings))))
            system.instance(ProductTelemetryClient)
            system.instance(ServerAPI)
            try:
                with file_lock(self.local_dir / WRITE_LOCK, exclusive=False) as lock:
                    system.start()
                    lock.seek(0)
                    self._seen_write = lock.read()
                client = Client.from_system(system)
            except Exception as exc:
                raise self._damaged(f"the Chroma database under {chroma_dir(settings)} cannot "
                                    f"be opened ({_reason(exc)})") from None
        with self._reachable():
            try:
                # Our own embeddings always: Chroma's default function would download a model.
                collection = client.get_or_create_collection(
                    settings.collection, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embed_model": self.embed_model_id})
            except StoreUnavailable:
                raise
            except Exception as exc:
                if settings.chroma_url:
                    raise
                raise self._damaged(f"the Chroma database under {chroma_dir(settings)} cannot "
                                    f"be read ({_reason(exc)})") from None
        indexed_with = (collection.metadata or {}).get("embed_model")
        if indexed_with and indexed_with != self.embed_model_id:
            raise StoreError(f"collection {settings.collection!r} was embedded with "
                             f"{indexed_with}, "
                             f"not {self.embed_model_id}: use another --index or collection")
        self.client, self.collection = client, collection

    def bound_replay(self) -> None:
        """Have embedded Chroma save its vector index every SYNC_THRESHOLD writes, not 1,000.

        Every process that opens the collection first replays the writes made since the last
        save into the vector index, whatever it asks first: 1.2 s of a one-file ingest into
        10,000 chunks was replaying 700 of them. A save costs little beside (bulk loading 30,000
        chunks took 61 s of CPU with either threshold). Takes effect from the next process on;
        a server replays once, in its own process, so it is left as it is."""
        if self.settings.chroma_url:
            return
        hnsw = (self.collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", SYNC_THRESHOLD) > SYNC_THRESHOLD:
            with file_lock(self.local_dir / WRITE_LOCK, exclusive=True):
                self.collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})

    def reopen(self) -> None:
        """See what other processes wrote: embedded Chroma loads a collection's vector index
        once per client. Not when the last write was this object's own (a UI upload after an
        upload: reopening cost 0.3 s of CPU at 10,000 chunks, the HNSW index loaded again). A
        server always answers with what it holds, so nothing to do there."""
        if not self.settings.chroma_url and self._last_write() != self._seen_write:
            self._open()

    def _last_write(self) -> str | None:
        try:
            return (self.local_dir / WRITE_LOCK).read_text()
        except OSError:
            return None

    @property
    def manifest_path(self) -> Path:
        return self.local_dir / MANIFEST

    @property
    def bm25_dir(self) -> Path:
        return self.local_dir / BM25_DIR

    @property
    def embedder(self):
        return load_embedder(self.settings.embed_model, self.settings.embed_batch_size,
                             self.settings.embed_backend)

    @contextlib.contextmanager
    def _reachable(self):
        """A Chroma server that stopped answering becomes StoreUnavailable, whatever the call."""
        try:
            yield
        except Exception as exc:
            if self.settings.chroma_url:
                import httpx

                if isinstance(exc, httpx.TransportError):
                    raise StoreUnavailable(self.settings.chroma_url, _reason(exc)) from None
            raise

    @contextlib.contextmanager
    def _writing(self):
        """Around every write: no reader of an embedded store loads the files meanwhile."""
        forget_ingest_record(self.local_dir)
        with self._reachable():
            if self.settings.chroma_url:
                yield
            else:
                with file_lock(self.local_dir / WRITE_LOCK, exclusive=True) as lock:
                    try:
                        yield
                    finally:  # a note no other write leaves: others reopen, this one need not
                        self._seen_write = f"{os.getpid()} {time.time_ns()}"
                        lock.truncate(0)
                        lock.write(self._seen_write)

    def _damaged(self, problem: str) -> IndexDamaged:
        return IndexDamaged(f"{problem}: {repair_command(self.settings)}")

    def count(self) -> int:
        with self._reachable():
            return self.collection.count()

    # -- reading ---------------------------------------------------------------------------------

    def query(self, vector, n: int) -> list[tuple[str, float]]:
        """The `n` nearest chunks as (id, cosine similarity), nearest first."""
        with self._reachable():
            got = self.collection.query(query_embeddings=[vector], n_results=n,
                                        include=["distances"])
        return [(pid, 1.0 - d) for pid, d in zip(got["ids"][0], got["distances"][0])]

    def fetch(self, ids: list[str]) -> dict[str, tuple[str, dict, list[float]]]:
        """id -> (text, metadata, vector) of those ids that are stored; a chunk deleted since
        another index named it is simply absent."""
        with self._reachable():
            got = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        return {pid: (text, meta, vector) for pid, text, meta, vector
                in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        return {pid: vector for pid, (_, _, vector) in self.fetch(ids).items()}

    def _all(self, include: list[str]):
        with self._reachable():
            for offset in range(0, self.count(), _PAGE_SIZE):
                yield self.collection.get(include=include, limit=_PAGE_SIZE, offset=offset)

    def sources(self) -> set[str]:
        return {m["source"] for batch in self._all(["metadatas"]) for m in batch["metadatas"]}

    def _fingerprint(self) -> str:
        ids = sorted(i for batch in self._all([]) for i in batch["ids"])
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()

    # -- writing ---------------------------------------------------------------------------------

    def replace_source(self, source: str, passages: list[Passage]) -> tuple[int, int, int]:
        """Make the store hold exactly `passages` for `source`: (added, deleted, embedded)."""
        return next(self.replace_sources([(source, passages, {p.id for p in passages})]))

    def replace_sources(self, batch: list[tuple[str, list[Passage], set[str] | None]]):
        """Write several files' new chunks with one encoder pass and one Chroma write (per-call
        costs dominate small files), then delete each finished file's stale chunks.

        Each entry is (source, passages, kept): `kept` is the ids of all the file's chunks when
        these passages are its last, so every other chunk stored for it is stale; None when
        more of the file follows in a later call (a large table is written a part at a time).
        Yields (added, deleted, embedded) per entry, in order, once it is written, so the caller
        can record a finished file in the manifest before the next one. New chunks are written
        before stale ones are deleted: a crash in between leaves extra chunks that the rerun
        removes, never a file with no chunks.
        """
        plans = []
        with self._reachable():
            for source, passages, kept in batch:
                if kept is None:  # only these ids matter: the file's others are not final yet
                    existing = set(self.collection.get(ids=[p.id for p in passages],
                                                       include=[])["ids"]) if passages else set()
                else:
                    existing = set(self.collection.get(where={"source": source},
                                                       include=[])["ids"])
                plans.append((existing, [p for p in passages if p.id not in existing], kept))
        new = [p for _, file_new, _ in plans for p in file_new]
        fresh: set[str] = set()
        for i in range(0, len(new), _WRITE_SLICE):  # memory follows the slice, not the file
            part = new[i:i + _WRITE_SLICE]
            vectors, embedded = self._embeddings_for(part)
            fresh |= embedded
            self._add(part, vectors)
            self._lexical_added.update((p.id, p.text) for p in part)
        for existing, file_new, kept in plans:
            hashes = {_content_hash(p.text) for p in file_new}
            embedded = len(hashes & fresh)
            fresh -= hashes  # a text shared by two files counts as embedded once
            stale = sorted(existing - kept) if kept is not None else []
            for i in range(0, len(stale), _PAGE_SIZE):
                with self._writing():
                    self.collection.delete(ids=stale[i:i + _PAGE_SIZE])
            self._lexical_deleted.update(stale)
            for pid in stale:
                self._lexical_added.pop(pid, None)
            yield len(file_new), len(stale), embedded

    def save_analyses(self, passages: list[Passage]) -> bool:
        """Store the analyses made of these chunks when a question first retrieved them.

        Not a change of what is indexed (the ingest record stays true). Embedded, it is skipped
        while an ingest or another write holds the index rather than waited for: the analysis
        is only made again next time. A chunk deleted meanwhile is not brought back."""
        ids = [p.id for p in passages if p.analysis is not None]
        if not ids:
            return False
        with contextlib.ExitStack() as held, self._reachable():
            if not self.settings.chroma_url:
                try:
                    held.enter_context(file_lock(self.local_dir / INGEST_LOCK, exclusive=True,
                                                 wait=False))
                    held.enter_context(file_lock(self.local_dir / WRITE_LOCK, exclusive=True,
                                                 wait=False))
                except BlockingIOError:
                    return False
            stored = set(self.collection.get(ids=ids, include=[])["ids"])
            kept = [p for p in passages if p.id in stored and p.analysis is not None]
            if kept:
                self.collection.update(ids=[p.id for p in kept],
                                       metadatas=[analysis_metadata(p.analysis) for p in kept])
        return True

    def add_with_embeddings(self, passages: list[Passage], embeddings) -> None:
        """Bulk load with precomputed vectors (the benchmark's synthetic large indexes)."""
        self._add(passages, embeddings)

    def _add(self, passages: list[Passage], vectors) -> None:
        """New chunks with their vectors, their text and `passage_metadata`, in as few calls as
        Chroma takes (it pays per call)."""
        import numpy as np

        step = self.client.get_max_batch_size()
        with self._writing():
            for i in range(0, len(passages), step):
                part = passages[i:i + step]
                self.collection.add(ids=[p.id for p in part], documents=[p.text for p in part],
                                    metadatas=[passage_metadata(p) for p in part],
                                    embeddings=np.asarray(vectors[i:i + step], dtype=np.float32))

    def _embeddings_for(self, passages: list[Passage]) -> tuple[list, set[str]]:
        """Embed each distinct text once, reusing vectors of identical text already stored.

        Returns the vectors and the content hashes that had to be embedded. Texts go to the
        encoder longest first, so each batch pads to similar lengths.
        """
        if not passages:
            return [], set()
        hashes = [_content_hash(p.text) for p in passages]
        known: dict[str, list[float]] = {}
        unique = sorted(set(hashes))
        with self._reachable():
            for i in range(0, len(unique), 500):
                got = self.collection.get(where={"content_hash": {"$in": unique[i:i + 500]}},
                                          include=["embeddings", "metadatas"])
                for meta, emb in zip(got["metadatas"], got["embeddings"]):
                    known.setdefault(meta["content_hash"], list(map(float, emb)))
        todo = {h: p.text for h, p in zip(hashes, passages) if h not in known}
        if todo:
            order = sorted(todo, key=lambda h: -len(todo[h]))
            vectors = self.embedder.get_text_embedding_batch([todo[h] for h in order])
            known.update(zip(order, vectors))
        return [known[h] for h in hashes], set(todo)

    # -- the lexical index ------------------------------------------------------------------------

    def lexical_index_current(self) -> bool:
        stamp = _read_stamp(self.bm25_dir)
        if stamp is None:
            return self.count() == 0
        return (stamp.get("format") == BM25_FORMAT
                and stamp.get("fingerprint") == self._fingerprint())

    def rebuild_lexical_index(self) -> None:
        """Rebuilt from every chunk Chroma holds: for an index whose BM25 side is missing or
        cannot be trusted. Otherwise ingest only applies its own changes (update_lexical_index).
        When this process wrote every chunk there is (a first ingest), their texts are at hand:
        reading 33,000 back from Chroma added 570 MB to the ingest's peak RSS."""
        ids = [i for batch in self._all([]) for i in batch["ids"]]
        if set(ids) == self._lexical_added.keys():  # all this process wrote: texts at hand
            texts = [self._lexical_added[i] for i in ids]
        else:
            ids, texts = [], []
            for batch in self._all(["documents"]):
                ids += batch["ids"]
                texts += batch["documents"]
        self.write_lexical_index(ids, texts)

    def update_lexical_index(self) -> None:
        """Apply this process's writes to the BM25 index: the added chunks are tokenised, the
        others' tokens are read from the index itself, nothing from Chroma. BM25 weights every
        term by the whole collection, so the score matrix is recomputed (from token ids, which
        is fast); what made the rebuild cost seconds at 10k chunks was reading and tokenising
        every text. Falls back to the rebuild when the index on disk is missing or does not
        add up to what the store holds."""
        added, deleted = self._lexical_added, self._lexical_deleted
        tmp = self.bm25_dir.with_name(f"bm25.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            ids = LexicalIndex.update(self.bm25_dir, tmp, added, deleted)
        except (OSError, ValueError, KeyError):
            ids = None
        if ids is None or len(ids) != self.count():
            shutil.rmtree(tmp, ignore_errors=True)
            self.rebuild_lexical_index()
        else:
            self._swap_lexical_index(tmp, ids)
        added.clear()
        deleted.clear()

    def write_lexical_index(self, ids: list[str], texts: list[str]) -> None:
        """The BM25 index of exactly these chunks (all the store holds), swapped in by renames.
        A bulk loader that has the texts at hand calls it directly: reading a million chunks
        back from Chroma costs more than indexing them."""
        tmp = self.bm25_dir.with_name(f"bm25.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        if ids:
            LexicalIndex.build(tmp, ids, texts)
        self._swap_lexical_index(tmp, ids)
        self._lexical_added.clear()
        self._lexical_deleted.clear()

    def _swap_lexical_index(self, tmp: Path, ids) -> None:
        """Written beside the live one and swapped in by renames, so that a reader never loads
        half an index; a serving process notices the new stamp file and reloads."""
        if len(ids):
            stamp = {"format": BM25_FORMAT, "count": len(ids),
                     "fingerprint": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()}
            (tmp / BM25_STAMP).write_text(json.dumps(stamp))
        old = self.bm25_dir.with_name(f"bm25.{os.getpid()}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.bm25_dir.exists():
            self.bm25_dir.rename(old)
        if len(ids):
            tmp.rename(self.bm25_dir)
        shutil.rmtree(old, ignore_errors=True)
        self.written_signature = self.lexical_signature()

    def lexical_signature(self) -> tuple | None:
        """The BM25 stamp file's identity: every finished ingest leaves a new one (one stat())."""
        try:
            stat = os.stat(self.bm25_dir / BM25_STAMP)
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def load_lexical_index(self) -> LexicalIndex | None:
        """The persisted BM25 index, or None when there is none (or it is being swapped)."""
        for attempt in range(3):
            try:
                return LexicalIndex.load(self.bm25_dir)
            except (OSError, ValueError):
                time.sleep(0.05 * (attempt + 1))  # another process is renaming it into place
        return None

    # -- health ---------------------------------------------------------------------------------

    def check(self) -> str:
        """Refuse an index a complete ingest would not leave; repair what is derived.

        Raises IndexDamaged (the problem and the repair command) for a damaged vector store, an
        interrupted ingest, or a manifest that disagrees with the store. A missing or stale
        BM25 index is rebuilt from Chroma, which is safe: it holds nothing else. Returns what
        was repaired ("" if nothing). While another process ingests, the index is in flux by
        design: only the vector store itself is checked, and the server reloads afterwards.
        """
        count = self.count()
        if count:
            self._probe(count)
        state = read_ingest_state(self.local_dir)
        if state and not state.get("finished"):
            if _alive(state.get("pid")):
                return ""
            raise IndexDamaged(f"the last `groundwork ingest` into {self.where} (started "
                               f"{state.get('started')}) did not finish: run it again to "
                               f"complete it: {ingest_command(self.settings, state)}")
        count = self.count()  # after the state: an ingest that ended meanwhile is in both
        manifest = _read_json(self.manifest_path)
        listed = sum(entry.get("chunks", 0) for entry in manifest.values())
        if ((manifest or state) and listed != count
                and read_ingest_state(self.local_dir) == state):  # else an ingest began
            raise self._damaged(
                f"the manifest lists {listed} chunks in {len(manifest)} files but the vector "
                f"store at {self.where} holds {count}")
        if count == 0:
            return ""
        stamp = _read_stamp(self.bm25_dir)
        why = ("missing" if stamp is None
               else "in an old format" if stamp.get("format") != BM25_FORMAT
               else f"stale (built from {stamp.get('count')} chunks, the store holds {count})"
               if stamp.get("count") != count else "")
        if not why:
            return ""
        started = time.perf_counter()
        try:
            with file_lock(self.local_dir / INGEST_LOCK, exclusive=True, wait=False):
                self.rebuild_lexical_index()
        except BlockingIOError:
            return ""  # an ingest started meanwhile: it rebuilds the index when it ends
        done = (f"the BM25 index was {why}: rebuilt it from the vector store "
                f"({count} chunks, {time.perf_counter() - started:.1f} s)")
        log.warning(done)
        return done

    def _probe(self, count: int) -> None:
        """Read a few stored vectors back and search for each: Chroma itself reports nothing
        when its vector files are truncated or missing, and answers from what is left. PROBES
        spread over the store: each misses a file cut in half about one time in two, and three
        let it through in one of two test runs. A vector is looked for among its PROBE_DEPTH
        nearest, while a chunk cut from the index is found at no depth. On random vectors (the
        bench's synthetic stores) the approximate search misses some in their own top 3 at 300k
        and top 100 at 1M: the bench skips the probe there (bench/retrieval.py `measure`)."""
        lock = (contextlib.nullcontext() if self.settings.chroma_url
                else file_lock(self.local_dir / WRITE_LOCK, exclusive=False))
        with lock, self._reachable():  # the first read loads the vector index into memory
            try:
                offsets = sorted({i * (count - 1) // (PROBES - 1) for i in range(PROBES)})
                rows = [self.collection.get(limit=1, offset=o, include=["embeddings"])
                        for o in offsets]
                ids = [r["ids"][0] for r in rows]
                got = self.collection.query(query_embeddings=[r["embeddings"][0] for r in rows],
                                            n_results=min(PROBE_DEPTH, count),
                                            include=["distances"])
            except StoreUnavailable:
                raise
            except Exception as exc:
                if self.settings.chroma_url and _is_transport_error(exc):
                    raise
                raise self._damaged(f"the vector index at {self.where} is damaged "
                                    f"({_reason(exc)})") from None
        if any(pid not in found for pid, found in zip(ids, got["ids"])):
            raise self._damaged(f"the vector index at {self.where} does not find chunks it "
                                "holds (its files are damaged)")

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(chroma_dir(self.settings))


def drop_index(settings: Settings) -> None:
    """Delete the collection and everything derived from it (`ingest --rebuild`). An embedded
    database too damaged to open is removed as a whole."""
    try:
        store = Store(settings)
        with store._writing():
            store.client.delete_collection(settings.collection)
    except Exception as exc:
        if settings.chroma_url:
            raise
        log.warning("removing %s: %s", chroma_dir(settings), exc)
        shutil.rmtree(chroma_dir(settings), ignore_errors=True)
    for name in (MANIFEST, BM25_DIR, INGEST_RECORD):
        path = local_dir(settings) / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def _is_transport_error(exc: Exception) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__
    return exc


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _read_stamp(folder: Path) -> dict | None:
    stamp = _read_json(folder / BM25_STAMP)
    return stamp or None


def ingest_command(settings: Settings, state: dict | None = None, rebuild: bool = False) -> str:
    """The `groundwork ingest` command line for this index, with the folders last ingested."""
    state = state if state is not None else _read_json(local_dir(settings) / INGEST_STATE)
    roots = " ".join(state.get("roots") or []) or "YOUR_DOCUMENTS/"
    where = (f" --chroma-url {settings.chroma_url}" if settings.chroma_url else "")
    where += f" --index {settings.index_dir}" if settings.index_dir != Path("index") else ""
    return f"`groundwork ingest{' --rebuild' if rebuild else ''} {roots}{where}`"


def repair_command(settings: Settings) -> str:
    return f"rebuild the index with {ingest_command(settings, rebuild=True)}"


class LexicalIndex:
    """BM25 over the chunk texts with bm25s, tokenised as llama-index's BM25Retriever does
    (English stopwords, PyStemmer's English stemmer), persisted with the chunk ids only: the
    passages themselves are read from Chroma, so the index stays small and loads by mmap. Each
    chunk's token ids are kept beside it, so that an ingest can update the index for the chunks
    it changed without reading or tokenising the others again."""

    IDS = "ids.npy"
    TOKENS = "tokens.npy"  # every chunk's token ids, one chunk after the other, in IDS order
    OFFSETS = "offsets.npy"  # where each chunk's token ids start in TOKENS (and where they end)

    def __init__(self, bm25, ids):
        import Stemmer

        self.bm25, self.ids = bm25, ids
        self.stemmer = Stemmer.Stemmer("english")

    @staticmethod
    def _tokenise(texts: list[str]) -> list[list[str]]:
        import bm25s
        import Stemmer

        return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"),
                              return_ids=False, show_progress=False)

    @classmethod
    def build(cls, folder: Path, ids: list[str], texts: list[str]) -> None:
        vocab: dict[str, int] = {}
        cls._write(folder, ids, *cls._flat(cls._ids(cls._tokenise(texts), vocab)), vocab)

    @classmethod
    def update(cls, folder: Path, target: Path, added: dict[str, str],
               deleted: set[str]) -> list[str] | None:
        """The index in `folder` with `deleted` (and the earlier versions of `added`) left out
        and `added` (id -> text) put in, written to `target`; its ids, or None if `folder`
        holds no index of this format."""
        import bm25s
        import numpy as np

        stamp = _read_stamp(folder)
        if stamp is None or stamp.get("format") != BM25_FORMAT:
            return None
        vocab = dict(bm25s.BM25.load(str(folder), mmap=True, show_progress=False).vocab_dict)
        old_ids = np.load(folder / cls.IDS)
        tokens = np.load(folder / cls.TOKENS, mmap_mode="r")
        offsets = np.load(folder / cls.OFFSETS)
        if len(offsets) != len(old_ids) + 1 or offsets[-1] != len(tokens):
            return None
        gone = deleted | set(added)
        keep = np.fromiter((pid not in gone for pid in map(str, old_ids)), dtype=bool,
                           count=len(old_ids))
        lengths = np.diff(offsets)
        new_tokens, new_lengths = cls._flat(cls._ids(cls._tokenise(list(added.values())), vocab)
                                            if added else [])
        ids = [str(pid) for pid in old_ids[keep]] + list(added)
        if ids:  # none left: no index at all, as for an empty store
            cls._write(target, ids, np.concatenate([tokens[np.repeat(keep, lengths)], new_tokens]),
                       np.concatenate([lengths[keep], new_lengths]), vocab)
        return ids

    @staticmethod
    def _ids(docs: list[list[str]], vocab: dict[str, int]) -> list[list[int]]:
        """Token lists as token ids, new tokens added to `vocab`."""
        return [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in docs]

    @staticmethod
    def _flat(docs: list[list[int]]):
        """Token id lists as one array of every token id and one of each list's length."""
        import numpy as np

        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        return (np.fromiter(itertools.chain.from_iterable(docs), dtype=np.int32,
                            count=int(lengths.sum())), lengths)

    @classmethod
    def _write(cls, folder: Path, ids: list[str], tokens, lengths, vocab: dict[str, int]) -> None:
        """bm25s's index of the chunks whose token ids (of `vocab`) are `tokens`, `lengths` of
        them each, the ids and token ids beside it.

        The score matrix is the one bm25s.BM25().index() makes (Lucene's BM25, bm25s's default,
        the same float32 scores: tests/test_retrieve.py), computed with numpy over every token
        at once: bm25s loops in Python over each chunk, which cost every ingest 0.3 s of CPU at
        10,000 chunks and would cost ~30 s at a million."""
        import bm25s
        import numpy as np

        bm25 = bm25s.BM25()
        n_docs, n_vocab = len(lengths), len(vocab)
        pairs, tf = np.unique(np.repeat(np.arange(n_docs, dtype=np.int64), lengths) * n_vocab
                              + tokens, return_counts=True)
        doc, term = np.divmod(pairs, n_vocab)
        df = np.bincount(term, minlength=n_vocab)
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        length_norm = bm25.k1 * ((1 - bm25.b) + bm25.b * lengths / lengths.mean())
        scores = idf[term] * (tf / (length_norm[doc] + tf))
        by_term = np.argsort(term, kind="stable")  # columns; chunks in order within each
        bm25.scores = {"data": scores[by_term].astype(np.float32),
                       "indices": doc[by_term].astype(np.int32),
                       "indptr": np.concatenate([[0], np.cumsum(df)]), "num_docs": n_docs}
        bm25.vocab_dict = {**vocab, "": vocab.get("", n_vocab)}  # as index() adds it
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None  # Lucene's BM25 has none
        bm25.save(str(folder), show_progress=False)
        np.save(folder / cls.IDS, np.array(ids))
        np.save(folder / cls.OFFSETS, np.concatenate([[0], np.cumsum(lengths)]))
        np.save(folder / cls.TOKENS, np.asarray(tokens, dtype=np.int32))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        import bm25s
        import numpy as np

        stamp = _read_stamp(folder)
        if stamp is None or stamp.get("format") != BM25_FORMAT:
            return None
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        return cls(bm25, np.load(folder / cls.IDS, mmap_mode="r"))

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Up to `k` (id, BM25 score), best first; chunks sharing no term are not returned."""
        import bm25s
        import numpy as np

        tokens = bm25s.tokenize(question, stemmer=self.stemmer, return_ids=False,
                                show_progress=False)[0]
        tokens = [t for t in tokens if t in self.bm25.vocab_dict]
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        k = min(k, len(scores))
        # Every chunk scoring at least the k-th best, ties broken by id: the same ranking
        # whatever order the chunks were indexed in (a resumed ingest stores them differently).
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        top = np.flatnonzero(scores >= max(kth, np.finfo(scores.dtype).tiny))
        hits = sorted(((str(self.ids[i]), float(scores[i])) for i in top),
                      key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]
