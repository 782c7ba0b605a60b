"""The eval harness's own figure check: fail-closed, and independent of the verifier.

The harness counts invented numbers to catch what the verifier misses, so it must not read
figures with the verifier's reader: a figure that reader cannot parse would be invisible to both.
This module imports nothing from the analysis, text, figures or verify modules. It reads the
formats it knows as values (signs, separators, k/m/bn suffixes, scientific notation, percentages
and percentage points, multiples, number words, fractions, "one in five"); any other token that
holds a digit must occur as written in the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * n for n, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SUFFIXES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12, **_SCALES}
_WORDS = {**_UNITS, **_TENS, "dozen": 12}
_VAGUE = re.compile(r"\b(?:dozens|hundreds|thousands|millions|billions)\b", re.I)  # as written
_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
                 "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "eighth": 8, "eighths": 8,
                 "tenth": 10, "tenths": 10}
_MULTIPLES = {"twice": 2, "double": 2, "doubled": 2, "doubling": 2, "triple": 3, "tripled": 3,
              "tripling": 3, "quadruple": 4, "quadrupled": 4, "halved": 0.5}
_MINUS = "-\u2212"
_DECREASE = re.compile(r"\b(?:fell|fall|falling|dropped|drop|declined?|decreased?|down|lower|"
                       r"less|fewer|shrank|loss|lost|cut|reduced|negative|minus)\b", re.I)


def _any(words) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


# 63,892 / 3 000 (plain or thin spaces) / 2.5 / .5 / 2023
_NUMERAL = (r"\d{1,3}(?:(?:,|[ \u2009\u202f](?=\d{3}(?!\d)))\d{3})+(?:\.\d+)?"
            r"|\d+,\d{1,2}(?![\d,])|\d*\.\d+|\d+")  # "2,5": a decimal comma
_AND = r"(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion))\s+and\s+"  # "hundred and five"
_NUMBER_WORDS = rf"{_any([*_WORDS, *_SCALES])}(?:(?:[\s-]+|{_AND}){_any([*_WORDS, *_SCALES])})*"
_AMOUNT = rf"(?:{_NUMERAL}|{_NUMBER_WORDS})"
_UNIT = (rf"(?:\s?(?:percentage points?|pp(?![a-z])|per ?cent|%|times|{_any(_SCALES)})|[- ]?fold"
         r"|\s?°\s?[cf](?![a-z])|\s?degrees? (?:celsius|fahrenheit)"
         r"|(?:pp|mn|bn|tn|k|m|b|p|x)(?![a-z]))")
_FIGURE = re.compile(
    rf"(?<![\w.,])(?P<sign>[{_MINUS}+(])?[$£€¥]?(?P<amount>{_AMOUNT})(?:e(?P<exp>[-+]?\d+)|\s?[x×]\s?10\^(?P<pow>[-+]?\d+))?"
    rf"(?P<close>\))?(?P<units>{_UNIT}*)"
    rf"(?:\s+(?:in|out of)\s+(?P<of>\d{{1,3}}(?![\d,.])|{_NUMBER_WORDS}))?(?!\w)", re.I)
_FRACTION = re.compile(
    rf"(?<![\w-])(?:(?P<num>an?|{_any(_UNITS)}|\d+)[\s-]+)?(?P<den>{_any(_DENOMINATORS)})(?!\w)",
    re.I)
_MULTIPLE = re.compile(rf"(?<![\w-]){_any(_MULTIPLES)}(?!\w)", re.I)
_MARKER = re.compile(r"\s?\[\d+\]")


@dataclass(frozen=True)
class Figure:
    text: str  # as written
    value: float
    kind: str  # "number" | "percent" | "points" | "multiple" | "fraction"
    signed: bool = False  # written with an explicit sign: "-5.2%", "+3", "(1,234)"

    def same_as(self, other: Figure, decrease: bool = False) -> bool:
        """The same value, sign included; an unsigned figure said beside a decrease word
        ("fell 5.2%") restates a negative one ("-5.2%"). A fraction equals its rounded
        percentage."""
        a, b = self.value, other.value
        if decrease and not self.signed and b < 0:
            b = -b
        if self.kind == other.kind:
            return abs(a - b) <= 1e-9 * max(1.0, abs(a))
        if {self.kind, other.kind} == {"fraction", "percent"}:  # "a third" / "33%"
            share, percent = (a, b) if self.kind == "fraction" else (b, a)
            return abs(100 * share - percent) < 0.5
        return False


def read(text: str) -> tuple[list[Figure], list[str]]:
    """The figures of `text` ([n] citation markers aside): (read as values, tokens holding a
    digit that no known format covers, to be matched as written)."""
    text = _MARKER.sub(" ", text)
    figures: list[Figure] = []
    taken: list[tuple[int, int]] = []
    matches = [(m, _fraction(m)) for m in _FRACTION.finditer(text)]
    matches += [(m, Figure(m.group(), _MULTIPLES[m.group().lower()], "multiple"))
                for m in _MULTIPLE.finditer(text)]
    matches += [(m, _figure(m)) for m in _FIGURE.finditer(text)]
    for m, figure in matches:
        if figure is not None and not _overlaps(m.span(), taken):
            figures.append(figure)
            taken.append(m.span())
    tokens = []
    for digits in re.finditer(r"\d+", text):
        if not _overlaps(digits.span(), taken):
            token = re.search(r"\S*$", text[:digits.start()]).group() + re.match(
                r"\S*", text[digits.start():]).group()
            tokens.append(token.strip(".,;:!?\"'()[]"))
    tokens += [m.group() for m in _VAGUE.finditer(text)]
    return figures, list(dict.fromkeys(tokens))


def unmatched(said: str, evidence: list[str]) -> list[str]:
    """What `said` states as a figure that no text of `evidence` holds, as the same value or,
    for a token no format covers, as the same token."""
    known = [f for text in evidence for f in read(text)[0]]
    figures, tokens = read(said)
    plain = [_plain(text) for text in evidence]
    decrease = bool(_DECREASE.search(said))
    return ([f.text for f in figures if not any(f.same_as(k, decrease) for k in known)]
            + [t for t in tokens if not any(re.search(rf"(?<!\w){re.escape(_plain(t))}(?!\w)", p)
                                            for p in plain)])


def _figure(m: re.Match) -> Figure | None:
    value = _amount(m.group("amount"))
    if value is None:
        return None
    value *= 10 ** int(m.group("exp") or m.group("pow") or 0)
    sign = m.group("sign") or ""
    if sign == "(" and (not m.group("close") or re.fullmatch(r"1\d{3}|20\d{2}", m.group(
            "amount")) and not m.group("units").strip()):
        sign = ""  # "(5 of them", "(1288)": an aside or a year, not an accounting minus
    kind = "number"
    for unit in re.findall(_UNIT, m.group("units"), re.I):
        unit = unit.lower().strip(" -")
        if unit in _SUFFIXES:
            value *= _SUFFIXES[unit]
        elif unit.startswith("percentage") or unit == "pp":
            kind = "points"
        elif unit in ("%", "percent", "per cent"):
            kind = "percent"
        elif unit in ("times", "x", "fold"):
            kind = "multiple"
        elif unit[-1] in "cf" or unit.endswith(("celsius", "fahrenheit")):
            kind = "degrees " + ("c" if unit.endswith(("c", "celsius")) else "f")  # C, F apart
    if m.group("of"):  # "one in five", "3 out of 10": a share
        of = _amount(m.group("of"))
        return Figure(m.group(), value / of, "fraction") if of else None
    value = -value if sign and sign in _MINUS + "(" else value
    return Figure(m.group().strip(), value, kind, signed=bool(sign))


def _amount(text: str) -> float | None:
    """A numeral ("63,892", "3 000", "2.5") or number words ("forty-one", "two hundred")."""
    text = text.lower()
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return float(text.replace(",", "."))
    if text[0].isdigit() or text[0] == ".":
        return float(re.sub(r"[,\s\u2009\u202f]", "", text))
    total, current, last = 0.0, 0.0, ""
    for word in re.split(r"[\s-]+", text.replace(" and ", " ")):
        if word in _WORDS:
            if last in _UNITS or (last in _TENS and word not in _UNITS):
                return None  # "one two", "twenty thirty": not one number
            current += _WORDS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[word]
            current = 0.0
        last = word
    return total + current


def _fraction(m: re.Match) -> Figure:
    num = (m.group("num") or "a").lower()
    count = 1 if num in ("a", "an") else float(num) if num.isdigit() else _UNITS[num]
    return Figure(m.group(), count / _DENOMINATORS[m.group("den").lower()], "fraction")


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in taken)


def _plain(text: str) -> str:
    return text.lower().replace("\u2212", "-")
