"""Grounding on table cells: does this cell answer this question part, does it support this claim?

A cell's figure answers a part only when the part names the cell's row and its column, in the
question's words or the headers'. A fiscal label ("FY2023", "2022/23") stands for a calendar year
only where the table says which ("FY2023 = year ended 30 June 2023" in its caption, a note or
the header; "years ended 31 March 2022 and 2023"), and never for the year it starts in; the table's
caption, sheet and file title may supply what the whole table is about, and a table with one
value column needs only the row. What a table does not give is said, not guessed: a year it has
no column for, a row named without a column where several hold figures, an empty or "n/a" cell,
a change or ranking no cell states. Units in headers belong to the figure: 18,207 under
"Dockside fees ($ thousands)" is $18,207 thousand, the same figure and no other.

The answer decision calls `ground` (per question part) and `support` (per claim); both read the
chunk's stored Table and Cells, never figures parsed out of the rendered text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant import analysis
from assistant.figures import read as figures
from assistant.tables import unit_of
from assistant.types import Cell, CellCitation, Figure, Passage, Sentence, Table

# What a cell holds when the table has no figure for it.
BLANK = frozenset({"", "n/a", "na", "n.a.", "-", "—", "–", "..", "...", "…", "x", "not available",
                   "none", "nil"})
# Quantities no single cell states until derived figures are built.
_DERIVED = re.compile(r"\b(change[sd]?|increase[sd]?|decrease[sd]?|difference|grow|grew|growth|"
                      r"rose|fell|decline[sd]?|rank(?:ed|ing)?|highest|lowest|most|least|"
                      r"combined|sum|altogether|compared|versus|vs)\b", re.I)
_TOKEN = re.compile(r"[a-z]*\d[\w/.]*", re.I)  # "2023", "FY2023", "2022/23", "Q2"
_YEAR = re.compile(r"(?<![\w/])(?:19|20)\d\d(?![\w/])")
_PAREN = re.compile(r"\([^()]*\)")


@dataclass
class Grounding:
    """A cell and what it does for a part: answers it, or shows why it is not documented."""

    passage: int  # index into the passages given
    table: Table  # the chunk's table (its rows are the chunk's rows)
    cell: Cell
    answered: bool
    note: str = ""  # for a part not answered: what the table does give, in words
    whole_row: bool = False  # the row is what is shown for it, not one cell


def cells_of(passage: Passage) -> list[Cell]:
    found = passage.analysis
    return found.cells if found is not None and found.table is not None else []


def _any_table(passages: list[Passage]) -> bool:
    return any(p.analysis is not None and p.analysis.table is not None for p in passages)


def ground(part, passages: list[Passage]) -> Grounding | None:
    """The cell that answers `part` (a question.Part), or the one that shows it is not
    documented; None when no table row among the passages is what the part asks about."""
    if not _any_table(passages):
        return None  # without reading the part's words
    asked = _plain_words(_QUARTER.sub(_as_q, part.label))
    years = {t for t in asked if _YEAR.fullmatch(t)}
    ranking = {"high", "low"} | set(analysis.terms(" ".join(_MOST | _LEAST)))  # _extreme's
    # "the second quarter" is the column "Q2"
    quarters = set(analysis.terms(" ".join(m.group(0) for m in _QUARTER.finditer(part.label))))
    nominal = set(getattr(part, "nominal", []) or part.terms) - years - ranking - quarters
    narrowing = _modifiers(part.label) - ranking
    found: list[tuple[int, Grounding]] = []
    for i, p in enumerate(passages):
        table = p.analysis.table if p.analysis is not None else None
        if table is None:
            continue
        context_text = " ".join([table.caption, table.sheet, p.title, p.section])
        analysis.read_terms([context_text, *table.columns,  # in one batch, not a parse each
                             *(_PAREN.sub(" ", row[0]) for row in table.rows)])
        context = _words(context_text) | set(analysis.of(p).title_terms)
        for r, row in enumerate(table.rows):
            label = _words(_PAREN.sub(" ", row[0]))
            if not label or not label <= asked:
                continue
            verdict = _column(part, table, r, asked, years, context)
            if verdict is None:
                continue
            c, answered, note = verdict
            whole_row = not answered and not note.startswith(_NO_FIGURE)
            named = label | (set().union(*_readings(table, c)) if c else set())
            covered = named | context | _header_words(table, c) | _words(row[0])
            loose = nominal - covered - _UNIT_TERMS
            if loose & narrowing or len(loose) > 1:
                continue  # the part asks about something this row does not measure
            cell = next((x for x in p.analysis.cells if x.row == r and x.column == c), None)
            if cell is None:
                continue  # a column split into another chunk of this row
            found.append((len(label), Grounding(i, table, cell, answered, note, whole_row)))
    if not found:
        return _over_rows(part, passages, asked)
    answers = [(n, g) for n, g in found if g.answered]
    pool = answers or found
    best = max(n for n, _ in pool)
    top = [g for n, g in pool if n == best]
    distinct = {(passages[g.passage].source, g.cell.address) for g in top}
    if answers and len(distinct) > 1:
        return None  # two cells fit equally: not decided here
    return top[0]


def _over_rows(part, passages: list[Passage], asked: set[str]) -> Grounding | None:
    """A total or comparison over a column's rows ("loans of all branches combined"): no
    cell states it unless a row is named for it."""
    if not (_DERIVED.search(part.label) or _ACROSS.search(part.label)):
        return None
    for i, p in enumerate(passages):
        table = p.analysis.table if p.analysis is not None else None
        if table is None or not p.analysis.cells:
            continue
        for c in range(1, len(table.columns)):
            if _names(asked, table, c):
                rows = ", ".join(r[0] for r in table.rows)
                cell = next((x for x in p.analysis.cells if x.column == c), p.analysis.cells[0])
                return Grounding(i, table, cell, False, f"{_where(table)} gives "
                                 f"{table.columns[c]} for each of {rows}; no cell states what "
                                 "is asked, and none is computed", whole_row=True)
    return None


_ACROSS = re.compile(r"\b(total|all|every|each|overall|together)\b", re.I)


def _modifiers(text: str) -> set[str]:
    """Terms of the adjectives and names in a part: words that narrow what is counted
    ("electric ferry sailings"), which a row must state; other nouns may describe it."""
    return {t for tok in analysis.parsed(text) if tok.pos_ in ("ADJ", "PROPN")
            for t in analysis.terms(tok.text)}


def _column(part, table: Table, r: int, asked: set[str], years: set[str],
            context: set[str]) -> tuple[int, bool, str] | None:
    """(column, answered, note) for a part that names row r."""
    row = table.rows[r]
    values = [c for c in range(1, len(table.columns)) if c < len(row)]
    if not values:
        return None
    if getattr(part, "kind", "") == "share":  # "what percentage of visits": a column of
        values = [c for c in values if _SHARE.search(table.columns[c])]  # shares, never the
        asked = asked | _words("share percent")  # count beside it ("Share of visits (%)")
        if not values:
            return None
    label = row[0]
    if _DERIVED.search(part.label) and not _DERIVED.search(label + " " + " ".join(
            table.columns[c] for c in values)):
        if (best := _extreme(_derived(part.label), table, r, values)) is not None:
            return best, True, ""
        return (values[0], False, f"{_where(table)} states {label} for "
                f"{_listed(table, values)}; no cell states what is asked, and none is computed")
    named = [c for c in values if _names(asked, table, c)]
    if len(named) > 1:  # "2023" and "2023 / Q1": the most specific header named
        most = max(len(_words(table.columns[c])) for c in named)
        named = [c for c in named if len(_words(table.columns[c])) == most]
    if len(named) == 1:
        c = named[0]
        missing = years - _header_words(table, c) - context
        if missing:
            return None
        return _value(table, r, c)
    if len(values) == 1:
        missing = years - _header_words(table, values[0]) - context
        if missing:
            return (values[0], False, f"{_where(table)} gives {label} for "
                    f"{_listed(table, values)}, not for {', '.join(sorted(missing))}")
        return _value(table, r, values[0])
    if len(named) > 1:
        return None
    missing = years - context
    if missing:
        return (values[0], False, f"{_where(table)} gives {label} for "
                f"{_listed(table, values)}, not for {', '.join(sorted(missing))}")
    return (values[0], False, f"{_where(table)} gives {label} for several columns "
            f"({_listed(table, values)}); the question names none of them")


_SHARE = re.compile(r"%|\b(?:share|percent(?:age)?|proportion)\b", re.I)
_MOST = {"most", "highest"}  # of _DERIVED's words, those a row's own cells settle
_LEAST = {"least", "lowest"}
_WHOLE = re.compile(r"\b(?:total|all|overall|annual|full[\s-]year|combined|sum)\b", re.I)


def _derived(text: str) -> set[str]:
    """The derived quantities a text asks or states ("most", "increase"), in lower case."""
    return {m.group(0).lower() for m in _DERIVED.finditer(text)}


def _extreme(asked_words: set[str], table: Table, r: int, columns: list[int]) -> int | None:
    """"In which quarter did Millbrook collect the most garden waste": the column of the row's
    highest (or lowest) figure, read from its cells, when the part asks nothing else derived
    ("the largest increase") and one column holds it alone; a total column is not a period."""
    if len(asked_words) != 1 or not asked_words <= _MOST | _LEAST:
        return None
    shown = {c: figures(table.rows[r][c]) for c in columns if not _WHOLE.search(table.columns[c])}
    values = {c: f[0].value for c, f in shown.items() if len(f) == 1 and f[0].kind != "token"}
    if len(values) < 2 or len(values) < len(shown):
        return None  # a blank cell may hide the answer
    best = (max if asked_words <= _MOST else min)(values.values())
    found = [c for c, v in values.items() if v == best]
    return found[0] if len(found) == 1 else None


def _value(table: Table, r: int, c: int) -> tuple[int, bool, str]:
    shown = table.rows[r][c].strip()
    if shown.lower().rstrip("*†‡") in BLANK:
        notes = f" ({'; '.join(table.footnotes)})" if table.footnotes else ""
        what = f'"{shown}"' if shown else "empty"
        return c, False, (f"{_NO_FIGURE}{table.rows[r][0]}, {table.columns[c]} in "
                          f"{_where(table)}: the cell is {what}{notes}")
    return c, True, ""


_NO_FIGURE = "no figure for "


def _where(table: Table) -> str:
    if re.match(r"(?i)table\b", table.caption):
        return table.caption
    return f"Table {table.number} ({table.caption})"


def _listed(table: Table, columns: list[int]) -> str:
    return ", ".join(table.columns[c] for c in columns)


_UNIT_TERMS = {"thousand", "million", "billion", "percent", "per", "cent"}

# A fiscal label: "FY2023", "FY 23", "FY'23", "2022/23", "2022-23", "2022/2023".
_FISCAL = re.compile(r"(?<![\w/])(?:FY\s?'?(\d{4}|\d{2})|((?:19|20)\d\d)\s?[/–-]\s?(\d{4}|\d{2}))"
                     r"(?![\w/])", re.I)
_ENDED = r"\byears?\s+(?:ended|ending|to|through)\b([^.;)=]*)"
# "FY2023 = year ended 30 June 2023", "2022/23: the financial year to 31 March 2023"
_SAYS = re.compile(rf"({_FISCAL.pattern})\s*(?:=|:|\(|,|–|—)?\s*(?:is|means|denotes|refers to|"
                   rf"covers|being)?\s*(?:the\s+)?(?:(?:fiscal|financial|council|tax)\s+)?"
                   + _ENDED, re.I)
_FULL_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def _ends(label: re.Match) -> str:
    """The year a fiscal label's own digits end in: FY23 -> 2023, 2022/23 -> 2023."""
    short, first, second = label.group(1), label.group(2), label.group(3)
    if short:
        return short if len(short) == 4 else f"20{short}"
    if len(second) == 4:
        return second
    century = int(first[:2]) + (int(second) < int(first[2:]))
    return f"{century}{second}"


