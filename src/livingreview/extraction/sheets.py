"""Extraction sheets people type: where they go, their columns, and every rule they must meet.

A sheet is ``<extraction dir>/<study_id>/<extractor>.tsv`` (or ``adjudicated.tsv``, the agreed
sheet), with one row per CNI arm (``record_type = arm``) and optional subgroup rows
(``record_type = subgroup`` with ``grouping`` and ``group``). ``resources/extraction/README.md``
lists the columns and rules for the people who fill them in. Only
:data:`SHEET_REQUIRED_COLUMNS` must be present; a column left out reads as empty cells, so a
sheet need not carry columns its study does not report.

Validation is public and reusable (:func:`validate_sheet_rows`): the workflow's check rule, the
merge and any form that edits a sheet give the same messages, each naming file, line, field,
value and what is allowed. One pass collects every problem of a sheet, so a reviewer can fix
them all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from ..baseline import CNIS, CROSSTAB_GROUPS, OUTCOMES
from ..errors import Problem, ProblemCollector, ReviewError, ValidationError
from ..io import Table, check_header, read_table
from .tables import SUBGROUP_COUNTS

SHEET_KEY_COLUMNS: tuple[str, ...] = ("record_type", "cni", "grouping", "group")
SHEET_COUNT_COLUMNS: tuple[str, ...] = (
    "n",
    "female",
    "male",
    "sex_unknown",
    "reason_insufficient_response",
    "reason_intolerance",
    "reason_not_specified",
    "line_second",
    "line_third",
    "line_unknown",
    "discontinued_total",
    "discontinued_adverse_events",
    *OUTCOMES,
)
SHEET_TEXT_COLUMNS: tuple[str, ...] = (
    "age_years",
    "disease_duration_before_cni_months",
    "treatment_duration_before_cni_months",
    "prior_drugs",
    "start_dose",
    "dose_unit",
    "trough_targeted",
    "trough_range_ng_ml",
    "co_medication",
    "adverse_events",
    "discontinuation_reasons",
    "follow_up_months",
    "notes",
)
SHEET_COLUMNS: tuple[str, ...] = (*SHEET_KEY_COLUMNS, *SHEET_COUNT_COLUMNS, *SHEET_TEXT_COLUMNS)
#: Columns every sheet must have; any other column may be left out when it would be empty
#: (a column left out reads as empty cells: not reported, or no subgroup rows).
SHEET_REQUIRED_COLUMNS: tuple[str, ...] = ("record_type", "cni", "n", *OUTCOMES)
SHEET_OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    column for column in SHEET_COLUMNS if column not in SHEET_REQUIRED_COLUMNS
)
#: Count columns that must be filled on arm rows (the rest may be empty = not reported).
ARM_REQUIRED_COUNTS: tuple[str, ...] = ("n", *OUTCOMES)
RECORD_TYPES: tuple[str, ...] = ("arm", "subgroup")
DOSE_UNITS: tuple[str, ...] = ("mg/day", "mg/kg/day")
TROUGH_TARGETED: tuple[str, ...] = ("yes", "no", "unknown")
#: Files in the extraction folder that are not sheets (``journal.jsonl``: the reviewers' desk's
#: record of every change it made to the sheets, see ``livingreview.desk.humanfiles``).
NOT_SHEETS: tuple[str, ...] = ("README.md", "template.tsv", "journal.jsonl")
#: Groups of counts that must add up to ``n`` when reported (all of a group, or none).
ARM_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("outcomes", OUTCOMES),
    (
        "reasons for starting",
        ("reason_insufficient_response", "reason_intolerance", "reason_not_specified"),
    ),
    ("lines of treatment", ("line_second", "line_third", "line_unknown")),
    ("sexes", ("female", "male", "sex_unknown")),
)
SUBGROUP_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (("outcomes", OUTCOMES),)
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

SheetKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class SheetRow:
    """One validated row of a sheet: its kind, counts (``None`` = not reported) and text."""

    line: int
    record_type: str
    cni: str
    grouping: str
    group: str
    counts: Mapping[str, int | None]
    text: Mapping[str, str]

    @property
    def key(self) -> SheetKey:
        """What the row describes: one arm, or one subgroup of one arm."""
        return (self.record_type, self.cni, self.grouping, self.group)

    def count(self, column: str) -> int:
        """A count the rules require on this kind of row (validated, so never missing)."""
        value = self.counts[column]
        if value is None:
            raise ValueError(f"line {self.line}: {column} is not reported")
        return value

    def cell(self, column: str) -> int | str | None:
        """The value of any column of the sheet (counts as integers, ``None`` if empty)."""
        if column in SHEET_KEY_COLUMNS:
            return str(getattr(self, column))
        return self.counts[column] if column in self.counts else self.text[column]


@dataclass
class Sheet:
    """One extractor's validated sheet for one study."""

    study_id: str
    extractor: str
    path: str
    rows: list[SheetRow] = field(default_factory=list)

    def keyed(self) -> dict[SheetKey, SheetRow]:
        """The rows by what they describe (arm or subgroup)."""
        return {row.key: row for row in self.rows}


