"""Acceptance on the demo corpus through the public face: ask(), Assistant, the CLI."""

import json

import pytest
from conftest import HEADLINE

from assistant import NOT_DOCUMENTED, Assistant, ask
from assistant.figures import read as figures


@pytest.fixture(scope="module")
def assistant(demo_index):
    return Assistant(demo_index)


def test_headline_question(assistant):
    answer = assistant.ask(HEADLINE)
    assert answer.status in ("partial", "not_documented")
    assert any("arrests" in u for u in answer.undocumented)
    assert any("prosecutions" in u for u in answer.undocumented)
    stating = [c for c in answer.claims if "63,892" in c.text and not c.gap]
    assert stating and stating[0].citations
    quote = answer.citations[stating[0].citations[0] - 1]
    assert "63,892" in quote.quote and quote.quote in " ".join(quote.text.split()).replace(
        "**", "") or "63,892" in quote.text[quote.quote_start:quote.quote_end]
    passages = " ".join(p.text for p in answer.retrieved)
    for f in figures(" ".join([answer.summary, *(c.text for c in answer.claims)])):
        assert any(f.same_as(g) for g in figures(passages + " " + HEADLINE)), f


def test_answerable_question(assistant):
    answer = assistant.ask("How many CyberTipline reports were made in 2023?")
    assert answer.status == "answered" and answer.undocumented == []
    lead = [c for c in answer.claims if c.answers][0]
    assert "36.2 million" in lead.text and lead.citations
    assert "36.2 million" in answer.summary


def test_off_topic_question_is_not_documented(assistant):
    answer = assistant.ask("What is the boiling point of mercury?")
    assert answer.status == "not_documented" and answer.citations == []
    assert NOT_DOCUMENTED in answer.summary.lower()


def test_rendered_shape_and_follow_ups(assistant):
    answer = assistant.ask(HEADLINE)
    text = str(answer)
    for heading in ("Executive summary", "1. ", "Bottom line and reporting limitation", "Sources",
                    "Want to dive deeper?"):
        assert heading in text
    assert 2 <= len(answer.follow_ups) <= 3
    for q in answer.follow_ups:
        follow = assistant.ask(q)
        assert follow.status != "not_documented", q


def test_to_dict_is_what_json_prints(assistant, demo_index, cli):
    data = assistant.ask(HEADLINE).to_dict()
    for key in ("question", "status", "summary", "claims", "undocumented", "citations",
                "follow_ups", "timings", "text"):
        assert key in data
    for key in ("n", "passage_id", "source", "title", "page", "quote", "text"):
        assert key in data["citations"][0]
    result = cli("ask", HEADLINE, "--index", demo_index.index_dir, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["status"] == data["status"] and printed["undocumented"] == data["undocumented"]


def test_ask_function_and_empty_question(demo_index):
    answer = ask("How many CyberTipline reports were made in 2023?",
                 index_dir=demo_index.index_dir)
    assert answer.status == "answered"
    with pytest.raises(ValueError, match="empty"):
        ask("   ", index_dir=demo_index.index_dir)


def test_chunks_are_analysed_when_first_retrieved_and_the_analysis_kept(tmp_path, monkeypatch):
    """Ingest stores no analysis; the first question that retrieves a chunk parses it once and
    stores the analysis beside it, so a new process asking again parses no passage."""
    from assistant import analysis
    from assistant.config import Settings
    from assistant.ingest import ingest
    from assistant.store import Store

    root = tmp_path / "docs"
    root.mkdir()
    (root / "kites.md").write_text("# Kite Festival\n\nThe 2024 kite festival drew 4,210 "
                                   "visitors. Wind stayed below 30 km/h all weekend.\n")
    (root / "boats.md").write_text("# Boat Show\n\nThe boat show sold 812 tickets in 2024.\n")
    settings = Settings.load(index_dir=tmp_path / "index")
    ingest([root], settings, progress=False)
    assert not any("analysis" in m for m in Store(settings).collection.get()["metadatas"])

    question = "How many visitors did the 2024 kite festival draw?"
    answer = Assistant(settings).ask(question)
    assert answer.status == "answered" and "4,210" in answer.summary
    got = Store(settings).collection.get()
    kept = {pid for pid, m in zip(got["ids"], got["metadatas"]) if "analysis" in m}
    assert {p.id for p in answer.retrieved} <= kept
    for p in answer.retrieved:
        assert p.analysis == analysis.analyse([p.text], [p.title])[0]

    parsed = []
    real = analysis.analyse
    monkeypatch.setattr(analysis, "analyse",
                        lambda texts, titles=None: parsed.extend(texts) or real(texts, titles))
    again = Assistant(settings).ask(question)
    assert again.summary == answer.summary
    assert not {p.text for p in again.retrieved} & set(parsed)
