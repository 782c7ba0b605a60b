"""assistant.retrieve on the demo corpus: dense + BM25 fusion, the relevance floor, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CORPUS, subprocess_env

from assistant.config import Settings
from assistant.ingest import ingest
from assistant.readers import PAGE_SEP, extract
from assistant.retrieve import Retriever, reciprocal_rank
from assistant.store import Store, StoreError

ESCALATED = "How many reports were escalated to law enforcement as urgent in 2023?"
OFF_TOPIC = "What is the capital of Peru?"
QUESTIONS = [
    ESCALATED,
    "How many reports did the CyberTipline receive in 2023?",
    "What must electronic service providers report?",
    "How often should a bicycle chain be oiled?",
]
PASSAGE_KEYS = {"id", "text", "source", "title", "page", "start", "end", "score"}


@pytest.fixture(scope="module")
def retriever(demo_index) -> Retriever:
    return Retriever(demo_index)


@pytest.fixture(scope="module")
def unfloored(demo_index) -> Retriever:
    """The same index with the relevance floor off: every fused candidate comes back."""
    return Retriever(demo_index.replace(relevance_floor=-1.0))


def test_escalation_figure_is_in_top_3(retriever):
    passages = retriever.run(ESCALATED, 3)
    assert 1 <= len(passages) <= 3
    assert any("63,892" in p.text for p in passages), [p.text[:80] for p in passages]
    assert all(p.similarity >= retriever.settings.relevance_floor for p in passages)
    assert set(retriever.timings) == {"embed_query", "dense", "lexical", "lexical_wait", "fusion",
                                     "read", "floor"}


def test_passages_point_into_their_source(retriever):
    cache: dict[str, tuple[str, list[str]]] = {}
    for question in QUESTIONS:
        for p in retriever.run(question, 6):
            if p.source not in cache:
                path = CORPUS / p.source
                pages = extract(path, path.read_bytes()).pages
                cache[p.source] = (PAGE_SEP.join(pages), pages)
            full, pages = cache[p.source]
            assert full[p.start:p.end] == p.text
            if p.source.endswith(".pdf"):
                assert p.page is not None and 1 <= p.page <= len(pages)
                assert p.text in pages[p.page - 1]
            else:
                assert p.page is None
    assert any(s.endswith(".pdf") for s in cache) and any(s.endswith(".docx") for s in cache)


def test_search_json_cli(cli, demo_index, retriever):
    proc = cli("search", ESCALATED, "-k", "3", "--index", demo_index.index_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    passages = json.loads(proc.stdout)
    assert 1 <= len(passages) <= 3
    for p in passages:
        assert set(p) >= PASSAGE_KEYS
        assert isinstance(p["id"], str) and len(p["id"]) == 20
        assert isinstance(p["text"], str) and p["text"]
        assert (CORPUS / p["source"]).is_file()
        assert isinstance(p["title"], str) and p["title"]
        assert p["page"] is None or (isinstance(p["page"], int) and p["page"] >= 1)
        assert isinstance(p["start"], int) and p["end"] - p["start"] == len(p["text"])
        assert isinstance(p["score"], float) and p["score"] > 0
    assert any("63,892" in p["text"] for p in passages)
    assert [p["id"] for p in passages] == [p.id for p in retriever.run(ESCALATED, 3)]


def test_off_topic_question_returns_nothing(retriever, unfloored, demo_index):
    assert retriever.run(OFF_TOPIC) == []
    # there were candidates; the floor is what removed them
    candidates = unfloored.run(OFF_TOPIC)
    assert len(candidates) == demo_index.top_k
    assert max(p.similarity for p in candidates) < demo_index.relevance_floor


def test_fused_list_has_no_duplicate_ids(unfloored, demo_index):
    count = Store(demo_index).count()
    for question in QUESTIONS + [OFF_TOPIC]:
        passages = unfloored.run(question, 200)
        ids = [p.id for p in passages]
        assert len(ids) == len(set(ids)), question
        # two retrievers of `candidates` each, fused: at least that many distinct passages
        assert min(demo_index.candidates, count) <= len(ids) <= count
        scores = [p.score for p in passages]
        assert scores == sorted(scores, reverse=True)


def test_similarity_is_the_cosine_whichever_retriever_found_the_passage(unfloored, demo_index):
    """Passages found by BM25 alone get the same cosine as those the dense side found."""
    import numpy as np

    store = Store(demo_index)
    found_by_bm25_only = 0
    for question in QUESTIONS + [OFF_TOPIC]:
        passages = unfloored.run(question, 200)
        q = np.asarray(unfloored.embedder.get_query_embedding(question))
        dense = {pid for pid, _ in store.query(q.tolist(), demo_index.candidates)}
        found_by_bm25_only += sum(p.id not in dense for p in passages)
        vectors = store.embeddings([p.id for p in passages])
        for p in passages:
            assert p.similarity == pytest.approx(float(q @ np.asarray(vectors[p.id])), abs=2e-4)
    assert found_by_bm25_only > 0  # both paths were exercised


def test_fusion_is_reciprocal_rank_with_dense_first_on_ties():
    fused = reciprocal_rank([[("a", 0.9), ("b", 0.8)], [("b", 7.0), ("c", 5.0)]])
    assert [pid for pid, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 60)
    assert reciprocal_rank([[("x", 1.0)], [("y", 1.0)]])[0][0] == "x"


def test_bm25_returns_only_passages_sharing_a_term(retriever):
    hits = retriever.lexical.search("escalated urgent law enforcement", 30)
    assert hits and all(score > 0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert retriever.lexical.search("the of and", 30) == []  # stopwords only
    assert retriever.lexical.search("zyxwvut", 30) == []


def test_question_path_loads_no_torch_llama_index_or_gradio(demo_index):
    """`ask` in a new process (the ONNX export cached by the fixtures): the heavy libraries
    that only ingest, serve or an LLM generator need stay unimported."""
    code = ("import sys\nfrom assistant import Assistant\nfrom assistant.config import Settings\n"
            f"a = Assistant(Settings.load(index_dir={str(demo_index.index_dir)!r})).ask("
            f"{ESCALATED!r})\nassert a.claims, a\n"
            "from assistant.bench.ask import HEAVY_MODULES\n"
            "print(sorted(m for m in HEAVY_MODULES if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=subprocess_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]", proc.stdout


def test_empty_question_is_refused(retriever):
    with pytest.raises(ValueError, match="empty"):
        retriever.run("   ")


def test_empty_index_says_to_ingest(make_settings, cli):
    settings = make_settings()
    with pytest.raises(StoreError, match=r"is empty: run `groundwork ingest"):
        Retriever(settings)
    proc = cli("search", "anything", "--index", settings.index_dir)
    assert proc.returncode == 2
    assert "run `groundwork ingest" in proc.stderr and "Traceback" not in proc.stderr


def test_chroma_server_index_ranks_like_embedded(chroma_server, tmp_path, retriever):
    settings = Settings.load(index_dir=tmp_path / "index", chroma_url=chroma_server,
                             collection="demo-corpus-server")
    report = ingest([CORPUS], settings, progress=False)
    assert report.files_failed == []
    assert report.chunks_total == retriever.store.count()
    server = Retriever(settings)
    for question in QUESTIONS:
        want = [p.id for p in retriever.run(question, 3)]
        got = [p.id for p in server.run(question, 3)]
        assert want and got[0] == want[0], question
        assert got == want, question
    assert server.run(OFF_TOPIC) == []


def test_a_wider_look_at_the_same_question_reuses_its_search(demo_index):
    """The follow-ups' wider retrieval asks again with 3k: the same ranking, not searched twice
    (no query embedding); a new question searches again."""
    retriever = Retriever(demo_index)
    question = "How many CyberTipline reports were escalated in 2023?"
    first = retriever.run(question)
    assert retriever.timings["embed_query"] > 0
    wider = retriever.run(question, 3 * demo_index.top_k)
    assert retriever.timings["embed_query"] == 0
    assert [p.id for p in wider[:len(first)]] == [p.id for p in first]
    assert [p.id for p in wider] == [p.id for p in Retriever(demo_index).run(
        question, 3 * demo_index.top_k)]
    retriever.run("Who runs the Millbrook Public Library?")
    assert retriever.timings["embed_query"] > 0
