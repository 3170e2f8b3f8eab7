"""Extraction sheets: validation, dual-extraction comparison and the merged study table.

The sheets here are test fixtures for a hypothetical new study; their numbers are made up
for the test and never enter resources/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from extraction_rows import INSUFFICIENT_RESPONSE_SUBGROUP, INTOLERANCE_SUBGROUP, TACROLIMUS_ARM

from livingreview.baseline import load_baseline
from livingreview.errors import InputFileError, ProblemCollector, ValidationError
from livingreview.extraction.merge import merge_extractions
from livingreview.extraction.sheets import (
    SHEET_COLUMNS,
    SHEET_OPTIONAL_COLUMNS,
    SHEET_REQUIRED_COLUMNS,
    find_sheets,
    read_sheet,
    validate_sheet_rows,
)
from livingreview.extraction.todo import extraction_todo
from livingreview.todo import TODO_COLUMNS

BASELINE = load_baseline(ROOT / "resources" / "baseline")

ARM = {
    **TACROLIMUS_ARM,
    "dose_unit": "mg/day",
    "trough_targeted": "yes",
    "age_years": "24-61",
}
SUB_IR = INSUFFICIENT_RESPONSE_SUBGROUP
SUB_INT = INTOLERANCE_SUBGROUP


def write_sheet(
    folder: Path,
    study: str,
    extractor: str,
    rows: list[dict[str, str]],
    columns: tuple[str, ...] = SHEET_COLUMNS,
) -> Path:
    path = folder / study / f"{extractor}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_sheet_is_read(tmp_path):
    sheet = read_sheet(write_sheet(tmp_path, "new-2024", "ab", [ARM, SUB_IR, SUB_INT]))
    assert (sheet.study_id, sheet.extractor, len(sheet.rows)) == ("new-2024", "ab", 3)
    assert sheet.rows[0].counts["n"] == 10 and sheet.rows[0].counts["female"] is None


@pytest.mark.parametrize(
    "change, line, field, message",
    [
        ({"remission": "7"}, 2, "remission", "outcomes add up to 11, not n = 10"),
        ({"n": "-1"}, 2, "n", "non-negative integer"),
        ({"n": "ten"}, 2, "n", "non-negative integer"),
        ({"cni": "sirolimus"}, 2, "cni", "allowed: cyclosporine, tacrolimus"),
        ({"reason_intolerance": ""}, 2, "reason_intolerance", "fill all of"),
        ({"dose_unit": "mg"}, 2, "dose_unit", "allowed: mg/day, mg/kg/day"),
        ({"trough_targeted": "maybe"}, 2, "trough_targeted", "allowed: yes, no, unknown"),
        ({"grouping": "line"}, 2, "grouping", "must be empty on an arm row"),
        ({"remission": ""}, 2, "remission", "required on an arm row"),
    ],
)
def test_arm_errors_name_file_line_and_field(tmp_path, change, line, field, message):
    path = write_sheet(tmp_path, "new-2024", "ab", [{**ARM, **change}])
    with pytest.raises(ValidationError) as error:
        read_sheet(path)
    text = str(error.value)
    assert (
        str(path) in text
        and f"line {line}" in text
        and f"field '{field}'" in text
        and message in text
    )


def test_subgroup_exceeding_its_arm_is_rejected(tmp_path):
    path = write_sheet(tmp_path, "new-2024", "ab", [ARM, {**SUB_IR, "n": "11", "remission": "8"}])
    with pytest.raises(ValidationError, match="line 3, field 'n'.*exceeds the arm's n = 10"):
        read_sheet(path)


def test_subgroups_together_exceeding_the_arm_are_rejected(tmp_path):
    big = {**SUB_INT, "n": "4", "remission": "3"}
    path = write_sheet(tmp_path, "new-2024", "ab", [ARM, SUB_IR, big])
    with pytest.raises(ValidationError, match="indication subgroups together have n = 11"):
        read_sheet(path)


def test_subgroup_without_arm_and_unknown_group(tmp_path):
    with pytest.raises(ValidationError, match="no arm row"):
        read_sheet(write_sheet(tmp_path, "a-1", "ab", [{**SUB_IR, "cni": "cyclosporine"}, ARM]))
    with pytest.raises(ValidationError, match="field 'group'.*allowed: second, third"):
        read_sheet(write_sheet(tmp_path, "a-2", "ab", [ARM, {**SUB_IR, "grouping": "line"}]))


def test_wrong_columns_and_encoding(tmp_path):
    path = tmp_path / "s-1" / "ab.tsv"
    path.parent.mkdir()
    path.write_text("record_type\tcni\tn\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="line 1, field 'remission': required column is miss"):
        read_sheet(path)
    path.write_bytes("\t".join(SHEET_COLUMNS).encode() + b"\narm\tcicl\x81sporina\n")
    with pytest.raises(InputFileError, match="line 2: is not UTF-8 text"):
        read_sheet(path)


def test_agreeing_extractors_are_accepted_and_subgroups_merged(tmp_path):
    paths = [write_sheet(tmp_path, "new-2024", e, [ARM, SUB_IR, SUB_INT]) for e in ("ab", "cd")]
    result = merge_extractions(BASELINE, paths, {"new-2024"}, min_extractors=2)
    assert result.discrepancies == []
    assert [s["status"] for s in result.status] == ["accepted"]
    new = [s for s in result.studies if s["version"] == "update"]
    assert len(new) == 1 and new[0]["n"] == 10 and new[0]["line_unknown"] == 10
    assert len(result.studies) == len(BASELINE.arms) + 1
    assert {(s["group"], s["remission"]) for s in result.subgroups} == {
        ("insufficient_response", 4),
        ("intolerance", 2),
    }


def test_disagreement_is_listed_until_adjudicated(tmp_path):
    a = write_sheet(tmp_path, "new-2024", "ab", [ARM])
    b = write_sheet(
        tmp_path,
        "new-2024",
        "cd",
        [{**ARM, "remission": "5", "unknown": "2", "age_years": "24 - 61"}],
    )
    result = merge_extractions(BASELINE, [a, b], {"new-2024"})
    assert {(d["field"], d["value_a"], d["value_b"]) for d in result.discrepancies} == {
        ("remission", 6, 5),
        ("unknown", 1, 2),
        ("age_years", "24-61", "24 - 61"),
    }
    assert result.status[0]["status"] == "discrepancies"
    assert all(s["version"] == "baseline" for s in result.studies)
    adjudicated = write_sheet(tmp_path, "new-2024", "adjudicated", [ARM])
    result = merge_extractions(BASELINE, [a, b, adjudicated], {"new-2024"})
    assert result.discrepancies == [] and result.status[0]["status"] == "accepted"
    assert any(s["study_id"] == "new-2024" for s in result.studies)


def test_single_extraction_waits_for_the_second(tmp_path):
    a = write_sheet(tmp_path, "new-2024", "ab", [ARM])
    result = merge_extractions(BASELINE, [a], {"new-2024"}, min_extractors=2)
    assert result.status[0]["status"] == "awaiting_extraction"
    assert (
        merge_extractions(BASELINE, [a], {"new-2024"}, min_extractors=1).status[0]["status"]
        == "accepted"
    )


def test_study_must_be_included_and_new(tmp_path):
    a = write_sheet(tmp_path, "new-2024", "ab", [ARM])
    with pytest.raises(ValidationError, match="not included at full text"):
        merge_extractions(BASELINE, [a], set())
    b = write_sheet(tmp_path, "efe-2017", "ab", [ARM])
    with pytest.raises(ValidationError, match="part of the published review"):
        merge_extractions(BASELINE, [b], {"efe-2017"})


def test_discontinuations_cannot_exceed_n(tmp_path):
    path = write_sheet(tmp_path, "new-2024", "ab", [{**ARM, "discontinued_adverse_events": "40"}])
    with pytest.raises(
        ValidationError, match="field 'discontinued_adverse_events'.*exceeds n = 10"
    ):
        read_sheet(path)


def test_included_study_without_sheets_is_listed_as_awaiting(tmp_path):
    result = merge_extractions(BASELINE, [], {"new-2024", "efe-2017"})
    assert [(s["study_id"], s["status"]) for s in result.status] == [
        ("new-2024", "awaiting_extraction")
    ]


def test_misplaced_files_are_errors_not_ignored(tmp_path):
    write_sheet(tmp_path, "new-2024", "ab", [ARM])
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "template.tsv").write_text("x")
    assert find_sheets(tmp_path) == [str(tmp_path / "new-2024" / "ab.tsv")]
    (tmp_path / "new-2024" / "cd.csv").write_text("x")
    with pytest.raises(ValidationError, match="cd.csv: is not read"):
        find_sheets(tmp_path)
    (tmp_path / "new-2024" / "cd.csv").unlink()
    (tmp_path / "new-2025.tsv").write_text("x")
    with pytest.raises(ValidationError, match="new-2025.tsv: is not read"):
        find_sheets(tmp_path)


# --- Sheets without the optional columns a study does not report ---------------------------

MINIMAL_ARM = {
    k: ARM[k] for k in ("record_type", "cni", "n", "remission", "response", "failure", "unknown")
}


def test_sheet_with_only_the_required_columns_is_accepted(tmp_path):
    path = write_sheet(tmp_path, "new-2024", "ab", [MINIMAL_ARM], SHEET_REQUIRED_COLUMNS)
    sheet = read_sheet(path)
    assert sheet.rows[0].counts["n"] == 10
    assert all(sheet.rows[0].cell(c) in (None, "") for c in SHEET_OPTIONAL_COLUMNS)


def test_sheet_with_some_optional_columns_compares_equal_to_a_full_one(tmp_path):
    columns = (*SHEET_REQUIRED_COLUMNS, "grouping", "group", "age_years")
    short = write_sheet(
        tmp_path, "new-2024", "ab", [{**MINIMAL_ARM, "age_years": "24-61"}, SUB_IR], columns
    )
    full = write_sheet(tmp_path, "new-2024", "cd", [{**MINIMAL_ARM, "age_years": "24-61"}, SUB_IR])
    result = merge_extractions(BASELINE, [short, full], {"new-2024"})
    assert result.discrepancies == [] and result.status[0]["status"] == "accepted"
    new = [s for s in result.studies if s["version"] == "update"]
    assert (new[0]["reason_not_specified"], new[0]["line_unknown"]) == (10, 10)


@pytest.mark.parametrize("missing", SHEET_REQUIRED_COLUMNS)
def test_sheet_without_a_required_column_is_refused_naming_it(tmp_path, missing):
    columns = tuple(c for c in SHEET_REQUIRED_COLUMNS if c != missing)
    path = write_sheet(tmp_path, "new-2024", "ab", [MINIMAL_ARM], columns)
    with pytest.raises(ValidationError) as error:
        read_sheet(path)
    text = str(error.value)
    assert f"line 1, field '{missing}': required column is missing" in text
    assert str(path) in text and "add it" in text


def test_unknown_column_is_still_refused(tmp_path):
    path = write_sheet(
        tmp_path, "new-2024", "ab", [MINIMAL_ARM], (*SHEET_REQUIRED_COLUMNS, "remision")
    )
    with pytest.raises(InputFileError, match="unknown column.*remision"):
        read_sheet(path)


def test_every_problem_of_a_sheet_is_collected_for_a_form():
    problems = ProblemCollector()
    rows = validate_sheet_rows(
        "form",
        [
            {**MINIMAL_ARM, "remission": "7", "__line__": "2"},
            {**MINIMAL_ARM, "cni": "cyclosporine", "n": "ten", "__line__": "3"},
            {**SUB_IR, "group": "intolerant", "__line__": "4"},
        ],
        problems,
    )
    assert [(e.line, e.field) for e in problems.errors] == [
        (2, "remission"),
        (3, "n"),
        (4, "group"),
    ]
    assert len(rows) == 3


# --- What is left for people: todo.tsv ------------------------------------------------------


def test_todo_lists_studies_awaiting_extraction_and_discrepancies(tmp_path):
    a = write_sheet(tmp_path, "new-2024", "ab", [ARM])
    b = write_sheet(tmp_path, "new-2024", "cd", [{**ARM, "remission": "5", "unknown": "2"}])
    result = merge_extractions(BASELINE, [a, b], {"new-2024", "other-2025", "third-2025"})
    todo = extraction_todo(
        result.status,
        "resources/extraction",
        "results/extraction/status.tsv",
        "results/extraction/discrepancies.tsv",
    )
    assert [tuple(row[c] for c in TODO_COLUMNS) for row in todo] == [
        (
            "adjudicator",
            "",
            "extraction",
            "settle extraction discrepancies",
            1,
            "results/extraction/discrepancies.tsv",
            "resources/extraction/new-2024/adjudicated.tsv",
        ),
        (
            "extractor",
            "",
            "extraction",
            "extract data of included studies",
            2,
            "results/extraction/status.tsv",
            "resources/extraction/",
        ),
    ]


def test_todo_points_at_the_folder_when_several_studies_need_adjudication(tmp_path):
    sheets = []
    for study in ("new-2024", "new-2025"):
        sheets.append(write_sheet(tmp_path, study, "ab", [ARM]))
        sheets.append(
            write_sheet(tmp_path, study, "cd", [{**ARM, "remission": "5", "unknown": "2"}])
        )
    result = merge_extractions(BASELINE, sheets, {"new-2024", "new-2025"})
    todo = extraction_todo(result.status, "resources/extraction", "s.tsv", "d.tsv")
    assert [(r["role"], r["count"], r["act_in"]) for r in todo] == [
        ("adjudicator", 2, "resources/extraction/")
    ]


def test_nothing_to_do_writes_no_rows(tmp_path):
    a, b = (write_sheet(tmp_path, "new-2024", e, [ARM]) for e in ("ab", "cd"))
    result = merge_extractions(BASELINE, [a, b], {"new-2024"})
    assert extraction_todo(result.status, "resources/extraction", "s.tsv", "d.tsv") == []
