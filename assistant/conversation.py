"""A follow-up and the conversation before it -> the standalone question that gets answered.

"And how many of them came from Facebook?" means nothing alone: retrieval would look for
"them", and the verifier would call "And how many of them came from Facebook" not documented.
Before retrieval a follow-up is rewritten so that it stands alone: a pronoun is replaced by
what it refers to, and the subject, names and years of the previous question are carried into
a follow-up that lacks them ("And in 2021?" -> the previous question, for 2021). A question
with a subject of its own starts afresh: nothing is carried over.

A follow-up refers to what the previous *answer* stated, not only to what was asked: "how many
of them" means the set it counted, kept with the measure asked ("Of the 84,310 items the
library lent in 2023, how many were e-books?", never "the library's items"); "it" after "Who
runs X?" is the organisation the answer named (the one it is about, not one that only
locates it), after "What was the most borrowed title?" the thing the answer gave; "that year"
is the answer's year when the question had none (or an earlier turn's); "that number" is the
count it stated, of its period, else the number asked for, and "that" alone what was counted.
"it" asked an amount of ("How much did it cost?") is the thing the question was about, not the
name that acted on it; "they" a plural subject that was not counted. The set stays "them" while
later turns keep talking about it, "And in Q4?" changes the period of its own kind (year,
quarter, month, financial year), and "And for hybrid bicycles?" the phrase of that preposition.

Without an LLM the rewrite is deterministic (below); with one, `condense_with_llm` asks it
first and keeps its rewrite only if every content word of the follow-up survives in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import analysis, render
from assistant.question import NAME_LABELS, analyse, counted_phrase, source_spans
from assistant.types import Answer, Figure

_PLURAL = {"they", "them", "those", "these"}
_SINGULAR = {"it", "this"}
_DEMONSTRATIVE = {"those", "these", "that", "this"}
_POSSESSIVE = {"its": False, "their": True}  # -> plural?
# People an organisation has: "its crews" are an organisation's, whatever "it" last meant.
_MEMBERS = {"crew", "staff", "employee", "worker", "member", "volunteer", "researcher", "team",
            "officer", "director", "engineer", "scientist", "analyst", "reviewer", "manager"}
_LEAD = re.compile(r"^\s*(?:and|but|also|so|ok|okay|then)\b[\s,]*", re.I)
_WH_TAGS = ("WDT", "WP", "WP$", "WRB")
# "At what temperature?", "For how long?": only the asked thing changes.
_WH_FRAGMENT = re.compile(r"^\s*(?:(?:at|for|in|on|to|from|by|with|of)\s+)?"
                          r"(?:what|which|how|when|where|who|whom)\b(?!\s+about\b)", re.I)
# The period the previous turn was about; what "that number" means (as written, not "that one").
_SAME_PERIOD = re.compile(r"\b(?:in\s+|during\s+|for\s+)?(?:that|(?:that|the)\s+same)\s+"
                          r"(year|period|quarter)\b", re.I)
# "Unrelated: how many ...": a question that says it starts a new topic
_NEW_TOPIC = re.compile(r"^\s*(?:unrelated|(?:a\s+)?(?:different|new|separate|another|other)\s+"
                        r"(?:question|topic|subject)|(?:switching|changing)\s+(?:the\s+)?"
                        r"(?:topics?|subject)|on\s+another\s+note)\s*[:,.;—–-]+\s*", re.I)
# "the year before", "the previous quarter": the period next to the one the previous turn was about
_NEXT_PERIOD = re.compile(r"\b(?:in\s+|during\s+|for\s+)?(?:the\s+(?P<u1>year|quarter)\s+"
                          r"(?P<d1>before|after)|the\s+(?P<d2>previous|preceding|prior|following|"
                          r"next)\s+(?P<u2>year|quarter)|a\s+(?P<u3>year|quarter)\s+"
                          r"(?P<d3>earlier|before|later|after))\b", re.I)
# "Switching to the town pool - when did that open again?": a new topic, named first
_TOPIC_TO = re.compile(r"^\s*(?:switching|turning|moving\s+on|going\s+back|back|over)\s+to\s+"
                       r"(?P<x>[^—–:;,?]+?)\s*[:;,—–-]+\s*", re.I)
_THAT_NUMBER = re.compile(r"\b(?:that|this|the\s+same)\s+(?:number|figure|total|count)\b", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+|^\s*(?:and|same)\s+(?:for|in)\s+", re.I)


@dataclass
class Turn:
    """What the rewrite needs of the previous turn: its standalone question, and what its
    answer stated when the Answer is at hand."""

    text: str
    names: list[str]  # as written: "NCMEC", "the CyberTipline"
    years: list[str]
    period: str  # what "that year" means: the question's year, else the answer's
    counted: str  # the counted noun phrase as written: "CyberTipline reports"
    nouns: list[str]  # common noun phrases as written, a changed measure may replace one
    thing: str  # what "it" refers to: the last singular noun phrase, a name first
    counted_set: str = ""  # "the 84,310 items the library lent in 2023": "how many of them"
    counted_head: str = ""  # the lemma of the counted noun: "item"
    whole_set: str = ""  # the set counted_set is a part of: what "And how many were ...?" counts
    counted_clause: str = ""  # the set without the count: what "that" means after a count
    answer_name: str = ""  # a name the answer gave to a "who"/"which" question: what "it" means
    answer_thing: str = ""  # what the answer gave to a "what" question: "the chain checker tool"
    plural: str = ""  # "the disc brake pads": what "them" means when nothing was counted
    cited: frozenset[str] = frozenset()  # terms of what the answer cited: still on its topic
    figure: str = ""  # the count the answer stated, with its noun ("the 36.2 million reports"),
    # or its one sum ("the $3,980")
    subject: str = ""  # a plural subject that is not what was counted: "the brake pads"
    object: str = ""  # the common thing the question was about: "the repair of its roof"
    amount_of: bool = False  # it asked an amount of that thing: "how much did the repair cost"
    common: str = ""  # its first singular common noun phrase: what "a new one" repeats
    # (verb lemma, role) -> the noun phrase in that role: "report *apparent CSAM*", what "it"
    # means when the follow-up repeats the verb ("To which system must they report it?")
    roles: dict = field(default_factory=dict)
    patient: str = ""  # the one thing its verbs act on: what a later "it was checked" means
    patient_owned: bool = False  # "its children's room": of the thing, still named beside it
    possessed: str = ""  # "the Millbrook Public Library's operating budget": what a name owns
    # the possessed, when the turn's own "it" already meant it ("Who funded it?"): the topic
    # now, so the next "its" is the budget's too ("What was its largest part?")
    topic: str = ""


def condense(asked: str, previous: Answer | str | None,
             earlier: Sequence[Answer | str] = ()) -> str:
    """The standalone form of `asked`, given the previous turn: its Answer (what it stated and
    cited), or only its standalone question (a follow-up that shares no word with either and
    names nothing of the earlier subject is a new topic). `earlier` are the turns before that,
    oldest first: a set an earlier answer counted is still "them" while the conversation keeps
    talking about it ("Why were those escalated?", then "How many of them led to arrests?")."""
    asked = " ".join(asked.split())
    if not previous or not asked:
        return asked
    if new := _NEW_TOPIC.match(asked):
        return asked[new.end():][:1].upper() + asked[new.end() + 1:]
    if topic := _TOPIC_TO.match(asked):  # what "that" means now is the topic it names
        rest = analysis.nlp()(asked[topic.end():])
        that = next((t for t in rest if t.lower_ in ("that", "this", "it") and _pronoun(t)), None)
        if that is None:
            return condense(rest.text, f"What about {topic.group('x')}?")
        text = rest[:that.i].text_with_ws + topic.group("x") + that.whitespace_ + \
            rest[that.i + 1:].text
        return text[:1].upper() + text[1:]
    before = _turn(previous, earlier)
    core = _LEAD.sub("", asked)  # "And how many ..." -> "how many ..."
    own_words = core
    # "that year", "the same period" -> "in 2023"; "the year before" -> "in 2022"
    core = _SAME_PERIOD.sub(lambda m: _next_period(m, before, 0), core)
    core = _NEXT_PERIOD.sub(lambda m: _next_period(m, before), core)
    number = before.figure or (  # no count stated: the measure asked, of its set
        f"the number of {before.counted_clause.removeprefix('the ')}" if before.counted_clause
        else f"the number of {before.counted}" if before.counted else "")
    if number and before.period and before.period not in number:
        number += f" in {before.period}"  # the figure is of that period, not of any
    if number:  # "that number" -> "the 36.2 million reports in 2023"
        core = _THAT_NUMBER.sub(number, core)
    doc = analysis.nlp()(core)
    if not len(doc):
        return asked
    own_names = [e.text for e in doc.ents if e.label_ in NAME_LABELS]
    has_pronoun = any(t.lower_ in _PLURAL | _SINGULAR | set(_POSSESSIVE) or _stands_alone(t)
                      or _one(t) or _there(t) for t in doc)
    elliptical = bool(_WHAT_ABOUT.match(core)) or not any(t.pos_ in ("VERB", "AUX")
                                                           for t in doc)
    if own_names and not has_pronoun and not elliptical and not _needs_subject(doc):
        # A subject of its own: a new topic, nothing carried over but the period it names.
        return asked if core == own_words else core[:1].upper() + core[1:]
    if elliptical and _WH_FRAGMENT.match(core):
        return _asked_again(core, before)
    if circumstance := _other_circumstance(doc, before):
        return circumstance
    restated = _was_that(doc, before)
    if restated:
        return restated
    if elliptical:
        return _changed_detail(doc, before)
    partitive = _of_them(doc, before)
    if partitive:
        return partitive
    on_topic = set(analysis.terms(core)) & (before.cited | set(analysis.terms(before.text)))
    if (has_pronoun or _needs_subject(doc) or core != asked or (on_topic and not own_names)
            or _those_counted(doc, before) or _counts_who_came(doc)):
        return _resolved(doc, before)
    return asked


def _fuller(doc, tok, before: Turn) -> str:
    """"How often is *the sale* held?" after "How much did the Millbrook library's book sale
    raise?": the previous question's phrase with that head noun and more words ("the book
    sale", "the repair of its roof"), which "the" points back to; "" when there is none."""
    if (tok.pos_ != "NOUN" or not tok.i or doc[tok.i - 1].lower_ != "the"
            or (tok.i + 1 < len(doc) and doc[tok.i + 1].pos_ in ("NOUN", "PROPN", "ADP"))):
        return ""
    head = set(analysis.terms(tok.text))
    for phrase in (before.possessed, before.object, *(f"the {n}" for n in before.nouns)):
        words = phrase.split(" of ")[0].split()
        if len(phrase.split()) > 2 and words and set(analysis.terms(words[-1])) == head:
            return phrase
    return ""


