"""Tables on PDF pages with pdfplumber: ruled tables, and tables whose columns only line up.

pypdf stays the reader for prose; only pages whose text looks tabular are opened here (pdfplumber
is far slower), and on those the prose becomes the text outside the tables' regions, so a
table's bare-number lines ("Ferry sailings (thousands) 41.2 39.8 40") are never citable prose.
"""

from __future__ import annotations

import io
import re

from assistant.tables import NOTE, from_grid
from assistant.types import Table

_NUMBER = re.compile(r"^[-+−(]?[$£€]?\d[\d,.]*%?\)?[*†‡]?$")
_BLANKS = {"n/a", "na", "-", "—", "–", ".."}
_ALIGNED = {"vertical_strategy": "text", "horizontal_strategy": "text", "snap_tolerance": 3,
            "join_tolerance": 3, "intersection_tolerance": 5}


def read_tables(data: bytes, candidates: list[int], pages: list[str]) -> list[Table]:
    """The tables of the candidate pages (0-based), in order; `pages` has those pages' prose
    replaced by their text outside the tables. A table that goes on at the top of the next page
    without its header row keeps the header (and the caption and number) of the one before."""
    import pdfplumber

    tables: list[Table] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for k in candidates:
            page = pdf.pages[k]
            found = [(t.bbox, t.extract()) for t in page.find_tables()]
            if not found:
                found = _aligned(page)
            if not found:
                continue
            outside = page
            for n, (bbox, grid) in enumerate(sorted(found, key=lambda f: f[0][1])):
                grid = [[c or "" for c in row] for row in grid]
                at = len((page.crop((0, 0, page.width, bbox[1])).extract_text() or "").strip())
                table = _continued(tables, grid, k, n, at) or from_grid(
                    grid, caption=_caption(page, bbox), number=len(tables) + 1, page=k + 1,
                    footnotes=_notes(page, bbox), at=at)
                if table is not None:
                    tables.append(table)
                outside = outside.outside_bbox(bbox)
            pages[k] = (outside.extract_text() or "").strip()
    return tables


def _continued(tables: list[Table], grid: list[list[str]], k: int, n: int,
               at: int) -> Table | None:
    """The table's rows under the header of the previous page's last table, when it goes on."""
    last = tables[-1] if tables else None
    if (n or last is None or last.page != k or not grid
            or len(grid[0]) != len(last.columns) or not any(_NUMBER.match(c.strip())
                                                            for c in grid[0][1:])):
        return None
    return from_grid([last.columns, *grid], caption=last.caption, number=last.number,
                     page=k + 1, header_rows=1, footnotes=last.footnotes, at=at)


def _aligned(page) -> list[tuple[tuple, list[list[str]]]]:
    """A table without lines: pdfplumber's text strategy lays the whole page on a grid, prose
    included (a sentence cut into cells at its word gaps); the table is the longest run of
    rows that fill the same number of cells, at least two, most of them after the first
    figures, with the row above as its header when it fills as many cells."""
    out = []
    for table in page.find_tables(_ALIGNED):
        grid = table.extract()
        filled = [[c.strip() for c in row if c and c.strip()] for row in grid]
        kept = [r for r, cells in enumerate(filled) if cells]  # pdfplumber's blank rows dropped
        runs: list[list[int]] = [[]]
        for r in kept:
            cells = filled[r]
            numbers = sum(bool(_NUMBER.match(c)) or c.lower() in _BLANKS for c in cells[1:])
            figure_row = len(cells) >= 2 and numbers and numbers * 2 >= len(cells) - 1
            if figure_row and (not runs[-1] or len(filled[runs[-1][-1]]) == len(cells)):
                runs[-1].append(r)
            elif runs[-1]:
                runs.append([r] if figure_row else [])
        best = max(runs, key=len)
        if len(best) < 2:
            continue
        before = [r for r in kept if r < best[0]]
        if before and len(filled[before[-1]]) == len(filled[best[0]]):  # a header of words
            best.insert(0, before[-1])
        boxes = [table.rows[r].bbox for r in best]
        bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))
        out.append((bbox, [grid[r] for r in best]))
    return out


def _caption(page, bbox) -> str:
    """The line just above the table (or above its header row) when it starts with "Table"."""
    above = page.crop((0, max(0, bbox[1] - 40), page.width, bbox[1])).extract_text() or ""
    lines = [ln.strip() for ln in above.splitlines()[-2:] if re.match(r"(?i)table\b", ln.strip())]
    return lines[-1] if lines else ""


def _notes(page, bbox) -> list[str]:
    """Note lines just below the table ("* provisional", "Source: ...")."""
    below = page.crop((0, bbox[3], page.width, min(page.height, bbox[3] + 40))).extract_text()
    return [ln.strip() for ln in (below or "").splitlines() if NOTE.match(ln)]
