"""Hostile documents made on the spot, and a child process whose peak memory is measured.

Shared by tests/test_hostile.py, test_readers.py and test_ingest.py. Run as a script, it adds
each hostile file to an index of two good files in a `groundwork ingest` of its own and prints
the README's Reliability rows: `.venv/bin/python tests/hostile_files.py`.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from conftest import GROUNDWORK, docx_bytes, pdf_bytes, subprocess_env, xlsx_bytes

PROSE = " ".join(f"Sentence {i} says the ferry carried {i * 37} passengers on route {i % 7}."
                 for i in range(20)) + " "
DEEP_HTML_FACT = "Deep inside, the survey counted 4,112 nesting owls."
LAST_PAGE_FACT = "The final ledger page records 9,731 boxes in the vault."
# Names a file system allows and a careless program mangles: a newline, quotes, a right-to-left
# override (shows "invoice\u202efdp.txt" as "invoicetxt.pdf") and a right-to-left mark.
BLANK_ODD_NAME = "blank\u202e\nname.txt"
ODD_NAMES = ["two\nlines.md", "quote\"s and 'single'.md", "invoice\u202efdp.txt", "\u200fmarked.md"]


# -- the files --------------------------------------------------------------------------------


def zip_bomb_docx(gigabytes: float = 2.0, lying: bool = False) -> bytes:
    """A real DOCX whose word/document.xml inflates to `gigabytes` (a few MB on disk).

    The deflate stream is one compressed megabyte of XML repeated (each piece full-flushed, so
    pieces do not refer to each other): built in a second, not minutes. With `lying`, the
    archive declares 4 KB for the part, with the CRC of its first 4 KB, as a bomb made to pass a
    check of declared sizes would.
    """
    block = (b"<w:p><w:r><w:t>" + b"A" * 4000 + b"</w:t></w:r></w:p>") * 256
    head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/' \
           b'wordprocessingml/2006/main"><w:body>'
    return _bomb(docx_bytes(["A harmless cover paragraph."]), "word/document.xml", head, block,
                 gigabytes, lying)


def zip_bomb_xlsx(gigabytes: float = 2.0) -> bytes:
    """A real XLSX whose first sheet inflates to `gigabytes`: rows of one long string cell."""
    block = (b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>") * 256
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/' \
           b'spreadsheetml/2006/main"><sheetData>'
    return _bomb(xlsx_bytes({"Sheet": [["Site", "Visitors"], ["Museum", 1200]]}),
                 "xl/worksheets/sheet1.xml", head, block, gigabytes, False)


def _bomb(archive: bytes, part: str, head: bytes, block: bytes, gigabytes: float,
          lying: bool) -> bytes:
    """`archive` with `part` replaced by `head` and `block` repeated to `gigabytes`."""
    repeats = int(gigabytes * 2**30 / len(block))
    piece = _deflate_piece(block)
    stream = _deflate_piece(head) + piece * repeats + zlib.compressobj(9, zlib.DEFLATED,
                                                                      -15).flush()
    if lying:
        size, crc = 4096, zlib.crc32((head + block)[:4096])
    else:
        size, crc = len(head) + len(block) * repeats, zlib.crc32(head)
        for _ in range(repeats):
            crc = zlib.crc32(block, crc)
    good = zipfile.ZipFile(io.BytesIO(archive))
    members = []
    for info in good.infolist():
        if info.filename == part:
            members.append((info.filename, stream, crc, size))
        else:
            raw = good.read(info.filename)
            members.append((info.filename, _deflate_piece(raw, finish=True), zlib.crc32(raw),
                            len(raw)))
    return _zip(members)


def _deflate_piece(data: bytes, finish: bool = False) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if finish
                                                        else zlib.Z_FULL_FLUSH)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of already-deflated members (name, stream, crc, declared size): zipfile cannot
    write a stream it did not compress itself, nor a size that is not the real one."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, stream, crc, size in members:
        offset = out.tell()
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(stream), size)
        out.write(b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name.encode())
        out.write(stream)
        central.write(b"PK\x01\x02" + struct.pack("<H", 20) + fields
                      + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name.encode())
    directory = central.getvalue()
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(directory), out.tell(), 0)
    return out.getvalue() + directory + end


def big_pdf(pages: int = 3000) -> bytes:
    """A real PDF of `pages` pages; the last page states LAST_PAGE_FACT.

    The other pages repeat one text, so their chunks are embedded once (content hashes) and the
    test measures reading and storing 3,000 pages, not the encoder.
    """
    body = ["The archive ledger lists the boxes on each shelf of the east wing."]
    return pdf_bytes([body] * (pages - 1) + [[LAST_PAGE_FACT]], title="Archive Ledger")


def single_line(path: Path, megabytes: float) -> Path:
    """A text file of one line of prose, no line break at all."""
    repeats = int(megabytes * 2**20 / len(PROSE))
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(0, repeats, 1000):
            fh.write(PROSE * 1000)
    return path


def deep_html(levels: int = 100_000) -> bytes:
    """HTML nested `levels` deep, pretty-printed (whitespace between the tags), with one fact at
    the bottom: quadratic in BeautifulSoup, a RecursionError for recursive walkers."""
    return ("<html><head><title>Deep page</title></head><body>\n" + "<div>\n" * levels
            + f"<p>{DEEP_HTML_FACT}</p>\n" + "</div>\n" * levels + "</body></html>").encode()


def markdown_with_base64(kilobytes: int = 200) -> str:
    """Readable text around an inline base64 image: the run is left out, the text is kept."""
    blob = "iVBORw0KGgo" * (kilobytes * 1024 // 11)
    return ("# Inline image\n\nThe kiln fired 316 bowls in March.\n\n"
            f"![chart](data:image/png;base64,{blob})\n\nThe kiln cooled for 9 hours.\n")


@dataclass
class HostileFolder:
    root: Path
    refused: dict[str, str]  # file -> a fragment of its reason
    ingested: dict[str, str]  # file -> a phrase only that file's chunks contain


def write_hostile_folder(root: Path, only: str | None = None) -> HostileFolder:
    """Every hostile file (or just `only`; "" for none) beside two good ones."""
    root.mkdir(parents=True, exist_ok=True)
    files = {  # name: (writer, refused or not, a reason fragment or a phrase of its text)
        "bomb.docx": (lambda p: p.write_bytes(zip_bomb_docx()), True, "over the 100 MB limit"),
        "lying_bomb.docx": (lambda p: p.write_bytes(zip_bomb_docx(lying=True)), True,
                            "corrupt DOCX"),
        "bomb.xlsx": (lambda p: p.write_bytes(zip_bomb_xlsx()), True,
                      "XLSX unpacks to 2,048 MB, over the 100 MB limit"),
        "huge_line.txt": (lambda p: single_line(p, 200), True, "over the 50 MB limit"),
        "long_line.txt": (lambda p: single_line(p, 40), True, "more than 10,000 chunks"),
        "ledger.pdf": (lambda p: p.write_bytes(big_pdf()), False, LAST_PAGE_FACT),
        "deep.html": (lambda p: p.write_bytes(deep_html()), False, DEEP_HTML_FACT),
        "inline_image.md": (lambda p: p.write_text(markdown_with_base64()), False, "9 hours"),
        **{name: (lambda p, n=name: p.write_text(f"# Odd name\n\nThe file {n!r} lists "
                                                 f"{len(n) * 11} lamps.\n"),
                  False, f"{len(name) * 11} lamps") for name in ODD_NAMES},
    }
    good = {"good.md": "# Harbour notes\n\nThe harbour logged 1,204 arrivals in May.\n",
            "good.docx": docx_bytes(["The depot holds 48 buses."], heading="Depot")}
    for name, content in good.items():
        (root / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    folder = HostileFolder(root, {}, {"good.md": "1,204 arrivals", "good.docx": "48 buses"})
    for name, (write, refused, expected) in files.items():
        if only in (None, name):
            write(root / name)
            (folder.refused if refused else folder.ingested)[name] = expected
    if only is None:  # a reason naming them must stay on its line and read as it is
        (root / BLANK_ODD_NAME).write_text("")
        folder.refused[BLANK_ODD_NAME] = "empty file"
        with open(os.fsencode(root) + b"/latin\xe9.md", "wb") as fh:
            fh.write(b"# Latin-1 name\n\nNot a UTF-8 name.\n")
        folder.refused["latin\\xe9.md"] = "file name is not valid UTF-8"
    return folder


# -- a measured child process -----------------------------------------------------------------


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_measured(args: list, timeout: float, **env: str) -> Measured:
    """Run a child process and measure its own peak resident memory and wall time. The peak is
    the child's VmHWM, read while it runs: wait4's ru_maxrss would carry the test process's own
    peak over into the child through fork and exec (the eval gate makes that process large)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen([str(a) for a in args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=subprocess_env(**env))
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                proc.kill()
                pid, status, _ = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(proc.returncode, out.read().decode(), err.read().decode(), seconds,
                        peak_kb / 1024)


def _vm_hwm_kb(pid: int) -> int:
    """The peak resident memory of a running process's own address space (0 once it exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")),
                        0)
    except OSError:
        return 0


def ingest_measured(folder: Path, index: Path, timeout: float = 900) -> Measured:
    return run_measured([GROUNDWORK, "ingest", folder, "--index", index, "--json"], timeout)


# -- the README figures ------------------------------------------------------------------------


def rows_csv(path: Path, rows: int = 100_000) -> Path:
    """A CSV export of `rows` daily station counts (five columns), about 4 MB."""
    lines = ["Day,Station,Riders,Fares ($),Delay (min)"]
    lines += [f'Day {k // 20 + 1},Station {k % 20 + 1},"{1000 + k % 977:,}",'
              f'"{2500 + (k * 7) % 1999:,}.{k % 100:02d}",{k % 13}' for k in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def many_sheets_xlsx(path: Path, sheets: int = 50, rows: int = 200) -> Path:
    """A workbook of `sheets` sheets of `rows` rows each."""
    book = {f"Month {s + 1}": [["Site", "Visitors", "Revenue"]]
            + [[f"Site {r + 1}", 100 + (r * s) % 911, 2000 + r] for r in range(rows)]
            for s in range(sheets)}
    path.write_bytes(xlsx_bytes(book))
    return path


def tables_main() -> None:
    """The README's table rows: a 100,000-row CSV and a 50-sheet workbook, each ingested by a
    `groundwork ingest` of its own into a fresh index, with its peak RSS."""
    import json

    print("| file | chunks | seconds | chunks/s | peak RSS |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in (("rows_100000.csv", rows_csv), ("sheets_50.xlsx", many_sheets_xlsx)):
            folder = Path(tmp) / name.split(".")[0]
            folder.mkdir()
            write(folder / name)
            run = ingest_measured(folder, Path(tmp) / f"{name}-index", timeout=3600)
            report = json.loads(run.stdout)
            assert report["files_ingested"] == 1, report
            chunks, seconds = report["chunks_added"], report["seconds"]
            print(f"| `{name}` | {chunks:,} | {seconds:,.0f} | {chunks / seconds:,.0f} "
                  f"| {run.peak_rss_mb:,.0f} MB |", flush=True)


def main() -> None:
    """The Reliability rows: the good files ingested once (a cold run), then each hostile file
    added to a copy of that index by a `groundwork ingest` of its own, whose peak RSS is
    measured and whose report gives the ingest's own seconds (the good files are unchanged)."""
    import json
    import shutil

    names = ["bomb.docx", "lying_bomb.docx", "bomb.xlsx", "ledger.pdf", "huge_line.txt",
             "long_line.txt", "deep.html", "inline_image.md", "two\nlines.md"]
    print("| file | result | peak RSS | seconds |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        good = write_hostile_folder(Path(tmp) / "good", only="")
        run = ingest_measured(good.root, Path(tmp) / "good-index")
        report = json.loads(run.stdout)
        print(f"| the two good files, cold | ingested | {run.peak_rss_mb:,.0f} MB "
              f"| {report['seconds']:.1f} |", flush=True)
        for name in names:
            folder = write_hostile_folder(Path(tmp) / name.replace("\n", "_"), only=name)
            for same in good.ingested:  # the very bytes indexed (a DOCX's timestamps differ)
                shutil.copy(good.root / same, folder.root / same)
            index = Path(tmp) / f"{name.replace(chr(10), '_')}-index"
            shutil.copytree(Path(tmp) / "good-index", index)
            run = ingest_measured(folder.root, index)
            report = json.loads(run.stdout)
            reasons = {f["path"]: f["reason"] for f in report["files_failed"]}
            assert report["files_unchanged"] == 2, report
            result = reasons.get(name, "ingested" if report["files_ingested"] == 1 else "?")
            print(f"| `{name!r}` | {result} | {run.peak_rss_mb:,.0f} MB "
                  f"| {report['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    tables_main() if sys.argv[1:] == ["tables"] else main()
