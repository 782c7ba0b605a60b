"""The answer-type check: a nearby figure about something else is not an answer."""

import pytest
from conftest import HEADLINE

from assistant.question import analyse, answers

ESCALATED = ("In 2023 NCMEC staff escalated 63,892 CyberTipline reports to law enforcement as "
             "urgent.")


def test_compound_question_splits_into_its_parts():
    parts = analyse(HEADLINE)
    assert [p.kind for p in parts] == ["count", "count"]
    assert "arrests" in parts[0].label and "prosecutions" not in parts[0].label
    assert "prosecutions" in parts[1].label and "arrests" not in parts[1].label
    assert len(analyse("How many households were served, and how many volunteers helped?")) == 2
    assert len(analyse("How many reports did the CyberTipline receive in 2023?")) == 1


@pytest.mark.parametrize("question, kind", [
    ("What share of reports came from abroad?", "share"),
    ("What was the arrest rate for urgent escalations?", "share"),
    ("When did the round close?", "date"),
    ("How long does a release get security fixes?", "duration"),
    ("How much did the hospital spend on agency staff?", "money"),
    ("What was the zoo's total spending on conservation in 2024?", "money"),
    ("How many patients were treated?", "count"),
    ("Why were reports escalated as urgent?", "fact"),
])
def test_kind_of_answer(question, kind):
    assert analyse(question)[0].kind == kind


def test_escalations_do_not_answer_arrests():
    arrests, prosecutions = analyse(HEADLINE)
    assert not answers(arrests, ESCALATED).ok
    assert not answers(prosecutions, ESCALATED).ok
    # ... but the naive check (used to prove the eval gate bites) is fooled by the nearby figure
    assert answers(arrests, ESCALATED, strict=False).ok


def test_a_stated_figure_answers_its_own_question():
    (part,) = analyse("How many reports were escalated to law enforcement as urgent in 2023?")
    assert answers(part, ESCALATED).ok


def test_gap_sentence_never_answers_a_quantity():
    (part,) = analyse("How many escalated reports led to arrests?")
    assert not answers(part, "NCMEC does not state how many of the 63,892 reports led to "
                             "arrests.").ok


def test_wrong_year_and_missing_predicate_are_not_answers():
    (part,) = analyse("How many reports did the CyberTipline receive in 2022?")
    assert not answers(part, "In 2023 the CyberTipline received 36.2 million reports.").ok
    (part,) = analyse("How many runners started the 2024 Lakeshore City Marathon?")
    sentence = "The 2024 Lakeshore City Marathon had 14,212 registered runners."
    assert not answers(part, sentence).ok
    # a negated context sentence cannot lend the missing word
    assert not answers(part, sentence, "Organisers did not publish how many runners started.").ok


def test_irregular_past_tense_matches_the_question_verb():
    (part,) = analyse("How many visitors did the Harbor Lights festival draw in 2024?")
    assert answers(part, "The Harbor Lights festival drew 12,345 visitors in 2024.").ok


def test_a_measure_of_another_subject_is_not_an_answer():
    (part,) = analyse("What was the winning time in the women's race at the 2024 City Marathon?")
    assert part.wants_figure
    assert not answers(part, "The men's race was won in 2:09:47, a course record.",
                       "City Marathon 2024 results").ok
