"""Human files are read by their content, not their timestamp.

Spreadsheet programs, ``cp -p``, unzip, rsync -t, sync clients and restored backups give a
changed file an *older* timestamp than the results made from it. Every human input is
therefore declared with its timestamp ignored and its content digest passed as a rule
parameter (workflow/rules/common.smk: human_inputs, human_content): an edit reruns its
consumers whatever the timestamp, a file that was only touched reruns nothing, and a file
restored to the content of the last run is seen as unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import copy_finished_run, run_snakemake
from run_support import only_registration
from test_scheduled import (  # noqa: F401 (pytest fixtures)
    RUN_DATE,
    completed_copy,
    completed_project,
    scheduled_update,
)

from livingreview.io import read_rows

pytestmark = pytest.mark.workflow

SHEET = "resources/screening/title_abstract/baven-pronk-2022.tsv"
VERDICTS = "resources/dedup/verdicts.tsv"
EXPORT = "resources/imports/embase/2021-10-31-baseline-reconstructed.ris"
ARMS = "resources/baseline/arms.tsv"
HOUR = 3600


@pytest.fixture(scope="module")
def project(default_run, tmp_path_factory) -> Path:
    return copy_finished_run(default_run, tmp_path_factory.mktemp("content_reruns") / "project")


def rewrite_with_older_mtime(path: Path, text: str) -> None:
    """What `cp -p` of an edited copy does: new content, timestamp an hour before."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, (before.st_atime - HOUR, before.st_mtime - HOUR))


def planned_rules(project: Path, *args: str) -> set[str]:
    result = run_snakemake(project, "--dry-run", *args)
    return {
        line.split()[1].rstrip(":")
        for line in result.stdout.splitlines()
        if line.startswith("rule ")
    }


@pytest.mark.parametrize(
    "relative, edit, consumers",
    [
        (
            SHEET,
            lambda t: t.replace("included study mistilis", "included study (ed.) mistilis", 1),
            {"check_screening_sheets", "screen"},
        ),
        (
            VERDICTS,
            lambda t: t.replace("separate reports", "separate reports (checked)", 1),
            {"check_dedup_verdicts", "dedup"},
        ),
        (
            EXPORT,
            lambda t: t.replace("a real-world-experience", "a real world experience", 1),
            {"check_export", "import_export"},
        ),
        (
            ARMS,
            lambda t: t.replace("\n", "\r\n"),
            {"check_extraction_sheets", "merge_extractions", "crosstabulate"},
        ),
    ],
    ids=["decision sheet", "dedup verdicts", "export", "baseline table"],
)
def test_edit_with_older_timestamp_is_picked_up_and_a_restore_is_not_a_change(
    project, relative, edit, consumers
):
    path = project / relative
    original = path.read_text(encoding="utf-8")
    assert edit(original) != original
    rewrite_with_older_mtime(path, edit(original))
    assert consumers <= planned_rules(project)
    # Restored (as from a backup, timestamp older still): the content of the last run.
    rewrite_with_older_mtime(path, original)
    assert planned_rules(project) == set()


def test_a_moved_or_copied_project_reruns_nothing(default_run, tmp_path):
    """Code inputs are declared relative to the project: a copy elsewhere is up to date."""
    copy = copy_finished_run(default_run, tmp_path / "elsewhere" / "project")
    result = run_snakemake(copy, "--dry-run")
    assert only_registration(result), result.stdout


def test_touched_files_rerun_nothing(project):
    for relative in (SHEET, VERDICTS, EXPORT, ARMS):
        (project / relative).touch()
    result = run_snakemake(project, "--dry-run")
    assert only_registration(result), result.stdout


def test_config_edits_with_older_timestamp_are_picked_up(project, tmp_path):
    config = project / "config.yaml"
    original = config.read_text(encoding="utf-8")
    rewrite_with_older_mtime(
        config, original.replace("estimate_change: 0.05", "estimate_change: 0.1")
    )
    assert "whats_new" in planned_rules(project)
    rewrite_with_older_mtime(config, original)
    assert planned_rules(project) == set()
    # An extra config file, as `--configfile` takes it, saved an hour "ago".
    extra = tmp_path / "team.yaml"
    extra.write_text("screening:\n  ranking:\n    terms_shown: 3\n", encoding="utf-8")
    os.utime(extra, (0, 0))
    assert "screen" in planned_rules(project, "--configfile", str(extra))


def test_an_edited_sheet_with_older_timestamp_changes_the_results(project):
    sheet = project / SHEET
    original = sheet.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split("\t")
    rows = [dict(zip(header, line.rstrip("\n").split("\t"), strict=True)) for line in lines[1:]]
    index = next(
        i for i, r in enumerate(rows) if r["decision"] == "exclude" and r["reason"] != "not_human"
    )
    rows[index] = {**rows[index], "reason": "not_human", "note": "test edit"}
    edited = lines[0] + "".join("\t".join(r[c] for c in header) + "\n" for r in rows)
    record_id = rows[index]["record_id"]
    try:
        rewrite_with_older_mtime(sheet, edited)
        run_snakemake(project)
        status = read_rows(project / "results/screening/status.tsv")
        row = next(r for r in status if record_id in r["member_record_ids"].split("; "))
        assert (row["status"], row["exclusion_reason"]) == ("excluded_title_abstract", "not_human")
    finally:
        rewrite_with_older_mtime(sheet, original)
        run_snakemake(project)


def test_scheduled_update_picks_up_an_edit_with_older_timestamp(completed_copy):  # noqa: F811
    project = completed_copy  # a finished scheduled run
    sheet = project / SHEET
    lines = sheet.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split("\t")
    rows = [dict(zip(header, line.rstrip("\n").split("\t"), strict=True)) for line in lines[1:]]
    index = next(
        i for i, r in enumerate(rows) if r["decision"] == "exclude" and r["reason"] != "not_human"
    )
    rows[index] = {**rows[index], "reason": "not_human"}
    rewrite_with_older_mtime(
        sheet, lines[0] + "".join("\t".join(r[c] for c in header) + "\n" for r in rows)
    )
    result = scheduled_update(project, "--run-date", RUN_DATE)
    assert result.returncode == 0, result.stdout + result.stderr
    status = read_rows(project / "results/screening/status.tsv")
    record_id = rows[index]["record_id"]
    row = next(r for r in status if record_id in r["member_record_ids"].split("; "))
    assert row["exclusion_reason"] == "not_human"
