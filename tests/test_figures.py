"""The figure reader and the fail-closed numeric guard: every form both ways.

Each row of FORMS is a figure as a claim writes it, the same figure as a source writes it (often
reformatted), and an altered claim in the claim's form. The guard must accept the first and
refuse the altered one; the reader must see a figure in each of the three.
"""

import json
import re

import pytest
from conftest import scripted_llm

from assistant import evaluate_figures
from assistant.figures import read, unsupported
from assistant.types import Sentence

FORMS = [  # (claim, source, altered claim)
    ("63,892 reports", "63892 reports", "63,893 reports"),
    ("36.2 million reports", "36,200,000 reports", "36.3 million reports"),
    ("$2.4 million", "$2,400,000", "$4.2 million"),
    ("-5.2%", "-5.2%", "-7.9%"),
    ("−5.2 percent", "-5.2%", "−5.3 percent"),
    ("fell 5.2%", "changed by -5.2%", "rose 5.2%"),
    ("(1,234)", "-1,234", "(1,243)"),
    ("−1,234", "(1,234)", "1,234"),
    ("+34%", "34%", "+43%"),
    ("1.5x", "1.5 times", "2.5x"),
    ("3x", "three times", "4x"),
    ("2.5-fold", "2.5 times", "3.5-fold"),
    ("twice", "two times", "three times"),
    ("doubled", "twice", "tripled"),
    ("41.2p", "41.2 pence", "42.1p"),
    ("-3 °C", "−3°C", "-4 °C"),
    ("3.5 °F", "3.5°F", "3.5 °C"),
    ("1e6", "1,000,000", "1e7"),
    ("1.5 x 10^6", "1,500,000", "2.5 x 10^6"),
    ("one third", "33.3%", "one quarter"),
    ("a third", "33%", "34%"),
    ("half", "50%", "a third"),
    ("two-thirds", "66.7%", "three-quarters"),
    ("one in five", "20%", "one in four"),
    ("1 in 5", "one in five", "1 in 6"),
    ("a dozen", "12", "13"),
    ("12k", "12,000", "21k"),
    ("£5m", "£5 million", "£6m"),
    ("€3bn", "€3 billion", "€3.5bn"),
    ("$1.2tn", "$1.2 trillion", "$2.1tn"),
    ("5-7%", "5–7 percent", "5-8%"),
    ("between 5 and 7 percent", "5-7%", "between 5 and 9 percent"),
    ("5 percentage points", "5 pp", "5%"),
    ("41%", "41 per cent", "41 reports"),
    ("forty-one percent", "41%", "forty-two percent"),
    ("sixty-one thousand", "61,000", "sixty-two thousand"),
    ("two hundred and five", "205", "two hundred and fifty"),
    ("63 892", "63,892", "63 893"),  # a thin space between thousands
    ("3 000 people", "3,000 people", "3 500 people"),
    ("2,5%", "2.5%", "3,5%"),
    ("0.5%", "0.50%", "0.05%"),
    ("$18,207", "$18207", "$18,270"),
    ("2023-24", "2023–24", "2023-25"),
    ("COVID-19", "COVID-19", "COVID-20"),
    ("Q3", "Q3", "Q4"),
    ("10:30", "10:30", "11:30"),
    ("FY2023", "FY2023", "FY2024"),
    ("hundreds of", "hundreds of", "thousands of"),
    ("12/05/2023", "12/05/2023", "12/06/2023"),
]


def sentence(text: str) -> Sentence:
    return Sentence(0, len(text), text, [], [], read(text), False)


def supported(claim: str, source: str) -> bool:
    return not unsupported(sentence(claim), [sentence(source)])


@pytest.mark.parametrize("claim, source, altered", FORMS)
def test_the_same_figure_is_supported_and_an_altered_one_refused(claim, source, altered):
    assert read(claim) and read(source) and read(altered), "the reader must see each figure"
    assert supported(claim, source), (claim, source, read(claim), read(source))
    assert not supported(altered, source), (altered, source, read(altered), read(source))


def test_at_least_forty_forms_are_tried():
    assert len({c for c, _, _ in FORMS}) >= 40


def test_a_range_supports_only_the_same_range():
    assert supported("between 5 and 7 percent", "5–7%")
    assert not supported("5%", "5-7%") and not supported("7%", "5-7%")
    assert not supported("5-7%", "5% and 7%")


def test_signs_and_accounting_parentheses_are_kept():
    assert [f.value for f in read("(1,234) and −1,234 and -5.2% and +34%")] == [
        -1234, -1234, -5.2, 34]
    assert [f.kind for f in read("5.2 percentage points and 5.2%")] == ["points", "percent"]
    assert read("COVID-19")[0].kind == "token"  # a hyphen after a letter is not a minus


def test_every_token_with_a_digit_is_a_figure():
    """Fail closed: whatever the form, a token holding a digit is covered by some figure."""
    text = ("v2.1 H1N1 3D #12 1st 21st 24/7 50-50 9am 5G 2258A A4 12:30:05 1.2.3 x86-64 "
            "£41.2bn ~40 >5 3½ 10^3 1_000 ⅔ 7-Eleven 4×4 2nd-largest")
    found = read(text)
    for m in re.finditer(r"\S+", text):
        digits = [k for k in range(m.start(), m.end()) if text[k].isdigit()]
        for k in digits:
            assert any(f.start <= k < f.end for f in found), (m.group(0), found)


def test_number_and_fraction_words_are_figures_a_pronoun_one_is_not():
    assert [f.value for f in read("She sold 1.2 million copies and forty-one thousand more")] \
        == [1_200_000, 41_000]
    assert read("one of the reports") == [] and read("no one knows") == []
    assert [f.kind for f in read("half, twice, a dozen, two-thirds, one in five, tripled")] == [
        "percent", "multiple", "number", "percent", "percent", "multiple"]


