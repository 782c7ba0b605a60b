"""Grounding on table cells, through the real pipeline: tables ingested from real files, the
extractive generator, the verifier."""

from __future__ import annotations

import json

import pytest
from conftest import xlsx_bytes

from assistant.answer import GENERATORS, Generator
from assistant.cells import stated_as
from assistant.config import Settings
from assistant.figures import read as figures
from assistant.ingest import ingest
from assistant.pipeline import Assistant
from assistant.types import Answer, Draft

HARBOUR = {"Harbour 2026": [
    ["Harbour operations, Port Ellery"], ["Indicator", 2023, 2024],
    ["Ferry sailings (thousands)", 39.8, 41.2], ["Dockside fees ($ thousands)", 18207, 19950],
    ["Berth utilisation (%)", 63.8, None], ["Cruise calls", "n/a", 57], ["* provisional"]]}


@pytest.fixture(scope="module")
def tables_assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    (root / "harbour.xlsx").write_bytes(xlsx_bytes(
        HARBOUR, formats={"Harbour 2026!B4": "#,##0", "Harbour 2026!C4": "#,##0"}))
    (root / "lighthouse_visits.csv").write_text(
        "Lighthouse,Visitors\nNorth Point,\"12,480\"\nSouth Rock,9315\n")
    (root / "museum.md").write_text(
        "# Museum accounts\n\n**Table 1: Museum income by financial year**\n\n"
        "| Measure | FY2022 | FY2023 |\n|---|---:|---:|\n"
        "| Ticket income ($ thousands) | 612 | 688 |\n"
        "| Gift shop sales ($ thousands) | 143 | 171 |\n\n"
        "Note: FY2023 = the financial year ended 30 June 2023.\n")
    (root / "buses.md").write_text(
        "# Bus services\n\n**Table 1: Passenger journeys by bus route (thousands)**\n\n"
        "| Route | 2021/22 | 2022/23 |\n|---|---:|---:|\n| Route 4 Harbour loop | 182 | 205 |\n"
        "| Route 7 Hill circular | 96 | 101 |\n")
    (root / "pool_visits.csv").write_text(
        "Session type,Visits,Share of visits (%)\nPublic swimming,\"21,540\",52.3\n"
        "Swimming lessons,\"10,960\",26.6\n")
    (root / "memo.txt").write_text("Harbour memo\n\nThe harbour board met in March 2024. It "
                                   "approved a new ferry timetable for the summer season.\n")
    settings = Settings.load(index_dir=root.parent / f"{root.name}-index")
    report = ingest([root], settings, progress=False)
    assert not report.files_failed, report.summary()
    return Assistant(settings)


def test_a_cell_named_by_row_and_column_answers_and_is_cited(tables_assistant):
    answer = tables_assistant.ask("How many ferry sailings did Port Ellery have in 2024?")
    assert answer.status == "answered"
    assert "41.2" in answer.summary and "39.8" not in answer.summary
    cell = answer.citations[0].cell
    assert (cell.sheet, cell.row, cell.column, cell.address, cell.unit) == (
        "Harbour 2026", "Ferry sailings (thousands)", "2024", "'Harbour 2026'!C3", "thousands")
    assert cell.rows[cell.at[0]][cell.at[1]] == "41.2"
    # `ask --json` and the API carry the cell; an answer sent back as history keeps it
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["citations"][0]["cell"]["address"] == "'Harbour 2026'!C3"
    assert Answer.from_dict(data).citations[0].cell == cell


def test_a_one_value_column_table_needs_only_the_row(tables_assistant):
    answer = tables_assistant.ask("How many visitors did North Point lighthouse have?")
    assert answer.status == "answered" and "12,480" in answer.summary
    assert answer.citations[0].cell.address == "table 1, row 1, column 2"


def test_a_percentage_is_read_from_a_share_column_never_from_the_count_beside_it(
        tables_assistant):
    answer = tables_assistant.ask("What percentage of visits did swimming lessons get?")
    assert answer.status == "answered" and "26.6" in answer.summary
    assert "10,960" not in answer.summary
    answer = tables_assistant.ask("What percentage of visitors did North Point lighthouse have?")
    assert answer.status != "answered"
    assert not any("12,480" in c.text for c in answer.claims if c.answers)


@pytest.mark.parametrize("question, said", [
    ("How many ferry sailings were there in 2021?", "2023, 2024, not for 2021"),
    ("How many ferry sailings were there?", "several columns (2023, 2024)"),
    ("How many cruise calls were there in 2023?", 'the cell is "n/a"'),
    ("What was the berth utilisation in 2024?", "the cell is empty"),
    ("By how much did dockside fees change between 2023 and 2024?", "none is computed"),
])
def test_what_the_table_does_not_give_is_not_documented_with_what_it_does(tables_assistant,
                                                                          question, said):
    answer = tables_assistant.ask(question)
    assert answer.status == "not_documented", answer.summary
    gap = next(c for c in answer.claims if c.gap)
    assert said in gap.text
    assert not any(c.answers for c in answer.claims)


def test_a_row_the_table_lacks_is_not_answered_from_another_row(tables_assistant):
    answer = tables_assistant.ask("How many cargo ships called at Port Ellery in 2024?")
    assert answer.status == "not_documented"
    assert not any(f.text in answer.summary for f in figures("41.2 19,950 57"))


