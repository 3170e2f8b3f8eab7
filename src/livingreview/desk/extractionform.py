"""The extraction form: every column of the extraction sheet as a form field, and posted forms
read back into sheet rows.

The fields are the sheet's columns (:data:`livingreview.extraction.SHEET_COLUMNS`), grouped as
``resources/extraction/README.md`` describes them, each with the kind of input it needs: a
choice among the values the workflow allows (CNI, grouping, group, dose unit, trough
targeted), a whole number where counts go, free text where the review reports text.  The
choices are the workflow's own constants, so the form cannot offer a value the workflow
refuses; the *rules* (sums, all-or-none, subgroups within their arm) are never re-implemented
here: the workflow's validator checks every would-be sheet (:mod:`.extraction`).

A posted form names its cells ``r<index>.<column>`` (``r0.n``, ``r2.group``); rows keep the
order of their indexes, so row ``i`` is line ``i + 2`` of the sheet written from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..baseline import CNIS, CROSSTAB_GROUPS
from ..extraction.sheets import (
    DOSE_UNITS,
    SHEET_COLUMNS,
    SHEET_REQUIRED_COLUMNS,
    TROUGH_TARGETED,
)
from .humanfiles import MAX_CELL_TEXT, clean_cell, within_limit

#: One sheet row as typed: column -> cell text (every column present, '' when empty).
FormRow = dict[str, str]

#: More rows than any study needs (2 arms, 4 subgroups each) but a bound on what a form holds.
MAX_ROWS = 24
RECORD_TYPES = ("arm", "subgroup")
SUBGROUPS: tuple[str, ...] = tuple(g for groups in CROSSTAB_GROUPS.values() for g in groups)

#: The review's outcome definitions, as ``resources/extraction/README.md`` gives them (a test
#: checks the README still says exactly this).
OUTCOME_DEFINITIONS = (
    "Outcome definitions are the review's (2019 AASLD guidance): remission = normalisation of "
    "AST and ALT; response = AST and ALT below twice the upper limit or at least 50% lower, "
    "without remission; treatment failure = rising or stable AST/ALT, or intolerance; "
    "unknown = not determinable."
)
#: The review's lines of treatment (Methods), as ``resources/baseline/README.md`` quotes them.
LINE_DEFINITIONS = (
    "*second-line* = CNI after corticosteroids with or without a thiopurine; *third-line* = "
    "CNI after a second thiopurine (6-MP or 6-TG after azathioprine), MMF or another "
    "immunosuppressant (e.g. cyclosporine before tacrolimus); `?` = unknown."
)
_CELL_NAME = re.compile(r"^r(\d{1,2})\.([a-z_]+)$")


@dataclass(frozen=True)
class Field:
    """One column of the sheet as a form input."""

    column: str
    label: str
    #: ``choice`` (one of ``choices``), ``count`` (a whole number) or ``text`` / ``long``.
    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldGroup:
    """Columns the README describes together, with the rule it states for them."""

    title: str
    rule: str
    fields: tuple[Field, ...]
    #: Only arm rows carry these columns (the README's "–" for subgroup rows).
    arm_only: bool = True


def _counts(*pairs: tuple[str, str]) -> tuple[Field, ...]:
    return tuple(Field(column, label, "count") for column, label in pairs)


GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup(
        "Patients and outcomes",
        "required; remission + response + failure + unknown = n",
        _counts(
            ("n", "n (treated patients)"),
            ("remission", "remission"),
            ("response", "response"),
            ("failure", "treatment failure"),
            ("unknown", "unknown"),
        ),
        arm_only=False,
    ),
    FieldGroup(
        "Sex",
        "all or none; female + male + sex unknown = n",
        _counts(("female", "female"), ("male", "male"), ("sex_unknown", "sex unknown")),
    ),
    FieldGroup(
        "Reason for starting the CNI",
        "all or none; they add up to n (none = not specified)",
        _counts(
            ("reason_insufficient_response", "insufficient response"),
            ("reason_intolerance", "intolerance"),
            ("reason_not_specified", "not specified"),
        ),
    ),
    FieldGroup(
        "Line of treatment",
        "all or none; they add up to n (none = unknown)",
        _counts(
            ("line_second", "second line"),
            ("line_third", "third line"),
            ("line_unknown", "unknown"),
        ),
    ),
    FieldGroup(
        "Discontinuation",
        "optional; each at most n, for adverse events at most the total",
        (
            *_counts(
                ("discontinued_total", "discontinued (total)"),
                ("discontinued_adverse_events", "for adverse events"),
            ),
            Field("discontinuation_reasons", "reasons, as reported", "long"),
        ),
    ),
    FieldGroup(
        "Before the CNI",
        "free text as reported",
        (
            Field("age_years", "age (years)", "text"),
            Field("disease_duration_before_cni_months", "disease duration (months)", "text"),
            Field("treatment_duration_before_cni_months", "treatment duration (months)", "text"),
            Field("prior_drugs", "prior drugs", "long"),
        ),
    ),
    FieldGroup(
        "CNI treatment",
        "free text as reported; unit and trough targeting from the lists",
        (
            Field("start_dose", "start dose", "text"),
            Field("dose_unit", "dose unit", "choice", DOSE_UNITS),
            Field("trough_targeted", "trough level targeted", "choice", TROUGH_TARGETED),
            Field("trough_range_ng_ml", "trough range (ng/ml)", "text"),
            Field("co_medication", "co-medication", "long"),
        ),
    ),
    FieldGroup(
        "Course",
        "free text as reported",
        (
            Field("adverse_events", "adverse events", "long"),
            Field("follow_up_months", "follow-up (months)", "text"),
            Field("notes", "notes (not compared between extractors)", "long"),
        ),
    ),
)
#: What a row is: the sheet's key columns (``record_type`` is fixed when the row is added).
KEY_FIELDS: tuple[Field, ...] = (
    Field("cni", "CNI", "choice", CNIS),
    Field("grouping", "subgroup by", "choice", tuple(CROSSTAB_GROUPS)),
    Field("group", "subgroup", "choice", SUBGROUPS),
)
FIELDS: dict[str, Field] = {
    field.column: field for field in (*KEY_FIELDS, *(f for g in GROUPS for f in g.fields))
}
#: Allowed values per choice column (for a select, and the template's ``data-choices``).
CHOICES: dict[str, tuple[str, ...]] = {
    "record_type": RECORD_TYPES,
    **{f.column: f.choices for f in FIELDS.values() if f.kind == "choice"},
}


def blank_row(record_type: str, cni: str = "", grouping: str = "", group: str = "") -> FormRow:
    """A new row of the form: its kind (and CNI, subgroup) chosen, every other cell empty."""
    row = dict.fromkeys(SHEET_COLUMNS, "")
    row.update(record_type=record_type, cni=cni, grouping=grouping, group=group)
    return row


def as_form_row(cells: Mapping[str, str]) -> FormRow:
    """A sheet row (any subset of columns) as a form row with every column present."""
    return {column: clean_cell(cells.get(column, ""))[:MAX_CELL_TEXT] for column in SHEET_COLUMNS}


def rows_from_form(form: Mapping[str, object]) -> list[FormRow]:
    """The rows of a posted form, in the order of their indexes (``r<i>.<column>`` cells).

    Cells of unknown columns and rows past :data:`MAX_ROWS` are ignored; every cell is made
    one clean line (no tabs or newlines); a cell longer than
    :data:`~.humanfiles.MAX_CELL_TEXT` characters is refused (:class:`~.errors.SheetRefused`).
    """
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _CELL_NAME.match(name)
        if match is None or match.group(2) not in SHEET_COLUMNS or not isinstance(value, str):
            continue
        index = int(match.group(1))
        if index < MAX_ROWS:
            field = f"cell '{match.group(2)}' of row {index + 1}"
            rows.setdefault(index, {})[match.group(2)] = within_limit(value, field)
    return [as_form_row(rows[i]) for i in sorted(rows)]


def sheet_columns(rows: Iterable[Mapping[str, str]]) -> list[str]:
    """The header a sheet of ``rows`` is written with: the required columns and every optional
    column some row fills, in the template's order (empty optional columns are left out, as
    the workflow allows)."""
    rows = list(rows)
    return [
        column
        for column in SHEET_COLUMNS
        if column in SHEET_REQUIRED_COLUMNS or any(row.get(column, "").strip() for row in rows)
    ]


def filled(row: Mapping[str, str]) -> dict[str, str]:
    """The non-empty cells of a row: what the journal keeps of it, and how two versions of a
    sheet are compared (a column left out and an empty column are the same sheet)."""
    return {column: value for column, value in row.items() if value.strip()}


def visible_groups(row: Mapping[str, str]) -> list[bool]:
    """Which of :data:`GROUPS` a row shows: all on arm rows; on subgroup rows the outcomes,
    and an arm-only group only when a cell of it is filled (so the workflow's message about
    it can be seen and the cell emptied)."""
    subgroup = row.get("record_type") == "subgroup"
    return [
        not (subgroup and group.arm_only) or any(row.get(f.column, "") for f in group.fields)
        for group in GROUPS
    ]


def row_label(row: Mapping[str, str]) -> str:
    """``tacrolimus arm`` or ``tacrolimus, indication: intolerance``, for headings."""
    cni = row.get("cni") or "(no CNI)"
    if row.get("record_type") == "subgroup":
        return f"{cni}, {row.get('grouping') or '?'}: {row.get('group') or '?'}"
    return f"{cni} arm"
