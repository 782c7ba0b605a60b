"""The lexical primitives and the analysis: figures are normalised, sentences split where a
reader would, lemmas join inflected forms."""

import pytest

from assistant.analysis import as_sentence, terms
from assistant.text import clean, figures


def sentences(text):
    from assistant.analysis import sentences

    return [s.text for s in sentences(text)]


def is_negated(text):
    return as_sentence(text).negated


@pytest.mark.parametrize("a, b", [
    ("63,892 reports", "63892 reports"),
    ("36.2 million reports", "36,200,000 reports"),
    ("41% of them", "41 percent of them"),
    ("$2.4 million", "$2,400,000"),
    ("7 per cent", "7%"),
    ("Forty-one percent of visitors", "41% of visitors"),
    ("sixty-one thousand people", "61,000 people"),
    ("two hundred and five", "205"),
])
def test_equal_figures_normalise_alike(a, b):
    (fa,), (fb,) = figures(a), figures(b)
    assert fa.same_as(fb)


def test_a_number_in_words_after_a_figure_on_an_earlier_line_is_its_own_figure():
    found = figures("# Meeting 2024\n\nSixty-one percent of members voted.")
    assert [(f.kind, f.value) for f in found] == [("year", 2024), ("percent", 61)]
    assert [f.value for f in figures("1.2 million people")] == [1_200_000]


def test_a_percentage_is_not_a_count_and_markers_are_not_figures():
    (pct,), (count,) = figures("41%"), figures("41 reports")
    assert not pct.same_as(count)
    assert figures("as stated [3] and [12]") == []
    assert [f.kind for f in figures("in 2023 it rose by 7 percent to $5 and 1,920 nurses")] == [
        "year", "percent", "money", "number"]


def test_codes_are_not_figures():
    assert figures("COVID-19 and 2258A and 5G") == []


def test_sentences_respect_abbreviations_and_headings():
    text = ("## Totals\nSt. Clare treated 61,400 patients. See 18 U.S.C. 2258A for the duty.\n\n"
            "Urgent escalations in 2023\nIn 2023 NCMEC escalated 63,892\nreports as urgent.")
    assert sentences(text) == [
        "## Totals", "St. Clare treated 61,400 patients.", "See 18 U.S.C. 2258A for the duty.",
        "Urgent escalations in 2023", "In 2023 NCMEC escalated 63,892\nreports as urgent."]


def test_clean_keeps_a_bold_lead_in_one_sentence():
    assert clean("**18 U.S.C. 2258A.** The law that  requires it.") == (
        "18 U.S.C. 2258A: The law that requires it.")
    assert len(sentences(clean("**Escalation.** Sending a report as urgent."))) == 1


def test_negation():
    assert is_negated("The data do not state how many led to arrests.")
    assert is_negated("No public dataset links escalations to arrests.")
    assert not is_negated("NCMEC escalated 63,892 reports.")


def test_number_words_are_figures_but_a_lone_one_is_not():
    assert [f.value for f in figures("She sold 1.2 million copies and forty-one thousand more")] \
        == [1_200_000, 41_000]
    assert figures("one of the reports") == []


def test_lemmas_join_irregular_and_derived_forms():
    assert "sell" in terms("She sold 1.2 million copies") and "sell" in terms("How many sold?")
    assert "draw" in terms("The festival drew 12,345 visitors")
    assert set(terms("escalations")) == set(terms("escalated"))
