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
    # "that number": the count the answer stated
    (answered("How many households did Northgate Community Food Bank serve in 2023?",
              "Northgate Community Food Bank served 8,450 households in 2023."),
     "What explains that number?",
     "What explains the 8,450 households (Northgate Community Food Bank)?"),
])
def test_follow_ups_resolve_against_the_previous_answer(previous, follow_up, expected):
    assert condense(follow_up, previous) == expected


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


def test_a_count_of_them_keeps_the_measure_asked_before(bot):
    """The demo case: "them" are the items the library lent, so the answer is the 11,205 loans
    of e-books and e-audiobooks, not the 3,150 new items added to the collection."""
    first = bot.chat("How many items did the Millbrook Public Library lend in 2023?")
    second = bot.chat("How many of them were e-books?", [first])
    assert "lent" in second.question and "84,310" in second.question
    stated = [c for c in second.claims if "11,205" in c.text and not c.gap]
    assert stated and stated[0].citations
    assert not any("3,150" in c.text for c in second.claims)


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
