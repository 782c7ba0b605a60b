"""The harness's own count of invented numbers: fail-closed, sharing no figure code with the
verifier, and checked against it (no altered figure may escape both)."""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

from assistant.config import Settings
from assistant.evaluate import invented_numbers
from assistant.evaluate_figures import read, unmatched
from assistant.types import Answer, Citation, Claim, Draft, Passage
from assistant.verify import Verifier

SENTENCE = "Harbour freight volumes at Harlow changed by {} between 2020 and 2024."
QUESTION = "How much did Harbour freight volumes at Harlow change between 2020 and 2024?"

# (what the answer says, what the cited passage says): a different value in a form of its own.
ALTERED = [
    ("-7.9%", "-5.2%"), ("2.5x", "1.5x"), ("half", "a third"), ("12k", "12"),
    ("41.2p", "42.1p"), ("-3 °C", "-5 °C"), ("1e6", "1e5"), ("one third", "one quarter"),
    ("a dozen", "ten"), ("5-8%", "5-7%"), ("5–8 percent", "5–7 percent"),
    ("two-thirds", "a third"), ("3 500", "3 000"), ("2,6%", "2,5%"), ("(1,243)", "(1,234)"),
    ("\u22121,324", "\u22121,234"), ("triple", "double"), ("one in four", "one in five"),
    ("36.3 million", "36.2 million"), ("+5.2%", "-5.2%"), ("4 percentage points", "4%"),
    ("3G", "4G"), ("forty-two percent", "forty-one percent"), ("$1.3bn", "$1.2bn"),
    ("5.2%", "-5.2%"),  # the sign dropped without a word for the decrease
]
# The same figure written another way: never counted.
FAITHFUL = [
    ("63892", "63,892"), ("36.2 million", "36,200,000"), ("12k", "12,000"), ("half", "50%"),
    ("a third", "one third"), ("\u22121,234", "-1,234"), ("1e6", "1,000,000"),
    ("3 000", "3,000"), ("twice", "two times"), ("forty-one percent", "41%"),
    ("-5.2%", "-5.2%"), ("2,5%", "2.5%"), ("two-thirds", "67%"), ("$1.2bn", "1.2 billion"),
]


def by_hand(said: str, source: str) -> Answer:
    """An Answer whose one claim says `said`, citing a passage that says `source`."""
    claim, text = SENTENCE.format(said), SENTENCE.format(source)
    cite = Citation(1, "p", "p.md", "Harlow bulletin", None, text, 0, len(text), text, 0,
                    len(text))
    answer = Answer(QUESTION, "answered", claim + " [1]", [Claim(claim, [1], True, 1.0)], [],
                    [cite])
    answer.retrieved = [Passage("p", text, "p.md", "Harlow bulletin", None, 0, len(text))]
    return answer


@pytest.mark.parametrize("said, source", ALTERED)
def test_an_altered_figure_is_counted_whatever_its_form(said, source):
    found = invented_numbers(by_hand(said, source))
    assert found, f"{said!r} passed as {source!r}"
    assert all(f in said for f in found), found


@pytest.mark.parametrize("said, source", FAITHFUL)
def test_the_same_figure_reformatted_is_not_counted(said, source):
    assert invented_numbers(by_hand(said, source)) == []


def test_a_year_in_parentheses_is_no_accounting_minus():
    """"the Battle of Bach Dang (1288)" states the year 1288; "(4,210)" is still -4,210."""
    assert [f.value for f in read("the Battle of Bach Dang (1288).")[0]] == [1288]
    assert [f.value for f in read("Net result: (4,210)")[0]] == [-4210]


def test_citation_markers_and_the_question_s_own_figures_are_not_counted():
    answer = by_hand("5.2%", "5.2%")
    answer.summary = "Freight changed by 5.2% [1] [2]."  # [2]: a marker, not the figure 2
    answer.question = "Did freight at Harlow change by 7% in 2024?"
    answer.claims.append(Claim("Whether freight at Harlow changed by 7%: not documented.", [],
                               True, 0.0, gap=True))
    assert invented_numbers(answer) == []
    answer.summary = "Freight changed by 5.2% over 3 years [1]."
    assert invented_numbers(answer) == ["3"]


def test_a_token_no_format_covers_must_occur_as_written():
    figures, tokens = read("the COVID-19 wave and the B2B market grew 2,5%")
    assert [f.text for f in figures] == ["19", "2,5%"] and tokens == ["B2B"]
    assert unmatched("B2B grew", ["B2B sales"]) == []
    assert unmatched("B2C grew", ["B2B sales"]) == ["B2C"]


def test_follow_ups_are_checked_against_the_passages_retrieved():
    answer = by_hand("5.2%", "5.2%")
    flat = "In 2019 volumes were flat."
    answer.retrieved.append(Passage("q", flat, "q.md", "Volumes", None, 0, len(flat)))
    answer.follow_ups = ["What were volumes in 2019?", "What were volumes in 2017?"]
    assert invented_numbers(answer) == ["2017"]


def test_the_harness_shares_no_figure_code_with_the_verifier():
    for module in ("evaluate_figures", "evaluate"):
        tree = ast.parse((ROOT / "assistant" / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                if module == "evaluate_figures":
                    assert not node.module.startswith("assistant"), node.module
                elif node.module in ("assistant.text", "assistant.analysis", "assistant.figures",
                                     "assistant.verify"):
                    assert not any("figure" in n.lower() for n in names), (node.module, names)
    assert Path(ROOT / "assistant" / "evaluate_figures.py").is_file()


@pytest.fixture(scope="module")
def verifier():
    return Verifier(Settings.load())


@pytest.mark.parametrize("said, source", ALTERED)
def test_no_altered_figure_escapes_both_the_verifier_and_the_harness(verifier, said, source):
    """Whatever the verifier decides about a claim with an altered figure, the figure either
    does not reach the answer or the harness counts it."""
    text = SENTENCE.format(source)
    passage = Passage("p", text, "p.md", "Harlow bulletin", None, 0, len(text))
    answer = verifier.run(QUESTION, Draft(SENTENCE.format(said) + " [1]", [passage], "test"))
    answer.retrieved = [passage]
    shown = " ".join([answer.summary, *(c.text for c in answer.claims)])
    assert said not in shown or invented_numbers(answer), shown
