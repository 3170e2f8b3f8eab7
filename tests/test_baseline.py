"""The published review as data: totals match the article, and bad edits are caught."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from livingreview.baseline import load_baseline
from livingreview.errors import ConsistencyError, InputFileError, ValidationError

BASELINE = ROOT / "resources" / "baseline"

# Summary rows of Tables 2-5 of Baven-Pronk et al. 2022.
PUBLISHED_TOTALS = {
    "cyclosporine": {
        "n": 59,
        "reason_insufficient_response": 42,
        "reason_intolerance": 17,
        "reason_not_specified": 0,
        "line_second": 50,
        "line_third": 9,
        "line_unknown": 0,
        "remission": 35,
        "response": 13,
        "failure": 7,
        "unknown": 4,
    },
    "tacrolimus": {
        "n": 219,
        "reason_insufficient_response": 158,
        "reason_intolerance": 43,
        "reason_not_specified": 18,
        "line_second": 153,
        "line_third": 53,
        "line_unknown": 13,
        "remission": 130,
        "response": 33,
        "failure": 30,
        "unknown": 26,
    },
}

# Fingerprints of the encoded baseline. A deliberate correction of a baseline value must
# update these after review; an accidental edit fails here.
EXPECTED_SHA256 = {
    "studies.tsv": "604b7919527db4f6f4b80290c950daa9e8ed390e0145b30da247fe87c8b72219",
    "arms.tsv": "cf057f11e0ace5b822f12bd60fd5232808b91bbf745393e0334c14da62c47804",
    "crosstabs.tsv": "0320d719e7702d0e19afd14b3afecc0da28024cc01a9da08c86b432603babb52",
    "published_percentages.tsv": "ed2621bcd535425c499664df6737c3efb7240bb4d4f74d87b4efd3f324be63f6",
    "discontinuations.tsv": "d1f557cd317a269a8d4599f8aa46dfeedd30d4c569d5c2e0b533ea7331edeadf",
}


@pytest.fixture(scope="module")
def baseline():
    return load_baseline(BASELINE)


@pytest.mark.parametrize("cni", ["cyclosporine", "tacrolimus"])
def test_arm_sums_equal_published_summary_rows(baseline, cni):
    arms = [a for a in baseline.arms if a["cni"] == cni]
    for column, expected in PUBLISHED_TOTALS[cni].items():
        assert sum(int(a[column]) for a in arms) == expected, column


def test_studies_are_the_twenty_published_plus_the_dutch_cohort(baseline):
    literature = [s for s in baseline.studies if s["design"] != "unpublished case series"]
    assert len(literature) == 20
    assert sorted(int(s["ref"]) for s in literature) == [15, *range(26, 45)]
    dutch = [s for s in baseline.studies if s["design"] == "unpublished case series"]
    assert [s["study_id"] for s in dutch] == ["dutch-cohort"]
    assert dutch[0]["pmid"] == "" and dutch[0]["doi"] == ""


def test_study_counts_per_cni_match_results_text(baseline):
    # "Eleven studies reported the use of CYC ... 11 report the use of TAC" (+ Dutch cohort)
    per_cni = {
        c: {a["study_id"] for a in baseline.arms if a["cni"] == c} - {"dutch-cohort"}
        for c in PUBLISHED_TOTALS
    }
    assert len(per_cni["cyclosporine"]) == 11
    assert len(per_cni["tacrolimus"]) == 11
    literature_patients = {
        c: sum(
            int(a["n"]) for a in baseline.arms if a["cni"] == c and a["study_id"] != "dutch-cohort"
        )
        for c in PUBLISHED_TOTALS
    }
    assert literature_patients == {"cyclosporine": 58, "tacrolimus": 211}


def test_identifiers_cut_off_in_the_seed_are_left_empty(baseline):
    by_id = {s["study_id"]: s for s in baseline.studies}
    assert by_id["efe-2017"]["pmid"] == ""  # printed 'PMID:2860'
    assert by_id["roberts-2020"]["pmid"] == ""  # printed 'PMID:' then nothing
    assert by_id["person-1993"]["pmid"] == ""  # two PMIDs printed
    assert by_id["pape-2019"]["pmid"] == "31658173"
    assert all(s["identifier_note"] for s in by_id.values() if not s["pmid"])


def test_both_cyclosporine_discontinuation_figures_are_kept(baseline):
    cyc_ae = {
        (d["patients"], d["denominator"])
        for d in baseline.discontinuations
        if d["cni"] == "cyclosporine" and "intolerable" in str(d["reason"])
    }
    assert cyc_ae == {(9, 59), (11, 87)}


def test_baseline_files_are_unchanged():
    fingerprints = {
        name: hashlib.sha256((BASELINE / name).read_bytes()).hexdigest() for name in EXPECTED_SHA256
    }
    assert fingerprints == EXPECTED_SHA256


def _copy_baseline(tmp_path: Path) -> Path:
    target = tmp_path / "baseline"
    shutil.copytree(BASELINE, target)
    return target


def _edit_cell(path: Path, study_id: str, cni: str, column: str, value: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if cells[0] == study_id and cells[1] == cni:
            cells[header.index(column)] = value
            lines[number - 1] = "\t".join(cells)
            path.write_text("\n".join(lines), encoding="utf-8")
            return number
    raise AssertionError("row not found")


def test_outcomes_not_adding_up_name_file_line_and_field(tmp_path):
    folder = _copy_baseline(tmp_path)
    line = _edit_cell(folder / "arms.tsv", "efe-2017", "tacrolimus", "remission", "64")
    with pytest.raises(ValidationError) as error:
        load_baseline(folder)
    message = str(error.value)
    assert "arms.tsv" in message and f"line {line}" in message and "'remission'" in message
    assert "add up to 86, not n = 87" in message


def test_non_integer_count_is_rejected(tmp_path):
    folder = _copy_baseline(tmp_path)
    line = _edit_cell(folder / "arms.tsv", "aqel-2004", "tacrolimus", "n", "11.5")
    with pytest.raises(ValidationError, match=rf"line {line}, field 'n'.*non-negative integer"):
        load_baseline(folder)


def test_unknown_cni_is_rejected(tmp_path):
    folder = _copy_baseline(tmp_path)
    _edit_cell(folder / "arms.tsv", "aqel-2004", "tacrolimus", "cni", "sirolimus")
    with pytest.raises(ValidationError, match="field 'cni'.*allowed: cyclosporine, tacrolimus"):
        load_baseline(folder)


def test_crosstab_disagreeing_with_per_study_reasons_is_caught(tmp_path):
    folder = _copy_baseline(tmp_path)
    path = folder / "crosstabs.tsv"
    path.write_text(
        path.read_text().replace(
            "insufficient_response\tremission\t105", "insufficient_response\tremission\t106"
        )
    )
    with pytest.raises(ConsistencyError, match="indication=insufficient_response.*201.*200"):
        load_baseline(folder)


def test_wrong_columns_are_named(tmp_path):
    folder = _copy_baseline(tmp_path)
    path = folder / "studies.tsv"
    path.write_text(path.read_text().replace("first_author", "firstauthor", 1))
    with pytest.raises(InputFileError, match="studies.tsv, line 1: missing column"):
        load_baseline(folder)