def _plural(phrase: str) -> bool:
    return analysis.nlp()(phrase)[-1].tag_ in ("NNS", "NNPS")


def _stands_alone(tok) -> bool:
    """A demonstrative used as a pronoun: "how many of those finished", "why were those
    escalated", "what share was that" (the tagger calls it a determiner with no noun to
    determine)."""
    after = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    return (tok.lower_ in _DEMONSTRATIVE and tok.tag_ == "DT"
            and (after is None or after.pos_ not in ("ADJ", "NOUN", "PROPN", "NUM")))


def _one(tok) -> bool:
    """"a new one", "the old ones": a noun the previous turn said, with another adjective."""
    return tok.lower_ in ("one", "ones") and tok.i > 0 and tok.doc[tok.i - 1].pos_ == "ADJ"


_FIGURE_WORDS = {"figure", "number", "total", "count", "data", "value", "estimate"}


def _said_before(tok) -> bool:
    """A plural pronoun after a subject of the question's own that it stands for: "them" in
    "What should beginners do if that is too sticky for them?" is the beginners."""
    return tok.lower_ in ("they", "them", "their") and any(
        t.dep_ == "nsubj" and t.tag_ == "NNS" and t.i < tok.i and t.head != tok.head
        and not any(c.tag_ in _WH_TAGS or c.lower_ in ("many", "much") for c in t.subtree)
        for t in tok.doc)


def _there(tok) -> bool:
    """"What is planned *there*": the place, not the "there" of "there is"."""
    return tok.lower_ == "there" and tok.dep_ == "advmod"


def _made_it(tok) -> bool:
    """"How many of them made it to the end?": "it" in "make it to", which refers to nothing."""
    return tok.lower_ == "it" and tok.dep_ == "dobj" and tok.head.lemma_ == "make" and any(
        c.dep_ == "prep" and c.lower_ in ("to", "through", "into") for c in tok.head.children)


def _pronoun(tok) -> bool:
    return tok.pos_ == "PRON" or _stands_alone(tok)


def _asked_again(fragment: str, before: Turn) -> str:
    """"At what temperature?", "For how long?": the previous question, asking that instead
    ("How long should bulk fermentation last?" -> "At what temperature should bulk
    fermentation last?")."""
    doc = analysis.nlp()(before.text)
    k = 0
    while k < len(doc) and (doc[k].pos_ == "ADP" or doc[k].tag_ in _WH_TAGS
                            or (k and doc[k].pos_ in ("ADJ", "ADV", "NOUN"))):
        k += 1  # "How long", "What temperature", "For how many hours"
    rest = doc[k:].text.rstrip("?. ") if k < len(doc) else ""
    ask = fragment.strip().rstrip("?. ")
    return f"{ask[:1].upper()}{ask[1:]} {rest}?" if rest else f"{ask}?"


def _was_that(doc, before: Turn) -> str:
    """"How many visits was that?" after "What share of visits did swimming lessons have ...?":
    the previous question asking that instead, when it counted no set whose clause "that"
    could stand for."""
    words = [t for t in doc if not t.is_punct]
    if (before.counted_clause or len(words) < 3 or words[-1].lower_ not in ("that", "it")
            or words[-2].lemma_ != "be" or _wh(doc) is None):
        return ""
    return _asked_again(doc[:words[-2].i].text, before)


def _of_them(doc, before: Turn) -> str:
    """"How many of them were e-books?" -> "Of the 84,310 items the Millbrook Public Library lent
    in 2023, how many were e-books?": the set the previous answer counted, with the measure asked
    (lent, escalated), in front; "(of) those loans" too when the noun is the counted one, and a
    count that names nothing it counts ("And how many were e-books?", "How many did NCMEC
    escalate?") counts from the same set."""
    words = [t.lower_ for t in doc]
    if not before.counted_set or words[:2] != ["how", "many"] or len(doc) < 4:
        return ""
    if _needs_subject(doc):  # "And how many were e-books?": of the whole, beside the part
        end = 2
        if before.whole_set:
            return f"Of {before.whole_set}, how many {doc[end:].text.rstrip('?. ')}?"
    elif words[2] == "of" and len(doc) >= 5 and words[3] in _PLURAL:
        end = 4
        if not _pronoun(doc[3]):  # "those loans": only the counted noun
            while end < len(doc) and doc[end].pos_ in ("NOUN", "PROPN", "ADJ"):
                end += 1
            if end == 4 or not _same_noun(doc[end - 1], before):
                return ""
    else:
        return ""
    rest = doc[end:].text.rstrip("?. ")
    return f"Of {before.counted_set}, how many {rest}?"


