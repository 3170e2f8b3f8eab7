"""Studies in the current synthesis: the published review's arms plus accepted new extractions.

Consumes the validated baseline (:mod:`livingreview.baseline`) and produces the study table
``results/extraction/studies.tsv``: one row per study and CNI, with the counts the synthesis
uses and where each row came from (file and line), so an auditor can trace every pooled
number back to its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .baseline import ARM_COUNT_COLUMNS, Baseline, parse_count
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


def read_study_table(path: str | Path) -> list[dict[str, object]]:
    """Read ``studies.tsv`` back with its counts as integers."""
    rows = read_tsv(path, required=STUDY_TABLE_COLUMNS)
    out: list[dict[str, object]] = []
    for row in rows:
        parsed: dict[str, object] = dict(row)
        for column in ARM_COUNT_COLUMNS:
            parsed[column] = parse_count(path, row, column)
        out.append(parsed)
    return out


def check_unique_arms(rows: Sequence[Mapping[str, object]], path: str | Path) -> None:
    """One row per (study, CNI): a second one would double-count patients."""
    seen: set[tuple[object, object]] = set()
    for index, row in enumerate(rows, start=2):
        key = (row["study_id"], row["cni"])
        if key in seen:
            raise ValidationError(path, "study and CNI appear twice", line=index, field="study_id", value=key)
        seen.add(key)
