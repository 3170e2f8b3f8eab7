"""Which new studies enter the synthesis: dual extraction compared, adjudication honoured.

A new study is accepted when its folder holds an ``adjudicated.tsv`` sheet, or at least
``min_extractors`` extractors' sheets that agree cell for cell (free text compared ignoring
case and spacing; ``notes`` not compared). Until then it is listed in ``status.tsv`` and every
cell its extractors disagree on in ``discrepancies.tsv``. Accepted arms join the published
review's arms in ``studies.tsv``; accepted subgroup rows go to ``subgroups.tsv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..baseline import Baseline, load_baseline
from ..errors import ProblemCollector
from ..io import read_tsv
from ..text import ADJUDICATED_SHEET
from .sheets import (
    SHEET_COUNT_COLUMNS,
    SHEET_TEXT_COLUMNS,
    Sheet,
    SheetRow,
    check_new_study,
    collect_sheet,
)
from .tables import (
    ArmRow,
    DiscrepancyRow,
    StatusRow,
    SubgroupRow,
    arm_counts,
    baseline_study_rows,
    outcome_counts,
)

#: Columns whose differences between extractors do not hold a study back.
NOT_COMPARED: tuple[str, ...] = ("notes",)
#: Each study's status in ``status.tsv``.
ACCEPTED, DISCREPANCIES, AWAITING_EXTRACTION = "accepted", "discrepancies", "awaiting_extraction"


@dataclass
class ExtractionResult:
    """What the merge decided: accepted study rows, subgroup rows, discrepancies, status."""

    studies: list[ArmRow]
    subgroups: list[SubgroupRow]
    discrepancies: list[DiscrepancyRow]
    status: list[StatusRow]


@dataclass
class StudyDecision:
    """Where one new study's extraction stands, and the sheet accepted for it (if any)."""

    study_id: str
    status: str
    detail: str
    sheets: list[Sheet] = field(default_factory=list)
    accepted: Sheet | None = None
    discrepancies: list[DiscrepancyRow] = field(default_factory=list)

    def status_row(self) -> StatusRow:
        """The study's row of ``status.tsv``."""
        return StatusRow(
            study_id=self.study_id,
            status=self.status,
            sheets=", ".join(s.extractor for s in self.sheets),
            discrepancies=len(self.discrepancies),
            detail=self.detail,
        )


def compare_sheets(a: Sheet, b: Sheet) -> list[DiscrepancyRow]:
    """Every cell where two extractors' sheets for one study differ (missing rows included)."""
    differences: list[DiscrepancyRow] = []
    rows_a, rows_b = a.keyed(), b.keyed()
    for key in sorted(set(rows_a) | set(rows_b)):
        for column, value_a, value_b in _differing_cells(rows_a.get(key), rows_b.get(key)):
            record_type, cni, grouping, group = key
            differences.append(
                DiscrepancyRow(
                    study_id=a.study_id,
                    record_type=record_type,
                    cni=cni,
                    grouping=grouping,
                    group=group,
                    field=column,
                    extractor_a=a.extractor,
                    value_a="" if value_a is None else value_a,
                    extractor_b=b.extractor,
                    value_b="" if value_b is None else value_b,
                )
            )
    return differences


def _differing_cells(
    row_a: SheetRow | None, row_b: SheetRow | None
) -> list[tuple[str, int | str | None, int | str | None]]:
    """The cells two versions of one row disagree on; a row only one sheet has is one cell."""
    if row_a is None or row_b is None:
        return [("(row)", "present" if row_a else "missing", "present" if row_b else "missing")]
    return [
        (column, row_a.cell(column), row_b.cell(column))
        for column in (*SHEET_COUNT_COLUMNS, *SHEET_TEXT_COLUMNS)
        if column not in NOT_COMPARED and not _same(row_a.cell(column), row_b.cell(column))
    ]


def _same(a: object, b: object) -> bool:
    """Equal counts, or free text equal but for case and spacing.

    >>> _same("24 - 61", "24-61"), _same("Oral  Tacrolimus", "oral tacrolimus"), _same(3, None)
    (False, True, False)
    """
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return a == b


