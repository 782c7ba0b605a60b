"""Build the table documents of evals/cases/tables.jsonl: one fictional town's reports, with
their figures in tables of every format groundwork reads.

Writes, next to this file: harbour_operations_2024.xlsx (three sheets, one hidden),
ferry_routes_2024.csv, water_quality_2024.pdf (a ruled table), school_enrolment_2024.pdf (a
table without lines), library_services_2023.docx, parks_budget.html, cycling_counts.md,
museum_accounts.md, allotments.html and bus_services.md (the text formats are written as they
are), and harbour_memo.txt (figures in prose).

The outputs are deterministic (reportlab's invariant mode, fixed zip times and properties), so
a rerun gives byte-identical files. Run: .venv/bin/python evals/tables/build_documents.py
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZIP_TIME = (2024, 6, 1, 0, 0, 0)

OPERATIONS = [
    ["Port Ellery harbour operations"],
    ["Indicator", 2022, 2023, 2024],
    ["Ferry sailings (thousands)", 40.0, 39.8, 41.2],
    ["Cruise calls", 31, "n/a", 57],
    ["Cargo handled (kilotonnes)", 1020, 1105, 1188],
    ["Ferry punctuality", 0.912, 0.897, 0.934],
    ["* n/a: the cruise terminal was closed for rebuilding in 2023"],
]
FINANCES = [
    ["Port Ellery harbour finances"],
    ["Item", "FY2023", "FY2024"],
    ["Dockside fees ($ thousands)", 18207, 19950],
    ["Mooring charges ($ thousands)", 4312, None],
    ["Net result ($ thousands)", -1234, 2045],
]
DRAFT = [["Draft forecast"], ["Indicator", 2025], ["Ferry sailings forecast (thousands)", 44.0]]

ROUTES = """Route,Sailings,Passengers,Average load (%)
Ellery to Marlow,"4,210","312,400",71.5
Ellery to Danby,"2,980","198,750",64.2
Ellery to Kessock,"1,105",n/a,58.9
"""

WATER = [["Beach", "Samples taken", "Samples passing", "Pass rate (%)"],
         ["North Sands", "48", "46", "95.8"],
         ["Harbour Beach", "40", "35", "87.5"],
         ["Kessock Cove", "36", "—", "—"]]
SCHOOLS = [["School", "2023", "2024"],
           ["Ellery Primary", "412", "418"],
           ["Marlow Primary", "265", "259"],
           ["Ellery High", "903", "921"]]
LIBRARY = [["Branch", "Loans", "Visits", "Events"],
           ["Central", "84,210", "120,455", "312"],
           ["Harbourside", "22,890", "41,020", "96"],
           ["Northgate", "15,305", "n/a", "40"]]

PARKS = """<!doctype html>
<html><head><title>Port Ellery parks budget</title></head>
<body>
<h1>Port Ellery parks budget</h1>
<p>The parks department publishes its budget and spending by area each year.</p>
<table>
<caption>Parks budget by area ($ thousands)</caption>
<thead>
<tr><th rowspan="2">Area</th><th colspan="2">2024</th><th>2025</th></tr>
<tr><th>Budget</th><th>Actual</th><th>Budget</th></tr>
</thead>
<tbody>
<tr><th scope="row">Grounds maintenance</th><td>1,450</td><td>1,512</td><td>1,490</td></tr>
<tr><th scope="row">Playgrounds</th><td>320</td><td>298</td><td>350</td></tr>
<tr><th scope="row">Tree planting</th><td>210</td><td>n/a</td><td>240</td></tr>
</tbody>
</table>
<p>Actual spending on tree planting in 2024 had not been audited when this page was made.</p>
</body></html>
"""

CYCLING = """# Cycling counts in Port Ellery

The council counts cyclists at three sites on one weekday in March, June and September.

**Table 1: Daily cyclists counted at each site, 2024**

| Site | March | June | September |
|---|---:|---:|---:|
| Quay Road | 1,240 | 2,115 | 1,870 |
| Hill Street | 430 | 612 | — |
| Station Bridge | 905 | 1,330 | 1,102 |

* — : the Hill Street counter was out of order in September.

The counts are single-day snapshots, not annual totals.
"""

# Fiscal labels: the museum's note and the allotments' caption say which year each stands for;
# the bus table does not, so its "2022/23" answers no question about "2023".
MUSEUM = """# Port Ellery museum accounts

The town museum reports its income and visitors for each financial year.

**Table 1: Museum income and visitors by financial year**

| Measure | FY2022 | FY2023 |
|---|---:|---:|
| Ticket income ($ thousands) | 612 | 688 |
| Gift shop sales ($ thousands) | 143 | 171 |
| Museum visitors | 48,950 | 53,200 |

