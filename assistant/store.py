"""Chroma (embedded or a `chroma run` server) for vectors, and the persisted BM25 index beside it.

Chroma is the source of truth for what is indexed; the manifest and the BM25 index are derived
from it and can always be rebuilt, which is what makes an interrupted ingest recoverable.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
from pathlib import Path
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.models import embedder_path, load_embedder
from assistant.types import Analysis, Passage

_PAGE_SIZE = 5000  # Chroma get() batch when reading the whole collection


@contextlib.contextmanager
def quiet():
    """bm25s draws progress bars and warnings on stderr even for small loads; keep output ours."""
    logger = logging.getLogger("llama_index.retrievers.bm25")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


INGEST_RECORD = "ingested.json"  # ingest's note that the store is exactly what it last wrote


def forget_ingest_record(folder: Path) -> None:
    """Any write makes that note untrue; the next ingest then checks the store itself."""
    (folder / INGEST_RECORD).unlink(missing_ok=True)


class StoreError(RuntimeError):
    """A store problem the user can fix; the message says how."""


def _content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def passage_to_node(p: Passage, embedding=None, analysis_json: str | None = None):
    """The stored form of a chunk: its text, where it came from, and its analysis (as JSON)."""
    from llama_index.core.schema import TextNode

    metadata = {"source": p.source, "title": p.title, "page": p.page or 0, "start": p.start,
                "end": p.end, "section": p.section, "content_hash": _content_hash(p.text)}
    analysis_json = analysis_json or (p.analysis.to_json() if p.analysis else None)
    if analysis_json:
        metadata["analysis"] = analysis_json
    return TextNode(id_=p.id, text=p.text, metadata=metadata, embedding=embedding,
                    excluded_embed_metadata_keys=list(metadata),
                    excluded_llm_metadata_keys=list(metadata))


def node_to_passage(node, score: float = 0.0) -> Passage:
    m = node.metadata
    text = node.get_content()
    return Passage(id=node.node_id, text=text, source=m["source"], title=m["title"],
                   page=m.get("page") or None, start=m["start"], end=m["end"], score=score,
                   section=m.get("section", ""),
                   analysis=Analysis.from_json(m["analysis"], text) if m.get("analysis") else None)


# An index folder's layout, known without opening Chroma (the quick re-ingest reads it).
MANIFEST = "manifest.json"
BM25_DIR = "bm25"
BM25_STAMP = "groundwork.json"  # inside BM25_DIR: the fingerprint of the ids it was built from


def local_dir(settings: Settings) -> Path:
    """Where a collection's manifest, BM25 index and ingest record live."""
    return settings.index_dir / settings.collection


def chroma_dir(settings: Settings) -> Path:
    """The embedded Chroma database of every collection under index_dir."""
    return settings.index_dir / "chroma"


def embed_model_id(settings: Settings) -> str:
    """The name the collection and the manifest record the embedding model under."""
    return Path(embedder_path(settings.embed_model)).name


