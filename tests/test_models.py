"""assistant.models: the packaged encoder through torch and through onnxruntime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, subprocess_env

from assistant import models
from assistant.config import Settings
from assistant.ingest import chunk
from assistant.models import Encoder, embedder_path, load_embedder
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


def test_auto_sends_questions_to_onnxruntime_and_batches_to_the_measured_backend(
        texts, tmp_path, monkeypatch):
    """Batches go to the backend measured fastest here, once: the choice is kept beside the
    export and obeyed by every later encoder (tmp_path stands in for the cache folder; a batch
    is made small here so that measuring is quick)."""
    monkeypatch.setattr(models, "AUTO_ONNX_TEXTS", 4)
    batch = texts[:5]

    def counted(choice: str | None) -> tuple[Encoder, list]:
        encoder = Encoder(embedder_path(None), backend="auto")
        encoder._onnx_path = tmp_path / "encoder.onnx"
        if choice:
            (tmp_path / "encoder.batch-backend.json").write_text(json.dumps(
                {"backend": choice, "rule": models.CHOICE_RULE}))
        runs, run = [], encoder._session.run
        encoder._session.run = lambda *a, **k: runs.append(1) or run(*a, **k)
        return encoder, runs

    encoder, runs = counted(None)
    encoder.encode(QUESTIONS[:1])
    encoder.encode(texts[:4])
    assert len(runs) == 2 and not (tmp_path / "encoder.batch-backend.json").exists()
    measured_vectors = encoder.encode(batch)
    kept = json.loads((tmp_path / "encoder.batch-backend.json").read_text())
    assert set(kept["chunks_per_s"]) == {"onnx", "torch"} and all(kept["chunks_per_s"].values())
    rates = kept["chunks_per_s"]  # torch only when clearly faster (models.TORCH_MARGIN)
    assert kept["backend"] == ("torch" if rates["torch"] >= models.TORCH_MARGIN * rates["onnx"]
                               else "onnx") and kept["rule"] == models.CHOICE_RULE
    reference = load_embedder(backend="torch").encode(batch)
    assert np.abs(measured_vectors - reference).max() < 1e-5
    for choice, onnx_runs in (("torch", 0), ("onnx", 1)):  # 5 texts: one batch of 32
        encoder, runs = counted(choice)
        encoder.encode(batch)
        assert len(runs) == onnx_runs, choice
    # A choice measured on a busy machine is measured again once the load has halved.
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(models.os, "getloadavg", lambda: (cores / 2, cores / 2, cores / 2))
    (tmp_path / "encoder.batch-backend.json").write_text(json.dumps(
        {"backend": "torch", "chunks_per_s": {"onnx": 8.6, "torch": 10.7}, "load": cores * 1.5,
         "rule": models.CHOICE_RULE}))
    encoder, runs = counted(None)
    encoder.encode(batch)
    assert len(runs) > 1  # the measuring rounds ran onnxruntime
    kept = json.loads((tmp_path / "encoder.batch-backend.json").read_text())
    assert kept["load"] == cores / 2
    encoder, runs = counted(None)  # measured at a quiet time: obeyed
    encoder.encode(batch)
    assert len(runs) == (1 if kept["backend"] == "onnx" else 0)
    # A choice made by an earlier rule (a near tie given to torch) is measured again.
    (tmp_path / "encoder.batch-backend.json").write_text(json.dumps(
        {"backend": "torch", "chunks_per_s": {"onnx": 44.0, "torch": 44.1}, "load": 0.1}))
    encoder, runs = counted(None)
    encoder.encode(batch)
    assert len(runs) > 1
    assert json.loads((tmp_path / "encoder.batch-backend.json").read_text())["rule"] == 2


def test_tokenizer_matches_sentence_transformers_including_truncation(texts):
    """The onnxruntime path tokenises with `tokenizers` alone; it must cut and pad as
    sentence-transformers does (256 word pieces for MiniLM), or long chunks would differ."""
    encoder = load_embedder(backend="onnx")
    reference = load_embedder(backend="torch").torch_model.tokenizer
    batch = [texts[0], " ".join(texts) * 3, "Short one."]
    mine = encoder._tokenizer.encode_batch(batch)
    theirs = reference(batch, padding=True, truncation="longest_first",
                       max_length=encoder.max_length, return_tensors="np")
    assert encoder.max_length == 256
    assert (np.array([e.ids for e in mine]) == theirs["input_ids"]).all()
    assert (np.array([e.attention_mask for e in mine]) == theirs["attention_mask"]).all()


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="embed_backend must be one of auto, onnx, torch"):
        load_embedder(backend="tensorflow")


def test_prepare_leaves_the_export_and_the_batch_choice_in_the_cache(capsys):
    """`groundwork prepare` (`make install` runs it): a first ingest then waits for neither."""
    from assistant.cli import main

    assert main(["prepare"]) == 0
    made = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    export = Path(made["onnx_export"])
    assert export.is_file() and export.stat().st_size > 1e7
    choice = json.loads(export.with_suffix(".batch-backend.json").read_text())
    assert made["batch_backend"] == choice["backend"] in ("onnx", "torch")


def test_export_is_made_once_per_user_then_loads_without_torch(tmp_path, monkeypatch):
    """A process starting while another exports on an empty cache (a fresh install's first test
    run, or a first ingest beside the UI) waits for that file and never imports torch."""
    code = ("import json, sys\nfrom assistant.models import Encoder, embedder_path\n"
            "e = Encoder(embedder_path(None), backend='onnx')\n"
            "print(json.dumps(e.encode(['How many reports?'])[0][:3].tolist()))\n"
            "print([m for m in ('torch', 'transformers', 'sentence_transformers') "
            "if m in sys.modules])")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # started first, it reaches the cache a second after this process, which is exporting then
    waiting = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=subprocess_env(XDG_CACHE_HOME=str(tmp_path)))
    first = Encoder(embedder_path(None), backend="onnx")  # exports: torch is used here, once
    out, err = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, err[-2000:]
    assert "exporting the encoder" not in err
    vector, modules = out.strip().splitlines()
    assert modules == "[]"
    files = list((tmp_path / "groundwork" / "onnx").glob("*.onnx"))
    assert len(files) == 1 and files[0].stat().st_size > 1e7
    assert not list(files[0].parent.glob("*.tmp"))
    assert np.allclose(json.loads(vector), first.encode(["How many reports?"])[0][:3], atol=1e-6)
