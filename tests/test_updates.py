"""What's new: movement of pooled estimates against the previous version, and the archive."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import ROOT

from livingreview.baseline import load_baseline
from livingreview.extraction import STUDY_TABLE_COLUMNS, baseline_study_rows
from livingreview.history import archive_run, latest_history
from livingreview.io import write_tsv
from livingreview.meta import COLUMNS, pool
from livingreview.synthesis import remission_rows, study_proportions
from livingreview.updates import FLAG, compare_pooled, report_update

BASELINE_ROWS = baseline_study_rows(load_baseline(ROOT / "resources" / "baseline"))


def pooled(estimate, low, high, subgroup="tacrolimus", method="DL", k=12):
    return {
        "subgroup": subgroup,
        "method": method,
        "k": k,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
    }


def test_small_move_is_not_flagged():
    rows = compare_pooled(
        [pooled(0.50, 0.40, 0.60)], [pooled(0.52, 0.42, 0.62, k=13)], "prev", 0.05, True
    )
    assert rows[0]["flag"] == "" and rows[0]["change"] == pytest.approx(0.02)
    assert (rows[0]["previous_k"], rows[0]["k"]) == (12, 13)


def test_large_move_is_flagged_with_reason():
    rows = compare_pooled(
        [pooled(0.50, 0.40, 0.60)], [pooled(0.56, 0.45, 0.58)], "prev", 0.05, True
    )
    assert rows[0]["flag"] == FLAG
    assert "moved by +0.060" in rows[0]["why"]


def test_previous_estimate_outside_new_ci_is_flagged():
    rows = compare_pooled(
        [pooled(0.50, 0.40, 0.60)], [pooled(0.54, 0.51, 0.57)], "prev", 0.05, True
    )
    assert rows[0]["flag"] == FLAG and "outside the new 95% CI" in rows[0]["why"]
    assert (
        compare_pooled([pooled(0.50, 0.40, 0.60)], [pooled(0.54, 0.51, 0.57)], "prev", 0.05, False)[
            0
        ]["flag"]
        == ""
    )


def test_new_group_or_failed_glmm_has_no_change():
    rows = compare_pooled([], [pooled(None, None, None, method="GLMM")], "prev", 0.05, True)
    assert rows[0]["change"] is None and rows[0]["flag"] == ""


def test_remission_rows_cover_each_cni_and_both():
    rows = remission_rows(BASELINE_ROWS)
    both = [r for r in rows if r["subgroup"] == "both"]
    assert len(both) == 21  # one unit per study: arms of one study are not independent
    assert sum(int(r["events"]) for r in both) == 165 and sum(int(r["n"]) for r in both) == 278
    assert sum(int(r["events"]) for r in rows if r["subgroup"] == "cyclosporine") == 35
    pape = next(r for r in both if r["study_id"] == "pape-2019")
    assert (pape["n"], pape["events"], pape["cni"]) == (15, 9, "cyclosporine; tacrolimus")


def test_study_proportions_use_exact_intervals():
    rows = study_proportions(
        [{"subgroup": "x", "study": "s", "study_id": "s", "cni": "tacrolimus", "n": 1, "events": 0}]
    )
    assert rows[0]["ci_low"] == 0.0 and rows[0]["ci_high"] == pytest.approx(0.975)


def _write_run(folder: Path, arms) -> tuple[Path, Path]:
    studies = folder / "studies.tsv"
    write_tsv(studies, arms, STUDY_TABLE_COLUMNS)
    meta = folder / "meta_analysis.tsv"
    write_tsv(meta, pool(remission_rows(arms), analysis="remission"), COLUMNS)
    return meta, studies


def test_report_update_against_published_then_previous_run(tmp_path):
    history = tmp_path / "history"
    meta, studies = _write_run(tmp_path, BASELINE_ROWS)
    kwargs = dict(history_dir=history, estimate_change=0.05, flag_previous_outside_ci=True)
    line = report_update(
        meta,
        studies,
        "2024-01-01",
        tsv_path=tmp_path / "w.tsv",
        markdown_path=tmp_path / "w.md",
        **kwargs,
    )
    assert "published review" in line and "0 studies entered" in line
    assert not history.exists()  # archived by the run's registration, not by whats_new
    archive_run(history, "20240101T060000Z-scheduled-00aa", "2024-01-01", [meta, studies])
    # A later run adds a (test-only) tacrolimus study with 30/30 in remission.
    new_arm = {
        **BASELINE_ROWS[-1],
        "study_id": "test-study",
        "label": "Test study",
        "version": "update",
        "n": 30,
        "remission": 30,
        "response": 0,
        "failure": 0,
        "unknown": 0,
    }
    later = tmp_path / "later"
    later.mkdir()
    meta2, studies2 = _write_run(later, [*BASELINE_ROWS, new_arm])
    report_update(
        meta2,
        studies2,
        "2025-01-01",
        tsv_path=later / "w.tsv",
        markdown_path=later / "w.md",
        **kwargs,
    )
    text = (later / "w.md").read_text()
    assert "Compared with: **the run of 2024-01-01**" in text
    assert "Studies entered: test-study." in text
    with open(later / "w.tsv", newline="") as handle:
        rows = {(r["subgroup"], r["method"]): r for r in csv.DictReader(handle, delimiter="\t")}
    assert (
        rows[("tacrolimus", "DL")]["k"] == "13" and rows[("tacrolimus", "DL")]["previous_k"] == "12"
    )
    assert float(rows[("tacrolimus", "DL")]["change"]) > 0
    assert float(rows[("cyclosporine", "DL")]["change"]) == pytest.approx(0.0)
    assert latest_history(history, "2025-01-01").name == "20240101T060000Z-scheduled-00aa"
    assert latest_history(history, "2024-01-01") is None


def test_each_run_has_its_own_history_entry_and_compares_with_an_earlier_date(tmp_path):
    """Two runs of one run_date both keep their entry; the previous version of a run is the
    newest entry of an earlier run_date (an old date-named folder still counts)."""
    history = tmp_path / "history"
    meta, studies = _write_run(tmp_path, BASELINE_ROWS)
    old = history / "2023-06-01"
    old.mkdir(parents=True)
    (old / "meta_analysis.tsv").write_bytes(meta.read_bytes())
    first = archive_run(history, "20240101T060000Z-scheduled-00aa", "2024-01-01", [meta])
    second = archive_run(history, "20240101T120000Z-desk-00bb", "2024-01-01", [meta])
    assert first != second and first.is_dir() and second.is_dir()
    assert latest_history(history, "2024-01-01") == old
    assert latest_history(history, "2024-01-02") == second
    (meta).write_text("changed\n")
    assert archive_run(history, "20240101T060000Z-scheduled-00aa", "2024-01-01", [meta]) == first
    assert (first / "meta_analysis.tsv").read_text() != "changed\n"  # written once
