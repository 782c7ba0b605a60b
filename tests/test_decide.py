"""The answer decision: what a sentence does for a question part (answered, unconfirmed, not
documented) and whether it supports a claim, from the sentence's analysis alone."""

import re

import pytest
from conftest import HEADLINE, scripted_llm

from assistant import analysis
from assistant.decide import (
    ANSWERED,
    UNCONFIRMED,
    UNDOCUMENTED,
    answering,
    claim_answers,
    decide,
    heading_terms,
    replaced,
    respelled,
    roles_changed,
    support,
)
from assistant.question import analyse
from assistant.types import Passage

ESCALATED = ("In 2023 NCMEC staff escalated 63,892 CyberTipline reports to law enforcement as "
             "urgent.")


def test_escalations_do_not_answer_arrests():
    arrests, prosecutions = analyse(HEADLINE)
    assert not decide(arrests, ESCALATED).ok
    assert not decide(prosecutions, ESCALATED).ok
    # ... but the naive check (used to prove the eval gate bites) is fooled by the nearby figure
    assert decide(arrests, ESCALATED, strict=False).ok


def test_a_stated_figure_answers_its_own_question():
    (part,) = analyse("How many reports were escalated to law enforcement as urgent in 2023?")
    assert decide(part, ESCALATED).ok


def test_gap_sentence_never_answers_a_quantity():
    (part,) = analyse("How many escalated reports led to arrests?")
    assert not decide(part, "NCMEC does not state how many of the 63,892 reports led to "
                             "arrests.").ok


def test_wrong_year_and_missing_predicate_are_not_decide():
    (part,) = analyse("How many reports did the CyberTipline receive in 2022?")
    assert not decide(part, "In 2023 the CyberTipline received 36.2 million reports.").ok
    (part,) = analyse("How many runners started the 2024 Lakeshore City Marathon?")
    sentence = "The 2024 Lakeshore City Marathon had 14,212 registered runners."
    assert not decide(part, sentence).ok
    # a negated context sentence cannot lend the missing word
    assert not decide(part, sentence, "Organisers did not publish how many runners started.").ok


def test_irregular_past_tense_matches_the_question_verb():
    (part,) = analyse("How many visitors did the Harbor Lights festival draw in 2024?")
    assert decide(part, "The Harbor Lights festival drew 12,345 visitors in 2024.").ok


def test_a_measure_of_another_subject_is_not_an_answer():
    (part,) = analyse("What was the winning time in the women's race at the 2024 City Marathon?")
    assert part.wants_figure
    assert not decide(part, "The men's race was won in 2:09:47, a course record.",
                       "City Marathon 2024 results").ok


# -- three outcomes per part --------------------------------------------------------------------


def outcome(question: str, sentence: str, context: str = "") -> str:
    (part,) = analyse(question)
    return decide(part, sentence, context).outcome


def test_a_verb_in_other_words_is_unconfirmed_not_answered_nor_undocumented():
    question = "How many runners started the 2024 Lakeshore City Marathon?"
    assert outcome(question, "The 2024 Lakeshore City Marathon had 14,212 starting runners.") \
        == ANSWERED
    assert outcome(question, "The 2024 Lakeshore City Marathon had 14,212 registered runners.") \
        == UNCONFIRMED


def test_a_figure_for_another_year_is_a_mismatch_even_in_the_same_sentence():
    sentence = "In 2023 the CyberTipline received 36.2 million reports, up from 32 million in 2022."
    assert outcome("How many reports did the CyberTipline receive in 2023?", sentence) == ANSWERED
    assert outcome("How many reports did the CyberTipline receive in 2021?", sentence) \
        == UNDOCUMENTED
    # 2022 is stated, but only for the 32 million: the 36.2 million is not its answer, the 32
    # million is (the extractive answer quotes the whole sentence)
    assert outcome("How many reports did the CyberTipline receive in 2022?", sentence) == ANSWERED
    only_2023 = "In 2023 the CyberTipline received 36.2 million reports; 2022 saw a new portal."
    assert outcome("How many reports did the CyberTipline receive in 2022?", only_2023) \
        == UNDOCUMENTED


@pytest.mark.parametrize("question, sentence", [
    ("What was the unemployment rate before the 2008 crisis?",
     "After the 2008 crisis the unemployment rate was 9.5%."),
    ("Which pigment gives the lighter shade of the glaze?",
     "Iron oxide gives the darker shade of the glaze."),
    ("What was the winning time in the women's race at the 2024 City Marathon?",
     "The men's race at the 2024 City Marathon was won in 2 hours 9 minutes."),
])
def test_an_opposite_qualifier_is_a_mismatch(question, sentence):
    assert outcome(question, sentence) == UNDOCUMENTED


def test_a_qualifier_the_sentence_leaves_out_is_not_confirmed():
    assert outcome("What share of the votes did the largest party win in 2024?",
                   "The Green party won 31% of the votes in 2024.") == UNCONFIRMED
    assert outcome("What share of the votes did the largest party win in 2024?",
                   "The largest party, the Greens, won 31% of the votes in 2024.") == ANSWERED


def test_who_needs_a_name_the_question_does_not_already_hold():
    question = "Who founded the Harbor Lights festival?"
    assert outcome(question, "Maria Okafor founded the Harbor Lights festival in 1998.") \
        == ANSWERED
    # about the subject, but naming no one: never the answer, at most "may answer"
    assert outcome(question, "He founded the Harbor Lights festival in 1998.") == UNCONFIRMED
    assert outcome(question, "The Harbor Lights festival was founded in 1998.") == UNCONFIRMED
    assert outcome(question, "The Harbor Lights festival was not founded by the city.") \
        == UNDOCUMENTED


def test_another_role_is_not_the_answer():
    question = "Who won the 2019 Lakeshore chess open?"
    assert outcome(question, "Anna Berg won the 2019 Lakeshore chess open.") == ANSWERED
    assert outcome(question, "Peter Lund presided over the 2019 Lakeshore chess open.") \
        != ANSWERED


def test_hours_are_not_a_count_of_people_and_opening_is_not_closing():
    assert outcome("How many volunteers helped the food bank in 2023?",
                   "Volunteers gave the food bank 31,000 hours in 2023.") == UNDOCUMENTED
    assert outcome("How many shops did Crumb & Hearth close in 2024?",
                   "Crumb & Hearth opened 11 new shops in 2024.") == UNDOCUMENTED


def test_a_figure_of_another_country_is_not_its_population():
    assert outcome("What is the population of Norway?",
                   "Stockholm, the capital of Sweden, has a population of 984,000.") \
        == UNDOCUMENTED


def test_a_word_denied_where_the_question_asserts_it_is_a_mismatch():
    """Negation is read word by word: the asked word, each time the sentence says it, said the
    other way. A "not" elsewhere in the sentence changes nothing; "no" answers "is there"."""
    assert outcome("What is viewed as a force in GR?", "In GR, gravitation is not viewed as a "
                   "force, but objects move under their own inertia.") == UNDOCUMENTED
    assert outcome("What algorithm is always practical?",
                   "A polynomial time algorithm is not always practical.") == UNDOCUMENTED
    court = ("The Court of Justice quickly acknowledged that the duty of interpretation cannot "
             "contradict plain words in a national statute.")
    assert outcome("What did the Court of Justice not acknowledge?", court) == UNDOCUMENTED
    assert outcome("What did the Court of Justice acknowledge?", court) == ANSWERED
    assert outcome("What is now described by the Newtonian equations?", "The physics is now "
                   "described by the Schrödinger equation instead of Newtonian equations.") \
        == UNDOCUMENTED
    assert outcome("What started with a zero velocity?",
                   "The object started with a non-zero velocity.") == UNDOCUMENTED
    assert outcome("Is there public data linking escalations to arrests?", "NCMEC's public "
                   "data do not link escalations to arrests.") != UNDOCUMENTED


def test_a_word_of_opposite_sense_is_a_mismatch():
    assert outcome("What defenses respond to pathogens in a specific way?", "Innate defenses "
                   "respond to pathogens in a generic way.") == UNDOCUMENTED
    assert outcome("What proteins are used by very few organisms?", "Pattern recognition "
                   "receptors are proteins used by nearly all organisms.") == UNDOCUMENTED
    assert outcome("What allows ions to exit the cell?",
                   "Perforin forms pores in the cell, allowing ions to enter.") == UNDOCUMENTED
    assert outcome("What forces can be modeled using mass strings?",
                   "Tension forces can be modeled using massless strings.") == UNDOCUMENTED
    assert outcome("Which rule is less costly, formal or informal?",
                   "Informal rule is generally less costly than formal rule.") != UNDOCUMENTED


def test_a_name_spelled_otherwise_is_another_name():
    """The stemmer makes "Davies" and "Davis" one term; the name's own spelling decides, as a
    capital letter beside a word the sentence says ("Killer T cells")."""
    davies = ("The concept found little resonance until the independent work of Donald Davies "
              "at the National Physical Laboratory.")
    assert outcome("What was the independent work of Donald Davis?", davies) == UNDOCUMENTED
    assert outcome("What was the independent work of Donald Davies?", davies) == ANSWERED
    assert outcome("What do Killer B cells kill?",
                   "Killer T cells kill infected cells.") == UNDOCUMENTED
    killers = analysis.as_sentence("Killer T cells kill infected cells.")
    assert respelled("What do Killer T cells kill?", killers) == ""
    assert outcome("Where did the Normans settle?",
                   "The Norman settlers settled in Normandy.") == ANSWERED  # a plural


