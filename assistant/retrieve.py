"""Question -> ranked passages: dense + BM25 fused by reciprocal rank, optional rerank, a floor.

Fusion ranks well but its scores say nothing about relevance, so the floor is applied to the
cosine similarity of each fused passage to the question: below it a passage is not evidence.
"""

from __future__ import annotations

import math
import time

import numpy as np
from llama_index.core.retrievers import BaseRetriever

from assistant.config import Settings
from assistant.store import Store, StoreError, node_to_passage
from assistant.types import Passage


class Retriever:
    def __init__(self, settings: Settings | None = None, store: Store | None = None):
        from llama_index.core import VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever

        self.settings = settings = settings or Settings.load()
        self.store = store or Store(settings)
        count = self.store.count()
        if count == 0:
            where = settings.chroma_url or f"{settings.index_dir}/"
            raise StoreError(f"the index at {where} is empty: run `groundwork ingest corpus/`")
        self.embedder = self.store.embedder
        candidates = min(settings.candidates, count)
        self.dense = _WithCosine(VectorStoreIndex.from_vector_store(
            self.store.vector_store, embed_model=self.embedder
        ).as_retriever(similarity_top_k=candidates))
        lexical = self.store.load_lexical_retriever(candidates)
        if lexical is None:
            raise StoreError("the BM25 index is missing: run `groundwork ingest` again to "
                             "rebuild it")
        # num_queries=1: no LLM query rewriting, so the MockLLM is never called.
        self.fusion = QueryFusionRetriever([self.dense, lexical], mode="reciprocal_rerank",
                                           num_queries=1, use_async=False,
                                           similarity_top_k=candidates, llm=MockLLM())
        self.reranker = None
        if settings.rerank_model:
            from llama_index.core.postprocessor import SentenceTransformerRerank

            self.reranker = SentenceTransformerRerank(model=settings.rerank_model,
                                                      top_n=candidates, device="cpu")
        self.timings: dict[str, float] = {}

    def run(self, question: str, k: int | None = None) -> list[Passage]:
        """The top `k` passages at or above the relevance floor, best first."""
        from llama_index.core.schema import QueryBundle

        if not question or not question.strip():
            raise ValueError("the question is empty")
        k = k or self.settings.top_k
        t0 = time.perf_counter()
        query_embedding = self.embedder.get_query_embedding(question)
        t1 = time.perf_counter()
        bundle = QueryBundle(question, embedding=query_embedding)
        nodes = self.fusion.retrieve(bundle)
        if self.reranker is not None:
            nodes = self.reranker.postprocess_nodes(nodes, query_bundle=bundle)
        nodes = nodes[:k]
        t2 = time.perf_counter()
        cosine = dict(self.dense.cosine)
        lexical_only = [n.node.node_id for n in nodes if n.node.node_id not in cosine]
        if lexical_only:  # found by BM25 alone: their similarity needs their vectors
            q = np.asarray(query_embedding)
            for pid, vector in self.store.embeddings(lexical_only).items():
                cosine[pid] = float(np.dot(q, np.asarray(vector)))
        passages = []
        for n in nodes:
            passage = node_to_passage(n.node, score=float(n.score or 0.0))
            passage.similarity = round(cosine[passage.id], 4)
            if passage.similarity >= self.settings.relevance_floor:
                passages.append(passage)
        self.timings = {"embed_query": t1 - t0, "search": t2 - t1,
                        "floor": time.perf_counter() - t2}
        return passages



class _WithCosine(BaseRetriever):
    """The dense retriever, keeping each hit's cosine similarity for the floor.

    Chroma has computed it already, and fusion overwrites the scores, so without this the floor
    would fetch the vectors again (one more Chroma round trip per question).
    """

    def __init__(self, inner: BaseRetriever):
        super().__init__()
        self.inner = inner
        self.cosine: dict[str, float] = {}

    def _retrieve(self, query_bundle):
        nodes = self.inner.retrieve(query_bundle)
        # ChromaVectorStore reports exp(-distance); cosine distance is 1 - similarity.
        self.cosine = {n.node.node_id: 1.0 + math.log(n.score) for n in nodes if n.score}
        return nodes