def _key(label: str) -> str:
    return re.sub(r"[\s']", "", label).lower().replace("–", "-")


def declared(table: Table) -> dict[str, str]:
    """Fiscal label -> the calendar year the table says it stands for. Said outright
    ("FY2023 = year ended 30 June 2023", in the caption, a note or the header itself), or as the
    years its years end in ("financial years ended 31 March 2022 and 2023"), which name the
    labels ending in them. Nothing is assumed where the table says nothing."""
    texts = [table.caption, table.sheet, *table.footnotes, *table.columns]
    said: dict[str, str] = {}
    ending: set[str] = set()
    for text in texts:
        for m in _SAYS.finditer(text or ""):
            year = _FULL_YEAR.search(m.group(m.lastindex))
            if year:
                said.setdefault(_key(m.group(1)), year.group(0))
        for m in re.finditer(_ENDED, text or "", re.I):
            ending.update(_FULL_YEAR.findall(m.group(1)))
    for header in table.columns:
        for label in _FISCAL.finditer(header):
            if _ends(label) in ending:
                said.setdefault(_key(label.group(0)), _ends(label))
    return said


def _readings(table: Table, c: int) -> list[set[str]]:
    """The words a column header names its column by (parentheses left out): as written, and,
    where the table says what year its fiscal labels stand for, with that year in their place."""
    header = _PAREN.sub(" ", table.columns[c])
    labels = [_key(m.group(0)) for m in _FISCAL.finditer(header)]
    said = declared(table) if labels else {}
    if labels and all(k in said for k in labels):
        return [_plain_words(header),
                _words(_FISCAL.sub(lambda m: said[_key(m.group(0))], header))]
    return [_plain_words(header)]


