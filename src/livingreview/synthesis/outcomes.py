"""Outcome counts per CNI and per Fig. 2 group, and the three tests of the published review.

- the outcome table: remission / response / treatment failure / unknown per CNI (summed
  over study arms), per reason for starting and per line of treatment (from the
  cross-tabulations, which the published tables do not allow to split per study);
- the three published tests: line of treatment by CNI (Fisher's exact test, two-sided) and
  outcome by reason for starting and by line (SPSS's "chi-square for trend", i.e. the
  linear-by-linear association test ``M2 = (N - 1) r^2`` on 1-df chi-square, with the
  outcome categories scored 1-4 in the order remission, response, failure, unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict

import numpy as np
from scipy import stats

from ..baseline import CNIS, CROSSTAB_GROUPS, OUTCOMES

OUTCOME_COLUMNS: tuple[str, ...] = ("grouping", "group", "n", *OUTCOMES)
TEST_COLUMNS: tuple[str, ...] = ("test", "comparison", "statistic", "p_value")

OUTCOME_ORDER_TEXT = "remission < response < failure < unknown"


class OutcomeRow(TypedDict):
    """One row of ``outcomes.tsv``: patients per outcome in one group."""

    grouping: str
    group: str
    n: int
    remission: int
    response: int
    failure: int
    unknown: int


class TestRow(TypedDict):
    """One row of ``tests.tsv``."""

    test: str
    comparison: str
    statistic: float
    p_value: float


def _count(value: object) -> int:
    """A count cell of a row this package validated (int, or its text)."""
    return int(str(value))


def _outcome_row(grouping: str, group: str, counts: Mapping[str, int]) -> OutcomeRow:
    return OutcomeRow(
        grouping=grouping,
        group=group,
        n=sum(counts.values()),
        remission=counts["remission"],
        response=counts["response"],
        failure=counts["failure"],
        unknown=counts["unknown"],
    )


def outcome_rows(
    arms: Iterable[Mapping[str, object]],
    crosstabs: Iterable[Mapping[str, object]],
    subgroups: Iterable[Mapping[str, object]] = (),
) -> list[OutcomeRow]:
    """Outcome counts per CNI (from the arms) and per Fig. 2 group.

    The Fig. 2 groups start from the previous version's cross-tabulations (one row per
    outcome cell) and add new studies' subgroup rows (one row per study, CNI and group, with
    a column per outcome).
    """
    arms = list(arms)
    crosstabs = list(crosstabs)
    subgroups = list(subgroups)
    rows: list[OutcomeRow] = []
    for cni in CNIS:
        counts = {o: sum(_count(a[o]) for a in arms if a["cni"] == cni) for o in OUTCOMES}
        rows.append(_outcome_row("cni", cni, counts))
    for grouping, groups in CROSSTAB_GROUPS.items():
        for group in groups:
            counts = {
                o: sum(
                    _count(c["count"])
                    for c in crosstabs
                    if c["grouping"] == grouping and c["group"] == group and c["outcome"] == o
                )
                + sum(
                    _count(s[o])
                    for s in subgroups
                    if s["grouping"] == grouping and s["group"] == group
                )
                for o in OUTCOMES
            }
            rows.append(_outcome_row(grouping, group, counts))
    return rows


def linear_by_linear(table: Sequence[Sequence[int]]) -> tuple[float, float]:
    """Linear-by-linear association (Mantel-Haenszel chi-square for trend), as SPSS prints it.

    Rows and columns are scored 1, 2, ...; ``M2 = (N - 1) * r**2`` where r is Pearson's
    correlation of the scores over all N subjects; p from chi-square with 1 df.

    >>> m2, p = linear_by_linear([[10, 0], [0, 10]])
    >>> round(m2, 6), p < 0.001
    (19.0, True)
    """
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] < 2 or counts.shape[1] < 2:
        raise ValueError("linear-by-linear needs a table with at least 2 rows and 2 columns")
    total = counts.sum()
    row_scores = np.arange(1, counts.shape[0] + 1, dtype=float)
    col_scores = np.arange(1, counts.shape[1] + 1, dtype=float)
    row_margin = counts.sum(axis=1)
    col_margin = counts.sum(axis=0)
    mean_row = (row_scores * row_margin).sum() / total
    mean_col = (col_scores * col_margin).sum() / total
    covariance = (np.outer(row_scores - mean_row, col_scores - mean_col) * counts).sum()
    var_row = (((row_scores - mean_row) ** 2) * row_margin).sum()
    var_col = (((col_scores - mean_col) ** 2) * col_margin).sum()
    if var_row == 0 or var_col == 0:
        raise ValueError("linear-by-linear is undefined when a margin has a single category")
    r = covariance / np.sqrt(var_row * var_col)
    statistic = float((total - 1) * r * r)
    return statistic, float(stats.chi2.sf(statistic, df=1))


def published_tests(
    arms: Iterable[Mapping[str, object]], outcome_table: Sequence[Mapping[str, object]]
) -> list[TestRow]:
    """The three tests of the Results section, recomputed from the data."""
    arms = list(arms)
    line_by_cni = [
        [
            sum(_count(a[f"line_{line}"]) for a in arms if a["cni"] == cni)
            for line in ("second", "third")
        ]
        for cni in CNIS
    ]
    odds_ratio, fisher_p = stats.fisher_exact(line_by_cni, alternative="two-sided")
    rows = [
        TestRow(
            test="fisher_exact",
            comparison=(
                "line of treatment (second vs third) by CNI (cyclosporine "
                f"{line_by_cni[0][0]}/{line_by_cni[0][1]} vs tacrolimus "
                f"{line_by_cni[1][0]}/{line_by_cni[1][1]}); statistic = sample odds ratio"
            ),
            statistic=float(odds_ratio),
            p_value=float(fisher_p),
        )
    ]
    by_group = {(r["grouping"], r["group"]): r for r in outcome_table}
    for grouping, label in (("indication", "reason for starting"), ("line", "line of treatment")):
        groups = CROSSTAB_GROUPS[grouping]
        table = [[_count(by_group[(grouping, g)][o]) for o in OUTCOMES] for g in groups]
        statistic, p_value = linear_by_linear(table)
        rows.append(
            TestRow(
                test="linear_by_linear",
                comparison=(
                    f"outcome ({OUTCOME_ORDER_TEXT}) by {label} ({' vs '.join(groups)}); "
                    "statistic = M2 = (N-1) r^2, 1 df"
                ),
                statistic=statistic,
                p_value=p_value,
            )
        )
    return rows