def test_what_is_x_needs_a_sentence_that_says_what_x_is():
    """A definition has a form (X is a ..., an apposition, "known as X"); a mention is not one,
    nor "circuit switching, a method ..." for packet switching."""
    mention = ("Packet switching contrasts with another networking paradigm, circuit switching, "
               "a method which pre-allocates dedicated bandwidth.")
    assert outcome("What is packet switching?", mention) == UNCONFIRMED
    assert outcome("What is packet switching?", "Packet switching is a method that groups "
                   "transmitted data into blocks.") == ANSWERED
    assert outcome("Who was Frédéric Chopin?",
                   "Famous musicians include Władysław Szpilman and Frédéric Chopin.") == ANSWERED
    # an identity asked by a description is not a definition: the name answers it
    assert outcome("What is Europe's largest inland port?",
                   "Duisburg is the home of Europe's largest inland port.") == ANSWERED


def test_another_noun_in_the_place_of_one_the_question_asks_is_doubted():
    """Words of a describing clause count: that is where a changed question changes one."""
    assert outcome("What must be specified to account for their effects on the motion of the "
                   "head?", "Their lines of application must be specified to account for their "
                   "effects on the motion of the body.") == UNCONFIRMED
    assert outcome("A new theory of what was developed using quantum particles?", "A new "
                   "theory of electromagnetism was developed using quantum mechanics.") \
        == UNCONFIRMED
    (part,) = analyse("A new theory of what was developed using quantum mechanics?")
    assert replaced(part, analysis.as_sentence("A new theory of electromagnetism was developed "
                                               "using quantum mechanics."), set()) == ""


# -- a claim held to the binding ------------------------------------------------------------------


SOURCE = Passage(id="s", source="s.md", title="CyberTipline", page=None, start=0, end=0,
                 text="In 2023 the CyberTipline received 36.2 million reports, up from 32 "
                      "million in 2022. NCMEC escalated 63,892 reports in 2023 as urgent.")


def supported(claim: str, source: Passage = SOURCE) -> tuple[bool, str]:
    evidence, why = support(analysis.as_sentence(claim), [0], [source], threshold=0.6)
    return evidence is not None, why


def test_a_claim_that_restates_its_sentence_is_supported():
    assert supported("The CyberTipline received 36.2 million reports in 2023.")[0]
    assert supported("In 2023 the CyberTipline received 36.2 million reports, up from 32 "
                     "million in 2022.")[0]
    assert supported("NCMEC escalated 63,892 reports in 2023.")[0]


def test_a_figure_moved_to_another_year_is_not_supported():
    ok, why = supported("The CyberTipline received 36.2 million reports in 2022.")
    assert not ok and "2023" in why and "2022" in why


def test_the_opposite_direction_is_not_supported():
    ok, why = supported("The CyberTipline received 36.2 million reports in 2023, down from 32 "
                        "million in 2022.")
    assert not ok and "direction" in why


def test_a_claim_moved_to_another_month_or_rate_is_not_supported():
    source = Passage(id="m", source="m.md", title="Holm Centre", page=None, start=0, end=0,
                     text="The Holm Centre realizes about 500 projects a year. The Holm Centre "
                          "listed 374 members as of 31 August 2009.")
    for claim in ("The Holm Centre realizes about 500 projects a month.",
                  "The Holm Centre listed 374 members in April 2009."):
        ok, why = supported(claim, source)
        assert not ok and "another" in why
    assert supported("The Holm Centre realizes about 500 projects a year.", source)[0]


def test_a_claim_that_adds_to_what_its_figure_counts_is_not_supported():
    ok, why = supported("63,892 escalated reports led to arrests in 2023.")
    assert not ok and "arrest" in why


def test_a_claim_that_denies_opposes_or_respells_its_source_is_not_supported():
    source = Passage(id="g", source="g.md", title="Force", page=None, start=0, end=0,
                     text="In general relativity, gravitation is viewed as curved space-time. "
                          "Donald Davies at the NPL developed packet switching in 1965.")
    assert not supported("In general relativity, gravitation is not viewed as curved "
                         "space-time.", source)[0]
    ok, why = supported("Donald Davis at the NPL developed packet switching in 1965.", source)
    assert not ok and "Davis" in why
    assert supported("In general relativity, gravitation is viewed as curved space-time.",
                     source)[0]
    assert supported("Donald Davies at the NPL developed packet switching in 1965.", source)[0]


# -- end to end: an OpenAI-compatible endpoint that restates the sources wrongly ------------------


MISBOUND = ["The CyberTipline received 36.2 million reports in 2022",
            "63,892 escalated reports led to arrests in 2023",
            "The CyberTipline received 36.2 million reports in 2023, down from 32 million in 2022"]


def misbound(prompt: str) -> str:
    """The MISBOUND sentences, each citing the passage that holds its figures (as a model that
    read the right passage would)."""
    blocks = re.split(r"^\[(\d+)\] ", prompt, flags=re.M)
    numbered = dict(zip(blocks[1::2], blocks[2::2]))
    draft = []
    for sentence in MISBOUND:
        figure = re.search(r"36\.2 million|63,892", sentence).group(0)
        n = next(n for n, text in numbered.items() if figure in text)
        draft.append(f"{sentence} [{n}].")
    return " ".join(draft)


@pytest.fixture(scope="module")
def misstating():
    with scripted_llm(misbound) as url:
        yield url


@pytest.fixture(scope="module")
def cybertipline(tmp_path_factory, misstating):
    """An index of one document that states 2023 and 2022 figures in one sentence, and an
    Assistant whose openai generator is the misstating endpoint."""
    from assistant.config import Settings
    from assistant.ingest import ingest
    from assistant.pipeline import Assistant

    root = tmp_path_factory.mktemp("corpus")
    (root / "cybertipline.md").write_text(
        "# CyberTipline 2023\n\n" + SOURCE.text + "\n\nThe outcome data do not state how many "
        "escalated reports led to arrests.\n")
    settings = Settings.load(index_dir=tmp_path_factory.mktemp("index") / "index",
                             openai_base_url=misstating, openai_model="misstating")
    assert ingest([root], settings, progress=False).chunks_total
    return Assistant(settings)


@pytest.mark.parametrize("question, answer", [
    ("How many reports did the CyberTipline receive in 2023?", "36.2 million"),
    ("How many reports did the CyberTipline receive in 2022?", "32 million"),
])
def test_no_misbound_claim_of_an_llm_survives(cybertipline, question, answer):
    result = cybertipline.ask(question, generator="openai")
    kept = [c.text.rstrip(".") for c in result.claims if not c.gap]
    assert not set(MISBOUND) & set(kept), kept
    rejected = {c.text.rstrip("."): c.reason for c in result.rejected}
    assert set(MISBOUND) <= set(rejected), rejected
    assert "2023" in rejected[MISBOUND[0]] and "arrest" in rejected[MISBOUND[1]]
    assert "direction" in rejected[MISBOUND[2]]
    # the passage's own sentence answers, and states the figure for the asked year
    assert result.status == "answered"
    lead = [c for c in result.claims if c.answers]
    assert lead and answer in lead[0].text


# -- the answer bound to the asked relation (the dependency parse) ------------------------------


def bound(question: str, sentence: str, context: str = "", heading: str = "") -> str:
    """The outcome with `context` lent by earlier sentences and `heading` by the title (which
    is part of the context too, as analysis.context_before makes it)."""
    (part,) = analyse(question)
    return decide(part, sentence, f"{heading}. {context}",
                  heading=set(analysis.terms(heading))).outcome


def test_the_analysis_stores_the_parse_and_keeps_the_recogniser_sentences():
    (s,) = analysis.sentences("The race was started by the Mayor of Kendal, Peter Thornton.")
    started = next(t for t in s.tokens if t.term == "start")
    assert started.pos == "VERB" and any(t.dep == "agent" for t in s.tokens)
    found = analysis.analyse_one("The race was started by the Mayor of Kendal, Peter Thornton.")
    again = type(found).from_json(found.to_json(), s.text)
    assert again.sentences[0].tokens == s.tokens
    # the parser alone cuts a table cell's claim in two
    assert len(analysis.sentences("Playgrounds, 2024 / Budget: 320 (Parks budget by area ($ "
                                  "thousands)).")) == 1


def test_who_is_the_doer_of_the_asked_verb_not_another_role():
    question = "Who beat Paul Evans in the 1996 Windermere Marathon?"
    assert bound(question, "In the 1996 Windermere Marathon, Joseph Kiprono beat Paul Evans "
                           "by 40 seconds.") == ANSWERED
    assert bound(question, "In the 1996 Windermere Marathon, Paul Evans beat Joseph Kiprono "
                           "by 40 seconds.") == UNCONFIRMED
    # the doer of a passive verb is its agent, through an apposition
    assert bound("Who started the 1996 Windermere Marathon?", "The 1996 Windermere Marathon "
                 "was started by the Mayor of Kendal, Peter Thornton.") == ANSWERED


