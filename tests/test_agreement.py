"""Cohen's kappa and proportionate agreement per screening stage (screening.agreement)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from livingreview.screening.agreement import (
    AGREEMENT_COLUMNS,
    KAPPA_UNDEFINED,
    NO_PAIRS,
    TwoByTwo,
    agreement_sentence,
    stage_agreement,
)
from livingreview.screening.settings import ScreeningSettings
from livingreview.screening.sheets import Decision
from livingreview.screening.stage import screen
from livingreview.screening.vocabulary import FULL_TEXT, TITLE_ABSTRACT

FIXTURES = Path(__file__).parent / "fixtures" / "screening"
REVIEWERS = ("ann", "bob", "cy")


def decision(
    pid: str, reviewer: str, said: str, stage: str = TITLE_ABSTRACT, on: str = "2026-11-24"
):
    return Decision(
        publication_id=pid,
        record_id=pid,
        stage=stage,
        reviewer=reviewer,
        decision=said,
        reason="not_aih" if said == "exclude" else "",
        note="",
        decided_on=on,
        study_id="",
        path=f"{stage}/{reviewer}.tsv",
        line=2,
    )


def pairs(stage: str, *calls: tuple[str, str]) -> dict[str, list[Decision]]:
    """Publication p<i> decided by ann and bob as ``calls[i]``."""
    return {
        f"p{i}": [decision(f"p{i}", "ann", a, stage), decision(f"p{i}", "bob", b, stage)]
        for i, (a, b) in enumerate(calls)
    }


def test_hand_computed_kappa():
    # 20 both include, 5 ann include/bob exclude, 10 ann exclude/bob include, 15 both exclude:
    # p_o = 35/50 = 0.7; p_e = (25*30 + 25*20)/50^2 = 0.5; kappa = (0.7-0.5)/(1-0.5) = 0.4
    table = TwoByTwo(20, 5, 10, 15)
    assert table.n == 50
    assert table.observed() == Fraction(7, 10)
    assert table.expected() == Fraction(1, 2)
    assert table.kappa() == Fraction(2, 5)
    # kappa does not depend on which reviewer is called 1
    assert TwoByTwo(20, 10, 5, 15).kappa() == Fraction(2, 5)


def test_hand_computed_case_through_decisions():
    calls = (
        [("include", "include")] * 20
        + [("maybe", "exclude")] * 5  # maybe passes title/abstract: counts as include
        + [("exclude", "include")] * 10
        + [("exclude", "exclude")] * 15
    )
    row = stage_agreement(TITLE_ABSTRACT, pairs(TITLE_ABSTRACT, *calls), REVIEWERS).row()
    assert set(row) == set(AGREEMENT_COLUMNS)
    assert (row["both_include"], row["r1_include_r2_exclude"]) == (20, 5)
    assert (row["r1_exclude_r2_include"], row["both_exclude"]) == (10, 15)
    assert row["publications_compared"] == 50
    assert row["reviewers"] == "ann; bob"
    assert row["kappa"] == "0.400"
    assert row["proportionate_agreement"] == "0.700"
    assert row["expected_agreement"] == "0.500"
    assert row["note"] == ""


def test_kappa_undefined_when_expected_agreement_is_one():
    row = stage_agreement(
        TITLE_ABSTRACT, pairs(TITLE_ABSTRACT, *[("exclude", "exclude")] * 4), REVIEWERS
    ).row()
    assert row["kappa"] == ""
    assert row["proportionate_agreement"] == "1.000"
    assert row["note"] == KAPPA_UNDEFINED
    assert "undefined" in agreement_sentence(row)


def test_no_pairs_yet():
    one = {"p0": [decision("p0", "ann", "include")]}
    row = stage_agreement(TITLE_ABSTRACT, one, REVIEWERS).row()
    assert row["publications_compared"] == 0
    assert row["kappa"] == row["proportionate_agreement"] == ""
    assert row["note"] == NO_PAIRS
    assert row["awaiting_second_decision"] == 1
    assert row["reviewers"] == ""


def test_full_text_leaves_out_not_retrieved_and_maybe():
    by_pub = pairs(
        FULL_TEXT,
        ("include", "include"),
        ("include", "exclude"),
        ("exclude", "exclude"),
        ("not_retrieved", "include"),
        ("not_retrieved", "not_retrieved"),
        ("maybe", "include"),
    )
    row = stage_agreement(FULL_TEXT, by_pub, REVIEWERS).row()
    assert row["publications_compared"] == 3
    assert row["not_retrieved_left_out"] == 2
    assert row["maybe_left_out"] == 1
    # p_o = 2/3; p_e = (2*1 + 1*2)/9 = 4/9; kappa = (2/3 - 4/9)/(5/9) = 0.4
    assert row["kappa"] == "0.400"


def test_baseline_reviewer_is_not_compared():
    by_pub = {
        "p0": [decision("p0", "baven-pronk-2022", "include"), decision("p0", "ann", "exclude")],
    }
    row = stage_agreement(TITLE_ABSTRACT, by_pub, REVIEWERS).row()
    assert row["publications_compared"] == 0
    assert row["awaiting_second_decision"] == 1


def test_more_than_two_reviewers_compares_the_first_two_to_decide():
    by_pub = {
        # cy decided first, then bob; ann's later decision is not compared
        "p0": [
            decision("p0", "ann", "include", on="2026-11-26"),
            decision("p0", "bob", "exclude", on="2026-11-25"),
            decision("p0", "cy", "exclude", on="2026-11-24"),
        ],
        # all on one day: config order decides (ann, bob)
        "p1": [
            decision("p1", "cy", "exclude"),
            decision("p1", "bob", "exclude"),
            decision("p1", "ann", "include"),
        ],
    }
    row = stage_agreement(TITLE_ABSTRACT, by_pub, REVIEWERS).row()
    assert row["more_than_two_reviewers"] == 2
    assert row["both_exclude"] == 1  # p0: bob and cy
    assert row["r1_include_r2_exclude"] == 1  # p1: ann (reviewer 1) include, bob exclude
    assert row["publications_compared"] == 2
    assert row["reviewers"] == "ann; bob; cy"


def test_screen_writes_agreement_before_adjudication(tmp_path):
    """Through the stage: decisions in the sheets, one disagreement settled by adjudication,
    still counted as a disagreement."""
    root = tmp_path / "screening"
    header = "record_id\tdecision\treason\tnote\tdecided_on"
    sheets = []
    new = ["embase:hbc409507e023303b", "embase:hed33daa9e9a5908b", "pubmed:37876996"]
    for reviewer, calls in (
        ("ann", ("include", "exclude", "exclude")),
        ("bob", ("include", "include", "exclude")),
    ):
        rows = [
            f"{pid}\t{said}\t{'not_aih' if said == 'exclude' else ''}\t\t2026-11-24"
            for pid, said in zip(new, calls, strict=True)
        ]
        path = root / TITLE_ABSTRACT / f"{reviewer}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        sheets.append(path)
    adjudication = root / TITLE_ABSTRACT / "adjudication.tsv"
    adjudication.write_text(
        f"{header}\tadjudicator\n{new[1]}\tinclude\t\t\t2026-11-25\tcarol\n", encoding="utf-8"
    )
    sheets.append(adjudication)
    settings = ScreeningSettings.from_params(
        {
            "reviewers": ["ann", "bob"],
            "dual": True,
            "blinded": True,
            "baseline_reviewer": "baven-pronk-2022",
            "exclusion_reasons": [{"id": "not_aih", "label": "Not AIH"}],
            "ranking": {},
        },
        "2026-11-23",
    )
    result = screen(FIXTURES / "unique_run2.tsv", sheets, settings, FIXTURES / "studies.tsv")
    title_abstract, full_text = result.agreement
    assert title_abstract["stage"] == TITLE_ABSTRACT
    assert title_abstract["publications_compared"] == 3
    assert title_abstract["both_include"] == 1
    assert title_abstract["r1_exclude_r2_include"] == 1
    assert title_abstract["both_exclude"] == 1
    # p_o = 2/3, p_e = (1*2 + 2*1)/9 = 4/9, kappa = 0.4
    assert title_abstract["kappa"] == "0.400"
    assert full_text["note"] == NO_PAIRS


@pytest.mark.parametrize("kappa", ["0.400", ""])
def test_sentence(kappa):
    row = {
        "stage": FULL_TEXT,
        "publications_compared": 3,
        "kappa": kappa,
        "proportionate_agreement": "0.700",
        "note": "" if kappa else KAPPA_UNDEFINED,
    }
    text = agreement_sentence(row)
    assert text.startswith("full text: ")
    assert ("κ = 0.400" in text) == bool(kappa)