def read_sheet(path: str | Path) -> Sheet:
    """Read and validate one extraction sheet (``<study_id>/<extractor>.tsv``).

    Checks: file and folder names; columns; record types, CNIs, groupings and categories from
    their allowed sets; counts are non-negative integers; on arm rows outcomes, reasons, lines
    and sex each add up to n (when reported); subgroup counts fit inside their arm (n, every
    outcome, and the subgroups of one grouping together).

    Raises:
        InputFileError: the first problem found (the log lists every problem of the sheet).
    """
    problems = ProblemCollector()
    sheet = collect_sheet(path, problems)
    problems.raise_any()
    assert sheet is not None  # no problem means the sheet was read
    return sheet


def collect_sheet(path: str | Path, problems: ProblemCollector) -> Sheet | None:
    """Read one sheet, adding each of its problems to ``problems`` instead of raising.

    Returns the sheet (its valid rows), or ``None`` when the file cannot be read at all.
    """
    path = Path(path)
    try:
        table = read_table(path)
    except ReviewError as error:
        sheet_ids(path, problems)
        problems.add_error(error)
        return None
    return table_sheet(path, table, problems)


def table_sheet(path: str | Path, table: Table, problems: ProblemCollector) -> Sheet | None:
    """The sheet held in memory (``table``: header and rows, each with its file line), each
    problem added to ``problems``; ``None`` when its header is not a sheet's. ``path`` names
    the sheet (its folder is the study, its name the extractor); nothing is read."""
    path = Path(path)
    study_id, extractor = sheet_ids(path, problems)
    try:
        check_header(path, table.columns, allowed=SHEET_COLUMNS)
    except ReviewError as error:
        problems.add_error(error)
        return None
    rows = validate_sheet_rows(path, table.rows, problems, columns=table.columns)
    return Sheet(study_id=study_id, extractor=extractor, path=str(path), rows=rows)


def check_new_study(
    path: str | Path,
    study_id: str,
    baseline_ids: Set[str],
    included_study_ids: Set[str],
    problems: ProblemCollector,
) -> None:
    """A sheet is for a new study (not the published review's) included at full text."""
    if study_id in baseline_ids:
        problems.add(
            path,
            "study is part of the published review; extraction sheets are for new studies",
            value=study_id,
            allowed="a study id not in resources/baseline/studies.tsv",
        )
    elif study_id not in included_study_ids:
        problems.add(
            path,
            "study is not included at full text (no report linked to it in screening)",
            value=study_id,
            allowed=", ".join(sorted(set(included_study_ids) - set(baseline_ids)))
            or "no new study is included yet",
        )


def sheet_problems(
    path: str | Path, table: Table, baseline_ids: Set[str], included_study_ids: Set[str]
) -> list[Problem]:
    """Every problem the workflow finds in an extraction sheet held in memory (empty: valid),
    each with its file, line, field, value and what is allowed: the rules of every sheet
    (:func:`validate_sheet_rows`) and of its study (:func:`check_new_study`)."""
    problems = ProblemCollector()
    sheet = table_sheet(path, table, problems)
    if sheet is not None:
        check_new_study(path, sheet.study_id, baseline_ids, included_study_ids, problems)
    return problems.problems


def sheet_ids(path: Path, problems: ProblemCollector) -> tuple[str, str]:
    """The study id (folder name) and extractor id (file stem) of a sheet, checked."""
    study_id, extractor = path.parent.name, path.stem
    for name, what in ((study_id, "study folder"), (extractor, "extractor file name")):
        if not _SAFE_NAME.match(name):
            problems.add(
                path,
                f"{what} '{name}' is not a valid id",
                allowed="lower-case letters, digits, '.', '_' and '-'",
            )
    return study_id, extractor


