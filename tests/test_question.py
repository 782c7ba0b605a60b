"""What a question asks: its parts and the kind of answer each needs."""

import pytest
from conftest import HEADLINE

from assistant.decide import decide
from assistant.question import analyse


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
    ("During what ages were the walls built?", "date"),
    ("In what years did the league expand?", "date"),
    ("How long does a release get security fixes?", "duration"),
    ("How much did the hospital spend on agency staff?", "money"),
    ("What was the zoo's total spending on conservation in 2024?", "money"),
    ("How many patients were treated?", "count"),
    ("Why were reports escalated as urgent?", "fact"),
    # what the measure is made of, not the measure
    ("What was the largest part of the library's operating budget?", "fact"),
    ("What was the library's operating budget?", "money"),
    # "mean" as a verb asks a meaning, as a noun an average
    ("What does a pale crust usually mean?", "fact"),
    ("What was the mean score of the entrants?", "count"),
    # a "how many" inside the clause a "what" asks about asks no count
    ("What would have to be linked before anyone could say how many escalations led to "
     "arrests?", "fact"),
    # "how hot" asks a temperature
    ("How hot should the oven be preheated for baking the sourdough loaf?", "count"),
    # "a count of" at the end asks what is counted
    ("What is the 63,892 CyberTipline figure for 2023 actually a count of?", "fact"),
    ("What was the count of urgent CyberTipline reports in 2023?", "count"),
])
def test_kind_of_answer(question, kind):
    assert analyse(question)[0].kind == kind


def test_the_kind_is_read_through_a_preposition_and_not_from_an_owner():
    """"At what temperature" asks a figure as "what temperature" does; "the budget's largest
    item" asks an item, not the budget."""
    assert analyse("At what temperature is the glaze fired?")[0].kind == "count"
    assert analyse("What was the Ashby Museum's budget's largest item?")[0].kind == "fact"
    assert analyse("What was the Ashby Museum's budget?")[0].kind == "money"


def test_again_is_said_as_documents_say_it_and_a_need_is_no_relation():
    (part,) = analyse("When did the leisure pool open again?")
    assert part.label == "When did the leisure pool reopen" and part.predicate == ["reopen"]
    assert analyse("When did they turn again?")[0].label == "When did they turn again"
    (part,) = analyse("When do disc brake pads need replacing?")
    assert part.predicate == ["replac"] and "need" not in part.terms
    (part,) = analyse("How far ahead should I feed my starter?")
    assert part.kind == "duration" and part.terms == ["feed", "starter"]


def test_a_verb_modifying_a_noun_is_no_asked_relation():
    (part,) = analyse("What is the operating budget of the Ashby Museum?")
    assert part.predicate == []
    assert analyse("Who operates the Ashby Museum?")[0].predicate == ["oper"]


def test_what_century_asks_a_date():
    (part,) = analyse("In what century did the dead branches dry up?")
    assert part.kind == "date"
    assert not decide(part, "Dead branches dried up and the forests on the flood plains "
                            "decreased sharply.").ok
    assert decide(part, "In the 19th century the dead branches dried up.").ok


def test_a_modals_verb_the_tagger_reads_as_a_noun_is_the_asked_relation():
    """"How long should the shaped sourdough *stay*": after "should", as after "did", the
    tagger takes the verb for a noun; it is the relation, not a thing the answer measures."""
    (part,) = analyse("How long should the shaped sourdough stay in the refrigerator?")
    assert part.predicate == ["stay"] and "stay" not in part.nominal
