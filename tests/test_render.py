"""The text answer (CLI, API, OpenAI endpoint): a one-fact answer once, and evidence the checks
could not confirm shown as what may answer, with its quote, never as the answer."""

import json

from assistant.render import MAY_ANSWER, body, bottom_line, is_compact, render, sections
from assistant.types import Answer, Citation, Claim

ESCALATED = ("NCMEC staff escalated 63,892 CyberTipline reports to law enforcement as urgent in "
             "2023.")
RECEIVED = "In 2023 the CyberTipline received 36.2 million reports."
TEXT = f"{RECEIVED} {ESCALATED}"


def cite(n: int, quote: str) -> Citation:
    start = TEXT.index(quote)
    return Citation(n, "p", "cybertipline.md", "CyberTipline 2023", None, quote, start,
                    start + len(quote), TEXT, 0, len(TEXT))


def one_fact() -> Answer:
    claim = Claim(RECEIVED, [1], True, 1.0, answers=["How many reports were received in 2023"])
    return Answer("How many reports did the CyberTipline receive in 2023?", "answered",
                  f"{RECEIVED[:-1]} [1].", [claim], [], [cite(1, RECEIVED)])


def unconfirmed() -> Answer:
    """Asked about arrests and escalations: the escalations not confirmed, the arrests not
    documented. The claim's own words differ from its quote, as an LLM's would."""
    maybe = Claim("Escalations reached 63,892.", [1], True, 0.4,
                  answers=["how many reports were escalated"], unconfirmed=True)
    gap = Claim("how many led to arrests: not documented in the sources.", [], True, 0.0,
                gap=True)
    return Answer("How many reports were escalated, and how many led to arrests?", "unconfirmed",
                  "Not documented: the indexed sources do not answer this question.",
                  [maybe, gap], ["how many led to arrests"], [cite(1, ESCALATED)],
                  unconfirmed=["how many reports were escalated"])


def test_a_one_fact_answer_is_its_sentence_once():
    answer = one_fact()
    assert is_compact(answer)
    text = render(answer)
    assert body(answer) == [f"{RECEIVED[:-1]} [1]."]
    assert text.count("36.2 million") == 2  # the answer, and its source's quote
    assert "Executive summary" not in text and "Bottom line" not in text
    assert '[1] cybertipline.md - "CyberTipline 2023"' in text


def test_unconfirmed_evidence_is_shown_as_may_answer_with_its_quote():
    answer = unconfirmed()
    assert not is_compact(answer)
    assert [title for title, _ in sections(answer)] == [
        "What the sources may answer (not confirmed)", "What the sources do not document"]
    text = render(answer)
    shown = f"how many reports were escalated: {MAY_ANSWER}: {ESCALATED[:-1]} [1]."
    assert shown in " ".join(text.split()), text
    assert "Escalations reached 63,892" not in text  # the source's words, not the claim's
    assert "What the sources support" not in bottom_line(answer)
    assert "Not confirmed: the sources may answer how many reports were escalated" in (
        bottom_line(answer))
    assert "how many led to arrests" in bottom_line(answer)


def test_a_single_unconfirmed_part_needs_no_label():
    answer = unconfirmed()
    answer.claims, answer.undocumented = answer.claims[:1], []
    answer.question = "How many reports were escalated?"
    assert f"\n{MAY_ANSWER}: NCMEC staff escalated 63,892" in render(answer)


def test_unconfirmed_is_carried_by_the_json_and_read_back():
    data = json.loads(json.dumps(unconfirmed().to_dict()))
    assert data["status"] == "unconfirmed"
    assert data["unconfirmed"] == ["how many reports were escalated"]
    assert data["claims"][0]["unconfirmed"] is True and data["claims"][1]["unconfirmed"] is False
    assert MAY_ANSWER in data["text"]
    again = Answer.from_dict(data)  # a client's conversation history comes back like this
    assert again.unconfirmed == data["unconfirmed"] and again.claims[0].unconfirmed
    assert render(again) == data["text"]