def _those_counted(doc, before: Turn) -> bool:
    """"those reports" after a question that counted reports: the set, not any reports."""
    return any(t.lower_ in ("those", "these") and t.pos_ != "PRON" and t.i + 1 < len(doc)
               and _same_noun(doc[t.i + 1], before) for t in doc)


def _same_noun(token, before: Turn) -> bool:
    """The token names what the previous question counted ("loans" for "loans", "report" for
    "CyberTipline reports"), and that set is known."""
    return bool(before.counted_set) and token.lemma_.lower() == before.counted_head


_CHANGES = {"jump", "rise", "fall", "grow", "increase", "decrease", "drop", "climb", "double",
            "peak", "dip", "spike", "soar", "change", "vary", "fluctuate"}  # what an amount does
_RANKS = ("most", "least", "highest", "lowest", "fewest", "largest", "smallest")


def _changed_detail(doc, before: Turn) -> str:
    """"And in 2021?", "And in Q4?", "What about prosecutions?": the previous question with
    that detail changed (its period of the same kind, or the noun the new one is closest to),
    or added when it had none."""
    text = before.text.rstrip("?. ")
    ranked = [t.lower_ for t in doc if t.lower_ in _RANKS]  # "And the least?" after "the most"
    old = next((w for w in _RANKS if re.search(rf"\b{w}\b", text, re.I)), None)
    if ranked and old:
        text = re.sub(rf"\b{old}\b", ranked[0], text, count=1, flags=re.I)
        if all(t.is_stop or t.is_punct or t.lower_ in _RANKS for t in doc):
            return text + "?"
    # "And the 36.2 million one?" after "What is the 63,892 figure ... a count of?"
    one = re.fullmatch(rf"(?:the\s+)?({_AMOUNT.pattern})\s+one\W*", doc.text.strip(), re.I)
    said = _AMOUNT.search(text)
    if one and said and not analysis.YEAR.fullmatch(said.group(0)):
        return f"{text[:said.start()]}{one.group(1)}{text[said.end():]}?"
    periods = [(kind, tok) for tok in doc for kind in [_period_kind(tok.text)] if kind]
    swapped = "" if periods else _swap_phrase(doc, text)
    if swapped:
        return swapped + "?"
    for kind, tok in periods:
        old = next((t.text for t in analysis.nlp()(text) if _period_kind(t.text) == kind), "")
        text = (re.sub(rf"\b{re.escape(old)}\b", tok.text, text) if old
                else f"{text} in {tok.text}")
    dated = {tok.i for _, tok in periods}
    phrases: list[tuple[str, bool]] = []
    for phrase, is_name in _noun_phrases(doc, skip=dated):
        pair = phrases and not is_name and not phrases[-1][1] and re.search(
            rf"{re.escape(phrases[-1][0])} (?:and|or) {re.escape(phrase)}", doc.text)
        if pair:  # "paper and card": one measure, as a table row names it
            phrases[-1] = (pair.group(0), False)
        else:
            phrases.append((phrase, is_name))
    words = [t for t in doc if t.is_alpha and not t.is_stop and t.lower_ not in ("what", "about")]
    if not phrases and not periods and words:  # "And starter?": a lone word read as adjective
        phrases = [(doc[words[0].i:words[-1].i + 1].text, False)]
    for phrase, is_name in phrases:
        # A changed measure replaces the noun it is closest to ("what about prosecutions?"
        # after "... arrests"); a name is added, never swapped: which one it replaces is a guess.
        target = None if is_name else _closest(phrase, before.nouns, before.counted)
        if target and any(_one(t) for t in doc) and len(phrase.split()) == 1:
            phrase = f"{phrase} {target.split()[-1]}"  # "an international one": report
        if target and before.counted_head and _kind_of(phrase, target, before.counted_head):
            phrase = f"{target.split()[-1]} for {phrase}"  # "visits for swimming lessons"
        if target:  # "And glass?" after "paper and card": the pair is one measure
            target = next((pair for other in before.nouns for pair in (
                f"{target} and {other}", f"{target} or {other}", f"{other} and {target}",
                f"{other} or {target}") if other != target and pair in text), target)
        text = _replace(text, target, phrase) if target else f"{text}, for {phrase}"
    return text + "?"


_AMOUNT = re.compile(r"\$?\d[\d,.]*(?:\s*(?:million|billion|thousand|percent|%))?", re.I)


def _kind_of(phrase: str, target: str, counted_head: str) -> bool:
    """"And swimming lessons?" after "How many public swimming visits ...": the new phrase
    shares a modifier with the counted noun phrase, not its head; it names another kind of
    what was counted, whose measure (visits) stays."""
    head, words = target.split()[-1], set(analysis.terms(target))
    return analysis.terms(head) == analysis.terms(counted_head) and bool(
        words & set(analysis.terms(phrase))) and not set(analysis.terms(head)) & set(
        analysis.terms(phrase.split()[-1]))


