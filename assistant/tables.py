"""Tables as evidence: a reader's grid -> a typed Table -> chunks of rows whose cells are located.

Every reader (CSV, XLSX, DOCX, HTML, Markdown, PDF) ends in `from_grid`, so headers, captions,
footnotes and spans are decided once, here. A table is chunked by rows: each chunk starts with
the table's caption and renders each row as "label — column: value; column: value", which the
encoder and BM25 match against questions, while the verifier reads the structure (the chunk's
Table and Cells, stored as its analysis), never figures parsed back out of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from assistant.types import Analysis, Cell, Table


class Unreadable(Exception):
    """A file that cannot be ingested; the message is the per-file reason shown to the user.
    (Here rather than in readers.py so the table readers raise it without importing back.)"""


EMPTY = "(empty)"  # how a blank cell is rendered in a chunk's text
# A note under a table: "* provisional", "a) estimate", "Note: ...", "Source: ...".
NOTE = re.compile(r"^\s*(?:[*†‡§¹²³]|\(?[a-z1-9]\)\s|notes?\b|sources?\b)", re.I)
_UNIT = re.compile(r"\(([^()]{1,30})\)\s*$|,\s*(%|[$£€][^,]{0,20}|[^,]{0,12}\b(?:thousands?|"
                   r"millions?|billions?|bn|m)\b[^,]{0,8})\s*$", re.I)
_UNIT_WORDS = re.compile(r"%|[$£€]|\b(?:thousands?|millions?|billions?|bn|m|k|per ?cent|percent|"
                         r"usd|eur|gbp|km|kg|tonnes?|hours?|minutes?|days?|people|units?)\b", re.I)


def unit_of(header: str) -> str:
    """The unit a header states for its figures: "Dockside fees ($ thousands)" -> "$ thousands",
    "Berth utilisation (%)" -> "%"; "" when it states none ("Visitors (2023)" names a year)."""
    m = _UNIT.search(header or "")
    found = (m.group(1) or m.group(2)).strip() if m else ""
    return found if found and _UNIT_WORDS.search(found) else ""


def from_grid(grid: list[list[str]], *, caption: str = "", number: int = 1, sheet: str = "",
              page: int | None = None, header_rows: int | None = None,
              row_numbers: list[int] | None = None, column_numbers: list[int] | None = None,
              footnotes: list[str] | None = None, at: int = 0) -> Table | None:
    """A Table from rows of cell texts (spans already repeated into every cell they cover, or
    left blank by formats that blank them). Leading rows with one filled cell are the caption,
    trailing ones footnotes; `header_rows` None guesses: the first row, and the next ones too
    while the row above has gaps (a spanning header) and they have no row label. None when no
    row holds a value under a header."""
    rows = [[" ".join(str(c or "").split()) for c in r] for r in grid]
    numbers = list(row_numbers) if row_numbers else []
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j] for r in rows)]  # empty columns dropped
    rows = [[r[j] for j in keep] for r in rows]
    columns_at = [column_numbers[j] for j in keep] if column_numbers else []
    lines = [k for k, r in enumerate(rows) if any(r)]
    rows = [rows[k] for k in lines]
    numbers = [numbers[k] for k in lines] if numbers else []
    notes = list(footnotes or [])
    titles = []
    while rows and sum(bool(c) for c in rows[0]) == 1 and len(rows) > 2 and len(keep) > 1:
        titles.append(next(c for c in rows[0] if c))
        rows, numbers = rows[1:], numbers[1:]
    while (len(rows) > 2 and sum(bool(c) for c in rows[-1]) == 1 and len(keep) > 1
           and NOTE.match(rows[-1][0])):
        notes.insert(0, rows[-1][0])
        rows, numbers = rows[:-1], numbers[:-1]
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    if header_rows is None:
        header_rows = 1
        while (header_rows < len(rows) - 1 and not rows[header_rows][0]
               and any(not c for c in rows[header_rows - 1][1:])):
            header_rows += 1
    header_rows = max(1, min(header_rows, len(rows) - 1))
    columns = _joined_headers(rows[:header_rows])
    return Table(caption=caption or " ".join(titles) or (sheet or f"Table {number}"),
                 columns=columns, rows=rows[header_rows:], number=number, sheet=sheet,
                 page=page, footnotes=notes, row_numbers=numbers[header_rows:],
                 column_numbers=columns_at, at=at)


def _joined_headers(header: list[list[str]]) -> list[str]:
    """One header per column: a spanning upper header (left blank under its span by the reader,
    or repeated) applies to every column it covers; the rows are joined with " / "."""
    filled = []
    for k, row in enumerate(header):
        if k < len(header) - 1:  # an upper row's blank cell continues the span to its left
            last = ""
            row = [(last := c) if c else (last if j > 0 else "") for j, c in enumerate(row)]
        filled.append(row)
    out = []
    for j in range(len(header[0])):
        parts = [r[j] for r in filled if r[j]]
        out.append(" / ".join(dict.fromkeys(parts)))
    return out


def column_letter(n: int) -> str:
    """1 -> "A", 28 -> "AB"."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def address(table: Table, r: int, c: int) -> str:
    """Where a cell is, as a person finds it: '"Harbour 2026"!D7' in a workbook, else
    "table 2, row 5, column 3" (data rows and columns counted from 1, the labels included)."""
    if table.sheet and table.row_numbers and table.column_numbers:
        sheet = table.sheet.replace("'", "''")
        return f"'{sheet}'!{column_letter(table.column_numbers[c])}{table.row_numbers[r]}"
    return f"table {table.number}, row {r + 1}, column {c + 1}"


