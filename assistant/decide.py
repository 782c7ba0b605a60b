"""The answer decision: does a sentence answer a question part, and does it support a claim.

Both are read from the one analysis of a passage (analysis.py: its sentences with lemmas,
entities, figures and dependency parse) and the parts of the question (question.py); nothing
else decides what is documented.

A part has one of three outcomes. *answered*: the sentence holds an answer of the asked kind
that the question does not already hold (who -> a person or organisation, when -> a date, how
many -> a figure), bound to what was asked (the asked measure and year in the figure's own
clause), and every constraint of the question holds for it (names, spelled as the question
spells them, years, qualifiers such as before/after, first/last, more/less; no word of it denied
or said in the opposite sense) in its sentence or heading; a name, a place or a date must
stand in the clause of the asked verb, in the asked role (the winner, not the one who presided;
for "which X", the X itself), or, for a question with "be", of the asked noun, said of the
question's own subject (not of another doer, nor in another clause than it); every asked word
is said (another modifier in its place is not it: "desert scenes" for "battle scenes"); and an
answer that is none of these ("what did critics praise", "how does the novel end") stands in
one clause with the asked words, the only thing that ties it to the question. *unconfirmed*:
such a sentence is about the asked subject and contradicts nothing, but the wording or the
binding cannot be confirmed (a verb in other words, a figure or a name in another clause).
*not documented*: nothing of the kind, or a changed constraint (another year, name, counted
group; the opposite qualifier): a mismatch, never a near match.

A claim is supported by one sentence that states it: its figures with what they count, each
bound to the same year and the same direction, its names spelled alike, no word of it denied or
said in the opposite sense, and, for a claim with a figure, every word of it in that sentence
(only the subject's name or year may come from the title or section heading). Words gathered
from two sentences support nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import analysis
from assistant.analysis import context_before
from assistant.cells import Grounding
from assistant.figures import agree, is_duration
from assistant.question import HOW_HOT, NAME_LABELS, WHOLE, WHY, Part, source_spans
from assistant.text import NEGATIONS, clean, coverage, is_instruction, section_headings
from assistant.types import Figure, Passage, Sentence, Token

ANSWERED, UNCONFIRMED, UNDOCUMENTED = "answered", "unconfirmed", "not_documented"
_RANK = {UNDOCUMENTED: 0, UNCONFIRMED: 1, ANSWERED: 2}

FACT_COVERAGE = 0.6  # share of a descriptive question's words its answer must contain
SUBJECT_COVERAGE = 0.5  # below this a sentence is not about the asked subject at all
# The entity labels (spaCy, OntoNotes) an answer of each kind carries.
ENTITY_LABELS = {"agent": {"PERSON", "ORG"},
                 "place": {"GPE", "LOC", "FAC", "ORG"},
                 "date": {"DATE", "TIME"}}
_MONEY_WORDS = {"dollars", "euros", "pounds", "usd", "eur", "gbp"}
_MEASURES = ("count", "share", "money")  # kinds whose nearby figures are often of another measure
_KIND_WORDS = {"money", "sum", "share", "percentag", "proport"}  # stems naming the answer type

# Qualifiers, by axis: (one side, the other side). A question or claim on one side is not
# answered or supported by a sentence on the other ("lighter" / "darker", "up" / "down").
_QUALIFIERS = {
    "direction": ({"up", "rise", "rises", "rose", "risen", "rising", "increase", "increased",
                   "increases", "increasing", "grew", "grow", "grows", "growth", "higher", "more"},
                  {"down", "fall", "falls", "fell", "fallen", "falling", "decrease", "decreased",
                   "decreases", "decline", "declined", "declines", "drop", "dropped", "drops",
                   "lower", "less", "fewer", "shrank"}),
    "order": ({"before", "prior"}, {"after"}),
    "rank": ({"first", "earliest"}, {"last", "latest", "final"}),
    "extreme": ({"largest", "biggest", "highest", "most", "maximum", "greatest", "longest",
                 "oldest"},
                {"smallest", "lowest", "least", "fewest", "minimum", "shortest", "youngest"}),
    "size": ({"larger", "bigger", "wider", "greater", "longer", "heavier", "taller"},
             {"smaller", "narrower", "shorter"}),
    "shade": ({"lighter", "lightest", "light"}, {"darker", "darkest", "dark"}),
    "sex": ({"men", "man", "male", "boys", "brother", "brothers", "father", "son"},
            {"women", "woman", "female", "girls", "sister", "sisters", "mother", "daughter"}),
    "status": ({"official"}, {"unofficial"}),
    "reality": ({"real", "actual"}, {"fictional", "fictitious", "imaginary"}),
    "quality": ({"best", "better"}, {"worst", "worse"}),
    "opening": ({"open", "opens", "opened", "opening", "reopen", "reopens", "reopened",
                 "reopening"}, {"close", "closes", "closed", "closing"}),
}
# "Which law ...": the answer names a thing of that kind (spaCy's label), not only the topic.
_WHICH = re.compile(r"^\s*(?:which|what)\s+(law|statute|act|company|organi[sz]ation|agency|"
                    r"group|person|colou?r|nationality)\b", re.I)
_COLOURS = {"red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown",
            "black", "white", "grey", "gray", "olive", "amber", "golden", "silver", "scarlet",
            "crimson", "maroon", "turquoise", "chestnut", "buff", "tawny", "ochre", "beige"}
_WHICH_LABELS = {"law": {"LAW"}, "statu": {"LAW"}, "act": {"LAW"}, "compa": {"ORG"},
                 "organ": {"ORG"}, "agenc": {"ORG"}, "group": {"ORG"}, "perso": {"PERSON"},
                 "natio": {"NORP"}}
_HOW_MANY = re.compile(r"\bhow\s+many\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|without)\b|n't\b", re.I)
# A "why" is answered by a sentence that gives a reason.
_REASON = re.compile(r"\b(because|since|due to|owing to|as a result|so that|in order to|"
                     r"driven by|caused by|reasons?|thanks to|given that|therefore|which is why|"
                     r"that is why)\b|,\s+so\s+(?!that\b|far\b|much\b|many\b)", re.I)
# "Which city ...": the answer is a place of that kind, not any organisation.
_PLACE_NOUNS = re.compile(r"\b(?:what|which)\s+(?:city|country|town|state|county|nation|capital)\b",
                          re.I)
# Where one clause of a sentence ends and the next begins: what a figure is bound to is read
# inside its own clause ("36.2 million in 2023, up from 32 million in 2022").
_CLAUSE_BREAK = re.compile(
    r";|\(|\)|\s[-\u2013\u2014]\s|,?\s(?=(?:up|down)\s+from\b)|"
    r",?\s(?=(?:compared\s+(?:with|to)|versus|while|whereas)\b)|,\s(?=(?:and|but)\s)", re.I)


@dataclass
class Verdict:
    """What a sentence does for a part, and why: kept so the decision can be explained."""

    outcome: str  # answered | unconfirmed | not_documented
    reason: str
    coverage: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == ANSWERED


def weakest(*verdicts: Verdict) -> Verdict:
    return min(verdicts, key=lambda v: _RANK[v.outcome])


# -- a question part --------------------------------------------------------------------------


def decide(part: Part, sentence: Sentence | str, context: set[str] | str = frozenset(), *,
           strict: bool = True, heading: set[str] | None = None) -> Verdict:
    """What `sentence` (with `context`: the terms of its passage's title, section and earlier
    sentences, where its subject may be named) does for `part`.

    `heading` (the terms of the passage's title and section) is where a description's words
    may come from besides the sentence itself; by default the whole context.
    strict=False is the naive check (a figure of the right kind, most words shared); it exists
    to show in the eval gate what the answer decision prevents.
    """
    if isinstance(sentence, str):
        sentence = analysis.as_sentence(sentence)
    if isinstance(context, str):
        context = {t for s in analysis.sentences(context) if not s.negated for t in s.terms}
    condition = _condition(part, sentence)
    if sentence.negated and part.kind != "fact" and not _NEGATION.search(part.label) and not (
            condition and _negations(sentence) <= condition) and not _denies_another(
            part, sentence):  # "when ... no longer visible"
        return Verdict(UNDOCUMENTED, "the sentence says what is not, or is not known")
    question = analysis.as_sentence(part.label)
    if not sentence.negated and not WHY.match(part.label) and \
            question.negated:  # "what was not shaped by ..."
        return Verdict(UNDOCUMENTED, "the question asks what is not; the sentence says what is")
    if sentence.negated and not question.negated and not WHY.match(part.label) and \
            _withholds(sentence):  # "the report does not give a percentage of duplicates"
        return Verdict(UNDOCUMENTED, "the sentence says what a source does not state")
    asks_what = _WH_WORD.match(part.label) or WHY.match(part.label)  # "is there ...": "no"
    if asks_what and (why := negation_changed(question, sentence)):  # may be the answer
        return Verdict(UNDOCUMENTED, why)
    found, figures = _answers_of_kind(part, sentence, strict)
    located = _located(part, sentence)
    # a glossary entry's term, a frequency word on the asked thing: bound by their structure
    given = _defined(part, sentence) or _frequency(part, sentence) or _spelled_out(
        part, sentence) or _entry_for(part, sentence)
    in_words = not found and strict and _in_words(part, sentence)  # at most unconfirmed
    found = found or bool(condition) or located or given or in_words
    if not found and (part.wants_figure or not strict):
        return Verdict(UNDOCUMENTED, f"no {part.kind} the question does not already give")
    units = _unit_terms(sentence)  # "psi" says pressure
    dimension = _DIMENSION.search(part.label)
    saying = _DIMENSIONS[dimension.group(1).lower()][0] if dimension else set()
    if saying & set(sentence.terms):
        units |= saying  # "weighs" says how heavy
    sent_terms = set(sentence.terms) | units
    all_terms = sent_terms | set(context)
    cov = coverage(part.terms, all_terms)
    if not strict:
        return Verdict(ANSWERED if cov >= 0.5 else UNDOCUMENTED, "naive overlap", cov)

    # A changed constraint: about something else, not a near match.
    missing_focus = [t for t in part.focus if not _mentions(t, sent_terms)
                     and not _kind_word(t, figures)]
    if missing_focus:
        return Verdict(UNDOCUMENTED, "the sentence does not mention "
                       + ", ".join(missing_focus), cov)
    for name in part.names:
        if not all(t in all_terms for t in name):
            return Verdict(UNDOCUMENTED, f"nothing names {' '.join(name)}", cov)
    unnamed = [t for t in part.proper if t not in all_terms]
    if unnamed:
        return Verdict(UNDOCUMENTED, f"nothing names {', '.join(unnamed)}", cov)
    if why := respelled(part.label, sentence):
        return Verdict(UNDOCUMENTED, why, cov)
    # "Of the 36.2 million reports ..., how many ...": the whole counted from, not a constraint
    asked_of = WHOLE.sub("", part.label)
    other = [f.text for f in analysis.as_sentence(asked_of).figures
             if f.kind != "year" and not any(f.same_as(g) for g in sentence.figures)
             and not _numbered(asked_of, f, sentence.text)]
    if other:
        return Verdict(UNDOCUMENTED, f"it does not state {', '.join(other)}", cov)
    for year in part.years:
        if year not in all_terms:
            return Verdict(UNDOCUMENTED, f"not stated for {year}", cov)
    if part.years and figures and part.kind != "date":
        figures = [f for f in figures if _years_agree(part.years, _years_of(sentence, f))]
        if not figures:
            return Verdict(UNDOCUMENTED, f"its figures are for another year than "
                           f"{', '.join(part.years)}", cov)
    if why := _other_period(part.label, sentence.text):
        return Verdict(UNDOCUMENTED, why, cov)
    asked, stated = _signs(question, sentence), _signs(sentence, question)
    # "fitted before it reopened": "reopened after they were fitted" holds the order,
    # "reopened before they were fitted" reverses it
    swapped = "order" in asked and _events_swapped(question, sentence)
    opposite = [axis for axis, sides in asked.items() if stated.get(axis) and (
        (not sides & stated[axis]) != (axis == "order" and swapped))]
    if opposite:
        return Verdict(UNDOCUMENTED, f"it states the opposite {opposite[0]}", cov)
    if why := opposed(question, sentence):
        return Verdict(UNDOCUMENTED, why, cov)

    # The subject holds and nothing is contradicted: what cannot be confirmed.
    # "after" may name the event alone ("after the dam was built"), not "after Alan Kerr"
    doubts = [f"it does not state the asked {axis}" for axis in asked if axis not in stated
              and (axis != "order" or _ordered_by_name(part))]
    if said := _unresolved(question):  # "How much did that cost": a follow-up nothing resolved
        doubts.append(f"the question does not say what '{said}' is")
    own = sent_terms | (set(context) if heading is None else heading)  # not earlier sentences
    # a name only an earlier sentence gives: "It has a capacity of ..." may be another's
    doubts += [f"only an earlier sentence names {' '.join(name)}" for name in part.names
               if not all(t in own for t in name)]
    if dimension and figures and not any(_measures(dimension.group(1), sentence, f)
                                         for f in figures):
        doubts.append(f"no figure is said to be how {dimension.group(1)}")
    hidden = [w for w in _hidden_nouns(part) if w not in {t.lemma for t in sentence.tokens}]
    if hidden:  # "at its source": a noun the content words leave out is still asked
        doubts.append(f"it does not say {', '.join(hidden)}")
    if not found:  # "he", "the festival": no one the question does not already name
        doubts.append(f"it names no {part.kind} the question does not already give")
    elif not (condition or located or given) and (why := unbound(part, sentence)):
        doubts.append(why)  # a condition or place on the asked verb is bound by construction
    lent = (set(context) if heading is None else heading) | units  # what a heading may say
    if not condition and (why := displaced(part, sentence, sent_terms | lent)):
        doubts.append(why)
    if why := roles_changed(part, sentence):
        doubts.append(why)
    if why := unsaid_of(part, sentence, figures):
        doubts.append(why)
    if why := renamed(part, sentence) or _other_place(question, sentence):
        doubts.append(why)
    if part.wants_figure:
        if part.kind in ("date", "duration") and (unsaid := _unsaid(part, sentence, lent)):
            doubts.append(f"it does not say {', '.join(unsaid)} in its sentence")  # "when"
        if part.kind == "duration" and part.nominal and not any(  # "how long does the autolyse
                _mentions(t, own) for t in part.nominal):  # last": what lasts, not the passage's
            doubts.append(f"it does not say {', '.join(part.nominal)} in its sentence")
        if part.kind in ("count", "money") and (why := _part_of(part, sentence, figures)):
            return Verdict(UNDOCUMENTED, why, cov)  # a smaller group than asked
        missing = [t for t in part.terms if t not in all_terms and not _kind_word(t, figures)]
        if any(t in part.nominal for t in missing):  # another measure or group: arrests, not
            return Verdict(UNDOCUMENTED, f"nothing states {', '.join(missing)}", cov)  # reports
        # a verb in other words ("had 14,212 registered runners" for "started"), or, for a
        # count or a sum, only in an earlier sentence of the passage (a share may lean on the
        # whole the sentence before names: "... 212,000 ballots cast. Mail ballots made up 41
        # percent of the total.")
        # "What was the population of Perth": the measure a figure is, in its own sentence
        # The asked verb in the figure's own sentence: a heading names what a passage is about
        # ("Reports and Urgent Escalations"), not what each of its figures counts.
        unsaid = missing + [t for t in part.predicate + part.described
                            if part.kind in ("count", "money") and t not in part.proper
                            and t not in missing and not _mentions(
                                t, sent_terms if t in part.predicate else own)]
        if unsaid:
            doubts.append(f"nothing states {', '.join(unsaid)}")
        if figures and part.focus and not any(_bound_to(part.focus, sentence, f)
                                              for f in figures):
            doubts.append(f"no figure is tied to {', '.join(part.focus)} in its clause")
        if figures and (why := _figure_unbound(part, sentence, figures)):
            doubts.append(why)
        measure = _MEASURE.match(part.label)  # "what was the operating profit of ..."
        if figures and measure and not any(
                _bound_to(analysis.terms(measure.group("m")), sentence, f) for f in figures):
            doubts.append(f"no figure is tied to {measure.group('m')} in its clause")
    else:
        shared = len((own if _of_heading(part, sentence) else sent_terms) & set(part.terms))
        if cov < SUBJECT_COVERAGE or not shared:
            return Verdict(UNDOCUMENTED, "the sentence says little about the question", cov)
        if not given and (cov < FACT_COVERAGE or shared < min(2, len(part.terms))):
            doubts.append("it shares too few of the question's words")
        # The asked relation, in the sentence or its heading: an earlier sentence of the
        # passage cannot lend it; nor its constraints (a name, an adjective, a year): one
        # changed ("newest" for "oldest", another name) does not hold.
        # "why isn't that number known": a source that does not give it says it is not known
        unknown = question.negated and _withholds(sentence, anywhere=True)
        if part.kind in ("fact", "agent") and part.predicate and not given and not any(
                _mentions(t, own) or unknown and t == "know" for t in part.predicate):
            doubts.append(f"it does not say {', '.join(part.predicate)}")
        # what the question asks, word for word, in the sentence (or its heading): "where were
        # the *battle* scenes shot" is not "the desert scenes were shot near ..."
        if unsaid := _unsaid(part, sentence, lent):
            doubts.append(f"it does not say {', '.join(unsaid)}")
        if not given and (why := untied(part, sentence, lent, units) or undefined(
                part, sentence) or replaced(part, sentence, lent)):
            doubts.append(why)
        unheld = [t for t in part.terms if (t in part.proper or t in part.qualifying or
                                            analysis.YEAR.fullmatch(t)) and not _mentions(t, own)]
        if unheld:
            doubts.append(f"it does not say {', '.join(unheld)}")
        wanted = _WHICH.search(part.label)
        named = wanted and (given or _names_kind(part, sentence, wanted.group(1).lower()))
        if part.kind == "fact" and wanted and not named:
            doubts.append(f"it names no {wanted.group(1)}")
        # "which company": a company's name says it; a description states its own words
        unsaid = [t for t in part.described if part.kind == "fact" and not (
            named and t in analysis.terms(wanted.group(1))) and not _mentions(
            t, sent_terms if t in part.qualifying and not _heading_names(
                part, t, lent, sent_terms) else own)]  # a heading names, not qualifies
        if unsaid:
            doubts.append(f"it does not say {', '.join(unsaid)}")
        if WHY.match(part.label) and not _gives_reason(part, sentence):
            doubts.append("it gives no reason")
        if why := _unequated(question, sentence):
            doubts.append(why)
    if in_words:
        doubts.append("a share said in words, not a figure")
    if part.kind == "count" and not figures and (why := _worded_count_unbound(part, sentence)):
        doubts.append(why)
    if doubts:
        return Verdict(UNCONFIRMED, "; ".join(doubts), cov)
    return Verdict(ANSWERED, "states the asked kind for the asked subject", cov)


def _of_heading(part: Part, sentence: Sentence) -> bool:
    """The sentence opens with what its heading names: "It rises at Lake Wapusk", "Its song
    is a thin trill", "The nest, a cup of moss, ..." (the asked noun) under "Amber-throated
    warbler"; the heading's words are the sentence's own."""
    tokens = sentence.tokens
    if not tokens:
        return False
    if tokens[0].lemma.lower() in ("it", "its"):
        return True
    return len(tokens) > 1 and tokens[0].lemma == "the" and tokens[1].pos == "NOUN" and \
        tokens[1].dep in ("nsubj", "nsubjpass") and tokens[1].term in part.nominal


def _unresolved(question: Sentence) -> str:
    """A demonstrative or pronoun standing for what the question asks about, after the
    question's auxiliary ("how much did *that* cost", "what do *they* do with the reports"),
    not a relative pronoun ("the proteins *that* organisms use"): the word, or "". A personal
    pronoun counts only in a follow-up whose rewrite could not say who it is (it added the
    conversation's subject in brackets instead), and not for what the question said before it
    ("If an MSP resigns, what does *it* trigger")."""
    q = question.tokens
    follow_up = question.text.rstrip("?. ").endswith(")")
    return next((question.text[t.start - question.start:].split()[0] for k, t in enumerate(q)
                 if t.lemma in _STANDING_FOR and t.pos == "PRON" and k and q[k - 1].pos == "AUX"
                 and (t.lemma in ("that", "this") or follow_up and t.dep == "nsubj" and not any(
                     u.pos in ("NOUN", "PROPN") for u in q[:k]))), "")


_STANDING_FOR = {"that", "this", "they", "it", "he", "she"}


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth")


def _numbered(asked: str, fig: Figure, text: str) -> bool:
    """"Page 3" is "the third page": a number naming a place in a sequence, said as its
    ordinal before the same noun."""
    noun = re.search(r"\b([a-z]+)\s+$", asked[:fig.start], re.I)
    if not noun or not 1 <= fig.value <= len(_ORDINALS) or fig.value != int(fig.value):
        return False  # (a figure without a value, nan, fails the range)
    return bool(re.search(rf"\b{_ORDINALS[int(fig.value) - 1]}\s+{noun.group(1)}\b", text,
                          re.I))


_GENERIC = {"same", "thing", "kind", "sort", "type", "part", "one"}  # "the same thing as"


def _unequated(question: Sentence, sentence: Sentence) -> str:
    """Why a sentence does not answer "Is an urgent escalation the same thing as an arrest?":
    no clause of "be" has the asked thing (or a pronoun) for its subject and the asked
    predicate in its complement ("it is not itself an arrest" does); "" for other questions."""
    q, tokens = question.tokens, sentence.tokens
    if not q or q[0].lemma != "be":
        return ""
    subjects = [k for k, t in enumerate(q) if t.dep.startswith("nsubj")]
    complements = [k for k, t in enumerate(q) if t.dep in ("attr", "acomp")]
    if not subjects:  # the parser may read "Is X the same thing as Y" as two attributes
        subjects, complements = complements[:1], complements[1:]
    subject = _subtree_terms(q, subjects)
    said = _subtree_terms(q, complements) - subject - set(analysis.terms(" ".join(_GENERIC)))
    if not subject or not said:
        return ""
    for k, t in enumerate(tokens):
        if t.lemma != "be":
            continue
        doers = [j for j, u in enumerate(tokens) if u.head == k and u.dep.startswith("nsubj")]
        what = [j for j, u in enumerate(tokens) if u.head == k and u.dep in ("attr", "acomp")]
        if (any(tokens[j].pos == "PRON" for j in doers) or _subtree_terms(tokens, doers)
                & subject) and _subtree_terms(tokens, what) & said:
            return ""
    return f"no clause says whether it is {', '.join(sorted(said))}"


def _gives_reason(part: Part, sentence: Sentence) -> bool:
    """A reason word the question does not say itself ("as a result of reports" may be what
    was asked), or an infinitive of purpose on the asked verb: "Why was the start moved": "the
    start was moved from Ambleside to Bowness *to keep runners off the road*"."""
    if any(m.group(0).strip(", ").lower() not in part.label.lower()
           for m in _REASON.finditer(sentence.text)):
        return True
    tokens, asked = sentence.tokens, {v.lemma for v in relation(part).verbs}
    return any(t.dep == "advcl" and tokens[t.head].lemma in asked and t.pos == "VERB" and any(
        u.head == k and u.dep == "aux" and u.lemma == "to" and u.start < t.start
        for u in tokens) for k, t in enumerate(tokens))


def _part_of(part: Part, sentence: Sentence, figures: list[Figure]) -> str:
    """"The 63,892 escalated reports are the subset of the 2023 caseload" does not say how
    large the caseload was: its figures count another noun, and the asked one is only what
    that is a part of."""
    tokens = sentence.tokens
    counted = {tokens[tokens[c].head].term for f in figures
               if (c := _span_head(tokens, f.start, f.end)) is not None
               and tokens[c].dep == "nummod"}
    if not counted or any(_mentions(n, counted) for n in part.nominal):
        return ""
    for t in tokens:
        of = tokens[t.head]
        if t.dep == "pobj" and t.term in part.nominal and of.lemma == "of" and \
                tokens[of.head].lemma in _PARTITIVE:
            return f"its figures count a {tokens[of.head].lemma} of the {t.term}"
    return ""


_PARTITIVE = {"subset", "part", "share", "fraction", "portion", "proportion", "percentage",
              "minority", "majority", "sample"}


def _kind_word(term: str, figures: list[Figure]) -> bool:
    """"How much *money*": a word naming the answer's kind, which a figure says ("$3,980")."""
    return term in _KIND_WORDS and bool(figures)


def _heading_names(part: Part, term: str, heading: set[str], said: set[str]) -> bool:
    """Whether the heading names the thing a qualifier of the question is part of and the
    sentence, not naming that thing itself, speaks of it: under "Bulk fermentation", "the
    bulk fermentation" is the section's own subject ("During the first 2 hours, ...").
    A sentence that says "reports" without "urgent" speaks of reports in general."""
    q = analysis.as_sentence(part.label).tokens
    return term in heading and any(w.term == term and q[w.head].term in heading and
                                   q[w.head].term not in said for w in q)


def claim_answers(part: Part, claim: Sentence, evidence: Sentence, context: set[str], *,
                  strict: bool = True, heading: set[str] | None = None) -> Verdict:
    """A claim answers a part as well as its evidence sentence does, and no better than the
    claim itself: it must keep what was asked about and, for a figure, state it for the asked
    subject (the evidence sentence and its context lending the subject's words)."""
    by_evidence = decide(part, evidence, context, strict=strict, heading=heading)
    if not strict or by_evidence.outcome == UNDOCUMENTED:
        return by_evidence
    dropped = [t for t in part.focus if t not in claim.terms
               and not _kind_word(t, claim.figures)]
    if dropped:
        return Verdict(UNDOCUMENTED, f"the claim does not say {', '.join(dropped)}")
    if part.wants_figure:
        return weakest(by_evidence, decide(part, claim, context | set(evidence.terms)))
    return by_evidence


@dataclass
class Found:
    """The candidates that answer one part and those that may, best first as (index, rank):
    the rank is the question's coverage with the passage's context, then by the sentence
    alone."""

    answers: list[tuple[int, tuple[float, float]]] = field(default_factory=list)
    unconfirmed: list[tuple[int, tuple[float, float]]] = field(default_factory=list)


def answering(parts: list[Part], candidates: list[tuple[Passage, Sentence]], *,
              strict: bool = True) -> list[Found]:
    """For each part, which candidate sentences answer it and which may."""
    found = [Found() for _ in parts]
    for j, part in enumerate(parts):
        for k, (passage, sentence) in enumerate(candidates):
            verdict = decide(part, sentence, context_before(passage, sentence), strict=strict,
                             heading=heading_terms(passage, sentence))
            # of two sentences as close, the one saying more of the question itself: under
            # "Cooling and storing", "Store the loaf ... for up to 3 days" before "Let the
            # loaf cool ... for at least 1 hour" for how long a loaf can be stored
            if verdict.outcome == UNDOCUMENTED:
                continue
            rank = (verdict.coverage, coverage(part.terms, set(sentence.terms)))
            (found[j].answers if verdict.outcome == ANSWERED else found[j].unconfirmed).append(
                (k, rank))
    for f in found:
        f.answers.sort(key=lambda ks: (-ks[1][0], -ks[1][1], ks[0]))
        f.unconfirmed.sort(key=lambda ks: (-ks[1][0], -ks[1][1], ks[0]))
    return found


def heading_terms(passage: Passage, sentence: Sentence | None = None) -> set[str]:
    """The terms of a passage's title and the section heading over `sentence`: where a
    sentence's subject may be named when the sentence itself does not. A chunk may start in
    one section and run into the next ("Bulk fermentation" inside a chunk of "Mixing and
    resting"): a sentence after a heading is under it."""
    section = passage.section
    if sentence is not None:
        section = next((h for at, h in reversed(_headings(passage.text)) if at < sentence.start),
                       section)
    return set(analysis.of(passage).title_terms) | set(analysis.terms(section) if section else ())


@lru_cache(maxsize=1024)
def _headings(text: str) -> list[tuple[int, str]]:
    return section_headings(text)


def reads_as_answer(part: Part, sentence: Sentence) -> bool:
    """Would `sentence`, shown beside "not documented" for `part`, read as its answer? A count,
    share or sum does when it is of the asked kind and about something the part asks about
    (what sets it apart from its sibling parts, else any of its nouns but those naming the
    kind): the escalation count beside "arrests: not documented" does not, "53.7 percent" of
    the voters beside "share of the vote" does. For a date, a duration, a name, a place or a
    description any sentence of the asked kind does."""
    if _in_words(part, sentence):
        return True
    if not _answers_of_kind(part, sentence, True)[0]:
        return False
    if part.kind not in _MEASURES:
        return True
    needed = set(part.distinct or part.focus + part.nominal) - _KIND_WORDS
    return not needed or any(_mentions(t, set(sentence.terms)) for t in needed)


# "How many of the reports ...": a share in words ("a large majority of", "most") of them
# reads as its answer, though no figure states it
_HOW_MANY_OF = re.compile(r"\s*how\s+many\s+of\b", re.I)
_PROPORTION = re.compile(r"\b(?:(?:a|the)\s+(?:\w+\s+)?(?:majority|minority)|half|"
                         r"(?:nearly|almost)\s+all)\s+of\b|(?<!the\s)\bmost\s+(?:of\s+)?[a-z]",
                         re.I)


def _worded_count_unbound(part: Part, sentence: Sentence) -> str:
    """A count the figure reader does not read ("hundreds", which spaCy calls a cardinal) is
    bound by its clause alone: the asked verb must be said there ("reported hundreds of times,
    and that a large majority of reports involve ..." does not count what involves)."""
    cardinal = [text for label, text in sentence.entities if label in ("CARDINAL", "QUANTITY")]
    worded = [f for f in sentence.figures if any(f.text in text for text in cardinal)]
    if not part.predicate or not worded:
        return ""
    for f in worded:
        a, b = _clause_of(sentence, f)
        clause = {u.term for u in sentence.tokens if a <= u.start < b and u.term}
        if any(_mentions(t, clause) for t in part.predicate):
            return ""
    return f"no count in words is in the clause saying {', '.join(part.predicate)}"


def _in_words(part: Part, sentence: Sentence) -> bool:
    """"A large majority of CyberTipline reports" for "How many of the reports ...": a share
    of the asked set, in words; it may answer, never as a figure."""
    return bool(_HOW_MANY_OF.match(part.label) and _PROPORTION.search(sentence.text) and any(
        _mentions(t, set(sentence.terms)) for t in part.focus))


def _answers_of_kind(part: Part, sentence: Sentence, strict: bool) -> tuple[bool, list[Figure]]:
    """Whether the sentence holds an answer of the part's kind that the question does not
    already hold, and the figures that may be it (empty for an answer that is a name)."""
    given = analysis.as_sentence(part.label).figures
    figs = [f for f in sentence.figures if not any(f.same_as(g) for g in given)]
    entities = [label for label, text in sentence.entities
                if text.lower() not in part.label.lower()]
    kind = part.kind
    dimension = _DIMENSION.search(part.label)
    if dimension:  # "how wide is it": a figure in a unit of width
        figs = [f for f in figs if _fits(dimension.group(1), f)]
        return bool(figs), figs
    if kind == "share":
        figs = [f for f in figs if f.kind == "percent"]
    elif kind == "date":
        figs = [f for f in figs if f.kind == "year"]
        return bool(figs) or bool(set(entities) & ENTITY_LABELS["date"]), figs
    elif kind == "duration":
        figs = [f for f in figs if is_duration(f)]
    elif kind == "money":
        figs = [f for f in figs if f.kind == "money" or f.unit in _MONEY_WORDS]
    elif kind == "count":  # "one button": a lone "one" is not a figure, but spaCy counts it
        things = _HOW_MANY.search(part.label) and not any(  # "how many volunteers": not hours
            is_duration(Figure("", 0, "number", t)) for t in part.focus)
        years = {text for label, text in sentence.entities if label == "DATE"}
        figs = [f for f in figs if _a_count(part, f) and not (things and is_duration(f))
                and not _day_of_month(sentence, f)
                and not (f.text in years and re.fullmatch(r"1\d{3}|20\d\d", f.text))]  # "in 1564"
        multiples = [f.text for f in sentence.figures if f.kind == "multiple"
                     and not _a_count(part, f)]  # "three times as many": no count
        counted = {label for label, text in sentence.entities if text.lower() not in
                   part.label.lower() and not _one_other(part, sentence, text)
                   and not any(text in m for m in multiples)}
        return bool(figs) or bool(counted & {"CARDINAL", "QUANTITY"}), figs
    elif kind in ENTITY_LABELS and strict:
        wanted = {"GPE"} if kind == "place" and _PLACE_NOUNS.search(part.label) else \
            ENTITY_LABELS[kind]
        return bool(set(entities) & wanted) or bool(_named_doers(part, sentence)), []
    else:
        return True, []
    return bool(figs), figs


def _a_count(part: Part, fig: Figure) -> bool:
    """A figure that may answer "how many" or "what was the X": a number; a temperature, when
    one is asked; "more than 900 times", when "how many times" is (occasions, not a multiple)."""
    return fig.kind == "number" or (fig.kind == "temperature" and (
        any(t.startswith("temperatur") for t in part.terms) or HOW_HOT.search(part.label))) or (
        fig.kind == "multiple" and "time" in part.focus and fig.text.endswith("times"))


def _condition(part: Part, sentence: Sentence) -> set[int]:
    """"When should rim brake pads be replaced?" asks a moment of a procedure, not a date:
    "Replace rim brake pads when the wear grooves are no longer visible", "Feed the starter
    4 to 12 hours before mixing". The words of such a clause or phrase on the asked verb, or
    none (a question of the past, "When did ...", asks a date)."""
    if part.kind != "date" or not _PROCEDURE.match(part.label) or not (
            part.predicate or part.qualifying):
        return set()
    tokens = sentence.tokens
    asked = set(part.predicate) | set(part.qualifying)
    for k, t in enumerate(tokens):
        # "Feed the starter 4 to 12 hours before mixing" after its heading, which the parser
        # may tie into one misread sentence: the asked verb before it in its clause will do
        near = t.lemma in ("before", "after") and any(
            u.term and _mentions(u.term, asked) for u in tokens[:k]) and not any(
            u.pos == "PUNCT" for u in tokens[:k])
        if not near and (t.head == k or t.dep not in ("advcl", "prep")):
            continue
        said = {tokens[t.head].term} | {u.term for u in tokens if u.head == t.head and u.dep in (
            "acomp", "attr")}  # "is ready when ...": the state asked
        if not near and not any(w and _mentions(w, asked) for w in said):
            continue
        marked = t.dep == "advcl" and any(u.head == k and u.lemma in _CONDITION_MARKS
                                          for u in tokens)
        if near or marked or (t.dep == "prep" and t.lemma in ("before", "after")):
            return {j for j in range(len(tokens)) if _within(tokens, j, k)} | (
                {j for j, u in enumerate(tokens) if u.head == t.head and u.dep == "npadvmod"})
    return set()


def _located(part: Part, sentence: Sentence) -> bool:
    """"Where will the library extend its opening hours?": "... extend Saturday opening hours
    at the Riverside branch" names the place, a name the tagger reads as a person's: the
    phrase after a locative preposition on the asked verb, with a name the question does not
    say."""
    if part.kind != "place" or not part.predicate:
        return False
    tokens = sentence.tokens
    for k, t in enumerate(tokens):
        prep = tokens[t.head]
        verb = tokens[prep.head]
        if t.dep != "pobj" or prep.dep != "prep" or prep.lemma not in _LOCATIVE or \
                not verb.term or not _mentions(verb.term, set(part.predicate)):
            continue
        phrase = [u for u in tokens if u.head == k and u.dep == "compound"] + [t]
        if any(u.pos == "PROPN" and u.term and u.term not in part.terms for u in phrase):
            return True
    return False


def _defined(part: Part, sentence: Sentence) -> bool:
    """A glossary entry names what its definition describes: "18 U.S.C. 2258A: The U.S.
    federal law that requires electronic service providers to report ..." answers "Which law
    requires electronic service providers to report ...?" when the defining noun is the asked
    thing and the definition says the asked relation; the term is not in the question."""
    entry = _ENTRY.match(sentence.text) if part.kind == "fact" and part.predicate else None
    if not entry or set(analysis.terms(entry.group("term"))) & set(part.terms):
        return False
    rel = relation(part)
    after = [t for t in sentence.tokens if t.start >= sentence.start + entry.end()]
    head = next((t for t in after if t.pos == "NOUN" and t.dep != "compound"), None)
    return bool(head and rel.thing and head.term == rel.thing and all(
        _mentions(t, {u.term for u in after}) for t in part.predicate))


def _entry_for(part: Part, sentence: Sentence) -> bool:
    """A glossary entry for the asked term answers what it is: "**Duplicate report.** A
    CyberTipline report about content ... already reported" for "How is a duplicate report
    defined?" or "What is a duplicate report, according to the glossary?"."""
    entry = _ENTRY.match(sentence.text)
    if not entry:  # most sentences are no entry: the question is read only for one that is
        return False
    label = part.label  # the source is not the term: "In , how is ... defined"
    for start, end in sorted(source_spans(label), reverse=True):
        label = label[:start] + label[end:]
    asked = _DEFINED.match(label.replace("according to", "").strip(" ,"))
    return bool(asked) and set(analysis.terms(next(g for g in asked.groups() if g))) == set(
        analysis.terms(entry.group("term")))


_DEFINED = re.compile(r"^\s*(?:in\s*,\s*)?(?:what(?:'s|\s+(?:is|are))\s+(?:meant\s+by\s+)?"
                      r"(?:an?\s+|the\s+)?(?P<x>[^,?]+?)|how\s+(?:is|are)\s+(?:an?\s+|the\s+)?"
                      r"(?P<y>[^,?]+?)\s+defined|what\s+does\s+(?:an?\s+|the\s+)?(?P<z>[^,?]+?)"
                      r"\s+mean)\s*(?:,.*)?$", re.I)


def _frequency(part: Part, sentence: Sentence) -> bool:
    """"How often is the book sale held?": "the *monthly* book sale" says it, a word of
    frequency on the asked thing, when the asked verb only says the thing happens."""
    if not _HOW_OFTEN.match(part.label):
        return False
    question = analysis.as_sentence(part.label).tokens
    if any(t.pos == "VERB" and t.lemma not in _HAPPENS for t in question):
        return False  # "how often is the sale cancelled": the verb is the relation asked
    tokens = sentence.tokens
    return any(t.lemma.lower() in _FREQUENT and tokens[t.head].term in part.nominal
               for t in tokens)


_HOW_OFTEN = re.compile(r"\s*how\s+often\b", re.I)
_HAPPENS = {"hold", "run", "organise", "organize", "stage", "take", "occur", "happen", "meet"}
_FREQUENT = {"hourly", "daily", "nightly", "weekly", "fortnightly", "monthly", "quarterly",
             "yearly", "annual", "biannual", "biennial"}


# A glossary's entry: "**TERM.** The/A ...", or "TERM: The/A ..." as an answer quotes it
_ENTRY = re.compile(r"(?:\*\*|__)?(?P<term>[^:*_]{1,80}?)(?:\s*\([^)]*\))?(?:[.:](?:\*\*|__)|:)"
                    r"\s+(?:An?|The)\s")


def _negations(sentence: Sentence) -> set[int]:
    return {k for k, t in enumerate(sentence.tokens) if t.lemma in NEGATIONS}


_STANDS_FOR = re.compile(r"\bwhat\s+(?:does|do|did)\s+(?:the\s+)?(?:abbreviation\s+|acronym\s+)?"
                         r"(?P<x>[A-Z][A-Za-z&]{1,7})s?\s+(?:stand\s+for|mean)\b", re.I)


def _spelled_out(part: Part, sentence: Sentence) -> bool:
    """"What does CSAM stand for": the sentence names CSAM and has words whose initials spell
    it ("child sexual abuse material (CSAM)", "**CSAM.** Child sexual abuse material.")."""
    asked = _STANDS_FOR.search(part.label)
    if not asked or not asked.group("x").isupper():
        return False
    letters = asked.group("x").replace("&", "").lower()
    if not re.search(rf"\b{re.escape(asked.group('x'))}s?\b", sentence.text):
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w-]*", sentence.text) if w.lower() not in (
        "of", "and", "for", "the", "to", "in", "on")]
    initials = "".join(w[0].lower() for w in words)
    return any(initials[k:k + len(letters)] == letters and words[k] != asked.group("x")
               for k in range(len(initials)))