_QUARTER = re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\b", re.I)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3,
            "4th": 4}


def _as_q(m: re.Match) -> str:
    return f"Q{_ORDINAL[m.group(1).lower()]}"


def _plain_words(text: str) -> set[str]:
    """_words, a fiscal label kept whole: "2022/23" names neither 2022 nor 2023."""
    return _words(text) - {m.group(2) for m in _FISCAL.finditer(text) if m.group(2)}


def _names(words: set[str], table: Table, c: int) -> bool:
    """Whether these words name column c: all the words of one of its readings."""
    return any(w and w <= words for w in _readings(table, c))


def _header_words(table: Table, c: int) -> set[str]:
    """Every term column c's header gives, its parentheses too, fiscal labels read as above."""
    return set().union(*_readings(table, c), *map(_plain_words, _PAREN.findall(table.columns[c])))


def _words(text: str) -> set[str]:
    """Content terms (lemma stems, years) and tokens holding digits ("fy2023", "q2")."""
    return set(analysis.terms(text)) | {t.lower().rstrip(".") for t in _TOKEN.findall(text)}


# -- claims --------------------------------------------------------------------------------------


def support(claim: Sentence, passages: list[Passage], indexes: list[int]) -> Grounding | None:
    """The cell of a cited table chunk that a claim states: its figure (as shown, or with the
    header's unit applied) and words naming its row and, unless the table has one value
    column, its column. Every other figure of the claim must be a year or in those headers."""
    stated = [f for f in claim.figures if f.kind != "year"]
    if not stated or not _any_table([passages[i] for i in indexes]):
        return None  # without reading the claim's words
    claim_words = _plain_words(claim.text)
    for i in indexes:
        p = passages[i]
        table = p.analysis.table if p.analysis is not None else None
        if table is None:
            continue
        context = _words(" ".join([table.caption, table.sheet, p.title, p.section])) | set(
            analysis.of(p).title_terms)
        for cell in p.analysis.cells:
            row = table.rows[cell.row]
            shown = row[cell.column]
            header = table.columns[cell.column]
            if not _words(_PAREN.sub(" ", row[0])) <= claim_words:
                continue
            one_column = len(table.columns) == 2
            if not one_column and not _names(claim_words, table, cell.column):
                continue
            mine = [f for f in stated if stated_as(f, shown, unit(table, cell))]
            if not mine:
                continue
            named = figures(" ".join([row[0], header, table.caption]))
            others = [f for f in stated if f not in mine
                      and not any(f.same_as(g) for g in named)]
            if others:
                continue
            missing = ({t for t in claim_words if _YEAR.fullmatch(t)}
                       - _header_words(table, cell.column) - context)
            if missing:
                continue
            ranked = _derived(claim.text) & (_MOST | _LEAST)
            if ranked and _extreme(ranked, table, cell.row, list(
                    range(1, len(row)))) != cell.column:
                continue  # "highest in Q3" of a row whose highest is Q2
            return Grounding(i, table, cell, True)
    return None


