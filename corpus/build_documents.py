"""Build the binary documents of the groundwork demo corpus.

Writes, next to this file:
  cybertipline_policy_brief_2024.pdf        (4 pages, one topic per page)
  cybertipline_outcome_data_briefing.docx
  millbrook_recycling_2023.xlsx             (a spreadsheet: figures cited to their cells)
  millbrook_pool_summary_2023.pdf           (a report whose figures are in a table)

Both outputs are deterministic: the PDF is written with reportlab's
``invariant=1`` (fixed dates and document id) and the DOCX has fixed core
properties and fixed zip entry timestamps, so re-running the script gives
byte-identical files.

Run:  .venv/bin/python corpus/build_documents.py
Needs: reportlab, python-docx, openpyxl.

Facts: NCMEC's public 2023 CyberTipline report and the Stanford Internet
Observatory's 2024 CyberTipline report, as summarised in the project's
reference answer. Do not add other CyberTipline statistics here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PDF_NAME = "cybertipline_policy_brief_2024.pdf"
DOCX_NAME = "cybertipline_outcome_data_briefing.docx"

FIXED_TIME = dt.datetime(2024, 6, 1, 0, 0, 0)
ZIP_TIME = (2024, 6, 1, 0, 0, 0)

# --------------------------------------------------------------------------
# PDF: policy brief, one topic per page
# --------------------------------------------------------------------------

PDF_TITLE = "Policy Brief: After a CyberTipline Report"
PDF_SUBTITLE = (
    "Reports, urgent escalations and the missing outcome data. Based on NCMEC's "
    "public 2023 CyberTipline report and the Stanford Internet Observatory's "
    "2024 report on the CyberTipline."
)

# Each entry is one page: (heading, [paragraphs]).
PDF_PAGES: list[tuple[str, list[str]]] = [
    (
        "Report volume in 2023",
        [
            "The CyberTipline is the national reporting system for suspected online "
            "child sexual exploitation, run by the National Center for Missing &amp; "
            "Exploited Children (NCMEC). In the United States, electronic service "
            "providers (ESPs) are legally required by 18 U.S.C. 2258A to report "
            "apparent child sexual abuse material (CSAM) they become aware of to the "
            "CyberTipline. NCMEC makes the reports it receives available to law "
            "enforcement.",
            "In 2023 the CyberTipline received 36.2 million reports. This is the "
            "total number of CyberTipline reports NCMEC received during 2023.",
            "The 2023 total of 36.2 million CyberTipline reports is driven by "
            "automated flagging of suspected CSAM by platforms and by mass uploads "
            "and viral sharing of the same material. Platforms increasingly use "
            "automated detection at scale, and each automated match can become a "
            "report. The 2023 CyberTipline total therefore measures reporting "
            "volume, not the number of distinct children, offenders or incidents.",
            "This policy brief has four pages. This first page covers report "
            "volume. The second page covers urgent escalations to law enforcement. "
            "The third page covers the obstacles the Stanford Internet Observatory "
            "identified between a tip and a prosecution. The fourth page covers the "
            "missing outcome data and the recommendations.",
        ],
    ),
    (
        "Urgent escalations to law enforcement in 2023",
        [
            "In 2023 NCMEC staff escalated 63,892 CyberTipline reports to law "
            "enforcement as urgent, time-sensitive reports. NCMEC escalated these "
            "63,892 reports because a child was deemed to be in imminent danger.",
            "The 63,892 escalated reports are the subset of the 2023 CyberTipline "
            "caseload that NCMEC's analysts judged to need immediate law-enforcement "
            "attention. Set against the 36.2 million reports received in 2023, the "
            "escalations show how NCMEC's triage separates platform reporting "
            "volume from cases of apparent urgency.",
            "An urgent escalation is a referral, not an outcome. When NCMEC "
            "escalates a CyberTipline report, it hands a time-sensitive lead to law "
            "enforcement; whether that lead results in an arrest, a prosecution or "
            "a child being rescued depends on what law enforcement and the courts "
            "do next.",
            "NCMEC's public 2023 data describe how many reports were escalated and "
            "why they were escalated. NCMEC's public 2023 data do not describe what "
            "happened to the 63,892 escalated reports after they reached law "
            "enforcement.",
        ],
    ),
    (
        "Obstacles between a tip and a prosecution",
        [
            "The Stanford Internet Observatory (SIO) published a report on the "
            "CyberTipline in 2024, based on interviews. The 2024 SIO report "
            "describes several structural obstacles that make it hard to turn a "
            "CyberTipline report into an arrest or a prosecution.",
            "Law enforcement capacity is constrained. According to the 2024 SIO "
            "report, police, federal agents and courts cannot investigate and "
            "prosecute every CyberTipline tip, and backlogs build up.",
            "Platform report quality varies. The 2024 SIO report found that "
            "platform submissions to the CyberTipline often lack the identifying "
            "information investigators need to move from a tip to an arrest.",
            "Many reports are duplicates. The 2024 SIO report found that the same "
            "viral content or the same offender can be reported hundreds of times, "
            "which inflates CyberTipline report counts.",
            "Most reports are international. The 2024 SIO report found that a large "
            "majority of CyberTipline reports involve actors or content outside the "
            "U.S., which raises jurisdiction problems for U.S. law enforcement.",
        ],
    ),
    (
        "The outcome gap and recommendations",
        [
            "No public dataset links CyberTipline escalations to arrests, "
            "prosecutions or convictions. NCMEC's public 2023 data do not state how "
            "many of the 63,892 escalated reports led to arrests or prosecutions, "
            "and no public figure gives the number of children rescued or "
            "identified as a result of 2023 CyberTipline escalations.",
            "NCMEC, platforms and law enforcement rarely publish case-level "
            "follow-through data on CyberTipline reports. Critics argue that this "
            "opacity suits several actors: platforms can show compliance through "
            "large reporting numbers, NCMEC can show triage capacity by escalating "
            "urgent reports, and law enforcement receives leads without a public "
            "accounting of outcomes.",
            "Recommendation: the Stanford Internet Observatory researchers called "
            "for research and data-sharing to map CyberTipline reports to "
            "criminal-justice outcomes. Law-enforcement case-closure data and "
            "prosecutorial outcome data would need to be tied to NCMEC escalation "
            "identifiers before anyone could count how many urgent CyberTipline "
            "escalations led to arrests or prosecutions.",
            "Bottom line: 63,892 CyberTipline reports were escalated to law "
            "enforcement as urgent in 2023. How many of those escalations led to "
            "arrests or prosecutions is not documented in public sources.",
        ],
    ),
]


def build_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 11
    body.leading = 15
    body.spaceAfter = 8

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        title=PDF_TITLE,
        author="groundwork demo corpus",
        subject="NCMEC CyberTipline 2023: reports, escalations and outcome data",
        creator="groundwork corpus/build_documents.py",
        invariant=1,
    )
    story = [Paragraph(PDF_TITLE, styles["Title"]), Paragraph(PDF_SUBTITLE, body), Spacer(1, 10)]
    for i, (heading, paragraphs) in enumerate(PDF_PAGES):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading2"]))
        story.extend(Paragraph(p, body) for p in paragraphs)
    doc.build(story)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------
# DOCX: briefing note on the outcome data gap
# --------------------------------------------------------------------------

DOCX_TITLE = "Briefing Note: CyberTipline Escalations and the Missing Outcome Data"

# ("h", text) heading level 1; ("p", text) paragraph; ("b", text) bullet.
DOCX_BLOCKS: list[tuple[str, str]] = [
    ("p", "A briefing note on what public sources say about NCMEC's CyberTipline in "
          "2023, and on the outcome data they do not provide. Prepared for the "
          "groundwork demo corpus from NCMEC's public 2023 CyberTipline report and "
          "the Stanford Internet Observatory's 2024 report on the CyberTipline."),
    ("h", "Purpose"),
    ("p", "This briefing note answers one question: how many CyberTipline "
          "escalations (urgent reports) led to arrests or prosecutions in 2023? "
          "The short answer is that the public sources do not say. The note sets "
          "out what is documented, what is not documented, and why."),
    ("h", "Key figures for 2023"),
    ("b", "In 2023 the CyberTipline, run by the National Center for Missing & "
          "Exploited Children (NCMEC), received 36.2 million reports."),
    ("b", "In 2023 NCMEC staff escalated 63,892 CyberTipline reports to law "
          "enforcement as urgent because a child was deemed to be in imminent "
          "danger."),
    ("b", "Electronic service providers are legally required under 18 U.S.C. 2258A "
          "to report apparent CSAM they become aware of to the CyberTipline, and "
          "NCMEC makes the reports available to law enforcement."),
    ("h", "What is not documented"),
    ("p", "No public dataset links CyberTipline escalations to arrests, prosecutions "
          "or convictions. NCMEC's public 2023 data do not state how many of the "
          "63,892 escalated reports led to arrests or prosecutions. The public "
          "sources also give no count of convictions, and no count of children "
          "rescued or identified, resulting from CyberTipline reports or "
          "escalations in 2023."),
    ("p", "NCMEC, platforms and law enforcement rarely publish case-level "
          "follow-through data on CyberTipline reports, so outside researchers "
          "cannot verify arrest or prosecution rates for escalated reports."),
    ("h", "Why the link is hard to document"),
    ("p", "The Stanford Internet Observatory's 2024 report on the CyberTipline, "
          "based on interviews, describes several reasons why there is no simple "
          "escalations-to-arrests statistic."),
    ("b", "Scale: the 2023 total of 36.2 million reports is driven by automated "
          "flagging by platforms and by mass uploads and viral sharing of "
          "suspected CSAM."),
    ("b", "Duplicates: many CyberTipline reports are duplicate files or concern the "
          "same offender, reported hundreds of times."),
    ("b", "Jurisdiction: a large majority of CyberTipline reports involve actors or "
          "content outside the U.S."),
    ("b", "Missing leads: platform submissions often lack the identifying "
          "information investigators need to move from a tip to an arrest."),
    ("b", "Capacity: police, federal agents and courts cannot investigate and "
          "prosecute every tip, and backlogs and the variable quality of platform "
          "reports limit what can be done even with justified urgent escalations."),
    ("h", "Competing incentives"),
    ("p", "Critics argue that the current opacity benefits several actors. Platforms "
          "can show compliance through massive reporting numbers, NCMEC can show "
          "triage capacity by escalating urgent matters, and law enforcement "
          "receives leads without a public accounting of outcomes."),
    ("h", "Recommendations"),
    ("p", "The Stanford Internet Observatory researchers called for research and "
          "data-sharing to map CyberTipline reports to criminal-justice outcomes. "
          "An authoritative count would need law-enforcement case-closure data and "
          "prosecutorial outcome data tied to NCMEC escalation identifiers."),
    ("h", "Bottom line"),
    ("p", "The documented figure is that 63,892 CyberTipline reports were escalated "
          "to law enforcement as urgent in 2023. The number of those 2023 "
          "escalations that led to arrests or prosecutions is not documented in "
          "public sources."),
]


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry timestamps so the bytes are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2024-06-01T00:00:00Z", data)
            dst.writestr(zi, data)
    return out.getvalue()


def build_docx(path: Path) -> None:
    from docx import Document

    document = Document()
    props = document.core_properties
    props.title = DOCX_TITLE
    props.author = "groundwork demo corpus"
    props.last_modified_by = "groundwork demo corpus"
    props.subject = "NCMEC CyberTipline 2023: escalations and outcome data"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.last_printed = FIXED_TIME
    props.revision = 1

    document.add_heading(DOCX_TITLE, level=0)
    for kind, text in DOCX_BLOCKS:
        if kind == "h":
            document.add_heading(text, level=1)
        elif kind == "b":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)

    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


# --------------------------------------------------------------------------
# Tables (fictional Millbrook, like the library report): a spreadsheet and a
# report whose figures are in a table, so the demo shows answers cited to cells.
# --------------------------------------------------------------------------

XLSX_NAME = "millbrook_recycling_2023.xlsx"
RECYCLING = [
    ["Millbrook household recycling collections, 2023 (fictional demo data)"],
    ["Material", "Q1", "Q2", "Q3", "Q4"],
    ["Paper and card (tonnes)", 412, 398, 405, 441],
    ["Glass (tonnes)", 188, 201, 215, 240],
    ["Plastics (tonnes)", 96, 101, "n/a", 110],
    ["Garden waste (tonnes)", 1120, 2310, 2295, 1140],
    ["* n/a: the plastics weighbridge was out of service in Q3"],
]
POOL_NAME = "millbrook_pool_summary_2023.pdf"
POOL_TITLE = "Millbrook Leisure Pool: Summary 2023"
POOL_ROWS = [["Session type", "Visits", "Share of visits (%)"],
             ["Public swimming", "21,540", "52.3"],
             ["Swimming lessons", "10,960", "26.6"],
             ["Club training", "8,690", "21.1"]]


def build_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Collections 2023"
    for row in RECYCLING:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=3, max_row=6, min_col=2, max_col=5):
        for cell in row:
            cell.number_format = "#,##0"
    book.properties.creator = "groundwork demo corpus"
    book.properties.created = book.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


def build_pool_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=POOL_TITLE, author="groundwork demo corpus",
                            creator="groundwork corpus/build_documents.py", invariant=1)
    grid = [("GRID", (0, 0), (-1, -1), 0.5, "black"), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
    doc.build([
        Paragraph(POOL_TITLE, styles["Title"]),
        Paragraph("Fictional demo document: Millbrook and its pool are invented. The pool "
                  "reopened in January 2023 after new changing rooms were fitted.",
                  styles["BodyText"]),
        Spacer(1, 8),
        Paragraph("Table 1: Pool visits by session type, 2023", styles["BodyText"]),
        Table(POOL_ROWS, style=grid),
        Spacer(1, 8),
        Paragraph("The pool does not count spectators, so visits are swimmers only.",
                  styles["BodyText"]),
    ])
    path.write_bytes(buf.getvalue())


def main() -> None:
    build_pdf(HERE / PDF_NAME)
    build_docx(HERE / DOCX_NAME)
    build_xlsx(HERE / XLSX_NAME)
    build_pool_pdf(HERE / POOL_NAME)
    for name in (PDF_NAME, DOCX_NAME, XLSX_NAME, POOL_NAME):
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
