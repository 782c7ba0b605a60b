"""Turn one file into text pages, or a reason it cannot be read that a person understands.

Extraction is kept apart from chunking so that every chunk's character offsets refer to one
well-defined string: the pages joined by PAGE_SEP, which is what a citation is highlighted in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from assistant.config import Settings

PAGE_SEP = "\n\n"
SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class Unreadable(Exception):
    """A file that cannot be ingested; the message is the per-file reason shown to the user."""


@dataclass
class Extracted:
    title: str
    pages: list[str]  # one entry per PDF page; a single entry for other formats


def extract(path: Path, data: bytes, *,
            max_unpacked_mb: float = Settings.max_unpacked_mb) -> Extracted:
    """`max_unpacked_mb` bounds what a DOCX (a zip archive) may inflate to."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise Unreadable(f"unsupported file type '{suffix or '(none)'}' (supported: "
                         f"{', '.join(SUPPORTED)})")
    if not data.strip():
        raise Unreadable("empty file")
    if suffix == ".docx":
        extracted = _docx(path, data, max_unpacked_mb)
    else:
        extracted = {".pdf": _pdf, ".html": _html, ".htm": _html}.get(suffix, _text)(path, data)
    if not "".join(extracted.pages).strip():
        raise Unreadable("no extractable text (a scanned or image-only document?)")
    return extracted


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
    return Extracted(title=title[:200], pages=[text])


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
    return Extracted(title=(title or path.stem)[:200], pages=[text])


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

    def _flush(self) -> None:
        if not self._data:
            return
        text = "".join(self._data)
        self._data.clear()
        if self._skipping():
            return
        if self._capture:
            self._captured.append(text)
        if self._capture != "title":
            self.strings.append(text)

    def handle_starttag(self, tag, attrs):
        self._flush()
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
            if name == tag:
                break

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
        if self._capture:
            self._finish_capture()


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
    return Extracted(title=title.strip()[:200], pages=pages)


def _docx(path: Path, data: bytes, max_unpacked_mb: float) -> Extracted:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(_checked_zip(data, max_unpacked_mb)))
    except Unreadable:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    except Exception as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    # Only paragraphs with a style of their own can be a title or a heading: resolving the
    # default style takes python-docx 5 ms a paragraph (109 s for 22,000 paragraphs).
    heading = next((p.text.strip() for p in document.paragraphs
                    if p._p.style and p.style.name.lower().startswith(("title", "heading"))
                    and p.text.strip()), None)
    first = paragraphs[0] if paragraphs else path.stem
    title = document.core_properties.title or heading or first
    return Extracted(title=title[:200], pages=["\n\n".join(paragraphs)])


ZIP_MAX_PARTS = 10_000
ZIP_MAX_RATIO = 100  # a part over 1 MB inflating more than this is a bomb, not a document


def _checked_zip(data: bytes, max_unpacked_mb: float) -> bytes:
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
            raise Unreadable(f"DOCX of {len(parts):,} parts, over {ZIP_MAX_PARTS:,} (a zip bomb?)")
        unpacked = sum(part.file_size for part in parts)
        if unpacked > limit:
            raise Unreadable(f"DOCX unpacks to {unpacked / 2**20:,.0f} MB, over the "
                             f"{max_unpacked_mb:g} MB limit (setting max_unpacked_mb)")
        for part in parts:
            if part.file_size > 2**20 and part.file_size > ZIP_MAX_RATIO * part.compress_size:
                ratio = part.file_size / max(part.compress_size, 1)
                raise Unreadable(f"{part.filename} in the DOCX inflates {ratio:,.0f} times "
                                 f"(over {ZIP_MAX_RATIO}): a zip bomb?")
        copy = io.BytesIO()
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
            for part in parts:
                with archive.open(part) as src, out.open(part.filename, "w") as dst:
                    while block := src.read(2**20):
                        dst.write(block)
    return copy.getvalue()