def test_the_answer_must_stand_in_the_asked_verbs_clause():
    question = "Who founded the Kestrelford Thistle football club?"
    assert bound(question, "John Smith, the club secretary, said the Kestrelford Thistle "
                           "football club was founded in 1885.") == UNCONFIRMED
    # a relative clause binds the name it describes
    assert bound("Who led Halvik Instruments from 2008 to 2019?", "In 2019 the board of Halvik "
                 "Instruments thanked Knut Aas, who led Halvik Instruments from 2008 to 2019.") \
        == ANSWERED


def test_who_is_a_person_or_organisation_not_a_place():
    assert bound("Who hosted the 1996 Windermere Marathon?",
                 "London hosted the 1996 Windermere Marathon.") == UNCONFIRMED


def test_a_question_with_be_binds_the_answer_to_the_asked_noun():
    question = "Who is the chairman of the board of Halvik Instruments?"
    assert bound(question, "The chairman of the board of Halvik Instruments is John Smith.") \
        == ANSWERED
    assert bound(question, "John Smith, the chief executive, said that the chairman of the "
                           "board of Halvik Instruments would retire.") == UNCONFIRMED


def test_which_x_is_answered_by_a_name_that_is_the_x():
    question = "Which research group published a 2024 report on the CyberTipline?"
    assert bound(question, "The Stanford Internet Observatory, a research group, published a "
                           "2024 report on the CyberTipline.") == ANSWERED
    # where the group works is not the group
    assert bound(question, "A research group at Stanford University that published a 2024 "
                           "report on the CyberTipline based on interviews.") == UNCONFIRMED


def test_a_name_only_an_earlier_sentence_gives_is_not_the_answers_subject():
    question = "When did the Hudson's Bay Company build Kaskawan House?"
    earlier = "The Hudson's Bay Company built Kaskawan House at the river's mouth."
    sentence = "The Limestone Falls Generating Station was built by Manitoba Hydro in 1985."
    assert bound(question, sentence, earlier, heading="Kaskawan River") == UNCONFIRMED
    assert bound(question, "The Hudson's Bay Company built Kaskawan House in 1783.",
                 heading="Kaskawan River") == ANSWERED


def test_how_wide_or_long_wants_a_figure_said_to_be_that_dimension():
    (wide,) = analyse("How wide is the Kaskawan River?")
    assert wide.wants_figure
    heading = "Kaskawan River"
    assert bound("How long is the Kaskawan River?", "The Kaskawan River is 412 kilometres long.",
                 heading=heading) == ANSWERED
    assert bound("How long is the Kaskawan River?", "Near its mouth the Kaskawan River froze "
                 "for about 190 days a year.", heading=heading) != ANSWERED
    # a figure in another unit is not a width, even beside "wide"
    assert bound("How wide is the Kaskawan River at Kettle Rapids?", "At Kettle Rapids the "
                 "Kaskawan River is wide and carries 240 tonnes of silt a day.",
                 heading=heading) == UNDOCUMENTED


def test_an_order_relative_to_a_person_must_be_stated():
    question = "Who was provost of Kestrelford after Alan Kerr?"
    sentence = ("Margaret Dunbar was provost of Kestrelford until 2022; she was succeeded by "
                "Alan Kerr.")
    assert bound(question, sentence) != ANSWERED


def test_a_figure_must_be_said_to_be_the_asked_measure_in_its_own_sentence():
    question = "What was the population of Perth at the 2011 census?"
    earlier = "At the 2011 census Kestrelford had a population of 18,250."
    assert bound(question, "Kestrelford lies 22 kilometres west of Perth.", earlier) \
        != ANSWERED


def test_a_year_of_the_question_must_be_in_the_answers_sentence_or_heading():
    question = "Who won the men's race in 1996?"
    sentence = "The men's race was won by Joseph Kiprono."
    assert bound(question, sentence, "The 1996 marathon was held in April.",
                 heading="Windermere Marathon") == UNCONFIRMED
    assert bound(question, sentence, heading="1996 Windermere Marathon") == ANSWERED


def test_a_count_must_count_the_asked_set():
    question = "How many reports did NCMEC escalate as urgent in 2023?"
    urgent = "Urgent escalations"
    # a verb qualifying the counted noun makes another set ("reports received")
    assert bound(question, "Set against the 36.2 million reports received in 2023, the "
                 "escalations show how NCMEC's triage works.", heading=urgent) == UNCONFIRMED
    # the counted noun's own verb, when a word of the question is left unsaid
    assert bound(question, "NCMEC's CyberTipline received 36.2 million reports in 2023.",
                 heading=urgent) == UNCONFIRMED
    assert bound(question, "In 2023, NCMEC escalated 63,892 reports as urgent.") == ANSWERED
    # what a unit counts is the noun under it; a verb of the question binds its own set
    assert bound("How many containers did the Port of Marlow handle in 2024?",
                 "The Port of Marlow handled 2.3 million TEU of containers in 2024.") == ANSWERED
    assert bound("How many urgent escalations were there in 2023?", "63,892 CyberTipline "
                 "reports were escalated to law enforcement as urgent in 2023.") == ANSWERED


def test_a_sentence_saying_there_is_a_why_gives_no_reason():
    assert bound("Why were the escalations made?", "NCMEC's public data describe how many "
                 "reports were escalated and why they were escalated.") != ANSWERED


def test_a_cause_joined_by_so_is_a_reason_and_a_count_is_the_number():
    (part,) = analyse("Why is the number of visitors the Holm Library had in 2023 not given?")
    assert decide(part, "The door counter was broken for most of 2023, so this report does "
                        "not give a count of visitors to the Holm Library in 2023.").ok
    assert not decide(part, "The door counter was broken for most of 2023 and this report "
                            "does not give a count of visitors to the Holm Library.").ok
    assert not decide(part, "The report gives so many counts that the number of visitors to "
                            "the Holm Library in 2023 is not given.").ok


def test_the_asked_measure_and_year_bind_to_one_figure():
    sentence = ("In 2022 Halvik reported revenue of 4.8 billion kroner, up from 4.1 billion "
                "kroner in 2021, and an operating profit of 610 million kroner.")
    heading = "Halvik Instruments finances"
    assert bound("What was the operating profit of Halvik Instruments in 2022?", sentence,
                 heading=heading) == ANSWERED
    assert bound("What was the revenue of Halvik Instruments in 2021?", sentence,
                 heading=heading) == ANSWERED
    # 4.1 billion is 2021's revenue; the profit is the year the sentence opens with
    assert bound("What was the operating profit of Halvik Instruments in 2021?", sentence,
                 heading=heading) != ANSWERED


# -- an answer that is not a name, a place, a date or a figure: bound in one clause ------------


def test_every_asked_word_must_be_said_another_modifier_is_not_the_asked_one():
    question = "Where were the battle scenes of The Salt Road shot?"
    assert bound(question, "The battle scenes of The Salt Road were shot near Merzouga.") \
        == ANSWERED
    assert bound(question, "The desert scenes of The Salt Road were shot near Merzouga.") \
        == UNCONFIRMED
    # a modifier the sentence leaves off its noun is not another one
    question = "What was voter turnout in the 2022 Elm County election?"
    assert bound(question, "Turnout in the 2022 Elm County election was 64 percent.") \
        == ANSWERED
    assert bound(question, "Youth turnout in the 2022 Elm County election was 41 percent.") \
        == UNCONFIRMED


def test_a_noun_the_stopwords_hide_is_still_asked():
    question = "What is the average discharge of the Kaskawan River at its source?"
    assert bound(question, "The Kaskawan River's average discharge at its source is 40 cubic "
                           "metres per second.") == ANSWERED
    assert bound(question, "The Kaskawan River's average discharge at its mouth is 240 cubic "
                           "metres per second.") == UNCONFIRMED


def test_a_description_must_hold_the_asked_verb():
    heading = "The Salt Road"
    assert bound("How does the novel end?", "The novel ends with Hale's death in a sandstorm.",
                 heading=heading) == ANSWERED
    assert bound("How does the novel end?", "The film, based on the 1987 novel, was released "
                 "in 2009.", heading=heading) == UNCONFIRMED
    # the verb left without its object is what is asked; a verb in other words is not it
    question = "What was Edmund Hale hired to build?"
    assert bound(question, "Edmund Hale is hired to build a bridge.") == ANSWERED
    assert bound(question, "Edmund Hale is hired to map a caravan route.") == UNCONFIRMED
    sentence = "Critics praised its cinematography but criticised its running time."
    assert bound("What did critics criticise about The Salt Road?", sentence,
                 heading=heading) == ANSWERED
    assert bound("What did audiences praise about The Salt Road?", sentence,
                 heading=heading) == UNCONFIRMED


