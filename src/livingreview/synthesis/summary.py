"""``summary.md``: the outcome tables with percentages, the tests and discontinuations.

Percentages are whole numbers rounded half up, as the article rounds. Two forms:

- the data are the article's (no new study has changed a count): the figures once, and where
  the article prints a different percentage for the same count, both are shown;
- the data have changed since the article: every figure twice, side by side, in the columns
  "published 2022" (the article's counts, recomputed from ``resources/baseline/``, with the
  percentages it prints) and "this version" (with the accepted new studies), changed figures
  in bold; rounding differences of the article are listed once below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..baseline import OUTCOMES, Baseline
from .outcomes import OUTCOME_COLUMNS, OutcomeRow, TestRow, outcome_rows, published_tests

GROUP_LABELS = {
    "cyclosporine": "Cyclosporine",
    "tacrolimus": "Tacrolimus",
    "insufficient_response": "Insufficient response to first-line treatment",
    "intolerance": "Intolerance to first-line treatment",
    "second": "Second-line treatment",
    "third": "Third-line treatment",
}
OUTCOME_LABELS = {
    "remission": "Remission",
    "response": "Response",
    "failure": "Treatment failure",
    "unknown": "Unknown",
}
PUBLISHED_COLUMN, CURRENT_COLUMN = "published 2022", "this version"
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


def data_changed(
    published_outcomes: Sequence[Mapping[str, object]],
    outcome_table: Sequence[Mapping[str, object]],
) -> bool:
    """Whether any count differs from the article's (new studies added patients)."""

    def counts(rows: Sequence[Mapping[str, object]]) -> list[tuple[str, ...]]:
        return [tuple(str(row[c]) for c in OUTCOME_COLUMNS) for row in rows]

    return counts(published_outcomes) != counts(outcome_table)


def _count_cell(count: int, n: int, printed: int | None = None) -> str:
    return f"{count} ({percent(count, n) if printed is None else printed}%)"


def _compared_outcome_tables(
    published_outcomes: Sequence[Mapping[str, object]],
    outcome_table: Sequence[Mapping[str, object]],
    printed: Mapping[tuple[str, str, str], int],
) -> list[str]:
    """Per grouping, one row per group and figure: the article's beside this version's."""
    published = {(str(r["grouping"]), str(r["group"])): r for r in published_outcomes}
    lines: list[str] = []
    for grouping, title in GROUPING_LABELS.items():
        lines += [
            f"## {title}",
            "",
            f"| Group | | {PUBLISHED_COLUMN} | {CURRENT_COLUMN} |",
            "|---|---|---:|---:|",
        ]
        for row in (r for r in outcome_table if r["grouping"] == grouping):
            group = str(row["group"])
            before = published[(grouping, group)]
            n_before, n_now = int(str(before["n"])), int(str(row["n"]))
            label = GROUP_LABELS.get(group, group)
            lines.append(
                f"| {label} | n | {n_before} | {_changed(str(n_now), n_now != n_before)} |"
            )
            for outcome in OUTCOMES:
                count_before, count_now = int(str(before[outcome])), int(str(row[outcome]))
                old = _count_cell(count_before, n_before, printed.get((grouping, group, outcome)))
                new = _count_cell(count_now, n_now)
                changed = (count_now, n_now) != (count_before, n_before)
                lines.append(f"| | {OUTCOME_LABELS[outcome]} | {old} | {_changed(new, changed)} |")
        lines.append("")
    return lines


def _changed(cell: str, changed: bool) -> str:
    return f"**{cell}**" if changed else cell


def _compared_tests_table(
    article_tests: Sequence[Mapping[str, object]], tests: Sequence[Mapping[str, object]]
) -> list[str]:
    lines = [
        "## Tests",
        "",
        f"| Test | Comparison ({CURRENT_COLUMN}) | {PUBLISHED_COLUMN}: statistic, p "
        f"| {CURRENT_COLUMN}: statistic, p |",
        "|---|---|---:|---:|",
    ]
    for before, now in zip(article_tests, tests):
        lines.append(
            f"| {now['test']} | {now['comparison']} | {_statistic_and_p(before)} | "
            f"{_statistic_and_p(now)} |"
        )
    return lines


def _statistic_and_p(test: Mapping[str, object]) -> str:
    return f"{float(str(test['statistic'])):.3f}, p {format_p(float(str(test['p_value'])))}"


