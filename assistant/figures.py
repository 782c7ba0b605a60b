"""Figures as people write them, read so that a claim's figure can be matched to the source's.

The numeric guard fails closed: every token of a claim that holds a digit, and every number or
fraction word, must be found in the evidence - as the same value where this reader understands
the form ("63,892" = "63892", "36.2 million" = "36,200,000", "-5.2%" = "−5.2 percent", "half" =
"50%"), and as the same token where it does not ("COVID-19", "Q3", "10:30"). So a form the
reader has never seen can cost a faithful paraphrase, never let an altered figure through.

Forms read: signs (hyphen-minus, the Unicode minus, accounting parentheses, an explicit "+"),
ranges ("5-7%", "5–7 percent", "between 5 and 7", "5 to 7"), scales and multipliers (thousand,
million, k, m and bn after a currency, bn, tn, "x", "times", "-fold", twice, double, triple),
scientific notation ("1e6", "1.5 x 10^6"), percentages apart from percentage points,
temperatures, pence, currencies, number words ("forty-one", "a dozen"), fractions ("half", "a
third", "two-thirds", "one in five", "1 in 5"), thousands separators (commas, thin, no-break and
plain spaces), and a decimal comma where it cannot be a thousands separator ("2,5%").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from assistant.types import Figure, Sentence

# -- the pieces of a written figure -----------------------------------------------------------

_MINUS = r"\-\u2212\u2012\u2013"  # hyphen-minus, minus, figure and en dash (in a class)
_SPACES = "\u00a0\u2009\u202f"  # no-break, thin, narrow no-break
_NUM = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 63,892 / 1,234.5
    rf"|\d{{1,3}}(?:[{_SPACES}]\d{{3}})+(?:[.,]\d+)?"  # 63 892 with a thin or no-break space
    r"|\d{1,3}(?: \d{3})+(?![\d.,])"  # 3 000 (plain spaces: whole groups of three only)
    r"|\d{1,3}(?:\.\d{3})+,\d+"  # 1.234,5 (a decimal comma after dotted thousands)
    r"|(?<![\d,])\d+,\d{1,2}(?![\d,])"  # 2,5 (a decimal comma: never three digits after it)
    r"|\d+(?:\.\d+)?|(?<![^\s(])\.\d+(?![\d,])"  # .5, not the ".63" of "[1].63,892"
)
_CURRENCY = r"US\$|A\$|C\$|[$£€¥₹]|(?:USD|EUR|GBP|JPY|CHF)\s?"
_SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
                "k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "tn": 1e12}
_SCALE = r"thousand|million|billion|trillion|bn|tn|mn|k|m"
_SUFFIX = (
    r"%\s?points?|\s?percentage[\s-]points?|\s?pp\b|\s?p\.p\.|\s?pts\b"  # percentage points
    r"|%|\s?percent\b|\s?per\s?cent\b|\s?pct\b"
    r"|\s?°\s?[CFcf]\b|\s?°|\s?degrees?\s(?:Celsius|Fahrenheit|C\b|F\b)|\s?deg\s?[CF]\b"
    r"|-?fold\b|\s?times\b|\s?[x×](?![\w])|p\b|\s?pence\b"
)
_SIGN_BEFORE = re.compile(r"(?:^|[\s(\[:=/;,])\Z")  # what may stand before a sign
_ONE = (rf"(?P<sign>[+{_MINUS}])?(?P<cur>{_CURRENCY})?(?P<sign2>[+{_MINUS}])?(?P<num>{_NUM})"
        rf"(?:\s?(?P<scale>{_SCALE})\b)?")
_RANGE = (rf"(?:(?P<sep>[\-\u2012\u2013]|\s\u2013\s|\s?\bto\s)(?P<cur_hi>{_CURRENCY})?"
          rf"(?P<num_hi>{_NUM})(?:\s?(?P<scale_hi>{_SCALE})\b)?)?")
_FIGURE = re.compile(rf"{_ONE}{_RANGE}(?P<suffix>{_SUFFIX})?", re.IGNORECASE)
_SINGLE = re.compile(rf"{_ONE}(?P<suffix>{_SUFFIX})?", re.IGNORECASE)  # no range
_SCIENTIFIC = re.compile(
    rf"(?P<sign>[+{_MINUS}])?(?P<num>\d+(?:\.\d+)?)"
    rf"(?:[eE](?P<exp>[+{_MINUS}]?\d+)|\s?[x×·]\s?10\s?(?:\^|\*\*)\s?(?P<pow>[+{_MINUS}]?\d+)"
    r"|\s?[x×·]\s?10(?P<sup>[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))(?![\w])")
_ACCOUNTING = re.compile(r"\((?P<cur>[$£€])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)\)")
_BETWEEN = re.compile(rf"\bbetween\s+(?P<lo>{_NUM})\s+and\s+(?=\d)", re.IGNORECASE)
_ONE_IN = re.compile(r"(?<![\d.,$£€¥₹])(?P<n>\d+)\s+in\s+(?P<d>\d+)\b(?![.,]\d|\s*(?:percent|%))")
_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")

# -- numbers and fractions in words -------------------------------------------------------------

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_BIG = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
NUMBER_WORDS = frozenset([*_UNITS, *_TENS, *_BIG])
_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
                 "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7,
                 "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10}
_MULTIPLES = {"twice": 2, "double": 2, "doubled": 2, "doubles": 2, "doubling": 2,
              "triple": 3, "tripled": 3, "triples": 3, "tripling": 3, "treble": 3, "trebled": 3,
              "quadruple": 4, "quadrupled": 4, "halved": 0.5, "halving": 0.5}
_WORD = "|".join(sorted([*NUMBER_WORDS], key=len, reverse=True))
_WORDS = re.compile(
    rf"\b(?P<a>an?\s+)?(?P<words>(?:{_WORD})(?:(?:-|\s+(?:and\s+)?)(?:{_WORD}))*)\b"
    r"(?P<rest>(?:-|\s)(?P<frac>halves|half|thirds?|quarters?|fifths?|sixths?|sevenths?|"
    r"eighths?|ninths?|tenths?)\b)?"
    r"(?P<of>\s+in\s+(?P<den>\d+|(?:" + _WORD + r")(?:-(?:" + _WORD + r"))?)\b)?"
    r"(?P<suffix>\s(?:percent\b|per\s?cent\b|percentage\s+points?\b|times\b)|-fold\b)?",
    re.IGNORECASE)
_FRACTION_ALONE = re.compile(  # "third" alone is an ordinal ("the third quarter"); half is not
    r"\b(?:(?:an?|one)[\s-]+(?P<frac>third|quarter|fifth|sixth|seventh|eighth|ninth|tenth)"
    r"|(?P<half>half))\b", re.IGNORECASE)
_OTHER_WORDS = re.compile(
    r"\b(?P<a>an?\s+)?(?P<w>dozen|twice|double[ds]?|doubling|triple[ds]?|tripling|trebled?|"
    r"quadrupled?|halved|halving|dozens|hundreds|thousands|millions|billions)\b", re.IGNORECASE)
_AMOUNT_WORD = re.compile(
    rf"\b(?:{_WORD}|halves|half|thirds?|quarters?|fifths?|sixths?|sevenths?|eighths?|ninths?|"
    r"tenths?|dozens?|twice|double[ds]?|triple[ds]?|trebled?|quadrupled?|halved)\b", re.I)
_NOT_A_COUNT_BEFORE = re.compile(r"\b(?:no|the|this|that|each|any|every|which|only)\s+\Z", re.I)
_NOT_A_COUNT_AFTER = re.compile(r"\A\s*(?:of\b|another\b|'s\b|day\b|by\b)", re.I)
# "one drop of chain lubricant": an amount measured out, which a lone "one" otherwise is not
_AN_AMOUNT_AFTER = re.compile(r"\A\s+(?:drop|cup|teaspoon|tablespoon|spoonful|pinch|handful|"
                              r"scoop|dose|tablet|coat|layer|sheet|slice|piece)s?\s+of\b", re.I)

_CURRENCY_WORDS = frozenset(  # not "pounds" (of flour), "real" (estate) or "won"
    "dollars dollar euros euro yen yuan renminbi rupees rupee francs franc kroner krone kronor "
    "krona rand pesos peso reais rubles roubles lira zloty forint".split())
_CITATION_MARK = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_TOKEN = re.compile(r"[^\s]+")
_TIME_UNITS = ("second", "minute", "hour", "day", "week", "month", "year", "decade")
_DECREASE = re.compile(r"\b(?:fell|fall|falls|falling|drop(?:ped|s)?|decline[ds]?|declining|"
                       r"decrease[ds]?|decreasing|down|lower|less|fewer|shr[ai]nk|shrank|"
                       r"contract(?:ed|ion)|loss|lost|cut|reduc(?:ed|tion)|negative|minus)\b",
                       re.IGNORECASE)


def read(text: str) -> list[Figure]:
    """Every figure in `text` in order, each with its value where the form is understood, and
    every other digit-bearing token as a figure of kind "token" (matched as written).

    [3]-style citation markers are not figures. A lone "one" used as a pronoun or article ("one
    of the reports", "no one") is not a figure either.
    """
    text = _CITATION_MARK.sub(lambda m: " " * len(m.group(0)), text)  # keep offsets
    found: list[Figure] = []
    taken = bytearray(len(text))

    def add(fig: Figure) -> None:
        if any(taken[fig.start:fig.end]):
            return
        taken[fig.start:fig.end] = b"\x01" * (fig.end - fig.start)
        found.append(fig)

    for m in _SCIENTIFIC.finditer(text):
        if _glued(text, m.start(), m.end()):
            continue
        if m.group("exp") is not None:
            exp = m.group("exp")
        else:
            exp = (m.group("pow") or m.group("sup")).translate(_SUPERSCRIPT)
        value = float(m.group("num")) * 10 ** int(_ascii_minus(exp))
        add(Figure(m.group(0), _signed(text, m, value), "number", _unit_after(text, m.end()),
                   m.start(), m.end()))
    for m in _ACCOUNTING.finditer(text):
        value = -float(m.group("num").replace(",", ""))
        add(Figure(m.group(0), value, "money" if m.group("cur") else "number",
                   _unit_after(text, m.end()), m.start(), m.end()))
    for m in _ONE_IN.finditer(text):  # 1 in 5; not "$89 in 2024"
        n, d = int(m.group("n")), int(m.group("d"))
        if 0 < n < d <= 1000:
            add(_share(text, m, n / d))
    for m in _BETWEEN.finditer(text):  # "between 5 and 7 percent" is the range 5-7 percent
        hi = _FIGURE.match(text, m.end())
        if hi and not hi.group("num_hi") and not _glued(text, hi.start(), hi.end()):
            lo = _digits(m.group("lo"))
            high = _numeric(text, hi, taken=None)
            if high is not None:
                scale = _scale(hi.group("scale"), hi.start("scale") == hi.end("num"),
                               hi.group("cur") or "")
                add(Figure(text[m.start():hi.end()].strip(), lo * scale,
                           high.kind, high.unit, m.start(), hi.end(), high=high.value))
    pos = 0
    while (m := _FIGURE.search(text, pos)) is not None:
        if m.group("num_hi") and "to" in m.group("sep") and re.search(r"\bfrom\s+\S*\Z",
                                                                      text[:m.start()]):
            m = _SINGLE.match(text, m.start())  # "from 32 to 36": two figures, not a range
        fig = _numeric(text, m, taken)
        if fig is not None:
            add(fig)
        pos = max(m.end(), m.start() + 1)
    for fig in _in_words(text):
        add(fig)
    for m in _TOKEN.finditer(text):  # fail closed: any other token with a digit, as written
        s, e = m.start(), m.end()
        if not any(ch.isdigit() for ch in text[s:e]):
            continue
        for k in range(s, e):
            if taken[k]:
                continue
            j = k
            while j < e and not taken[j]:
                j += 1
            piece = _strip(text[k:j])
            if any(ch.isdigit() for ch in piece):
                start = text.index(piece, k)
                add(Figure(piece, math.nan, "token", "", start, start + len(piece)))
            break
    for m in _AMOUNT_WORD.finditer(text):  # and any number or fraction word left unread
        lone = m.group(0).lower() in ("one", "zero")
        if not any(taken[m.start():m.end()]) and not (lone and (
                _NOT_A_COUNT_BEFORE.search(text[:m.start()])
                or _NOT_A_COUNT_AFTER.match(text[m.end():]))):
            add(Figure(m.group(0), math.nan, "token", "", m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _numeric(text: str, m: re.Match, taken) -> Figure | None:
    start, end = m.start(), m.end()
    if taken is not None and any(taken[start:end]):
        return None
    sign = m.group("sign") or m.group("sign2")
    if m.group("sign") and not _SIGN_BEFORE.search(text[:start]):
        start += 1  # "COVID-19": a hyphen after a letter is no sign (the token is caught later)
        sign = m.group("sign2")
    if _glued(text, start, end) or (text[end - 1:end] in "-" and end < len(text)
                                    and text[end].isalnum()):
        return None
    groups = m.groupdict()
    num, hi = groups["num"], groups.get("num_hi")
    suffix = (m.group("suffix") or "").strip().lower()
    cur = (groups["cur"] or groups.get("cur_hi") or "").strip()
    value = _digits(num) * _scale(m.group("scale"), m.start("scale") == m.end("num"), cur)
    high = None
    if hi is not None:
        scale_hi = groups["scale_hi"] or groups["scale"]
        attached = m.start("scale_hi") == m.end("num_hi") if groups["scale_hi"] else (
            m.start("scale") == m.end("num"))
        high = _digits(hi) * _scale(scale_hi, attached, cur)
        if _YEAR.fullmatch(num) and len(hi) == 2:  # 2023-24 is 2023 to 2024
            high = float(num[:2] + hi)
    if sign and sign != "+":
        value, high = -value, (-high if high is not None and not hi else high)
    if suffix.startswith(("percentage", "pp", "p.p", "pts")) or "point" in suffix:
        kind, unit = "points", "points"
    elif suffix.startswith(("%", "percent", "per", "pct")):
        kind, unit = "percent", _unit_after(text, end)
    elif suffix.startswith(("°", "degree", "deg")):
        kind, unit = "temperature", suffix[-1] if suffix[-1] in "cf" else ""
    elif suffix.endswith(("fold", "times", "x", "×")):
        kind, unit = "multiple", _unit_after(text, end)
    elif suffix in ("p", "pence"):
        kind, unit = "money", "pence"
    elif cur:
        kind, unit = "money", _unit_after(text, end)
    elif (_YEAR.fullmatch(num) and not m.group("scale") and not sign
          and (hi is None or _YEAR.fullmatch(str(int(high or 0))))):
        kind, unit = "year", _unit_after(text, end)
    else:
        unit = _unit_after(text, end)
        kind = "money" if unit in _CURRENCY_WORDS else "number"  # "4.8 billion kroner"
    return Figure(text[start:end].strip(), value, kind, unit, start,
                  start + len(text[start:end].rstrip()), high=high)


def _in_words(text: str) -> Iterable[Figure]:
    for m in _WORDS.finditer(text):
        words = m.group("words")
        lone = words.lower() in ("one", "zero") and not (
            m.group("frac") or m.group("of") or m.group("suffix")
            or _AN_AMOUNT_AFTER.match(text[m.end():]))
        if lone and (_NOT_A_COUNT_BEFORE.search(text[:m.start()])
                     or _NOT_A_COUNT_AFTER.match(text[m.end():])):
            continue
        if lone:  # "one image": matched as the word, never read as a count that answers
            yield Figure(words, math.nan, "token", "", m.start("words"), m.end("words"))
            continue
        if words.split()[0].lower() in _BIG and re.search(r"\d[ \t]?\Z", text[:m.start()]):
            continue  # "million" in "1.2 million" belongs to the digits
        value = _words_value(words)
        suffix = (m.group("suffix") or "").strip().lower()
        if m.group("frac"):  # two-thirds, three quarters
            yield _share(text, m, value / _DENOMINATORS[m.group("frac").lower()])
        elif m.group("of"):  # one in five
            den = m.group("den")
            den_value = float(den) if den.isdigit() else _words_value(den)
            if den_value:
                yield _share(text, m, value / den_value)
        elif suffix.startswith(("percentage",)):
            yield Figure(m.group(0).strip(), value, "points", "points", m.start(), m.end())
        elif suffix.startswith("per"):
            yield Figure(m.group(0).strip(), value, "percent", _unit_after(text, m.end()),
                         m.start(), m.end())
        elif suffix in ("times", "-fold"):
            yield Figure(m.group(0).strip(), value, "multiple", _unit_after(text, m.end()),
                         m.start(), m.end())
        else:
            start = m.start("words") if not m.group("a") else m.start()
            yield Figure(text[start:m.end()].strip(), value, "number",
                         _unit_after(text, m.end()), start, m.end())
    for m in _FRACTION_ALONE.finditer(text):  # half, a third, one-quarter
        yield _share(text, m, 1 / _DENOMINATORS[(m.group("frac") or "half").lower()])
    for m in _OTHER_WORDS.finditer(text):
        w = m.group("w").lower()
        if w == "dozen":
            yield Figure(m.group(0), 12.0, "number", _unit_after(text, m.end()), m.start(),
                         m.end())
        elif w in _MULTIPLES:
            yield Figure(m.group("w"), float(_MULTIPLES[w]), "multiple",
                         _unit_after(text, m.end()), m.start("w"), m.end())
        else:  # dozens, hundreds: an amount without a value, matched as the word
            yield Figure(m.group("w"), math.nan, "token", "", m.start("w"), m.end())


def _share(text: str, m: re.Match, fraction: float) -> Figure:
    """A fraction in words is a percentage given to no particular precision: "a third"
    matches 33%, 33.3% and 33.33%, not 34%."""
    return Figure(m.group(0).strip(), fraction * 100, "percent", _unit_after(text, m.end()),
                  m.start(), m.start() + len(m.group(0).rstrip()), approx=True)


def _words_value(words: str) -> float:
    """"forty-one" -> 41, "two hundred and five thousand" -> 205000."""
    total = current = 0.0
    for w in re.split(r"[-\s]+", words.lower()):
        if w in _UNITS or w in _TENS:
            current += _UNITS.get(w, 0) + _TENS.get(w, 0)
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _BIG:
            total += max(current, 1) * _BIG[w]
            current = 0
    return total + current


def _digits(num: str) -> float:
    num = num.replace(" ", "").translate({ord(c): None for c in _SPACES})
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", num):
        num = num.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{1,2}", num):
        num = num.replace(",", ".")
    return float(num.replace(",", ""))


def _scale(word: str | None, attached: bool, cur: str = "") -> float:
    """"5 m" is more often metres than millions: a short scale counts after a currency or
    written against the digits ("$5 m", "5m", "12k")."""
    word = (word or "").lower()
    if word in ("m", "k", "mn") and not (cur or attached):
        return 1.0
    return _SCALE_WORDS.get(word, 1.0)


def _signed(text: str, m: re.Match, value: float) -> float:
    sign = m.group("sign")
    return -value if sign and sign != "+" and _SIGN_BEFORE.search(text[:m.start()]) else value


def _ascii_minus(text: str) -> str:
    return re.sub(f"[{_MINUS}]", "-", text)


def _glued(text: str, start: int, end: int) -> bool:
    """Part of a word or code: "COVID-19", "2258A", "5G", "A4", "v2.1"."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    joined = (before in ":/-" and text[start - 2:start - 1].isalnum()) or (
        after in ":/" and text[end + 1:end + 2].isdigit())  # 10:30, 1/2, 12/05/2023
    return before.isalpha() or before in "_/#@." or after.isalnum() or after == "_" or joined


