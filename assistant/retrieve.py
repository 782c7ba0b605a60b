"""Question -> ranked passages: dense + BM25 fused by reciprocal rank, optional rerank, a floor.

Fusion ranks well but its scores say nothing about relevance, so the floor is applied to the
cosine similarity of each fused passage to the question: below it a passage is not evidence.

The hot path calls Chroma and bm25s directly (ids and scores only), fuses the two lists the way
llama-index's QueryFusionRetriever does (reciprocal rank, k = 60), then reads only the passages
it keeps from Chroma, in one call. BM25 needs only the question's words, so it runs in a thread
beside the query embedding and the dense query (numpy, onnxruntime/torch and Chroma's HTTP wait
all release the GIL): the wall time is the longer of the two, not their sum. Chroma is the
source of truth: a chunk that another process deleted after the BM25 index was built is not
returned, so an answer never cites a removed file.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from assistant.config import Settings
from assistant.store import Store, StoreError, record_to_passage
from assistant.types import Passage

RRF_K = 60  # reciprocal-rank constant, as in llama-index and the original paper


class Retriever:
    def __init__(self, settings: Settings | None = None, store: Store | None = None):
        self.settings = settings = settings or Settings.load()
        self.store = store or Store(settings)
        self.repaired, self.lexical = "", None
        self._load()
        self.embedder = self.store.embedder
        self.reranker = None
        if settings.rerank_model:  # a local cross-encoder folder; none ships offline
            from sentence_transformers import CrossEncoder

            self.reranker = CrossEncoder(settings.rerank_model, device="cpu")
        self.timings: dict[str, float] = {}
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="bm25")

    def _load(self, check: bool = True) -> None:
        """Check the index and load its BM25 side; again whenever an ingest has finished."""
        signature = self.store.lexical_signature()
        if check:
            self.repaired = self.store.check() or self.repaired
        count = self.store.count()
        if count == 0:
            where = self.settings.chroma_url or f"{self.settings.index_dir}/"
            raise StoreError(f"the index at {where} is empty: run `groundwork ingest corpus/`")
        lexical = self.store.load_lexical_index()
        if lexical is None:
            if self.lexical is None:
                raise StoreError("the BM25 index is missing: run `groundwork ingest` again to "
                                 "rebuild it")
            return  # being replaced right now: keep the one loaded, look again next question
        self.lexical, self.candidates, self._signature = lexical, min(
            self.settings.candidates, count), signature
        self._last = None

    def _notice_changes(self) -> None:
        """Every finished ingest leaves a new BM25 stamp: then reopen Chroma (an embedded store
        loads its vectors once per client) and reload BM25, so the new content is answerable
        without a restart. One stat() per question. An ingest through this very store (an
        upload in the UI) needs neither the reopening nor the check: the store saw its writes."""
        signature = self.store.lexical_signature()
        if signature is not None and signature != self._signature:
            own = signature == self.store.written_signature
            if not own:
                self.store.reopen()
            self._load(check=not own)

    def run(self, question: str, k: int | None = None) -> list[Passage]:
        """The top `k` passages at or above the relevance floor, best first."""
        import numpy as np

        if not question or not question.strip():
            raise ValueError("the question is empty")
        k = k or self.settings.top_k
        self._notice_changes()
        t0 = time.perf_counter()
        if self._last and self._last[0] == question:  # the follow-ups' wider look, same search
            _, query, fused = self._last
            t1 = t2 = t3 = t4 = t0
            lexical_seconds = 0.0
        else:
            lexical = self._beside.submit(self._timed_search, question)
            query = np.asarray(self.embedder.get_query_embedding(question), dtype=np.float32)
            t1 = time.perf_counter()
            dense = self.store.query(query.tolist(), self.candidates)
            t2 = time.perf_counter()
            lexical, lexical_seconds = lexical.result()
            t3 = time.perf_counter()
            fused = reciprocal_rank([dense, lexical])[:self.candidates]
            t4 = time.perf_counter()
            self._last = (question, query, fused)
        read = self._read(fused, len(fused) if self.reranker else k)
        t5 = time.perf_counter()
        if self.reranker is not None:
            scores = self.reranker.predict([(question, p.text) for p, _ in read])
            for (p, _), score in zip(read, scores):
                p.score = float(score)
            read = sorted(read, key=lambda pair: -pair[0].score)[:k]
        passages = []
        for p, vector in read:
            p.similarity = round(float(query @ np.asarray(vector, dtype=np.float32)), 4)
            if p.similarity >= self.settings.relevance_floor:
                passages.append(p)
        self.timings = {"embed_query": t1 - t0, "dense": t2 - t1, "lexical": lexical_seconds,
                        "lexical_wait": t3 - t2, "fusion": t4 - t3, "read": t5 - t4,
                        "floor": time.perf_counter() - t5}
        return passages

    def _timed_search(self, question: str) -> tuple[list[tuple[str, float]], float]:
        started = time.perf_counter()
        return self.lexical.search(question, self.candidates), time.perf_counter() - started

    def _read(self, fused: list[tuple[str, float]], n: int) -> list[tuple[Passage, list]]:
        """The first `n` fused passages that Chroma still holds, with their vectors, read in one
        call (a second only when some were deleted since the BM25 index was built)."""
        found: list[tuple[Passage, list]] = []
        start = 0
        while len(found) < n and start < len(fused):
            batch = fused[start:start + n - len(found)]
            start += len(batch)
            records = self.store.fetch([pid for pid, _ in batch])
            for pid, score in batch:
                if pid in records:
                    text, metadata, vector = records[pid]
                    found.append((record_to_passage(pid, text, metadata, score), vector))
        return found


def reciprocal_rank(ranked_lists: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    """(id, fused score) best first: the sum over lists of 1 / (rank + 60), ties in the order
    the lists are given (dense before BM25), as llama-index's "reciprocal_rerank" mode does."""
    fused: dict[str, float] = {}
    for ranked in ranked_lists:
        for rank, (pid, _) in enumerate(ranked):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (rank + RRF_K)
    return sorted(fused.items(), key=lambda item: -item[1])
