"""Hard negatives in the SQuAD 2.0 style: edit a question (or a true sentence, as a claim) so
the sentence that answered it (or stated it) no longer does.

SQuAD 2.0's people-written unanswerables mostly name something the paragraph does not: a swapped
entity, an antonym, a negation, a changed number or date, a mutually exclusive alternative, a
condition the text excludes. Each edit below makes one such change and is kept only when the
sentence cannot still match it (the new word is absent from the sentence and its context).
Measured only on people-written unanswerables, never on these (MODEL_CARD.md).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass

# Swapped both ways; a pair is used only when the replacement is absent from the sentence.
OPPOSITES = [
    ("largest", "smallest"), ("biggest", "smallest"), ("first", "last"), ("most", "least"),
    ("highest", "lowest"), ("earliest", "latest"), ("before", "after"), ("best", "worst"),
    ("longest", "shortest"), ("oldest", "youngest"), ("north", "south"), ("east", "west"),
    ("northern", "southern"), ("eastern", "western"), ("increase", "decrease"),
    ("increased", "decreased"), ("more", "fewer"), ("won", "lost"), ("win", "lose"),
    ("start", "end"), ("began", "ended"), ("opened", "closed"), ("male", "female"),
    ("men", "women"), ("older", "younger"), ("higher", "lower"), ("larger", "smaller"),
    ("maximum", "minimum"), ("above", "below"), ("inside", "outside"), ("early", "late"),
    ("major", "minor"), ("positive", "negative"), ("success", "failure"), ("rise", "fall"),
    ("gained", "lost"), ("accepted", "rejected"), ("allowed", "banned"), ("import", "export"),
    ("imports", "exports"), ("bought", "sold"), ("buy", "sell"), ("born", "died"),
    ("birth", "death"), ("public", "private"), ("modern", "ancient"), ("rich", "poor"),
    ("strong", "weak"), ("cheapest", "most expensive"), ("fastest", "slowest"),
    ("popular", "unpopular"), ("successful", "unsuccessful"), ("legal", "illegal"),
    ("internal", "external"), ("upper", "lower"),
    ("supported", "opposed"), ("agreed", "refused"), ("include", "exclude"),
]
_OPPOSITE = {}
for a, b in OPPOSITES:
    _OPPOSITE.setdefault(a, b)
    _OPPOSITE.setdefault(b, a)

AUXILIARIES = {"is", "was", "are", "were", "did", "does", "do", "can", "could", "has", "have",
               "had", "will", "would", "should", "might", "must"}
NEGATIONS = {"not", "never", "no", "n't", "none", "nor", "without", "neither"}
NAMED = {"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "WORK_OF_ART", "FAC", "PRODUCT",
         "LANGUAGE", "LAW"}
NUMERIC = {"DATE", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "TIME"}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
            "ninth", "tenth"]


@dataclass
class Edit:
    text: str
    kind: str  # entity, number, opposite, negation, condition, role, name or noun


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(needle.lower())}(?![A-Za-z0-9])",
                     haystack.lower()) is not None


class Pool:
    """An article's entities by label and its nouns: where replacements are drawn from, so a
    swapped-in name is as plausible as the one it replaces."""

    def __init__(self, docs):
        self.entities: dict[str, set[str]] = defaultdict(set)
        nouns: set[str] = set()
        names: set[str] = set()  # capitalised words of the article: parts of names
        for doc in docs:
            for ent in doc.ents:
                if ent.label_ in NAMED and len(ent.text) > 2:
                    self.entities[ent.label_].add(ent.text)
            for tok in doc:
                if tok.pos_ == "NOUN" and tok.is_alpha and len(tok.text) > 3:
                    nouns.add(tok.text.lower())
                elif (tok.pos_ == "PROPN" and tok.is_alpha and tok.is_title and len(tok.text) > 3
                      and tok.ent_type_ not in NUMERIC):  # not "January"
                    names.add(tok.text)
        self.sorted = {k: sorted(v) for k, v in self.entities.items()}
        self.sorted_nouns = sorted(nouns)
        self.sorted_names = sorted(names)


def _replace_span(doc, start: int, end: int, new: str) -> str:
    return doc.text[:start] + new + doc.text[end:]


def edits(doc, evidence: str, pool: Pool, rng: random.Random) -> list[Edit]:
    """Every kind of edit that applies to the parsed question or claim `doc`; `evidence` is the
    text that must no longer match (the sentence with its context)."""
    out: list[Edit] = []
    text = doc.text

    named = [e for e in doc.ents if e.label_ in NAMED]
    if named:
        ent = rng.choice(named)
        options = [x for x in pool.sorted.get(ent.label_, [])
                   if not _contains(evidence, x) and x.lower() != ent.text.lower()
                   and not (_words(x) & _words(ent.text))]
        if options:
            out.append(Edit(_replace_span(doc, ent.start_char, ent.end_char,
                                          rng.choice(options)), "entity"))

    numeric = [e for e in doc.ents if e.label_ in NUMERIC and re.search(r"\d|" + "|".join(
        ORDINALS), e.text.lower())]
    if numeric:
        ent = rng.choice(numeric)
        changed = _change_number(ent.text, rng)
        if changed and not _contains(evidence, changed):
            out.append(Edit(_replace_span(doc, ent.start_char, ent.end_char, changed),
                            "number"))

    flips = [t for t in doc if t.text.lower() in _OPPOSITE
             and not _contains(evidence, _OPPOSITE[t.text.lower()])]
    if flips:
        tok = rng.choice(flips)
        new = _OPPOSITE[tok.text.lower()]
        new = new.capitalize() if tok.text[0].isupper() else new
        out.append(Edit(_replace_span(doc, tok.idx, tok.idx + len(tok.text), new), "opposite"))

    if not (_words(evidence) & NEGATIONS) and not (_words(text) & NEGATIONS):
        aux = next((t for t in doc if t.text.lower() in AUXILIARIES
                    and t.pos_ in ("AUX", "VERB")), None)
        if aux is not None:
            end = aux.idx + len(aux.text)
            out.append(Edit(text[:end] + " not" + text[end:], "negation"))

    places = [x for label in ("GPE", "DATE", "EVENT") for x in pool.sorted.get(label, [])
              if not _contains(evidence, x) and not _contains(text, x)]
    if places:
        extra = rng.choice(places)
        word = "during" if extra in pool.entities.get("EVENT", ()) else "in"
        stem = text.rstrip(" ?.")
        out.append(Edit(f"{stem} {word} {extra}{text[len(stem):]}", "condition"))

    roles = [e for e in named if _contains(evidence, e.text)]
    if roles:
        ent = rng.choice(roles)
        others = [x for x in pool.sorted.get(ent.label_, []) if _contains(evidence, x)
                  and not _contains(text, x) and not (_words(x) & _words(ent.text))]
        if others:  # another name the sentence itself mentions: who did what to whom
            out.append(Edit(_replace_span(doc, ent.start_char, ent.end_char,
                                          rng.choice(others)), "role"))

    proper = [t for t in doc if t.pos_ == "PROPN" and t.is_alpha and t.ent_type_ not in NUMERIC
              and _contains(evidence, t.text)]
    if proper and pool.sorted_names:
        tok = rng.choice(proper)
        options = [w for w in pool.sorted_names if not _contains(evidence, w)]
        if options:  # "Twilight Princess" -> "Radar Princess": a name the text never uses
            out.append(Edit(_replace_span(doc, tok.idx, tok.idx + len(tok.text),
                                          rng.choice(options)), "name"))

    nouns = [t for t in doc if t.pos_ == "NOUN" and t.is_alpha and len(t.text) > 3
             and _contains(evidence, t.text)]
    if nouns and pool.sorted_nouns:
        tok = rng.choice(nouns)
        options = [n for n in pool.sorted_nouns
                   if not _contains(evidence, n) and n[:4] != tok.text.lower()[:4]]
        if options:
            new = rng.choice(options)
            if tok.tag_ in ("NNS", "NNPS") and not new.endswith("s"):
                new += "s"
            out.append(Edit(_replace_span(doc, tok.idx, tok.idx + len(tok.text), new), "noun"))
    return out


def _change_number(text: str, rng: random.Random) -> str | None:
    """A different figure of the same shape: a year moved by a few years, a count scaled, an
    ordinal shifted."""
    low = text.lower()
    for i, word in enumerate(ORDINALS):
        if re.search(rf"\b{word}\b", low):
            new = ORDINALS[(i + rng.randint(1, 3)) % len(ORDINALS)]
            return re.sub(rf"\b{word}\b", new, text, count=1, flags=re.I)
    m = re.search(r"\d[\d,]*(\.\d+)?", text)
    if not m:
        return None
    digits = m.group().replace(",", "")
    value = float(digits)
    if re.fullmatch(r"1[5-9]\d\d|20\d\d", digits):  # a year
        new = str(int(value) + rng.choice([-1, 1]) * rng.randint(2, 15))
    elif value.is_integer():
        new = str(int(value * rng.choice([2, 3])) if value > 2 else int(value) + rng.randint(2, 9))
    else:
        new = f"{value * rng.choice([2, 3]):.{len(m.group(1)) - 1}f}"
    return text[:m.start()] + new + text[m.end():]
