"""Turn one file into text pages, or a reason it cannot be read that a person understands.

Extraction is kept apart from chunking so that every chunk's character offsets refer to one
well-defined string: the pages joined by PAGE_SEP, which is what a citation is highlighted in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from assistant.config import Settings
from assistant.tables import NOTE, Unreadable, from_grid
from assistant.types import Table

PAGE_SEP = "\n\n"
SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".csv", ".tsv",
             ".xlsx")


@dataclass
class Extracted:
    title: str
    pages: list[str]  # one entry per PDF page; a single entry for other formats
    # Tables in document order (Table.page, Table.at); their text is not also in `pages`.
    tables: list[Table] = field(default_factory=list)


def extract(path: Path, data: bytes, *, max_unpacked_mb: float = Settings.max_unpacked_mb,
            max_table_rows: int = Settings.max_table_rows) -> Extracted:
    """`max_unpacked_mb` bounds what a DOCX or XLSX (zip archives) may inflate to;
    `max_table_rows` the rows of all the file's tables together."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise Unreadable("old binary Excel workbook (.xls) is not read: save it as .xlsx")
    if suffix not in SUPPORTED:
        raise Unreadable(f"unsupported file type '{suffix or '(none)'}' (supported: "
                         f"{', '.join(SUPPORTED)})")
    if not data.strip():
        raise Unreadable("empty file")
    if suffix == ".docx":
        extracted = _docx(path, data, max_unpacked_mb)
    elif suffix == ".xlsx":
        from assistant.sheets import read_xlsx

        tables = read_xlsx(data, max_unpacked_mb, max_table_rows, _checked_zip)
        extracted = Extracted(_humane(path.stem), [""], tables)
    elif suffix in (".csv", ".tsv"):
        from assistant.sheets import read_csv

        extracted = Extracted(_humane(path.stem), [""],
                              [read_csv(data, path, max_table_rows, _decode_sheet)])
    else:
        reader = {".pdf": _pdf, ".html": _html, ".htm": _html}.get(suffix, _text)
        extracted = reader(path, data)
    rows = sum(len(t.rows) for t in extracted.tables)
    if rows > max_table_rows:
        raise Unreadable(f"tables of {rows:,} rows, over the {max_table_rows:,} limit (setting "
                         "max_table_rows): split the file or raise the limit")
    if not "".join(extracted.pages).strip() and not extracted.tables:
        raise Unreadable("no extractable text (a scanned or image-only document?)")
    return extracted


def _humane(stem: str) -> str:
    """"harbour_operations-2024" -> "harbour operations 2024": a CSV's only caption."""
    return " ".join(re.split(r"[_\-\s]+", stem)).strip() or stem


