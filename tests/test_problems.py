"""Validators speak in data: each takes a sheet held in memory and returns its problems as
:class:`livingreview.errors.Problem` (file, line, field, value, allowed, message); the workflow
renders them as its errors, the desk shows their parts beside the fields. Line numbers come
from the rows, never from the messages' text.
"""

from __future__ import annotations

import pytest
from desk_support import TA_HEADER, VERDICTS_HEADER, make_project, pid, pinned_clock
from extraction_rows import INTOLERANCE_SUBGROUP, TACROLIMUS_ARM

from livingreview.dedup.tables import RecordSet, verdict_problems
from livingreview.desk.app import build_desk
from livingreview.desk.decisions import Verdict
from livingreview.desk.errors import SheetProblems
from livingreview.desk.extractionform import as_form_row
from livingreview.errors import InputFileError, Problem, ProblemCollector, ValidationError
from livingreview.extraction.sheets import sheet_problems as extraction_problems
from livingreview.io import parse_tsv
from livingreview.screening.publications import PublicationIndex
from livingreview.screening.settings import ScreeningSettings
from livingreview.screening.sheets import sheet_problems as screening_problems

SHEET = "resources/screening/title_abstract/reviewer-1.tsv"


def test_a_problem_renders_as_the_workflows_error_text():
    problem = Problem("a.tsv", "decision not allowed", 3, "decision", "yes", "include, exclude")
    error = InputFileError(
        "a.tsv",
        "decision not allowed",
        line=3,
        field="decision",
        value="yes",
        allowed="include, exclude",
    )
    assert str(problem) == str(error)
    assert Problem.of(error) == problem


def test_the_collector_builds_problems_and_raises_the_first_as_before():
    problems = ProblemCollector()
    problems.add("a.tsv", "date missing", line=4, field="decided_on")
    problems.add_error(InputFileError("b.tsv", "is not UTF-8 text", line=2))
    assert problems.problems == [
        Problem("a.tsv", "date missing", 4, "decided_on"),
        Problem("b.tsv", "is not UTF-8 text", 2),
    ]
    with pytest.raises(
        ValidationError, match=r"^a.tsv, line 4, field 'decided_on': date missing \[first of 2"
    ):
        problems.raise_any()


def screening_settings() -> ScreeningSettings:
    return ScreeningSettings.from_params(
        {
            "reviewers": ["reviewer-1", "reviewer-2"],
            "dual": True,
            "blinded": True,
            "ranking": {},
            "baseline_reviewer": "baven-pronk-2022",
            "exclusion_reasons": [{"id": "not_adult", "label": "Not adults"}],
        },
        "2026-11-23",
    )


def test_screening_rows_in_memory_give_their_problems_with_line_and_field():
    index = PublicationIndex(
        {"pubmed:1": {}, "pubmed:2": {}}, {"pubmed:1": "pubmed:1", "pubmed:2": "pubmed:2"}
    )
    table = parse_tsv(
        TA_HEADER
        + "pubmed:1\tinclude\t\t\t2026-11-20\n\npubmed:2\texclude\tchildren\t\t2026-11-20\n",
        SHEET,
    )
    problems = screening_problems(SHEET, table, screening_settings(), index)
    assert [(p.file, p.line, p.field, p.value, p.allowed) for p in problems] == [
        (SHEET, 4, "reason", "children", "not_adult")
    ]


def test_a_screening_sheet_with_a_wrong_header_is_one_problem_on_line_1():
    table = parse_tsv("record_id\tdecision\tsmell\n", SHEET)
    index = PublicationIndex({}, {})
    [problem] = screening_problems(SHEET, table, screening_settings(), index)
    assert (problem.line, problem.field) == (1, None)
    assert problem.message.startswith("missing column(s)")


def test_extraction_rows_in_memory_give_their_problems_with_line_and_field():
    sheet = "resources/extraction/new-2025/extractor-1.tsv"
    bad = {**INTOLERANCE_SUBGROUP, "n": "three"}
    columns = sorted({*TACROLIMUS_ARM, *bad, "grouping", "group"})
    text = "\t".join(columns) + "\n"
    text += "".join(
        "\t".join(row.get(c, "") for c in columns) + "\n" for row in (TACROLIMUS_ARM, bad)
    )
    problems = extraction_problems(sheet, parse_tsv(text, sheet), {"pape-2019"}, {"new-2025"})
    assert [(p.file, p.line, p.field, p.value) for p in problems] == [(sheet, 3, "n", "three")]
    assert problems[0].allowed == "a non-negative integer"


def test_extraction_checks_the_study_in_memory_too():
    sheet = "resources/extraction/pape-2019/extractor-1.tsv"
    columns = list(TACROLIMUS_ARM)
    text = "\t".join(columns) + "\n" + "\t".join(TACROLIMUS_ARM.values()) + "\n"
    [problem] = extraction_problems(sheet, parse_tsv(text, sheet), {"pape-2019"}, set())
    assert (problem.file, problem.line, problem.value) == (sheet, None, "pape-2019")


def record(i: int) -> dict[str, str]:
    return {
        "record_id": f"pubmed:{i}",
        "source": "pubmed",
        "run": "2026-11-23",
        "title": f"A synthetic title number {i} about something else entirely {i * 7}",
        "authors": f"Author{i} A",
        "year": "2025",
    }


