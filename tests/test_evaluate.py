"""The eval suite and its gate: passes on the shipped cases, and bites when a guard is off."""

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT

from assistant.answer import GENERATORS, ExtractiveGenerator, Generator
from assistant.config import Settings
from assistant.decide import UNDOCUMENTED
from assistant.evaluate import (
    Case,
    _states,
    evaluate,
    gate_failures,
    judge,
    load_cases,
    metrics,
)
from assistant.types import Answer, Citation, Claim, Draft, Passage
from assistant.verify import Verifier

GATE = ROOT / "evals" / "gate.toml"
CASES = sorted((ROOT / "evals" / "cases").glob("*.jsonl"))
DEV = ROOT.parent / "shared" / "evals" / "dev_numeric.jsonl"  # the public dev set, beside the repo
TRAPS = [ROOT / "evals" / "cases" / "numeric_traps.jsonl"]


class PerturbingGenerator(Generator):
    """A deterministic stand-in for an LLM that gets numbers wrong: the extractive answer with
    every figure's last digit changed. Only the numeric guard stands between it and the user."""

    name = "perturbing"

    def __init__(self, settings):
        self.inner = ExtractiveGenerator(settings)

    def stream(self, question, passages):
        draft = self.inner.run(question, passages)
        text = re.sub(r"(?<![\[\d])(\d+)(?=[\s,.%])(?![^\[]*\])",
                      lambda m: m.group(1)[:-1] + str((int(m.group(1)[-1]) + 1) % 10), draft.text)
        yield Draft(text, passages, self.name)


@pytest.fixture
def perturbing():
    GENERATORS["perturbing"] = PerturbingGenerator
    yield "perturbing"
    GENERATORS.pop("perturbing")


def test_n_times_states_a_count_of_occasions_unless_it_multiplies_something():
    assert _states("She was nominated for the prize five times but never won it.", "five")
    assert not _states("Sales were five times higher than in 2022.", "five")
    assert not _states("Sales were five times the 2022 total.", "five")
    assert _states("Sales were five times the 2022 total.", "five times")


def test_shipped_cases_are_well_formed():
    cases = load_cases(CASES)
    demo = [c for c in cases if c.file == "demo_corpus.jsonl"]
    traps = [c for c in cases if c.file == "numeric_traps.jsonl"]
    assert len(demo) >= 40 and len(traps) >= 40
    assert sum(not c.answerable for c in traps) * 2 == len(traps)
    assert all(c.answers == [] for c in cases if not c.answerable)


