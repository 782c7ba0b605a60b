"""assistant.readers: every format extracts text and a title; every bad input has its own reason."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from assistant.readers import PAGE_SEP, SUPPORTED, Unreadable, extract


def test_txt_title_is_first_nonblank_line_and_text_is_kept():
    data = b"\n\n  Quarterly notes  \nThe river rose by 3.2 metres.\r\nNothing else.\n"
    got = extract(Path("notes.txt"), data)
    assert got.title == "Quarterly notes"
    assert got.pages == ["\n\n  Quarterly notes  \nThe river rose by 3.2 metres.\nNothing else.\n"]


def test_txt_does_not_treat_hash_lines_as_titles():
    got = extract(Path("plain.txt"), b"first line\n# not a heading\n")
    assert got.title == "first line"


def test_utf8_bom_is_dropped():
    got = extract(Path("bom.txt"), "\ufeffCaf\u00e9 menu\nsoup".encode())
    assert got.pages == ["Caf\u00e9 menu\nsoup"]
    assert got.title == "Caf\u00e9 menu"


@pytest.mark.parametrize("suffix", [".md", ".markdown"])
def test_markdown_title_from_first_hash_heading(suffix):
    data = b"Preamble line\n\n# Harbour Report 2023\n\nShips docked: 412.\n\n## Details\n"
    got = extract(Path("report" + suffix), data)
    assert got.title == "Harbour Report 2023"
    assert len(got.pages) == 1 and "Ships docked: 412." in got.pages[0]


def test_markdown_without_heading_uses_first_line():
    got = extract(Path("x.md"), b"Just prose here.\nMore prose.")
    assert got.title == "Just prose here."


HTML = b"""<!doctype html><html><head><title> Bike Care Notes </title>
<style>body { color: red; }</style>
<script>var secretToken = "do-not-index";</script></head>
<body><h1>Chains</h1><p>Oil the chain every 300 km.</p>
<noscript>Enable JavaScript please</noscript>
<template><p>template text</p></template>
<script>console.log("tracking pixel");</script>
<p>Check tyre pressure weekly.</p></body></html>"""


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_title_text_and_no_script(suffix):
    got = extract(Path("page" + suffix), HTML)
    assert got.title == "Bike Care Notes"
    (text,) = got.pages
    assert "Oil the chain every 300 km." in text
    assert "Check tyre pressure weekly." in text
    assert "Chains" in text
    for hidden in ("secretToken", "do-not-index", "tracking pixel", "color: red",
                   "Enable JavaScript", "template text", "Bike Care"):
        assert hidden not in text


def test_html_title_falls_back_to_h1():
    got = extract(Path("p.html"), b"<html><body><h1> Only Heading </h1><p>Body.</p></body></html>")
    assert got.title == "Only Heading"
    assert "Body." in got.pages[0]


def test_pdf_has_one_text_entry_per_page(builders):
    data = builders.pdf([["Alpha page one: 17 lighthouses."], ["Beta page two: 29 ferries."]],
                        title="Coastal Survey")
    got = extract(Path("survey.pdf"), data)
    assert got.title == "Coastal Survey"
    assert len(got.pages) == 2
    assert "17 lighthouses" in got.pages[0] and "29 ferries" not in got.pages[0]
    assert "29 ferries" in got.pages[1] and "17 lighthouses" not in got.pages[1]


def test_pdf_without_metadata_title_uses_first_line(builders):
    data = builders.pdf([["Lighthouse Inventory", "There are 17."], ["Page two."]])
    assert extract(Path("inv.pdf"), data).title == "Lighthouse Inventory"


def test_pdf_with_owner_password_only_is_readable(builders):
    data = builders.encrypt_pdf(builders.pdf([["Open to read: 5 keys."]]), "", "owner-secret")
    got = extract(Path("owner.pdf"), data)
    assert "5 keys" in got.pages[0]


def test_docx_title_from_heading_and_paragraph_text(builders):
    data = builders.docx(["The depot holds 48 buses.", "", "Night service runs at 02:00."],
                         heading="Depot Briefing")
    got = extract(Path("brief.docx"), data)
    assert got.title == "Depot Briefing"
    assert got.pages == [PAGE_SEP.join(["Depot Briefing", "The depot holds 48 buses.",
                                        "Night service runs at 02:00."])]


def test_docx_core_title_wins(builders):
    data = builders.docx(["Body text."], heading="Heading", core_title="Core Title")
    assert extract(Path("t.docx"), data).title == "Core Title"


def test_titles_are_capped():
    got = extract(Path("long.md"), ("# " + "x" * 500 + "\nbody").encode())
    assert got.title == "x" * 200


# -- bad inputs -------------------------------------------------------------------------------


def _zip_that_is_not_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a word document")
    return buf.getvalue()


BAD = [
    ("empty.txt", b"", "empty file"),
    ("empty.pdf", b"", "empty file"),
    ("blank.md", b"  \n\t\r\n   \n", "empty file"),
    ("binary.txt", b"header\x00\x01\x02\xff rest", "binary content, not text"),
    ("binary.html", b"<html>\x00</html>", "binary content, not text"),
    ("latin1.md", "# Caf\u00e9 cr\u00e8me".encode("latin-1"), "not valid UTF-8 text (byte 5)"),
    ("sheet.xlsx", b"PK\x03\x04 spreadsheet", "unsupported file type '.xlsx'"),
    ("Makefile", b"all:\n\techo hi\n", "unsupported file type '(none)'"),
    ("garbage.pdf", b"this is not a PDF at all, just words", "corrupt PDF"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "corrupt PDF"),
    ("garbage.docx", b"PK\x03\x04 definitely not a zip archive", "corrupt DOCX"),
    ("plain.docx", b"plain text renamed to docx", "corrupt DOCX"),
    ("only_script.html", b"<html><script>alert(1)</script></html>", "no extractable text"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_reason(name, data, reason):
    with pytest.raises(Unreadable) as exc:
        extract(Path(name), data)
    assert reason in str(exc.value)


def test_unsupported_reason_lists_supported_types():
    with pytest.raises(Unreadable) as exc:
        extract(Path("a.rtf"), b"{\\rtf1 hi}")
    assert all(s in str(exc.value) for s in SUPPORTED)


def test_encrypted_pdf(builders):
    data = builders.encrypt_pdf(builders.pdf([["Secret plans: 3 tunnels."]]), "secret")
    with pytest.raises(Unreadable, match=r"^encrypted PDF \(password protected\)$"):
        extract(Path("locked.pdf"), data)


def test_image_only_pdf_has_no_extractable_text(builders):
    with pytest.raises(Unreadable, match="no extractable text"):
        extract(Path("scan.pdf"), builders.pdf([[], []]))


def test_zip_that_is_not_a_docx():
    with pytest.raises(Unreadable, match="corrupt DOCX"):
        extract(Path("fake.docx"), _zip_that_is_not_docx())


def test_uppercase_suffix_is_supported():
    assert extract(Path("SHOUT.TXT"), b"Loud text").pages == ["Loud text"]