_WITHHOLDING = {"give", "state", "say", "report", "document", "publish", "include", "provide",
                "record", "show", "list", "mention", "specify", "disclose", "reveal", "release"}


def _withholds(sentence: Sentence, anywhere: bool = False) -> bool:
    """Its main verb (or, `anywhere`, any verb) says what a source does not give: no answer to
    what the source found."""
    tokens = sentence.tokens
    return any(t.lemma in NEGATIONS and (anywhere or tokens[t.head].head == t.head)
               and tokens[t.head].lemma in _WITHHOLDING for t in tokens)


def _denies_another(part: Part, sentence: Sentence) -> bool:
    """"She was nominated for the Nobel Prize five times *but never won it*": every negation
    stands in a verb coordinated with the asked one, which the sentence affirms."""
    tokens, negations = sentence.tokens, _negations(sentence)
    asked = {v.lemma for v in relation(part).verbs}
    said = {_clause_root(tokens, k) for k, t in enumerate(tokens)
            if t.lemma in asked and t.pos == "VERB"}
    return bool(said and negations) and all(
        (r := _clause_root(tokens, n)) not in said and tokens[r].dep == "conj"
        and _clause_root(tokens, tokens[r].head) in said for n in negations)


_PROCEDURE = re.compile(r"\s*when\s+(?:should|must|can|could|will|would|may|might|do|does|is|are)"
                        r"\b", re.I)