Note: FY2023 = the financial year ended 30 June 2023; FY2022 = the financial year ended 30 June 2022.
"""

ALLOTMENTS = """<!doctype html>
<html><head><title>Port Ellery allotments</title></head>
<body>
<h1>Port Ellery allotments</h1>
<p>The council lets allotment plots at two sites.</p>
<table>
<caption>Allotment plots let by site, council years ended 31 March 2022 and 2023</caption>
<tr><th>Site</th><th>2021/22</th><th>2022/23</th></tr>
<tr><th scope="row">Quarry Lane</th><td>64</td><td>71</td></tr>
<tr><th scope="row">Mill Field</th><td>38</td><td>45</td></tr>
</table>
</body></html>
"""

BUSES = """# Port Ellery bus services

**Table 1: Passenger journeys by bus route (thousands)**

| Route | 2021/22 | 2022/23 |
|---|---:|---:|
| Route 4 Harbour loop | 182 | 205 |
| Route 7 Hill circular | 96 | 101 |
"""

MEMO = """Harbour master's memo, January 2025

The harbour master reported that cruise calls recovered after the terminal reopened, and that the
new ferry timetable was well received by commuters. She thanked the dock crews for a safe year
with no serious accidents. The harbour does not publish the number of fishing boats it hosts.
"""


def build_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (("Operations", OPERATIONS), ("Finances", FINANCES), ("Draft", DRAFT)):
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book["Draft"].sheet_state = "hidden"
    for cell in ("B6", "C6", "D6"):
        book["Operations"][cell].number_format = "0.0%"
    for cell in ("B5", "C5", "D5"):
        book["Operations"][cell].number_format = "#,##0"
    for row in (3, 4, 5):
        for col in "BC":
            book["Finances"][f"{col}{row}"].number_format = "#,##0;(#,##0)"
    book.properties.created = book.properties.modified = dt.datetime(2024, 6, 1)
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))


def build_pdf(path: Path, title: str, intro: str, caption: str, rows: list[list[str]],
              after: str, ruled: bool) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    grid = [("GRID", (0, 0), (-1, -1), 0.5, "black")] if ruled else []
    story = [Paragraph(title, styles["Title"]), Paragraph(intro, styles["Normal"]),
             Spacer(1, 8), Paragraph(caption, styles["Normal"]), Spacer(1, 4),
             Table(rows, style=grid + [("ALIGN", (1, 0), (-1, -1), "RIGHT")]), Spacer(1, 8),
             Paragraph(after, styles["Normal"])]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1, title=title).build(story)
    path.write_bytes(buf.getvalue())


def build_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Port Ellery library services 2023"
    document.core_properties.created = document.core_properties.modified = dt.datetime(2024, 6, 1)
    document.add_heading("Port Ellery library services 2023", level=1)
    document.add_paragraph("The library service runs three branches. This summary gives each "
                           "branch's loans, visits and events for the year.")
    document.add_paragraph("Table 1: Library services by branch, 2023")
    table = document.add_table(rows=len(LIBRARY), cols=len(LIBRARY[0]))
    for r, row in enumerate(LIBRARY):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.add_paragraph("Northgate's visitor counter was replaced during the year, so its "
                           "visits were not counted.")
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """The archive with fixed entry times, so the file is the same on every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w",
                                                                   zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, _fixed_times(info.filename, src.read(info)))
    return out.getvalue()


def _fixed_times(name: str, data: bytes) -> bytes:
    """openpyxl stamps the save time into the workbook's properties: a fixed one instead."""
    if name != "docProps/core.xml":
        return data
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2024-06-01T00:00:00Z",
                  data)


def main() -> None:
    build_xlsx(HERE / "harbour_operations_2024.xlsx")
    (HERE / "ferry_routes_2024.csv").write_text(ROUTES)
    build_pdf(HERE / "water_quality_2024.pdf", "Port Ellery bathing water quality 2024",
              "The environment office samples the town's three beaches from May to September.",
              "Table 1: Bathing water samples by beach, 2024", WATER,
              "Kessock Cove samples were not analysed after the laboratory lost them.", True)
    build_pdf(HERE / "school_enrolment_2024.pdf", "Port Ellery school enrolment 2024",
              "Enrolment is counted on the October census day each year.",
              "Table 2: Pupils enrolled by school", SCHOOLS,
              "The census does not count pupils educated at home.", False)
    build_docx(HERE / "library_services_2023.docx")
    (HERE / "parks_budget.html").write_text(PARKS)
    (HERE / "cycling_counts.md").write_text(CYCLING)
    (HERE / "harbour_memo.txt").write_text(MEMO)
    (HERE / "museum_accounts.md").write_text(MUSEUM)
    (HERE / "allotments.html").write_text(ALLOTMENTS)
    (HERE / "bus_services.md").write_text(BUSES)


if __name__ == "__main__":
    main()
