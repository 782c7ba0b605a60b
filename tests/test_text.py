"""The lexical primitives and the analysis: sentences split where a reader would, lemmas join
inflected forms (figures: test_figures.py)."""

import pytest

from assistant.analysis import as_sentence, nlp, parsed, terms
from assistant.text import clean


def sentences(text):
    from assistant.analysis import sentences

    return [s.text for s in sentences(text)]


def is_negated(text):
    return as_sentence(text).negated


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
    # uncleaned too: the lead-in is not a sentence of its own ("*", "*18 U.S.C. 2258A.*", ...)
    assert sentences("**18 U.S.C. 2258A.** The law that requires it. It is old.") == [
        "**18 U.S.C. 2258A.** The law that requires it.", "It is old."]


def test_negation():
    assert is_negated("The data do not state how many led to arrests.")
    assert is_negated("No public dataset links escalations to arrests.")
    assert not is_negated("NCMEC escalated 63,892 reports.")


def test_lemmas_join_irregular_and_derived_forms():
    assert "sell" in terms("She sold 1.2 million copies") and "sell" in terms("How many sold?")
    assert "draw" in terms("The festival drew 12,345 visitors")
    assert set(terms("escalations")) == set(terms("escalated"))
    # a noun and its verb no stemmer joins, in a header too ("Loans" is a proper noun there)
    assert "lend" in terms("the library's loans")
    assert "lend" in terms("The library lent 84,310 items")
    assert set(terms("Central, Loans: 84,210")) >= set(terms("lend"))
    assert set(terms("book sales")) >= set(terms("sold"))
    # a word a user says for the one documents use
    assert set(terms("kids' books")) == set(terms("children's books"))


def test_terms_read_in_a_batch_are_the_terms_read_alone():
    from assistant import analysis

    texts = ["How many e-books did the Millbrook Public Library lend in 2023?", "escalated",
             "Which river flows through the capital?", "sold", "prosecutions", "drew", "its"]
    alone = [tuple(analysis._terms(analysis.tagged(t))) for t in texts]
    for t in texts:
        analysis._TERMS.pop(t, None)
    analysis.read_terms(texts)
    assert [analysis._TERMS[t] for t in texts] == alone
    assert [terms(t) for t in texts] == alone


def test_sentence_spans_cut_where_sentences_cut():
    from assistant.analysis import sentence_spans, sentences

    text = ("## Totals\nIn 2023 the CyberTipline received 36.2 million reports (Dr. Lee's "
            "count). Of these, 63,892 were escalated as urgent.\n\n- Outcomes: not reported\n"
            "The U.S. figures follow. See p. 4 for more.")
    assert sentence_spans(text) == [(s.start, s.end) for s in sentences(text)]
    assert len(sentence_spans(text)) >= 4


def test_the_attribute_rules_looked_up_by_tag_match_as_spacy_s_matcher():
    """analysis._match_by_tag replaces the Matcher's search for the rules a tag and a word
    decide, and keeps a Matcher for the rest (no tag, two tokens, a pattern)."""
    from spacy.pipeline.attributeruler import AttributeRuler

    from assistant.analysis import nlp

    ruler = nlp().get_pipe("attribute_ruler")
    assert "match" in vars(ruler)  # the lookup is in place
    text = ("I ain't gonna say that it's theirs, but nothing here was done by them; she'd "
            "rather not. Somethin' ol' is goin' on: the 2023 report, which we read, was late.")
    doc = nlp()(text, disable=["attribute_ruler", "lemmatizer", "ner"])
    assert ruler.match(doc) == AttributeRuler.match(ruler, doc)
    assert len({rule for rule, *_ in ruler.match(doc)}) > 15


@pytest.mark.parametrize("question, verb, subject, wh, role, head", [
    ("When did King Harold II conquer Wessex?", "conquer", "II", "When", "advmod", "conquer"),
    ("Who did King Charles III swear fealty to?", "swear", "III", "Who", "pobj", "to"),
    ("How many reports did NCMEC escalate as urgent in 2023?", "escalate", "NCMEC", "reports",
     "dobj", "escalate"),
    ("Who did the Normans fight in Italy?", "fight", "Normans", "Who", "dobj", "fight"),
    # the word the parser took for the subject is no verb, nor a noun that may be one
    ("When did the children's room at the Millbrook library reopen?", "reopen", "room", "When",
     "advmod", "reopen"),
    ("When did the Millbrook leisure pool open again?", "open", "pool", "When", "advmod",
     "open"),
])
def test_a_do_support_question_is_parsed_in_its_declarative_order(question, verb, subject, wh,
                                                                  role, head):
    """spaCy reads the verb after "did" and a name as a noun ("conquer"): the question takes
    the parse of "King Harold II did conquer Wessex", and its wh-phrase the role it asks."""
    doc = parsed(question)
    words = {t.text: t for t in doc}
    assert (words[verb].pos_, words[verb].dep_) == ("VERB", "ROOT")
    assert (words[subject].dep_, words[subject].head.text) == ("nsubj", verb)
    assert (words[wh].dep_, words[wh].head.text) == (role, head)


def test_a_question_parsed_right_and_a_statement_keep_their_parse():
    for text in ("What did the Normans do in Italy?", "The Normans did fight in Italy."):
        doc = parsed(text)
        plain = nlp()(text, disable=["do_support"])
        assert [(t.pos_, t.dep_, t.head.i) for t in doc] == [
            (t.pos_, t.dep_, t.head.i) for t in plain]
