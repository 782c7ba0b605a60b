"""Conversations: a follow-up is rewritten to stand alone before retrieval; a new topic is not."""

import json

import pytest

from assistant.conversation import condense, condense_with_llm
from assistant.pipeline import Assistant
from assistant.types import Answer, Claim


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("How many reports did NCMEC receive in 2023?", "And in 2021?",
     "How many reports did NCMEC receive in 2021?"),
    ("How many CyberTipline escalations led to arrests in 2023?", "What about prosecutions?",
     "How many CyberTipline escalations led to prosecutions in 2023?"),
    ("How many children took part in the Millbrook summer reading challenge in 2023?",
     "How many of them finished it?",
     "How many of the children finished the Millbrook summer reading challenge in 2023?"),
    ("What was Crumb & Hearth's revenue in 2024?", "And its profit?",
     "What was Crumb & Hearth's profit in 2024?"),
    ("What was Crumb & Hearth's profit in 2024?", "How many new shops did it open that year?",
     "How many new shops did Crumb & Hearth open in 2024?"),
    ("What percentage of the vote did the Dunmore County library levy receive?",
     "How much is it expected to raise each year?",
     "How much is the Dunmore County library levy expected to raise each year?"),
])
def test_follow_ups_are_rewritten_to_stand_alone(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, new_topic", [
    ("How many reports did the CyberTipline receive in 2023?",
     "How many items did the Millbrook Public Library lend in 2023?"),
    ("How many reports did the CyberTipline receive in 2023?",
     "What is the boiling point of mercury?"),
])
def test_a_new_topic_carries_nothing_over(previous, new_topic):
    assert condense(new_topic, previous) == new_topic


def answered(question: str, *stated: str) -> Answer:
    """A previous turn as the pipeline hands it over: the standalone question and its claims."""
    return Answer(question=question, status="answered", summary=" ".join(stated),
                  claims=[Claim(text, [1], True, 1.0) for text in stated], undocumented=[],
                  citations=[])


