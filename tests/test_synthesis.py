"""Cross-tabulations and tests: hand-computable cases and the published figures."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT
from scipy import stats

from livingreview.baseline import load_baseline
from livingreview.synthesis import (
    format_p,
    linear_by_linear,
    outcome_rows,
    percent,
    published_tests,
    summary_markdown,
)

PUBLISHED_OUTCOMES = {
    ("cni", "cyclosporine"): (59, 35, 13, 7, 4),
    ("cni", "tacrolimus"): (219, 130, 33, 30, 26),
    ("indication", "insufficient_response"): (200, 105, 37, 13, 45),
    ("indication", "intolerance"): (60, 40, 1, 6, 13),
    ("line", "second"): (203, 106, 20, 20, 57),
    ("line", "third"): (62, 16, 10, 4, 32),
}


@pytest.fixture(scope="module")
def baseline():
    return load_baseline(ROOT / "resources" / "baseline")


def test_outcome_rows_reproduce_published_counts(baseline):
    rows = outcome_rows(baseline.arms, baseline.crosstabs)
    got = {
        (r["grouping"], r["group"]): (
            r["n"],
            r["remission"],
            r["response"],
            r["failure"],
            r["unknown"],
        )
        for r in rows
    }
    assert got == PUBLISHED_OUTCOMES


def test_published_p_values(baseline):
    rows = outcome_rows(baseline.arms, baseline.crosstabs)
    tests = published_tests(baseline.arms, rows)
    assert [t["test"] for t in tests] == ["fisher_exact", "linear_by_linear", "linear_by_linear"]
    assert round(tests[0]["p_value"], 3) == 0.116
    assert round(tests[1]["p_value"], 3) == 0.498
    assert tests[2]["p_value"] < 0.001


def test_linear_by_linear_matches_expanded_correlation():
    table = [[3, 1, 4], [1, 5, 9], [2, 6, 5]]
    xs, ys = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            xs += [i + 1] * count
            ys += [j + 1] * count
    r = stats.pearsonr(xs, ys).statistic
    m2, p = linear_by_linear(table)
    assert m2 == pytest.approx((len(xs) - 1) * r * r, rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf(m2, 1), rel=1e-12)


def test_linear_by_linear_2x2_equals_n_minus_1_over_n_pearson_chi2():
    table = [[12, 5], [7, 14]]
    pearson = stats.chi2_contingency(table, correction=False).statistic
    n = 38
    assert linear_by_linear(table)[0] == pytest.approx(pearson * (n - 1) / n, rel=1e-12)


def test_linear_by_linear_rejects_degenerate_tables():
    with pytest.raises(ValueError):
        linear_by_linear([[1, 2, 3]])
    with pytest.raises(ValueError):
        linear_by_linear([[0, 4], [0, 6]])


@pytest.mark.parametrize(
    "part, whole, expected", [(105, 200, 53), (45, 200, 23), (13, 60, 22), (4, 62, 6), (0, 0, 0)]
)
def test_percent_rounds_half_up(part, whole, expected):
    assert percent(part, whole) == expected


def test_format_p():
    assert format_p(0.11645) == "0.116"
    assert format_p(0.000331) == "< 0.001"
    assert not math.isnan(float(format_p(0.5)))


def test_summary_flags_the_one_percentage_the_article_rounds_differently(baseline):
    rows = outcome_rows(baseline.arms, baseline.crosstabs)
    text = summary_markdown(
        rows, published_tests(baseline.arms, rows), baseline.percentages, baseline.discontinuations
    )
    assert "45 (23%; published 22%)" in text
    assert "Percentages differing from the article's print: 1." in text
    assert "| Cyclosporine | 59 | 35 (59%) | 13 (22%) | 7 (12%) | 4 (7%) |" in text
