"""Unit tests of livingreview.meta on hand-computable cases, validation and published data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from livingreview.errors import InputFileError, ValidationError
from livingreview.meta.glmm import pool_glmm
from livingreview.meta.intervals import clopper_pearson
from livingreview.meta.logit import logit_effects
from livingreview.meta.pool import pool
from livingreview.meta.results import COLUMNS

Z = 1.959963984540054


def expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def rows(*triples, subgroup=""):
    return [{"study": s, "subgroup": subgroup, "n": n, "events": e} for s, n, e in triples]


def by_method(result):
    return {row["method"]: row for row in result}


def test_identical_studies_give_textbook_numbers():
    # Two studies 5/10: yi = 0, vi = 1/5 + 1/5 = 0.4, w = 2.5 each, se = sqrt(1/5).
    out = by_method(pool(rows(("A", 10, 5), ("B", 10, 5)), analysis="hand"))
    se = math.sqrt(1 / 5)
    for method in ("DL", "REML"):
        row = out[method]
        assert row["analysis"] == "hand" and row["subgroup"] == ""
        assert (row["k"], row["n"], row["events"]) == (2, 20, 10)
        assert row["estimate"] == pytest.approx(0.5, abs=1e-12)
        assert row["ci_low"] == pytest.approx(expit(-Z * se), abs=1e-12)
        assert row["ci_high"] == pytest.approx(expit(Z * se), abs=1e-12)
        assert (row["pi_low"], row["pi_high"]) == (row["ci_low"], row["ci_high"])  # tau2 = 0
        assert row["tau2"] == 0 and row["i2"] == 0 and row["q"] == pytest.approx(0, abs=1e-12)
        assert row["q_p"] == pytest.approx(1.0)


def test_dl_by_hand_for_two_different_studies():
    # 2/10 and 8/10: yi = -+log 4, vi = 1/2 + 1/8 = 0.625 each.
    out = by_method(pool(rows(("A", 10, 2), ("B", 10, 8))))["DL"]
    y, v = math.log(4), 0.625
    q = 2 * (y**2) / v
    tau2 = (q - 1) / (2 / v - (2 / v**2) / (2 / v))
    se = math.sqrt((v + tau2) / 2)
    assert out["q"] == pytest.approx(q, rel=1e-12)
    assert out["tau2"] == pytest.approx(tau2, rel=1e-12)
    assert out["i2"] == pytest.approx(100 * (q - 1) / q, rel=1e-12)
    assert out["estimate"] == pytest.approx(0.5, abs=1e-12)
    assert out["pi_high"] == pytest.approx(expit(Z * math.sqrt(se**2 + tau2)), rel=1e-12)
    assert out["q_p"] == pytest.approx(math.erfc(math.sqrt(q / 2)), rel=1e-9)  # chi2(1) tail


def test_continuity_correction_only_for_zero_or_all_studies():
    yi, vi = logit_effects([0, 3, 5], [5, 5, 5])
    assert yi[0] == pytest.approx(math.log(0.5 / 5.5))
    assert vi[0] == pytest.approx(1 / 0.5 + 1 / 5.5)
    assert yi[1] == pytest.approx(math.log(3 / 2)) and vi[1] == pytest.approx(1 / 3 + 1 / 2)
    assert yi[2] == pytest.approx(math.log(5.5 / 0.5))


def test_prediction_interval_uses_normal_quantile():
    out = by_method(pool(rows(("A", 20, 2), ("B", 30, 25), ("C", 15, 7))))["REML"]
    beta = math.log(out["estimate"] / (1 - out["estimate"]))
    se = (math.log(out["ci_high"] / (1 - out["ci_high"])) - beta) / Z
    expected = expit(beta + Z * math.sqrt(se**2 + out["tau2"]))
    assert out["tau2"] > 0
    assert out["pi_high"] == pytest.approx(expected, rel=1e-10)


def test_glmm_reports_non_convergence_instead_of_numbers():
    out = by_method(pool(rows(("A", 5, 0), ("B", 7, 0), ("C", 3, 0))))
    glmm = out["GLMM"]
    assert (glmm["k"], glmm["n"], glmm["events"]) == (3, 15, 0)
    assert all(glmm[c] is None for c in ("estimate", "ci_low", "tau2", "i2", "q", "q_p"))
    assert out["DL"]["estimate"] is not None  # the logit models still pool with 0.5 added
    detail = pool_glmm([0, 0, 0], [5, 7, 3])
    assert not detail.converged and "0 events" in detail.message
    assert not pool_glmm([1, 0, 1], [1, 1, 1]).converged


def test_subgroups_keep_order_and_method_order():
    data = rows(("A", 10, 3), ("B", 12, 6), subgroup="second") + rows(
        ("A", 8, 4), ("C", 9, 1), subgroup="first"
    )
    out = pool(data, analysis="x")
    assert [(r["subgroup"], r["method"]) for r in out] == [
        ("second", "DL"),
        ("second", "REML"),
        ("second", "GLMM"),
        ("first", "DL"),
        ("first", "REML"),
        ("first", "GLMM"),
    ]
    assert all(list(r) == list(COLUMNS) for r in out)


def test_dataframe_input_matches_row_input():
    data = rows(("A", 11, 9), ("B", 5, 1), ("C", 9, 3))
    assert pool(pd.DataFrame(data)) == pool(data)


def test_published_tables_totals_and_crude_rates():
    # Baven-Pronk et al. 2022: 35/59 cyclosporine and 130/219 tacrolimus remissions (59% each).
    csa = [
        (1, 0),
        (1, 1),
        (4, 2),
        (1, 0),
        (1, 1),
        (5, 4),
        (10, 4),
        (1, 1),
        (9, 4),
        (8, 8),
        (17, 10),
        (1, 0),
    ]
    tac = [
        (11, 9),
        (5, 1),
        (9, 3),
        (13, 11),
        (17, 5),
        (1, 0),
        (23, 6),
        (87, 65),
        (6, 5),
        (23, 18),
        (16, 6),
        (8, 1),
    ]
    data = rows(*[(f"c{i}", n, e) for i, (n, e) in enumerate(csa)], subgroup="cyclosporine") + rows(
        *[(f"t{i}", n, e) for i, (n, e) in enumerate(tac)], subgroup="tacrolimus"
    )
    out = {(r["subgroup"], r["method"]): r for r in pool(data)}
    assert (out["cyclosporine", "DL"]["n"], out["cyclosporine", "DL"]["events"]) == (59, 35)
    assert (out["tacrolimus", "DL"]["n"], out["tacrolimus", "DL"]["events"]) == (219, 130)
    assert round(35 / 59 * 100) == round(130 / 219 * 100) == 59
    # metafor 3.8-1 on the same counts (tests/fixtures/metafor/reference.tsv).
    assert out["cyclosporine", "REML"]["estimate"] == pytest.approx(0.545990052652177, abs=1e-9)
    assert out["cyclosporine", "REML"]["tau2"] == 0
    tac = out["tacrolimus", "REML"]
    assert tac["estimate"] == pytest.approx(0.517123040423742, abs=1e-9)
    assert (tac["ci_low"], tac["ci_high"]) == (
        pytest.approx(0.340386518929751, abs=1e-9),
        pytest.approx(0.689677100049982, abs=1e-9),
    )
    assert tac["i2"] == pytest.approx(75.9537686111883, abs=1e-7)
    assert out["tacrolimus", "GLMM"]["estimate"] == pytest.approx(0.510921481016935, abs=1e-4)


@pytest.mark.parametrize(
    "bad, field, fragment",
    [
        ({"n": "5", "events": "6"}, "events", "exceed"),
        ({"n": "5", "events": "-1"}, "events", "non-negative integer"),
        ({"n": "5.5", "events": "1"}, "n", "non-negative integer"),
        ({"n": "", "events": "1"}, "n", "non-negative integer"),
        ({"n": "0", "events": "0"}, "n", "n = 0"),
        ({"n": "ten", "events": "1"}, "n", "non-negative integer"),
    ],
)
def test_bad_counts_name_line_and_field(bad, field, fragment):
    data = [
        {"study": "A", "subgroup": "g", "n": "10", "events": "2", "__line__": "2"},
        {"study": "B", "subgroup": "g", **bad, "__line__": "3"},
    ]
    with pytest.raises(ValidationError) as info:
        pool(data, source="studies.tsv")
    assert info.value.line == 3 and info.value.field == field
    assert "studies.tsv, line 3" in str(info.value) and fragment in str(info.value)


def test_group_with_one_study_is_an_error_naming_its_line():
    data = rows(("A", 10, 2), ("B", 10, 3), subgroup="ok") + rows(("C", 4, 1), subgroup="alone")
    with pytest.raises(ValidationError) as info:
        pool(data, source="s.tsv")
    assert info.value.line == 4 and "alone" in str(info.value) and "at least 2" in str(info.value)


def test_duplicate_study_and_empty_name_are_errors():
    with pytest.raises(ValidationError, match="appears twice"):
        pool(rows(("A", 10, 2), ("A", 10, 3)))
    with pytest.raises(ValidationError, match="study name is empty"):
        pool(rows(("", 10, 2), ("B", 10, 3)))


def test_missing_column_in_dataframe():
    with pytest.raises(InputFileError, match="missing column"):
        pool(pd.DataFrame({"study": ["A"], "n": [3], "events": [1]}))


def test_clopper_pearson_edges_and_symmetry():
    assert clopper_pearson(0, 1) == (0.0, 0.975)
    assert clopper_pearson(1, 1) == (pytest.approx(0.025, abs=1e-12), 1.0)
    low, high = clopper_pearson(3, 10)
    low2, high2 = clopper_pearson(7, 10)
    assert low == pytest.approx(1 - high2) and high == pytest.approx(1 - low2)
    with pytest.raises(ValueError):
        clopper_pearson(4, 3)