_CONDITION_MARKS = {"when", "once", "until", "after", "before", "if"}


def _one_other(part: Part, sentence: Sentence, text: str) -> bool:
    """"answers one question" counts no reports: a lone "one" (spaCy's number, not the figure
    reader's) counts only the noun it stands before, and that must be the asked one."""
    if text.lower() != "one" or not part.focus:
        return False
    at = [k for k, t in enumerate(sentence.tokens) if t.lemma == "one"]
    nouns = {sentence.tokens[sentence.tokens[k].head].term for k in at
             if sentence.tokens[k].dep == "nummod"}
    return not any(_mentions(f, nouns) for f in part.focus)  # "one of the largest": none


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MONTH_BEFORE = re.compile(_MONTH + r"\s+$", re.I)
_MONTH_AFTER = re.compile(r"^(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b", re.I)


def _day_of_month(sentence: Sentence, fig: Figure) -> bool:
    """"July 14, 2015" holds no count of 14."""
    if not (fig.value == int(fig.value) and 1 <= fig.value <= 31):
        return False
    a, b = fig.start - sentence.start, fig.end - sentence.start
    return bool(_MONTH_BEFORE.search(sentence.text[max(0, a - 12):a])
                or _MONTH_AFTER.match(sentence.text[b:b + 14]))


# A figure's unit says what it measures: "25 to 35 psi" is a pressure ("what tyre pressure").
_UNIT_MEASURES = {"psi": "pressure", "bar": "pressure", "kpa": "pressure", "pa": "pressure",
                  "newton": "torque", "nm": "torque", "km/h": "speed", "mph": "speed"}


def _unit_terms(sentence: Sentence) -> set[str]:
    """The terms of the measures the sentence's figures are in: what its units say."""
    words = {f.kind for f in sentence.figures if f.kind in ("temperature", "money")} | {
        _UNIT_MEASURES[f.unit.lower()] for f in sentence.figures
        if f.unit.lower() in _UNIT_MEASURES}
    return set(analysis.terms(" ".join(sorted(words)))) if words else set()


def _mentions(term: str, terms: set[str]) -> bool:
    """The term, or the word for who does it: "vote" is mentioned by "voters" (the stemmer
    leaves "voter" whole but cuts "reviewers" to "review")."""
    return term in terms or any(
        len(a) >= 3 and b in (a + "r", a + "er", a + "or")
        for t in terms for a, b in ((term, t), (t, term)))


# "How wide is the river": a figure in a unit of the dimension, said to be that wide ("1.2
# kilometres wide", "a width of"), not any length in the sentence ("froze for 190 days").
_DIMENSION = re.compile(r"\bhow\s+(long|wide|tall|high|deep|far|old|heavy)\s+(?:is|are|was|"
                        r"were)\b", re.I)
_LENGTH = {"m", "km", "cm", "mm", "mi", "ft", "feet", "foot", "yard", "yards", "inch", "inches",
           "metre", "metres", "meter", "meters", "kilometre", "kilometres", "kilometer",
           "kilometers", "centimetre", "centimetres", "centimeter", "centimeters", "millimetre",
           "millimetres", "millimeter", "millimeters", "mile", "miles"}
_DIMENSIONS = {  # the words that say it (as terms), the units that fit
    "long": ({"long", "length"}, _LENGTH),
    "wide": ({"wide", "width", "across"}, _LENGTH),
    "tall": ({"tall", "high", "height"}, _LENGTH),
    "high": ({"tall", "high", "height", "altitud", "elev"}, _LENGTH),
    "deep": ({"deep", "depth"}, _LENGTH),
    "far": ({"far", "away", "distanc"}, _LENGTH),
    "old": ({"old", "age"}, {"year", "years", ""}),
    "heavy": ({"heavi", "weigh", "weight"}, {"kg", "g", "t", "lb", "lbs", "tonne", "tonnes",
                                              "ton", "tons", "kilogram", "kilograms", "gram",
                                              "grams", "pound", "pounds"}),
}


def _fits(dimension: str, fig: Figure) -> bool:
    """The figure is in a unit of the dimension (or, for "how long", a duration)."""
    return fig.unit.lower() in _DIMENSIONS[dimension][1] or (
        dimension == "long" and is_duration(fig))


def _measures(dimension: str, sentence: Sentence, fig: Figure) -> bool:
    """The figure's clause says which dimension it is ("22 kilometres west of Perth" is how
    far, whatever it says)."""
    words = _DIMENSIONS[dimension][0]
    if dimension == "far":
        return True
    a, b = _clause_of(sentence, fig)
    return bool(words & set(analysis.terms(sentence.text[a - sentence.start:b - sentence.start])))


# -- a claim ------------------------------------------------------------------------------------


@dataclass
class Evidence:
    """The sentence of a passage that best supports a claim, located for highlighting."""

    passage_index: int  # 0-based into the draft's passages
    sentence: Sentence  # offsets in the passage text
    coverage: float
    cell: Grounding | None = None  # the table cell it is, when it is one
    note: str = ""  # for a gap: what the table does give


def support(claim: Sentence, indexes: list[int], passages: list[Passage], *,
            threshold: float, numeric_guard: bool = True) -> tuple[Evidence | None, str]:
    """The cited sentence that states the claim, or None and why no sentence does.

    It holds the claim's figures with what they count (and each bound to the claim's year and
    direction), has the same polarity, names the claim's names, and holds at least half the
    claim's words, most of them with its title; a claim with a figure must have every word in
    that sentence. A sentence quoted whole supports itself.
    """
    claim_terms = set(claim.terms)
    figures = [f for f in claim.figures if f.kind != "year"]
    names = _name_terms(claim)
    why = "no sentence of the cited passages supports it"
    candidates: list[Evidence] = []
    for i in indexes:
        p = passages[i]
        for sentence in analysis.of(p).sentences:
            if sentence.negated != claim.negated or is_instruction(sentence.text):
                continue
            if numeric_guard and not all(_figure_in_context(f, claim, sentence, claim_terms)
                                         for f in figures):
                continue
            sent_terms = set(sentence.terms)
            if coverage(claim.terms, sent_terms) < 0.5:
                continue  # a title cannot carry a claim on its own
            subject = heading_terms(p, sentence)
            problem = _unbound(claim, sentence, subject, figures, names)
            if problem:
                why = problem
                continue
            candidates.append(Evidence(i, sentence, coverage(claim.terms, sent_terms | subject)))
    candidates.sort(key=lambda ev: -ev.coverage)
    quoted = _words(claim.text)
    for ev in candidates:
        if _words(ev.sentence.text) == quoted:
            return ev, ""
    best = candidates[0] if candidates else None
    if best and best.coverage >= threshold:
        return best, ""
    return None, why