def _rounding_notes(
    published_outcomes: Sequence[Mapping[str, object]], printed: Mapping[tuple[str, str, str], int]
) -> list[str]:
    """Each percentage the article prints otherwise than half-up rounding of its count."""
    notes = []
    for row in published_outcomes:
        grouping, group, n = str(row["grouping"]), str(row["group"]), int(str(row["n"]))
        for outcome in OUTCOMES:
            count = int(str(row[outcome]))
            value = printed.get((grouping, group, outcome))
            if value is not None and value != percent(count, n):
                notes.append(
                    f"- {GROUP_LABELS.get(group, group)}, {OUTCOME_LABELS[outcome].lower()}: "
                    f"the article prints {value}% for {count} of {n} "
                    f"({percent(count, n)}% rounded half up)."
                )
    return notes


def summary_markdown(
    outcome_table: Sequence[Mapping[str, object]],
    tests: Sequence[Mapping[str, object]],
    published_percentages: Iterable[Mapping[str, object]],
    discontinuations: Iterable[Mapping[str, object]],
    published_outcomes: Sequence[Mapping[str, object]] | None = None,
    article_tests: Sequence[Mapping[str, object]] | None = None,
) -> str:
    """A human-readable summary of the outcomes and tests.

    ``published_outcomes`` and ``article_tests`` are the same tables computed from the
    published review's data alone: when they differ from this version's, both are shown side
    by side; otherwise (or when not given) the figures once, flagged where the article prints
    another percentage.
    """
    printed = _printed_percentages(published_percentages)
    if (
        published_outcomes is not None
        and article_tests is not None
        and data_changed(published_outcomes, outcome_table)
    ):
        return _compared_summary(
            outcome_table, tests, printed, discontinuations, published_outcomes, article_tests
        )
    lines = [
        "# Results of CNI treatment",
        "",
        "Counts are recomputed from `resources/baseline/` (and accepted new extractions); "
        "percentages are of the group's n, rounded half up. Where the article prints a "
        "different percentage it is shown after a semicolon.",
        "",
    ]
    tables, differences = _outcome_tables(outcome_table, printed)
    lines += tables
    lines += _tests_table(tests)
    lines += _discontinuation_table(discontinuations)
    lines += ["", f"Percentages differing from the article's print: {differences}.", ""]
    return "\n".join(lines)


def _compared_summary(
    outcome_table: Sequence[Mapping[str, object]],
    tests: Sequence[Mapping[str, object]],
    printed: Mapping[tuple[str, str, str], int],
    discontinuations: Iterable[Mapping[str, object]],
    published_outcomes: Sequence[Mapping[str, object]],
    article_tests: Sequence[Mapping[str, object]],
) -> str:
    added = sum(int(str(r["n"])) for r in outcome_table if r["grouping"] == "cni") - sum(
        int(str(r["n"])) for r in published_outcomes if r["grouping"] == "cni"
    )
    lines = [
        "# Results of CNI treatment",
        "",
        f"The data have changed since the published review: accepted new studies add {added} "
        f"patients. **{PUBLISHED_COLUMN}**: the article's figures (counts recomputed from "
        "`resources/baseline/`, percentages as the article prints them); "
        f"**{CURRENT_COLUMN}**: with the accepted new studies (percentages of the group's n, "
        "rounded half up). Figures that changed are in bold.",
        "",
    ]
    lines += _compared_outcome_tables(published_outcomes, outcome_table, printed)
    lines += _compared_tests_table(article_tests, tests)
    lines += _discontinuation_table(discontinuations)
    notes = _rounding_notes(published_outcomes, printed)
    if notes:
        lines += ["", "Rounding in the article:", "", *notes]
    lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class OutcomeSummary:
    """This version's outcome table and tests, and the summary that sets them beside the
    article's."""

    outcomes: list[OutcomeRow]
    tests: list[TestRow]
    markdown: str


def summarise_outcomes(
    baseline: Baseline,
    arms: Sequence[Mapping[str, object]],
    subgroups: Sequence[Mapping[str, object]],
) -> OutcomeSummary:
    """Outcomes and tests of this version (``arms``: ``studies.tsv``; ``subgroups``: new
    studies' subgroup rows), and ``summary.md`` comparing them with the published review's."""
    outcomes = outcome_rows(arms, baseline.crosstabs, subgroups)
    tests = published_tests(arms, outcomes)
    article_outcomes = outcome_rows(baseline.arms, baseline.crosstabs)
    markdown = summary_markdown(
        outcomes,
        tests,
        baseline.percentages,
        baseline.discontinuations,
        article_outcomes,
        published_tests(baseline.arms, article_outcomes),
    )
    return OutcomeSummary(outcomes, tests, markdown)