def test_a_clause_that_only_describes_the_question_need_not_be_said():
    # "to understand what happens after ...": why they called, not what they called for
    assert bound("What did the Stanford researchers call for to understand what happens after "
                 "CyberTipline reports?", "The Stanford researchers called for research and "
                 "data-sharing to map CyberTipline reports to outcomes.") == ANSWERED


def test_the_asked_relation_must_be_the_asked_subjects():
    question = "What did the Hudson's Bay Company build at the mouth of the river?"
    assert bound(question, "The Hudson's Bay Company built a trading post at the mouth of the "
                           "river.") == ANSWERED
    assert bound(question, "At the mouth of the river, where the Hudson's Bay Company traded "
                           "furs, Manitoba Hydro built a dam.") == UNCONFIRMED


def test_when_needs_every_asked_word_in_the_dates_own_sentence():
    question = "When did the railway reach the harbour of Kestrelford?"
    earlier = "The harbour of Kestrelford was dredged in 1820."
    assert bound(question, "The railway reached the harbour of Kestrelford in 1846.",
                 earlier) == ANSWERED
    # an earlier sentence of the passage cannot lend the asked place to another date
    assert bound(question, "The railway reached Kestrelford in 1846.", earlier) == UNCONFIRMED


# -- the question's subject, bound where the answer stands ---------------------------------------


@pytest.mark.parametrize("question, other, same", [
    # the asked verb with another doer
    ("When does the festival take place?",
     "The parade takes place every August, after the festival.",
     "The festival takes place every August."),
    ("What shows what error the pump will report?",
     "The panel shows what error, if any, the valve will report.",
     "The panel shows what error, if any, the pump will report."),
    # the asked subject in one clause, the answer of the asked kind in another
    # the one the verb is done to, another
    ("Where were the rebels defeated?",
     "Though the royal army was later defeated at Ashby, the rebels surrendered.",
     "The rebels were defeated at Ashby."),
    ("Where did Anna live after the war?",
     "After Anna left the army at the end of the war, Marta lived in Vienna.",
     "After the war, Anna lived in Vienna."),
    # another doer that shares a word with the asked one
    ("When did King Harold II conquer Wessex?",
     "In 1066, Duke William II of Normandy conquered Wessex, killing King Harold II.",
     "In 1066, King Harold II conquered Wessex."),
    # a reason given for another subject
    ("Why does altitude affect the boiling point of water?",
     "Air pressure affects the boiling point of water because lower pressure lets molecules "
     "escape more easily.",
     "Altitude affects the boiling point of water because the air pressure is lower."),
])
def test_an_answer_said_of_another_subject_is_not_confirmed(question, other, same):
    (part,) = analyse(question)
    assert decide(part, other).outcome == UNCONFIRMED
    assert decide(part, same).ok


def test_a_common_noun_may_stand_for_the_name_the_heading_gives():
    (part,) = analyse("When did Halvik Instruments close its plant in Bergen?")
    assert decide(part, "In 2021 the company closed its plant in Bergen.",
                  "Halvik Instruments").ok


def test_words_that_only_qualify_a_word_of_the_question_are_no_answer():
    (part,) = analyse("What is one of the methods that have been tried besides filtering?")
    verdict = decide(part, "Aside from filtering driven by sand beds, several methods have "
                           "also been tried.")
    assert verdict.outcome == UNCONFIRMED and "no clause ties" in verdict.reason


def test_a_day_of_the_month_is_no_count():
    (part,) = analyse("How many visitors came to the fair?")
    assert decide(part, "The fair opened to visitors on May 12, 2019.").outcome == UNDOCUMENTED
    (part,) = analyse("How many visitors did the fair draw?")
    assert decide(part, "The fair drew 12,400 visitors on May 3.").ok


def test_a_count_needs_the_asked_verb_in_its_own_sentence():
    """A heading names what a passage is about, not what each of its figures counts."""
    (part,) = analyse("How many claims did the insurer reject in 2022?")
    heading = "Claims received and rejected by the insurer"
    assert decide(part, "The 2022 total of 48,000 claims at the insurer is driven by storm "
                        "damage.", heading).outcome == UNCONFIRMED
    assert decide(part, "In 2022 the insurer rejected 1,200 claims.", heading).ok


def test_a_lone_one_is_no_count():
    (part,) = analyse("How many members does the club have?")
    assert decide(part, "The club has one aim: to keep its members walking.").outcome \
        == UNDOCUMENTED
    assert decide(part, "The club has 340 members.").ok
    (part,) = analyse("How many museums are in Ashby?")  # "one of": no count at all
    assert decide(part, "The most notable is the Museum of Posters, one of the largest "
                        "collections of posters in the world.", "Ashby").outcome == UNDOCUMENTED


def test_a_year_is_no_count():
    (part,) = analyse("How many settlers were there in Fort Holm?")
    assert decide(part, "In 1564 a group of settlers led by Anna Berg founded Fort Holm on "
                        "the river bank.").outcome == UNDOCUMENTED
    assert decide(part, "In 1564, 120 settlers led by Anna Berg founded Fort Holm.").ok


def test_the_asked_verb_must_act_on_the_asked_object():
    """"Who published a guide" is not answered by who publishes updates on one."""
    (part,) = analyse("Who published a guide to the lakes?")
    assert decide(part, "The Lakes Trust rarely publishes updates on its guide to the "
                        "lakes.").outcome == UNCONFIRMED
    assert decide(part, "The Lakes Trust published a guide to the lakes in 1998.").ok


def test_a_subject_spacy_hangs_on_the_heading_above_is_the_verbs_again():
    text = ("Gaps between a claim and a payment\nThe Northern Audit Office (NAO) published a "
            "study of flood insurance in 2019.")
    sentence = analysis.sentences(text)[-1]
    office = next(t for t in sentence.tokens if t.lemma == "office")
    assert (office.dep, sentence.tokens[office.head].lemma) == ("nsubj", "publish")
    # a phrase cut from the heading modifies the verb again
    sentence = analysis.sentences("# Rhine\n\nBetween Bingen and Bonn, the Middle Rhine flows "
                                  "through the Rhine Gorge.")[-1]
    between = next(t for t in sentence.tokens if t.lemma == "between")
    assert sentence.tokens[between.head].lemma == "flow"


def test_who_may_be_answered_by_a_passive_doer_named_with_a_common_noun():
    """"funded by the town of Millbrook": a doer, named, though not a name alone."""
    (part,) = analyse("Who funded the new wing of the Halvik Museum?")
    assert decide(part, "The new wing of the Halvik Museum was funded mainly by the county of "
                        "Nordland.").ok
    assert decide(part, "The new wing of the Halvik Museum was funded mainly by its "
                        "friends.").outcome == UNCONFIRMED  # no one named
    # the subject of the asked verb, named in its phrase
    (part,) = analyse("Who is required to report fraud to the Holm Registry?")
    assert decide(part, "Electronic service providers (ESPs) are required to report fraud to "
                        "the Holm Registry.").ok
    assert decide(part, "Licensed firms are required to report fraud to the Holm Registry."
                  ).outcome == UNCONFIRMED  # no one named


def test_a_figures_unit_says_what_it_measures():
    """"What tyre pressure": 80 to 100 psi is one, 25 millimetres is not."""
    (part,) = analyse("What tyre pressure does the guide recommend for road bikes?")
    assert decide(part, "For road bikes, the guide recommends 80 to 100 psi.", "Tyres").ok
    assert not decide(part, "For road bikes, the guide recommends tyres 25 millimetres "
                            "wide.", "Tyres").ok


