"""Conversations: a follow-up is rewritten to stand alone before retrieval; a new topic is not."""

import json

import pytest

from assistant.conversation import condense
from assistant.pipeline import Assistant


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
    # a bare earlier question (an API client's history) works like an earlier Answer
    again = bot.chat("And how many of them were escalated as urgent?",
                     ["How many reports did NCMEC's CyberTipline receive in 2023?"])
    assert again.question == second.question


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