def validate_sheet_rows(
    path: str | Path,
    raw_rows: Sequence[Mapping[str, str]],
    problems: ProblemCollector | None = None,
    columns: Sequence[str] | None = None,
) -> list[SheetRow]:
    """Validate the rows of one sheet; every rule of the README, one message per problem.

    ``raw_rows`` map column names to cell text; a row's ``__line__`` (as
    :func:`livingreview.io.read_tsv` gives it) is its line in the file, else its position
    counts (header = line 1). ``columns`` is the sheet's header (default: the keys of the
    rows); a required column missing from it is a problem, an optional one is read as empty.

    With ``problems`` given, each problem is added to it and the rows read are returned (a
    form can show every message); without, the first problem is raised as a
    :class:`~livingreview.errors.ValidationError` (the log lists them all).
    """
    collector = problems if problems is not None else ProblemCollector()
    before = collector.count
    present = set(columns) if columns is not None else {c for row in raw_rows for c in row}
    missing = [column for column in SHEET_REQUIRED_COLUMNS if column not in present]
    for column in missing:
        collector.add(
            path,
            "required column is missing; add it (other columns may be left out when empty)",
            line=1,
            field=column,
            allowed="columns " + ", ".join(SHEET_REQUIRED_COLUMNS) + " in every sheet",
        )
    if not raw_rows:
        collector.add(
            path, "sheet has no rows", line=2, allowed="one arm row per CNI, optional subgroup rows"
        )
    rows: list[SheetRow] = []
    if missing:  # every row would repeat the missing columns' problem
        raw_rows = []
    seen: set[SheetKey] = set()
    for position, raw in enumerate(raw_rows, start=2):
        row = _validate_row(str(path), raw, int(raw.get("__line__", position)), seen, collector)
        if row is not None:
            rows.append(row)
    if collector.count == before:  # sums across rows only make sense between valid rows
        _check_subgroups_fit(str(path), rows, collector)
    if problems is None:
        collector.raise_any()
    return rows


def _validate_row(
    path: str,
    raw: Mapping[str, str],
    line: int,
    seen: set[SheetKey],
    problems: ProblemCollector,
) -> SheetRow | None:
    """One row: its kind, its counts, its choices, then its sums (when the counts are valid)."""
    cells = {column: raw.get(column, "").strip() for column in SHEET_COLUMNS}
    record_type = cells["record_type"]
    if record_type not in RECORD_TYPES:
        problems.add(
            path,
            "unknown record type",
            line=line,
            field="record_type",
            value=record_type,
            allowed=", ".join(RECORD_TYPES),
        )
        return None
    before = problems.count
    _check_kind(path, cells, line, problems)
    counts = {
        column: _optional_count(path, cells, column, line, problems)
        for column in SHEET_COUNT_COLUMNS
    }
    counts_valid = problems.count == before
    _check_choice(path, cells, "dose_unit", DOSE_UNITS, "unknown dose unit", line, problems)
    _check_choice(
        path, cells, "trough_targeted", TROUGH_TARGETED, "value not allowed", line, problems
    )
    row = SheetRow(
        line=line,
        record_type=record_type,
        cni=cells["cni"],
        grouping=cells["grouping"],
        group=cells["group"],
        counts=counts,
        text={column: cells[column] for column in SHEET_TEXT_COLUMNS},
    )
    if row.key in seen:
        problems.add(
            path,
            "second row for the same arm or subgroup",
            line=line,
            field="record_type",
            value=" / ".join(k for k in row.key if k),
        )
    seen.add(row.key)
    if counts_valid:
        _check_sums(path, row, problems)
    return row


def _check_kind(path: str, cells: Mapping[str, str], line: int, problems: ProblemCollector) -> None:
    """CNI, grouping and group fit the record type, and its required counts are filled."""
    if cells["cni"] not in CNIS:
        problems.add(
            path, "unknown CNI", line=line, field="cni", value=cells["cni"], allowed=", ".join(CNIS)
        )
    if cells["record_type"] == "arm":
        for column in ("grouping", "group"):
            if cells[column]:
                problems.add(
                    path,
                    "must be empty on an arm row",
                    line=line,
                    field=column,
                    value=cells[column],
                )
        required, where = ARM_REQUIRED_COUNTS, "required on an arm row"
    else:
        grouping = cells["grouping"]
        if grouping not in CROSSTAB_GROUPS:
            problems.add(
                path,
                "unknown subgroup grouping",
                line=line,
                field="grouping",
                value=grouping,
                allowed=", ".join(CROSSTAB_GROUPS),
            )
        elif cells["group"] not in CROSSTAB_GROUPS[grouping]:
            problems.add(
                path,
                "unknown subgroup",
                line=line,
                field="group",
                value=cells["group"],
                allowed=", ".join(CROSSTAB_GROUPS[grouping]),
            )
        required, where = SUBGROUP_COUNTS, "required on a subgroup row"
    for column in required:
        if cells[column] == "":
            problems.add(
                path, where, line=line, field=column, value="", allowed="a non-negative integer"
            )