def _unbound(claim: Sentence, sentence: Sentence, subject: set[str], figures: list[Figure],
             names: set[str]) -> str:
    """How the sentence fails to state what the claim binds together, or ""."""
    if why := _other_period(claim.text, sentence.text):
        return why
    stated = _signs(sentence, claim)
    if any(g.value < 0 for g in sentence.figures):  # "-5.2%" states a fall
        stated.setdefault("direction", set()).add(1)
    for axis, sides in _signs(claim, sentence).items():
        if not sides & stated.get(axis, set()):
            return (f"the source states the opposite {axis}" if stated.get(axis) else
                    f"the source does not state its {axis}")
    if why := negation_changed(claim, sentence) or opposed(claim, sentence) or \
            respelled(claim.text, sentence):
        return why
    sent_terms = set(sentence.terms)
    unnamed = sorted(t for t in names if t not in sent_terms and t not in subject)
    if unnamed:
        return f"the sentence does not name {', '.join(unnamed)}"
    if not figures:
        return ""
    lent = names | {t for t in claim.terms if analysis.YEAR.fullmatch(t)}
    written = set(analysis.terms(" ".join(f.text for f in claim.figures)))  # "1.5 times"
    unsaid = [t for t in claim.terms if t not in sent_terms | written
              and not (t in subject and t in lent)]
    if unsaid:
        return (f"the sentence that states {figures[0].text} does not say "
                f"{', '.join(unsaid)}")
    for f in figures:
        claimed = _years_of(claim, f)
        if not claimed:
            continue
        bound = [_years_of(sentence, g) for g in sentence.figures
                 if agree(f, claim.text, g, sentence.text)]
        if bound and not any(_years_agree(sorted(claimed), years) for years in bound):
            return (f"the source gives {f.text} for {', '.join(sorted(set().union(*bound)))}, "
                    f"not {', '.join(sorted(claimed))}")
        taken = _years_elsewhere(sentence, f)
        if bound and not any(bound) and claimed <= taken:
            return f"the source gives {', '.join(sorted(claimed))} for another figure"
    return ""


def _figure_in_context(fig: Figure, claim: Sentence, sentence: Sentence,
                       claim_terms: set[str]) -> bool:
    """The sentence states this figure, and the claim keeps what the figure is about.

    "63,892 reports were made" is not supported by "63,892 reports were escalated to law
    enforcement": the words around a figure in the source are part of its meaning, and a claim
    that drops most of them states a different quantity.
    """
    for g in sentence.figures:
        if not agree(fig, claim.text, g, sentence.text):
            continue
        before = sentence.text[:g.start - sentence.start].split()[-_WINDOW:]
        after = sentence.text[g.end - sentence.start:].split()[:_WINDOW]
        around = list(analysis.terms(" ".join(_clause_words(before, reverse=True)
                                              + _clause_words(after))))
        if coverage(around, claim_terms) >= 0.5:
            return True
    return False


def _clause_words(tokens: list[str], reverse: bool = False) -> list[str]:
    """The tokens up to the nearest clause break (, ; : parentheses) on the figure's side."""
    out = []
    for tok in reversed(tokens) if reverse else tokens:
        if reverse and tok.endswith((",", ";", ":", ")")):
            break
        out.append(tok)
        if not reverse and tok.endswith((",", ";", ":", "(", ".")):
            break
    return out[::-1] if reverse else out


_WINDOW = 6


def _words(text: str) -> list[str]:
    """A sentence's words, for telling a verbatim quote from a rewording."""
    return re.findall(r"\w+", clean(text).lower())


def _name_terms(sentence: Sentence) -> set[str]:
    """The terms of the names a sentence states (people, organisations, places, ...)."""
    return {t for label, text in sentence.entities if label in NAME_LABELS
            for t in analysis.terms(text)}


# -- what a figure is bound to -------------------------------------------------------------------


def _clauses(sentence: Sentence) -> list[tuple[int, int]]:
    """(start, end) of each clause, in the offsets of the sentence's figures."""
    cuts = [sentence.start + m.start() for m in _CLAUSE_BREAK.finditer(sentence.text)]
    bounds = [sentence.start, *cuts, sentence.end]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _clause_of(sentence: Sentence, fig: Figure) -> tuple[int, int]:
    return next(((a, b) for a, b in _clauses(sentence) if a <= fig.start < b),
                (sentence.start, sentence.end))


def _years_of(sentence: Sentence, fig: Figure) -> set[str]:
    """The years a figure is stated for: those in its own clause, else those in a clause
    without figures of its own ("In 2023, NCMEC escalated 63,892 reports"), else the year the
    sentence opens with."""
    a, b = _clause_of(sentence, fig)
    own = {y for g in sentence.figures if g.kind == "year" and a <= g.start < b
           for y in _years(g)}
    if own:
        return own
    free = set()
    for c, d in _clauses(sentence):
        inside = [g for g in sentence.figures if c <= g.start < d]
        if inside and all(g.kind == "year" for g in inside):
            free |= {y for g in inside for y in _years(g)}
    lead = _LEADING_YEAR.match(sentence.text)  # "In 2022 Halvik reported ..., and a profit of"
    return free or ({lead.group(1)} if lead else set())


_LEADING_YEAR = re.compile(r"\s*(?:in|during|for|throughout)\s+((?:1[89]|20)\d\d)\b(?!\s*[-–])",
                           re.I)


def _years_elsewhere(sentence: Sentence, fig: Figure) -> set[str]:
    """Years bound to the sentence's other figures (in their clauses, not the figure's)."""
    a, b = _clause_of(sentence, fig)
    taken = set()
    for c, d in _clauses(sentence):
        inside = [g for g in sentence.figures if c <= g.start < d]
        if (c, d) != (a, b) and any(g.kind != "year" for g in inside):
            taken |= {y for g in inside if g.kind == "year" for y in _years(g)}
    return taken


def _years(fig: Figure) -> set[str]:
    """"2023-24" is 2023 and 2024; "2020-2024" each year from 2020 to 2024."""
    if fig.high is None or fig.high - fig.value >= 100:
        return {fig.text}
    return {str(y) for y in range(int(fig.value), int(fig.high) + 1)}


def _years_agree(asked: list[str], stated: set[str]) -> bool:
    return not stated or bool(set(asked) & stated)


def _bound_to(focus: list[str], sentence: Sentence, fig: Figure) -> bool:
    """The asked measure is named in the figure's own clause (a one-clause sentence binds
    everything in it); a comparison ("..., up from 32 million in 2022") measures what the
    clause before it does."""
    clauses = _clauses(sentence)
    if len(clauses) <= 1:
        return True
    k = clauses.index(_clause_of(sentence, fig))
    a, b = clauses[k]
    if k and _COMPARISON.match(sentence.text[a - sentence.start:b - sentence.start]):
        a = clauses[k - 1][0]
    words = set(analysis.terms(sentence.text[a - sentence.start:b - sentence.start]))
    return all(_mentions(t, words) for t in focus)


_MEASURE = re.compile(r"\s*what\s+(?:was|is|were|are)\s+(?:the|its|their)\s+"
                      r"(?P<m>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)\s+(?:of|for|in|at|on)\b", re.I)
_COMPARISON = re.compile(r",?\s*(?:up|down)\s+from\b|,?\s*compared\s+(?:with|to)\b|"
                         r",?\s*versus\b", re.I)


_MONTH_NAME = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|"
                    r"November|December)\b")  # capitalised: "may" is a verb
_RATE = re.compile(r"\b(?:a|an|per|each|every)\s+(day|week|month|quarter|year)\b", re.I)


def _other_period(asked: str, stated: str) -> str:
    """Why the sentence's period is another than the asked one, or "": "as of 31 August
    2009" for "in April 2009", "500 projects a year" for "a month"."""
    for pattern, what in ((_MONTH_NAME, "month"), (_RATE, "rate")):
        want = {m.lower() for m in pattern.findall(asked)}
        have = {m.lower() for m in pattern.findall(stated)}
        if want and have and not want & have:
            return f"it states another {what} than {', '.join(sorted(want))}"
    return ""


def _other_place(question: Sentence, sentence: Sentence) -> str:
    """Why the sentence states the asked thing of another place, or "": "the basic unit of
    territorial division in Poland" for "... in Warsaw" (the title may lend Warsaw, but the
    sentence's own "in" names another place)."""
    places = {t.lower() for label, t in sentence.entities if label in ("GPE", "LOC")}
    q, tokens = question.tokens, sentence.tokens
    said = {t.term for t in q}
    for n in q:
        if n.pos != "PROPN" or n.dep != "pobj" or n.term in sentence.terms:
            continue
        prep = q[n.head].lemma
        if prep not in ("in", "at", "on"):
            continue
        other = next((t for t in tokens if t.dep == "pobj" and t.pos == "PROPN" and
                      t.term not in said and tokens[t.head].lemma == prep and
                      any(t.lemma in p.split() for p in places)), None)
        if other is not None:
            return f"it states {prep} {other.lemma}, not {prep} {n.lemma}"
    return ""


def _ordered_by_name(part: Part) -> bool:
    """"before Alan Kerr", "after 1990": an order relative to a person or a date."""
    return any(label in ("PERSON", "DATE") and re.search(
        rf"\b(?:before|after|prior\s+to)\s+{re.escape(text)}", part.label)
        for label, text in analysis.as_sentence(part.label).entities)


# "before"/"after" joining a clause ("after what happens", "before they") orders nothing asked.
_CONJUNCTION = re.compile(r"\b(?:before|after)\s+(?=(?:what|which|who|how|it|they|he|she|we|"
                          r"you|i)\b)", re.I)


@lru_cache(maxsize=8192)
def _signs_of(text: str) -> tuple[tuple[str, frozenset[int]], ...]:
    text = _CONJUNCTION.sub(" ", text)
    words = set(re.findall(r"[a-z]+", text.lower()))
    found = []
    for axis, sides in _QUALIFIERS.items():
        signs = frozenset(k for k, side in enumerate(sides) if words & side)
        if signs:
            found.append((axis, signs))
    return tuple(found)


def _signs(sentence: Sentence, other: Sentence) -> dict[str, set[int]]:
    """The qualifiers a sentence states: axis -> the sides it takes (0, 1 or both). A word of a
    name qualifies nothing ("Limestone Falls"), nor the verb "last" ("how long did it last");
    the names of the `other` sentence it is compared with count too: a name one parse misses
    is still a name."""
    text = sentence.text
    for t in sentence.tokens:  # blanked in place: the offsets hold
        if t.lemma == "last" and t.pos == "VERB":
            at = t.start - sentence.start
            text = text[:at] + re.sub(r"^\w+", lambda m: " " * len(m.group()), text[at:])
    names = {name for label, name in sentence.entities + other.entities if label in NAME_LABELS}
    for name in sorted(names, key=len, reverse=True):  # "Rhine Falls" before "Rhine"
        text = text.replace(name, " ")
    return {axis: set(signs) for axis, signs in _signs_of(text)}


def _events_swapped(question: Sentence, sentence: Sentence) -> bool:
    """The two events around "before"/"after" change places between question and sentence
    ("fitted before the pool reopened", "the pool reopened after the rooms were fitted").
    Read by position, the verb before the word and the one heading the clause after it,
    which a misread parse does not move."""
    def events(s: Sentence) -> tuple[str, str] | None:
        tokens = s.tokens
        at = next((k for k, t in enumerate(tokens) if t.lemma in ("before", "after")), None)
        if at is None:
            return None
        left = [t.lemma for t in tokens[:at] if t.pos == "VERB" and t.dep not in _MODIFIERS]
        right = [t.lemma for t in tokens[at + 1:] if t.pos == "VERB" and t.dep not in _MODIFIERS]
        return (left[-1], right[0]) if left and right else None

    asked, stated = events(question), events(sentence)
    return bool(asked and stated) and asked == stated[::-1] and asked[0] != asked[1]


_MODIFIERS = {"amod", "compound"}  # "new changing rooms": no event


def _names_kind(part: Part, sentence: Sentence, kind: str) -> bool:
    """Whether the sentence names a thing of the kind "which X" asks for that the question
    does not already name: a company by an organisation's name, a colour by a colour word."""
    if kind.startswith("colo"):
        return any(_is_colour(t) and t.lemma.lower() not in part.label.lower()
                   for t in sentence.tokens)
    if kind.startswith("natio"):
        return _nationality(part, sentence)
    return any(label in _WHICH_LABELS[kind[:5]] for label, text in sentence.entities
               if text.lower() not in part.label.lower())


def _nationality(part: Part, sentence: Sentence) -> bool:
    """"What nationality was Joseph Kiprono": a nationality said of the asked name, as its
    modifier ("the *Kenyan* runner Joseph Kiprono") or what it is said to be ("Kiprono is
    Kenyan"), not of another in the sentence ("ahead of Paul Evans of Wales")."""
    tokens, names = sentence.tokens, set(part.proper)
    for k in _candidates(part, sentence, {"NORP"}):
        h = tokens[k].head
        if tokens[k].dep == "amod" and any(t.term in names and h in (j, _phrase_head(tokens, j))
                                           for j, t in enumerate(tokens)):
            return True
        if tokens[k].dep in ("acomp", "attr") and tokens[h].lemma == "be" and any(
                t.head == h and t.dep == "nsubj" and t.term in names for t in tokens):
            return True
    return False


def _is_colour(token: Token) -> bool:
    return bool(set(re.split(r"\W+", token.lemma.lower())) & _COLOURS)  # "orange-yellow" too


# -- what binds an answer to the asked relation (the dependency parse) --------------------------

# Where a new clause starts: a word with one of these relations to its head heads its own
# clause ("Knut Aas, *who led* the company", "..., *headquartered* in Trondheim"); conj and acl
# only for a verb (a pair of names is one clause).
_CLAUSE_DEPS = {"ccomp", "advcl", "relcl", "parataxis", "csubj", "acl", "conj"}
_VERBAL = {"VERB", "AUX"}
_PHRASE_DEPS = {"appos", "compound", "flat", "conj", "nmod", "poss"}  # a name inside a phrase
_DOING = {"complete", "finish", "carry", "undertake", "perform", "conduct", "begin", "start"}
_LIGHT = {"be", "have", "do", "get", "accord"}  # say nothing of the relation ("according to")
_LOCATED = {"locate", "situate", "base", "headquarter", "lie", "sit"}  # "where" says it all
_WH = {"who", "whom", "whose", "what", "which", "where", "when"}


def _clause_root(tokens: list[Token], i: int) -> int:
    """The word heading the clause word i is in."""
    for _ in tokens:
        t = tokens[i]
        if t.head == i or (t.dep in _CLAUSE_DEPS and (
                t.dep not in ("conj", "acl") or t.pos in _VERBAL)):
            return i
        i = t.head
    return i


def _shared_root(tokens: list[Token], i: int, k: int) -> int:
    """The clause of word i, widened to the first of the verbs it is coordinated with when
    word k stands before them all: a fronted "In 2024" dates each of "plans to extend ...,
    install ... and start ..." (a conjunct with a date of its own is bound to that one)."""
    root = top = _clause_root(tokens, i)
    while tokens[top].dep == "conj" and tokens[top].pos in _VERBAL and tokens[top].head != top:
        top = _clause_root(tokens, tokens[top].head)
    return top if k < top else root


