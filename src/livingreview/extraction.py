"""Studies in the current synthesis: the published review's arms plus accepted new extractions.

Consumes the validated baseline (:mod:`livingreview.baseline`), the human extraction sheets in
``resources/extraction/<study_id>/<extractor>.tsv`` (read only) and the full-text inclusions
of the screening stage, and produces:

- ``studies.tsv``: one row per study and CNI in the current synthesis (baseline + accepted new
  studies), with the counts the synthesis uses and the file and line each row came from;
- ``subgroups.tsv``: accepted new studies' outcome counts by reason for starting and by line,
  which the synthesis adds to the previous version's Fig. 2 cross-tabulations;
- ``discrepancies.tsv``: every cell where two extractors' sheets for one study differ, until an
  ``adjudicated.tsv`` sheet in the study's folder resolves them;
- ``status.tsv``: per new study, whether its extraction is accepted and why not.

A sheet has one row per CNI arm (``record_type = arm``) and optional subgroup rows
(``record_type = subgroup`` with ``grouping`` and ``group``). See
``resources/extraction/README.md`` for the columns and the rules checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .baseline import (
    ARM_COUNT_COLUMNS,
    CNIS,
    CROSSTAB_GROUPS,
    OUTCOMES,
    Baseline,
    load_baseline,
    parse_count,
)
from .errors import ValidationError
from .io import read_tsv

STUDY_TABLE_COLUMNS: tuple[str, ...] = (
    "study_id",
    "cni",
    "label",
    "design",
    "version",
    *ARM_COUNT_COLUMNS,
    "source_file",
    "source_line",
    "provenance",
)


def baseline_study_rows(baseline: Baseline) -> list[dict[str, object]]:
    """The published review's arms as study-table rows (version ``baseline``)."""
    studies = {s["study_id"]: s for s in baseline.studies}
    rows = []
    for arm in baseline.arms:
        study = studies[str(arm["study_id"])]
        rows.append(
            {
                "study_id": arm["study_id"],
                "cni": arm["cni"],
                "label": study["label"],
                "design": study["design"],
                "version": "baseline",
                **{column: arm[column] for column in ARM_COUNT_COLUMNS},
                "source_file": arm["source_file"],
                "source_line": arm["source_line"],
                "provenance": arm["provenance"],
            }
        )
    return rows


def _read_counts(
    path: str | Path, required: Sequence[str], counts: Sequence[str]
) -> list[dict[str, object]]:
    """Read a table this stage wrote, with its count columns back as integers."""
    rows = read_tsv(path, required=required)
    out: list[dict[str, object]] = []
    for row in rows:
        parsed: dict[str, object] = dict(row)
        for column in counts:
            parsed[column] = parse_count(path, row, column)
        out.append(parsed)
    return out


def read_study_table(path: str | Path) -> list[dict[str, object]]:
    """Read ``studies.tsv`` back with its counts as integers."""
    return _read_counts(path, STUDY_TABLE_COLUMNS, ARM_COUNT_COLUMNS)


def read_subgroup_table(path: str | Path) -> list[dict[str, object]]:
    """Read ``subgroups.tsv`` back with its counts as integers."""
    return _read_counts(path, SUBGROUP_TABLE_COLUMNS, SUBGROUP_COUNTS)


# --------------------------------------------------------------------------------------
# Extraction sheets for new studies
# --------------------------------------------------------------------------------------

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
#: Count columns that must be filled on arm rows (the rest may be empty = not reported).
ARM_REQUIRED_COUNTS: tuple[str, ...] = ("n", *OUTCOMES)
SUBGROUP_COUNTS: tuple[str, ...] = ("n", *OUTCOMES)
DOSE_UNITS: tuple[str, ...] = ("mg/day", "mg/kg/day")
TROUGH_TARGETED: tuple[str, ...] = ("yes", "no", "unknown")
ADJUDICATED_SHEET = "adjudicated"
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

