"""What a question asks: its parts, the kind of answer each needs, and what each is about.

"How many CyberTipline escalations led to arrests or prosecutions in 2023?" asks two counts
(arrests, prosecutions) of escalations, for 2023. Whether a sentence answers a part is decided
in decide.py, from these parts and the sentence's analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import analysis
from assistant.text import STOPWORDS

_KINDS = [  # first match wins
    ("share", r"^(what|which)\b.*\b(share|percentage|percent|proportion|fraction|rate)\b(?!'s)|"
              r"\bhow\s+large\s+a\s+share\b"),
    ("date", r"^\s*when\b|\b(what|which)\s+(years?|date|month|day|century|centuries|decade|"
             r"era|ages)\b|\bsince\s+when\b"),
    ("duration", r"\bhow\s+long\b|\bhow\s+far\s+(?:ahead|in\s+advance|beforehand)\b"),
    ("money", r"\bhow\s+much\b.*\b(spend|spent|cost|costs|pay|paid|price|budget|revenue|fund|"
              r"funding|raise|raised|earn|earned|charge|charged|worth|money)\b|"
              r"^(what|which)\b.*\b(cost|price|budget|revenue|profit|spending|expenditure|"
              r"funding|income|salary|fee|turnover)s?\b(?!'s)"),
    ("count", r"\bhow\s+(many|much|large|big|wide|tall|high|deep|far|old|heavy|hot|cold|"
              r"warm)\b|"
              r"^(?:(?:at|to|by|of)\s+)?(what|which)\b.*\b(?P<m>number|total|count|amount|"
              r"median|average|mean|size|attendance|population|tally|time|distance|length|"
              r"weight|height|age|temperature|speed|score)\b(?!'s)"),
    ("agent", r"^\s*(who|whom|whose)\b"),
    ("place", r"^\s*where\b|\b(what|which)\s+(country|city|town|state|region|place|county)\b"),
]
_COUNT = dict(_KINDS)["count"]
FIGURE_KINDS = ("share", "date", "duration", "money", "count")
# "What was the largest part of the budget?": a thing the measure is made of, not the measure
_A_PART_OF = re.compile(r"^(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?:\w+\s+)?"
                        r"(?:part|item|component|source|category|use)s?\s+of\b")
# Names a question is about: the evidence must mention them (a fact about another country,
# person or organisation is not an answer).
NAME_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART",
               "LAW", "LANGUAGE"}
_COUNTED_AFTER = re.compile(r"\b(?:how\s+(?:many|much)|share\s+of|percentage\s+of|"
                            r"proportion\s+of|fraction\s+of|number\s+of|total\s+of)\s+(?:of\s+)?",
                            re.I)
_PART_JOIN = re.compile(r",?\s+(?:and|or)\s+(?=(?:how|what|when|which|who|where|why)\b)", re.I)
# A follow-up's lead naming the whole it counts from ("Of the 36.2 million reports NCMEC
# received in 2023, how many ..."): context for the part, not a constraint on its answer.
WHOLE = re.compile(r"^\s*of\s+(?:the|those|these)\s+.+?,\s*(?=(?:how|what|which|who|when|where|"
                   r"why)\b)", re.I)
_PAIR = re.compile(r"\b([A-Za-z][A-Za-z-]{2,})\s+(or|and)\s+([A-Za-z][A-Za-z-]{2,})\b")



@dataclass
class Part:
    """One thing the question asks. `label` is how it is named when it is not documented."""

    label: str
    kind: str  # share | date | duration | money | count | agent | place | fact
    terms: list[str]  # content terms the evidence (sentence + its context) must contain
    focus: list[str] = field(default_factory=list)  # must be in the evidence sentence itself
    distinct: list[str] = field(default_factory=list)  # what sets it apart from its sibling parts
    years: list[str] = field(default_factory=list)
    names: list[list[str]] = field(default_factory=list)  # terms of each name the part mentions
    # Terms of its nouns and adjectives: what a figure is about ("women's" in "the women's race").
    nominal: list[str] = field(default_factory=list)
    predicate: list[str] = field(default_factory=list)  # terms of its verbs: the asked relation
    proper: list[str] = field(default_factory=list)  # terms of its proper nouns ("Ralph", "Post")
    described: list[str] = field(default_factory=list)  # what a description must state (below)
    qualifying: list[str] = field(default_factory=list)  # its adjectives: "urgent", "former"

    @property
    def wants_figure(self) -> bool:
        return self.kind in FIGURE_KINDS


def analyse(question: str) -> list[Part]:
    """Split a compound question into parts ("arrests or prosecutions" -> two) and type each."""
    return list(_analysed(_plain(question)))


def prepare(questions: list[str]) -> None:
    """Read many questions in a few spaCy batches before they are asked, as the eval harness
    does: a question parses in a third of the time within a batch, its words in a tenth."""
    plain = [_plain(q) for q in questions]
    analysis.parse_all(plain)
    analysis.read_terms([t for q in plain for t in _read(q)])


def _plain(question: str) -> str:
    """The question in one line, "How can you tell that X is Y" asked as "When is X Y": the
    sign it asks for is the condition a sentence gives ("X is Y when ...")."""
    text = _AGAIN.sub(r"re\1", " ".join(question.split()).rstrip("?. "))
    sign = _TELL.match(text)
    return f"When {sign.group(2) or 'is'} {sign.group(1)} {sign.group(3)}" if sign else text


# "open again" as documents say it, "reopen"; only verbs whose re- form means that ("turn
# again" is no "return", "sign again" no "resign")
_AGAIN = re.compile(r"\b((?:open|start|build|built|elect|appear|emerge|enter|launch|unite|join|"
                    r"releas|introduc|publish|establish|design|writ|wrote|print|fill|us|sell|"
                    r"sold|organi[sz])(?:s|es|e|ed|d|ing|t|en)?)\s+again\b", re.I)


_TELL = re.compile(r"how (?:can|do|does|could|would|will|should) (?:you|i|we|one|they) "
                   r"(?:tell|know|see) (?:that |if |whether )?(\w+(?: \w+){0,5}?)"
                   r"(?: (is|are) |['’]s )(.+)", re.I)


def _read(q: str) -> list[str]:
    """The texts whose terms reading q takes: itself (with "?", as the caller asked it, for its
    own terms() of it), its clauses, the frame words and each of its words."""
    return [q, f"{q}?", *_clauses(q), " ".join(_FRAME_WORDS),
            *(t.text for t in analysis.parsed(q))]


def _clauses(q: str) -> list[str]:
    return [c for c in _PART_JOIN.split(q) if c.strip()]


@lru_cache(maxsize=1024)
def _analysed(q: str) -> tuple[Part, ...]:
    """Parsed once per distinct question: the generator, the verifier and the follow-ups all
    ask. The parts are not changed after this."""
    clauses = _clauses(q)
    analysis.keep_reading(q, analysis.parsed(q))  # a one-part question's label is q: parsed once
    analysis.read_terms(_read(q))
    names = _names(q)
    parts: list[Part] = []
    for clause in clauses:
        for text, distinguishing in _split_pair(clause):
            parts.append(_part(text, distinguishing, names))
    for later in parts[1:]:
        # "..., and how many did it close?": a later clause leans on the first one's subject.
        later.focus = later.focus or [t for t in parts[0].focus if t not in parts[0].distinct]
        later.names = later.names or parts[0].names
        later.years = later.years or parts[0].years
        later.terms += [t for t in later.focus + later.years + [n for name in later.names
                                                                  for n in name]
                        if t not in later.terms]
    return tuple(parts)


def _names(question: str) -> list[list[str]]:
    """The terms of each name the question mentions (its proper nouns, grouped as spaCy's
    entities group them): "Which Nintendo employee" -> [["nintendo"]]."""
    found = []
    for ent in analysis.parsed(question).ents:
        if ent.label_ in NAME_LABELS:
            name = [t for tok in ent if tok.pos_ == "PROPN" for t in analysis.terms(tok.text)]
            if name and name not in found:
                found.append(name)
    return found


def _split_pair(clause: str) -> list[tuple[str, list[str]]]:
    """"led to arrests or prosecutions" asks two things; each must be answered on its own.
    Only a pair of nouns does: "time-sensitive and sent to police" describes one thing."""
    pos = {tok.idx: tok.pos_ for tok in analysis.parsed(clause)}
    for m in _PAIR.finditer(clause):
        a, b = m.group(1), m.group(3)
        if a.lower() in STOPWORDS or b.lower() in STOPWORDS:
            continue
        if pos.get(m.start(1)) != "NOUN" or pos.get(m.start(3)) != "NOUN":
            continue
        ta, tb = analysis.terms(a), analysis.terms(b)
        if not ta or not tb or ta == tb:
            continue
        if m.start() < len(clause) * 0.3:
            continue  # a pair in the opening words names the subject, not two quantities
        before, after = clause[:m.start()], clause[m.end():]
        return [(f"{before}{a}{after}", list(ta)), (f"{before}{b}{after}", list(tb))]
    return [(clause, [])]


def _part(text: str, distinguishing: list[str], names: list[list[str]]) -> Part:
    low = text.lower()
    embedded = re.match(r"\s*(?:what|which|who|whom|whose|when|where|why)\b.*?(?=\bhow\s)", low)
    asking = embedded.group(0) if embedded else low  # "what ... before anyone could say how many"
    kind = next((name for name, pattern in _KINDS if re.search(pattern, asking)), "fact")
    if kind in ("money", "count") and _A_PART_OF.match(low):
        kind = "fact"  # "the largest part of the budget" is what it went to, not a sum
    tagged = analysis.parsed(text)
    measure = re.search(_COUNT, low)
    # "what does a pale crust usually mean" asks no average; "what is the 63,892 figure a
    # count of" asks what it counts, not a count
    if kind == "count" and measure.group("m") and (any(
            tok.idx == measure.start("m") and tok.pos_ == "VERB" for tok in tagged)
            or re.search(r"\s+of\s*$", low[measure.end():])):
        kind = "fact"
    focus = [t for t in _counted(text) if t not in distinguishing] + list(distinguishing)
    frame = set(analysis.terms(" ".join(_FRAME_WORDS)))
    # "how long does the bulk fermentation take": a step's duration, which instructions state
    # without the verb; a past span ("how long did the war last") must be said to last
    # (a follow-up asking the step's temperature keeps it: "At what temperature should bulk
    # fermentation take?")
    if not any(tok.tag_ == "VBD" or tok.lower_ == "did" for tok in tagged):
        frame |= {t for tok in tagged if tok.pos_ == "VERB" and tok.lemma_ in ("take", "last")
                  and (kind == "duration" or not any(c.dep_ == "dobj" for c in tok.children))
                  for t in analysis.terms(tok.text)} - {
            t for tok in tagged if tok.pos_ != "VERB" for t in analysis.terms(tok.text)}
    if WHY.match(text):
        frame |= {"reason"}
    if hot := HOW_HOT.search(text):  # "how hot should the oven be": a temperature, not "hot"
        frame |= set(analysis.terms(hot.group(1)))
    # "when do the pads *need* replacing": the need is no relation
    frame |= {t for tok in tagged if tok.lemma_ == "need" and any(
        c.dep_ == "xcomp" for c in tok.children) for t in analysis.terms(tok.text)}
    if re.match(r"\s*(?:in\s+[^,]+,\s*)?how\s+(?:is|are)\s+.+\s+defined\s*$", text, re.I):
        frame |= set(analysis.terms("defined"))  # "how is X defined": what X is
    if ahead := _AHEAD.search(text):  # "how far ahead should I feed it": a span before
        frame |= set(analysis.terms(f"far {ahead.group(1)}"))
    for start, end in source_spans(text):  # the source's kind ("the Stanford researchers",
        # "the maintenance note") is not what a sentence of it says; its name may be
        frame |= {t for tok in tagged if start <= tok.idx < end
                  and tok.pos_ != "PROPN" and not tok.is_upper
                  for t in analysis.terms(tok.text)} - {
            t for tok in tagged if tok.pos_ == "PROPN" for t in analysis.terms(tok.text)}
    part_terms = [t for t in analysis.terms(text) if t not in frame]
    years = [t for t in part_terms if analysis.YEAR.fullmatch(t)]
    lead = WHOLE.match(text)  # "Of the 36.2 million reports it received, ...": not the relation
    # the asking clause tagged on its own: after such a lead spaCy may read "escalate" a noun
    asking = list(analysis.parsed(text[lead.end():])) if lead else list(tagged)
    before = [tok for tok in tagged if tok.idx < lead.end()] if lead else []
    nominal = {t for tok in before + asking if tok.pos_ in ("NOUN", "PROPN", "ADJ")
               for t in analysis.terms(tok.text)}
    # a verb modifying a noun ("the operating budget") is no relation asked
    # nor is a purpose: "preheated *for baking* the loaf" asks how hot to preheat
    verbs = {t for tok in asking if tok.pos_ == "VERB" and tok.dep_ not in ("compound", "amod")
             and not (tok.dep_ == "pcomp" and tok.head.lower_ == "for")
             for t in analysis.terms(tok.text)}
    proper = {t for tok in tagged if tok.pos_ == "PROPN" for t in analysis.terms(tok.text)}
    return Part(label=text.strip(), kind=kind, terms=part_terms, focus=focus,
                distinct=list(distinguishing), years=years,
                names=[n for n in names if n and all(t in part_terms for t in n)],
                nominal=[t for t in part_terms if t in nominal],
                predicate=[t for t in part_terms if t in verbs and t not in nominal],
                proper=[t for t in part_terms if t in proper],
                described=[t for t in _described(tagged) if t in part_terms],
                qualifying=[t for tok in tagged if tok.pos_ == "ADJ"
                            for t in analysis.terms(tok.text) if t in part_terms])


def _described(tagged) -> list[str]:
    """What a descriptive question asks about, which its answer must state itself: its
    adjectives ("an urgent report") and the head of the noun phrase after "what" or "which"
    ("the hydration of the loaf" -> hydration; "voter turnout" -> turnout)."""
    found = [t for tok in tagged if tok.pos_ == "ADJ" for t in analysis.terms(tok.text)]
    if not len(tagged) or tagged[0].lower_ not in ("what", "which"):
        return found
    phrase = []
    for tok in tagged[1:]:
        if tok.pos_ in ("AUX", "DET") and not phrase:
            continue
        if tok.pos_ not in ("NOUN", "PROPN", "ADJ"):
            break
        phrase.append(tok)
    nouns = [tok for tok in phrase if tok.pos_ == "NOUN"]
    return found + (list(analysis.terms(nouns[-1].text)) if nouns else [])


# "Why", or "What was the reason (that) they were escalated": asks a reason, which is read by
# its words ("because ..."), not by the word "reason"
WHY = re.compile(r"\s*(?:why\b|(?:what|which)(?:'s|\s+(?:is|was|are|were))\s+the\s+(?:\w+\s+)?"
                 r"reasons?\b)", re.I)
HOW_HOT = re.compile(r"\bhow\s+(hot|cold|warm)\b", re.I)
_AHEAD = re.compile(r"\bhow\s+(?:far|long)\s+(ahead|in\s+advance|beforehand)\b", re.I)
_ACCORDING = re.compile(r"(?:^|,?\s+)according\s+to\s+([^,?]+?)(?=,|\s*$)", re.I)
_IN_SOURCE = re.compile(r"^\s*in\s+(the\s+[^,?]*?\b(?:glossary|note|report|brief|guide|faq|"
                        r"summary|overview|explainer|spreadsheet|document|findings))\s*,", re.I)


def source_spans(text: str) -> list[tuple[int, int]]:
    """Where a question names the source it asks ("according to the glossary", "In the
    CyberTipline glossary, ..."): what that source says is asked, not the source itself."""
    return [m.span(1) for pattern in (_ACCORDING, _IN_SOURCE) if (m := pattern.search(text))]


# Words that frame the kind of answer rather than say what it is about: "what share of",
# "on what date", "how long". The answer-type check covers them.
_FRAME_WORDS = ("share", "percentage", "percent", "proportion", "fraction", "rate", "date",
                "month", "day", "long", "price", "cost", "large", "big", "size", "kind",
                "kinds", "type", "types", "sort", "sorts")  # "what kinds of items": the items
_PHRASE_POS = {"ADJ", "NOUN", "PROPN", "NUM", "DET", "PART", "PRON", "VERB", "PUNCT"}


def _counted(text: str) -> list[str]:
    """The terms of what a quantity question counts: "how many first-time contributors" ->
    first, contributor; "what share of Elm County's 2022 ballots" -> ballot. Names and years are
    checked on their own; what remains must be in the evidence sentence itself."""
    tokens = _counted_tokens(text)
    found: list[str] = []
    words = [tok for tok in tokens if tok.pos_ in ("ADJ", "NOUN", "VERB")]
    if not any(tok.pos_ == "NOUN" for tok in tokens):  # "how many Halvorsen Early Career
        words = [tok for tok in tokens if tok.pos_ == "PROPN"][-1:]  # Grants": the name's head
    for tok in words:
        found += [t for t in analysis.terms(tok.text) if t not in found]
    return found


def counted_phrase(text: str) -> str:
    """What a quantity question counts, as written: "CyberTipline reports" (or "")."""
    tokens = [tok for tok in _counted_tokens(text) if tok.pos_ in ("ADJ", "NOUN", "PROPN")
              or tok.text == "-"]
    if not tokens:
        return ""
    return tokens[0].doc[tokens[0].i:tokens[-1].i + 1].text


def _counted_tokens(text: str) -> list:
    """The noun phrase after "how many", "share of" ...: up to where its nouns end."""
    trigger = _COUNTED_AFTER.search(text)
    if not trigger:
        return []
    found = []
    seen_noun = False
    for tok in analysis.parsed(text):
        if tok.idx < trigger.end():
            continue
        if tok.pos_ not in _PHRASE_POS or (tok.pos_ == "PUNCT" and tok.text != "-"):
            break
        if tok.pos_ == "NOUN":
            seen_noun = True
        elif seen_noun:
            break  # the noun phrase has ended: "ballots were cast", "water Brackwater Valley"
        found.append(tok)
    return found