@pytest.mark.parametrize("previous, follow_up, expected", [
    # "them": the set the answer counted, with the measure asked (lent, not "the library's items")
    (answered("How many items did the Millbrook Public Library lend in 2023?",
              "In 2023 the Millbrook Public Library lent 84,310 items."),
     "How many of them were e-books?",
     "Of the 84,310 items the Millbrook Public Library lent in 2023, how many were e-books?"),
    (answered("How many CyberTipline reports did NCMEC escalate as urgent in 2023?",
              "In 2023 NCMEC staff escalated 63,892 CyberTipline reports to law enforcement."),
     "How many of those reports led to arrests?",
     "Of the 63,892 CyberTipline reports NCMEC escalated as urgent in 2023, how many led to "
     "arrests?"),
    # "it": the organisation the answer named, the question's own subject kept beside it
    (answered("Which organisation runs the Ferry Trust?",
              "The Ferry Trust is run by the Holm Harbour Board."),
     "How much did it spend in 2024?",
     "How much did the Holm Harbour Board spend in 2024 (the Ferry Trust)?"),
    # "that year", "the same period": the question's year, else the year the answer gave
    (answered("When did Kestrel Ridge Wind Farm enter commercial operation?",
              "Kestrel Ridge Wind Farm entered commercial operation in September 2019."),
     "How many turbines did it have that year?",
     "How many turbines did Kestrel Ridge Wind Farm have in 2019?"),
    (answered("How many households did Northgate Community Food Bank serve in 2023?",
              "Northgate Community Food Bank served 8,450 households in 2023."),
     "How many volunteers did it have in the same period?",
     "How many volunteers did Northgate Community Food Bank have in 2023?"),
    # "that number": the count the answer stated, of the period asked
    (answered("How many households did Northgate Community Food Bank serve in 2023?",
              "Northgate Community Food Bank served 8,450 households in 2023."),
     "What explains that number?",
     "What explains the 8,450 households in 2023 (Northgate Community Food Bank)?"),
])
def test_follow_ups_resolve_against_the_previous_answer(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_a_demonstrative_standing_alone_is_the_counted_set():
    """The tagger calls "those" in "how many of those finished" a determiner."""
    previous = answered("How many children took part in the summer reading challenge at the "
                        "Millbrook Public Library in 2023?",
                        "The summer reading challenge in 2023 had 418 children taking part.")
    assert condense("How many of those finished the challenge?", previous) == (
        "Of the 418 children that took part in the summer reading challenge at the Millbrook "
        "Public Library in 2023, how many finished the challenge?")


ESCALATED = answered("How many CyberTipline reports did NCMEC escalate to law enforcement as "
                     "urgent in 2023?", "In 2023 NCMEC staff escalated 63,892 CyberTipline "
                     "reports to law enforcement as urgent.")


def test_the_counted_set_stays_in_play_across_turns():
    """"those" asked why (the set, with its count and measure), then "them" counted again: the
    set the answer before counted, although the turn in between counted nothing."""
    why = condense("Why were those escalated?", ESCALATED)
    assert why == ("Why were the 63,892 CyberTipline reports NCMEC escalated to law enforcement "
                   "as urgent in 2023 escalated?")
    reason = answered(why, "NCMEC escalated 63,892 reports in 2023 because a child was deemed "
                           "to be in imminent danger.")
    assert condense("How many of them led to a conviction?", reason, [ESCALATED]) == (
        "Of the 63,892 CyberTipline reports NCMEC escalated to law enforcement as urgent in "
        "2023, how many led to a conviction?")


def test_a_count_that_names_nothing_counts_from_the_set():
    loans = answered("How many loans did the Millbrook Public Library have in 2023?",
                     "In 2023 the Millbrook Public Library lent 84,310 items.")
    children = condense("How many of those were children's books?", loans)
    assert children == ("Of the 84,310 loans the Millbrook Public Library had in 2023, how many "
                        "were children's books?")
    stated = answered(children, "Children's books accounted for 31,870 of the 2023 loans.")
    assert condense("And how many were e-books or e-audiobooks?", stated, [loans]) == (
        "Of the 84,310 loans the Millbrook Public Library had in 2023, how many were e-books or "
        "e-audiobooks?")
    # a name of its own does not make it a new topic when it does not say what it counts
    received = answered("How many reports did the CyberTipline receive in 2023?",
                        "The CyberTipline received 36.2 million reports in 2023.")
    assert condense("And how many did NCMEC escalate as urgent?", received) == (
        "Of the 36.2 million reports the CyberTipline received in 2023, how many did NCMEC "
        "escalate as urgent?")


def test_a_question_asking_a_figure_of_them_does_not_carry_their_count():
    """The answer's sentence need not repeat the 236 events the people attended."""
    events = answered("How many events did the Millbrook Public Library run in 2023?",
                      "In 2023 the Millbrook Public Library ran 236 events.")
    assert condense("How many people attended them?", events) == \
        "How many people attended the Millbrook Public Library's events in 2023?"


@pytest.mark.parametrize("previous, expected", [
    # the small model's NER misses this name: its proper nouns still name it
    (answered("Who found that many CyberTipline reports are duplicates?",
              "The Stanford Internet Observatory found in 2024 that many CyberTipline reports "
              "are duplicates."),
     "What did the Stanford Internet Observatory recommend (CyberTipline reports)?"),
    # the university only locates the group the answer is about
    (answered("Which research group published a 2024 report on the CyberTipline?",
              "A research group at Stanford University, the Stanford Internet Observatory, "
              "published a 2024 report on the CyberTipline."),
     "What did the Stanford Internet Observatory recommend (the CyberTipline)?"),
])
def test_it_is_the_organisation_the_answer_is_about(previous, expected):
    assert condense("What did it recommend?", previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    (answered("What does the bicycle maintenance note recommend measuring chain wear with?",
              "Measure chain wear with a chain checker tool every 1,000 kilometres."),
     "How often should it be used?",
     "How often should the chain checker tool be used (the bicycle maintenance note)?"),
    (answered("What was the most borrowed adult title at the Millbrook Public Library in 2023?",
              "The most borrowed adult title at the Millbrook Public Library in 2023 was a local "
              "history of the Millbrook mill."),
     "Who wrote it?",
     "Who wrote the local history of the Millbrook mill (the Millbrook Public Library)?"),
    # a description of a name does not replace it
    (answered("What is the CyberTipline?", "The CyberTipline is the national reporting system "
                                           "for suspected online child sexual exploitation."),
     "Who runs it?", "Who runs the CyberTipline?"),
])
def test_it_is_the_thing_a_what_answer_gave(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_the_answers_period_survives_a_follow_up_with_a_name_of_its_own():
    previous = answered("In which year did the CyberTipline receive 36.2 million reports?",
                        "The CyberTipline received 36.2 million reports in 2023.")
    assert condense("How many reports did NCMEC escalate as urgent in the same period?",
                    previous) == "How many reports did NCMEC escalate as urgent in 2023?"


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("How many tonnes of glass did Millbrook collect for recycling in Q1 2023?", "And in Q4?",
     "How many tonnes of glass did Millbrook collect for recycling in Q4 2023?"),
    ("How many cyclists were counted on Quay Road in March?", "And in June?",
     "How many cyclists were counted on Quay Road in June?"),
    ("What were the dockside fees in FY2023?", "And in FY2024?",
     "What were the dockside fees in FY2024?"),
    # a measure named as a pair is replaced whole, a unit is not a measure
    ("How many tonnes of paper and card did Millbrook collect in Q2 2023?", "And glass?",
     "How many tonnes of glass did Millbrook collect in Q2 2023?"),
    ("How many tonnes of glass did Millbrook collect in Q1 2023?", "What about garden waste?",
     "How many tonnes of garden waste did Millbrook collect in Q1 2023?"),
])
def test_a_table_follow_up_changes_the_period_or_measure_in_place(previous, follow_up,
                                                                   expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("How many reports did the CyberTipline get in 2023?",
     "And how many reports came in the year before?",
     "How many reports came in 2022 (the CyberTipline)?"),
    ("Why is there no plastics number for Q3 in the Millbrook recycling spreadsheet?",
     "What was the figure the quarter before?",
     "What was the figure in Q2 (the Millbrook recycling spreadsheet)?"),
    ("What was the plastics figure in Q2 in the Millbrook recycling spreadsheet?",
     "And glass in that same quarter?",
     "What was the glass figure in Q2 in the Millbrook recycling spreadsheet?"),
    ("How many events did the library run in 2022?", "And the following year?",
     "How many events did the library run in 2023?"),
])
def test_the_period_before_or_after_is_next_to_the_previous_turns(previous, follow_up,
                                                                   expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    # a topic named first is what "that" means, and nothing before is carried over
    ("When did the children's room at the Millbrook library reopen?",
     "Switching to the town pool — when did that open again?",
     "When did the town pool open again?"),
    # a plural possessive is one phrase with its noun
    ("Of the 84,310 items the Millbrook library lent in 2023, how many were e-books?",
     "And kids' books?",
     "Of the 84,310 items the Millbrook library lent in 2023, how many were kids' books?"),
    # a verb the tagger read as a noun is no thing; the user's "my" is "the"
    ("How often should I clean and oil my bike chain?",
     "At what point does it need replacing on an 11-speed setup?",
     "At what point does the bike chain need replacing on an 11-speed setup?"),
    # a count of those who came, and nothing of where: the topic the conversation is on
    ("How many visits were for swimming lessons at the Millbrook leisure pool in 2023?",
     "How many spectators came along to watch?",
     "How many spectators came along to watch (the Millbrook leisure pool) in 2023?"),
    ("How many visits were for swimming lessons at the Millbrook leisure pool in 2023?",
     "How many people live in Paris?", "How many people live in Paris?"),
    # what jumps is the amount asked about, not who collected it nor the quarter answered
    (answered("In which quarter did Millbrook pick up the least garden waste in 2023?",
              "Garden waste (tonnes) is lowest in Q1: 1,120."),
     "Why does it jump so much in the middle of the year?",
     "Why does the garden waste jump so much in the middle of the year (Millbrook)?"),
    ("In which quarter did Millbrook pick up the least garden waste in 2023?",
     "Why does it jump so much in the middle of the year?",
     "Why does the garden waste jump so much in the middle of the year (Millbrook)?"),
    # "one" is the noun it replaces; the source a question named is not what "it" means
    ("In the CyberTipline glossary, how is a duplicate report defined?",
     "And an international one?",
     "In the CyberTipline glossary, how is an international report defined?"),
    ("What is the Stanford Internet Observatory, according to the CyberTipline glossary?",
     "When was it founded?", "When was the Stanford Internet Observatory founded (CyberTipline)?"),
    # "made it to" refers to nothing
    ("How many children signed up for the Millbrook summer reading challenge in 2023?",
     "How many of them made it to the end?",
     "How many of the children made it to the end (the Millbrook summer reading challenge) "
     "in 2023?"),
])
def test_a_follow_up_keeps_what_its_own_words_say(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    # "how many" names nothing a new measure replaces; a name is not a measure either
    ("How many visitors did the Corrigan Museum of Maritime History welcome in 2024?",
     "What about school groups?",
     "How many school groups did the Corrigan Museum of Maritime History welcome in 2024?"),
    ("How many households did Northgate Community Food Bank serve in 2023?",
     "What about volunteers?",
     "How many volunteers did Northgate Community Food Bank serve in 2023?"),
    # as close to the loaf as to salt (a coin toss of the encoder): the asked measure goes
    ("How much salt does the basic sourdough loaf use?", "What about starter?",
     "How much starter does the basic sourdough loaf use?"),
])
def test_a_changed_measure_replaces_a_common_noun(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_the_counted_set_takes_an_irregular_past_tense():
    previous = answered("How many tickets did the Holm ferry sell in 2024?",
                        "The Holm ferry's ticket office reports 52,000 tickets for 2024.")
    assert condense("How many of them were returns?", previous) == \
        "Of the 52,000 tickets the Holm ferry sold in 2024, how many were returns?"


def test_that_after_a_count_is_what_was_counted():
    """A table cell answered the count; "that" is those visits, and the next detail replaces
    the session type, not the pool's name."""
    previous = answered("How many visits did public swimming have at the Millbrook Leisure "
                        "Pool in 2023?", "Public swimming, Visits: 21,540 (Table 1: Pool visits "
                                         "by session type, 2023).")
    share = condense("What share of visits was that?", previous)
    assert share == ("What share of visits was the visits public swimming had at the Millbrook "
                     "Leisure Pool in 2023?")
    assert condense("And for club training?", share) == (
        "What share of visits was the visits club training had at the Millbrook Leisure Pool in "
        "2023?")


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("How often should the garden hoses be drained?", "Where should they be stored in winter?",
     "Where should the garden hoses be stored in winter?"),
    ("How often should the lawn mower blade be sharpened?", "And how should its edge be checked?",
     "How should the lawn mower blade's edge be checked?"),
    ("How long should the pizza dough rest?", "Can it be frozen?",
     "Can the pizza dough be frozen?"),
])
def test_it_and_them_mean_the_previous_things_when_no_name_is_there(previous, follow_up,
                                                                     expected):
    assert condense(follow_up, previous) == expected