def unit(table: Table, cell: Cell) -> str:
    """The unit the headers give this cell's figure: its column's, else its row's, else the
    caption's."""
    return (unit_of(table.columns[cell.column]) or unit_of(table.rows[cell.row][0])
            or unit_of(table.caption))


_SCALES = {"thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "m": 1e6,
           "bn": 1e9, "billion": 1e9, "billions": 1e9, "k": 1e3}


def stated_as(fig: Figure, shown: str, unit_text: str) -> bool:
    """Whether `fig` is the cell's figure: as the cell shows it, or with the header's unit
    applied (18,207 under "$ thousands" is $18,207 thousand = 18,207,000; 63.8 under "%" is
    63.8%). Nothing else: not 18,207 of another unit, not 18.2 thousand."""
    values = figures(shown)
    if len(values) != 1:
        return False
    value = values[0]
    if fig.same_as(value):
        return True
    low = unit_text.lower()
    if "%" in low or "percent" in low:
        return fig.kind == "percent" and abs(fig.value - value.value) <= 1e-9 * max(
            1.0, abs(value.value))
    scale = next((s for w, s in _SCALES.items() if re.search(rf"\b{w}\b", low)), 1.0)
    target = value.value * scale
    return fig.kind != "percent" and abs(fig.value - target) <= 1e-9 * max(1.0, abs(target))