@pytest.mark.parametrize("claimed, shown, unit, same", [
    ("18,207", "18,207", "$ thousands", True),
    ("$18,207 thousand", "18,207", "$ thousands", True),
    ("$18.207 million", "18,207", "$ thousands", True),
    ("18.2 thousand", "18,207", "$ thousands", False),
    ("63.8%", "63.8", "%", True),
    ("63.8", "63.8", "%", True),
    ("63.8 thousand", "63.8", "%", False),
    ("41.2 thousand", "41.2", "thousands", True),
    ("41,200", "41.2", "", False),
])
def test_a_header_unit_belongs_to_the_figure_and_nothing_else(claimed, shown, unit, same):
    (fig,) = [f for f in figures(claimed)]
    assert stated_as(fig, shown, unit) is same


def _ask_llm_stating(assistant, question: str, *claims: str) -> Answer:
    """Asked with a stand-in for an LLM (the code around it is what is tested) that states
    `claims`, each citing the harbour table's chunk (named for them: the assistant keeps
    each generator it made by its name)."""

    class Stating(Generator):
        name = f"cell-llm-{abs(hash(claims))}"

        def __init__(self, settings):
            pass

        def stream(self, question, passages):
            n = next(k for k, p in enumerate(passages, 1) if p.source == "harbour.xlsx")
            yield Draft(" ".join(f"{c} [{n}]." for c in claims), passages, self.name)

    GENERATORS[Stating.name] = Stating
    try:
        return assistant.ask(question, generator=Stating.name)
    finally:
        GENERATORS.pop(Stating.name)


def test_an_llm_claim_is_held_to_the_cell_it_states(tables_assistant):
    # the cell's figure with its header's unit applied; the 2023 cell's; one the table lacks
    answer = _ask_llm_stating(
        tables_assistant, "How many ferry sailings did Port Ellery have in 2024?",
        *(f"Port Ellery had {x} thousand ferry sailings in 2024" for x in ("41.2", "39.8", "41.3")))
    assert answer.status == "answered"
    kept = [c for c in answer.claims if not c.gap]
    assert [c.text for c in kept] == ["Port Ellery had 41.2 thousand ferry sailings in 2024."]
    assert answer.citations[kept[0].citations[0] - 1].cell.address == "'Harbour 2026'!C3"
    rejected = " ".join(c.text for c in answer.rejected)
    assert "39.8 thousand" in rejected and "41.3 thousand" in rejected


def test_a_fiscal_label_stands_for_a_year_only_where_the_table_says_so(tables_assistant):
    said = tables_assistant.ask("What was the museum's ticket income in 2023?")
    assert said.status == "answered" and "688" in said.summary and "612" not in said.summary
    assert said.citations[0].cell.column == "FY2023"
    # Its note says FY2023 only: FY2022 is not taken to be 2022.
    unsaid = tables_assistant.ask("What were the museum's gift shop sales in 2022?")
    assert unsaid.status == "not_documented" and "143" not in unsaid.summary
    buses = tables_assistant.ask("How many passenger journeys were made on the Route 4 Harbour "
                                 "loop in 2023?")
    assert buses.status == "not_documented" and "205" not in buses.summary
    gap = next(c for c in buses.claims if c.gap)
    assert "2021/22, 2022/23, not for 2023" in gap.text
    named = tables_assistant.ask("How many passenger journeys were made on the Route 4 Harbour "
                                 "loop in 2022/23?")
    assert named.status == "answered" and "205" in named.summary


@pytest.mark.parametrize("caption, notes, columns, years", [
    ("Income", ["FY2023 = the financial year ended 30 June 2023"], ["FY2022", "FY2023"],
     {"fy2023": "2023"}),
    ("Plots let, council years ended 31 March 2022 and 2023", [], ["2021/22", "2022/23"],
     {"2021/22": "2022", "2022/23": "2023"}),
    ("Income", [], ["FY2023 (year ended 30 June 2023)"], {"fy2023": "2023"}),
    ("Income", ["FY2023 = the year ended 31 March 2024"], ["FY2023"], {"fy2023": "2024"}),
    ("Income", ["Financial years end in June"], ["FY2022", "FY2023"], {}),
    ("Income", [], ["2022/23", "2023/24"], {}),
])
def test_what_a_table_says_its_fiscal_labels_stand_for(caption, notes, columns, years):
    from assistant.cells import declared
    from assistant.types import Table

    table = Table(caption=caption, columns=["Item", *columns],
                  rows=[["Income", *["1"] * len(columns)]], footnotes=notes)
    assert declared(table) == years


def test_where_a_row_is_highest_or_lowest_is_read_from_its_cells(tables_assistant):
    answer = tables_assistant.ask("In which year did Port Ellery have the most ferry sailings?")
    assert answer.status == "answered"
    assert "highest in 2024: 41.2" in answer.summary, answer.summary
    answer = tables_assistant.ask("In which year were Port Ellery's dockside fees lowest?")
    assert answer.status == "answered"
    assert "lowest in 2023: 18,207" in answer.summary, answer.summary
    # a change is no cell's to give, nor is the highest of a row with a blank cell
    assert tables_assistant.ask("In which year did Port Ellery's ferry sailings increase "
                                "the most?").status != "answered"
    assert tables_assistant.ask("In which year did Port Ellery have the most cruise "
                                "calls?").status != "answered"


def test_an_llm_claim_that_a_cell_is_highest_must_be_its_rows_highest(tables_assistant):
    answer = _ask_llm_stating(
        tables_assistant, "In which year did Port Ellery have the most ferry sailings?",
        *(f"Port Ellery's ferry sailings were highest in {y}, at {x} thousand"
          for y, x in (("2023", "39.8"), ("2024", "41.2"))))
    kept = [c.text for c in answer.claims if not c.gap]
    assert kept == ["Port Ellery's ferry sailings were highest in 2024, at 41.2 thousand."], kept
    assert "highest in 2023" in " ".join(c.text for c in answer.rejected)