def read_study_sheets(
    sheet_paths: Sequence[str | Path], baseline_ids: set[str], included_study_ids: set[str]
) -> dict[str, list[Sheet]]:
    """Every sheet, validated, by study; each must be for a new study included at full text.

    Every problem of every sheet is collected (and logged) before the first is raised.
    """
    problems = ProblemCollector()
    by_study: dict[str, list[Sheet]] = {}
    for path in sorted(map(str, sheet_paths)):
        sheet = collect_sheet(path, problems)
        if sheet is None:
            continue
        check_new_study(path, sheet.study_id, baseline_ids, included_study_ids, problems)
        by_study.setdefault(sheet.study_id, []).append(sheet)
    problems.raise_any()
    return by_study


def decide_study(study_id: str, sheets: Sequence[Sheet], min_extractors: int) -> StudyDecision:
    """Accept the adjudicated sheet, or agreeing extractions, or say what is missing."""
    adjudicated = [s for s in sheets if s.extractor == ADJUDICATED_SHEET]
    extractors = [s for s in sheets if s.extractor != ADJUDICATED_SHEET]
    differences = [
        d
        for i, a in enumerate(extractors)
        for b in extractors[i + 1 :]
        for d in compare_sheets(a, b)
    ]
    decision = StudyDecision(study_id, "", "", sheets=list(sheets), discrepancies=differences)
    if adjudicated:
        decision.status, decision.detail = ACCEPTED, "adjudicated sheet"
        decision.accepted = adjudicated[0]
    elif differences:
        decision.status = DISCREPANCIES
        decision.detail = "extractors disagree; add adjudicated.tsv"
    elif len(extractors) < min_extractors:
        decision.status = AWAITING_EXTRACTION
        decision.detail = f"{len(extractors)} of {min_extractors} extractions"
    else:
        decision.status, decision.detail = ACCEPTED, f"{len(extractors)} agreeing extractions"
        decision.accepted = extractors[0]
    return decision


def awaiting_extraction(study_id: str, min_extractors: int) -> StudyDecision:
    """An included study no sheet has been written for yet."""
    return StudyDecision(
        study_id,
        AWAITING_EXTRACTION,
        f"included at full text; 0 of {min_extractors} extractions",
    )


def accepted_arm(study_id: str, sheet: Sheet, row: SheetRow, detail: str) -> ArmRow:
    """A study-table row from an accepted arm row.

    Reasons and lines not reported count as ``not_specified`` and ``unknown`` for all n
    patients, as the published review counts them; other counts not reported count as 0.
    """
    counts = arm_counts(lambda column: row.counts[column] or 0)
    if all(
        row.counts[c] is None
        for c in ("reason_insufficient_response", "reason_intolerance", "reason_not_specified")
    ):
        counts["reason_not_specified"] = row.count("n")
    if all(row.counts[c] is None for c in ("line_second", "line_third", "line_unknown")):
        counts["line_unknown"] = row.count("n")
    return ArmRow(
        study_id=study_id,
        cni=row.cni,
        label=study_id,
        design="",
        version="update",
        **counts,
        source_file=sheet.path,
        source_line=row.line,
        provenance=f"extraction sheet {Path(sheet.path).name} ({detail})",
    )


def accepted_subgroup(study_id: str, sheet: Sheet, row: SheetRow) -> SubgroupRow:
    """A ``subgroups.tsv`` row from an accepted subgroup row."""
    return SubgroupRow(
        study_id=study_id,
        cni=row.cni,
        grouping=row.grouping,
        group=row.group,
        **outcome_counts(row.count),
        source_file=sheet.path,
        source_line=row.line,
    )


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
    by_study = read_study_sheets(sheet_paths, baseline_ids, included_study_ids)
    decisions = [
        awaiting_extraction(study_id, min_extractors)
        for study_id in sorted(included_study_ids - baseline_ids - set(by_study))
    ] + [
        decide_study(study_id, sheets, min_extractors)
        for study_id, sheets in sorted(by_study.items())
    ]
    result = ExtractionResult(
        studies=baseline_study_rows(baseline),
        subgroups=[],
        discrepancies=[
            d
            for decision in decisions
            for d in decision.discrepancies
            if decision.status == DISCREPANCIES
        ],
        status=[decision.status_row() for decision in decisions],
    )
    for decision in decisions:
        sheet = decision.accepted
        if sheet is None:
            continue
        for row in sheet.rows:
            if row.record_type == "arm":
                result.studies.append(accepted_arm(decision.study_id, sheet, row, decision.detail))
            else:
                result.subgroups.append(accepted_subgroup(decision.study_id, sheet, row))
    return result


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