def test_a_number_in_words_after_a_figure_on_an_earlier_line_is_its_own_figure():
    found = read("# Meeting 2024\n\nSixty-one percent of members voted.")
    assert [(f.kind, f.value) for f in found] == [("year", 2024), ("percent", 61)]


def test_markers_are_not_figures_and_kinds_are_told_apart():
    assert read("as stated [3] and [12]") == []
    assert [f.kind for f in read("in 2023 it rose by 7 percent to $5 and 1,920 nurses")] == [
        "year", "percent", "money", "number"]
    assert [(f.value, f.high) for f in read("rose from 32 to 36.2 million")] == [
        (32, None), (36_200_000, None)]


def test_one_measured_out_is_a_figure_and_a_lone_one_is_not():
    assert [(f.kind, f.value) for f in read("apply one drop of chain lubricant")] == [
        ("number", 1)]
    assert [f.kind for f in read("one image can become a report")] == ["token"]


def test_a_year_ending_a_stated_range_is_stated():
    assert supported("In 2020 volumes were low", "Volumes grew 1.5x from 2020-2024")
    assert not supported("In 2019 volumes were low", "Volumes grew 1.5x from 2020-2024")


# -- end to end: a model that misstates the sources ----------------------------------------------

BULLETIN = """# Harlow Economic Bulletin, May 2024

In May 2024 the Harlow consumer price index fell -5.2% compared with May 2023.
Harbour freight volumes at Harlow grew 1.5x between 2020 and 2024.
Bus fares rose +34% over the same period, while ferry fares were unchanged.
Shop rents averaged 41.2p per square foot per week.
The lowest temperature recorded in the quarter was -3 °C.
Unemployment in the district stood between 5 and 7 percent.
About one third of households in Harlow own an electric bicycle.
The council received 12,000 planning comments in 2024, half of them online.
The harbour authority reported a deficit of (1,234) thousand pounds.
Container traffic reached 2.4 million tonnes, a market share gain of 3 percentage points.
"""
CITE = " [1] [2] [3] [4] [5] [6]"
ALTERED = {  # figure as the model misstates it -> its sentence
    "-7.9%": "In May 2024 the Harlow consumer price index fell -7.9% compared with May 2023.",
    "2.5x": "Harbour freight volumes at Harlow grew 2.5x between 2020 and 2024.",
    "+43%": "Bus fares rose +43% over the same period.",
    "42.1p": "Shop rents averaged 42.1p per square foot per week.",
    "-4 °C": "The lowest temperature recorded in the quarter was -4 °C.",
    "between 5 and 9 percent": "Unemployment in the district stood between 5 and 9 percent.",
    "two thirds": "About two thirds of households in Harlow own an electric bicycle.",
    "21k": "The council received 21k planning comments in 2024.",
    "a quarter": "A quarter of the planning comments were made online.",
    "(4,321)": "The harbour authority reported a deficit of (4,321) thousand pounds.",
    "3.4 million": "Container traffic reached 3.4 million tonnes.",
    "5 percentage points": "Container traffic gained 5 percentage points of market share.",
    "1e7": "Container traffic reached 1e7 kilograms.",
    "a dozen": "The council received a dozen planning comments in 2024.",
}
FAITHFUL = ["The council received 12000 planning comments in 2024.",
            "Harbour freight volumes at Harlow grew 1.5 times between 2020 and 2024.",
            "In May 2024 the Harlow consumer price index fell 5.2% compared with May 2023."]


def test_altered_figures_from_an_llm_never_reach_the_answer(tmp_path, cli):
    from assistant.config import Settings
    from assistant.ingest import ingest

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "bulletin.md").write_text(BULLETIN)
    settings = Settings.load(index_dir=tmp_path / "index")
    assert ingest([tmp_path / "corpus"], settings, progress=False).files_failed == []
    draft = " ".join(s.rstrip(".") + CITE + "." for s in [*ALTERED.values(), *FAITHFUL])
    with scripted_llm(draft) as url:
        result = cli("ask", "What does the Harlow economic bulletin report for May 2024?",
                     "--index", settings.index_dir, "--generator", "openai", "--json",
                     GROUNDWORK_OPENAI_BASE_URL=url)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    said = [answer["summary"], answer["text"], *(c["text"] for c in answer["claims"])]
    for figure, sentence in ALTERED.items():
        assert not any(figure in text for text in said), (figure, answer["text"])
        assert any(c["text"].rstrip(".") == sentence.rstrip(".")
                   and "appear in no cited passage" in c["reason"] for c in answer["rejected"]), \
            (figure, [(c["text"], c["reason"]) for c in answer["rejected"]])
    kept = [c["text"].rstrip(".") for c in answer["claims"]]
    for sentence in FAITHFUL:  # a faithful paraphrase in another form is kept: the test can fail
        assert sentence.rstrip(".") in kept, (sentence, kept)


@pytest.mark.parametrize("claim, source, altered", FORMS)
def test_the_harness_counts_every_altered_form_on_its_own(claim, source, altered):
    """The eval's count of invented numbers reads figures with code of its own: no altered form
    of the table escapes it either, and no faithful one is counted."""
    assert not evaluate_figures.unmatched(claim, [source]), (claim, source)
    assert evaluate_figures.unmatched(altered, [source]), (altered, source)


def test_a_currency_named_after_the_figure_makes_it_money():
    """"What was the revenue" wants money: "4.8 billion kroner" is, "5 pounds of flour" not."""
    assert [f.kind for f in read("revenue of 4.8 billion kroner, 300 euros")] == \
        ["money", "money"]
    assert [f.kind for f in read("5 pounds of flour and 12 real estate deals")] == \
        ["number", "number"]
