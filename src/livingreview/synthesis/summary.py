"""``summary.md``: the outcome tables with percentages, the tests and discontinuations.

Percentages are whole numbers rounded half up, as the article rounds; where the article
prints a different percentage for the same count, both are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from ..baseline import OUTCOMES

GROUP_LABELS = {
    "cyclosporine": "Cyclosporine",
    "tacrolimus": "Tacrolimus",
    "insufficient_response": "Insufficient response to first-line treatment",
    "intolerance": "Intolerance to first-line treatment",
    "second": "Second-line treatment",
    "third": "Third-line treatment",
}
GROUPING_LABELS = {
    "cni": "By CNI",
    "indication": "By reason for starting the CNI",
    "line": "By line of treatment",
}


def percent(part: int, whole: int) -> int:
    """Whole-number percentage rounded half up, as the article rounds (52.5 -> 53).

    >>> percent(105, 200), percent(37, 200), percent(1, 60)
    (53, 19, 2)
    """
    if whole == 0:
        return 0
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_p(p_value: float) -> str:
    """p as the article prints it: three decimals, or '< 0.001'.

    >>> format_p(0.11645), format_p(0.0004)
    ('0.116', '< 0.001')
    """
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _printed_percentages(
    published_percentages: Iterable[Mapping[str, object]],
) -> dict[tuple[str, str, str], int]:
    return {
        (str(p["grouping"]), str(p["group"]), str(p["outcome"])): int(str(p["percent"]))
        for p in published_percentages
    }


def _outcome_tables(
    outcome_table: Sequence[Mapping[str, object]], printed: Mapping[tuple[str, str, str], int]
) -> tuple[list[str], int]:
    """One table per grouping; returns the lines and how many percentages differ from print."""
    lines: list[str] = []
    differences = 0
    for grouping, title in GROUPING_LABELS.items():
        lines += [
            f"## {title}",
            "",
            "| Group | n | Remission | Response | Treatment failure | Unknown |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in (r for r in outcome_table if r["grouping"] == grouping):
            cells = []
            for outcome in OUTCOMES:
                count, n = int(str(row[outcome])), int(str(row["n"]))
                computed = percent(count, n)
                cell = f"{count} ({computed}%"
                printed_value = printed.get((grouping, str(row["group"]), outcome))
                if printed_value is not None and printed_value != computed:
                    cell += f"; published {printed_value}%"
                    differences += 1
                cells.append(cell + ")")
            lines.append(
                f"| {GROUP_LABELS.get(str(row['group']), row['group'])} | {row['n']} | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("")
    return lines, differences


def _tests_table(tests: Sequence[Mapping[str, object]]) -> list[str]:
    lines = ["## Tests", "", "| Test | Comparison | Statistic | p |", "|---|---|---:|---:|"]
    for test in tests:
        lines.append(
            f"| {test['test']} | {test['comparison']} | {float(str(test['statistic'])):.3f} | "
            f"{format_p(float(str(test['p_value'])))} |"
        )
    return lines


def _discontinuation_table(discontinuations: Iterable[Mapping[str, object]]) -> list[str]:
    lines = [
        "",
        "## Discontinuation as reported",
        "",
        "| CNI | Reason | Patients | Of | Printed % | Note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in discontinuations:
        lines.append(
            f"| {row['cni']} | {row['reason']} | {row['patients']} | {row['denominator']} | "
            f"{row['percent_as_printed'] or '–'} | {row['note'] or ''} |"
        )
    return lines


def summary_markdown(
    outcome_table: Sequence[Mapping[str, object]],
    tests: Sequence[Mapping[str, object]],
    published_percentages: Iterable[Mapping[str, object]],
    discontinuations: Iterable[Mapping[str, object]],
) -> str:
    """A human-readable summary: counts with percentages, flagged where the article differs."""
    lines = [
        "# Results of CNI treatment",
        "",
        "Counts are recomputed from `resources/baseline/` (and accepted new extractions); "
        "percentages are of the group's n, rounded half up. Where the article prints a "
        "different percentage it is shown after a semicolon.",
        "",
    ]
    tables, differences = _outcome_tables(
        outcome_table, _printed_percentages(published_percentages)
    )
    lines += tables
    lines += _tests_table(tests)
    lines += _discontinuation_table(discontinuations)
    lines += ["", f"Percentages differing from the article's print: {differences}.", ""]
    return "\n".join(lines)