def test_those_with_the_counted_noun_is_the_counted_set():
    previous = answered("How many passengers did the Port Aske to Holm ferry carry in 2024?",
                        "The Port Aske to Holm ferry carried 1.28 million passengers in 2024.")
    assert condense("Why did those passengers travel?", previous) == (
        "Why did the 1.28 million passengers the Port Aske to Holm ferry carried in 2024 travel?")


def test_the_answers_year_is_not_added_where_no_period_was_asked():
    previous = answered("When did Kestrel Ridge Wind Farm enter commercial operation?",
                        "Kestrel Ridge Wind Farm entered commercial operation in September 2019.")
    assert condense("How many turbines does it have?", previous) == \
        "How many turbines does Kestrel Ridge Wind Farm have?"


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("How long should the dough ferment at room temperature?", "At what temperature?",
     "At what temperature should the dough ferment at room temperature?"),
    ("What temperature should the oven be preheated to?", "For how long?",
     "For how long should the oven be preheated to?"),
])
def test_a_question_fragment_asks_the_previous_question_again(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


class ScriptedLLM:
    """Replies with a fixed rewrite and keeps the prompt it was given (a stand-in for the
    llama-cpp / OpenAI-compatible model around which this code runs)."""

    def __init__(self, reply: str):
        self.reply, self.prompts = reply, []

    def chat(self, messages):
        from types import SimpleNamespace

        self.prompts.append(messages[-1].content)
        return SimpleNamespace(message=SimpleNamespace(content=self.reply))


def test_the_llm_rewrite_reads_the_previous_answer_and_must_keep_the_follow_up():
    previous = answered("How many items did the Millbrook Public Library lend in 2023?",
                        "In 2023 the Millbrook Public Library lent 84,310 items.")
    history = [previous.question]
    llm = ScriptedLLM("How many of the 84,310 loans of the Millbrook Public Library in 2023 "
                      "were e-books?")
    assert condense_with_llm("How many of them were e-books?", history, llm, previous) == \
        llm.reply
    assert "Assistant: In 2023 the Millbrook Public Library lent 84,310 items." in llm.prompts[0]
    answering = ScriptedLLM("11,205.")  # a small model answers instead of rewriting
    assert condense_with_llm("How many of them were e-books?", history, answering,
                             previous) is None


def test_the_first_question_is_its_own_standalone():
    assert condense("Who runs it?", None) == "Who runs it?"


@pytest.fixture(scope="module")
def bot(demo_index):
    return Assistant(demo_index)


def test_chat_answers_a_pronoun_follow_up_in_context(bot):
    first = bot.chat("How many reports did NCMEC's CyberTipline receive in 2023?")
    assert first.question == first.asked and "36.2 million" in str(first)
    second = bot.chat("And how many of them were escalated as urgent?", [first])
    assert second.asked == "And how many of them were escalated as urgent?"
    assert "CyberTipline" in second.question and "2023" in second.question
    assert f"Answering: {second.question}" in str(second)
    stated = [c for c in second.claims if "63,892" in c.text]
    assert second.status == "answered" and stated and stated[0].citations
    assert second.undocumented == []
    # the set the answer counted: its figure, and the measure asked before
    assert "36.2 million" in second.question and "received" in second.question
    # a bare earlier question (an API client's history) stands in for the Answer: the
    # subject and year carried over, without the count only an answer could give
    again = bot.chat("And how many of them were escalated as urgent?",
                     ["How many reports did NCMEC's CyberTipline receive in 2023?"])
    assert "CyberTipline" in again.question and "2023" in again.question
    assert "36.2 million" not in again.question
    assert "63,892" in again.summary and again.status == "answered"


def test_an_ordinal_quarter_is_the_tables_quarter_column(bot):
    """"the second quarter" names the spreadsheet's column "Q2", asked outright or as a
    follow-up's new period."""
    asked = bot.ask("How much plastic did Millbrook collect for recycling in the second quarter "
                    "of 2023?")
    assert asked.status == "answered" and "101" in asked.summary, asked.summary
    first = bot.chat("How many tonnes of garden waste did Millbrook collect in Q2 2023?")
    assert "2,310" in first.summary
    second = bot.chat("And in the first quarter?", [first])
    assert second.status == "answered" and "1,120" in second.summary, second.summary


def test_a_count_of_them_keeps_the_measure_asked_before(bot):
    """The demo case: "them" are the items the library lent, so the answer is the 11,205 loans
    of e-books and e-audiobooks, not the 3,150 new items added to the collection."""
    first = bot.chat("How many items did the Millbrook Public Library lend in 2023?")
    second = bot.chat("How many of them were e-books?", [first])
    assert "lent" in second.question and "84,310" in second.question
    stated = [c for c in second.claims if "11,205" in c.text and not c.gap]
    assert stated and stated[0].citations
    assert not any("3,150" in c.text for c in second.claims)


def test_chat_keeps_the_counted_set_across_turns(bot):
    """The pipeline hands the rewrite the answers before the last one: "them" after a "why"
    turn are still the reports escalated, not all reports."""
    first = bot.chat("How many CyberTipline reports did NCMEC escalate to law enforcement as "
                     "urgent in 2023?")
    second = bot.chat("Why were those escalated?", [first])
    third = bot.chat("How many of them led to a conviction?", [first, second])
    assert "63,892" in second.question and "imminent danger" in second.summary
    assert third.question.startswith("Of the 63,892 CyberTipline reports")
    assert "escalated" in third.question and third.status != "answered"


def test_follow_up_suggestions_never_repeat_the_conversation(bot):
    first = bot.chat("How many reports did the CyberTipline receive in 2023?")
    second = bot.chat("How many of them were escalated as urgent?", [first])
    asked = {first.question.lower(), second.question.lower()}
    for answer in (first, second):
        assert answer.follow_ups
        assert not asked & {f.lower() for f in answer.follow_ups}
    assert "How many reports did the CyberTipline receive in 2023?" not in second.follow_ups


def test_chat_command_reads_one_question_a_line(cli, demo_index):
    script = ("How many reports did NCMEC's CyberTipline receive in 2023?\n"
              "And how many of them were escalated as urgent?\n"
              "\n/new\nHow many of them were escalated as urgent?\n")
    result = cli("chat", "--index", demo_index.index_dir, "--json", input=script)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["asked"] for line in lines] == [
        "How many reports did NCMEC's CyberTipline receive in 2023?",
        "And how many of them were escalated as urgent?",
        "How many of them were escalated as urgent?"]
    assert "CyberTipline" in lines[1]["question"]
    assert lines[2]["question"] == lines[2]["asked"]  # /new: nothing to refer back to


