"""The workflow end to end, in a temporary copy of the project."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import run_snakemake
from run_support import only_registration

pytestmark = pytest.mark.workflow

PUBLISHED_OUTCOMES = [
    ("cni", "cyclosporine", 59, 35, 13, 7, 4),
    ("cni", "tacrolimus", 219, 130, 33, 30, 26),
    ("indication", "insufficient_response", 200, 105, 37, 13, 45),
    ("indication", "intolerance", 60, 40, 1, 6, 13),
    ("line", "second", 203, 106, 20, 20, 57),
    ("line", "third", 62, 16, 10, 4, 32),
]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_outcomes_tsv_reproduces_the_published_counts(default_run):
    rows = read_rows(default_run / "results" / "synthesis" / "outcomes.tsv")
    assert list(rows[0]) == [
        "grouping",
        "group",
        "n",
        "remission",
        "response",
        "failure",
        "unknown",
    ]
    got = [
        (
            r["grouping"],
            r["group"],
            *(int(r[c]) for c in ("n", "remission", "response", "failure", "unknown")),
        )
        for r in rows
    ]
    assert got == PUBLISHED_OUTCOMES


def test_tests_tsv_reproduces_the_published_p_values(default_run):
    rows = read_rows(default_run / "results" / "synthesis" / "tests.tsv")
    assert list(rows[0]) == ["test", "comparison", "statistic", "p_value"]
    p_values = [float(r["p_value"]) for r in rows]
    assert [r["test"] for r in rows] == ["fisher_exact", "linear_by_linear", "linear_by_linear"]
    assert round(p_values[0], 3) == 0.116
    assert round(p_values[1], 3) == 0.498
    assert p_values[2] < 0.001
    assert "50/9" in rows[0]["comparison"] and "153/53" in rows[0]["comparison"]


def test_summary_shows_published_percentages(default_run):
    text = (default_run / "results" / "synthesis" / "summary.md").read_text()
    for fragment in (
        "35 (59%)",
        "130 (59%)",
        "105 (53%)",
        "40 (67%)",
        "106 (52%)",
        "16 (26%)",
        "< 0.001",
    ):
        assert fragment in text


def test_study_table_traces_every_arm_to_its_baseline_line(default_run):
    rows = read_rows(default_run / "results" / "extraction" / "studies.tsv")
    assert len(rows) == 24
    assert all(r["source_file"].endswith("arms.tsv") and int(r["source_line"]) >= 2 for r in rows)
    assert sum(int(r["n"]) for r in rows) == 278


def test_second_run_has_nothing_to_do(default_run):
    result = run_snakemake(default_run, "--dry-run")
    assert only_registration(result), result.stdout


def test_lint_is_clean(default_run):
    result = run_snakemake(default_run, "--lint", check=False)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    assert "Congratulations, your workflow is in a good condition!" in text, text


def test_invalid_config_stops_before_writing_anything(project_copy):
    result = run_snakemake(project_copy, "--config", "run_date=2026-13-01", check=False)
    assert result.returncode != 0
    assert "key 'run_date'" in result.stderr + result.stdout
    assert not (project_copy / "results").exists()


def test_edited_baseline_row_changes_the_outcome_or_fails(project_copy):
    arms = project_copy / "resources" / "baseline" / "arms.tsv"
    text = arms.read_text()
    # Move one Efe 2017 patient from 'unknown' to 'remission': still adds up, so the run
    # succeeds, and the published tacrolimus figure is no longer reproduced.
    lines = text.split("\n")
    header = lines[0].split("\t")
    for i, line in enumerate(lines):
        cells = line.split("\t")
        if cells[0] == "efe-2017":
            cells[header.index("remission")] = "66"
            cells[header.index("unknown")] = "11"
            lines[i] = "\t".join(cells)
    arms.write_text("\n".join(lines))
    run_snakemake(project_copy)
    rows = read_rows(project_copy / "results" / "synthesis" / "outcomes.tsv")
    tacrolimus = next(r for r in rows if r["group"] == "tacrolimus")
    assert (tacrolimus["remission"], tacrolimus["unknown"]) == ("131", "25")
