"""Tables in, tables out: validate study rows, pool every subgroup with every method.

:func:`pool` is the entry point of the synthesis rule and of ``bin/pool`` (:func:`pool_file`).
Input rows (a TSV read with :func:`read_studies`, mappings, or a pandas DataFrame) have
``study, subgroup, n, events``; output rows are :class:`~livingreview.meta.results.PooledRow`
in the ``meta_analysis.tsv`` layout.

Validation (:func:`validate_rows`): ``n`` is an integer >= 1, ``events`` an integer in
``0..n``, ``study`` is not empty and not repeated within a subgroup, and every subgroup has
at least 2 studies; each error names the file, line, field and value.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputFileError, ValidationError
from ..io import read_tsv, write_tsv
from .glmm import pool_glmm
from .logit import pool_inverse_variance
from .results import COLUMNS, INPUT_COLUMNS, METHODS, Pooled, PooledRow, StudyCount

log = logging.getLogger(__name__)

_INTEGER = re.compile(r"^\s*\d+\s*$")


def _as_count(value: object) -> int | None:
    """A non-negative integer from a cell, or None when it is not one.

    >>> _as_count("12"), _as_count(3.0), _as_count("3.5"), _as_count("-1"), _as_count(True)
    (12, 3, None, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if value >= 0 else None
    if isinstance(value, (float, np.floating)):
        return (
            int(value)
            if math.isfinite(value) and float(value).is_integer() and value >= 0
            else None
        )
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


def _records(rows: Any) -> list[dict[str, Any]]:
    """Rows as dicts with a ``__line__`` (header = line 1) from a DataFrame or mappings."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        missing = [c for c in INPUT_COLUMNS if c not in rows.columns]
        if missing:
            raise InputFileError(
                "<table>",
                f"missing column(s) {', '.join(missing)}",
                line=1,
                allowed=", ".join(INPUT_COLUMNS),
            )
        records = rows.to_dict(orient="records")
    else:
        records = [dict(row) for row in rows]
    out = []
    for position, record in enumerate(records, start=2):
        record.setdefault("__line__", position)
        out.append(record)
    return out


def _text(value: object) -> str:
    """A label cell as text: missing values (None, pandas' NaN) are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def study_count(record: Mapping[str, Any], source: str | Path) -> StudyCount:
    """One input row, checked: columns present, a study name, 0 <= events <= n, n >= 1."""
    line = int(record["__line__"]) if record.get("__line__") not in (None, "") else None
    for column in INPUT_COLUMNS:
        if column not in record:
            raise InputFileError(
                source,
                f"missing column '{column}'",
                line=line,
                field=column,
                allowed=", ".join(INPUT_COLUMNS),
            )
    study = "" if record["study"] is None else str(record["study"]).strip()
    if not study or study.lower() == "nan":
        raise ValidationError(
            source,
            "study name is empty",
            line=line,
            field="study",
            value=record["study"],
            allowed="a non-empty study label",
        )
    counts = {}
    for column in ("n", "events"):
        value = _as_count(record[column])
        if value is None:
            raise ValidationError(
                source,
                "is not a non-negative integer",
                line=line,
                field=column,
                value=record[column],
                allowed="whole numbers 0, 1, 2, ... (n at least 1)",
            )
        counts[column] = value
    if counts["n"] == 0:
        raise ValidationError(
            source,
            "a study with n = 0 has no patients to pool",
            line=line,
            field="n",
            value=record["n"],
            allowed="n >= 1; drop the row",
        )
    if counts["events"] > counts["n"]:
        raise ValidationError(
            source,
            f"events exceed n = {counts['n']}",
            line=line,
            field="events",
            value=record["events"],
            allowed=f"0..{counts['n']}",
        )
    return StudyCount(study, _text(record["subgroup"]), counts["n"], counts["events"], line)


def _check_groups(groups: Mapping[str, Sequence[StudyCount]], source: str | Path) -> None:
    """Every subgroup can be pooled: the table has rows, each subgroup at least 2 studies."""
    if not groups:
        raise ValidationError(
            source, "has no study rows", line=1, allowed="at least 2 studies per subgroup"
        )
    for subgroup, studies in groups.items():
        if len(studies) < 2:
            label = f"subgroup '{subgroup}'" if subgroup else "the table (no subgroup)"
            raise ValidationError(
                source,
                f"{label} has only {len(studies)} study; pooling needs at least 2",
                line=studies[0].line,
                field="subgroup",
                value=subgroup,
                allowed="2 or more studies per subgroup; add studies or remove the subgroup",
            )


def validate_rows(rows: Any, source: str | Path = "<table>") -> dict[str, list[StudyCount]]:
    """Check input rows and group them by subgroup (in order of first appearance).

    Raises:
        ValidationError: a count is not a non-negative integer, events > n, n = 0, a study
            name is empty or repeated within its subgroup, or a subgroup has < 2 studies.
    """
    groups: dict[str, list[StudyCount]] = {}
    seen: dict[tuple[str, str], int | None] = {}
    for record in _records(rows):
        study = study_count(record, source)
        key = (study.subgroup, study.study)
        if key in seen:
            raise ValidationError(
                source,
                f"study '{study.study}' appears twice in subgroup '{study.subgroup}' "
                f"(also line {seen[key]})",
                line=study.line,
                field="study",
                value=study.study,
                allowed="one row per study and subgroup; merge or rename the rows",
            )
        seen[key] = study.line
        groups.setdefault(study.subgroup, []).append(study)
    _check_groups(groups, source)
    return groups


def pool_group(
    studies: Sequence[StudyCount], methods: Sequence[str] = METHODS, level: float = 0.95
) -> list[Pooled]:
    """All requested methods for one group of validated studies."""
    events = [s.events for s in studies]
    n = [s.n for s in studies]
    label = f"subgroup {studies[0].subgroup or '(all studies)'}: "
    results = []
    for method in methods:
        if method == "GLMM":
            result = pool_glmm(events, n, level)
            if not result.converged:
                log.warning("%s%s", label, result.message)
        else:
            result = pool_inverse_variance(events, n, method, level, label)
        results.append(result)
    return results


def pool(
    rows: Any,
    analysis: str = "",
    source: str | Path = "<table>",
    methods: Sequence[str] = METHODS,
    level: float = 0.95,
) -> list[PooledRow]:
    """Pool every subgroup of ``rows`` (DataFrame or mappings with study, subgroup, n, events).

    Returns rows in the ``meta_analysis.tsv`` layout (:data:`COLUMNS`): per subgroup, in
    order of first appearance, one row per method (DL, REML, GLMM). Statistics are floats;
    a GLMM that did not converge has ``None`` in every statistic.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; allowed: {', '.join(METHODS)}")
    out = []
    for subgroup, studies in validate_rows(rows, source).items():
        for result in pool_group(studies, methods, level):
            out.append(result.as_row(analysis, subgroup))
    return out


def read_studies(path: str | Path) -> list[dict[str, str]]:
    """Read a ``study, subgroup, n, events`` TSV (other columns are allowed and ignored)."""
    return read_tsv(path, required=INPUT_COLUMNS)


def pool_file(studies_path: str | Path, out_path: str | Path) -> list[PooledRow]:
    """``bin/pool``: pool a studies TSV and write the result atomically (analysis = stem)."""
    studies_path = Path(studies_path)
    rows = pool(read_studies(studies_path), analysis=studies_path.stem, source=studies_path)
    write_tsv(out_path, rows, COLUMNS)
    return rows
