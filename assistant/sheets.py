"""Spreadsheets -> Tables: CSV/TSV with the standard library, XLSX with openpyxl (read-only).

A spreadsheet is all table: its figures are kept as the program shows them (an XLSX 0.183
formatted "0.0%" is "18.3%", 12345 formatted "#,##0" is "12,345"), because that is what a
reader of the sheet sees and what a citation must match. Rows are read as a stream, and a file
past `max_table_rows` is refused as soon as the count is passed, never after filling memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path

from assistant.tables import Unreadable, from_grid
from assistant.types import Table

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted OOXML file, or an old .xls


def _too_many(rows: int, limit: int):
    return Unreadable(f"more than {limit:,} table rows (setting max_table_rows): split the file "
                      "or raise the limit") if rows > limit else None


def read_csv(data: bytes, path: Path, max_rows: int, decode: Callable[[bytes], str]) -> Table:
    """One table: the first row is the header, the file's name the caption. The delimiter is
    sniffed (a .tsv is tab-separated); quoting that never closes is refused with its line."""
    text = decode(data)
    if path.suffix.lower() == ".tsv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:65_536], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    grid: list[list[str]] = []
    try:
        for row in reader:
            grid.append(row)
            if error := _too_many(len(grid) - 1, max_rows):
                raise error
    except csv.Error as exc:
        raise Unreadable(f"broken CSV quoting (line {reader.line_num}: {exc})") from None
    table = from_grid(grid, caption=" ".join(re.split(r"[_\-\s]+", path.stem)).strip(),
                      header_rows=1)
    if table is None:
        raise Unreadable("no table in the CSV: fewer than two rows or columns")
    return table


def read_xlsx(data: bytes, max_unpacked_mb: float, max_rows: int,
              checked_zip: Callable[[bytes, float, str], bytes]) -> list[Table]:
    """Every visible sheet as one table (hidden sheets are skipped: their author hid them);
    hidden rows and columns are read like the others. Cached values only: a formula never
    calculated (a file written by a script, not saved by a spreadsheet program) reads empty."""
    if data.startswith(_OLE2):
        raise Unreadable("password-protected (encrypted) workbook: save it without a password")
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(checked_zip(data, max_unpacked_mb, "XLSX")),
                                      read_only=True, data_only=True)
    except Unreadable:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Unreadable(f"corrupt XLSX ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises many internal types for damaged files
        raise Unreadable(f"corrupt XLSX ({type(exc).__name__})") from None
    tables, rows = [], 0
    try:
        for sheet in book.worksheets:
            if sheet.sheet_state != "visible":
                continue
            grid, numbers = [], []
            for cells in sheet.iter_rows():
                shown = [(getattr(c, "column", None), _shown(c)) for c in cells]
                if not any(text for _, text in shown):
                    continue
                grid.append(shown)
                numbers.append(next(c.row for c in cells if getattr(c, "row", None)))
                rows += 1
                if error := _too_many(rows, max_rows):
                    raise error
            table = _sheet_table(grid, numbers, sheet.title, len(tables) + 1)
            if table is not None:
                tables.append(table)
    finally:
        book.close()
    if not tables:
        raise Unreadable("no table in the workbook: no visible sheet has two rows and columns")
    return tables


def _sheet_table(grid: list[list[tuple[int | None, str]]], numbers: list[int], title: str,
                 number: int) -> Table | None:
    """The sheet's rows laid on its columns (read-only rows start at their first cell)."""
    if not grid:
        return None
    first = min(col for row in grid for col, _ in row if col)
    last = max(col for row in grid for col, _ in row if col)
    laid = []
    for row in grid:
        line = [""] * (last - first + 1)
        for col, text in row:
            if col:
                line[col - first] = text
        laid.append(line)
    return from_grid(laid, sheet=title, number=number, row_numbers=numbers,
                     column_numbers=list(range(first, last + 1)))


def _shown(cell) -> str:
    """A cell's value as the spreadsheet displays it, for the number formats reports use."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        return number_shown(value, getattr(cell, "number_format", "General") or "General")
    return str(value).strip()


_LITERAL = re.compile(r'"([^"]*)"|\\(.)|\[\$([^\]-]*)(?:-[^\]]*)?\]|\[[^\]]*\]|_.|\*.')


def number_shown(value: float, fmt: str) -> str:
    """`value` in Excel number format `fmt`: the section for its sign, the percent scaling,
    the decimals, the thousands separator, and literal text such as "$" or " km"."""
    sections = fmt.split(";")
    negative = value < 0 and len(sections) > 1
    section = sections[1] if negative else sections[0]
    if negative:
        value = -value  # the negative section writes its own sign or parentheses
    if section.strip().lower() in ("general", ""):
        text = f"{value:.10g}" if isinstance(value, float) else str(value)
        return ("-" if negative else "") + text
    # Literal text kept, codes that only colour or pad dropped.
    plain = _LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else
                         m.group(2) or m.group(3) or "", section)
    digits = re.search(r"[0#?][0#?,]*(?:\.[0#?]+)?", plain)
    if not digits:
        return plain.strip() or f"{value:g}"
    pattern = digits.group(0)
    if "%" in plain:
        value *= 100
    decimals = len(pattern.split(".")[1]) if "." in pattern else 0
    number = f"{value:,.{decimals}f}" if "," in pattern else f"{value:.{decimals}f}"
    return (plain[:digits.start()] + number + plain[digits.end():]).strip()