def _strip(token: str) -> str:
    return token.strip(".,;:!?()[]{}\"'\u2018\u2019\u201c\u201d*_`~<>")  # markdown marks too


def _unit_after(text: str, end: int) -> str:
    after = re.match(r"\s*(?:of\s+)?([A-Za-z][A-Za-z-]*)", text[end:])
    return after.group(1).lower() if after else ""


def is_duration(fig: Figure) -> bool:
    return any(fig.unit.startswith(u) for u in _TIME_UNITS)


# -- matching a claim's figures to the evidence -------------------------------------------------


def agree(claimed: Figure, claim_text: str, stated: Figure, source_text: str) -> bool:
    """The claim's figure is the source's: the same value (Figure.same_as), or the same
    decrease written once as a sign and once as a word ("fell 5.2%" for "-5.2%")."""
    if claimed.same_as(stated):
        return True
    if claimed.kind == "token" or claimed.high is not None or stated.high is not None:
        return False
    if claimed.value == -stated.value and claimed.value != 0:
        worded = claim_text if claimed.value > 0 else source_text
        return bool(_DECREASE.search(worded)) and claimed.same_as(
            Figure(stated.text, -stated.value, stated.kind, stated.unit, approx=stated.approx))
    return False


def unsupported(claim: Sentence, evidence: Iterable[Sentence]) -> list[Figure]:
    """The figures of `claim` that no evidence sentence states. A year also counts as stated
    when it ends a stated range of years ("2020-2024" states 2020)."""
    evidence = list(evidence)
    missing = []
    for f in claim.figures:
        if any(agree(f, claim.text, g, s.text) for s in evidence for g in s.figures):
            continue
        if f.kind == "year" and f.high is None and any(
                g.kind == "year" and g.high is not None and f.value in (g.value, g.high)
                for s in evidence for g in s.figures):
            continue
        missing.append(f)
    return missing