SUBGROUP_TABLE_COLUMNS: tuple[str, ...] = (
    "study_id",
    "cni",
    "grouping",
    "group",
    "n",
    *OUTCOMES,
    "source_file",
    "source_line",
)
DISCREPANCY_COLUMNS: tuple[str, ...] = (
    "study_id",
    "record_type",
    "cni",
    "grouping",
    "group",
    "field",
    "extractor_a",
    "value_a",
    "extractor_b",
    "value_b",
)
STATUS_COLUMNS: tuple[str, ...] = ("study_id", "status", "sheets", "discrepancies", "detail")


@dataclass
class Sheet:
    """One extractor's validated sheet for one study."""

    study_id: str
    extractor: str
    path: str
    rows: list[dict[str, object]] = field(default_factory=list)

    def keyed(self) -> dict[tuple[str, str, str, str], dict[str, object]]:
        return {tuple(str(r[c]) for c in SHEET_KEY_COLUMNS): r for r in self.rows}  # type: ignore[misc]


def _optional_count(path: str, row: dict[str, str], column: str) -> int | None:
    if row.get(column, "").strip() == "":
        return None
    return parse_count(path, row, column)


def _fail(
    path: str,
    row: Mapping[str, object],
    problem: str,
    column: str,
    value: object = None,
    allowed: str | None = None,
) -> None:
    raise ValidationError(
        path, problem, line=int(str(row["__line__"])), field=column, value=value, allowed=allowed
    )


def read_sheet(path: str | Path) -> Sheet:
    """Read and validate one extraction sheet (``<study_id>/<extractor>.tsv``).

    Checks: columns; record types, CNIs, groupings and categories from their allowed sets;
    counts are non-negative integers; on arm rows outcomes, reasons, lines and sex each add
    up to n (when reported); subgroup counts fit inside their arm (n, every outcome, and the
    subgroups of one grouping together).
    """
    path = Path(path)
    study_id, extractor = path.parent.name, path.stem
    for name, what in ((study_id, "study folder"), (extractor, "extractor file name")):
        if not _SAFE_NAME.match(name):
            raise ValidationError(
                path,
                f"{what} '{name}' is not a valid id",
                allowed="lower-case letters, digits, '.', '_' and '-'",
            )
    text_path = str(path)
    raw_rows = read_tsv(path, required=SHEET_COLUMNS, allowed=SHEET_COLUMNS)
    if not raw_rows:
        raise ValidationError(
            path, "sheet has no rows", line=2, allowed="one arm row per CNI, optional subgroup rows"
        )
    sheet = Sheet(study_id=study_id, extractor=extractor, path=text_path)
    seen: set[tuple[str, ...]] = set()
    for raw in raw_rows:
        row: dict[str, object] = {k: v.strip() for k, v in raw.items()}
        record_type = str(row["record_type"])
        if record_type not in ("arm", "subgroup"):
            _fail(
                text_path, row, "unknown record type", "record_type", record_type, "arm, subgroup"
            )
        if row["cni"] not in CNIS:
            _fail(text_path, row, "unknown CNI", "cni", row["cni"], ", ".join(CNIS))
        if record_type == "arm":
            for column in ("grouping", "group"):
                if row[column]:
                    _fail(text_path, row, "must be empty on an arm row", column, row[column])
            for column in ARM_REQUIRED_COUNTS:
                if raw[column].strip() == "":
                    _fail(
                        text_path,
                        row,
                        "required on an arm row",
                        column,
                        "",
                        "a non-negative integer",
                    )
        else:
            grouping = str(row["grouping"])
            if grouping not in CROSSTAB_GROUPS:
                _fail(
                    text_path,
                    row,
                    "unknown subgroup grouping",
                    "grouping",
                    grouping,
                    ", ".join(CROSSTAB_GROUPS),
                )
            if row["group"] not in CROSSTAB_GROUPS[grouping]:
                _fail(
                    text_path,
                    row,
                    "unknown subgroup",
                    "group",
                    row["group"],
                    ", ".join(CROSSTAB_GROUPS[grouping]),
                )
            for column in SUBGROUP_COUNTS:
                if raw[column].strip() == "":
                    _fail(
                        text_path,
                        row,
                        "required on a subgroup row",
                        column,
                        "",
                        "a non-negative integer",
                    )
        for column in SHEET_COUNT_COLUMNS:
            row[column] = _optional_count(text_path, raw, column)
        if row["dose_unit"] and row["dose_unit"] not in DOSE_UNITS:
            _fail(
                text_path,
                row,
                "unknown dose unit",
                "dose_unit",
                row["dose_unit"],
                ", ".join(DOSE_UNITS),
            )
        if row["trough_targeted"] and row["trough_targeted"] not in TROUGH_TARGETED:
            _fail(
                text_path,
                row,
                "value not allowed",
                "trough_targeted",
                row["trough_targeted"],
                ", ".join(TROUGH_TARGETED),
            )
        key = tuple(str(row[c]) for c in SHEET_KEY_COLUMNS)
        if key in seen:
            _fail(
                text_path,
                row,
                "second row for the same arm or subgroup",
                "record_type",
                " / ".join(k for k in key if k),
            )
        seen.add(key)
        _check_sums(text_path, row)
        sheet.rows.append(row)
    _check_subgroups_fit(sheet)
    return sheet