def _phrase_head(tokens: list[Token], i: int) -> int:
    """The word that carries a name's role in its clause: "Thornton" in "the Mayor of Kendal,
    Peter Thornton" is the Mayor's apposition, and the Mayor is the agent."""
    for _ in tokens:
        t = tokens[i]
        if t.head == i or t.dep not in _PHRASE_DEPS or (
                t.dep == "conj" and t.pos in _VERBAL):
            return i
        i = t.head
    return i


# Prepositions that say where ("in Basel", "near the mouth"), not "such as" or "of".
_LOCATIVE = {"in", "at", "near", "on", "from", "to", "into", "through", "across", "along",
             "between", "within", "outside", "inside", "around", "off", "beside", "above", "below",
             "under", "over", "by", "past", "towards", "toward", "upstream", "downstream", "via",
             "throughout", "beyond", "behind", "opposite", "onto", "north", "south", "east", "west"}


def _locative(tokens: list[Token], k: int) -> bool:
    """Whether the place named at word k says where: the object of a preposition of place
    ("at Mannheim", "the city of Mannheim" inside one), or an adverb of place; not something
    the verb acts on ("encounters tributaries such as the Main")."""
    for _ in tokens:
        h = _phrase_head(tokens, k)
        t = tokens[h]
        if t.dep in ("npadvmod", "advmod"):
            return True
        if t.dep != "pobj" or t.head == h:
            return False
        prep = tokens[t.head]
        if prep.lemma in _LOCATIVE:
            return True
        if prep.lemma != "of" or prep.head == t.head:
            return False
        k = prep.head  # "the city of Mannheim": where the city is
    return False


def _span_head(tokens: list[Token], start: int, end: int) -> int | None:
    """The word of the span [start, end) whose head lies outside it."""
    inside = [k for k, t in enumerate(tokens) if start <= t.start < end]
    return next((k for k in inside if tokens[k].head not in inside or tokens[k].head == k),
                inside[0] if inside else None)


def _in_clause(tokens: list[Token], k: int, verb: int) -> bool:
    """Word k belongs to the clause of `verb`, or is what that clause describes ("Knut Aas" for
    "who led the company"), or is equated with it ("The first European to travel the river
    was the explorer Henry Kelsey")."""
    root = _clause_root(tokens, verb)
    if _clause_root(tokens, k) == root:
        return True
    t = tokens[root]
    if t.dep not in ("relcl", "acl"):
        return False
    n, h = _phrase_head(tokens, t.head), _phrase_head(tokens, k)
    return n == h or (tokens[n].head == tokens[h].head and tokens[tokens[n].head].lemma == "be"
                      and {tokens[n].dep, tokens[h].dep} == {"nsubj", "attr"})


def _under(tokens: list[Token], k: int, n: int) -> bool:
    """Word n governs word k inside one clause ("the supervision *of Bragg*")."""
    for _ in tokens:
        if k == n:
            return True
        if tokens[k].head == k or _clause_root(tokens, k) == k:
            return False
        k = tokens[k].head
    return False


def _role(tokens: list[Token], k: int, verb: int) -> str:
    """What word k is to `verb`: "subject" (the doer, active or by-agent), "object", or ""."""
    r = _phrase_head(tokens, k)
    t = tokens[r]
    root = _clause_root(tokens, verb)
    if tokens[root].dep == "relcl" and _phrase_head(tokens, tokens[root].head) == r:
        # "Knut Aas, who led ...": the relative word's role is the name's
        rel = [j for j, u in enumerate(tokens) if u.head == verb and u.lemma in
               ("who", "that", "which")]
        return {"nsubj": "subject", "dobj": "object", "nsubjpass": "object"}.get(
            tokens[rel[0]].dep, "") if rel else ""
    if t.head == verb:
        return {"nsubj": "subject", "dobj": "object", "nsubjpass": "object"}.get(t.dep, "")
    if t.dep == "pobj" and tokens[t.head].dep == "agent" and tokens[t.head].head == verb:
        return "subject"
    v = tokens[verb]  # "founded and led": the second verb shares the first one's subject
    if v.dep in ("conj", "xcomp") and v.head != verb and not any(
            u.head == verb and u.dep.startswith("nsubj") for u in tokens):
        return _role(tokens, k, v.head)
    return ""


@dataclass
class Relation:
    """What a question asks about its answer, read from its parse: the verbs (or, for "be",
    the nouns) the answer must be bound to, and the role the asked word plays ("Who *won*":
    the subject; "Who did she marry": the object)."""

    verbs: list[Token]  # the question's own tokens
    nouns: list[str]
    role: str  # subject | object | ""
    thing: str = ""  # "Which *company* did it acquire": the term of what the answer is
    objects: list[str] = field(default_factory=list)  # "Who published *a report*"


def relation(part: Part) -> Relation:
    tokens = analysis.as_sentence(part.label).tokens
    wh = next((k for k, t in enumerate(tokens) if t.lemma in _WH), None)
    asked = wh  # the word standing for the answer: "who", or "company" in "which company"
    thing = ""
    if wh is not None and tokens[wh].dep == "det" and tokens[tokens[wh].head].pos == "NOUN":
        asked = tokens[wh].head
        # "what kinds of items": items of some kind, not a thing called a kind
        thing = "" if tokens[asked].lemma in _LIGHT_NOUNS else tokens[asked].term
    lead = WHOLE.match(part.label)  # "Of the 36.2 million reports it received, ...": context
    verbs = [t for t in tokens if (t.pos == "VERB" or (  # "close" read as an adverb
        t.dep == "ROOT" and t.pos not in ("AUX", "NOUN", "PROPN"))) and t.lemma not in _LIGHT
        and not (lead and t.start < lead.end())
        and not (part.kind == "place" and t.lemma in _LOCATED)]
    role = ""
    if asked is not None and tokens[tokens[asked].head] in verbs:
        role = {"nsubj": "subject", "dobj": "object"}.get(tokens[asked].dep, "")
    nouns = [t.term for k, t in enumerate(tokens) if not verbs and k not in (wh, asked)
             and t.term and t.pos == "NOUN" and t.dep in ("nsubj", "attr", "dobj")]
    objects = [t.term for k, t in enumerate(tokens) if k not in (wh, asked) and t.term
               and t.dep == "dobj" and t.pos == "NOUN" and tokens[t.head] in verbs]
    return Relation(verbs, nouns, role, thing, objects)


def _object_kept(tokens: list[Token], verb: int, objects: list[str]) -> bool:
    """The asked object, when the sentence says it, is what its verb acts on: "Who published a
    report" is not answered by who "publish follow-through data on reports". (An object in
    other words, "designed the tower" for "the building", is left to the other checks.)"""
    said = [k for k, t in enumerate(tokens) if t.head == verb and t.dep == "dobj" and k != verb
            and t.pos == "NOUN"]  # "wrote it": "it" may be the asked book
    named = [o for o in objects if _mentions(o, {t.term for t in tokens if t.term})]
    if not named or not said:
        return True
    heads = {tokens[j].term for j in range(len(tokens)) for k in said
             if j == k or (tokens[j].head == k and tokens[j].dep in ("compound", "conj"))}
    return any(_mentions(o, heads) for o in named)


def _candidates(part: Part, sentence: Sentence, wanted: set[str]) -> list[int]:
    """The words heading each answer of the asked kind the sentence holds (entities with the
    `wanted` labels; years too for a date)."""
    spans = []
    for label, text in sentence.entities:
        if label in wanted and text.lower() not in part.label.lower():
            at = sentence.text.find(text)
            if at >= 0:
                spans.append((sentence.start + at, sentence.start + at + len(text)))
    if part.kind == "date":
        spans += [(f.start, f.end) for f in sentence.figures if f.kind == "year"
                  and f.text not in part.label]
    heads = (_span_head(sentence.tokens, a, b) for a, b in spans)
    return [k for k in heads if k is not None] + _named_doers(part, sentence)


def _named_doers(part: Part, sentence: Sentence) -> list[int]:
    """For "who": a doer named by a common noun and a name the question may hold ("funded
    mainly *by the town of Millbrook*" for "Who funded the Millbrook library's budget"), the
    by-phrase of a passive verb, or the subject of the asked verb ("*electronic service
    providers (ESPs)* are required to report"); the noun must be one the question does not
    say."""
    if part.kind != "agent":
        return []
    tokens, said = sentence.tokens, set(part.terms)
    return [k for k, t in enumerate(tokens) if t.pos == "NOUN" and t.term
            and not _mentions(t.term, said) and _named(tokens, [k]) and (
                t.dep == "pobj" and tokens[t.head].dep == "agent"
                or t.dep in ("nsubj", "nsubjpass") and tokens[t.head].term in part.predicate)
            ] + [k for k in range(len(tokens)) if _identified(part, sentence, k)]


def _identified(part: Part, sentence: Sentence, k: int) -> bool:
    """"The chairman of the board is Lars Eide" for "Who is the chairman ...": a name the
    question does not say, equated with the asked role, whatever label but a place's or a
    time's the tagger gave it (here a facility's)."""
    tokens = sentence.tokens
    t, verb = tokens[k], tokens[tokens[k].head]
    return t.pos == "PROPN" and t.dep in ("attr", "nsubj") and verb.lemma == "be" and \
        bool(t.term) and t.term not in part.terms and not any(
            label in _NOT_WHO and t.lemma.lower() in text.lower()
            for label, text in sentence.entities) and not any(
            u.pos == "PROPN" and u.term in part.terms for u in tokens if u.head == k) and any(
            u.head == t.head and u.dep in ("attr", "nsubj") and u is not t and u.pos == "NOUN"
            and u.term in part.nominal for u in tokens)


def _figure_unbound(part: Part, sentence: Sentence, figures: list[Figure]) -> str:
    """Why each figure counts something other than what was asked, or "". A figure counting a
    noun ("36.2 million reports") counts what that noun, the words under it ("2.3 million TEU
    *of containers*") and its own verb ("reports *were escalated*") name; a verb qualifying
    the noun ("reports *received*") makes another set than one the question does not qualify
    so ("how many reports did NCMEC escalate"), and so does the noun's own verb when the
    sentence leaves a word of the question unsaid ("received 36.2 million reports")."""
    tokens = sentence.tokens
    heads = [k for f in figures if (k := _span_head(tokens, f.start, f.end)) is not None]
    if not _HOW_MANY.search(part.label) or not tokens or not heads:  # a set, not an amount
        return ""
    asked = set(part.terms)
    unsaid = [t for t in part.terms if not _mentions(t, set(sentence.terms))]
    why = []
    for c in heads:
        if tokens[c].dep != "nummod":
            return ""  # a figure standing alone ("63,892 were escalated"): the words decide
        n = tokens[c].head
        near = [n, tokens[n].head] + [k for k in range(len(tokens)) if _under(tokens, k, n)]
        terms = {tokens[k].term for k in near if tokens[k].term}
        if part.focus and not any(_mentions(t, terms) for t in part.focus):
            why.append(f"{tokens[n].term}, not {', '.join(part.focus)}")
            continue
        qualified = [t.term for t in tokens if t.head == n and t.dep in ("acl", "relcl")
                     and t.pos in _VERBAL and t.term and not _mentions(t.term, asked)]
        v = tokens[tokens[n].head]
        if unsaid and tokens[n].dep in ("nsubj", "nsubjpass", "dobj") and v.pos == "VERB" \
                and v.lemma not in _LIGHT and v.term and not _mentions(v.term, asked):
            qualified.append(v.term)  # "received 36.2 million reports" for "escalate"
        if not qualified:
            return ""
        why.append(f"{tokens[n].term} {qualified[0]}")
    return f"its figures count {'; '.join(why)}"


def unbound(part: Part, sentence: Sentence) -> str:
    """Why no answer of the asked kind in the sentence is bound to the asked relation, or "":
    it must stand in the clause of the asked verb (in the asked role: the winner, not the one
    who presided), or, for a question with "be", in the clause naming what is asked ("Who is
    the chairman": "The chairman of the board is Lars Eide")."""
    tokens = sentence.tokens
    rel = relation(part)
    if part.kind in ENTITY_LABELS:
        wanted = ENTITY_LABELS[part.kind]
    elif part.kind == "fact" and rel.thing:  # "which group": a name, the group itself
        wanted = _WHICH_LABELS.get(rel.thing[:5], NAME_LABELS)
    else:
        return ""
    found = _candidates(part, sentence, wanted)
    if part.kind == "fact" and not found:
        return ""  # an answer that is not a name ("what material"): the words decide
    if not tokens:
        return ""
    if rel.verbs:
        said = [k for k, t in enumerate(tokens) if any(
            t.lemma == v.lemma or (t.term and v.term and _mentions(v.term, {t.term}))
            for v in rel.verbs)]
        verbs = [k for k in said if tokens[k].pos in _VERBAL]
        if any((_in_clause(tokens, c, v) or _clause_root(tokens, c) == _shared_root(
                tokens, v, c)) and (not rel.role or _role(tokens, c, v) == rel.role)
               and _object_kept(tokens, v, rel.objects) and (
                part.kind != "place" or _locative(tokens, c)) for c in found for v in verbs):
            return ""
        # the verb as a noun: "under the supervision of W. L. Bragg" binds what it governs,
        # and "completed a repair of the roof in the autumn" dates the repair
        if any(_under(tokens, c, n) or (tokens[n].dep == "dobj" and tokens[
                tokens[n].head].lemma in _DOING and _in_clause(tokens, c, tokens[n].head))
               for c in found for n in said if tokens[n].pos == "NOUN"):
            return ""
        if not said:
            return f"it does not say {', '.join(v.lemma for v in rel.verbs)}"
        return f"no {rel.thing or part.kind} is bound to " \
            f"{', '.join(v.lemma for v in rel.verbs)}" + (
            f" as its {rel.role}" if rel.role else "")
    if not rel.nouns:
        return ""
    nouns = [k for k, t in enumerate(tokens) if t.term in rel.nouns]
    if any(_clause_root(tokens, c) == _clause_root(tokens, n) for c in found for n in nouns):
        return ""
    return f"no {rel.thing or part.kind} is bound to {', '.join(rel.nouns)} in its clause"


def unsaid_of(part: Part, sentence: Sentence, figures: list[Figure]) -> str:
    """For "where is X (located)" and "how large is X": why the sentence says nothing of X, or
    "": X is named in it only as the place of something else ("the schools are in the
    Longwood Medical Area", "campuses ... in the Allston neighborhood") or as a source
    ("according to the American Library Association"), with no answer in its own phrase, so
    the place or size it states is another's."""
    q = analysis.as_sentence(part.label).tokens
    root = next((k for k, t in enumerate(q) if t.head == k), None)
    if root is None or q[root].lemma not in {"be"} | _LOCATED or not (
            part.kind == "place" or _DIMENSION.search(part.label) or _HOW_LARGE.match(
            part.label)):
        return ""
    subject = next((k for k, t in enumerate(q) if t.head == root and t.dep in (
        "nsubj", "nsubjpass") and t.lemma not in _WH and t.pos in ("NOUN", "PROPN")), None)
    if subject is None or not q[subject].term:
        return ""
    named = {t.term for t in q if t.head == subject and t.dep == "compound" and t.pos == "PROPN"}
    tokens = sentence.tokens
    answers = _candidates(part, sentence, ENTITY_LABELS["place"]) if part.kind == "place" \
        else [k for f in figures for k, t in enumerate(tokens) if f.start <= t.start < f.end]
    placed = []
    for k, t in enumerate(tokens):
        if t.term != q[subject].term:
            continue
        names = {u.term for u in tokens if u.head == k and u.dep in ("compound", "nmod") and
                 u.pos == "PROPN"}
        if names and not named <= names:  # "the Boston metropolitan area" is another area
            continue
        h = _phrase_head(tokens, k)
        prep = tokens[tokens[h].head]
        placed.append(tokens[h].dep == "pobj" and (prep.lemma in _LOCATIVE or (
            prep.lemma == "to" and tokens[prep.head].lemma == "accord")) and not any(
            _within(tokens, a, h) for a in answers))  # "the Plain, which is 300 km long"
    if placed and all(placed):
        return f"it names {q[subject].lemma} only as the place or source of something else"
    return ""


