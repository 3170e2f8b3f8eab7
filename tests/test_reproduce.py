"""Reproducing a past run: its archived human inputs, snapshots and config rebuild the outputs
its manifest recorded, although people saved decisions since (real workflow runs in copies)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_finished_run, run_snakemake

from livingreview.io import read_rows
from livingreview.runs.archive import ArchiveError, restore_inputs
from livingreview.runs.registry import list_runs, read_run
from livingreview.runs.reproduce import ReproduceError, reproduce_run

pytestmark = pytest.mark.workflow

SHEET = Path("resources") / "screening" / "title_abstract" / "reviewer-1.tsv"


def test_an_earlier_run_is_reproduced_after_later_decisions(default_run, tmp_path):
    project = copy_finished_run(default_run, tmp_path / "project")
    runs = project / "results" / "runs"
    [first_row] = list_runs(runs)
    first = read_run(first_row["run_id"], runs)
    first_manifest = json.loads((runs / first.run_id / "manifest.json").read_text())

    # a reviewer decides a publication of their queue: the next run's outputs change
    [queued, *_] = read_rows(project / "results/screening/queue/title_abstract/reviewer-1.tsv")
    (project / SHEET).write_text(
        "record_id\tdecision\treason\tnote\tdecided_on\n"
        f"{queued['record_id']}\texclude\tnot_adult\t\t2026-11-30\n"
    )
    run_snakemake(project)
    second = read_run(list_runs(runs)[-1]["run_id"], runs)
    assert second.run_id != first.run_id and second.status == "succeeded"
    assert str(SHEET) in second.details["inputs"] and str(SHEET) not in first.details["inputs"]
    second_manifest = json.loads((runs / second.run_id / "manifest.json").read_text())
    changed = [
        path
        for path, entry in first_manifest["outputs"].items()
        if second_manifest["outputs"].get(path, {}).get("sha256") != entry["sha256"]
    ]
    assert "results/screening/status.tsv" in changed  # the later decision counted

    rebuilt = tmp_path / "rebuilt"
    result = reproduce_run(project, first.run_id, rebuilt, cores=2)
    assert result.snakemake_exit == 0
    assert result.matches, result.differing_outputs
    assert result.outputs_compared == len(first_manifest["outputs"])
    assert not (rebuilt / SHEET).exists()  # the later sheet is not part of the first run
    again = json.loads((rebuilt / "results/runs/by-date/2026-11-23/manifest.json").read_text())
    assert {p: e["sha256"] for p, e in again["outputs"].items()} == {
        p: e["sha256"] for p, e in first_manifest["outputs"].items()
    }

    # the command line says so too, and refuses a folder that is not empty
    command = subprocess.run(
        [sys.executable, "-m", "livingreview.runs", "--root", str(project), "reproduce"]
        + [first.run_id, str(rebuilt)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )
    assert command.returncode != 0 and "not empty" in command.stderr
    with pytest.raises(ReproduceError, match="no run"):
        reproduce_run(project, "20000101T000000Z-manual-0000", tmp_path / "none")


def test_archived_bytes_that_are_missing_or_damaged_are_refused(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    digest = "0" * 64
    with pytest.raises(ArchiveError, match="missing"):
        restore_inputs({"resources/x.tsv": digest}, tmp_path / "out", archive)
    (archive / digest).write_text("not what the name says")
    with pytest.raises(ArchiveError, match="no longer have the digest"):
        restore_inputs({"resources/x.tsv": digest}, tmp_path / "out", archive)
