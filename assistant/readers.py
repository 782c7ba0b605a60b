"""Turn one file into text pages, or a reason it cannot be read that a person understands.

Extraction is kept apart from chunking so that every chunk's character offsets refer to one
well-defined string: the pages joined by PAGE_SEP, which is what a citation is highlighted in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PAGE_SEP = "\n\n"
SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class Unreadable(Exception):
    """A file that cannot be ingested; the message is the per-file reason shown to the user."""


@dataclass
class Extracted:
    title: str
    pages: list[str]  # one entry per PDF page; a single entry for other formats


def extract(path: Path, data: bytes) -> Extracted:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise Unreadable(f"unsupported file type '{suffix or '(none)'}' (supported: "
                         f"{', '.join(SUPPORTED)})")
    if not data.strip():
        raise Unreadable("empty file")
    reader = {".pdf": _pdf, ".docx": _docx, ".html": _html, ".htm": _html}.get(suffix, _text)
    extracted = reader(path, data)
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
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title_tag = soup.title or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else path.stem
    if soup.title:
        soup.title.decompose()
    lines = (ln.strip() for ln in soup.get_text("\n").splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return Extracted(title=title[:200], pages=[text])


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


def _docx(path: Path, data: bytes) -> Extracted:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    except Exception as exc:
        raise Unreadable(f"corrupt DOCX ({type(exc).__name__})") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    heading = next((p.text.strip() for p in document.paragraphs
                    if p.style is not None and p.style.name.lower().startswith(("title", "heading"))
                    and p.text.strip()), None)
    first = paragraphs[0] if paragraphs else path.stem
    title = document.core_properties.title or heading or first
    return Extracted(title=title[:200], pages=["\n\n".join(paragraphs)])