def _optional_count(
    path: str, cells: Mapping[str, str], column: str, line: int, problems: ProblemCollector
) -> int | None:
    """A count cell: ``None`` when empty (not reported), else a non-negative integer."""
    text = cells[column]
    if text == "":
        return None
    if not text.isdigit():
        problems.add(
            path,
            "must be a whole number of patients",
            line=line,
            field=column,
            value=text,
            allowed="a non-negative integer",
        )
        return None
    return int(text)


def _check_choice(
    path: str,
    cells: Mapping[str, str],
    column: str,
    allowed: Sequence[str],
    problem: str,
    line: int,
    problems: ProblemCollector,
) -> None:
    if cells[column] and cells[column] not in allowed:
        problems.add(
            path, problem, line=line, field=column, value=cells[column], allowed=", ".join(allowed)
        )


def _check_sums(path: str, row: SheetRow, problems: ProblemCollector) -> None:
    """Reported groups of counts add up to n; discontinuations fit inside n and each other."""
    n = row.count("n")
    for label, columns in ARM_SUMS if row.record_type == "arm" else SUBGROUP_SUMS:
        values = [row.counts[c] for c in columns]
        if all(v is None for v in values):
            continue
        missing = [c for c, v in zip(columns, values) if v is None]
        if missing:
            problems.add(
                path,
                f"{label}: fill all of {', '.join(columns)} or none",
                line=row.line,
                field=missing[0],
                value="",
            )
            continue
        total = sum(v for v in values if v is not None)
        if total != n:
            problems.add(
                path,
                f"{label} add up to {total}, not n = {n}",
                line=row.line,
                field=columns[0],
                allowed=" + ".join(columns) + " = n",
            )
    total_stopped = row.counts["discontinued_total"]
    stopped_for_events = row.counts["discontinued_adverse_events"]
    for column, value in (
        ("discontinued_total", total_stopped),
        ("discontinued_adverse_events", stopped_for_events),
    ):
        if value is not None and value > n:
            problems.add(path, f"exceeds n = {n}", line=row.line, field=column, value=value)
    if (
        stopped_for_events is not None
        and total_stopped is not None
        and stopped_for_events > total_stopped
    ):
        problems.add(
            path,
            "exceeds discontinued_total",
            line=row.line,
            field="discontinued_adverse_events",
            value=stopped_for_events,
        )


def _check_subgroups_fit(path: str, rows: Sequence[SheetRow], problems: ProblemCollector) -> None:
    """Each subgroup row, and the subgroups of one grouping together, fit inside their arm."""
    arms = {row.cni: row for row in rows if row.record_type == "arm"}
    subgroups = [row for row in rows if row.record_type == "subgroup"]
    for row in subgroups:
        arm = arms.get(row.cni)
        if arm is None:
            problems.add(
                path,
                f"subgroup row for {row.cni} but no arm row for it",
                line=row.line,
                field="cni",
                value=row.cni,
            )
            continue
        for column in SUBGROUP_COUNTS:
            if row.count(column) > arm.count(column):
                problems.add(
                    path,
                    f"subgroup count exceeds the arm's {column} = {arm.count(column)}",
                    line=row.line,
                    field=column,
                    value=row.count(column),
                )
    for cni, arm in arms.items():
        for grouping in CROSSTAB_GROUPS:
            members = [r for r in subgroups if r.cni == cni and r.grouping == grouping]
            for column in SUBGROUP_COUNTS:
                total = sum(r.count(column) for r in members)
                if members and total > arm.count(column):
                    problems.add(
                        path,
                        f"{grouping} subgroups together have {column} = {total}, "
                        f"more than the arm's {arm.count(column)}",
                        line=members[-1].line,
                        field=column,
                    )


def find_sheets(folder: str | Path) -> list[str]:
    """Every extraction sheet under ``folder``; anything else there is an error, not ignored.

    Allowed: ``README.md``, ``template.tsv``, the desk's ``journal.jsonl`` and
    ``<study_id>/<extractor>.tsv``; hidden files (editor backups, lock files) are passed over.
    """
    folder = Path(folder)
    sheets: list[str] = []
    if not folder.is_dir():
        return sheets
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() and len(relative.parts) == 1:
            continue
        if len(relative.parts) == 1 and relative.name in NOT_SHEETS:
            continue
        if path.is_file() and len(relative.parts) == 2 and path.suffix == ".tsv":
            sheets.append(str(path))
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        raise ValidationError(
            path,
            "is not read: extraction sheets go in <study_id>/<extractor>.tsv",
            allowed=f"{folder}/<study_id>/<extractor>.tsv (UTF-8, tab-separated; see {folder}/README.md)",
        )
    return sheets
