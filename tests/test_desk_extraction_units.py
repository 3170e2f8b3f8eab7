"""Small parts of the extraction form and its adjudication: the fields against the workflow's
sheet columns and allowed values, the definitions against the READMEs, reading posted forms,
composing the agreed sheet."""

from __future__ import annotations

from conftest import ROOT

from livingreview.baseline import CNIS, CROSSTAB_GROUPS
from livingreview.desk.comparison import VALUE_COLUMNS, compare, compose
from livingreview.desk.extractionform import (
    CHOICES,
    FIELDS,
    GROUPS,
    LINE_DEFINITIONS,
    MAX_ROWS,
    OUTCOME_DEFINITIONS,
    rows_from_form,
    sheet_columns,
)
from livingreview.extraction.sheets import (
    DOSE_UNITS,
    SHEET_COLUMNS,
    SHEET_COUNT_COLUMNS,
    SHEET_KEY_COLUMNS,
    SHEET_REQUIRED_COLUMNS,
    TROUGH_TARGETED,
    Sheet,
    SheetRow,
)


def words(text: str) -> str:
    return " ".join(text.split())


def test_every_sheet_column_is_one_field_with_the_workflows_allowed_values():
    assert sorted([*FIELDS, "record_type"]) == sorted(SHEET_COLUMNS)
    assert sorted(VALUE_COLUMNS) == sorted(set(SHEET_COLUMNS) - set(SHEET_KEY_COLUMNS))
    counts = {c for c, f in FIELDS.items() if f.kind == "count"}
    assert counts == set(SHEET_COUNT_COLUMNS)  # integers exactly where counts go
    assert CHOICES["cni"] == CNIS and CHOICES["grouping"] == tuple(CROSSTAB_GROUPS)
    assert set(CHOICES["group"]) == {g for gs in CROSSTAB_GROUPS.values() for g in gs}
    assert CHOICES["dose_unit"] == DOSE_UNITS and CHOICES["trough_targeted"] == TROUGH_TARGETED
    assert CHOICES["record_type"] == ("arm", "subgroup")
    text = {c for c, f in FIELDS.items() if f.kind in ("text", "long")}
    assert text == set(SHEET_COLUMNS) - counts - set(CHOICES) - {"record_type"}
    assert [g.title for g in GROUPS if not g.arm_only] == ["Patients and outcomes"]


def test_the_definitions_shown_are_the_reviews_own_words():
    extraction = words((ROOT / "resources/extraction/README.md").read_text())
    baseline = words((ROOT / "resources/baseline/README.md").read_text())
    assert words(OUTCOME_DEFINITIONS) in extraction
    assert words(LINE_DEFINITIONS) in baseline


def test_posted_cells_become_clean_rows_in_index_order():
    form = {
        "r1.cni": "tacrolimus",
        "r0.cni": "cyclosporine",
        "r0.notes": "two\tcells\nand lines",
        "r0.unknown_column": "x",
        f"r{MAX_ROWS}.n": "1",
        "csrf": "token",
    }
    rows = rows_from_form(form)
    assert [r["cni"] for r in rows] == ["cyclosporine", "tacrolimus"]
    assert rows[0]["notes"] == "two cells and lines" and "unknown_column" not in rows[0]
    assert set(rows[0]) == set(SHEET_COLUMNS)
    assert sheet_columns(rows) == [
        c for c in SHEET_COLUMNS if c in SHEET_REQUIRED_COLUMNS or c == "notes"
    ]


def sheet(name: str, *rows: dict[str, str]) -> Sheet:
    parsed = []
    for line, row in enumerate(rows, start=2):
        counts = {c: int(row[c]) if row.get(c) else None for c in SHEET_COUNT_COLUMNS}
        text = {c: row.get(c, "") for c in SHEET_COLUMNS if c not in counts}
        keys = {c: row.get(c, "") for c in SHEET_KEY_COLUMNS}
        parsed.append(SheetRow(line=line, counts=counts, text=text, **keys))
    return Sheet("s-2025", name, f"{name}.tsv", parsed)


ARM = {"record_type": "arm", "cni": "tacrolimus", "n": "4", "remission": "2", "response": "1"}
ARM.update(failure="1", unknown="0")
SUB = {**ARM, "record_type": "subgroup", "grouping": "line", "group": "second", "n": "1"}
SUB.update(remission="1", response="0", failure="0")


def test_the_agreed_sheet_takes_picked_typed_and_agreed_values():
    a = sheet("a", {**ARM, "age_years": "50"}, SUB)
    b = sheet("b", {**ARM, "age_years": "51", "notes": "x"})
    compared = compare([a, b])
    arm = compared[0]
    assert [c.column for c in arm.cells if c.differs] == ["age_years"]
    assert next(c for c in arm.cells if c.column == "notes").differs is False  # not compared
    assert compared[1].presence_differs and not compared[1].keep
    form = {f"r0.{c}": ARM.get(c, "") for c in VALUE_COLUMNS}
    composed = compose(compared, form, ["a", "b"])
    assert composed.unchosen == [
        "tacrolimus arm, age_years: take one sheet's value or type one",
        "tacrolimus, line: second: keep or drop the row (only a has it)",
    ]
    form.update({"pick.r0.age_years": "1", "keep.r1": "no"})
    composed = compose(compared, form, ["a", "b"])
    assert composed.unchosen == [] and composed.kept == [0]
    assert composed.rows[0]["age_years"] == "51" and composed.rows[0]["cni"] == "tacrolimus"
    form.update({"pick.r0.age_years": "typed", "r0.age_years": "50.5", "keep.r1": "yes"})
    form.update({f"r1.{c}": SUB.get(c, "") for c in VALUE_COLUMNS})
    composed = compose(compared, form, ["a", "b"])
    assert composed.rows[0]["age_years"] == "50.5" and composed.kept == [0, 1]
    assert composed.rows[1]["group"] == "second" and composed.compared_row(3) == 1