@pytest.mark.parametrize("question, swapped, kept", [
    # the doer made the one acted on
    ("Who did the Vandals invite to settle in the valley?",
     "The Vandals were invited to settle in the valley by the Alemanni.",
     "The Vandals invited the Alemanni to settle in the valley."),
    # the doer made the one it is done to
    ("Who did King Charles III swear fealty to?",
     "Under their leader Rollo, the raiders agreed to swear fealty to King Charles III.",
     "In 911, King Charles III swore fealty to the emperor Arnulf of Carinthia."),
    # another name after the same preposition
    ("What was merged into the Kessel Line?",
     "The Kessel Line was merged into the Ostbahn in 1921.",
     "The Harz Railway was merged into the Kessel Line in 1921."),
    # the opposite direction
    ("Who moved from northern Sweden?",
     "Under the reformer Anna Berg, the weaver Karin Holm moved to northern Sweden.",
     "Under the reformer Anna Berg, the weaver Karin Holm moved from northern Sweden."),
    # the asked name after another preposition
    ("What flows after Bingen?",
     "Between Bingen and Bonn, the Middle Rhine flows through the Rhine Gorge.",
     "After Bingen, the Middle Rhine flows through the Rhine Gorge."),
    # the one acted on made what a preposition governs
    ("The smaller streams are used for what?",
     "The name Rijn is used only for smaller streams farther to the north.",
     "The smaller streams are used for draining the polders."),
    # the asked noun of another owner
    ("What is the major tributary of Lake Constance?",
     "The Rhine emerges from Lake Constance and is joined by its major tributary, the Aare.",
     "The major tributary of Lake Constance is the Alpine Rhine."),
    ("What was Marta's first restaurant?",  # a name's, said with "'s"
     "The street also held Kolo, Ashby's first restaurant, and Marta Holm's bakery.",
     "Marta's first restaurant was Kolo, on the same street."),
    # the asked name said in the verb's clause, the verb acting on another thing
    ("What captured the Vosges Mountains?",
     "By the Pliocene, the Rhine had captured streams down to the Vosges Mountains.",
     "By the Pliocene, the Rhine had captured the Vosges Mountains."),
    # another named object, the asked one said elsewhere
    ("What precedes the period of Baroque music?",
     "In Vienna, the period of Classical music follows that of the Baroque and precedes the "
     "Early Romantic.",
     "In Vienna, the period of Renaissance music precedes the period of Baroque music."),
    # another name does the asked verb, the asked name said elsewhere
    ("When did Dodge end production of its full-size sedans?",
     "Chrysler ended production of its full-size sedans in 1981, except for the Dodge Diplomat.",
     "Dodge ended production of its full-size sedans in 1981."),
    # a passive's doer made the one acted on
    ("Who was defeated by Montcalm at Quebec?",
     "In 1759 James Wolfe defeated Montcalm at Quebec.",
     "In 1758 Montcalm defeated James Abercrombie at Quebec."),
    # another year for the asked verb, the asked one said of another verb
    ("Who patented a compound engine in 1804?",
     "A method was invented in 1804 by Arthur Woolf, who patented his compound engine in 1805.",
     "In 1804 the engineer Arthur Woolf patented his compound engine."),
    # another verb the asked verb has its object do
    ("Who invited Washington to fight with him?",
     "Jacques Legardeur de Saint-Pierre invited Washington to dine with him.",
     "Jacques Legardeur de Saint-Pierre invited Washington to fight with him."),
    # another condition of the asked verb
    ("If a Constituency MSP is forced from Parliament, what does it trigger?",
     "If a Constituency MSP resigns from Parliament, this triggers a by-election.",
     "If a Constituency MSP is forced from Parliament, this triggers a by-election."),
])
def test_words_of_the_question_in_other_roles_do_not_answer(question, swapped, kept):
    """SQuAD's unanswerable questions swap the roles of a sentence's words: the sentence
    that keeps them answers, the one that swaps them is not confirmed."""
    (part,) = analyse(question)
    why = roles_changed(part, analysis.as_sentence(swapped))
    assert why.startswith(("it says", "what it says")), why
    assert decide(part, swapped, "History").outcome == UNCONFIRMED
    assert roles_changed(part, analysis.as_sentence(kept)) == ""
    assert decide(part, kept, "History").ok


def test_a_word_of_a_name_or_the_verb_last_qualifies_nothing():
    """"Limestone Falls" states no fall, "how long did it last" asks no last one; "finished
    last" still does."""
    (part,) = analyse("How long did the shoot of The Northern Road last?")
    assert decide(part, "The shoot of The Northern Road lasted eleven weeks.").ok
    (part,) = analyse("How high is the weir at Limestone Falls?")
    assert decide(part, "The weir at Limestone Falls is 12 metres high.").ok
    (part,) = analyse("Who finished last in the Ashby relay?")
    assert not decide(part, "Harriet Lowe finished first in the Ashby relay.").ok


@pytest.mark.parametrize("question, named, unnamed", [
    ("Which company did Halvik Instruments buy in 2016?",
     "In 2016 Halvik Instruments bought the Danish sonar maker Nordsonic.",
     "In 2016 Halvik Instruments bought a small sonar maker."),
    ("What colour is the breast of the male rock finch?",
     "The male rock finch has a scarlet breast and a grey back.",
     "The male rock finch has a large breast and a long back."),
])
def test_which_x_is_answered_by_a_thing_of_that_kind(question, named, unnamed):
    """"Which company": a company's name answers without the word "company"; "what colour" a
    colour word."""
    (part,) = analyse(question)
    assert decide(part, named).ok
    assert not decide(part, unnamed).ok


def test_a_question_asking_what_is_not_needs_a_sentence_saying_what_is_not():
    """"What was not shaped by X" is not answered by what was shaped "not only by X but also
    by Y": "not only" negates nothing."""
    (part,) = analyse("What was not shaped by the glaciers?")
    assert decide(part, "The Ashby valley was shaped not only by the glaciers but also by "
                        "the river.").outcome == UNDOCUMENTED
    assert not analysis.as_sentence("It was shaped not only by ice but also by rain.").negated
    assert analysis.as_sentence("Where didn't the trappers travel?").negated  # "did" + "n't"
    (part,) = analyse("Which towns were not reached by the flood?")
    assert decide(part, "The flood did not reach the towns of Holm and Aske.").outcome != \
        UNDOCUMENTED


def test_where_is_answered_by_a_place_of_the_verb_not_a_thing_it_meets():
    """"encounters tributaries such as the Main" names no place the Rhine meets them."""
    (part,) = analyse("Where does the Ashby River meet its tributaries?")
    assert decide(part, "The Ashby River meets its tributaries at Mannheim.").ok
    assert decide(part, "The Ashby River meets its tributaries near the city of Mannheim.").ok
    assert not decide(part, "Here the Ashby River meets its tributaries, such as the Mosel "
                            "River and the Kent River.").ok


def test_a_place_or_size_of_something_placed_in_x_is_not_xs():
    """"Where is the Longwood Medical Area": the schools are in it, it is not somewhere;
    "according to X" names a source. "X, which is 300 km long" is said of X."""
    (part,) = analyse("Where is the Holm Medical Area located?")
    assert not decide(part, "The medical schools of Ashby University are in the Holm Medical "
                            "Area, and its main campus is in Cambridge.").ok
    assert decide(part, "The Holm Medical Area lies in the Fenway district of Boston.").ok
    (part,) = analyse("How wide is the Upper Ashby Plain?")
    assert not decide(part, "A channel 40 km wide carries the river into the Upper Ashby "
                            "Plain.").ok
    assert decide(part, "The river flows through the Upper Ashby Plain, which is up to 40 km "
                        "wide.").ok


def test_a_name_inside_another_name_is_another_thing():
    """"Miasta City Council" is not the Warsaw City Council; "Halvik Instruments ASA" is
    Halvik Instruments."""
    (part,) = analyse("How many members are on the Holm City Council?")
    assert not decide(part, "Legislative power in Ashby is vested in the Ashby City Council "
                            "(Rada Holm), which comprises 60 members.").ok
    assert decide(part, "The Holm City Council comprises 60 members.").ok
    (part,) = analyse("How many nature reserves are in Holmby?")  # "there" names no one
    assert not decide(part, "There are 13 nature reserves in Ashby, among others Bielany "
                            "Forest and Holmby Lake.").ok
    assert decide(part, "There are 4 nature reserves in Holmby.").ok
    (part,) = analyse("Where is Halvik Instruments headquartered?")
    assert decide(part, "Halvik Instruments ASA is a Norwegian maker of sonar equipment, "
                        "headquartered in Trondheim.").ok


def test_another_month_or_rate_period_is_another_figure():
    (part,) = analyse("How many companies were listed on the Ashby exchange in April 2009?")
    assert decide(part, "The Ashby exchange had 374 companies listed as of 31 August "
                        "2009.").outcome == UNDOCUMENTED
    assert decide(part, "In April 2009, 374 companies were listed on the Ashby exchange.").ok
    (part,) = analyse("How many projects does the Holm Centre realize a month?")
    assert decide(part, "The Holm Centre realizes about 500 projects a year.").outcome == \
        UNDOCUMENTED
    assert decide(part, "The Holm Centre realizes about 40 projects a month.").ok


def test_the_asked_thing_in_another_place_is_another_thing():
    """The title may lend "in Warsaw"; a sentence saying "in Poland" states another place."""
    (part,) = analyse("What is the basic unit of territorial division in Warsaw?")
    assert decide(part, "The basic unit of territorial division in Poland is a commune.",
                  "Warsaw").outcome == UNCONFIRMED  # the parse may misread a place
    assert decide(part, "The basic unit of territorial division in Warsaw is a district.").ok


def test_the_asked_verb_after_the_whole_counted_from_must_be_said():
    """After "Of the 36.2 million reports ...," spaCy tags "escalate" a noun unless the asking
    clause is tagged on its own; without the verb any count in the passage answered."""
    (part,) = analyse("Of the 36.2 million reports the CyberTipline received in 2023, how many "
                      "did NCMEC escalate as urgent?")
    assert part.predicate == ["escal"]
    escalated = "In the same year, NCMEC escalated 63,892 CyberTipline reports as urgent."
    context = "In 2023, the CyberTipline received 36.2 million reports. " + escalated
    assert not decide(part, "Because one image can be reported many times, the 2023 total of "
                            "36.2 million CyberTipline reports measures reporting volume.",
                      context).ok
    assert decide(part, escalated, "In 2023, the CyberTipline received 36.2 million reports.").ok


def test_a_follow_ups_bracketed_context_need_not_stand_in_the_answers_clause():
    """The rewrite's "(the Millbrook library book sale)" names the subject; the passage may
    name it anywhere."""
    (part,) = analyse("What was the $3,980 spent on (the Millbrook library book sale)?")
    assert decide(part, "The book sale raised $3,980 in 2023, which was spent on new "
                        "children's books.", "Millbrook Public Library").ok