@pytest.mark.parametrize("previous, follow_up, expected", [
    # the phrase led by the same preposition is replaced, not the noun closest in words
    ("What tyre pressure does the bicycle maintenance note recommend for mountain bikes?",
     "And for hybrid bicycles?",
     "What tyre pressure does the bicycle maintenance note recommend for hybrid bicycles?"),
    # what an earlier rewrite added in brackets is not part of the phrase
    ("At what stretch should the chain be replaced on an 11-speed drivetrain (the chain wear)?",
     "And on a drivetrain with fewer gears?",
     "At what stretch should the chain be replaced on a drivetrain with fewer gears (the chain "
     "wear)?"),
])
def test_a_prepositional_follow_up_replaces_the_phrase_of_that_preposition(previous, follow_up,
                                                                            expected):
    assert condense(follow_up, previous) == expected


def test_that_figure_is_the_stated_figure_of_its_period_or_the_measure_asked():
    stated = answered("How many reports did the CyberTipline receive in 2023?",
                      "The CyberTipline received 36.2 million reports in 2023.")
    assert condense("What drove that figure?", stated) == \
        "What drove the 36.2 million reports in 2023 (the CyberTipline)?"
    # no figure stated: the number asked for, with the set and period it is of
    missing = answered("How many tonnes of plastics did Millbrook collect for recycling in Q3 "
                       "2023?")
    assert condense("Why is that figure missing?", missing) == (
        "Why is the number of tonnes of plastics Millbrook collected for recycling in Q3 2023 "
        "missing?")
    # a sum stated and no count: that sum
    raised = answered("How much money did the Millbrook library book sale raise in 2023?",
                      "The book sale raised $3,980 in 2023.")
    assert "the $3,980 in 2023" in condense("What was that figure spent on?", raised)