def _other_circumstance(doc, before: Turn) -> str:
    """"And after the lid comes off?" after "How long should the loaf bake with the lid on?":
    the previous question under the new circumstance, which replaces the last one its verb had
    ("... bake after the lid comes off?"); "" when the follow-up asks anything of its own."""
    first = next((t for t in doc if not t.is_punct), None)
    if first is None or first.pos_ not in ("ADP", "SCONJ") or any(
            t.tag_ in _WH_TAGS for t in doc) or first.head.pos_ not in ("VERB", "AUX"):
        return ""
    prev = analysis.nlp()(before.text.rstrip("?. "))
    root = next((t for t in prev if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("VERB", "AUX"):
        return ""
    new = doc[first.i:].text.rstrip("?. ")
    start = len(prev)  # the adverbials that end it ("with the lid on"), replaced as one
    for t in reversed([t for t in root.children if t.i > root.i]):
        if t.dep_ not in ("prep", "advcl", "advmod", "prt") or t.right_edge.i != start - 1:
            break
        start = t.left_edge.i
    if start == len(prev):
        return f"{prev.text} {new}?"
    return f"{prev[:start].text} {new}?"


def _swap_phrase(doc, text: str) -> str:
    """"And for hybrid bicycles?" after "... recommend for mountain bikes?": the phrase the
    previous question led by the same preposition, replaced; "" when it has none."""
    words = [t for t in doc if not t.is_punct and t.pos_ != "CCONJ"]
    if not words or words[0].pos_ != "ADP" or words[0].i > 1:
        return ""
    prev = analysis.nlp()(text)
    same = [t for t in prev if t.pos_ == "ADP" and t.lower_ == words[0].lower_
            and t.i > 0 and t.right_edge.i > t.i]
    if not same:
        return ""
    end = same[-1].i + 1  # its object, up to what the rewrite added in brackets
    while end <= same[-1].right_edge.i and prev[end].text not in "()?,;":
        end += 1
    span = prev[same[-1].i:end]
    new = doc[words[0].i:words[-1].i + 1].text
    return text[:span.start_char] + new + text[span.end_char:]


# The periods a follow-up may change, each replacing one of its own kind: a year, a quarter,
# a half, a financial year, a month.
_PERIODS = {
    "year": analysis.YEAR,
    "quarter": re.compile(r"Q[1-4]"),
    "half": re.compile(r"H[12]"),
    "financial year": re.compile(r"FY\d{2}(?:\d{2})?"),
    "month": re.compile(r"January|February|March|April|June|July|August|September|October|"
                        r"November|December"),
}


def _next_period(m: re.Match, before: Turn, step: int | None = None) -> str:
    """"in 2022" for "the year before" after a question about 2023, "in Q2" for "the quarter
    before" after Q3 (step 0: "that quarter" is Q3); as written when the previous turn named no
    such period (or Q1's)."""
    unit = next(g for g in m.groups() if g and g.lower() in ("year", "period", "quarter")).lower()
    if step is None:
        step = -1 if next(g for g in m.groups() if g and g.lower() not in (
            "year", "quarter")).lower() in ("before", "previous", "preceding", "prior",
                                            "earlier") else 1
    if unit == "period" and before.period:
        return f"in {before.period}"
    if unit == "year" and before.period:
        return f"in {int(before.period) + step}"
    quarter = re.search(r"\bQ([1-4])\b", before.text)
    if unit == "quarter" and quarter and 1 <= int(quarter.group(1)) + step <= 4:
        return f"in Q{int(quarter.group(1)) + step}"
    return m.group(0)


def _period_kind(word: str) -> str:
    return next((kind for kind, pattern in _PERIODS.items() if pattern.fullmatch(word)), "")


def _resolved(doc, before: Turn) -> str:
    """A pronoun replaced by what it refers to; the previous names (and, for a figure, years)
    added when the follow-up lacks them. "those"/"them" are the set the answer counted, with
    its count, when the question asks something else of it ("Why were the 63,892 reports NCMEC
    escalated in 2023 escalated?"); a question asking a figure names them without that count,
    which the answer's sentence need not repeat ("How many people attended the library's
    events?")."""
    out = []
    plural_done = False
    skip = -1
    acted_on = False
    it = before.topic or before.answer_name or before.answer_thing or before.thing
    amount = _asks_amount_of(doc)
    the_set = "" if analyse(doc.text)[0].wants_figure else before.counted_set
    for tok in doc:
        low = tok.lower_
        ws = tok.whitespace_
        after_of = tok.i > 0 and doc[tok.i - 1].lower_ == "of"
        if tok.i == skip:
            continue
        if _said_before(tok) or _made_it(tok):  # "if it is too sticky for them?"
            out.append(tok.text_with_ws)
            continue
        fuller = _fuller(doc, tok, before)
        if fuller:  # "the sale" -> "the Millbrook library's book sale"
            out[-1] = fuller + ws
            continue
        if low in ("those", "these") and tok.pos_ != "PRON" and tok.i + 1 < len(doc) \
                and _same_noun(doc[tok.i + 1], before):
            out.append(before.counted_set + doc[tok.i + 1].whitespace_)  # "those reports"
            skip, plural_done = tok.i + 1, True
        elif low in _PLURAL and _pronoun(tok) and not plural_done and the_set:
            out.append(the_set + ws)  # "why were those escalated": the set counted
            plural_done = True
        elif low in _PLURAL and _pronoun(tok) and not plural_done and not after_of \
                and before.subject:
            out.append(before.subject + ws)  # "how much do they cost": the pads, not the stops
            plural_done = True
        elif low in _PLURAL and _pronoun(tok) and not plural_done and before.counted and (
                not before.plural or _plural(before.counted)):  # "which law": not "they"
            out.append(_owned(before) + ws)  # "how many of them" -> "of the CyberTipline's reports"
            plural_done = True
        elif low in _PLURAL and _pronoun(tok) and not plural_done and before.plural:
            out.append(before.plural + ws)  # "bed them in" -> "bed the disc brake pads in"
            plural_done = True
        elif low in _SINGULAR and _pronoun(tok) and after_of and before.counted:
            out.append(f"the {before.counted}{ws}")  # "how much of it" -> "of the budget"
            plural_done = True
        elif low == "that" and _stands_alone(tok) and before.counted_clause:
            out.append(before.counted_clause + ws)  # "what share was that": what was counted
        elif low == "it" and tok.dep_ in ("dobj", "pobj") and before.possessed \
                and not before.answer_name and not before.answer_thing:
            out.append(before.possessed + ws)  # "who funded it": the budget, not the library
        elif low == "it" and tok.dep_ in ("dobj", "pobj") and before.object \
                and before.amount_of and not before.answer_name:
            out.append(before.object + ws)  # "what paid for it": the repair whose cost was asked
        elif low == "it" and tok.dep_ == "pobj" and tok.head.head.lemma_ in _FIGURE_WORDS \
                and before.patient and before.counted:
            out.append(before.patient + ws)  # "no figure for it": for the plastic asked about
        elif low == "it" and tok.dep_ == "nsubj" and tok.head.lemma_ in _CHANGES and (
                amount := f"the {before.counted}" if before.counted else before.object):
            # "why does it jump" after "... the least garden waste": that amount, not its doer
            out.append(re.sub(rf"\b(?:{'|'.join(_RANKS)})\s+", "", amount) + ws)
        elif low == "it" and (tok.head.lemma_, tok.dep_) in before.roles:
            out.append(before.roles[tok.head.lemma_, tok.dep_] + ws)  # "report it": the CSAM
        elif low == "it" and tok.dep_ in ("dobj", "nsubjpass") and before.patient \
                and not before.answer_name and not before.answer_thing and not before.topic:
            out.append(before.patient + ws)  # "should it be checked": the pressure recommended
            acted_on = not before.patient_owned  # not what acted on it ("the note", "the loaf")
        elif low == "it" and amount and before.object and not before.answer_name \
                and not before.answer_thing:
            out.append(before.object + ws)  # "how much did it cost": the repair, not the library
        elif low in _SINGULAR and _pronoun(tok) and it:
            out.append(it + ws)
        elif low == "that" and _stands_alone(tok) and (that := before.topic or before.answer_name
                                                        or before.answer_thing):
            out.append(that + ws)  # what the answer stated, not the subject asked about
        elif _there(tok) and (place := before.possessed or before.common or before.thing):
            out.append(f"at {place}{ws}")  # after "Where's the library's branch?": at it
        elif _one(tok) and (phrase := (before.subject or before.plural) if low == "ones"
                            else before.common):
            out.append(phrase.removeprefix("the ") + ws)  # "new ones": new rim brake pads
        elif low in _POSSESSIVE and tok.head.lemma_ in _MEMBERS and (
                before.answer_name or before.names):  # "its crews": the utility's, not the budget's
            out.append(_genitive(before.answer_name or before.names[-1]) + ws)
        elif low == "its" and before.object and before.amount_of and not before.answer_name:
            out.append(before.object + "'s" + ws)  # "where is its cost reported": the repair's
        elif low in _POSSESSIVE and (it or before.counted):
            out.append(_genitive(it or f"the {before.counted}") + ws)
        else:
            out.append(tok.text_with_ws)
    text = "".join(out).strip().rstrip("?. ")
    text = text[:1].upper() + text[1:]
    if not plural_done and before.counted and _needs_subject(doc):
        text = re.sub(r"^(How many|How much)\b", rf"\1 of {_owned(before)}", text, flags=re.I)
    low = text.lower()
    missing_names = [n for n in dict.fromkeys(n.removesuffix("'s")
                                              for n in before.names + [
                                                  "" if acted_on else before.thing])
                     if n and n.lower().removeprefix("the ").removesuffix("'s") not in low
                     and n.lower() not in before.counted.lower()
                     and not (_period_kind(n) and _period_kind(n) in map(  # "Q3" for "in Q2"
                         _period_kind, re.findall(r"\w+", text)))]
    missing_names = [n for n in missing_names
                     if not any(n != m and n.lower() in m.lower() for m in missing_names)
                     and not any(m.lower().removeprefix("the ") in low and  # named already
                                 m.lower().removeprefix("the ") in n.lower() for m in before.names)]
    # what the name owned, when that was the topic ("the money" after "... the Millbrook
    # library's book sale raise?"): the book sale, not the library
    missing_names = [before.possessed if before.possessed.lower().removeprefix("the ")
                     .startswith(n.lower().removeprefix("the ") + "'") else n
                     for n in missing_names]
    if missing_names:
        text += f" ({', '.join(missing_names)})"
    missing_years = [y for y in before.years if y not in low]
    wh = _wh(doc)
    if missing_years and analyse(text)[0].wants_figure and (wh is None or wh.lower_ != "when") \
            and not any(
            analysis.YEAR.match(t.text) for t in doc):
        text += f" in {' and '.join(missing_years)}"
    return text + "?"


def condense_with_llm(asked: str, history: list[str], llm,
                      previous: Answer | str | None = None) -> str | None:
    """An LLM's standalone rewrite, or None when it drops any content word of `asked` (a small
    model often answers the question instead, or loses what was asked). The previous answer's
    summary is in the conversation it reads: "them" may mean what that answer counted."""
    from llama_index.core.llms import ChatMessage

    from assistant.answer import prompt

    if not history:
        return None
    lines = [f"User: {q}" for q in history[-3:]]
    if isinstance(previous, Answer) and previous.summary:
        lines.append(f"Assistant: {previous.summary}")
    conversation = "\n".join(lines)
    message = prompt("condense").format(conversation=conversation, question=asked)
    try:
        text = llm.chat([ChatMessage(role="user", content=message)]).message.content or ""
    except Exception:  # the rule-based rewrite is always there to fall back on
        return None
    text = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    own = set(analysis.terms(asked))
    if not text or len(text) > 300 or not own <= set(analysis.terms(text)):
        return None
    return text if text.endswith("?") else text + "?"


# -- reading the previous turn ----------------------------------------------------------------


def _turn(previous: Answer | str, earlier: Sequence[Answer | str] = ()) -> Turn:
    """The previous turn as the rewrite reads it: its question, and what its answer stated."""
    answer = previous if isinstance(previous, Answer) else None
    question = answer.question if answer else previous
    claims = [c.text for c in render.stated(answer)] if answer else []
    doc, *stated = analysis.nlp().pipe([question, *claims])
    names = [ent.text for ent in doc.ents if ent.label_ in NAME_LABELS]
    years = [y.group(0) for y in (analysis.YEAR.match(t.text) for t in doc) if y]
    # "When did the library reopen ...?" - "that year" is the year the answer gave
    period = next(iter(years or [t.text for d in stated for t in d
                                 if analysis.YEAR.fullmatch(t.text)]), "")
    if not period:  # "Who runs it?" between "... in 2023?" and "... in the same period?"
        period = next((p for p in (_turn(a).period for a in reversed(earlier)) if p), "")
    counted = counted_phrase(question) or _asked_phrase(doc)
    sources = source_spans(question.rstrip("?. "))  # "according to the glossary": not "it"
    things = [text for span, text in _name_spans(doc)
              if not any(a <= span.start_char < b for a, b in sources)]
    phrases = _noun_phrases(doc, possessive=False)
    clause, head = _counted_set(doc, stated)
    figure = _counted_figure(claims, head)
    # Only an answer's count makes the set definite: without it, "Of the reports the
    # CyberTipline received in 2023, how many ..." reads as asking the total again.
    # a turn about the set an earlier answer counted ("why were those ...", "of the 84,310
    # loans ..., how many ..."): that set, which a part of it counted here narrows
    whole, whole_head = next(((t.counted_set, t.counted_head) for t in (
        _turn(a) for a in reversed(earlier) if isinstance(a, Answer))
        if t.counted_set and t.counted_set in question), ("", ""))
    if whole and figure and figure.text in whole:
        figure = None  # the answer gave the whole again: the part is not documented
    counted_set = f"the {figure.text} {clause.removeprefix('the ')}" if (
        clause and figure) else ""
    if not counted_set:
        counted_set, head, whole = whole, whole_head or head, ""
    # "How many tonnes of glass": the unit is not the measure a new one replaces
    unit = doc[2].text if ([t.lower_ for t in doc[:2]] in (["how", "many"], ["how", "much"])
                           and len(doc) > 3 and doc[3].lower_ == "of") else ""
    possessed = _possessed(doc)
    common = _common_thing(doc, plural=False)
    roles = _roles(doc)
    return Turn(question, names, years, period, counted,
                [p for p, name in phrases if not name and p != unit],
                things[-1] if things else common,
                counted_set=counted_set, counted_head=head, counted_clause=clause,
                whole_set=whole,
                answer_name=_answer_name(doc, stated), answer_thing=_answer_thing(doc, stated),
                plural=_common_thing(doc, plural=True),
                cited=frozenset(t for c in (answer.citations if answer else [])
                                for t in analysis.terms(c.text)),
                figure=f"the {figure.text} {figure.unit}" if figure and figure.unit.isalpha()
                else _stated_sum(claims), subject=_plural_subject(doc, counted),
                object=_object(doc), amount_of=_asks_amount_of(doc),
                common=common, roles=roles, patient=_patient(doc, roles),
                patient_owned=any(t.tag_ == "PRP$" and any(
                    u.dep_ in ("dobj", "nsubjpass") for u in t.ancestors) for t in doc),
                possessed=possessed, topic=possessed if answer and re.search(
                    r"\bit\b", answer.asked, re.I) and possessed in question else "")


def _roles(doc) -> dict:
    """(verb lemma, role) -> the singular noun phrase the question has in that role (an
    acronym is singular, whatever its tag: "CSAM"; "its children's room" is "the children's
    room", its owner named beside it)."""
    out = {}
    for t in doc:
        # "How much starter does the loaf use": the parser may call the object an attribute
        dep = "dobj" if t.dep_ == "attr" and t.head.lemma_ != "be" else t.dep_
        if dep not in ("dobj", "nsubjpass") or t.pos_ not in ("NOUN", "PROPN") or not (
                t.tag_ in ("NN", "NNP") or t.text.isupper()) or t.head.pos_ != "VERB":
            continue
        if t.pos_ == "PROPN" or t.text.isupper():  # a name as written: "CSAM"
            phrase = " ".join([c.text for c in t.lefts if c.dep_ == "compound"] + [t.text])
        else:  # "what tyre pressure", "how much starter", "its children's room"
            words = doc[t.left_edge.i:t.i + 1]
            while words[0].tag_ in ("WDT", "WP", "WRB", "PRP$") or words[0].lower_ in (
                    "much", "many"):
                words = words[1:]
            phrase = words.text if words[0].tag_ == "DT" else f"the {words.text}"
        out[t.head.lemma_, dep] = phrase
    return out


def _patient(doc, roles: dict) -> str:
    """The one thing the question's verbs act on: after "What tyre pressure does the note
    recommend ...?", "How often should it be checked?" checks the pressure, not the note;
    after "When did the library reopen its children's room?", "Why had it been closed?" asks
    of the room. Not an amount ("What percentage of the vote did the levy receive?": "it" is
    the levy), nor the noun of an idiom ("take part"), nor a name (the turn's thing already)."""
    if len(roles) != 1:
        return ""
    (verb, _), phrase = next(iter(roles.items()))
    last = phrase.split()[-1].lower()
    named = any(t.lower_ == last and t.ent_type_ for t in doc)
    return "" if verb in _IDIOMS or last in _AMOUNTS or named else phrase


_IDIOMS = {"take", "play", "make", "have", "give"}  # "take part", "play a role"
_AMOUNTS = {"percentage", "share", "proportion", "money", "amount", "number", "total", "sum",
            "cost", "price", "fee", "value", "figure", "count"}


def _possessed(doc) -> str:
    """"What was the Millbrook Public Library's operating budget?" -> "the Millbrook Public
    Library's operating budget": what "it" means as an object next ("Who funded it?"); as a
    subject it is still the name ("How many shops did it open?")."""
    for tok in doc:
        if tok.dep_ == "poss" and any(_proper(t) for t in tok.subtree) and tok.head.pos_ == "NOUN" \
                and tok.head.i > tok.i:  # "the Millbrook library's book sale" too
            start = tok.head.left_edge.i
            while doc[start].is_punct:  # "(the Millbrook library's book sale)"
                start += 1
            span = doc[start:tok.head.i + 1]
            return span.text if span[0].pos_ == "DET" or _proper(span[0]) else f"the {span.text}"
    return ""


def _asks_amount_of(doc) -> bool:
    """"How much did it cost?", "How long does it take?", "How often ... of it?": the question
    asks an amount of "it" itself (its wh-phrase names no noun), so "it" is a thing that has
    one, not the organisation that did something to it."""
    wh = _wh(doc)
    if wh is None or wh.lower_ != "how" or wh.i + 1 >= len(doc):
        return False
    return doc[wh.i + 1].lower_ in ("much", "long", "often") and (
        wh.i + 2 >= len(doc) or doc[wh.i + 2].pos_ not in ("NOUN", "PROPN", "ADJ"))


def _object(doc) -> str:
    """The common noun phrase the question did something to: its direct object ("complete the
    repair of its roof"), else the object of its last preposition ("left during bulk
    fermentation"); not the asked phrase ("what temperature"), a name or a period."""
    wh = _wh(doc)
    if _asks_amount_of(doc) and wh.i + 3 < len(doc) and doc[wh.i + 2].lemma_ in ("do", "be"):
        # "How much did the repair of its roof cost?": what stands between the auxiliary and
        # the verb; with no verb tagged, the last word is the verb the tagger read as a noun
        stop = next((t for t in doc[wh.i + 3:] if t.pos_ in ("VERB", "AUX") or t.is_punct),
                    doc[-1])
        span = doc[wh.i + 3:stop.i - (stop.is_punct or stop.pos_ not in ("VERB", "AUX"))]
        if any(t.pos_ == "NOUN" for t in span) and not any(t.pos_ == "PROPN" for t in span):
            return _definite(span)
    asked = {t.i for t in wh.head.subtree} if wh is not None and wh.dep_ == "det" else set()
    if wh is not None:
        asked.add(wh.i)
    found = [t for t in doc if t.dep_ == "dobj" and t.pos_ == "NOUN"] + [
        t for t in reversed(doc) if t.dep_ == "pobj" and t.pos_ == "NOUN"]
    for tok in found:
        span = doc[tok.left_edge.i:tok.right_edge.i + 1]
        if asked & {t.i for t in span} or any(
                t.pos_ == "PROPN" or t.ent_type_ in _FIGURE_ENTS for t in span):
            continue
        return _definite(span)
    return ""


def _definite(span) -> str:
    """A noun phrase as a later question names it: "the repair", "its roof", and the user's
    own "my bike chain" as "the bike chain"."""
    if span[0].lower_ in ("my", "our", "your"):
        return f"the {span[1:].text}"
    return span.text if span[0].pos_ == "DET" or span[0].tag_ == "PRP$" else f"the {span.text}"


def _plural_subject(doc, counted: str) -> str:
    """"With how many firm stops should the brake pads be bedded in?" -> "the brake pads": what
    "they" means next, the question's plural subject, when it is not the noun it counts."""
    for tok in doc:
        if (tok.dep_ in ("nsubj", "nsubjpass") and tok.tag_ == "NNS"
                and tok.lemma_.lower() not in {t.lemma_.lower() for t in analysis.nlp()(counted)}):
            start = tok.left_edge.i
            if start > 1 and doc[start - 1].tag_ == "VB" and doc[start - 2].pos_ == "AUX":
                start -= 1  # "should rim brake pads be checked": the tagger's verb is "rim"
            words = "".join(t.text_with_ws for t in doc[start:tok.i + 1]  # "disc" too;
                            if t.pos_ not in ("DET", "PRON", "NUM"))  # not a count
            return f"the {words.strip()}"
    return ""


def _counted_set(doc, stated: list) -> tuple[str, str]:
    """"How many items did the Millbrook Public Library lend in 2023?" -> ("the items the
    Millbrook Public Library lent in 2023", "item"): the counted set with the measure asked,
    the verb in the past form the answer wrote ("lent"); ("", "") for another question."""
    part = _PARTITIVE_COUNT.match(doc.text)
    if part:  # "Of the 36.2 million reports ..., how many were escalated?": the part counted
        # the word after its count ("36.2 million reports", which the tagger may read as a verb)
        noun = next((t for t in doc[2:] if t.tag_ != "CD"), None)
        if noun is None or noun.idx > part.end(1) or noun.pos_ not in ("NOUN", "VERB"):
            return "", ""
        return f"the {noun.text} that {part.group(2)}", noun.lemma_.lower()
    if [t.lower_ for t in doc[:2]] != ["how", "many"]:
        return "", ""
    k = 2
    while k < len(doc) and (doc[k].pos_ in ("ADJ", "NOUN", "PROPN") or doc[k].text == "-"):
        k += 1
    unit = k  # "how many tonnes of plastics": the set counted in tonnes
    if k > 2 and k + 1 < len(doc) and doc[k].lower_ == "of" and doc[k + 1].pos_ in ("ADJ", "NOUN"):
        k += 1
        while k < len(doc) and (doc[k].pos_ in ("ADJ", "NOUN", "PROPN", "CCONJ")
                                or doc[k].text == "-"):
            k += 1
    end = len(doc)
    while end > k and doc[end - 1].is_punct:
        end -= 1
    if k == 2 or doc[k - 1].pos_ not in ("NOUN", "PROPN") or k >= end:
        return "", ""
    first = doc[k]
    verb = next((t for t in doc[k + 2:end] if t.pos_ in ("VERB", "AUX")), None)
    if first.lemma_ == "do" and verb is not None:  # "did the library lend in 2023"
        clause = " ".join(x for x in (doc[k + 1:verb.i].text, _past(verb, stated),
                                      doc[verb.i + 1:end].text) if x)
    elif first.lemma_ == "be" and k + 1 < end and doc[k + 1].tag_ == "VBN":  # "were escalated"
        clause = doc[k + 1:end].text
    elif first.pos_ == "VERB":  # "took part in the challenge"
        clause = "that " + doc[k:end].text
    else:
        return "", ""
    return f"the {doc[2:k].text} {clause}", doc[unit - 1].lemma_.lower()


_PARTITIVE_COUNT = re.compile(r"of the (.*?), how many (.+?)[?.]?$", re.I)


def _counted_figure(claims: list[str], head: str) -> Figure | None:
    """The figure the answer gave for the counted set ("84,310"): the one counting that noun,
    else the only count the answer states; None when it stated none, or several."""
    counts = [f for s in analysis.as_sentences(claims) for f in s.figures
              if f.kind == "number"]
    of_head = [f for f in counts if set(analysis.terms(f.unit)) == set(analysis.terms(head))]
    if of_head:
        return of_head[0]
    return counts[0] if len({f.value for f in counts}) == 1 else None


def _genitive(owner: str) -> str:
    """"the board's", "the Millbrook libraries'"."""
    return owner + ("'" if owner.endswith("s") else "'s")


def _stated_sum(claims: list[str]) -> str:
    """"the $3,980" when the answer stated one sum and no count: what "that figure" is."""
    sums = {f.text for s in analysis.as_sentences(claims) for f in s.figures if f.kind == "money"}
    return f"the {sums.pop()}" if len(sums) == 1 else ""


def _past(verb, stated: list) -> str:
    """The verb in its past form: as the answer wrote it ("lent"), else the irregular form the
    lemmatizer knows ("made", never "maked"), else by the regular rule."""
    for sent in stated:
        for tok in sent:
            if tok.lemma_ == verb.lemma_ and tok.tag_ in ("VBD", "VBN"):
                return tok.lower_
    lemma = verb.lemma_.lower()
    irregular = _irregular_forms().get(lemma)
    if irregular:
        return irregular
    if lemma.endswith("e"):
        return lemma + "d"
    if lemma.endswith("y") and lemma[-2:-1] not in "aeiou":
        return lemma[:-1] + "ied"
    return lemma + "ed"


@lru_cache(maxsize=1)
def _irregular_forms() -> dict[str, str]:
    """lemma -> its irregular past tense, from the lemmatizer's own exceptions read backwards
    ("made" -> make). Of a past tense and a participle the past is the one that does not end in
    -n ("gave", not "given"; "went", not "gone"); of two, the a-form ("began", "sang")."""
    table = analysis.nlp().get_pipe("lemmatizer").lookups.get_table("lemma_exc")["verb"]
    forms: dict[str, list[str]] = {}
    for form, lemmas in table.items():
        if not form.endswith(("ing", "s")):
            for lemma in lemmas:
                forms.setdefault(lemma, []).append(form)
    return {lemma: sorted([f for f in found if not f.endswith(("n", "ne"))] or found)[0]
            for lemma, found in forms.items()}


def _answer_name(doc, stated: list) -> str:
    """The name the answer gave to a "who"/"which" question, not already in that question:
    "it" in the next turn means the organisation named, not the subject asked about. Of several,
    the one the answer is about, not one that only locates another ("a research group at
    Stanford University")."""
    wh = _wh(doc)
    if wh is None or wh.lower_ not in ("who", "which"):
        return ""
    asked = doc.text.lower()
    found = []
    for sent in stated:  # the entities, and the names the small model's NER misses
        spans = [(ent, ent.text) for ent in sent.ents if ent.label_ in NAME_LABELS]
        spans += [(span, text) for span, text in _name_spans(sent)
                  if not any(span.start < e.end and e.start < span.end for e, _ in spans)]
        found += sorted(((span, text) for span, text in spans
                         if text.lower().removeprefix("the ") not in asked
                         and not _period_kind(text)),  # "Q1" is when, not what "it" is
                        key=lambda found: found[0].start)
    about = [text for span, text in found if not _locates(span)]
    return (about or [text for _, text in found] or [""])[0]


def _locates(span) -> bool:
    """The name hangs on a common noun by a preposition: "a group at Stanford University",
    "a history of the Millbrook mill" (not "run by NCMEC")."""
    k = span.start - (1 if span.start and span.doc[span.start - 1].pos_ == "DET" else 0)
    return k >= 2 and span.doc[k - 1].pos_ == "ADP" and span.doc[k - 2].pos_ == "NOUN"


def _answer_thing(doc, stated: list) -> str:
    """What the answer gave to a "what" question asking for a thing: "What was the most
    borrowed adult title ...?" -> "the local history of the Millbrook mill", what "it" means
    next. Not when the question's own subject is a name ("What did the Stanford Internet
    Observatory call for?": "it" is still the observatory), nor for a figure, a date or a
    description of a name ("What is the CyberTipline?")."""
    wh = _wh(doc)
    if (wh is None or wh.lower_ != "what" or wh.i + 1 >= len(doc)
            or doc[wh.i + 1].pos_ != "AUX" or not stated or analyse(doc.text)[0].kind != "fact"):
        return ""
    subject = []
    for tok in doc[wh.i + 2:]:
        if tok.pos_ in ("VERB", "ADP", "PUNCT"):
            break
        subject.append(tok)
    if not subject or any(t.pos_ in ("PROPN", "PRON") for t in subject):
        return ""
    asked = set(analysis.terms(doc.text))
    verbs = {t.lemma_ for t in doc if t.pos_ == "VERB"}
    objects = [t.i for t in stated[0] if t.dep_ == "dobj" and t.head.lemma_ in verbs]
    said = next((t.i for t in stated[0] if t.lemma_ in verbs), len(stated[0]))
    # the asked verb's object first, else the phrase after that verb: "Platform submissions
    # often lack *the identifying information* ...", whatever the claim names before it
    for phrase in sorted(_phrases_of(stated[0]), key=lambda p: (
            not any(p.start <= i < p.end for i in objects), p.start < said)):
        new = set(analysis.terms(phrase.text)) - asked
        if (new and phrase[-1].tag_ in ("NN", "NNP") and not any(
                t.like_num or t.ent_type_ in _FIGURE_ENTS for t in phrase)):
            return "the " + phrase.text
    return ""


_FIGURE_ENTS = {"DATE", "TIME", "MONEY", "QUANTITY", "PERCENT", "CARDINAL", "ORDINAL"}


def _phrases_of(sent) -> list:
    """Its noun phrases without their article, each with an "of ..." that completes it: "a local
    history of the Millbrook mill" -> "local history of the Millbrook mill"."""
    phrases, k = [], 0
    nominal = ("ADJ", "NOUN", "PROPN")
    while k < len(sent):
        if sent[k].pos_ not in nominal:
            k += 1
            continue
        start = k
        while k < len(sent) and (sent[k].pos_ in nominal or sent[k].text == "-"):
            k += 1
        if k + 1 < len(sent) and sent[k].lower_ == "of":
            j = k + 1 + (sent[k + 1].pos_ == "DET")
            tail = j
            while tail < len(sent) and sent[tail].pos_ in nominal:
                tail += 1
            if tail > j:
                k = tail
        phrases.append(sent[start:k])
    return [p for p in phrases if any(t.pos_ in ("NOUN", "PROPN") for t in p)]


def _wh(doc):
    """The question word, after a preposition that may lead it ("Under which law ...")."""
    k = 1 if len(doc) > 1 and doc[0].pos_ == "ADP" else 0
    return doc[k] if k < len(doc) and doc[k].tag_ in _WH_TAGS else None


def _common_thing(doc, plural: bool) -> str:
    """The previous question's first common noun phrase of that number, past what it asks for
    ("What temperature ...", "With how many stops ..."): what "it" (or "them") means when no
    name is there."""
    wh = _wh(doc)
    run: list = []
    for tok in [*doc, None]:
        if tok is not None and (tok.pos_ in ("ADJ", "NOUN", "PROPN") and not _verb_as_noun(tok)
                                or (run and tok.text == "-") or tok.dep_ == "compound"):
            run.append(tok)
            continue
        asked = run and wh is not None and run[0].i == wh.i + 1
        if run and not asked and run[-1].pos_ == "NOUN" and (run[-1].tag_ == "NNS") == plural:
            first = run[0].i + (run[0].lower_ in ("many", "much"))  # "In 2023, how many ..."
            return f"the {doc[first:run[-1].i + 1].text}"
        run = []
    return ""


def _verb_as_noun(tok) -> bool:
    """"clean and *oil* my bike chain": a bare noun coordinated with a verb is a verb the tagger
    misread, no thing "it" may mean."""
    return tok.pos_ == "NOUN" and tok.dep_ == "conj" and tok.head.pos_ == "VERB" and not any(
        c.dep_ in ("det", "poss", "amod", "compound", "nummod") for c in tok.children)


def _name_spans(doc) -> list[tuple]:
    """Names, each span with its text as written, with what they name and its "the" kept: "the
    Corrigan Museum of Maritime History", "the Millbrook summer reading challenge", "Crumb &
    Hearth" (what "it" may stand for)."""
    found, k = [], 0
    while k < len(doc):
        if not _proper(doc[k]):
            k += 1
            continue
        start = k
        while k + 1 < len(doc) and (_proper(doc[k + 1]) or (
                doc[k + 1].lower_ in ("of", "&") and k + 2 < len(doc)
                and _proper(doc[k + 2]))):
            k += 1
        while k + 1 < len(doc) and (doc[k + 1].pos_ == "NOUN" or (
                doc[k + 1].tag_ == "VBG" and k + 2 < len(doc) and doc[k + 2].pos_ == "NOUN")):
            k += 1  # "Dunmore County library levy": the name's own nouns
        the = "the " if start and doc[start - 1].lower_ == "the" else ""
        found.append((doc[start:k + 1], the + doc[start:k + 1].text))
        k += 1
    return found


def _proper(tok) -> bool:
    """A proper noun, or an acronym the small tagger reads as a common noun or a verb ("did
    NCMEC escalate")."""
    return tok.pos_ == "PROPN" or (tok.is_upper and tok.is_alpha and len(tok) > 1)


def _asked_phrase(doc) -> str:
    """The noun phrase a "what"/"which" question asks about: "What capital budget ..." ->
    "capital budget" (what "how much of it" refers to)."""
    if not len(doc) or doc[0].lower_ not in ("what", "which"):
        return ""
    run = []
    for tok in doc[1:]:
        if tok.pos_ not in ("ADJ", "NOUN"):
            break
        run.append(tok)
    return doc[run[0].i:run[-1].i + 1].text if run else ""


def _owned(before: Turn) -> str:
    """"NCMEC's reports" / "the children": what "them" stands for. Only a name owns them."""
    owner = before.thing
    if owner and owner in before.names and owner.lower() not in before.counted.lower():
        return f"{owner}{chr(39) if owner.endswith('s') else chr(39) + 's'} {before.counted}"
    return f"the {before.counted}"


def _needs_subject(doc) -> bool:
    """"How many were urgent?", "How many did NCMEC escalate?": a count with nothing said of
    what is counted."""
    if len(doc) < 3 or doc[0].lower_ != "how" or doc[1].lower_ not in ("many", "much"):
        return False
    return ((doc[1].lower_ == "many" and doc[2].pos_ in ("AUX", "VERB"))
            or not any(t.pos_ in ("NOUN", "PROPN", "PRON") for t in doc[2:]))


def _counts_who_came(doc) -> bool:
    """"How many spectators came along to watch?": a count of those who did something, and no
    word of where or what; it is about the topic the conversation is on."""
    nouns = [t for t in doc if t.pos_ in ("NOUN", "PROPN")]
    return len(doc) > 3 and doc[0].lower_ == "how" and doc[1].lower_ == "many" and \
        len(nouns) == 1 and nouns[0].pos_ == "NOUN" and nouns[0].dep_ == "nsubj"


def _noun_phrases(doc, possessive: bool = True, skip=frozenset()) -> list[tuple[str, bool]]:
    """Runs of adjectives and nouns as written ("prosecutions", "e-books", and with
    `possessive` "children's books"), each with whether it is a name; the tokens in `skip`
    (a period, changed on its own) end a run, and so does a plural noun ("the visits public
    swimming had": two phrases)."""
    phrases, run = [], []
    for tok in list(doc) + [None]:
        joined = (tok is not None and run and not run[-1].whitespace_
                  and (tok.text == "-" or run[-1].text == "-"))
        nominal = tok is not None and tok.i not in skip and not (
            tok.i and doc[tok.i - 1].lower_ == "how") and (  # "how many" asks, it names nothing
            tok.pos_ in ("ADJ", "NOUN", "PROPN") and not _verb_as_noun(tok) or joined
            or (possessive and run and tok.tag_ == "POS"))
        headed = nominal and run and run[-1].tag_ == "NNS" and not joined and tok.tag_ != "POS"
        if nominal and not headed:
            run.append(tok)
            continue
        if any(t.pos_ in ("NOUN", "PROPN") for t in run):
            phrases.append((doc[run[0].i:run[-1].i + 1].text,
                            any(t.pos_ == "PROPN" for t in run)))
        run = [tok] if headed else []
    return phrases


def _closest(noun: str, candidates: list[str], asked: str = "") -> str | None:
    """The previous question's noun phrase the new one replaces: one sharing a word with it,
    else the one closest in meaning (the packaged sentence encoder, onnxruntime); within a
    hair of that, the phrase the question asked for ("What about starter?" after "How much
    salt does the basic sourdough loaf use?": 0.32 to the loaf, 0.32 to salt)."""
    if not candidates:
        return None
    head = set(analysis.terms(noun))
    for c in candidates:
        if head & set(analysis.terms(c)):
            return c
    import numpy as np

    from assistant.models import load_embedder

    vectors = np.asarray(load_embedder().get_text_embedding_batch([noun] + candidates))
    sims = vectors[1:] @ vectors[0]
    if asked in candidates and sims[candidates.index(asked)] >= sims.max() - _HAIR:
        return asked
    return candidates[int(np.argmax(sims))]


_HAIR = 0.02  # a difference in cosine similarity that says nothing of meaning


def _replace(text: str, old: str, new: str) -> str:
    """`old` replaced once as a whole phrase ("books" is not replaced inside "e-books")."""
    text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text, count=1)
    if new[:1].lower() in "aeio":  # "a duplicate report" -> "an international report"
        text = re.sub(rf"\b([Aa]) (?={re.escape(new)}(?![\w-]))", r"\1n ", text, count=1)
    return text