def test_a_heading_naming_the_qualified_thing_lends_its_qualifier():
    """Under "Bulk fermentation" a sentence speaks of the bulk fermentation; a sentence that
    names "reports" without "urgent" speaks of reports in general."""
    (part,) = analyse("How often are the stretch and folds done during the bulk fermentation?")
    heading = set(analysis.terms("Sourdough guide. Bulk fermentation"))
    sentence = "During the first 2 hours, perform a set of stretch and folds every 30 minutes."
    assert decide(part, sentence, heading, heading=heading).ok
    other = set(analysis.terms("Sourdough guide. Mixing and resting"))
    assert not decide(part, sentence, other, heading=other).ok
    (part,) = analyse("What is an urgent report?")
    heading = set(analysis.terms("Glossary. Urgent reports"))
    assert not decide(part, "A report is a notice sent to the CyberTipline.", heading,
                      heading=heading).ok


def test_a_sentence_is_under_the_last_heading_before_it_in_its_chunk():
    text = "Mixing and resting\n\nMix the flour.\n\nBulk fermentation\n\nFold it every 30 minutes."
    p = Passage(id="g", source="g.txt", title="Guide", page=None, start=0, end=len(text),
                text=text, section="Mixing and resting")
    first, *_, last = analysis.of(p).sentences
    assert "bulk" in heading_terms(p, last) and "bulk" not in heading_terms(p, first)
    assert "mix" in heading_terms(p, first)


def test_a_word_naming_the_answers_kind_is_said_by_its_figure():
    """"How much money": "$3,980" says money, in the sentence and in a claim quoting it."""
    (part,) = analyse("How much money did the Millbrook book sale raise in 2023?")
    sentence = "The book sale raised $3,980 in 2023, which was spent on new children's books."
    assert decide(part, sentence, "Millbrook").ok
    assert not decide(part, "The book sale drew 3,980 visitors in 2023.", "Millbrook").ok
    claim = analysis.as_sentence(sentence)
    assert claim_answers(part, claim, claim, {"millbrook"}).ok


def test_a_when_of_a_procedure_is_answered_by_its_condition():
    """"When should rim brake pads be replaced?" asks a moment of a procedure: a "when" clause
    or a "before"/"after" phrase on the asked verb answers it; a question of the past still
    asks a date, and a clause on another verb answers nothing."""
    assert outcome("When should rim brake pads be replaced?",
                   "Replace rim brake pads when the wear grooves are no longer visible.",
                   "Brakes") == ANSWERED
    assert outcome("When should the sourdough starter be fed?",
                   "Feed the sourdough starter 4 to 12 hours before mixing.") == ANSWERED
    assert outcome("When were rim brake pads replaced?",
                   "Replace rim brake pads when the wear grooves are no longer visible.",
                   "Brakes") != ANSWERED
    assert outcome("When should rim brake pads be replaced?", "Check rim brake pads monthly.",
                   "Brakes") != ANSWERED


def test_a_figure_counting_a_part_of_the_asked_whole_does_not_answer_for_it():
    """A smaller group than asked: the escalated reports are a subset of the caseload."""
    assert outcome("How large was NCMEC's CyberTipline caseload in 2023?",
                   "The 63,892 escalated reports are the subset of the 2023 CyberTipline "
                   "caseload that NCMEC's analysts judged urgent.") == UNDOCUMENTED
    assert outcome("How many reports were in NCMEC's 2023 CyberTipline caseload?",
                   "The 2023 CyberTipline caseload held 36.2 million reports at NCMEC.") \
        == ANSWERED


@pytest.mark.parametrize("question, sentence, opposite", [
    # the events change places with the word: the order holds
    ("What had been fitted before the Millbrook Leisure Pool reopened?",
     "The pool reopened in January 2023 after new changing rooms were fitted.", False),
    # the same word with the events in place: the order holds
    ("What was built before the war started?", "The fort was built before the war started.",
     False),
    # the same word with the events changed: reversed
    ("What was built before the war started?", "The war started before the fort was built.",
     True),
    ("What had been fitted after the Millbrook Leisure Pool reopened?",
     "The pool reopened in January 2023 after new changing rooms were fitted.", True),
])
def test_before_and_after_are_read_with_the_events_they_order(question, sentence, opposite):
    (part,) = analyse(question)
    verdict = decide(part, sentence, "Millbrook Leisure Pool")
    assert ("opposite order" in verdict.reason) == opposite


def test_of_two_sentences_as_close_the_one_saying_the_question_is_first():
    """Under "Cooling and storing" both sentences have a duration and the heading's words; the
    one that says "store" itself answers how long a loaf can be stored."""
    text = ("Cooling and storing\n\nLet the loaf cool on a wire rack for at least 1 hour "
            "before cutting. Store the sourdough loaf on a wooden board for up to 3 days.")
    p = Passage(id="c", source="guide.txt", title="Sourdough guide", page=None, start=0,
                end=len(text), text=text, section="Cooling and storing")
    candidates = [(p, s) for s in analysis.of(p).sentences]
    (found,) = answering(analyse("For how long can the sourdough loaf be stored?"), candidates)
    best = candidates[(found.answers or found.unconfirmed)[0][0]][1]
    assert "3 days" in best.text


def test_how_to_tell_asks_the_condition_a_sentence_gives():
    """"How can you tell that X is Y?" is asked as "When is X Y?": "X is Y when ..." answers."""
    question = "How can you tell that the sourdough starter is ready to use?"
    assert outcome(question, "The starter is ready to use when it has roughly doubled in size.",
                   "Sourdough guide") == ANSWERED
    assert outcome(question, "Feed the sourdough starter 4 to 12 hours before mixing.",
                   "Sourdough guide") != ANSWERED


def test_a_place_named_after_a_locative_preposition_on_the_asked_verb_answers_where():
    """"at the Riverside branch": a place by its name, which the tagger reads as a person's."""
    sentence = ("In 2024 the Millbrook Public Library plans to extend Saturday opening hours at "
                "the Riverside branch and install the new door counter.")
    context = "Millbrook Public Library. Looking ahead to 2024"
    assert outcome("Where will the Millbrook Public Library extend Saturday opening hours?",
                   sentence, context) == ANSWERED
    assert outcome("Where will the Millbrook Public Library install the new door counter?",
                   sentence, context) != ANSWERED


def test_a_glossary_entry_names_the_thing_its_definition_describes():
    """"**18 U.S.C. 2258A.** The U.S. federal law that requires ..." answers "which law
    requires ...", in the passage's markdown as in the quote; not another relation or kind."""
    text = ("# Glossary\n\n**18 U.S.C. 2258A.** The U.S. federal law that requires electronic "
            "service providers to report apparent CSAM they become aware of to NCMEC's "
            "CyberTipline.")
    p = Passage(id="g", source="glossary.md", title="Glossary", page=None, start=0,
                end=len(text), text=text)
    entry = analysis.of(p).sentences[-1]
    (law,) = analyse("Which law requires electronic service providers to report apparent CSAM?")
    assert decide(law, entry, "Glossary").outcome == ANSWERED
    quoted = "18 U.S.C. 2258A: " + entry.text.split("** ", 1)[1]
    assert outcome(law.label, quoted, "Glossary") == ANSWERED
    assert outcome("Which law requires NCMEC to publish arrest figures?", quoted,
                   "Glossary") != ANSWERED
    assert outcome("Which agency requires electronic service providers to report apparent "
                   "CSAM?", quoted, "Glossary") != ANSWERED


def test_a_frequency_word_on_the_asked_thing_answers_how_often():
    sentence = ("The library's staff were supported by volunteers who helped with the summer "
                "reading challenge, the chess club and the monthly book sale.")
    context = "Millbrook Public Library annual report"
    assert outcome("How often is the Millbrook library's book sale held?", sentence,
                   context) == ANSWERED
    assert outcome("How often was the Millbrook library's book sale cancelled?", sentence,
                   context) != ANSWERED  # the verb is what is asked
    assert outcome("How often is the Millbrook library's chess club held?", sentence,
                   context) != ANSWERED  # "monthly" is the sale's


def test_money_a_figure_states_and_a_pronoun_for_the_thing_count_in_its_clause():
    assert outcome("What was the money spent on (the Millbrook library's book sale)?",
                   "The book sale raised $3,980 in 2023, which was spent on new children's "
                   "books.", "Millbrook Public Library annual report") == ANSWERED
    assert outcome("What did the 418 children that took part in the library's summer reading "
                   "challenge in 2023 have to do to finish?",
                   "The summer reading challenge in 2023 had 418 children taking part, and 267 "
                   "of them finished the challenge by reading at least eight books.",
                   "Millbrook Public Library annual report") == ANSWERED


def test_before_and_after_clauses_tie_both_events_to_the_answer():
    sentence = "The pool reopened in January 2023 after new changing rooms were fitted."
    context = "Millbrook Leisure Pool summary 2023"
    assert outcome("What had been fitted before the Millbrook Leisure Pool reopened?",
                   sentence, context) == ANSWERED
    assert outcome("What had been fitted after the Millbrook Leisure Pool reopened?",
                   sentence, context) == UNDOCUMENTED


