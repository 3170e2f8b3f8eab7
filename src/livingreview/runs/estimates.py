"""Whether the pooled estimates moved: against the previous run record, or the previous version.

Consumes the synthesis stage's estimate tables (``outcomes.tsv``, ``tests.tsv``,
``meta_analysis.tsv``; small, so the run record keeps them whole in ``summary.json``), the
previous run record's copy of them and, for the first run record, ``whats_new.tsv``.
Produces the ``pooled_estimates`` part of the run record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from ..io import read_rows

#: Pooled-estimate tables and the columns that identify one row in each.
ESTIMATE_TABLES: dict[str, tuple[str, ...]] = {
    "outcomes.tsv": ("grouping", "group"),
    "tests.tsv": ("test",),
    "meta_analysis.tsv": ("analysis", "subgroup"),
}


class Movement(TypedDict):
    """One estimate that moved since the previous version (a row of whats_new.tsv)."""

    subgroup: str
    method: str
    previous_k: str
    k: str
    previous_estimate: str
    estimate: str
    change: str
    flag: str
    why: str


def read_estimate_tables(paths: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The pooled-estimate tables, as rows keyed by their path."""
    return {Path(path).as_posix(): read_rows(path) for path in sorted(paths)}


def _keyed(name: str, rows: Sequence[Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    columns = ESTIMATE_TABLES.get(Path(name).name, ())
    keyed: dict[str, Mapping[str, str]] = {}
    seen: Counter[str] = Counter()
    for row in rows:
        key = " / ".join(row.get(c, "") for c in columns) or "row"
        seen[key] += 1
        keyed[f"{key} #{seen[key]}" if seen[key] > 1 else key] = row
    return keyed


def compare_estimates(
    current: Mapping[str, Sequence[Mapping[str, str]]],
    previous: Mapping[str, Sequence[Mapping[str, str]]],
) -> list[str]:
    """Human-readable differences between two sets of estimate tables (empty: unchanged).

    >>> old = {"tests.tsv": [{"test": "fisher", "p_value": "0.116"}]}
    >>> compare_estimates(old, old)
    []
    >>> compare_estimates({"tests.tsv": [{"test": "fisher", "p_value": "0.2"}]}, old)
    ['tests.tsv: row fisher: p_value 0.116 -> 0.2']
    """
    differences: list[str] = []
    for name in sorted(set(current) | set(previous)):
        if name not in previous:
            differences.append(f"{name}: new table")
            continue
        if name not in current:
            differences.append(f"{name}: table no longer produced")
            continue
        now, before = _keyed(name, current[name]), _keyed(name, previous[name])
        for key in [*before, *(k for k in now if k not in before)]:
            if key not in now:
                differences.append(f"{name}: row {key} removed")
            elif key not in before:
                differences.append(f"{name}: row {key} added")
            else:
                for column in [*before[key], *(c for c in now[key] if c not in before[key])]:
                    old, new = before[key].get(column), now[key].get(column)
                    if old != new:
                        differences.append(f"{name}: row {key}: {column} {old} -> {new}")
    return differences


def _moved(row: Mapping[str, str]) -> bool:
    if row.get("previous_k") != row.get("k"):
        return True
    change = row.get("change")
    return change not in ("", None) and abs(float(str(change))) > 1e-12


def _movement(row: Mapping[str, str]) -> Movement:
    return Movement(
        subgroup=row.get("subgroup", ""),
        method=row.get("method", ""),
        previous_k=row.get("previous_k", ""),
        k=row.get("k", ""),
        previous_estimate=row.get("previous_estimate", ""),
        estimate=row.get("estimate", ""),
        change=row.get("change", ""),
        flag=row.get("flag", ""),
        why=row.get("why", ""),
    )


def versus_previous_version(whats_new: str | Path | None) -> dict[str, Any]:
    """Whether the pooled estimates differ from the previous version, from whats_new.tsv."""
    if whats_new is None:
        return {
            "changed": None,
            "differences": [],
            "note": "no earlier run record and no whats_new.tsv",
        }
    rows = read_rows(whats_new)
    moved = [_movement(row) for row in rows if _moved(row)]
    version = (
        rows[0].get("previous_version", "the previous version") if rows else "the previous version"
    )
    return {
        "changed": bool(moved),
        "differences": moved,
        "compared_with": version,
        "flagged": [f"{r['subgroup']} ({r['method']}): {r['why']}" for r in moved if r.get("flag")],
    }