def chunks(table: Table, budget: int,
           count: Callable[[str], int]) -> Iterator[tuple[str, Analysis]]:
    """The table as (text, analysis) chunks of whole rows within `budget` tokens, each opening
    with the caption; a row wider than a chunk is split by columns, each piece keeping its row
    label. Addresses are computed from the whole table, so a chunk's cells name their place.
    Made as they are taken: ingest embeds and writes a 100,000-row table's chunks a batch at a
    time, never holding them (and their cells) all at once."""
    head = heading(table)
    notes = "".join(f"\nNote: {n}" for n in table.footnotes)
    if count(head + notes) > budget // 2:
        notes = ""
    lines: list[tuple[int, list[int]]] = []  # (row index, columns) of the chunk being filled
    used = count(head + notes)
    for r, row in enumerate(table.rows):
        columns = list(range(1, len(row)))
        cost = count(_row_text(table, r, columns)) + 1
        if used + cost > budget and lines:
            yield _chunk(table, head, notes, lines)
            lines, used = [], count(head + notes)
        if used + cost <= budget or len(columns) <= 1:
            lines.append((r, columns))
            used += cost
            continue
        piece: list[int] = []
        for c in columns:  # wider than a chunk: by columns, the label kept on every piece
            if piece and used + count(_row_text(table, r, piece + [c])) + 1 > budget:
                lines.append((r, piece))
                yield _chunk(table, head, notes, lines)
                lines, used, piece = [], count(head + notes), []
            piece.append(c)
        lines.append((r, piece))
        used += count(_row_text(table, r, piece)) + 1
    if lines:
        yield _chunk(table, head, notes, lines)


def heading(table: Table) -> str:
    where = f" (sheet {table.sheet})" if table.sheet and table.sheet != table.caption else ""
    named = re.match(r"table\s+\d+\b", table.caption, re.I)  # "Table 1: Pool visits": as is
    return f"{table.caption}{where}" if named else f"Table {table.number}: {table.caption}{where}"


def _row_text(table: Table, r: int, columns: list[int]) -> str:
    row = table.rows[r]
    label = row[0] or table.columns[0] or f"Row {r + 1}"
    return label + " — " + "; ".join(f"{table.columns[c] or f'Column {c + 1}'}: "
                                     f"{row[c] or EMPTY}" for c in columns)


def _chunk(table: Table, head: str, notes: str,
           lines: list[tuple[int, list[int]]]) -> tuple[str, Analysis]:
    """One chunk's text and its analysis: the Table cut to the chunk's rows, and its cells."""
    text, cells, kept = head, [], {}
    for r, columns in lines:
        local = kept.setdefault(r, len(kept))
        text += "\n"
        line_start = len(text)
        text += _row_text(table, r, columns)
        cursor = line_start
        for c in columns:
            shown = table.rows[r][c] or EMPTY
            at = text.index(f": {shown}", cursor) + 2
            cells.append(Cell(at, at + len(shown), local, c, address(table, r, c)))
            cursor = at + len(shown)
    text += notes
    part = Table(caption=table.caption, columns=table.columns,
                 rows=[table.rows[r] for r in kept], number=table.number, sheet=table.sheet,
                 page=table.page, footnotes=table.footnotes)
    return text, Analysis(sentences=[], table=part, cells=cells)