def test_a_fronted_date_holds_for_each_coordinated_verb_and_no_later_one():
    context = "Millbrook Public Library annual report 2023"
    assert outcome("When will the new door counter be installed?",
                   "In 2024 the Millbrook Public Library plans to extend Saturday opening "
                   "hours at the Riverside branch, install the new door counter, and start a "
                   "seed library.", context) == ANSWERED
    assert outcome("When did the company close the post?",
                   "The company was founded in 1783 and closed the post.") != ANSWERED


def test_how_long_does_it_take_asks_a_duration_and_lay_is_not_lie():
    assert outcome("How long does the bulk fermentation take (the sourdough dough)?",
                   "Leave the dough to ferment at about 24 degrees Celsius for 4 to 6 hours.",
                   "Sourdough baking guide. Bulk fermentation") == ANSWERED
    assert decide(analyse("How long does the autolyse last (the rest)?")[0],  # what lasts:
                  "Leave the dough to ferment at about 24 degrees Celsius for 4 to 6 hours.",
                  "This rest, called the autolyse, lets the flour absorb the water.",
                  heading=set(analysis.terms("Sourdough guide. Bulk fermentation"))
                  ).outcome != ANSWERED  # not only an earlier sentence's
    assert outcome("How many eggs does the amber-throated warbler lay?",
                   "She lays two eggs, which hatch after about 15 days.",
                   "Amber-throated warbler. Breeding") == ANSWERED


def test_a_name_equated_with_the_asked_role_answers_who_whatever_its_label():
    """spaCy labels "Lars Eide" a facility; equated with "the chairman" it names the person,
    but a place so equated does not."""
    question = "Who is the chairman of the board of Halvik Instruments?"
    assert outcome(question, "The chairman of the board is Lars Eide.",
                   "Halvik Instruments") == ANSWERED
    assert outcome(question, "The chairman of the board is Oslo.", "Halvik Instruments") \
        != ANSWERED


def test_a_reason_marker_the_question_itself_says_gives_no_reason():
    question = ("Why is the number of children rescued as a result of CyberTipline reports in "
                "2023 not known?")
    assert outcome(question, "No public figure gives the number of children rescued as a "
                   "result of 2023 CyberTipline reports.", "Briefing note") != ANSWERED
    assert outcome(question, "The number of children rescued as a result of CyberTipline "
                   "reports in 2023 is not known because NCMEC rarely publishes case-level "
                   "follow-through data.", "Briefing note") == ANSWERED


def test_what_kinds_else_and_a_completed_repair_ask_what_the_sentence_gives():
    """"What kinds of items": the items; "what else": nothing more; "completed a repair of
    the roof in the autumn" dates the repair (a planned one does not)."""
    context = "Millbrook Public Library annual report"
    assert outcome("What kinds of items did the Millbrook library add to its collection in "
                   "2023?", "The Millbrook Public Library added 3,150 new items to its "
                   "collection in 2023, including books, DVDs and board games.",
                   context) == ANSWERED
    assert outcome("What else does the bicycle maintenance note not cover?",
                   "This note does not cover suspension servicing, wheel truing or hydraulic "
                   "brake bleeding.", "Bicycle maintenance note") == ANSWERED
    question = "When was the Millbrook library's roof repaired?"
    assert outcome(question, "The library completed a repair of the main building's roof in "
                   "the autumn of 2023.", context) == ANSWERED
    assert outcome(question, "The library planned a repair of the main building's roof in "
                   "the autumn of 2023.", context) != ANSWERED



MARATHON, WARBLER, LINDQVIST = ("1996 Windermere Marathon", "Amber-throated warbler",
                                "Dorothea Lindqvist")
SOURDOUGH, BICYCLE = "A Beginner's Guide to Baking a Sourdough Loaf", "Bicycle maintenance note"


def test_a_pronoun_a_follow_up_left_unresolved_is_doubted():
    """A follow-up whose rewrite could not say who "they" are (it added the conversation's
    subject in brackets instead): whose doing is asked is not known. A question on its own may
    use a pronoun for what it said before ("If an MSP resigns, what does it trigger")."""
    sentence = "NCMEC reviews incoming CyberTipline reports and makes them available to police."
    (part,) = analyse("What do they do with the incoming reports (the CyberTipline)?")
    verdict = decide(part, sentence, "CyberTipline")
    assert verdict.outcome == UNCONFIRMED and "'they'" in verdict.reason
    (part,) = analyse("What does NCMEC do with the incoming reports (the CyberTipline)?")
    assert "'" not in decide(part, sentence, "CyberTipline").reason
    (part,) = analyse("If a platform finds CSAM, what must it do (the CyberTipline)?")
    assert "'it'" not in decide(part, "If a platform finds CSAM, it must report it to the "
                                      "CyberTipline.", "CyberTipline").reason