def test_bad_cases_file_says_where(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answers": [], "answerable": false, '
                   '"corpus": "corpus/"}\n{not json}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_cases([bad])
    bad.write_text('{"id": "a", "question": "q"}\n')
    with pytest.raises(ValueError, match="lacks answers, answerable"):
        load_cases([bad])


def test_gate_passes_on_the_shipped_cases(tmp_path, eval_indexes, capsys, monkeypatch):
    """What CI enforces: the default generator on every shipped case (and the public dev set).
    `groundwork eval` runs in this process, so the models the other tests loaded serve it."""
    from assistant.cli import main

    for name in [n for n in os.environ if n.startswith("GROUNDWORK_")]:
        monkeypatch.delenv(name)  # the default settings, as a user's shell would give them
    monkeypatch.chdir(ROOT)
    paths = CASES + ([DEV] if DEV.exists() else [])
    out = tmp_path / "report"
    code = main(["eval", *map(str, paths), "--out", str(out), "--gate", str(GATE), "--json",
                 "--index", str(eval_indexes)])
    printed = capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert code == 0, printed.err + json.dumps(
        [c for c in report["cases"] if not c["passed"]], indent=1)[:3000]
    assert json.loads(printed.out)["cases"] == report["cases"]
    for key in ("answerable_accuracy", "wrong_answers", "answer_precision", "unconfirmed",
                "unconfirmed_with_answer", "abstention_rate", "false_abstention_rate",
                "invented_numbers", "invalid_citations", "citation_precision",
                "retrieval_recall_at_k", "latency", "cases", "per_file"):
        assert key in report, key
    assert set(report["per_file"]) >= {"demo_corpus.jsonl", "numeric_traps.jsonl"}
    markdown = (out / "report.md").read_text()
    assert "| demo-02 |" in markdown and "abstention_rate" in markdown


def test_gate_bites_without_the_answer_type_check(eval_indexes):
    report = evaluate(load_cases(TRAPS), Settings.load(answer_type_check=False),
                      workdir=eval_indexes)
    failures = gate_failures(report, GATE)
    assert any(f.startswith("numeric_traps.jsonl: abstention_rate") for f in failures), failures


def test_gate_bites_without_the_numeric_guard(perturbing, eval_indexes):
    guarded = evaluate(load_cases(TRAPS), Settings.load(generator=perturbing),
                       workdir=eval_indexes)
    assert guarded.metrics["invented_numbers"] == 0
    assert gate_failures(guarded, GATE) == []
    unguarded = evaluate(load_cases(TRAPS), Settings.load(generator=perturbing,
                                                          numeric_guard=False),
                         workdir=eval_indexes)
    failures = gate_failures(unguarded, GATE)
    assert unguarded.metrics["invented_numbers"] > 0
    assert any("invented_numbers" in f for f in failures), failures


def test_gate_bites_when_the_verifier_contradicts_itself(monkeypatch, eval_indexes):
    """A verifier that never credits a claim with answering, and keeps the claims that read as
    the answer, lists every part as undocumented next to the claims that answer it: the gate
    must count that, not pass it."""
    monkeypatch.setattr(Verifier, "_decide_parts",
                        lambda self, parts, kept, passages: [UNDOCUMENTED] * len(parts))
    monkeypatch.setattr(Verifier, "_without_doubted",
                        lambda self, parts, outcomes, kept: (kept, []))
    report = evaluate(load_cases(TRAPS)[:8], Settings.load(), workdir=eval_indexes)
    assert report.metrics["self_contradictions"] > 0
    assert report.metrics["answerable_accuracy"] == 0.0
    failures = gate_failures(report, GATE)
    assert any("self_contradictions" in f for f in failures), failures


def _answer(status, claims, undocumented, question="How many reports were escalated?"):
    text = "NCMEC escalated 63,892 reports as urgent."
    passage = Passage("p", text, "p.md", "Escalations", None, 0, len(text))
    cite = Citation(1, "p", "p.md", "Escalations", None, text, 0, len(text), text, 0, len(text))
    answer = Answer(question, status, "", claims, undocumented, [cite])
    answer.retrieved = [passage]
    return answer


def test_a_case_passes_only_when_status_and_claims_agree():
    case = Case("c", "How many reports were escalated?", ["63,892"], True, "x.jsonl",
                corpus="corpus/")
    stated = Claim("NCMEC escalated 63,892 reports as urgent.", [1], True, 1.0,
                   answers=["How many reports were escalated"])
    assert judge(case, _answer("answered", [stated], [])).passed
    contradicting = judge(case, _answer("partial", [Claim(stated.text, [1], True, 1.0)],
                                        ["How many reports were escalated"]))
    assert not contradicting.passed and "lists" in contradicting.self_contradiction
    both = judge(case, _answer("partial", [stated], ["How many reports were escalated"]))
    assert "also listed" in both.self_contradiction
    compound = Case("d", "How many reports were escalated, and how many led to arrests?",
                    ["63,892"], True, "x.jsonl", corpus="corpus/",
                    undocumented_parts=["how many led to arrests"])
    assert judge(compound, _answer("partial", [stated], ["how many led to arrests"])).passed
    overclaimed = judge(compound, _answer("answered", [stated], []))
    assert not overclaimed.passed and overclaimed.wrong  # it answers the arrests part too


def test_only_answered_is_right_or_wrong():
    asked = Case("c", "How many reports were escalated?", ["63,892"], True, "x.jsonl",
                 corpus="corpus/")
    unanswerable = Case("u", "How many escalations led to arrests?", [], False, "x.jsonl",
                        corpus="corpus/")
    stated = Claim("NCMEC escalated 63,892 reports as urgent.", [1], True, 1.0,
                   answers=["How many reports were escalated"])
    results = [
        judge(asked, _answer("answered", [stated], [])),  # right
        judge(replace(asked, id="c2", answers=["36.2 million"]),
              _answer("answered", [stated], [])),  # wrong: another figure
        judge(unanswerable, _answer("answered", [stated], [])),  # wrong: nothing to answer
        judge(unanswerable, _answer("not_documented", [], ["How many led to arrests"])),
        judge(replace(asked, id="c3"), _answer("not_documented", [], [])),  # false abstention
    ]
    assert [(r.right, r.wrong) for r in results] == [
        (True, False), (False, True), (False, True), (False, False), (False, False)]
    assert [r.passed for r in results] == [True, False, False, True, False]
    m = metrics(results)
    assert m["wrong_answers"] == 2 and m["answer_precision"] == round(1 / 3, 4)
    assert m["abstention_rate"] == 0.5 and m["false_abstention_rate"] == round(1 / 3, 4)
    assert m["unconfirmed"] == 0 and m["unconfirmed_parts"] == 0
    # a count of words, shown as one (an even count's mean of two middles read "1650.0%")
    words = metrics([replace(r, words=w) for r, w in zip(results, (12, 21), strict=False)])
    assert words["median_words_one_fact"] == 12


def test_unconfirmed_parts_have_their_own_column():
    """Shown as "may answer": neither right nor wrong, and counted with whether the quoted
    evidence holds the expected answer."""
    asked = Case("c", "How many reports were escalated?", ["63,892"], True, "x.jsonl",
                 corpus="corpus/")
    maybe = Claim("NCMEC escalated 63,892 reports as urgent.", [1], True, 0.5,
                  answers=["How many reports were escalated"], unconfirmed=True)
    answer = _answer("unconfirmed", [maybe], [])
    answer.unconfirmed = ["How many reports were escalated"]
    holding = judge(asked, answer)
    other = judge(replace(asked, id="c2", answers=["36.2 million"]), answer)
    for r in (holding, other):
        assert not r.right and not r.wrong and not r.passed and r.unconfirmed_parts == 1
    assert holding.unconfirmed_with_answer == 1 and other.unconfirmed_with_answer == 0
    unanswerable = judge(Case("u", "How many led to arrests?", [], False, "x.jsonl",
                              corpus="corpus/"), answer)
    assert unanswerable.passed and not unanswerable.wrong  # not stated as the answer
    m = metrics([holding, other, unanswerable])
    assert (m["unconfirmed"], m["unconfirmed_parts"], m["unconfirmed_with_answer"]) == (3, 3, 1)
    assert m["wrong_answers"] == 0 and m["answer_precision"] is None
    assert m["abstention_rate"] == 1.0 and m["false_abstention_rate"] == 0.0


def test_gate_bites_on_wrong_answers(monkeypatch):
    """A verifier broken on purpose, that calls every answer complete, answers what the sources
    do not document: the gate must count wrong answers, not merely fewer passes."""
    honest = Verifier.run

    def overconfident(self, question, draft, fallback=None):
        answer = honest(self, question, draft, fallback)
        answer.claims = [c for c in answer.claims if not c.gap]
        answer.status, answer.undocumented, answer.unconfirmed = "answered", [], []
        return answer

    monkeypatch.setattr(Verifier, "run", overconfident)
    report = evaluate(load_cases(TRAPS)[:8], Settings.load())
    assert report.metrics["wrong_answers"] >= 4  # every unanswerable case, at least
    failures = gate_failures(report, GATE)
    assert any(f.startswith("numeric_traps.jsonl: wrong_answers") for f in failures), failures
    assert any("answer_precision" in f for f in failures), failures
    markdown = report.markdown()
    assert "| wrong_answers |" in markdown and "**WRONG**" in markdown


def test_baseline_comparison_names_what_got_worse(eval_indexes):
    cases = load_cases([ROOT / "evals" / "cases" / "numeric_traps.jsonl"])[:8]
    good = evaluate(cases, Settings.load(), workdir=eval_indexes)
    bad = evaluate(cases, Settings.load(answer_type_check=False), workdir=eval_indexes,
                   baseline=json.loads(json.dumps(good.to_dict(), default=str)))
    # Without the check it answers more: what gets worse is abstention, what may get better
    # is an answerable case the strict check refused.
    assert bad.comparison["worse"]
    assert set(bad.comparison["worse"]) <= {c.id for c in cases if not c.answerable}
    assert set(bad.comparison["better"]) <= {c.id for c in cases if c.answerable}


def test_gate_file_thresholds_are_the_issue_s():
    text = GATE.read_text()
    assert "min_abstention_rate = 0.95" in text and "max_false_abstention_rate = 0.10" in text
    assert "min_answerable_accuracy = 0.90" in text and "max_invented_numbers = 0" in text
    assert "max_invalid_citations = 0" in text and "max_self_contradictions = 0" in text
    assert "max_wrong_answers = 0" in text and "min_answer_precision = 0.95" in text
    assert Path(GATE).parent.name == "evals"


def _table_answer(claim_text: str, cited_row: int, cited_column: int):
    """An answer citing one cell of a real table chunk (the reader's and chunker's output)."""
    from assistant import cells
    from assistant.models import token_encoder
    from assistant.tables import chunks, from_grid

    table = from_grid([["Item", "FY2023", "FY2024"], ["Dockside fees ($ thousands)", "18,207",
                                                      "19,950"]], caption="Harbour finances")
    encode = token_encoder()
    ((text, found),) = chunks(table, 128, lambda t: len(encode(t)))
    passage = Passage("t", text, "harbour.xlsx", "harbour", None, 0, 0, analysis=found)
    cell = next(c for c in found.cells if (c.row, c.column) == (cited_row, cited_column))
    grounding = cells.Grounding(0, found.table, cell, True)
    cite = Citation(1, "t", "harbour.xlsx", "harbour", None, "x", 0, 1, text, 0, 0,
                    cell=cells.citation(grounding))
    question = "What were the dockside fees in FY2023?"
    claim = Claim(claim_text, [1], True, 1.0, answers=[question.rstrip("?")])
    answer = Answer(question, "answered", claim_text, [claim], [], [cite])
    answer.retrieved = [passage]
    return answer


def test_an_answer_must_cite_the_expected_cell_and_header_units_are_not_invented():
    case = Case("t", "What were the dockside fees in FY2023?", ["18,207"], True, "t.jsonl",
                corpus="x", cell={"source": "harbour.xlsx", "row": "Dockside fees ($ thousands)",
                                  "column": "FY2023"})
    right = judge(case, _table_answer("Dockside fees were $18,207 thousand in FY2023.", 0, 1))
    assert right.passed and right.invented_numbers == []
    wrong_cell = judge(case, _table_answer("Dockside fees were 18,207 in FY2023.", 0, 2))
    assert not wrong_cell.passed and wrong_cell.why == "no citation names the expected cell"
    scaled_wrong = judge(case, _table_answer("Dockside fees were $18,207 million.", 0, 1))
    assert set(scaled_wrong.invented_numbers) == {"$18,207 million"}