# -- what the answer shows -----------------------------------------------------------------------


def claim_text(g: Grounding, part=None) -> str:
    """The cell stated as a sentence the verifier re-reads: row, column, the value as shown;
    for a part asking where a row is highest or lowest, said so."""
    row, column = g.table.rows[g.cell.row], g.table.columns[g.cell.column]
    said = _derived(part.label) if part else set()
    if said and said <= _MOST | _LEAST:
        return (f"{row[0]} is {'highest' if said <= _MOST else 'lowest'} in {column}: "
                f"{row[g.cell.column]} ({g.table.caption})")
    return f"{row[0]}, {column}: {row[g.cell.column]} ({g.table.caption})"


def evidence(g: Grounding, passage: Passage) -> Sentence:
    """The cell's "column: value" span in the chunk's text, as the sentence a citation quotes
    (its whole row's line when the row is what the table gives instead)."""
    header = g.table.columns[g.cell.column]
    start, end = g.cell.start, g.cell.end
    lead = passage.text.rfind(f"{header}: ", 0, g.cell.start)
    if lead >= 0 and lead + len(header) + 2 == g.cell.start:
        start = lead
    if g.whole_row:
        start = passage.text.rfind("\n", 0, g.cell.start) + 1
        end = len(passage.text) if (e := passage.text.find("\n", g.cell.end)) < 0 else e
    text = passage.text[start:end]
    return Sentence(start=start, end=end, text=text,
                    terms=sorted(_words(g.table.rows[g.cell.row][0]) | _words(header)),
                    entities=[], figures=[f.moved(start) for f in figures(text)], negated=False)


def citation(g: Grounding) -> CellCitation:
    """The cited cell (or, for `whole_row`, its row: no column, a row address)."""
    row = g.table.rows[g.cell.row]
    address = g.cell.address
    if g.whole_row:
        address = re.sub(r"!\$?[A-Z]+\$?(\d+)$", r"!\1:\1", re.sub(r", column \d+$", "", address))
    return CellCitation(sheet=g.table.sheet, caption=g.table.caption, row=row[0],
                        column="" if g.whole_row else g.table.columns[g.cell.column],
                        address=address,
                        value=row[g.cell.column], unit=unit(g.table, g.cell),
                        columns=list(g.table.columns), rows=[list(r) for r in g.table.rows],
                        at=[g.cell.row, 0 if g.whole_row else g.cell.column])