def test_verdict_rows_in_memory_give_their_problems_with_line_and_field():
    from livingreview.records import RECORD_COLUMNS

    records = [{c: record(i).get(c, "") for c in RECORD_COLUMNS} for i in (1, 2, 3)]
    record_set = RecordSet(records=records)  # type: ignore[arg-type]
    sheet = "resources/dedup/verdicts.tsv"
    text = VERDICTS_HEADER + (
        "pubmed:1\tpubmed:2\tsame\tdm\t2026-11-20\t\npubmed:1\tpubmed:9\tmaybe\tdm\t2026-11-20\t\n"
    )
    problems = verdict_problems(record_set, sheet, parse_tsv(text, sheet), {}, "2026-11-23")
    assert [(p.line, p.field) for p in problems] == [(3, "record_id_b"), (3, "verdict")]
    contradiction = VERDICTS_HEADER + (
        "pubmed:1\tpubmed:3\tdifferent\tdm\t2026-11-20\t\n"
        "pubmed:1\tpubmed:2\tsame\tdm\t2026-11-20\t\n"
        "pubmed:2\tpubmed:3\tsame\tdm\t2026-11-20\t\n"
    )
    [problem] = verdict_problems(record_set, sheet, parse_tsv(contradiction, sheet), {}, None)
    assert problem.field == "verdict" and problem.line in (3, 4)
    assert problem.file == sheet


# -- the desk shows the workflow's problems: the sheet's real file, line and field ----------


@pytest.fixture
def desk(tmp_path):
    root = make_project(
        tmp_path / "project",
        maybe_pairs=[(1, 2)],
        new_studies={"new-2025": (5,)},
    )
    return build_desk(root, clock=pinned_clock, state_dir=tmp_path / "state")


def test_a_refused_decision_names_the_sheets_line_and_field(desk):
    sheet = desk.project.decisions_dir / "title_abstract" / "reviewer-1.tsv"
    sheet.write_text(
        TA_HEADER + f"{pid(1)}\tinclude\t\t\t2026-11-20\n\n{pid(2)}\tmaybe\t\t\t2026-11-20\n"
    )
    with pytest.raises(SheetProblems) as refused:  # a sheet typed by hand: checked whole
        desk.screening.decide(
            "title_abstract", "reviewer-1", pid(3), Verdict("exclude", "children")
        )
    [problem] = refused.value.problems
    assert (problem.file, problem.line, problem.field, problem.value) == (
        SHEET,
        5,
        "reason",
        "children",
    )
    assert "not_adult" in (problem.allowed or "")
    assert str(problem) in str(refused.value)
    # the desk wrote the next row itself: only that row is checked, at its real line
    desk.screening.decide("title_abstract", "reviewer-1", pid(3), Verdict("include"))
    with pytest.raises(SheetProblems) as refused:
        desk.screening.decide(
            "title_abstract", "reviewer-1", pid(4), Verdict("exclude", "children")
        )
    assert [(p.line, p.field) for p in refused.value.problems] == [(6, "reason")]


def test_a_reworded_message_cannot_move_the_line_people_see(desk, monkeypatch):
    original = ProblemCollector.add

    def reworded(self, path, problem, **where):
        original(self, path, f"(see line 2 of the guide) {problem}, line 2", **where)

    monkeypatch.setattr(ProblemCollector, "add", reworded)
    sheet = desk.project.decisions_dir / "title_abstract" / "reviewer-1.tsv"
    sheet.write_text(TA_HEADER)
    for i in (1, 2, 3):
        desk.screening.decide("title_abstract", "reviewer-1", pid(i), Verdict("include"))
    with pytest.raises(SheetProblems) as refused:
        desk.screening.decide(
            "title_abstract", "reviewer-1", pid(4), Verdict("exclude", "children")
        )
    [problem] = refused.value.problems
    assert (problem.line, problem.field) == (5, "reason")
    assert str(refused.value).startswith(f"{SHEET}, line 5, field 'reason': (see line 2")


def test_a_refused_extraction_names_the_sheets_line_and_field(desk):
    sheet = desk.extraction.extractor_sheet("new-2025", "extractor-1")
    rows = [as_form_row(TACROLIMUS_ARM), as_form_row({**INTOLERANCE_SUBGROUP, "remission": "9"})]
    problems = desk.extraction.check_rows(sheet, rows)
    assert problems and {(p.line, p.field) for p in problems} >= {(3, "remission")}
    assert all(p.file == "resources/extraction/new-2025/extractor-1.tsv" for p in problems)
    with pytest.raises(SheetProblems) as refused:
        desk.extraction.save("new-2025", "extractor-1", rows, "absent")
    assert refused.value.problems == problems
    assert not sheet.exists()


def test_a_refused_verdict_names_the_sheets_line_and_field(desk):
    sheet = desk.project.verdicts_sheet
    with open(sheet, "a", encoding="utf-8") as handle:
        handle.write(f"{pid(2)}\t{pid(3)}\tsame\tdata-manager-1\t2026-11-20\t\n")
        handle.write(f"{pid(1)}\t{pid(3)}\tdifferent\tdata-manager-1\t2026-11-20\t\n")
    pair = desk.duplicates.pair(pid(1), pid(2))
    with pytest.raises(SheetProblems) as refused:
        desk.duplicates.decide("data-manager-1", pair, "same")
    [problem] = refused.value.problems
    assert problem.file == "resources/dedup/verdicts.tsv"
    assert problem.field == "verdict" and problem.line in (3, 5)
    assert desk.duplicates.sheet_problem() == ""  # the sheet on disk was left as it was