def _check_sums(path: str, row: Mapping[str, object]) -> None:
    n = row["n"]
    groups = [("outcomes", list(OUTCOMES))]
    if row["record_type"] == "arm":
        groups += [
            (
                "reasons for starting",
                ["reason_insufficient_response", "reason_intolerance", "reason_not_specified"],
            ),
            ("lines of treatment", ["line_second", "line_third", "line_unknown"]),
            ("sexes", ["female", "male", "sex_unknown"]),
        ]
    for label, columns in groups:
        values = [row[c] for c in columns]
        if all(v is None for v in values):
            continue
        if any(v is None for v in values):
            _fail(
                path,
                row,
                f"{label}: fill all of {', '.join(columns)} or none",
                columns[[v is None for v in values].index(True)],
                "",
            )
        total = sum(int(v) for v in values)  # type: ignore[arg-type]
        if total != n:
            _fail(
                path,
                row,
                f"{label} add up to {total}, not n = {n}",
                columns[0],
                allowed=" + ".join(columns) + " = n",
            )
    for column in ("discontinued_total", "discontinued_adverse_events"):
        if row[column] is not None and int(row[column]) > int(n):  # type: ignore[arg-type]
            _fail(path, row, f"exceeds n = {n}", column, row[column])
    if (
        row["discontinued_adverse_events"] is not None
        and row["discontinued_total"] is not None
        and int(row["discontinued_adverse_events"]) > int(row["discontinued_total"])
    ):  # type: ignore[arg-type]
        _fail(
            path,
            row,
            "exceeds discontinued_total",
            "discontinued_adverse_events",
            row["discontinued_adverse_events"],
        )


def _check_subgroups_fit(sheet: Sheet) -> None:
    arms = {r["cni"]: r for r in sheet.rows if r["record_type"] == "arm"}
    for row in sheet.rows:
        if row["record_type"] != "subgroup":
            continue
        arm = arms.get(row["cni"])
        if arm is None:
            _fail(
                sheet.path,
                row,
                f"subgroup row for {row['cni']} but no arm row for it",
                "cni",
                row["cni"],
            )
        for column in SUBGROUP_COUNTS:
            if int(row[column]) > int(arm[column]):  # type: ignore[index, arg-type]
                _fail(
                    sheet.path,
                    row,
                    f"subgroup count exceeds the arm's {column} = {arm[column]}",
                    column,
                    row[column],
                )  # type: ignore[index]
    for cni, arm in arms.items():
        for grouping in CROSSTAB_GROUPS:
            members = [
                r
                for r in sheet.rows
                if r["record_type"] == "subgroup" and r["cni"] == cni and r["grouping"] == grouping
            ]
            for column in SUBGROUP_COUNTS:
                total = sum(int(r[column]) for r in members)  # type: ignore[arg-type]
                if members and total > int(arm[column]):  # type: ignore[arg-type]
                    _fail(
                        sheet.path,
                        members[-1],
                        f"{grouping} subgroups together have {column} = {total}, more than the arm's {arm[column]}",
                        column,
                    )