_HOW_LARGE = re.compile(r"\s*how\s+(?:large|big|tall|high|deep|long|wide|old)\b", re.I)


def renamed(part: Part, sentence: Sentence) -> str:
    """Why a name of the question stands in the sentence only inside another name, or "":
    "Miasta City Council" as "Warsaw City Council", "the Leon Theatre" as "Leon Schiller";
    a one-word name as a place of its own ("Czerniaków Lake"). A name the sentence extends
    ("Halvik Instruments ASA") or shortens ("Halvik") is still the question's; with a pronoun
    in the sentence the name may be its subject and the other name incidental ("She was
    born ..., the second child of Erik Lindqvist")."""
    tokens = sentence.tokens
    if any(t.pos == "PRON" and t.lemma not in _WH | {"that"} and t.dep != "expl"
           for t in tokens):  # "there are" names no one
        return ""
    q = analysis.as_sentence(part.label).tokens
    for k, w in enumerate(q):
        if w.pos != "PROPN" or not w.term:
            continue
        asked, _ = _name_run(q, k)
        runs = [_name_run(tokens, j) for j, t in enumerate(tokens) if t.term == w.term]
        if runs and not any(run <= asked or asked <= run and not (
                len(asked) == 1 and tokens[last].lemma in _PLACE_TYPES) for run, last in runs):
            return f"it names {w.lemma} only inside another name"
    return ""


def _name_run(tokens: list[Token], k: int) -> tuple[set[str], int]:
    """The terms of the run of proper nouns word k stands in ("Warsaw City Council"), and
    where the run ends."""
    a = b = k
    while a > 0 and tokens[a - 1].pos == "PROPN":
        a -= 1
    while b + 1 < len(tokens) and tokens[b + 1].pos == "PROPN":
        b += 1
    return {t.term for t in tokens[a:b + 1] if t.term}, b


# What a one-word name becomes another place by: "Czerniaków Lake" is not Czerniaków.
_PLACE_TYPES = {"lake", "valley", "river", "forest", "street", "square", "park", "bridge",
                "castle", "palace", "museum", "theatre", "theater", "church", "cathedral",
                "gate", "hall", "station", "mountain", "island", "bay", "canal", "garden",
                "avenue", "road", "district", "county", "province", "sea", "plain"}


def displaced(part: Part, sentence: Sentence, around: set[str]) -> str:
    """Why what the sentence says is said of another subject than the question's, or "".

    A subject nothing around the sentence says (`around`: its terms and its passage's title
    and heading) is not the sentence's: "Why does *time* affect solar energy"
    is not answered by "Cloud cover affects solar panels because ...". The asked verb with
    another doer: "What shows what action *the rock* will trigger" is not answered by "... the
    action *the button* will trigger", nor "When does *the Waker* take place" by "*The game*
    takes place ... in a timeline from The Wind Waker" (a common noun may stand for a name the
    sentence does not say: "the company" for Halvik Instruments). And a name, a place or a
    date must stand in the clause that names the asked subject, or under it: "Where is *Link*"
    is not answered by "After Link defeats Zant, *Midna* recovers ..."."""
    if part.kind not in ("agent", "place", "date", "fact"):
        return ""  # a figure is bound by its own checks
    q = analysis.as_sentence(part.label).tokens
    tokens = sentence.tokens
    lead = WHOLE.match(part.label)  # "Of the 84,310 items the library lent, ...": context
    asked = {k for k, t in enumerate(q) if t.lemma in _WH | {"how", "many", "much", "why"}}
    # the clauses that ask: the question's own, and one holding a question word ("what
    # action the rock will trigger"), not one that describes ("that had their trading ...")
    asking = {_clause_root(q, k) for k in asked} | {k for k, t in enumerate(q) if t.head == k}
    for i, s in ((k, t) for k, t in enumerate(q) if t.dep in ("nsubj", "nsubjpass")
                 and t.lemma.isalpha() and t.pos in ("NOUN", "PROPN") and t.head in asking
                 and not any(q[j].head == k for j in asked)
                 and not (lead and t.start < lead.end())
                 and not (t.lemma == "reason" and WHY.match(part.label))):  # asks why
        named = [k for k, t in enumerate(tokens) if _same_word(t, s)]
        if not any(t.lemma == s.lemma or {t.lemma, s.lemma} <= _COUNT_NOUNS for t in tokens) \
                and not (s.term and _mentions(s.term, around)):
            return f"it does not say {s.lemma}"
        if WHY.match(part.label):
            continue  # a reason is read by its words
        v = q[s.head]
        if v.pos == "VERB" and v.lemma not in _LIGHT:  # the doer, or the one it is done to
            done = s.dep == "nsubjpass" or any(  # spaCy may miss "were defeated" in a question
                t.head == s.head and t.lemma == "be" and t.dep.startswith("aux") for t in q)
            dep = "nsubjpass" if done else "nsubj"
            doers = [k for k, u in enumerate(tokens) if u.dep == dep and u.pos in (
                "NOUN", "PROPN") and tokens[u.head].lemma == v.lemma]
            whole = _phrase_nouns(q, i)  # "King Harold II" is not "Duke William II"
            if doers and not _undergone(q, s.head, tokens, named) and not any(
                    _under(tokens, k, d) and (_phrase_nouns(tokens, d) <= whole
                                              or whole <= _subtree_terms(tokens, [d]))
                    for k in named for d in doers) and (
                    named or s.pos == "NOUN" or tokens[doers[0]].pos == "PROPN"):
                return f"it says {_name(tokens, doers[0])} {v.lemma}, not {_name(q, i)}"
        wanted = ENTITY_LABELS.get(part.kind)
        if named and wanted and (found := _candidates(part, sentence, wanted)) and not any(
                _below(tokens, c, _shared_root(tokens, k, c)) for c in found for k in named):
            return f"it names {s.lemma} in another clause than its answer"
    return ""


_TOWARD = {"to", "into", "onto", "toward", "towards"}
_OPPOSITE = {"from": _TOWARD, **{p: {"from"} for p in _TOWARD}}
_NOUNS = {"NOUN", "PROPN"}
_AT = {"in", "at", "on", "within", "inside", "into", "onto"}


def roles_changed(part: Part, sentence: Sentence) -> str:
    """Why the sentence gives the asked verb the question's words in other roles, or "". Each
    sentence that says the verb must change a role for the part to be doubted. The swaps of
    SQuAD's unanswerable questions: the doer made the one acted on ("Who did the Normans
    encourage" for "Norman mercenaries were encouraged by the Lombards"), another phrase after
    the same preposition ("What was absorbed into the Anglo-Norman language" for "The
    Anglo-Norman language was absorbed into the Anglo-Saxon language"), the opposite
    direction ("fled from" for "fled to") or another preposition before a name ("between
    Bingen" for "after Bingen"), another object ("What precedes the Anglo-Saxon period" for
    "... succeeds that of the Anglo-Saxon and precedes the Early Gothic") or the asked object
    said in the verb's clause while the verb acts on another thing, the one acted on
    made what a preposition governs, and the asked noun of another owner ("its major
    tributary" for "the major tributary of Lake Constance")."""
    # a follow-up's rewrite adds its context in brackets: "What did its researchers call for
    # (The Stanford Internet Observatory)"; that is not what the verb governs
    q = analysis.as_sentence(re.sub(r"\s*\([^)]*\)", "", part.label)).tokens
    tokens = sentence.tokens
    for k, v in enumerate(q):
        if v.pos != "VERB" or v.lemma in _LIGHT:
            continue
        said = [j for j, t in enumerate(tokens) if t.pos == "VERB" and t.lemma == v.lemma]
        whys = [_roles_of(q, k, tokens, j) or (
            "" if part.wants_figure else _another_year(q, k, tokens, j)) for j in said]
        if whys and all(whys):
            return whys[0]
    return _owner_changed(q, tokens)


def _owner_changed(q: list[Token], tokens: list[Token]) -> str:
    """"the major tributary of Lake Constance" is not "its major tributary" when "its" is
    another's (Lake Constance not the subject of its clause), nor "the tributary of the Aare":
    each time the sentence says the asked noun, with an owner, the owner is another."""
    for k, n in enumerate(q):
        owner = next((x for x, t in enumerate(q) if t.pos == "PROPN" and (
            t.dep == "pobj" and q[t.head].lemma == "of" and q[t.head].head == k
            or t.dep == "poss" and t.head == k)), None)  # "of Lake Constance", "Leon's"
        if n.pos != "NOUN" or owner is None:
            continue
        names = _phrase_nouns(q, owner)
        said = [j for j, t in enumerate(tokens) if t.pos == "NOUN" and t.lemma == n.lemma]
        if said and all(_another_owner(tokens, j, names, q[owner].dep == "poss") for j in said):
            return f"it says the {n.lemma} of another than {_name(q, owner)}"
    return ""


def _another_owner(tokens: list[Token], k: int, names: set[str], named: bool = False) -> bool:
    """Word k belongs to another than the name: to another name, or (unless only a `named`
    owner counts: "Kublai Khan's grandfather" may be "his grandfather") to "its" in a sentence
    that says the name outside its clause's subject. A common noun ("the town") may stand for
    the name."""
    o = next((j for j, t in enumerate(tokens) if t.head == k and j != k and t.dep == "poss"
              or t.dep == "pobj" and tokens[t.head].lemma == "of" and tokens[t.head].head == k),
             None)
    if o is None or any(t.pos == "NUM" and _under(tokens, j, o) for j, t in enumerate(tokens)):
        return False  # "a discharge of 300 m3/s": a measure, not an owner
    if tokens[o].pos == "PROPN":
        return not names & _subtree_terms(tokens, [o])
    if named or tokens[o].pos != "PRON" or not names <= {t.term for t in tokens}:
        return False
    root = _clause_root(tokens, k)
    return not names & _subtree_terms(tokens, [j for j, t in enumerate(tokens) if t.head == root
                                               and j != root and t.dep.startswith("nsubj")])


def _roles_of(q: list[Token], k: int, tokens: list[Token], j: int) -> str:
    verb = q[k].lemma
    asked, stated = _arguments(q, k), _arguments(tokens, j)
    preps = {key[5:]: z for key, z in stated.items() if key.startswith("prep:")}
    acted_on = [stated["nsubjpass"]] if "nsubjpass" in stated else _objects(tokens, j)
    doer = asked.get("nsubj")
    # another name does it: "When did Dodge end production" is not "Chrysler ended production
    # of their full-sized sedans (except for the M-body Dodge Diplomat)"
    # (not "NCMEC says its CyberTipline received": the asked name said before the verb)
    if doer is not None and q[doer].pos == "PROPN" and "nsubj" in stated and not any(
            t.lemma == "be" for t in q) and \
            tokens[stated["nsubj"]].pos == "PROPN" and not _in_phrase(
                q[doer], tokens, stated["nsubj"]) and not any(
                _same_word(t, q[doer]) or t.dep == "poss" and _under(tokens, i, stated["nsubj"])
                for i, t in enumerate(tokens[:j])):
        return f"it says {_name(tokens, stated['nsubj'])} {verb}, not {_name(q, doer)}"
    # a passive's doer made the one acted on: "Who was defeated by Montcalm" is not "James
    # Wolfe defeated Montcalm"
    if (by := asked.get("agent")) is not None and any(
            _in_phrase(q[by], tokens, o) for o in acted_on) and not any(
            _in_phrase(q[by], tokens, stated[d]) for d in ("nsubj", "agent") if d in stated):
        return f"it says {_name(q, by)} is what {verb} acts on, not its doer"
    # the doer made the one acted on, or done to or with ("swear fealty to King Charles III");
    # "was Beyoncé nominated", "Where was the start moved": spaCy may miss the passive
    if doer is not None and not any(t.lemma == "be" for t in q) and any(
            _in_phrase(q[doer], tokens, o) for o in acted_on + list(preps.values())) and not (
            "nsubj" in stated and _in_phrase(q[doer], tokens, stated["nsubj"])) and not (
            _undergone(q, k, tokens, [o for o in acted_on if _in_phrase(q[doer], tokens, o)])):
        return f"it says {_name(q, doer)} is what {verb} acts on, not its doer"
    # the one acted on made what a preposition governs: "What are the smaller streams used
    # for" is not "The name is used for smaller streams"
    done = asked.get("nsubjpass")
    if done is not None and acted_on and not any(
            _in_phrase(q[done], tokens, o) for o in acted_on) and (moved := [
                p for p, z in preps.items() if _in_phrase(q[done], tokens, z)]):
        return f"it says {_name(q, done)} after {moved[0]}, not as what {verb} acts on"
    # another verb it leads to or is conditioned on: "invited Washington to dine" for "to
    # fight", "If a Constituency MSP resigns" for "is forced from Parliament"
    for dep in ("xcomp", "advcl"):
        asked_v, stated_v = _dependent_verbs(q, k, dep), _dependent_verbs(tokens, j, dep)
        if asked_v and stated_v and not asked_v & stated_v and not asked_v & {
                _spelled(t.lemma) for t in tokens if t.pos == "VERB"}:
            word = "to" if dep == "xcomp" else "if"
            return f"it says {verb} {word} {min(stated_v)}, not {min(asked_v)}"
    for key, x in asked.items():
        if not key.startswith("prep:"):
            continue
        prep, y = key[5:], preps.get(key[5:])
        # another name after the same preposition ("in the same location" may be the asked
        # place, "for 45 minutes" another sense of "for")
        if y is not None and _named(tokens, [y]) and (
                unsaid := _phrase_nouns(q, x) - _phrase_nouns(tokens, y)):
            return f"what it says {verb} {prep} is not {', '.join(sorted(unsaid))}"
        # the asked name after another preposition: "from" for "to", "from the Eocene" for
        # "before the Eocene" (in, at and on may say the same place)
        turned = [p for p, z in preps.items() if p != prep and _in_phrase(q[x], tokens, z) and (
            p in _OPPOSITE.get(prep, ()) or (_named(q, [x]) or _named(tokens, [z]))
            and not {p, prep} <= _AT)]
        if turned and y is None:
            return f"it says {verb} {turned[0]} {q[x].lemma}, not {prep}"
    # another object: the asked one, a name, said in the verb's clause outside its subject and
    # object ("captured streams down to the Vosges Mountains" for "captured the Vosges
    # Mountains"), or, the other object named, said anywhere; spaCy may give a verb two objects
    things, others = _objects(q, k), _objects(tokens, j)
    if not things or not others or _subtree_terms(q, things) & _subtree_terms(tokens, others):
        return ""
    taken = others + ([stated["nsubj"]] if "nsubj" in stated else [])
    if _named(q, things) and any(
            _same_word(t, q[o]) and _clause_root(tokens, i) == j
            and not any(_under(tokens, i, a) for a in taken)
            for o in things for i, t in enumerate(tokens)):
        return f"it says {verb} {tokens[others[0]].lemma}, not {_name(q, things[0])}"
    if _named(tokens, others) and any(_same_word(t, q[o]) for o in things for t in tokens):
        return f"it says {verb} {tokens[others[0]].lemma}, not {q[things[0]].lemma}"
    return ""


# Verbs whose subject, with no object, is what they act on otherwise: "the room reopened" is
# "the library reopened the room"
_ERGATIVE = {"open", "reopen", "close", "start", "restart", "begin", "end", "finish", "stop",
             "change", "increase", "decrease", "grow", "expand", "shrink", "move", "break",
             "resume", "halt", "merge", "split", "double", "triple", "rise", "drop"}


def _undergone(q: list[Token], verb: int, tokens: list[Token], said: list[int]) -> bool:
    """The question's verb is one of those, with no object, and the sentence has its subject
    (one of `said`) as that verb's object."""
    return q[verb].lemma in _ERGATIVE and not _objects(q, verb) and any(
        tokens[i].dep in ("dobj", "nsubjpass") and tokens[tokens[i].head].lemma == q[verb].lemma
        or any(_under(tokens, i, o) for o in _objects(tokens, tokens[i].head)
               if tokens[tokens[i].head].lemma == q[verb].lemma)
        for i in said)


