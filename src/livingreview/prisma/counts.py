"""Counts of the ledger: per box of a flow, labelled breakdowns, and the wide count table.

``counts.tsv`` (one row per box and per label of the multi-valued boxes, one column per
flow) is what the report shows and what the diagram is drawn from, so the diagram can only
show what the ledger counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import InputFileError
from ..io import read_tsv
from .ledger import LedgerRow, flows_of
from .template import BOXES, MULTI_BOXES, NO_REASON


def flow_counts(ledger: Iterable[LedgerRow], flow: str) -> dict[str, int]:
    """Number of ledger rows per box of one flow (every box present, 0 when empty)."""
    counts = dict.fromkeys(BOXES, 0)
    for row in ledger:
        if row["flow"] == flow:
            counts[row["box"]] = counts.get(row["box"], 0) + 1
    return counts


def flow_breakdowns(ledger: Iterable[LedgerRow], flow: str) -> dict[str, list[tuple[str, int]]]:
    """Labelled counts of the multi-valued boxes of one flow, most frequent first."""
    counters: dict[str, Counter[str]] = {box: Counter() for box in MULTI_BOXES}
    for row in ledger:
        if row["flow"] == flow and row["box"] in counters:
            counters[row["box"]][row["detail"] or NO_REASON] += 1
    return {
        box: sorted(c.items(), key=lambda item: (-item[1], item[0])) for box, c in counters.items()
    }


def count_table(ledger: Sequence[LedgerRow]) -> tuple[list[dict[str, object]], list[str]]:
    """Wide table: one row per box (and per label of the multi boxes), one column per flow."""
    flows = flows_of(ledger)
    rows_of: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in ledger:  # one pass, not one per flow (update runs accumulate)
        rows_of[row["flow"]].append(row)
    per_flow = {f: (flow_counts(rows_of[f], f), flow_breakdowns(rows_of[f], f)) for f in flows}
    rows: list[dict[str, object]] = []
    for box in BOXES:
        rows.append({"box": box, "label": "", **{f: per_flow[f][0][box] for f in flows}})
        if box in MULTI_BOXES:
            labels = dict.fromkeys(label for f in flows for label, _ in per_flow[f][1][box])
            for label in labels:
                rows.append(
                    {
                        "box": box,
                        "label": label,
                        **{f: dict(per_flow[f][1][box]).get(label, 0) for f in flows},
                    }
                )
    return rows, ["box", "label", *flows]


#: Per flow: box -> count.
FlowCounts = dict[str, dict[str, int]]
#: Per flow: multi-valued box -> [(label, count)].
FlowBreakdowns = dict[str, dict[str, list[tuple[str, int]]]]


def read_counts(path: str | Path) -> tuple[FlowCounts, FlowBreakdowns, list[str]]:
    """Read the wide count table back: per flow, box counts and labelled breakdowns."""
    rows = read_tsv(path, required=("box", "label"))
    if not rows:
        raise InputFileError(
            path, "has no rows", line=2, allowed="the table written by build_prisma"
        )
    flows = [c for c in rows[0] if c not in ("box", "label", "__line__")]
    counts: FlowCounts = {f: {} for f in flows}
    breakdowns: dict[str, defaultdict[str, list[tuple[str, int]]]] = {
        f: defaultdict(list) for f in flows
    }
    for row in rows:
        for f in flows:
            try:
                n = int(row[f])
            except ValueError:
                raise InputFileError(
                    path,
                    "not a count",
                    line=int(row["__line__"]),
                    field=f,
                    value=row[f],
                    allowed="a whole number",
                ) from None
            if row["label"]:
                if n:
                    breakdowns[f][row["box"]].append((row["label"], n))
            else:
                counts[f][row["box"]] = n
    return counts, {f: dict(b) for f, b in breakdowns.items()}, flows