def test_they_is_the_plural_subject_when_it_is_not_what_was_counted():
    assert condense("How much do they cost?", "With how many firm stops should the disc brake "
                    "pads be bedded in?") == "How much do the disc brake pads cost?"
    # the subject is the counted noun: "they" are the set counted
    assert condense("Why were they escalated?", answered(
        "How many CyberTipline reports were escalated as urgent in 2023?",
        "In 2023 NCMEC staff escalated 63,892 CyberTipline reports as urgent.")) == (
        "Why were the 63,892 CyberTipline reports escalated as urgent in 2023 escalated?")


def test_a_figure_of_that_asks_the_previous_question_again_when_nothing_was_counted():
    share = answered("What share of visits did swimming lessons have at the Millbrook Leisure "
                     "Pool in 2023?", "Swimming lessons, Share of visits (%): 26.6.")
    assert condense("How many visits was that?", share) == \
        "How many visits did swimming lessons have at the Millbrook Leisure Pool in 2023?"


@pytest.mark.parametrize("previous, follow_up, expected", [
    # an amount of "it": the thing the question was about, not the name that acted on it
    ("When did the Millbrook Public Library complete the repair of its roof?",
     "How much did it cost?",
     "How much did the repair of its roof cost (the Millbrook Public Library)?"),
    ("At what temperature should the dough be left during bulk fermentation?",
     "How long does it take?", "How long does the bulk fermentation take (the dough)?"),
    # a count of what "it" did: the name that did it
    ("When did the Millbrook Public Library reopen its children's room?",
     "How many items did it lend?", "How many items did the Millbrook Public Library lend?"),
])
def test_it_with_an_amount_asked_is_the_object_of_the_previous_question(previous, follow_up,
                                                                        expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    # "it" acted on is the thing the previous question's verb acted on, not the one acting
    ("What tyre pressure does the bicycle maintenance note recommend for road bicycles?",
     "How often should it be checked?", "How often should the tyre pressure be checked?"),
    ("How much starter does the basic sourdough loaf use?",
     "How long before mixing should it be fed?",
     "How long before mixing should the starter be fed?"),
    # the thing's owner stays named beside it
    ("When did the Millbrook library reopen its children's room?", "Why had it been closed?",
     "Why had the children's room been closed (the Millbrook library)?"),
])
def test_it_acted_on_is_what_the_previous_question_acted_on(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_the_period_of_an_earlier_turn_is_the_same_period():
    first = answered("How many reports did the CyberTipline receive in 2023?",
                     "The CyberTipline received 36.2 million reports in 2023.")
    runs = answered("Who runs the CyberTipline?", "The CyberTipline is run by the National "
                    "Center for Missing & Exploited Children (NCMEC).")
    asked = "How many reports did its staff escalate as urgent in the same period?"
    assert "in 2023" in condense(asked, runs, [first])
    assert "2023" not in condense(asked, runs)  # no earlier turn, no period


def test_an_acronym_the_tagger_reads_as_a_noun_is_still_a_name():
    assert condense("Why did it escalate them?", "How many CyberTipline reports did NCMEC "
                    "escalate in 2023?").startswith("Why did NCMEC escalate")


def test_a_when_question_gets_no_year_added():
    previous = answered("How many visitors did the Millbrook Public Library have in 2023?")
    assert "2023" not in condense("When will its new counter be installed?", previous)
    assert "2023" in condense("How many new cards did it issue?", previous)


def test_what_an_amount_was_asked_of_stays_its_owner():
    asked = "How much did the repair of its roof cost (the Millbrook Public Library)?"
    assert condense("Where is its cost reported?", asked) == \
        "Where is the repair of its roof's cost reported (the Millbrook Public Library)?"
    # after a question asking no amount, "its" is still the name the question was about
    assert condense("Where is its cost reported?", "When did the Millbrook Public Library "
                    "complete the repair of its roof?").startswith(
        "Where is the Millbrook Public Library's cost reported")


@pytest.mark.parametrize("previous, follow_up, expected", [
    # "it" as an object: what the name owns, which is what was asked about
    ("What was the Millbrook Public Library's operating budget for 2023?",
     "Who mainly funded it?", "Who mainly funded the Millbrook Public Library's operating budget?"),
    ("What was Crumb & Hearth's revenue in 2024?", "Who audited it?",
     "Who audited Crumb & Hearth's revenue?"),
    # "it" as a subject: the name, which acts
    ("What was Crumb & Hearth's revenue in 2024?", "How many new shops did it open?",
     "How many new shops did Crumb & Hearth open in 2024?"),
])
def test_it_as_an_object_is_what_the_name_owned(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_its_after_it_meant_what_the_name_owned_is_that_thing_again():
    """"Who funded it?" was about the budget, so "its largest part" is the budget's."""
    previous = answered("Who mainly funded the Millbrook Public Library's operating budget?",
                        "The budget was funded mainly by the town of Millbrook.")
    previous.asked = "Who mainly funded it?"
    assert condense("What was its largest part?", previous) == \
        "What was the Millbrook Public Library's operating budget's largest part?"
    previous.asked = ""  # asked in full: "its" is the library's
    assert condense("What was its largest part?", previous).startswith(
        "What was the Millbrook Public Library's largest part")


def test_a_verb_the_tagger_reads_as_a_noun_still_names_the_counted_set():
    """"did staff escalate": the small tagger calls "escalate" a noun; after "did" and its
    subject it is the verb, so the set counted keeps the measure (the answer says "sent")."""
    previous = answered("How many reports did staff escalate as urgent in 2023?",
                        "In 2023 NCMEC staff sent 63,892 urgent reports to law enforcement.")
    assert condense("How many of them led to arrests?", previous) == (
        "Of the 63,892 reports staff escalated as urgent in 2023, how many led to arrests?")


def test_its_people_are_the_named_organisations():
    """"its crews" after a turn about the budget: a budget has no crews, the utility does; the
    name it is said with is not repeated in brackets."""
    before = answered("How much of the capital budget was actually spent by year end (the Holm "
                      "Valley Water board) in 2024?")
    text = condense("How many kilometres of mains did its crews replace?", before)
    assert "the Holm Valley Water's crews" in text and "budget" not in text
    assert "(" not in text
    assert "the capital budget's share" in condense("What was its share?", before)


def test_a_part_counted_is_the_set_them_means_next():
    """"Of the 36.2 million reports ..., how many were escalated?" answered with 63,892: "them"
    next is the 63,892, not the 36.2 million; a count naming nothing still counts beside it, and
    an answer that only restates the whole makes no new set."""
    received = answered("How many reports did the CyberTipline receive in 2023?",
                        "The CyberTipline received 36.2 million reports in 2023.")
    part = condense("How many of those were escalated as urgent?", received)
    escalated = answered(part, "In 2023 NCMEC staff escalated 63,892 CyberTipline reports to "
                               "law enforcement as urgent.")
    assert condense("How many of them led to arrests?", escalated, [received]) == (
        "Of the 63,892 reports that were escalated as urgent, how many led to arrests?")
    assert condense("And how many were duplicates?", escalated, [received]) == (
        "Of the 36.2 million reports the CyberTipline received in 2023, how many were "
        "duplicates?")
    restated = answered(part, "The CyberTipline received 36.2 million reports in 2023.")
    assert condense("How many of them led to arrests?", restated, [received]) == (
        "Of the 36.2 million reports the CyberTipline received in 2023, how many led to "
        "arrests?")


@pytest.mark.parametrize("previous, follow_up, expected", [
    # "they": the plural providers, never the singular law asked about
    ("Which law requires electronic service providers to report apparent CSAM?",
     "To which system must they report it?",
     "To which system must the electronic service providers report CSAM?"),
    # the compound the tagger misreads as a verb ("should rim") stays on the noun
    ("When should rim brake pads be replaced?", "How much do new ones cost?",
     "How much do new rim brake pads cost?"),
    # "the sale": the fuller phrase the previous question had
    ("What was the money spent on (the Millbrook library's book sale)?",
     "How often is the sale held?", "How often is the Millbrook library's book sale held?"),
    # "it" as an object after an amount asked of the repair: the repair
    ("How much did the repair of its roof cost (the Millbrook library)?", "What paid for it?",
     "What paid for the repair of its roof (the Millbrook library)?"),
    # a changed circumstance replaces the one the verb had
    ("How long should the sourdough loaf bake with the lid on?", "And after the lid comes off?",
     "How long should the sourdough loaf bake after the lid comes off?"),
    # a coordinated measure is one measure, as a table row names it
    ("How many tonnes of glass did Millbrook collect in Q4 2023?",
     "What about paper and card in the same quarter?",
     "How many tonnes of paper and card did Millbrook collect in Q4 2023?"),
])
def test_follow_ups_resolve_plural_things_fuller_phrases_and_circumstances(previous, follow_up,
                                                                           expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    # a lone word the tagger reads as an adjective is still the changed measure
    ("How much salt does the basic sourdough loaf use?", "And starter?",
     "How much starter does the basic sourdough loaf use?"),
    # "it" in the role the previous question's noun had under the same verb: not the law the
    # answer named
    (answered("Which law requires electronic service providers to report apparent CSAM?",
              "18 U.S.C. 2258A: The U.S. federal law that requires electronic service providers "
              "to report apparent CSAM they become aware of to NCMEC's CyberTipline."),
     "To which system must they report it?",
     "To which system must the electronic service providers report CSAM?"),
    # what the answer gave is the asked verb's object, not a noun of a sentence before it
    (answered("What do platform submissions to the CyberTipline often lack?",
              "A large majority of reports involve content outside the country. Platform "
              "submissions often lack the identifying information."),
     "Who needs it?", "Who needs the information (the CyberTipline)?"),
])
def test_follow_ups_resolve_a_lone_word_a_repeated_role_and_the_asked_object(previous,
                                                                             follow_up,
                                                                             expected):
    assert condense(follow_up, previous) == expected


@pytest.mark.parametrize("previous, follow_up, expected", [
    # a question that says it starts a new topic carries nothing over, nor its label
    ("What tyre pressure should I run on a hybrid bike?", "Unrelated: how many tonnes of glass "
     "did Millbrook collect in Q3 2023?", "How many tonnes of glass did Millbrook collect in Q3 "
     "2023?"),
    # another kind of what was counted keeps the measure counted
    ("How many public swimming visits did the Millbrook Leisure Pool record in 2023?",
     "And swimming lessons?", "How many visits for swimming lessons did the Millbrook Leisure "
     "Pool record in 2023?"),
    # "and the least?" turns the ranking the previous question asked
    ("In which quarter of 2023 did Millbrook collect the most garden waste?", "And the least?",
     "In which quarter of 2023 did Millbrook collect the least garden waste?"),
    # "the 36.2 million one": the figure the previous question named, replaced
    ("What is the 63,892 CyberTipline figure for 2023 actually a count of?",
     "And the 36.2 million one?",
     "What is the 36.2 million CyberTipline figure for 2023 actually a count of?"),
    # "there" after "where is X": at X
    ("Where is the Millbrook Public Library's branch?", "What change is planned there for 2024?",
     "What change is planned at the Millbrook Public Library's branch for 2024?"),
    # "them" after the question's own plural subject is that subject
    ("What hydration does the sourdough guide recommend?", "What should beginners do if the "
     "dough is too sticky for them?", "What should beginners do if the dough is too sticky for "
     "them (the sourdough guide)?"),
    # "they" after "In 2023, how many reports ...": the reports, not "the many reports"
    ("In 2023, how many CyberTipline reports did NCMEC pass to police as urgent cases?",
     "What was the reason they were escalated?",
     "What was the reason the CyberTipline reports were escalated (NCMEC)?"),
    # "no figure for it": for what the previous question asked the amount of
    ("How much plastic did Millbrook collect for recycling in Q3 2023?", "Why is there no "
     "figure for it?", "Why is there no figure for the plastic (Q3)?"),
])
def test_follow_ups_start_anew_keep_the_measure_and_turn_the_ranking(previous,
                                                                     follow_up, expected):
    assert condense(follow_up, previous) == expected


def test_a_bare_that_is_never_the_subject_the_previous_question_asked_about():
    """With no answer that stated a thing, "that" stays "that" (the decision then answers
    nothing about it), not the library the previous question asked about."""
    asked = condense("How much did that cost?", "What other building work did the Millbrook "
                     "library finish in 2023?")
    assert "did that cost" in asked, asked