def _dependent_verbs(tokens: list[Token], verb: int, dep: str) -> set[str]:
    """The verbs of what the verb has its object do ("invited him *to dine*"; not "seemed to
    explain", a verb of other words) or, for "advcl", of its condition ("*If* an MSP
    *resigns*, this triggers ...")."""
    if dep == "xcomp" and not _objects(tokens, verb):
        return set()
    return {_spelled(t.lemma) for k, t in enumerate(tokens) if t.head == verb and k != verb
            and t.dep == dep and t.pos == "VERB" and t.lemma not in _LIGHT and (
                dep == "xcomp" or any(u.head == k and u.dep == "mark" and u.lemma in (
                    "if", "when", "unless") for u in tokens))}


def _spelled(lemma: str) -> str:
    return re.sub(r"ise$", "ize", lemma)  # "scrutinise" is "scrutinize"


def _another_year(q: list[Token], k: int, tokens: list[Token], j: int) -> str:
    """"patented his engine in 1805" for "Who patented ... in 1804" (a figure's year is read
    with the figure: "served 8,450 in 2023, up from 6,900 in 2022")."""
    years = _verb_years(q, k), _verb_years(tokens, j)
    if all(years) and not years[0] & years[1]:
        return f"it says {q[k].lemma} in {min(years[1])}, not {min(years[0])}"
    return ""


def _verb_years(tokens: list[Token], verb: int) -> set[str]:
    """The years a preposition of the verb governs ("in 1805", "since 1990")."""
    return {t.lemma for t in tokens if t.dep == "pobj" and _ANY_YEAR.fullmatch(t.lemma)
            and tokens[t.head].dep == "prep" and tokens[t.head].head == verb}


_ANY_YEAR = re.compile(r"(?:1[0-9]|20)\d\d")  # histories too: "in 1805"


def _name(tokens: list[Token], k: int) -> str:
    """Word k with the words compounded into it: "king harold ii"."""
    return " ".join(t.lemma for j, t in enumerate(tokens)
                    if j == k or t.head == k and t.dep in ("compound", "flat"))


def _objects(tokens: list[Token], verb: int) -> list[int]:
    return [k for k, t in enumerate(tokens) if t.head == verb and k != verb and t.dep == "dobj"
            and t.pos in _NOUNS and not any(u.lemma in _WH and u.head == k for u in tokens)]


def _named(tokens: list[Token], heads: list[int]) -> bool:
    """A name stands under one of the words: an entity, not "the same location"."""
    return any(t.pos == "PROPN" and _under(tokens, i, k) for i, t in enumerate(tokens)
               for k in heads)


def _subtree_terms(tokens: list[Token], heads: list[int]) -> set[str]:
    """The terms under any of the words ("500 grams of flour" holds "flour")."""
    return {t.term for j, t in enumerate(tokens) if t.term
            and any(_under(tokens, j, k) for k in heads)}


def _arguments(tokens: list[Token], verb: int) -> dict[str, int]:
    """A verb's subject nouns ("nsubj", "nsubjpass") and what its prepositions govern
    ("prep:<preposition>"); question words and pronouns are not arguments."""
    found = {}
    for k, t in enumerate(tokens):
        if t.head != verb or k == verb:
            continue
        if t.dep in ("nsubj", "nsubjpass") and t.pos in _NOUNS:
            found.setdefault(t.dep, k)
        elif t.dep in ("prep", "dative", "agent"):
            x = next((j for j, u in enumerate(tokens) if u.head == k and u.dep == "pobj"
                      and u.pos in _NOUNS), None)
            if x is not None:
                found.setdefault("agent" if t.dep == "agent" else f"prep:{t.lemma}", x)
    # "What capital budget did the board approve": the asked thing is not an argument
    return {key: k for key, k in found.items()
            if not any(u.lemma in _WH and u.head == k for u in tokens)}


def _phrase_nouns(tokens: list[Token], k: int) -> set[str]:
    """The noun word k is and the nouns and names compounded with it ("the Anglo-Norman
    language"); what a preposition adds to it ("of Sciences") may come from elsewhere."""
    found = set()
    for j, t in enumerate(tokens):
        i = j
        while i != k and tokens[i].dep in ("compound", "flat") and tokens[i].head != i:
            i = tokens[i].head
        if i == k and (t.pos in _NOUNS or j != k and t.pos == "ADJ") and t.term:
            found.add(t.term)
    return found


def _in_phrase(word: Token, tokens: list[Token], k: int) -> bool:
    """The word is said under word k (spaCy may tag a name a noun in one text, not another)."""
    return any((_same_word(t, word) or t.pos in _NOUNS and t.term == word.term)
               and _under(tokens, j, k) for j, t in enumerate(tokens))


def _same_word(t: Token, s: Token) -> bool:
    """A noun of the sentence is the question's noun (names by their folded spelling:
    "Beyoncé" is "Beyonce"; nouns by lemma: "researchers" is not "research")."""
    if t.pos not in ("NOUN", "PROPN"):
        return False
    return t.term == s.term if s.pos == "PROPN" else t.lemma == s.lemma


def _below(tokens: list[Token], k: int, top: int) -> bool:
    """Word k is in the clause headed by `top` or a clause under it ("X is a maker,
    *headquartered in Y*"), in another clause describing the same phrase ("a youth named Link
    *who is working in Ordon Village*"), or is what that clause describes."""
    described = _phrase_head(tokens, tokens[top].head) if tokens[top].dep in _INNER else None
    r = _clause_root(tokens, k)
    for _ in tokens:
        if r == top or (described is not None and tokens[r].dep in _INNER
                        and _phrase_head(tokens, tokens[r].head) == described):
            return True
        if tokens[r].head == r:
            break
        r = _clause_root(tokens, tokens[r].head)
    return _in_clause(tokens, k, top)


# -- a word of the question changed: denied, of opposite sense, respelled, replaced --------------


# Words of opposite sense (lemmas). Unlike the qualifier axes, a question is only doubted when
# the sentence says the other side in place of the asked one, never for leaving both out.
_OPPOSITES = [
    ({"same", "identical"}, {"different", "distinct"}),
    ({"specific"}, {"generic", "nonspecific"}),
    ({"few", "little"}, {"many", "most", "much", "lot", "all"}),
    ({"enter", "entry"}, {"exit", "leave"}),
    ({"strengthen", "enhance", "boost", "stimulate"}, {"weaken", "inhibit", "diminish",
                                                      "suppress", "impair"}),
    ({"include"}, {"exclude"}), ({"accept"}, {"reject"}), ({"import"}, {"export"}),
    ({"allow", "permit", "enable"}, {"prevent", "forbid", "prohibit", "ban"}),
    ({"success", "succeed", "successful"}, {"fail", "failure", "unsuccessful"}),
    ({"win", "victory"}, {"lose"}), ({"buy", "purchase"}, {"sell"}),
    ({"internal"}, {"external"}), ({"inner"}, {"outer"}), ({"public"}, {"private"}),
    ({"positive"}, {"negative"}), ({"major"}, {"minor"}), ({"input"}, {"output"}),
    ({"always"}, {"never", "rarely", "seldom", "sometimes"}), ({"ancient"}, {"modern"}),
    ({"north", "northern"}, {"south", "southern"}), ({"east", "eastern"}, {"west", "western"}),
    ({"rural"}, {"urban"}), ({"domestic"}, {"foreign"}), ({"direct"}, {"indirect"}),
    ({"voluntary"}, {"compulsory", "mandatory"}),
]
_NEGATING_PREFIX = re.compile(r"^(?:un|in|im|il|ir|non-?|dis|a(?=\w+(?:al|ic)$))(?P<w>\w{4,})$")


def opposed(question: Sentence, sentence: Sentence) -> str:
    """Why the sentence says the opposite of a word of the question, or "": "a generic way" for
    "a specific way", "exit" for "enter", "nearly all organisms" for "very few", "informal" for
    "formal", "massless strings" for "mass strings"."""
    q = question.tokens  # "how much", "how many" ask a quantity, they say none
    asked = {t.lemma for k, t in enumerate(q) if not (k and q[k - 1].lemma == "how")}
    stated = {t.lemma for t in sentence.tokens}
    for one, other in _OPPOSITES:
        for a, b in ((one, other), (other, one)):
            if asked & a and not asked & b and stated & b and not stated & a:
                return f"the source says {sorted(stated & b)[0]}, against {sorted(asked & a)[0]}"
    for t in sentence.tokens:
        m = _NEGATING_PREFIX.match(t.lemma) if t.pos == "ADJ" else None
        word = m.group("w") if m else t.lemma[:-4] if t.lemma.endswith("less") else ""
        if word in asked and word not in stated and t.lemma not in asked:
            return f"the source says {t.lemma}, against {word}"
    return ""


def replaced(part: Part, sentence: Sentence, lent: set[str]) -> str:
    """Why the sentence puts another noun where the question has one it never says, or "": "the
    motion of the body" in the place of "the motion of the head", "quantum mechanics" for
    "quantum particles", "located in the thymus" for "located in the brain". Words of a
    describing clause count too: that is where a changed question changes a word."""
    q, tokens = analysis.as_sentence(part.label).tokens, sentence.tokens
    said = set(sentence.terms) | lent
    for k, w in enumerate(q):
        if w.pos not in ("NOUN", "ADJ") or not w.term or _mentions(w.term, said):
            continue
        prep = q[w.head]
        if w.dep == "pobj" and prep.dep == "prep" and q[prep.head].term:
            other = [t for j, t in enumerate(tokens) if t.dep == "pobj" and t.term
                     and tokens[t.head].lemma == prep.lemma
                     and tokens[tokens[t.head].head].term == q[prep.head].term]
            if other:
                return f"it says {prep.lemma} {other[0].lemma}, not {prep.lemma} {w.lemma}"
        mods = {u.term for u in q if u.head == k and u.dep in ("compound", "amod") and u.term}
        other = [t for t in tokens if t.term in mods and t.dep in ("compound", "amod")
                 and tokens[t.head].term and tokens[t.head].pos in ("NOUN", "PROPN")
                 and tokens[t.head].term not in mods]
        if other:
            return f"it says {other[0].lemma} {tokens[other[0].head].lemma}, not {w.lemma}"
    return ""


# "What is packet switching?", "Who was Frederick the Great?": the thing alone, to be defined
_DEFINE = re.compile(r"^\s*(?:what|who)\s+(?:is|was|are|were)\s+(?P<x>(?:[\w'.-]+\s*){1,5}?)"
                     r"\s*\??\s*$", re.I)
# ... not a thing to be identified by a description: "What is Europe's largest inland port?"
_NOT_A_THING = re.compile(r"\b(?:of|in|into|on|onto|at|for|with|by|from|to|between|during|about|"
                          r"after|before|as|under|over|through|against|among|within|without|"
                          r"that|which|who|when|where|\w+ed|made|first|last|\w+est|most|"
                          r"least)\b|'s?\b", re.I)
_DEFINING = {"mean", "refer", "denote", "define", "describe", "consist", "comprise",
             "represent", "call", "know", "name", "term"}


def undefined(part: Part, sentence: Sentence) -> str:
    """Why the sentence, naming the thing a "what is X" question asks about, does not say what
    it is, or "". A definition has a form: X is a ..., X (or "a ..., X") with an apposition,
    X, which ..., "known as / called X", X means / refers to / consists of ...; a sentence
    that only mentions X ("Packet switching contrasts with ...", "in the Bell System") says
    something else about it."""
    m = _DEFINE.match(part.label)
    if not m or _NOT_A_THING.search(m.group("x")) or not (x := analysis.terms(m.group("x"))):
        return ""
    tokens = sentence.tokens
    said = [k for k, t in enumerate(tokens) if t.term == x[-1]  # "circuit switching" is not it
            and set(x) <= {u.term for u in tokens[max(0, k - len(x) - 1):k + 1]}]
    return "" if not said or any(_defines(tokens, k) for k in said) else \
        f"it does not say what {m.group('x').strip()} is"


def _defines(tokens: list[Token], k: int) -> bool:
    t, head = tokens[k], tokens[tokens[k].head]
    kids = [u for u in tokens if u.head == k and u is not t]
    if t.dep in ("nsubj", "nsubjpass") and (head.lemma in _DEFINING or head.lemma == "be" and any(
            u.head == t.head and u.dep in ("attr", "acomp", "xcomp") for u in tokens)):
        return True
    first = k
    while tokens[first].dep == "conj" and tokens[first].head != first:
        first = tokens[first].head
    if tokens[first].dep == "dobj" and tokens[tokens[first].head].lemma == "include":
        return True  # "Famous musicians include Władysław Szpilman and Frédéric Chopin"
    if t.dep in ("appos", "attr", "oprd") or any(u.dep in ("appos", "relcl") for u in kids):
        return True
    if any(u.dep == "acl" and u.lemma in _DEFINING for u in kids):  # "X, also known as Y"
        return True
    return t.dep == "pobj" and head.lemma == "as" and tokens[head.head].lemma in _DEFINING


def respelled(question: str, sentence: Sentence) -> str:
    """Why the sentence, whose words hold a name of the question, spells a word of it otherwise,
    or "": "Donald Davies" is not "Donald Davis" (both stem to "davi"), "Integrity" not
    "Integration", "Killer T cells" not "Killer B cells", "George IV Bridge" not "George V
    Bridge". A word of a name is a proper noun, or a capital letter or two beside a word the
    sentence says; a plural or "'s" may follow it."""
    said, text = set(sentence.terms), _plain(sentence.text)
    q = analysis.as_sentence(question).tokens
    for k, t in enumerate(q):
        word = re.match(r"[\w'’.&-]*\w", question[t.start:])
        word = _plain(re.sub(r"'s?$", "", word.group())) if word else ""
        short = re.fullmatch(r"[A-Z]{1,3}", word) and t.pos != "PRON" and any(
            0 <= j < len(q) and q[j].term in said for j in (k - 1, k + 1))
        if not (short or t.pos == "PROPN" and t.term in said) or not word:
            continue
        plural = "|" + re.escape(word[:-1]) + "'?" if word.endswith("s") else ""
        if not re.search(rf"\b(?:{re.escape(word)}(?:s|es|'s?)?{plural})\b", text, re.I):
            return f"the source does not name {word}: it spells it otherwise"
    return ""


def _plain(text: str) -> str:
    """Accents, dots and curly apostrophes away: "Frédéric" is "Frederic", "U.S." is "US"."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).replace(".", "")


def negation_changed(question: Sentence, sentence: Sentence) -> str:
    """Why the sentence denies what the question asserts, or asserts what it denies, or "".
    Read word by word, not for the whole sentence: "gravitation is not viewed as a force" does
    not answer "What is viewed as a force", and "the Court quickly acknowledged that ... cannot
    contradict ..." does not answer what the Court did not acknowledge. Each time the sentence
    says the asked predicate it must say it the other way ("non-zero velocity" for "zero")."""
    def key(t: Token) -> str:  # "zero" is a figure, with no term
        return t.term or (t.lemma if t.pos in ("NUM", "ADJ") and t.lemma.isalpha() else "")

    q, tokens = question.tokens, sentence.tokens
    for k, w in enumerate(q):
        if not key(w):
            continue
        # a noun is denied by what sets it aside, not by a "not" on its verb
        denied = _negated if w.pos in ("VERB", "ADJ") or w.dep in _PREDICATES else _set_aside
        said = [j for j, t in enumerate(tokens) if key(t) == key(w)]
        # of the same noun, if the sentence says it of that noun: "a non-zero velocity", not
        # "zero net force", for "a zero velocity"
        if w.head != k and q[w.head].pos in _NOUNS:
            said = [j for j in said if tokens[tokens[j].head].lemma == q[w.head].lemma] or said
        if said and all(denied(tokens, j) != denied(q, k) for j in said):
            return (f"the source says {'not ' if denied(tokens, said[0]) else ''}{w.lemma}, "
                    f"against {'not ' if denied(q, k) else ''}{w.lemma}")
    return ""


_PREDICATES = ("acomp", "attr", "oprd")  # what a copula says of its subject: "is not a part"


def _negated(tokens: list[Token], k: int) -> bool:
    """Whether word k is denied: "not" (or "never", "no") on it or, for what a copula says,
    on the copula; or a "non-" before it."""
    def denied(i: int) -> bool:
        return any(t.head == i and t.dep in ("neg", "det") and t.lemma in ("not", "never", "no")
                   and i != j for j, t in enumerate(tokens))
    return denied(k) or tokens[k].dep in _PREDICATES and denied(tokens[k].head) or \
        _set_aside(tokens, k) or _shares_denial(tokens, k) and denied(tokens[k].head)


def _shares_denial(tokens: list[Token], k: int) -> bool:
    """A participle coordinated under one passive auxiliary shares its "not": "are not
    recognized and attacked" denies both; "did not stop and turned back" only the first."""
    h = tokens[k].head
    own = {t.dep for j, t in enumerate(tokens) if t.head == k and j != k}
    return tokens[k].dep == "conj" and tokens[k].pos == "VERB" and h != k and not own & {
        "nsubj", "nsubjpass", "aux", "auxpass", "neg"} and any(
        t.head == h and t.dep == "auxpass" for t in tokens)


