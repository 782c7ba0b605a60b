"""assistant.judge: the shipped weights, scored for real through onnxruntime and torch."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import subprocess_env

from assistant.judge import (
    CONTEXT_WORDS,
    WEIGHTS,
    candidate_text,
    ensure_exported,
    load_judge,
    passage_candidates,
    query_text,
)

CARD = Path(__file__).resolve().parents[1] / "assistant" / "judge" / "MODEL_CARD.md"

LAKES = "Lake Vättern is the largest lake in the province, covering 1,900 square kilometres."
PAIRS = [
    (query_text("Who designed the Harbour Bridge?"),
     candidate_text("The bridge was designed by the engineer Ralph Freeman in 1924.",
                    "Harbour Bridge")),
    (query_text("Who designed the Harbour Bridge?"),
     candidate_text("The bridge carries rail, vehicle, bicycle and pedestrian traffic.",
                    "Harbour Bridge")),
    (query_text("What is the smallest lake in the province?"), candidate_text(LAKES, "Lakes")),
    (query_text("What is the largest lake in the province?"), candidate_text(LAKES, "Lakes")),
    (query_text("What is the capital of Peru?"),
     candidate_text("Lima is the capital and largest city of Peru.", "Lima")),
    (query_text("What is the capital of Chile?"),
     candidate_text("Lima is the capital and largest city of Peru.", "Lima")),
    (query_text("The bridge was designed by Ralph Freeman.", "claim"),
     candidate_text("The bridge was designed by the engineer Ralph Freeman in 1924.",
                    "Harbour Bridge")),
]


@pytest.fixture(scope="module")
def scores() -> np.ndarray:
    return load_judge().score(PAIRS)


def test_the_answer_sentence_outscores_an_on_topic_sentence_that_does_not_answer(scores):
    assert scores[0] > scores[1]


def test_an_antonym_question_scores_below_its_twin(scores):
    assert scores[2] < scores[3]


def test_a_swapped_country_scores_below_the_right_one(scores):
    assert scores[5] < scores[4]


def test_scores_are_probabilities_of_one_batch(scores):
    assert scores.shape == (len(PAIRS),) and ((scores >= 0) & (scores <= 1)).all()
    assert load_judge().score([]).shape == (0,)


def test_a_score_does_not_depend_on_the_other_pairs_of_its_call(scores):
    alone = np.array([load_judge().score([pair])[0] for pair in PAIRS])
    many = load_judge().score(PAIRS * 3)  # more than one length group
    assert np.abs(alone - scores).max() < 1e-5 and np.abs(many - np.tile(scores, 3)).max() < 1e-5


def test_onnx_and_torch_agree(scores):
    torch_scores = load_judge("torch").score(PAIRS)
    assert np.abs(torch_scores - scores).max() < 1e-4


def test_scoring_from_the_cache_imports_neither_torch_nor_transformers():
    ensure_exported()
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "from assistant.judge import load_judge, query_text, candidate_text\n"
        "judge = load_judge()\n"
        "loaded = time.perf_counter() - start\n"
        "judge.score([(query_text('Who?'), candidate_text('Ann did.', 'A title'))])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'peft')"
        " if m in sys.modules)\n"
        "print(heavy, f'{loaded:.2f}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=subprocess_env(), check=True, timeout=120).stdout.split("\n")[-2]
    assert out.startswith("[] "), out


def test_how_pairs_are_written():
    assert query_text("  Who   designed it? ") == "question: Who designed it?"
    assert query_text("It rained.", "claim") == "claim: It rained."
    with pytest.raises(ValueError, match="kind must be one of question, claim"):
        query_text("x", "statement")
    before = " ".join(f"w{i}" for i in range(40))
    text = candidate_text("It opened in 1932.", "Harbour Bridge", before)
    assert text.startswith("It opened in 1932. | Harbour Bridge | ")
    assert text.split(" | ")[2].split() == before.split()[-CONTEXT_WORDS:]
    assert candidate_text("It opened.") == "It opened."


def test_passage_candidates_carry_the_sentence_before():
    cands = passage_candidates("Ralph Freeman designed it. It opened in 1932.", "Bridge")
    assert [span for span, _ in cands] == [(0, 26), (27, 45)]
    assert cands[1][1] == "It opened in 1932. | Bridge | Ralph Freeman designed it."


def test_model_card_lists_the_shipped_files_with_their_sha256():
    listed = dict(re.findall(r"\| `weights/([^`]+)` \| `([0-9a-f]{64})` \|", CARD.read_text()))
    shipped = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in WEIGHTS.iterdir() if p.is_file()}
    assert listed == shipped
    assert sum(p.stat().st_size for p in WEIGHTS.iterdir()) < 6e6