@pytest.mark.parametrize("question, sentence, heading, answers", [
    # an infinitive of purpose on the asked verb is a reason; on another verb it is not
    ("Why was the start of the Windermere Marathon moved after 1996?", "After the 1996 race the "
     "start was moved from Ambleside to Bowness to keep runners off the A591 road.", MARATHON,
     True),
    ("Why was the start of the Windermere Marathon moved after 1996?", "After the 1996 race the "
     "start was moved from Ambleside to Bowness.", MARATHON, False),
    ("Why was the start of the Windermere Marathon moved after 1996?", "After the 1996 race the "
     "start was moved from Ambleside to Bowness, and a bus was hired to carry runners there.",
     MARATHON, False),
    # a name equated with the noun a clause describes is bound to that clause's verb
    ("Who was the first European to travel the Kaskawan River?", "The first European to "
     "travel the river was the explorer Henry Kelsey in 1691.", "Kaskawan River", True),
    ("Who was the first European to travel the Kaskawan River?", "The first European to map "
     "the river was the explorer Henry Kelsey in 1691.", "Kaskawan River", False),
    # a sentence opening with "Its" or "The" + the asked noun is about what its heading names
    ("What is the song of the amber-throated warbler?", "Its song is a thin, rising trill that "
     "lasts about two seconds.", WARBLER, True),
    ("What is the song of the amber-throated warbler?", "Its song is a thin, rising trill that "
     "lasts about two seconds.", "Birds of the cloud forest", False),
    ("What is the nest of the amber-throated warbler made of?", "The nest, a cup of moss and "
     "fine roots, is built by the female in a tree fern.", WARBLER, True),
    ("What is the nest of the amber-throated warbler made of?", "The nest, a cup of moss and "
     "fine roots, is built by the female in a tree fern.", "Birds of the cloud forest", False),
    # a temperature asked is read from a figure in degrees, not from a count beside it
    ("What was the temperature at the start of the 1996 Windermere Marathon?", "Temperatures "
     "rose from 8 °C at the start to 17 °C by midday, and 214 runners were treated for heat "
     "exhaustion.", MARATHON, True),
    ("What was the temperature at the start of the 1996 Windermere Marathon?", "At the start, "
     "214 runners were treated for heat exhaustion.", MARATHON, False),
    # centimetres are a length, and "weighs" says how heavy
    ("How long is the adult amber-throated warbler?", "The adult is about 12 centimetres long "
     "and weighs 9 to 11 grams.", WARBLER, True),
    ("How heavy is the adult amber-throated warbler?", "The adult is about 12 centimetres long "
     "and weighs 9 to 11 grams.", WARBLER, True),
    ("How heavy is the adult amber-throated warbler?", "The adult is about 12 centimetres "
     "long.", WARBLER, False),
    # a nationality said of the asked name, not of another
    ("What nationality was Joseph Kiprono?", "The men's race was won by the Kenyan runner "
     "Joseph Kiprono in 2:11:46, a course record.", MARATHON, True),
    ("What nationality was Joseph Kiprono?", "Joseph Kiprono finished 40 seconds ahead of the "
     "Welsh runner Paul Evans.", MARATHON, False),
    # a negation on a verb coordinated with the asked one does not deny the asked one
    ("How many times was Lindqvist nominated for the Nobel Prize in Chemistry?", "She was "
     "nominated for the Nobel Prize in Chemistry five times but never won it.", LINDQVIST, True),
    ("How many times was Lindqvist nominated for the Nobel Prize in Chemistry?", "She was never "
     "nominated for the Nobel Prize in Chemistry but won five other prizes.", LINDQVIST, False),
    # "how many times" counts occasions ("N times"); a multiple is no count
    ("How many times was Lindqvist's 1938 paper cited?", "Her 1938 paper on the structure of "
     "lysozyme crystals was cited more than 900 times.", LINDQVIST, True),
    ("How many citations did Lindqvist's 1938 paper receive?", "Her 1938 paper received three "
     "times as many citations as her 1936 paper.", LINDQVIST, False),
    # "what does X do": a verb whose subject is X, or the noun named X
    ("What does the autolyse do?", "This rest, called the autolyse, lets the flour absorb the "
     "water.", SOURDOUGH, True),
    ("What does the cold proof do?", "This rest, called the autolyse, lets the flour absorb the "
     "water.", SOURDOUGH, False),
    # "what does X mean" asks a meaning, not an average; the meaning may hold a negation
    ("What does a pale crust usually mean?", "A pale crust usually means the pot was not hot "
     "enough or the lid-off bake was too short.", SOURDOUGH, True),
    # "one drop of" is an amount measured out
    ("How much chain lubricant should be applied to each roller?", "Wipe the chain, apply one "
     "drop of chain lubricant to each roller, then wipe off the excess.", BICYCLE, True),
    ("How much chain lubricant should be applied to each roller?", "Wipe the chain, apply chain "
     "lubricant to each roller, then wipe off the excess.", BICYCLE, False),
    # an abbreviation is spelled out by words whose initials are its letters
    ("What does CSAM stand for?", "**CSAM.** Child sexual abuse material.", "Glossary", True),
    ("What does CSAM stand for?", "Electronic service providers (ESPs) must report apparent "
     "CSAM.", "Glossary", False),
    # a source saying what it does not give answers nothing about what was found
    ("What did the Stanford report find about duplicate reports?", "The 2024 Stanford report, "
     "as summarised here, does not give a percentage of duplicate reports.", "Findings", False),
    # "I" is no name the source must spell
    ("How often should I check the tyre pressure?", "Check tyre pressure once a week with a "
     "track pump that has a gauge.", BICYCLE, True),
    ("How often should I check the tyre pressure?", "Check the chain once a week with a "
     "chain checker.", BICYCLE, False),
    # a demonstrative a follow-up left unresolved is not the asked thing
    ("How much did the roof repair cost in 2023?", "The roof repair cost $84,000 in 2023.",
     "Annual report 2023", True),
    ("How much did that cost in 2023?", "The operating budget for 2023 was $1.24 million.",
     "Annual report 2023", False),
    # "page 3" is "the third page", not the second
    ("What does page 3 of the policy brief cover?", "The third page covers the obstacles "
     "researchers identified.", "Policy brief", True),
    ("What does page 3 of the policy brief cover?", "The second page covers the obstacles "
     "researchers identified.", "Policy brief", False),
    # "why isn't it known": a reason why a source does not give it
    ("Why isn't the number of visitors the Millbrook Public Library had in 2023 known?", "The "
     "door counter was out of service for most of 2023, so this annual report does not give a "
     "count of visitors to the Millbrook Public Library in 2023.", "Annual report 2023", True),
    ("Why isn't the number of visitors the Millbrook Public Library had in 2023 known?", "This "
     "annual report does not give a count of visitors to the Millbrook Public Library in 2023.",
     "Annual report 2023", False),
    # "is X the same thing as Y": a clause of "be" on X (or a pronoun for it) that says Y
    ("Is an urgent CyberTipline escalation the same thing as an arrest?", "An urgent "
     "CyberTipline escalation hands a lead to police; it is not itself an arrest.", "Glossary",
     True),
    ("Is an urgent CyberTipline escalation the same thing as an arrest?", "No one can state how "
     "many urgent CyberTipline escalations led to arrests.", "Glossary", False),
    # a "not" on participles under one passive auxiliary denies both; not a finite verb's
    ("Why are normal body cells attacked by NK cells?", "Normal body cells are not recognized "
     "and attacked by NK cells because they express intact self MHC antigens.", "Immunity",
     False),
    ("Why are normal body cells attacked by NK cells?", "Infected body cells are not spared "
     "but attacked by NK cells because they lack self MHC antigens.", "Immunity", False),
    ("Why were the stray cells attacked by NK cells?", "The stray cells did not divide and "
     "were attacked by NK cells because they lacked self MHC antigens.", "Immunity", True),
    # "what was the reason X" asks why X: a reason answers it, "reason" need not be said
    ("What was the reason the 63,892 CyberTipline reports were escalated?", "NCMEC escalated "
     "the 63,892 CyberTipline reports because a child was deemed to be in imminent danger.",
     "CyberTipline", True),
    ("What was the reason the 63,892 CyberTipline reports were escalated?", "NCMEC escalated "
     "the 63,892 CyberTipline reports to law enforcement in 2023.", "CyberTipline", False),
    # "according to the Stanford researchers": the source's name must be said, not its kind
    ("According to the Stanford researchers, how many times can the same viral content be "
     "reported to the CyberTipline?", "The Stanford Internet Observatory found that the same "
     "viral content can be reported hundreds of times.", "CyberTipline findings", True),
    ("According to the Harvard researchers, how many times can the same viral content be "
     "reported to the CyberTipline?", "The Stanford Internet Observatory found that the same "
     "viral content can be reported hundreds of times.", "CyberTipline findings", False),
    # "how much" asks a quantity and says none: "fewer gears" is no opposite of it
    ("At how much stretch should a chain be replaced on a 12-speed drivetrain?", "This note "
     "recommends replacing the chain once it has stretched by 0.5% on an 11-speed or 12-speed "
     "drivetrain, or by 0.75% on a drivetrain with fewer gears.", "Chain wear", True),
    # the asked name said before the verb, its doer an owned name, is no other doer
    ("How many reports did NCMEC receive in 2023?", "NCMEC says its CyberTipline received 36.2 "
     "million reports in 2023.", "CyberTipline", True),
    # a passive question's name is what the verb acts on, not another doer
    ("When was Warsaw ranked as the 32nd most liveable city in the world?", "In 2012 the "
     "Economist Intelligence Unit ranked Warsaw as the 32nd most liveable city in the world.",
     "Warsaw", True),
    # "how hot": a temperature of the asked verb ("for baking" is its purpose, not the verb)
    ("How hot should the oven be preheated for baking the sourdough loaf?", "Put a lidded pot "
     "into the oven and preheat the oven to 250 degrees Celsius for 45 minutes.", "Baking the "
     "sourdough loaf", True),
    ("How hot should the oven be preheated for baking the sourdough loaf?", "The loaf is done "
     "when the inside reaches about 96 degrees Celsius.", "Baking the sourdough loaf", False),
    # a count in words is bound by its clause: "hundreds" counts how often one is reported
    ("How many of the CyberTipline reports involve actors outside the U.S.?", "The report found "
     "that the same offender is reported hundreds of times, and that a large majority of "
     "CyberTipline reports involve actors outside the U.S.", "Stanford findings", False),
    # a word negated of the asked noun, said plain of another one
    ("What started with a zero velocity?", "This results in zero net force, but since the "
     "object started with a non-zero velocity, it continues to move.", "Motion", False),
    # a verb with no object whose subject the sentence's same verb acts on: the same role
    ("When did the children's room at the Millbrook library reopen?", "The library reopened "
     "its children's room in March 2023 after a renovation.", "Millbrook Public Library", True),
    ("When did the leisure pool open again?", "The pool reopened in January 2023 after new "
     "changing rooms were fitted.", "Millbrook Leisure Pool", True),
    ("When did the leisure pool open again?", "The pool first opened in 1974.",
     "Millbrook Leisure Pool", False),
    # a need says nothing the answer must; "how far ahead" asks a span before
    ("When do disc brake pads need replacing?", "For disc brakes, this note recommends "
     "replacing the pads when the friction material is thinner than 1.5 millimetres.",
     "Brake pads", True),
    ("How far ahead should I feed my starter before mixing the dough?", "Feed the sourdough "
     "starter 4 to 12 hours before mixing, with equal weights of flour and water.",
     "Mixing the dough", True),
    ("How far ahead should I feed my starter before mixing the dough?", "Leave the dough to "
     "ferment at about 24 degrees Celsius for 4 to 6 hours.", "Mixing the dough", False),
    # a glossary entry answers what its term is; a document named as the source is not asked,
    # those whose view is asked are
    ("In the CyberTipline glossary, how is a duplicate report defined?", "**Duplicate "
     "report.** A CyberTipline report about content or an offender that has already been "
     "reported.", "CyberTipline glossary", True),
    ("What is the Stanford Internet Observatory, according to the CyberTipline glossary?",
     "**Stanford Internet Observatory (SIO).** A research group at Stanford University that "
     "published a 2024 report on the CyberTipline.", "CyberTipline glossary", True),
    ("What should fall under article 56 according to several governments?", "Josemans v "
     "Burgemeester van Maastricht held that the Netherlands' regulation of cannabis "
     "consumption fell outside article 56 altogether.", "European Union law", False),
    # what a document recommends, under that document's title
    ("What does the CyberTipline policy brief recommend?", "Recommendation: the Stanford "
     "Internet Observatory researchers called for research and data-sharing to map "
     "CyberTipline reports to criminal-justice outcomes.", "Policy Brief: After a CyberTipline "
     "Report", True),
    # "how do I know X's Y" asks the condition, as "how do I know X is Y" does
    ("How do I know the starter's ready to use?", "The starter is ready to use when it has "
     "roughly doubled in size and a spoonful of it floats in water.", "Sourdough starter", True),
])
def test_a_sentence_answers_what_its_structure_binds(question, sentence, heading, answers):
    assert (outcome(question, sentence, heading) == ANSWERED) == answers