class Store:
    def __init__(self, settings: Settings | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.settings = settings = settings or Settings.load()
        self.embed_model_id = embed_model_id(settings)
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise StoreError(f"chroma_url must look like http://HOST:PORT, got "
                                 f"{settings.chroma_url!r}")
            try:
                self.client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                                  ssl=url.scheme == "https",
                                                  settings=chroma_settings)
                self.client.heartbeat()
            except Exception as exc:
                raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url} "
                                 f"({type(exc).__name__}): is `chroma run` up?") from None
        else:
            chroma_dir(settings).mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(chroma_dir(settings)),
                                                    settings=chroma_settings)
        # Our own embeddings always: Chroma's default embedding function would download a model.
        self.collection = self.client.get_or_create_collection(
            settings.collection, embedding_function=None,
            metadata={"hnsw:space": "cosine", "embed_model": self.embed_model_id})
        indexed_with = (self.collection.metadata or {}).get("embed_model")
        if indexed_with and indexed_with != self.embed_model_id:
            raise StoreError(f"collection {settings.collection!r} was embedded with "
                             f"{indexed_with}, "
                             f"not {self.embed_model_id}: use another --index or collection")
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self.local_dir = local_dir(settings)
        self.local_dir.mkdir(parents=True, exist_ok=True)

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

    def count(self) -> int:
        return self.collection.count()

    # -- writing ---------------------------------------------------------------------------------

    def replace_source(self, source: str, passages: list[Passage]) -> tuple[int, int, int]:
        """Make the store hold exactly `passages` for `source`: (added, deleted, embedded)."""
        return next(self.replace_sources([(source, passages)]))

    def replace_sources(self, batch: list[tuple[str, list[Passage]]]):
        """replace_source for several files: one encoder pass and one Chroma write for all their
        new chunks (per-call costs dominate small files), then each file's stale chunks deleted.

        Yields (added, deleted, embedded) per file, in order, once that file is fully written, so
        the caller can record it in the manifest before the next file is finished. New chunks are
        written before stale ones are deleted: a crash in between leaves extra chunks that the
        rerun removes, never a file with no chunks.
        """
        forget_ingest_record(self.local_dir)
        plans = []
        for source, passages in batch:
            existing = set(self.collection.get(where={"source": source}, include=[])["ids"])
            plans.append((existing, [p for p in passages if p.id not in existing], passages))
        new = [p for _, file_new, _ in plans for p in file_new]
        vectors, fresh = self._embeddings_for(new)
        if new:
            self.vector_store.add([passage_to_node(p, e) for p, e in zip(new, vectors)])
        for existing, file_new, passages in plans:
            hashes = {_content_hash(p.text) for p in file_new}
            embedded = len(hashes & fresh)
            fresh -= hashes  # a text shared by two files counts as embedded once
            stale = sorted(existing - {p.id for p in passages})
            for i in range(0, len(stale), _PAGE_SIZE):
                self.collection.delete(ids=stale[i:i + _PAGE_SIZE])
            yield len(file_new), len(stale), embedded

    def add_with_embeddings(self, passages: list[Passage], embeddings) -> None:
        """Bulk load with precomputed vectors (the benchmark's synthetic 100k-chunk index)."""
        forget_ingest_record(self.local_dir)
        self.vector_store.add([passage_to_node(p, list(map(float, e)))
                               for p, e in zip(passages, embeddings)])

    def _embeddings_for(self, passages: list[Passage]) -> tuple[list, set[str]]:
        """Embed each distinct text once, reusing vectors of identical text already stored.

        Returns the vectors and the content hashes that had to be embedded. Texts go to the
        encoder longest first, so each of llama-index's batches pads to similar lengths.
        """
        if not passages:
            return [], set()
        hashes = [_content_hash(p.text) for p in passages]
        known: dict[str, list[float]] = {}
        unique = sorted(set(hashes))
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

    # -- reading the whole collection -------------------------------------------------------------

    def _all(self, include: list[str]):
        for offset in range(0, self.count(), _PAGE_SIZE):
            yield self.collection.get(include=include, limit=_PAGE_SIZE, offset=offset)

    def sources(self) -> set[str]:
        return {m["source"] for batch in self._all(["metadatas"]) for m in batch["metadatas"]}

    def _fingerprint(self) -> str:
        ids = sorted(i for batch in self._all([]) for i in batch["ids"])
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()

    # -- the lexical index ------------------------------------------------------------------------

    def lexical_index_current(self) -> bool:
        stamp = self.bm25_dir / BM25_STAMP
        if not stamp.exists():
            return self.count() == 0
        return json.loads(stamp.read_text()).get("fingerprint") == self._fingerprint()

    def rebuild_lexical_index(self) -> None:
        """Rebuilt at ingest time (bm25s indexes 100k chunks in seconds), never per query."""
        from llama_index.retrievers.bm25 import BM25Retriever

        # Built through passage_to_node so that a node has the same hash whichever retriever
        # returns it: fusion de-duplicates by that hash.
        nodes = [
            passage_to_node(Passage(id=pid, text=text, source=m["source"], title=m["title"],
                                    page=m["page"] or None, start=m["start"], end=m["end"],
                                    section=m.get("section", "")),
                            analysis_json=m.get("analysis"))
            for batch in self._all(["documents", "metadatas"])
            for pid, text, m in zip(batch["ids"], batch["documents"], batch["metadatas"])
        ]
        tmp = self.bm25_dir.with_name("bm25.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        if nodes:
            with quiet():
                retriever = BM25Retriever.from_defaults(nodes=nodes,
                                                        similarity_top_k=self.settings.candidates)
                retriever.persist(str(tmp))
            (tmp / BM25_STAMP).write_text(json.dumps({"fingerprint": self._fingerprint()}))
        old = self.bm25_dir.with_name("bm25.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.bm25_dir.exists():
            self.bm25_dir.rename(old)
        if nodes:
            tmp.rename(self.bm25_dir)
        shutil.rmtree(old, ignore_errors=True)

    def load_lexical_retriever(self, top_k: int):
        from llama_index.retrievers.bm25 import BM25Retriever

        if not (self.bm25_dir / BM25_STAMP).exists():
            return None
        with quiet():
            retriever = BM25Retriever.from_persist_dir(str(self.bm25_dir))
        retriever.similarity_top_k = min(top_k, self.count())
        return retriever

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        got = self.collection.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))
