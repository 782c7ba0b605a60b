"""A follow-up and the conversation before it -> the standalone question that gets answered.

"And how many of them came from Facebook?" means nothing alone: retrieval would look for
"them", and the verifier would call "And how many of them came from Facebook" not documented.
Before retrieval a follow-up is rewritten so that it stands alone: a pronoun is replaced by
what it refers to, and the subject, names and years of the previous question are carried into
a follow-up that lacks them ("And in 2021?" -> the previous question, for 2021). A question
with a subject of its own starts afresh: nothing is carried over.

Without an LLM the rewrite is deterministic (below); with one, `condense_with_llm` asks it
first and keeps its rewrite only if every content word of the follow-up survives in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant import analysis
from assistant.question import NAME_LABELS, analyse, counted_phrase

_PLURAL = {"they", "them", "those", "these"}
_SINGULAR = {"it", "this"}
_POSSESSIVE = {"its": False, "their": True}  # -> plural?
_LEAD = re.compile(r"^\s*(?:and|but|also|so|ok|okay|then)\b[\s,]*", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+|^\s*(?:and|same)\s+(?:for|in)\s+", re.I)


@dataclass
class Turn:
    """What the rewrite needs of the previous standalone question."""

    text: str
    names: list[str]  # as written: "NCMEC", "the CyberTipline"
    years: list[str]
    counted: str  # the counted noun phrase as written: "CyberTipline reports"
    nouns: list[str]  # common nouns as written, a changed measure may replace one
    thing: str  # what "it" refers to: the last singular noun phrase, a name first


def condense(asked: str, previous: str | None, context: set[str] = frozenset()) -> str:
    """The standalone form of `asked`, given the previous standalone question (or None) and
    the terms of what its answer cited (a follow-up that shares none with either and names
    nothing of the earlier subject is a new topic)."""
    asked = " ".join(asked.split())
    if not previous or not asked:
        return asked
    before = _turn(previous)
    core = _LEAD.sub("", asked)  # "And how many ..." -> "how many ..."
    doc = analysis.nlp()(core)
    if not len(doc):
        return asked
    words = [t.lower_ for t in doc]
    own_names = [e.text for e in doc.ents if e.label_ in NAME_LABELS]
    has_pronoun = any(w in _PLURAL | _SINGULAR | set(_POSSESSIVE) for w in words)
    elliptical = bool(_WHAT_ABOUT.match(core)) or not any(t.pos_ in ("VERB", "AUX")
                                                           for t in doc)
    if own_names and not has_pronoun and not elliptical:
        return asked  # a subject of its own: a new topic, nothing carried over
    if elliptical:
        return _changed_detail(doc, before)
    on_topic = set(analysis.terms(core)) & (context | set(analysis.terms(previous)))
    if has_pronoun or _needs_subject(doc) or core != asked or (on_topic and not own_names):
        return _resolved(doc, before)
    return asked


def _changed_detail(doc, before: Turn) -> str:
    """"And in 2021?", "What about prosecutions?": the previous question with that detail
    changed (its year, or the noun the new one is closest to), or added when it had none."""
    years = [y for y in (analysis.YEAR.match(t.text) for t in doc) if y]
    text = before.text.rstrip("?. ")
    for year in years:
        text = _replace_years(text, before.years, year.group(0))
    for phrase, is_name in _noun_phrases(doc):
        # A changed measure replaces the noun it is closest to ("what about prosecutions?"
        # after "... arrests"); a name is added, never swapped: which one it replaces is a guess.
        target = None if is_name else _closest(phrase, before.nouns)
        text = _replace(text, target, phrase) if target else f"{text}, for {phrase}"
    return text + "?"


def _resolved(doc, before: Turn) -> str:
    """A pronoun replaced by what it refers to; the previous names (and, for a figure, years)
    added when the follow-up lacks them."""
    out = []
    plural_done = False
    for tok in doc:
        low = tok.lower_
        ws = tok.whitespace_
        after_of = tok.i > 0 and doc[tok.i - 1].lower_ == "of"
        if low in _PLURAL and tok.pos_ == "PRON" and not plural_done and before.counted:
            out.append(_owned(before) + ws)  # "how many of them" -> "of the CyberTipline's reports"
            plural_done = True
        elif low in _SINGULAR and tok.pos_ == "PRON" and after_of and before.counted:
            out.append(f"the {before.counted}{ws}")  # "how much of it" -> "of the budget"
            plural_done = True
        elif low in _SINGULAR and tok.pos_ == "PRON" and before.thing:
            out.append(before.thing + ws)
        elif low in _POSSESSIVE and (before.thing or before.counted):
            owner = before.thing or f"the {before.counted}"
            out.append(owner + ("'" if owner.endswith("s") else "'s") + ws)
        elif low == "that" and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "year" \
                and before.years:  # "that year" -> "in 2024"
            out.append(f"in {before.years[0]}{doc[tok.i + 1].whitespace_}")
        elif low == "year" and tok.i and doc[tok.i - 1].lower_ == "that" and before.years:
            continue
        else:
            out.append(tok.text_with_ws)
    text = "".join(out).strip().rstrip("?. ")
    text = text[:1].upper() + text[1:]
    if not plural_done and before.counted and _needs_subject(doc):
        text = re.sub(r"^(How many|How much)\b", rf"\1 of {_owned(before)}", text, flags=re.I)
    low = text.lower()
    missing_names = [n.removesuffix("'s") for n in dict.fromkeys(before.names + [before.thing])
                     if n and n.lower().removeprefix("the ").removesuffix("'s") not in low
                     and n.lower() not in before.counted.lower()]
    missing_names = [n for n in missing_names
                     if not any(n != m and n.lower() in m.lower() for m in missing_names)]
    if missing_names:
        text += f" ({', '.join(missing_names)})"
    missing_years = [y for y in before.years if y not in text]
    if missing_years and analyse(text)[0].wants_figure and not any(
            analysis.YEAR.match(t.text) for t in doc):
        text += f" in {' and '.join(missing_years)}"
    return text + "?"


def condense_with_llm(asked: str, history: list[str], llm) -> str | None:
    """An LLM's standalone rewrite, or None when it drops any content word of `asked` (a small
    model often answers the question instead, or loses what was asked)."""
    from llama_index.core.llms import ChatMessage

    from assistant.answer import prompt

    if not history:
        return None
    conversation = "\n".join(f"User: {q}" for q in history[-3:])
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


# -- reading the previous question ------------------------------------------------------------


def _turn(question: str) -> Turn:
    doc = analysis.nlp()(question)
    names = [ent.text for ent in doc.ents if ent.label_ in NAME_LABELS]
    years = [y.group(0) for y in (analysis.YEAR.match(t.text) for t in doc) if y]
    counted = counted_phrase(question) or _asked_phrase(doc)
    things = _named_things(doc)
    return Turn(question, names, years, counted,
                [p for p, _ in _noun_phrases(doc, possessive=False)], things[-1] if things else "")


def _named_things(doc) -> list[str]:
    """Names as written, with what they name: "the Corrigan Museum of Maritime History",
    "the Millbrook summer reading challenge", "Crumb & Hearth" (what "it" may stand for)."""
    found, k = [], 0
    while k < len(doc):
        if doc[k].pos_ != "PROPN":
            k += 1
            continue
        start = k
        while k + 1 < len(doc) and (doc[k + 1].pos_ == "PROPN" or (
                doc[k + 1].lower_ in ("of", "&") and k + 2 < len(doc)
                and doc[k + 2].pos_ == "PROPN")):
            k += 1
        name_end = k
        while k + 1 < len(doc) and (doc[k + 1].pos_ == "NOUN" or (
                doc[k + 1].tag_ == "VBG" and k + 2 < len(doc) and doc[k + 2].pos_ == "NOUN")):
            k += 1  # "Dunmore County library levy": the name's own nouns
        if k > name_end and any(t.lemma_ == "do" for t in doc[:start]) and not any(
                t.pos_ == "VERB" for t in doc[k + 1:]):
            k -= 1  # "did the museum host in 2024": the tagger read the verb as a noun
        the = "the " if start and doc[start - 1].lower_ == "the" else ""
        found.append(the + doc[start:k + 1].text)
        k += 1
    return found


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
    """"How many were urgent?": a count with nothing said of what is counted."""
    return (len(doc) > 2 and doc[0].lower_ == "how" and doc[1].lower_ in ("many", "much")
            and not any(t.pos_ in ("NOUN", "PROPN", "PRON") for t in doc[2:]))


def _noun_phrases(doc, possessive: bool = True) -> list[tuple[str, bool]]:
    """Runs of adjectives and nouns as written ("prosecutions", "e-books", and with
    `possessive` "children's books"), each with whether it is a name."""
    phrases, run = [], []
    for tok in list(doc) + [None]:
        joined = (tok is not None and run and not run[-1].whitespace_
                  and (tok.text == "-" or run[-1].text == "-"))
        if tok is not None and (tok.pos_ in ("ADJ", "NOUN", "PROPN") or joined
                                or (possessive and run and tok.tag_ == "POS")):
            run.append(tok)
            continue
        if any(t.pos_ in ("NOUN", "PROPN") for t in run):
            phrases.append((doc[run[0].i:run[-1].i + 1].text,
                            any(t.pos_ == "PROPN" for t in run)))
        run = []
    return phrases


def _closest(noun: str, candidates: list[str]) -> str | None:
    """The previous question's noun phrase the new one replaces: one sharing a word with it,
    else the one closest in meaning (the packaged sentence encoder, onnxruntime)."""
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
    return candidates[int(np.argmax(sims))]


def _replace(text: str, old: str, new: str) -> str:
    """`old` replaced once as a whole phrase ("books" is not replaced inside "e-books")."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text, count=1)


def _replace_years(text: str, old: list[str], new: str) -> str:
    if old:
        return re.sub(rf"\b{old[0]}\b", new, text)
    return f"{text} in {new}"
