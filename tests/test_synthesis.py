"""Cross-tabulations and tests: hand-computable cases and the published figures."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT
from scipy import stats

from livingreview.baseline import load_baseline
from livingreview.extraction.tables import baseline_study_rows
from livingreview.synthesis.labels import new_study_names
from livingreview.synthesis.outcomes import linear_by_linear, outcome_rows, published_tests
from livingreview.synthesis.summary import format_p, percent, summarise_outcomes, summary_markdown

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


# --- summary.md: the article's figures beside this version's --------------------------------

NEW_ARM = {  # a hypothetical new study: made-up counts, never in resources/
    "study_id": "new-2024",
    "cni": "tacrolimus",
    "label": "new-2024",
    "version": "update",
    "n": 10,
    "remission": 6,
    "response": 2,
    "failure": 1,
    "unknown": 1,
    "reason_insufficient_response": 7,
    "reason_intolerance": 3,
    "reason_not_specified": 0,
    "line_second": 0,
    "line_third": 0,
    "line_unknown": 10,
}


def test_unchanged_data_show_the_published_figures_once(baseline):
    summary = summarise_outcomes(baseline, baseline_study_rows(baseline), [])
    assert "published 2022" not in summary.markdown
    assert "45 (23%; published 22%)" in summary.markdown
    assert summary.markdown.count("| Cyclosporine |") == 1


def test_changed_data_show_published_and_this_version_side_by_side(baseline):
    arms = [*baseline_study_rows(baseline), NEW_ARM]
    summary = summarise_outcomes(baseline, arms, [])
    text = summary.markdown
    assert "| Group | | published 2022 | this version |" in text
    assert "| Tacrolimus | n | 219 | **229** |" in text
    assert "| | Remission | 130 (59%) | **136 (59%)** |" in text
    assert "| Cyclosporine | n | 59 | 59 |" in text  # unchanged figures are not bold
    # The article's column shows its printed percentage; the rounding is noted once, below.
    assert "| | Unknown | 45 (22%) | 45 (23%) |" in text
    assert "the article prints 22% for 45 of 200 (23% rounded half up)" in text
    assert "published 22%)" not in text
    assert "accepted new studies add 10 patients" in text
    assert "| fisher_exact |" in text and "1.924, p 0.116 |" in text
    assert {(r["group"], r["n"]) for r in summary.outcomes if r["grouping"] == "cni"} == {
        ("cyclosporine", 59),
        ("tacrolimus", 229),
    }


# --- New studies named by their records -----------------------------------------------------


def test_new_study_names_come_from_the_earliest_report_and_stay_unique():
    arms = [
        {"study_id": "efe-2017", "label": "Efe 2017", "version": "baseline"},
        {"study_id": "a-study", "label": "a-study", "version": "update"},
        {"study_id": "b-study", "label": "b-study", "version": "update"},
        {"study_id": "c-study", "label": "c-study", "version": "update"},
        {"study_id": "d-study", "label": "d-study", "version": "update"},
    ]
    reports = [
        {"publication_id": "p2", "study_id": "a-study"},
        {"publication_id": "p1", "study_id": "a-study"},
        {"publication_id": "p3", "study_id": "b-study"},
        {"publication_id": "p4", "study_id": "c-study"},
        {"publication_id": "p5", "study_id": "d-study"},
    ]
    publications = [
        {"publication_id": "p1", "first_author": "Lee", "year": "2024", "first_run": "2026-11-23"},
        {"publication_id": "p2", "first_author": "Kim", "year": "2025", "first_run": "2027-05-01"},
        {"publication_id": "p3", "first_author": "Efe", "year": "2017", "first_run": "2026-11-23"},
        {"publication_id": "p4", "first_author": "", "authors": "", "year": "2024"},
        {"publication_id": "p5", "first_author": "Lee", "year": "2024", "first_run": "2027-05-01"},
    ]
    names = new_study_names(arms, reports, publications)
    assert {k: (v.label, v.new_in) for k, v in names.items()} == {
        "a-study": ("Lee 2024", "2026-11-23"),  # earliest report, first run of any report
        "b-study": ("Efe 2017 (b-study)", "2026-11-23"),  # a baseline label is taken
        "c-study": ("c-study", ""),  # no author in its records: the study id
        "d-study": ("Lee 2024 (d-study)", "2027-05-01"),  # a second Lee 2024
    }
