"""Cross-tabulations and the published hypothesis tests (Baven-Pronk et al. 2022, Fig. 2).

Consumes the per-study arms (one row per study and CNI) and the Fig. 2 cross-tabulations
(see :mod:`livingreview.baseline`) and produces:

- the outcome table: remission / response / treatment failure / unknown per CNI (summed
  over study arms), per reason for starting and per line of treatment (from the
  cross-tabulations, which the published tables do not allow to split per study);
- the three published tests: line of treatment by CNI (Fisher's exact test, two-sided) and
  outcome by reason for starting and by line (SPSS's "chi-square for trend", i.e. the
  linear-by-linear association test ``M2 = (N - 1) r^2`` on 1-df chi-square, with the
  outcome categories scored 1-4 in the order remission, response, failure, unknown);
- a Markdown summary with percentages next to the published ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from scipy import stats

from .baseline import CNIS, CROSSTAB_GROUPS, OUTCOMES
from .meta import clopper_pearson

OUTCOME_COLUMNS: tuple[str, ...] = ("grouping", "group", "n", *OUTCOMES)
TEST_COLUMNS: tuple[str, ...] = ("test", "comparison", "statistic", "p_value")

OUTCOME_ORDER_TEXT = "remission < response < failure < unknown"


def outcome_rows(
    arms: Iterable[Mapping[str, object]],
    crosstabs: Iterable[Mapping[str, object]],
    subgroups: Iterable[Mapping[str, object]] = (),
) -> list[dict[str, object]]:
    """Outcome counts per CNI (from the arms) and per Fig. 2 group.

    The Fig. 2 groups start from the previous version's cross-tabulations (one row per
    outcome cell) and add new studies' subgroup rows (one row per study, CNI and group, with
    a column per outcome).
    """
    arms = list(arms)
    crosstabs = list(crosstabs)
    subgroups = list(subgroups)
    rows: list[dict[str, object]] = []
    for cni in CNIS:
        counts = {o: sum(int(a[o]) for a in arms if a["cni"] == cni) for o in OUTCOMES}
        rows.append({"grouping": "cni", "group": cni, "n": sum(counts.values()), **counts})
    for grouping, groups in CROSSTAB_GROUPS.items():
        for group in groups:
            counts = {
                o: sum(
                    int(c["count"])
                    for c in crosstabs
                    if c["grouping"] == grouping and c["group"] == group and c["outcome"] == o
                )
                + sum(
                    int(s[o])
                    for s in subgroups
                    if s["grouping"] == grouping and s["group"] == group
                )
                for o in OUTCOMES
            }
            rows.append({"grouping": grouping, "group": group, "n": sum(counts.values()), **counts})
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
) -> list[dict[str, object]]:
    """The three tests of the Results section, recomputed from the data."""
    arms = list(arms)
    line_by_cni = [
        [
            sum(int(a[f"line_{line}"]) for a in arms if a["cni"] == cni)
            for line in ("second", "third")
        ]
        for cni in CNIS
    ]
    odds_ratio, fisher_p = stats.fisher_exact(line_by_cni, alternative="two-sided")
    rows: list[dict[str, object]] = [
        {
            "test": "fisher_exact",
            "comparison": (
                "line of treatment (second vs third) by CNI (cyclosporine "
                f"{line_by_cni[0][0]}/{line_by_cni[0][1]} vs tacrolimus "
                f"{line_by_cni[1][0]}/{line_by_cni[1][1]}); statistic = sample odds ratio"
            ),
            "statistic": float(odds_ratio),
            "p_value": float(fisher_p),
        }
    ]
    by_group = {(r["grouping"], r["group"]): r for r in outcome_table}
    for grouping, label in (("indication", "reason for starting"), ("line", "line of treatment")):
        groups = CROSSTAB_GROUPS[grouping]
        table = [[int(by_group[(grouping, g)][o]) for o in OUTCOMES] for g in groups]
        statistic, p_value = linear_by_linear(table)
        rows.append(
            {
                "test": "linear_by_linear",
                "comparison": (
                    f"outcome ({OUTCOME_ORDER_TEXT}) by {label} ({' vs '.join(groups)}); "
                    "statistic = M2 = (N-1) r^2, 1 df"
                ),
                "statistic": statistic,
                "p_value": p_value,
            }
        )
    return rows


def percent(part: int, whole: int) -> int:
    """Whole-number percentage rounded half up, as the article rounds (52.5 -> 53).

    >>> percent(105, 200), percent(37, 200), percent(1, 60)
    (53, 19, 2)
    """
    if whole == 0:
        return 0
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_p(p_value: float) -> str:
    """p as the article prints it: three decimals, or '< 0.001'."""
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


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


def summary_markdown(
    outcome_table: Sequence[Mapping[str, object]],
    tests: Sequence[Mapping[str, object]],
    published_percentages: Iterable[Mapping[str, object]],
    discontinuations: Iterable[Mapping[str, object]],
) -> str:
    """A human-readable summary: counts with percentages, flagged where the article differs."""
    published = {
        (p["grouping"], p["group"], p["outcome"]): int(p["percent"]) for p in published_percentages
    }
    lines = [
        "# Results of CNI treatment",
        "",
        "Counts are recomputed from `resources/baseline/` (and accepted new extractions); "
        "percentages are of the group's n, rounded half up. Where the article prints a "
        "different percentage it is shown after a semicolon.",
        "",
    ]
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
                count, n = int(row[outcome]), int(row["n"])
                computed = percent(count, n)
                cell = f"{count} ({computed}%"
                printed = published.get((grouping, row["group"], outcome))
                if printed is not None and printed != computed:
                    cell += f"; published {printed}%"
                    differences += 1
                cells.append(cell + ")")
            lines.append(
                f"| {GROUP_LABELS.get(str(row['group']), row['group'])} | {row['n']} | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("")
    lines += ["## Tests", "", "| Test | Comparison | Statistic | p |", "|---|---|---:|---:|"]
    for test in tests:
        lines.append(
            f"| {test['test']} | {test['comparison']} | {float(test['statistic']):.3f} | {format_p(float(test['p_value']))} |"
        )
    lines += [
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
    lines += ["", f"Percentages differing from the article's print: {differences}.", ""]
    return "\n".join(lines)


#: Meta-analysis groups: each CNI, and both together (every study arm as one unit).
POOLED_GROUPS: tuple[str, ...] = (*CNIS, "both")


def remission_rows(arms: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Study-level remission counts in the ``study, subgroup, n, events`` layout of bin/pool.

    One row per study arm in its CNI's group. In group ``both`` one row per *study*, its arms
    summed (Pape 2019, Roberts 2020 and the Dutch cohort treated patients with each CNI;
    counting their arms separately would treat one study's patients as two independent
    studies). Denominators are all treated patients, as in the article (unknown outcomes count
    as not in remission).
    """
    arms = list(arms)
    rows: list[dict[str, object]] = []
    for cni in CNIS:
        for arm in (a for a in arms if a["cni"] == cni):
            rows.append(
                {
                    "study": arm["label"],
                    "subgroup": cni,
                    "n": arm["n"],
                    "events": arm["remission"],
                    "study_id": arm["study_id"],
                    "cni": cni,
                }
            )
    studies: dict[object, dict[str, object]] = {}
    for arm in arms:
        study = studies.setdefault(
            arm["study_id"],
            {
                "study": arm["label"],
                "subgroup": "both",
                "n": 0,
                "events": 0,
                "study_id": arm["study_id"],
                "cni": [],
            },
        )
        study["n"] = int(study["n"]) + int(arm["n"])  # type: ignore[arg-type]
        study["events"] = int(study["events"]) + int(arm["remission"])  # type: ignore[arg-type]
        study["cni"].append(arm["cni"])  # type: ignore[union-attr]
    for study in studies.values():
        study["cni"] = "; ".join(study["cni"])  # type: ignore[arg-type]
        rows.append(study)
    return rows


STUDY_PROPORTION_COLUMNS: tuple[str, ...] = (
    "subgroup",
    "study",
    "study_id",
    "cni",
    "n",
    "events",
    "proportion",
    "ci_low",
    "ci_high",
)


def study_proportions(
    rows: Iterable[Mapping[str, object]], level: float = 0.95
) -> list[dict[str, object]]:
    """Each arm's remission proportion with its exact (Clopper-Pearson) interval."""
    out = []
    for row in rows:
        n, events = int(row["n"]), int(row["events"])
        low, high = clopper_pearson(events, n, level)
        out.append(
            {
                **{k: row[k] for k in ("subgroup", "study", "study_id", "cni", "n", "events")},
                "proportion": events / n,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return out
