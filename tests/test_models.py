"""assistant.models: the packaged encoder through torch and through onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS

from assistant.config import Settings
from assistant.ingest import chunk
from assistant.models import AUTO_ONNX_TEXTS, _exported, load_embedder
from assistant.readers import extract


@pytest.fixture(scope="module")
def texts() -> list[str]:
    settings = Settings()
    out = []
    for name in ("cybertipline_2023_overview.md", "cybertipline_faq.md",
                 "volume_vs_urgency_explainer.txt"):
        path = CORPUS / name
        out += [c[0] for c in chunk(extract(path, path.read_bytes()).pages, settings)]
    return out


QUESTIONS = ["How many CyberTipline reports were escalated as urgent in 2023?",
             "What share of reports came from electronic service providers?",
             "How do I keep a sourdough starter alive?"]


def test_backends_give_the_same_vectors_and_neighbours(texts):
    vectors = {}
    for backend in ("torch", "onnx", "auto"):
        embedder = load_embedder(backend=backend)
        docs = np.asarray(embedder.get_text_embedding_batch(texts))
        qs = np.asarray([embedder.get_query_embedding(q) for q in QUESTIONS])
        vectors[backend] = docs, qs
    ref_docs, ref_qs = vectors["torch"]
    assert ref_docs.shape == (len(texts), 384)
    for backend in ("onnx", "auto"):
        docs, qs = vectors[backend]
        assert np.abs(docs - ref_docs).max() < 1e-5 and np.abs(qs - ref_qs).max() < 1e-5
        assert (np.argsort(-(qs @ docs.T))[:, :10] == np.argsort(-(ref_qs @ ref_docs.T))[:, :10]
                ).all()
    assert np.allclose(np.linalg.norm(vectors["onnx"][0], axis=1), 1, atol=1e-5)


def test_auto_sends_questions_to_onnxruntime_and_batches_to_torch(texts, monkeypatch):
    encoder = load_embedder(backend="auto")._model
    runs = []
    run = encoder.session.run
    monkeypatch.setattr(encoder.session, "run", lambda *a, **k: runs.append(1) or run(*a, **k))
    encoder.encode(QUESTIONS[:1])
    assert len(runs) == 1
    encoder.encode(texts[:AUTO_ONNX_TEXTS + 1])
    assert len(runs) == 1  # went to torch


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="embed_backend must be one of auto, onnx, torch"):
        load_embedder(backend="tensorflow")


def test_export_is_cached_per_user_and_reused(tmp_path, monkeypatch):
    from assistant.models import embedder_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = load_embedder(backend="torch")._model
    inputs = ["input_ids", "attention_mask", "token_type_ids"]
    first = _exported(model, embedder_path(None), inputs)
    assert first.is_relative_to(tmp_path / "groundwork" / "onnx") and first.stat().st_size > 1e7
    stamp = first.stat().st_mtime_ns
    assert _exported(model, embedder_path(None), inputs) == first
    assert first.stat().st_mtime_ns == stamp  # not exported again
    assert not list(first.parent.glob("*.tmp"))