def _set_aside(tokens: list[Token], k: int) -> bool:
    return _non(tokens, k) or _instead(tokens, k)


def _instead(tokens: list[Token], k: int) -> bool:
    """Whether word k is in what "instead of" or "rather than" sets aside: "described by the
    Schrödinger equation instead of *Newtonian equations*"."""
    for j in range(k - 1, max(k - 6, 0), -1):
        if (tokens[j].lemma, tokens[j - 1].lemma) in (("of", "instead"), ("than", "rather")):
            return True
        if tokens[j].pos in ("PUNCT", "AUX", "CCONJ", "SCONJ", "ADP"):
            return False
    return False


def _non(tokens: list[Token], k: int) -> bool:
    return k >= 2 and tokens[k - 1].lemma == "-" and tokens[k - 2].lemma == "non"


# -- a description bound in one clause ---------------------------------------------------------


def untied(part: Part, sentence: Sentence, lent: set[str], units: set[str]) -> str:
    """Why no clause of the sentence binds an answer that is not a name, a place, a date or a
    figure ("what did critics praise") to what was asked, or "".

    Nothing of a kind marks such an answer, so the clause must: one clause holds the question's
    words (_asked: its relation and what qualifies it; a word of the title or section heading
    may be left to them), at least one of them, its names (or a pronoun for them), and something
    the question does not say, which is the answer. "The novel ends with Hale's death" answers
    "how does the novel end"; "the film, based on the novel" does not, nor does "where the
    company traded furs, the utility built a dam" say what the company built."""
    tokens = sentence.tokens
    rel = relation(part)
    if part.kind != "fact" or not tokens or not _WH_WORD.match(part.label) or _MEASURED.search(
            part.label) or (rel.thing and _candidates(
            part, sentence, _WHICH_LABELS.get(rel.thing[:5], NAME_LABELS))):
        return ""  # a name of the asked kind: bound by unbound()
    asked = [t for t in _asked(part) if t != rel.thing]
    if not asked:
        return "" if _says_what_it_does(part, sentence) else \
            "nothing but a name ties it to the question"
    # (a word it does not say at all is _unsaid's to judge)
    needed = [t for t in asked if t not in lent and _mentions(t, set(sentence.terms))]
    names = [t for t in _asked(part, names=True) if t in part.proper and t not in lent
             and t in sentence.terms]
    said = set(part.terms) | {t.term for t in analysis.as_sentence(part.label).tokens}
    colour = re.match(r"\s*what\s+colou?r\b", part.label, re.I)  # "a scarlet breast": the answer
    groups = _clause_groups(tokens) + _text_clauses(sentence)
    # "fitted before the pool reopened": "reopened ... after new rooms were fitted" holds both
    # events, its clause and the before/after clause on it together (an order the question
    # does not state, "before they bind", a conjunction, is not read, and joins nothing)
    if "order" in dict(_signs_of(part.label)):
        groups += [{j for j in range(len(tokens)) if _clause_root(tokens, j) in (
            k, _clause_root(tokens, tokens[k].head))} for k, t in enumerate(tokens)
            if t.dep == "advcl" and any(u.head == k and u.lemma in ("before", "after")
                                        for u in tokens)]
    own = all(t in lent for t in asked)  # "what does the policy brief recommend": the source
    for group in groups:
        # (`units`: the measures its figures are in: "$3,980 ..., which was spent on")
        words = {tokens[k].term for k in group if tokens[k].term} | units
        # "418 children taking part, and 267 of them finished": a part of the thing, by a
        # pronoun (not any pronoun: "It was later called ..." may be something else)
        pronoun = any(tokens[k].lemma in _PRONOUNS and tokens[k].dep == "pobj" and tokens[
            tokens[k].head].lemma == "of" and tokens[tokens[tokens[k].head].head].pos in (
            "NUM", "ADJ", "PRON", "DET") for k in group)
        if not all(_mentions(t, words) or (pronoun and t in part.nominal) for t in needed) or \
                not (own or any(_mentions(t, words) for t in asked)):
            continue
        if not all(t in words for t in names) and not any(
                tokens[k].pos == "PRON" and tokens[k].lemma not in _WH for k in group):
            continue  # the asked relation, but of someone else
        if any(tokens[k].pos == "NUM" or (tokens[k].term and tokens[k].pos in _CONTENT and
                                          not _mentions(tokens[k].term, said)
                                          and (colour and _is_colour(tokens[k])
                                               or not _elaborates(tokens, k, said)))
               for k in group):
            return ""
    return f"no clause ties {', '.join(needed or asked)} to an answer"


_DOES = re.compile(r"\s*what\s+(?:does|do|did|can|could|will|would)\s+(?P<x>.+?)\s+do\s*$",
                   re.I)
_NAMING = {"call", "name", "know", "term", "dub"}


def _says_what_it_does(part: Part, sentence: Sentence) -> bool:
    """"What does the autolyse do": a verb whose subject is the asked thing, or a noun named
    after it: "This rest, called the autolyse, lets the flour absorb the water"."""
    asked = _DOES.match(part.label)
    if not asked or _NEGATION.search(asked.group("x")):  # "what does the TEU not do"
        return False
    thing, tokens = set(analysis.terms(asked.group("x"))), sentence.tokens

    def subject(v: int) -> int | None:  # a coordinated verb shares its head's subject
        for _ in range(3):
            found = [k for k, t in enumerate(tokens) if t.head == v != k and t.dep == "nsubj"]
            if found or tokens[v].dep != "conj":
                return found[0] if found else None
            v = tokens[v].head
        return None

    def is_thing(k: int) -> bool:
        return tokens[k].term in thing or any(
            t.term in thing and (t.head == k and t.dep == "appos" or t.dep == "oprd" and tokens[
                t.head].lemma in _NAMING and k in (subject(t.head), tokens[t.head].head))
            for t in tokens)

    return any(t.pos == "VERB" and t.lemma not in _LIGHT | _NAMING and
               (k := subject(v)) is not None and is_thing(k) for v, t in enumerate(tokens))


def _elaborates(tokens: list[Token], k: int, said: set[str]) -> bool:
    """Word k only qualifies a noun the question says ("Aside from electrolysis *driven by
    photovoltaic cells*, several thermochemical processes have been explored" names no
    process): it is no answer. A name built on the noun is another thing ("the Little Moose
    River" for "the Kaskawan River")."""
    if tokens[k].dep in ("compound", "flat"):
        return False
    j = tokens[k].head
    for _ in tokens:
        t = tokens[j]
        if t.pos in ("NOUN", "PROPN") and t.term and _mentions(t.term, said):
            return True
        if t.head == j or t.pos in _VERBAL and _clause_root(tokens, j) == j:
            return False
        j = t.head
    return False


_CONTENT = {"NOUN", "PROPN", "ADJ", "VERB"}
# what / which / how / where ... (not "why", nor a yes-no question): an answer to bind
_WH_WORD = re.compile(r".*?\b(?:what|which|who|whom|whose|where|when|how)\b", re.I)


def _asked(part: Part, names: bool = False) -> list[str]:
    """The terms of what the question asks, from its parse: its words but the question words,
    names and years (checked on their own; `names`: only those), the words that frame the
    answer ("how *often*",
    "stand for", "the *name* of", "which *company*", "where is it *located*", "what does the note
    *recommend*") and a clause that only describes ("call for ... *to understand what
    happens*", "ability *to act on every tip*"). A verb left without its object keeps its
    clause: the answer is that object ("hired *to build*")."""
    tokens = analysis.as_sentence(part.label).tokens
    wh = next((k for k, t in enumerate(tokens) if t.lemma in _WH | {"how"}), None)
    if wh is None or _MEASURED.search(part.label):
        return []  # "is there ...", "how often": no relation to bind an answer to
    named = set(part.proper + part.years) | {t for name in part.names for t in name}
    kind = {t.head for t in tokens if t.lemma in _WH and t.dep == "det"}
    frame = {k for k, t in enumerate(tokens[:-1]) if t.lemma == "stand" and
             tokens[k + 1].lemma == "for"}
    # a follow-up's context in brackets ("What was it spent on (the book sale)?") is the
    # subject, which the passage may name anywhere, not words the answer's clause must hold
    brackets = [m.span() for m in re.finditer(r"\([^)]*\)", part.label)]
    dropped = {k for k, t in enumerate(tokens) if any(a <= t.start < b for a, b in brackets)}
    # a source named ("according to the CyberTipline glossary"): its name is asked, not its
    # kind; "according to several governments" says whose view is asked
    for a, b in source_spans(part.label):
        within = {k for k, t in enumerate(tokens) if a <= t.start < b}
        if any(tokens[k].pos == "PROPN" or tokens[k].lemma in _DOCUMENTS for k in within):
            dropped |= {k for k in within if tokens[k].pos != "PROPN"}
    for k, t in enumerate(tokens):
        if t.dep in _CLAUSE_DEPS | {"xcomp", "pcomp"} and t.pos in _VERBAL and \
                tokens[t.head].pos in ("VERB", "NOUN") and t.head != k and \
                tokens[t.head].lemma not in _SAYING | _FOR_PURPOSE and \
                any(u.head == k and u.dep in _COMPLEMENTS for u in tokens):
            inside = {j for j in range(len(tokens)) if _within(tokens, j, k)}
            if wh not in inside:
                dropped |= inside
    if names:
        return list(dict.fromkeys(t.term for k, t in enumerate(tokens)
                                  if t.term in named and k not in dropped))
    light = _LIGHT | _SAYING | (_LOCATED if part.kind == "place" else set())
    return list(dict.fromkeys(
        t.term for k, t in enumerate(tokens) if t.term and k not in kind | frame | dropped
        and t.lemma not in _WH and t.lemma not in light and t.lemma not in _LIGHT_NOUNS
        and t.term not in named and not (t.pos == "VERB" and t.term not in part.terms)))


_DOCUMENTS = {"glossary", "note", "report", "brief", "guide", "faq", "summary", "overview",
              "explainer", "spreadsheet", "document", "table", "page", "study", "paper"}
_MEASURED = re.compile(r"\bhow\s+(?!do|does|did|is|are|was|were|can|could|should|would|will|"
                       r"has|have|had)[a-z]+\b", re.I)
_COMPLEMENTS = {"dobj", "ccomp", "prep", "attr", "xcomp", "acomp", "dative"}
_SAYING = {"recommend", "suggest", "advise", "mention", "describe"}  # a document's own voice
_FOR_PURPOSE = {"use"}  # "what can be used *to balance* the load": the purpose is asked
_LIGHT_NOUNS = {"ability", "name", "kind", "type", "sort"}  # "the name of": the thing named


def _within(tokens: list[Token], j: int, k: int) -> bool:
    """Word k governs word j (across clauses)."""
    for _ in tokens:
        if j == k:
            return True
        if tokens[j].head == j:
            return False
        j = tokens[j].head
    return False


def _unsaid(part: Part, sentence: Sentence, lent: set[str]) -> list[str]:
    """The asked words the sentence does not say and its heading does not lend. A modifier the
    sentence leaves off its noun is not asked otherwise ("voter turnout": "Turnout in the 2022
    election"); another one in its place is ("the battle scenes": "the desert scenes")."""
    if WHY.match(part.label):
        return []
    q = analysis.as_sentence(part.label).tokens
    tokens = sentence.tokens
    terms = set(sentence.terms) | lent
    out = []
    for t in _asked(part):
        if _mentions(t, terms):
            continue
        mods = [u for u in q if u.term == t and u.dep in ("compound", "amod")]
        heads = [k for k, s in enumerate(tokens) for u in mods
                 if s.term and s.term == q[u.head].term]
        if heads and not any(s.head in heads and s.dep in ("compound", "amod") for s in tokens):
            continue
        out.append(t)
    return out


def _text_clauses(sentence: Sentence) -> list[set[int]]:
    """The words of each clause as its punctuation cuts it (_clauses), but for the relative and
    adverbial clauses inside it: the parser may hang a clause on the wrong verb ("X built a post
    at its mouth; the post closed" as one), never one of those ("where X traded, Y built")."""
    tokens = sentence.tokens
    inner = {k for k in range(len(tokens)) if tokens[_clause_root(tokens, k)].dep in _INNER}
    return [{k for k, t in enumerate(tokens) if a <= t.start < b and k not in inner}
            for a, b in _clauses(sentence)]


_INNER = {"relcl", "advcl", "acl"}
_NOT_WHO = {"GPE", "LOC", "DATE", "TIME", "MONEY", "QUANTITY", "CARDINAL", "PERCENT"}
_PRONOUNS = {"it", "they"}  # lemmas: "them" is "they"


def _hidden_nouns(part: Part) -> list[str]:
    """The question's nouns that are no content terms ("source", "document": stopwords for
    the sake of "according to the sources"), but for those framing a figure ("the number of")
    and the noun naming the answer's kind ("which state")."""
    tokens = analysis.as_sentence(part.label).tokens
    kind = {t.head for t in tokens if t.lemma in _WH and t.dep == "det"}
    return [t.lemma for k, t in enumerate(tokens) if t.pos == "NOUN" and not t.term
            and t.lemma.isalpha() and t.lemma not in _FRAME_NOUNS and k not in kind]


_FRAME_NOUNS = {"number", "total", "amount", "figure", "count", "time", "year"}
_COUNT_NOUNS = {"number", "count", "figure", "total"}  # "the number of visitors": "a count of"


def _clause_groups(tokens: list[Token]) -> list[set[int]]:
    """Each clause of a parsed sentence as the words it holds. A conjoined verb without a
    subject of its own shares its head's ("Critics praised X but criticised Y"); a relative or
    participial clause holds the phrase it describes ("Edmund Hale, a cartographer who is hired
    to map ...")."""
    members: dict[int, set[int]] = {}
    for k in range(len(tokens)):
        members.setdefault(_clause_root(tokens, k), set()).add(k)
    groups = []
    for r, words in members.items():
        words = set(words)
        t = tokens[r]
        if t.head != r and t.dep in ("relcl", "acl"):
            phrase = _phrase_head(tokens, t.head)
            words |= {k for k in range(len(tokens)) if _phrase_head(tokens, k) == phrase}
        v = r
        for _ in tokens:  # "founded and led": the second verb's subject is the first's
            if tokens[v].dep != "conj" or tokens[v].head == v or any(
                    u.head == v and u.dep.startswith("nsubj") for u in tokens):
                break
            v = tokens[v].head
            subjects = [j for j, u in enumerate(tokens) if u.head == v and
                        u.dep.startswith("nsubj")]
            words |= {k for k in range(len(tokens)) if any(_under(tokens, k, j)
                                                           for j in subjects)}
        groups.append(words)
    return groups