def compare_sheets(a: Sheet, b: Sheet) -> list[dict[str, object]]:
    """Every cell where two extractors' sheets for one study differ (missing rows included)."""
    differences: list[dict[str, object]] = []
    rows_a, rows_b = a.keyed(), b.keyed()
    for key in sorted(set(rows_a) | set(rows_b)):
        row_a, row_b = rows_a.get(key), rows_b.get(key)
        columns = (
            ("(row)",)
            if row_a is None or row_b is None
            else (*SHEET_COUNT_COLUMNS, *SHEET_TEXT_COLUMNS)
        )
        for column in columns:
            if column == "(row)":
                value_a, value_b = (
                    ("present" if row_a else "missing"),
                    ("present" if row_b else "missing"),
                )
            else:
                value_a, value_b = row_a[column], row_b[column]  # type: ignore[index]
                if column == "notes" or _same(value_a, value_b):
                    continue
            differences.append(
                {
                    "study_id": a.study_id,
                    **dict(zip(SHEET_KEY_COLUMNS, key)),
                    "field": column,
                    "extractor_a": a.extractor,
                    "value_a": "" if value_a is None else value_a,
                    "extractor_b": b.extractor,
                    "value_b": "" if value_b is None else value_b,
                }
            )
    return differences


def _same(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return a == b


@dataclass
class ExtractionResult:
    """What the merge decided: accepted study rows, subgroup rows, discrepancies, status."""

    studies: list[dict[str, object]]
    subgroups: list[dict[str, object]]
    discrepancies: list[dict[str, object]]
    status: list[dict[str, object]]


def merge_extractions(
    baseline: Baseline,
    sheet_paths: Sequence[str | Path],
    included_study_ids: set[str],
    min_extractors: int = 2,
) -> ExtractionResult:
    """Baseline arms plus new studies whose extraction is accepted.

    A new study is accepted when it has an ``adjudicated.tsv`` sheet, or at least
    ``min_extractors`` extractors' sheets that agree cell for cell. Its study id must be
    included at full text (``included_study_ids``) and must not be a baseline study.
    """
    baseline_ids = {s["study_id"] for s in baseline.studies}
    by_study: dict[str, list[Sheet]] = {}
    for path in sorted(map(str, sheet_paths)):
        sheet = read_sheet(path)
        if sheet.study_id in baseline_ids:
            raise ValidationError(
                path,
                "study is part of the published review; extraction sheets are for new studies",
                value=sheet.study_id,
                allowed="a study id not in resources/baseline/studies.tsv",
            )
        if sheet.study_id not in included_study_ids:
            raise ValidationError(
                path,
                "study is not included at full text (no report linked to it in screening)",
                value=sheet.study_id,
                allowed=", ".join(sorted(included_study_ids - baseline_ids))
                or "no new study is included yet",
            )
        by_study.setdefault(sheet.study_id, []).append(sheet)

    studies = baseline_study_rows(baseline)
    subgroups: list[dict[str, object]] = []
    discrepancies: list[dict[str, object]] = []
    status: list[dict[str, object]] = []
    for study_id in sorted(included_study_ids - baseline_ids - set(by_study)):
        status.append(
            {
                "study_id": study_id,
                "status": "awaiting_extraction",
                "sheets": "",
                "discrepancies": 0,
                "detail": f"included at full text; 0 of {min_extractors} extractions",
            }
        )
    for study_id, sheets in sorted(by_study.items()):
        adjudicated = [s for s in sheets if s.extractor == ADJUDICATED_SHEET]
        extractors = [s for s in sheets if s.extractor != ADJUDICATED_SHEET]
        differences = [
            d
            for i, a in enumerate(extractors)
            for b in extractors[i + 1 :]
            for d in compare_sheets(a, b)
        ]
        names = ", ".join(s.extractor for s in sheets)
        if adjudicated:
            accepted, state, detail = adjudicated[0], "accepted", "adjudicated sheet"
        elif differences:
            accepted, state, detail = (
                None,
                "discrepancies",
                "extractors disagree; add adjudicated.tsv",
            )
            discrepancies += differences
        elif len(extractors) < min_extractors:
            accepted, state = None, "awaiting_extraction"
            detail = f"{len(extractors)} of {min_extractors} extractions"
        else:
            accepted, state, detail = (
                extractors[0],
                "accepted",
                f"{len(extractors)} agreeing extractions",
            )
        status.append(
            {
                "study_id": study_id,
                "status": state,
                "sheets": names,
                "discrepancies": len(differences),
                "detail": detail,
            }
        )
        if accepted is None:
            continue
        for row in accepted.rows:
            if row["record_type"] == "arm":
                counts = {c: (row[c] if row[c] is not None else 0) for c in ARM_COUNT_COLUMNS}
                if all(
                    row[c] is None
                    for c in (
                        "reason_insufficient_response",
                        "reason_intolerance",
                        "reason_not_specified",
                    )
                ):
                    counts["reason_not_specified"] = row["n"]
                if all(row[c] is None for c in ("line_second", "line_third", "line_unknown")):
                    counts["line_unknown"] = row["n"]
                studies.append(
                    {
                        "study_id": study_id,
                        "cni": row["cni"],
                        "label": study_id,
                        "design": "",
                        "version": "update",
                        **counts,
                        "source_file": accepted.path,
                        "source_line": row["__line__"],
                        "provenance": f"extraction sheet {Path(accepted.path).name} ({detail})",
                    }
                )
            else:
                subgroups.append(
                    {
                        "study_id": study_id,
                        "cni": row["cni"],
                        "grouping": row["grouping"],
                        "group": row["group"],
                        **{c: row[c] for c in SUBGROUP_COUNTS},
                        "source_file": accepted.path,
                        "source_line": row["__line__"],
                    }
                )
    return ExtractionResult(
        studies=studies, subgroups=subgroups, discrepancies=discrepancies, status=status
    )


def find_sheets(folder: str | Path) -> list[str]:
    """Every extraction sheet under ``folder``; anything else there is an error, not ignored.

    Allowed: ``README.md``, ``template.tsv`` and ``<study_id>/<extractor>.tsv``.
    """
    folder = Path(folder)
    sheets: list[str] = []
    if not folder.is_dir():
        return sheets
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() and len(relative.parts) == 1:
            continue
        if len(relative.parts) == 1 and relative.name in ("README.md", "template.tsv"):
            continue
        if path.is_file() and len(relative.parts) == 2 and path.suffix == ".tsv":
            sheets.append(str(path))
            continue
        if any(part.startswith(".") for part in relative.parts):  # editor backups, lock files
            continue
        raise ValidationError(
            path,
            "is not read: extraction sheets go in <study_id>/<extractor>.tsv",
            allowed=f"{folder}/<study_id>/<extractor>.tsv (UTF-8, tab-separated; see {folder}/README.md)",
        )
    return sheets


def included_study_ids(path: str | Path) -> set[str]:
    """Study ids that full-text screening linked at least one included report to."""
    return {
        row["study_id"].strip()
        for row in read_tsv(path, required=("study_id",))
        if row["study_id"].strip()
    }


def check_sheets(
    baseline_dir: str | Path,
    sheets: Sequence[str | Path],
    included_reports: str | Path | None,
    min_extractors: int,
) -> None:
    """Validate every extraction sheet exactly as :func:`merge_extractions` does, writing
    nothing (the ``check_extraction_sheets`` rule; see :mod:`livingreview.checks`)."""
    included = included_study_ids(included_reports) if included_reports else set()
    merge_extractions(load_baseline(baseline_dir), list(sheets), included, min_extractors)