def _decode_sheet(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252, what Excel's "CSV" export writes, line by line:
    a file that mixes them (exports of both kinds appended) keeps each line's own letters,
    where decoding it all as cp1252 would garble its UTF-8 lines."""
    if b"\x00" in data[:8192]:
        raise Unreadable("binary content, not text (UTF-16? save the CSV as UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    for number, line in enumerate(lines):
        try:
            lines[number] = line.decode("utf-8")
        except UnicodeDecodeError:
            try:
                lines[number] = line.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise Unreadable(f"neither UTF-8 nor Windows-1252 text (line {number + 1}, "
                                 f"byte {exc.start})") from None
    return "\n".join(lines)


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise Unreadable("binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not valid UTF-8 text (byte {exc.start})") from None


def _text(path: Path, data: bytes) -> Extracted:
    text = _decode(data).replace("\r\n", "\n")
    heading = re.search(r"^\s*#\s+(.+)$", text, re.M) if path.suffix.lower() != ".txt" else None
    first_line = next((ln.strip() for ln in text.splitlines() if ln.strip()), path.stem)
    title = heading.group(1).strip() if heading else first_line
    tables = []
    if path.suffix.lower() in (".md", ".markdown"):
        text, tables = _pipe_tables(text)
    return Extracted(title=title[:200], pages=[text], tables=tables)


_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")


def _pipe_tables(text: str) -> tuple[str, list[Table]]:
    """Markdown pipe tables out of the prose: a header line, a |---| rule, rows of cells. The
    line above that starts with "Table" (or is bold) is the caption; note lines right below
    ("* provisional", "Source: ...") are its footnotes and stay in the prose too."""
    lines = text.split("\n")
    prose: list[str] = []
    tables: list[Table] = []
    k = 0
    while k < len(lines):
        if k + 1 < len(lines) and "|" in lines[k] and _PIPE_RULE.match(lines[k + 1]):
            end = k + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            grid = [_pipe_cells(ln) for ln in [lines[k]] + lines[k + 2:end]]
            above = next((ln.strip() for ln in reversed(prose) if ln.strip()), "")
            caption = re.sub(r"^[#*_\s]+|[*_\s]+$", "", above)
            notes = [ln.strip() for ln in lines[end:end + 4] if NOTE.match(ln)]
            table = from_grid(grid, caption=caption if re.match(r"(?i)table\b", caption)
                              or above.startswith("**") else "", number=len(tables) + 1,
                              header_rows=1, footnotes=notes, at=len("\n".join(prose)))
            if table is not None:
                tables.append(table)
                prose.append("")
                k = end
                continue
        prose.append(lines[k])
        k += 1
    return "\n".join(prose), tables


def _pipe_cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _html(path: Path, data: bytes) -> Extracted:
    parser = _HTMLText()
    try:
        parser.feed(_never_closed_as_text(_decode(data)))
        parser.close()
    except AssertionError as exc:  # html.parser's way of rejecting a declaration it cannot read
        raise Unreadable(f"malformed HTML ({str(exc)[:120]})") from None
    title = parser.title if parser.title is not None else parser.h1
    lines = (ln.strip() for ln in "\n".join(parser.strings).splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    tables = []
    for table in parser.tables:  # each stood where its marker is: that place, marker removed
        marker = _TABLE_MARK.format(table.number)
        at = max(text.find(marker), 0)
        before, after = text[:at].rstrip("\n"), text[at + len(marker):].lstrip("\n")
        text = before + ("\n\n" if before and after else "") + after
        table.at = len(before)
        tables.append(table)
    return Extracted(title=(title or path.stem)[:200], pages=[text], tables=tables)


_TABLE_MARK = "\x00table{}\x00"


def _never_closed_as_text(html: str) -> str:
    """Escape the '<' of tags, comments and marked sections that nothing later closes.

    html.parser (before Python 3.11.13) rescans to the end of the document for every such '<'
    (`<a ` or `<!--x>` repeated: 100 KB took 7 s, quadratic); it ends up treating them as text,
    which is what the escaped '&lt;' gives in one pass.
    """
    cut = html.rfind(">") + 1
    html = html[:cut] + html[cut:].replace("<", "&lt;")
    for opener, closer in (("<!--", "-->"), ("<![", "]>")):
        last = html.rfind(closer)
        start = html.find(opener, last + len(closer) if last >= 0 else 0)
        if start >= 0:
            html = html[:start] + html[start:].replace(opener, "&lt;" + opener[1:])
    return html


class _HTMLText(HTMLParser):
    """The text of an HTML page in one pass, without building a tree.

    BeautifulSoup's tree took 52 s and 1.2 GB for 5 MB of nested tags and is quadratic in the
    nesting depth when tags are separated by whitespace (a pretty-printed page 100,000 levels deep
    never finished); this keeps only the open tags' names, so time is linear and memory follows
    the text. The result is what BeautifulSoup's get_text("\\n") gave: the strings between tags,
    without scripts, styles, comments and the first <title>, whose text is the title.
    """

    SKIPPED = frozenset({"script", "style", "noscript", "template"})
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                      "param", "source", "track", "wbr"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []  # text between tags, outside skipped elements
        self.title: str | None = None
        self.h1: str | None = None  # the first <h1>'s text: the title when there is no <title>
        self._data: list[str] = []
        self._open: list[str] = []  # names of the open elements, innermost last
        self._count: dict[str, int] = {}  # open elements by name: an end tag is matched in O(1)
        self._capture: str | None = None  # "title" or "h1" while its first one is open
        self._captured: list[str] = []  # its strings so far
        self.tables: list[Table] = []
        self._table: _HTMLTable | None = None  # the outermost open <table>, being read
        self._tables_open = 0  # nested tables' text goes into the outer table's cell

    def _flush(self) -> None:
        if not self._data:
            return
        text = "".join(self._data)
        self._data.clear()
        if self._skipping():
            return
        if self._capture:
            self._captured.append(text)
        if self._table is not None:
            self._table.text(text)
        elif self._capture != "title":
            self.strings.append(text)

    def handle_starttag(self, tag, attrs):
        self._flush()
        if tag == "table" and not self._skipping():
            self._tables_open += 1
            if self._tables_open == 1:
                self._table = _HTMLTable()
        elif self._table is not None and self._tables_open == 1:
            self._table.start(tag, dict(attrs))
        if tag in self.VOID:
            return
        self._open.append(tag)
        self._count[tag] = self._count.get(tag, 0) + 1
        if self._capture is None and not self._skipping() and (
                (tag == "title" and self.title is None) or (tag == "h1" and self.h1 is None)):
            self._capture = tag

    def _skipping(self) -> bool:
        return any(self._count.get(name) for name in self.SKIPPED)

    def handle_startendtag(self, tag, attrs):
        self._flush()

    def handle_endtag(self, tag):
        self._flush()
        if not self._count.get(tag):
            return  # nothing to close: ignored, as a browser does
        while self._open:  # closes the elements left open inside it too
            name = self._open.pop()
            self._count[name] -= 1
            if name == self._capture:
                self._finish_capture()
            if name == "table" and self._tables_open:
                self._end_table()
            elif self._table is not None and self._tables_open == 1:
                self._table.end(name)
            if name == tag:
                break

    def _end_table(self) -> None:
        self._tables_open -= 1
        if self._tables_open or self._table is None:
            return
        reading, self._table = self._table, None
        table = reading.finish(len(self.tables) + 1)
        if table is not None:
            self.tables.append(table)
            self.strings.append("\n" + _TABLE_MARK.format(table.number) + "\n")
        else:  # a layout table, or one with no header: its text is prose
            self.strings.append(reading.plain())

    def _finish_capture(self) -> None:
        setattr(self, self._capture, " ".join(" ".join(self._captured).split()))
        self._capture = None
        self._captured.clear()

    def handle_data(self, data):
        self._data.append(data)

    def handle_comment(self, data):  # comments, declarations and PIs are not text
        self._flush()

    handle_decl = handle_pi = handle_comment

    def unknown_decl(self, data):
        self._flush()
        if data.upper().startswith("CDATA["):  # CDATA is text, a string of its own
            self._data.append(data[len("CDATA["):])
            self._flush()

    def close(self):
        super().close()
        self._flush()
        while self._tables_open:
            self._end_table()
        if self._capture:
            self._finish_capture()


class _HTMLTable:
    """One <table> read in the parser's single pass: its caption, its rows of (text, colspan,
    rowspan, header?) cells, and how many rows are header rows (<thead>, or rows of <th>)."""

    def __init__(self):
        self.caption: list[str] = []
        self.rows: list[list[tuple[str, int, int, bool]]] = []
        self.head_rows = 0
        self._in: str | None = None  # "caption" or "cell"
        self._cell: list[str] = []
        self._spans = (1, 1, False)
        self._thead = False

    def start(self, tag: str, attrs: dict) -> None:
        if tag == "caption":
            self._in = "caption"
        elif tag == "thead":
            self._thead = True
        elif tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            self._in, self._cell = "cell", []
            self._spans = (_span(attrs.get("colspan")), _span(attrs.get("rowspan")),
                           tag == "th" and attrs.get("scope") != "row" or self._thead)
        elif tag in ("br", "p", "div", "li") and self._in:
            self.text(" ")

    def end(self, tag: str) -> None:
        if tag == "caption":
            self._in = None
        elif tag in ("td", "th"):
            self._close_cell()
        elif tag == "thead":
            self._close_cell()
            self._thead = False
            self.head_rows = len(self.rows)

    def text(self, text: str) -> None:
        if self._in == "caption":
            self.caption.append(text)
        elif self._in == "cell":
            self._cell.append(text)

    def _close_cell(self) -> None:
        if self._in == "cell":
            self.rows[-1].append((" ".join("".join(self._cell).split()), *self._spans))
            self._in = None

    def plain(self) -> str:
        return "\n".join(" ".join(c[0] for c in row) for row in self.rows)

    def finish(self, number: int) -> Table | None:
        """The grid with spans applied: a spanning header (or row label) is repeated into
        every column (or row) it covers, a spanning value stands once."""
        self._close_cell()
        rows = [r for r in self.rows if r]
        head = self.head_rows or next((k for k, r in enumerate(rows)
                                       if not all(h for *_, h in r)), 1)
        grid: list[list[str]] = []
        below: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
        for k, row in enumerate(rows):
            line: list[str] = []
            cells = iter(row)
            while True:
                col = len(line)
                if col in below:
                    text, left = below.pop(col)
                    line.append(text)
                    if left > 1:
                        below[col] = (text, left - 1)
                    continue
                cell = next(cells, None)
                if cell is None:
                    break
                text, colspan, rowspan, header = cell
                spread = header or k < head
                for j in range(min(colspan, 1000)):
                    line.append(text if j == 0 or spread else "")
                    if rowspan > 1:
                        below[col + j] = (text if spread or col + j == 0 else "",
                                          min(rowspan, 10_000) - 1)
            while below and max(below) >= len(line):  # spans past the row's own cells
                col = len(line)
                text, left = below.pop(col, ("", 0))
                line.append(text)
                if left > 1:
                    below[col] = (text, left - 1)
            grid.append(line)
        return from_grid(grid, caption=" ".join(" ".join(self.caption).split()), number=number,
                         header_rows=head or 1)


def _span(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _pdf(path: Path, data: bytes) -> Extracted:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF (password protected)")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Unreadable(f"corrupt PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except Exception as exc:  # pypdf raises many internal types for damaged files
        raise Unreadable(f"corrupt PDF ({type(exc).__name__})") from None
    if not title.strip():
        title = next((ln.strip() for p in pages for ln in p.splitlines() if ln.strip()), path.stem)
    tables: list[Table] = []
    candidates = [k for k, text in enumerate(pages) if _tabular(text)]
    if candidates:
        from assistant.pdftables import read_tables

        tables = read_tables(data, candidates, pages)
    return Extracted(title=title.strip()[:200], pages=pages, tables=tables)


_NUMERIC_TOKEN = re.compile(r"(?<!\S)[-+−(]?[$£€]?\d[\d,.]*%?\)?(?!\S)")


def _tabular(text: str) -> bool:
    """A page worth pdfplumber's time (it is far slower than pypdf): two lines or more holding
    two separate numbers each, as table rows do, or four lines that are a number alone (pypdf
    gives some tables a cell a line)."""
    counts = [len(_NUMERIC_TOKEN.findall(line)) for line in text.splitlines()]
    lone = sum(n == 1 and len(line.split()) == 1 for n, line in zip(counts, text.splitlines()))
    return sum(n >= 2 for n in counts) >= 2 or lone >= 4


def _docx(path: Path, data: bytes, max_unpacked_mb: float) -> Extracted:
    import io
    import zipfile

    import docx
    import docx.table

    try:
        document = docx.Document(io.BytesIO(_checked_zip(data, max_unpacked_mb)))
    except Unreadable:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    except Exception as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    paragraphs, tables = [], []
    for block in document.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, docx.table.Table):
            caption = paragraphs[-1] if paragraphs and re.match(r"(?i)table\b",
                                                                paragraphs[-1]) else ""
            table = from_grid(_docx_grid(block), caption=caption, number=len(tables) + 1,
                              at=len("\n\n".join(paragraphs)))
            if table is not None:
                tables.append(table)
        elif block.text.strip():
            paragraphs.append(block.text.strip())
    # Only paragraphs with a style of their own can be a title or a heading: resolving the
    # default style takes python-docx 5 ms a paragraph (109 s for 22,000 paragraphs).
    heading = next((p.text.strip() for p in document.paragraphs
                    if p._p.style and p.style.name.lower().startswith(("title", "heading"))
                    and p.text.strip()), None)
    first = paragraphs[0] if paragraphs else path.stem
    title = document.core_properties.title or heading or first
    return Extracted(title=title[:200], pages=["\n\n".join(paragraphs)], tables=tables)


def _docx_grid(table) -> list[list[str]]:
    """Cell texts by row. python-docx gives a merged cell once per column and row it covers:
    kept so in the first row and column (a spanning header, a merged row label), blanked
    elsewhere (a merged value is one cell)."""
    grid, above = [], {}
    for r, row in enumerate(table.rows):
        line, left = [], None
        for c, cell in enumerate(row.cells):
            tc = cell._tc
            repeated = tc is left or above.get(c) is tc
            line.append(cell.text.strip() if not repeated or r == 0 or c == 0 else "")
            above[c], left = tc, tc
        grid.append(line)
    return grid


ZIP_MAX_PARTS = 10_000
ZIP_MAX_RATIO = 100  # a part over 1 MB inflating more than this is a bomb, not a document


def _checked_zip(data: bytes, max_unpacked_mb: float, kind: str = "DOCX") -> bytes:
    """The archive re-packed uncompressed, after its parts' declared sizes and ratios pass.

    python-docx inflates every part whole (zipfile.read() decompresses a member in one call,
    however far past its declared size the data really goes), so it only ever sees this copy:
    read here in 1 MB steps, each member stopped at its declared size and checked against its
    CRC, so a header that lies gives at most what it declared, or a corrupt-file reason.
    """
    import io
    import zipfile

    limit = max_unpacked_mb * 2**20
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if len(parts) > ZIP_MAX_PARTS:
            raise Unreadable(f"{kind} of {len(parts):,} parts, over {ZIP_MAX_PARTS:,} "
                             "(a zip bomb?)")
        unpacked = sum(part.file_size for part in parts)
        if unpacked > limit:
            raise Unreadable(f"{kind} unpacks to {unpacked / 2**20:,.0f} MB, over the "
                             f"{max_unpacked_mb:g} MB limit (setting max_unpacked_mb)")
        for part in parts:
            if part.file_size > 2**20 and part.file_size > ZIP_MAX_RATIO * part.compress_size:
                ratio = part.file_size / max(part.compress_size, 1)
                raise Unreadable(f"{part.filename} in the {kind} inflates {ratio:,.0f} times "
                                 f"(over {ZIP_MAX_RATIO}): a zip bomb?")
        copy = io.BytesIO()
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
            for part in parts:
                with archive.open(part) as src, out.open(part.filename, "w") as dst:
                    while block := src.read(2**20):
                        dst.write(block)
    return copy.getvalue()
