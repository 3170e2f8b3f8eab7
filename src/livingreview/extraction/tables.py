"""The tables the extraction stage writes, their rows as types, and reading them back.

Every later stage (synthesis, what's new, the run record) reads ``studies.tsv`` and
``subgroups.tsv`` through :func:`read_study_table` and :func:`read_subgroup_table`, so the
counts come back as integers in one place, with the file and line of a bad cell named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict

from ..baseline import ARM_COUNT_COLUMNS, OUTCOMES, Baseline, parse_count
from ..io import read_tsv

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
SUBGROUP_COUNTS: tuple[str, ...] = ("n", *OUTCOMES)
SUBGROUP_TABLE_COLUMNS: tuple[str, ...] = (
    "study_id",
    "cni",
    "grouping",
    "group",
    *SUBGROUP_COUNTS,
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


class OutcomeCounts(TypedDict):
    """Patients per outcome; they add up to ``n``."""

    n: int
    remission: int
    response: int
    failure: int
    unknown: int


class ArmCounts(OutcomeCounts):
    """An arm's counts: outcomes, reasons for starting and lines of treatment, each adding
    up to ``n`` (the columns :data:`livingreview.baseline.ARM_COUNT_COLUMNS` names)."""

    reason_insufficient_response: int
    reason_intolerance: int
    reason_not_specified: int
    line_second: int
    line_third: int
    line_unknown: int


class ArmRow(ArmCounts):
    """One row of ``studies.tsv``: one study's arm of one CNI in the current synthesis.

    ``version`` is ``baseline`` (the published review) or ``update`` (an accepted new
    extraction); ``source_file`` and ``source_line`` say where the counts were typed.
    """

    study_id: str
    cni: str
    label: str
    design: str
    version: str
    source_file: str
    source_line: int
    provenance: str


class SubgroupRow(OutcomeCounts):
    """One row of ``subgroups.tsv``: a new study's outcomes in one Fig. 2 group."""

    study_id: str
    cni: str
    grouping: str
    group: str
    source_file: str
    source_line: int


class DiscrepancyRow(TypedDict):
    """One row of ``discrepancies.tsv``: a cell two extractors' sheets disagree on."""

    study_id: str
    record_type: str
    cni: str
    grouping: str
    group: str
    field: str
    extractor_a: str
    value_a: object
    extractor_b: str
    value_b: object


class StatusRow(TypedDict):
    """One row of ``status.tsv``: where a new study's extraction stands."""

    study_id: str
    status: str
    sheets: str
    discrepancies: int
    detail: str


def outcome_counts(count: Callable[[str], int]) -> OutcomeCounts:
    """The outcome counts, each taken by ``count(column)``."""
    return OutcomeCounts(
        n=count("n"),
        remission=count("remission"),
        response=count("response"),
        failure=count("failure"),
        unknown=count("unknown"),
    )


def arm_counts(count: Callable[[str], int]) -> ArmCounts:
    """An arm's counts (the columns of ``ARM_COUNT_COLUMNS``), each taken by ``count(column)``."""
    return ArmCounts(
        **outcome_counts(count),
        reason_insufficient_response=count("reason_insufficient_response"),
        reason_intolerance=count("reason_intolerance"),
        reason_not_specified=count("reason_not_specified"),
        line_second=count("line_second"),
        line_third=count("line_third"),
        line_unknown=count("line_unknown"),
    )


def cell_counter(path: str | Path, row: Mapping[str, str]) -> Callable[[str], int]:
    """``count(column)`` for a row read from a table: the cell as a non-negative integer, or
    a :class:`~livingreview.errors.ValidationError` naming file, line and field."""
    return lambda column: parse_count(path, row, column)


def _integer(value: object) -> int:
    if isinstance(value, int):
        return value
    raise TypeError(f"expected a validated integer count, got {value!r}")


def baseline_study_rows(baseline: Baseline) -> list[ArmRow]:
    """The published review's arms as study-table rows (version ``baseline``)."""
    studies = {s["study_id"]: s for s in baseline.studies}
    rows = []
    for arm in baseline.arms:
        study = studies[str(arm["study_id"])]
        rows.append(
            ArmRow(
                study_id=str(arm["study_id"]),
                cni=str(arm["cni"]),
                label=study["label"],
                design=study["design"],
                version="baseline",
                **arm_counts(lambda column: _integer(arm[column])),
                source_file=str(arm["source_file"]),
                source_line=_integer(arm["source_line"]),
                provenance=str(arm["provenance"]),
            )
        )
    return rows


def read_study_table(path: str | Path) -> list[ArmRow]:
    """Read ``studies.tsv`` back with its counts as integers."""
    return [
        ArmRow(
            study_id=row["study_id"],
            cni=row["cni"],
            label=row["label"],
            design=row["design"],
            version=row["version"],
            **arm_counts(cell_counter(path, row)),
            source_file=row["source_file"],
            source_line=parse_count(path, row, "source_line"),
            provenance=row["provenance"],
        )
        for row in read_tsv(path, required=STUDY_TABLE_COLUMNS)
    ]


def read_subgroup_table(path: str | Path) -> list[SubgroupRow]:
    """Read ``subgroups.tsv`` back with its counts as integers."""
    return [
        SubgroupRow(
            study_id=row["study_id"],
            cni=row["cni"],
            grouping=row["grouping"],
            group=row["group"],
            **outcome_counts(cell_counter(path, row)),
            source_file=row["source_file"],
            source_line=parse_count(path, row, "source_line"),
        )
        for row in read_tsv(path, required=SUBGROUP_TABLE_COLUMNS)
    ]
