"""How a run ends: the to-do block (stdout, summary.md, summary.json), one clear error line,
and the message when a scheduled run holds the project. Package functions first, then real
workflow runs in copies of a finished default run."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import SNAKEMAKE, copy_finished_run

from livingreview.errors import ValidationError
from livingreview.io import write_tsv
from livingreview.runs.ending import (
    SCHEDULED_RUN_ACTIVE,
    JobError,
    RunEnding,
    failed_job_logs,
    final_error_line,
    job_error,
    print_todo,
    run_errors,
    scheduled_run_active,
)
from livingreview.runs.todo import todo_block, todo_section
from livingreview.todo import TODO_COLUMNS, read_todo

RUN_DATE = "2026-11-23"
SHEET_ERROR = (
    "resources/screening/title_abstract/reviewer-1.tsv, line 2, field 'decision': decision "
    "not allowed (found 'perhaps'); allowed: include, exclude, maybe"
)


def write_todo(path: Path, *tasks: tuple) -> str:
    write_tsv(path, [dict(zip(TODO_COLUMNS, task)) for task in tasks], TODO_COLUMNS)
    return str(path)


# ----------------------------------------------------------------------------- to-do files


def test_todo_files_are_checked_against_the_contract(tmp_path):
    good = write_todo(
        tmp_path / "good.tsv",
        ("reviewer", "r1", "full_text", "screen publications", 2, "q.tsv", "s.tsv"),
    )
    assert read_todo(good)[0]["count"] == 2
    bad = write_todo(
        tmp_path / "bad.tsv",
        ("referee", "r1", "full_text", "screen publications", 0, "q.tsv", "s.tsv"),
    )
    with pytest.raises(ValidationError, match=r"bad.tsv, line 2, field 'role'.*first of 2"):
        read_todo(bad)
    (tmp_path / "columns.tsv").write_text("role\tperson\n")
    with pytest.raises(Exception, match="columns.tsv"):
        read_todo(tmp_path / "columns.tsv")


def test_todo_block_lists_every_stage_in_order_and_says_what_is_unknown(tmp_path):
    screening = write_todo(
        tmp_path / "screening.tsv",
        ("adjudicator", "", "full_text", "settle conflicts", 1, "c.tsv", "adj.tsv"),
        ("reviewer", "r1", "title_abstract", "screen publications", 2, "q.tsv", "s.tsv"),
    )
    records = write_todo(
        tmp_path / "records.tsv",
        ("data_manager", "", "dedup", "decide uncertain duplicate pairs", 3, "m.tsv", "v.tsv"),
    )
    todo = todo_section(
        {"records_todo": records, "screening_todo": screening, "extraction_todo": None}
    )
    assert [row["stage"] for row in todo["tasks"]] == ["dedup", "title_abstract", "full_text"]
    assert todo["missing"] == ["extraction_todo"]
    block = todo_block({"run_date": RUN_DATE, "todo": todo})
    assert block.splitlines() == [
        f"To do after the run of {RUN_DATE}:",
        "- data_manager (deduplication): decide uncertain duplicate pairs: 3, listed in m.tsv; "
        "act in v.tsv",
        "- r1 (reviewer, title/abstract): screen publications: 2, listed in q.tsv; act in s.tsv",
        "- adjudicator (full text): settle conflicts: 1, listed in c.tsv; act in adj.tsv",
        "- not known: the workflow writes no to-do file for extraction",
    ]
    nothing = todo_section({"records_todo": write_todo(tmp_path / "empty.tsv")})
    assert todo_block({"run_date": RUN_DATE, "todo": nothing}).splitlines()[1:] == [
        "- nothing waits for anyone"
    ]


def test_todo_command_prints_the_block_of_a_record(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text(
        json.dumps({"run_date": RUN_DATE, "todo": {"tasks": [], "missing": [], "from": []}})
    )
    result = subprocess.run(
        [sys.executable, "-m", "livingreview.runs", "todo", str(summary)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines() == [
        f"To do after the run of {RUN_DATE}:",
        "- nothing waits for anyone",
    ]
    missing = subprocess.run(
        [sys.executable, "-m", "livingreview.runs", "todo", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 0 and missing.stdout == ""


def test_a_record_the_run_did_not_rebuild_is_printed_with_its_date(tmp_path, capsys):
    summary = tmp_path / "summary.json"
    summary.write_text(
        json.dumps(
            {
                "run_date": RUN_DATE,
                "generated_at": "2026-11-23T06:00:00+00:00",
                "todo": {"tasks": [], "missing": [], "from": []},
            }
        )
    )
    started = time.time()
    os.utime(summary, (started - 600, started - 600))
    assert print_todo(summary, fresh_since=started)
    assert "not rebuilt by this run" in capsys.readouterr().out
    os.utime(summary, (started + 1, started + 1))
    assert print_todo(summary, fresh_since=started)
    assert "not rebuilt" not in capsys.readouterr().out
    assert not print_todo(tmp_path / "absent.json")


# ----------------------------------------------------------------------------- the error line


def failing_job(tmp_path: Path, name: str, raising: str) -> Path:
    """Run a script the way a workflow job runs (logging set up, uncaught error); its log."""
    log = tmp_path / f"{name}.log"
    script = (
        "from livingreview.logs import setup_logging\n"
        "from livingreview.errors import InputFileError, NetworkError\n"
        f"setup_logging({str(log)!r}, 'livingreview.job')\n"
        "import logging; logging.getLogger('livingreview.job').info('reading sheets')\n"
        f"raise {raising}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    # on screen: the message and the marker, never the traceback
    assert "Traceback" not in result.stderr and "LIVINGREVIEW-ERROR" in result.stderr
    assert "Traceback" in log.read_text()  # the traceback is in the job's log
    return log


def test_the_error_line_is_the_message_of_the_jobs_uncaught_error(tmp_path):
    log = failing_job(
        tmp_path,
        "sheet",
        "InputFileError('sheet.tsv', 'bad cell', line=4, field='decision', value='perhaps', "
        "allowed='include, exclude')",
    )
    error = job_error(log)
    assert error.exit_code == 3 and error.marker.startswith("LIVINGREVIEW-ERROR InputFileError")
    assert error.message == (
        "sheet.tsv, line 4, field 'decision': bad cell (found 'perhaps'); allowed: include, exclude"
    )
    assert job_error(log, run_id="another-run") is not None  # a marker without a run id
    marked = tmp_path / "marked.log"
    marked.write_text(log.read_text().replace("exit_code=3", "exit_code=3 run=old-run"))
    assert job_error(marked, run_id="this-run") is None  # an old run's log printed again
    assert job_error(marked, run_id="old-run").exit_code == 3


def test_invalid_input_is_the_line_a_run_ends_with_when_jobs_fail_differently(tmp_path):
    network = failing_job(tmp_path, "search", "NetworkError('NCBI still failing')")
    sheet = failing_job(tmp_path, "sheet", "InputFileError('s.tsv', 'bad', line=2)")
    snakemake_log = tmp_path / "snakemake.log"
    snakemake_log.write_text(
        "Error in rule search_pubmed:\n"
        f"    log: {network} (check log file(s) for error details)\n"
        "Error in rule check_screening_sheets:\n"
        f"    log: {sheet} (check log file(s) for error details)\n"
    )
    assert failed_job_logs(snakemake_log.read_text()) == [str(network), str(sheet)]
    errors = run_errors([snakemake_log], since=0)
    assert [e.exit_code for e in errors] == [3, 4]
    assert final_error_line(errors, snakemake_log) == "Error: s.tsv, line 2: bad"
    # a log older than the run (a job that never started this time) does not count
    os.utime(sheet, (time.time() - 3600, time.time() - 3600))
    assert [e.exit_code for e in run_errors(snakemake_log, since=time.time() - 60)] == [4]


def test_run_ending_prints_markers_then_the_message_last(tmp_path, capsys):
    log = failing_job(tmp_path, "sheet", "InputFileError('s.tsv', 'bad', line=2)")
    snakemake_log = tmp_path / "snakemake.log"
    snakemake_log.write_text(f"    log: {log} (check log file(s) for error details)\n")
    ending = RunEnding(summary_json=str(tmp_path / "none.json"), started=0, stream=sys.stdout)
    ending.failed([str(snakemake_log)])
    print("Complete log(s): ... (what Snakemake prints on its way out)")
    ending.last_words()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("LIVINGREVIEW-ERROR InputFileError exit_code=3")
    assert lines[-1] == "Error: s.tsv, line 2: bad"


# ----------------------------------------------------------------------------- scheduled run


def hold_lock(path: Path) -> subprocess.Popen:
    """Another process holding the scheduler's flock, as bin/scheduled-update does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"handle = open({str(path)!r}, 'a')\n"
            "fcntl.flock(handle, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(300)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_scheduled_run_is_seen_through_its_lock(tmp_path):
    lock = tmp_path / ".snakemake" / "scheduled-update.lock"
    assert not scheduled_run_active(lock)  # no lock file: no scheduled run
    lock.parent.mkdir()
    lock.touch()
    assert not scheduled_run_active(lock)  # a lock file nobody holds
    holder = hold_lock(lock)
    try:
        assert scheduled_run_active(lock)
        # a process with the lock file open (a child of the scheduler inherits its locked
        # descriptor) is part of that run, not blocked by it
        with open(lock, "a"):
            assert not scheduled_run_active(lock)
    finally:
        holder.kill()
        holder.wait()
    assert not scheduled_run_active(lock)


def test_refusal_to_start_during_a_scheduled_run_is_explained_last(tmp_path):
    lock = tmp_path / "scheduled-update.lock"
    out = tmp_path / "out.txt"
    holder = hold_lock(lock)
    try:
        with open(out, "w") as stream:
            ending = RunEnding(summary_json="s.json", started=0, lock_path=str(lock), stream=stream)
            logger = logging.getLogger("test.snakemake.logging")
            logger.addHandler(ending.lock_watch)
            logger.error("Error: Directory cannot be locked.", extra={"exception": "LockException"})
            logger.removeHandler(ending.lock_watch)
            ending.last_words()
        assert out.read_text().splitlines()[-1] == SCHEDULED_RUN_ACTIVE
    finally:
        holder.kill()
        holder.wait()
    # no scheduled run: Snakemake's own advice stays the last word
    with open(out, "w") as stream:
        ending = RunEnding(summary_json="s.json", started=0, lock_path=str(lock), stream=stream)
        ending.lock_watch.refused = True
        ending.last_words()
    assert out.read_text() == ""


def test_final_line_without_a_marker_points_to_the_log():
    assert final_error_line([JobError("logs/x.log", "M", 1, "")], "s.log") == (
        "Error: a job failed: see logs/x.log"
    )


# ----------------------------------------------------------------------------- real runs


@pytest.fixture
def finished(default_run, tmp_path) -> Path:
    """A private copy of a finished default run (timestamps kept: nothing is out of date)."""
    return copy_finished_run(default_run, tmp_path / "project")


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the workflow with stdout and stderr in one stream, in the order they came."""
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--directory", str(project), *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


@pytest.mark.workflow
def test_an_invalid_sheet_ends_the_run_with_its_message_alone(finished):
    sheet = finished / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    sheet.write_text(
        "record_id\tdecision\treason\tnote\tdecided_on\npubmed:36746473\tperhaps\t\t\t2026-11-20\n"
    )
    result = snakemake(finished)
    assert result.returncode == 1
    assert last_line(result.stdout) == f"Error: {SHEET_ERROR}"
    assert "LIVINGREVIEW-ERROR ValidationError exit_code=3" in result.stdout
    assert "Traceback" not in result.stdout
    assert "Traceback" in (finished / "logs" / "checks" / "screening_sheets.log").read_text()


@pytest.mark.workflow
def test_a_run_ends_with_the_todo_block_of_its_record(finished):
    result = snakemake(finished, "--forcerun", "run_record")
    assert result.returncode == 0, result.stdout
    record = finished / "results" / "runs" / RUN_DATE
    summary = json.loads((record / "summary.json").read_text())
    block = todo_block(summary)
    assert block in result.stdout and result.stdout.count(block.splitlines()[0]) == 1
    # summary.md opens with the same block (paths in backticks), summary.json holds its rows
    markdown = (record / "summary.md").read_text().split("\n## ")[1].splitlines()
    assert markdown[0] == "To do"
    assert [line.replace("`", "") for line in markdown[1:] if line] == block.splitlines()[1:]
    expected = [
        row
        for name in ("records", "screening", "extraction")
        if (finished / "results" / name / "todo.tsv").is_file()
        for row in read_todo(finished / "results" / name / "todo.tsv")
    ]
    assert sorted(map(str, summary["todo"]["tasks"])) == sorted(map(str, expected))


@pytest.mark.workflow
def test_a_run_refused_during_a_scheduled_run_says_so_last(finished):
    # A scheduled run holds the project: its flock, and Snakemake's lock on the run record.
    locks = finished / ".snakemake" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "0.output.lock").write_text(f"results/runs/{RUN_DATE}/summary.json\n")
    holder = hold_lock(finished / ".snakemake" / "scheduled-update.lock")
    try:
        result = snakemake(finished, "--forcerun", "run_record")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "LockException" in result.stdout
    assert last_line(result.stdout) == SCHEDULED_RUN_ACTIVE
    # the same refusal without a scheduled run keeps Snakemake's own advice
    result = snakemake(finished, "--forcerun", "run_record")
    assert result.returncode == 1 and "--unlock" in last_line(result.stdout)


@pytest.mark.workflow
def test_records_of_an_export_searched_since_the_last_run_count_in_this_run(finished):
    baseline = (
        finished / "resources" / "imports" / "embase" / "2021-10-31-baseline-reconstructed.ris"
    )
    records = baseline.read_text(encoding="utf-8").split("ER  - ")
    export = finished / "resources" / "imports" / "embase" / "2026-11-20.ris"
    export.write_text("ER  - ".join(records[:3]) + "ER  - \n", encoding="utf-8")
    config = yaml.safe_load((finished / "config.yaml").read_text())
    extra = finished / "extra.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "imports": [
                    *config["imports"],
                    {
                        "database": "embase",
                        "search_date": "2026-11-20",
                        "format": "ris",
                        "dialect": "embase",
                        "files": ["resources/imports/embase/2026-11-20.ris"],
                    },
                ]
            }
        )
    )
    result = snakemake(finished, "--configfile", "config.yaml", str(extra))
    assert result.returncode == 0, result.stdout
    summary = json.loads((finished / "results" / "runs" / RUN_DATE / "summary.json").read_text())
    records_found = summary["records"]
    assert records_found["runs_taken_in"] == ["2026-11-20", RUN_DATE]
    assert records_found["this_run_by_source"]["embase"]["records_identified"] == 3
    assert records_found["this_run_by_source"]["pubmed"]["records_identified"] == 2
    assert records_found["this_run"]["records_identified"] == 5
    assert records_found["this_run"]["duplicates_removed"] == (
        records_found["this_run_by_source"]["embase"]["duplicates_removed"]
        + records_found["this_run_by_source"]["pubmed"]["duplicates_removed"]
    )
    text = (finished / "results" / "runs" / RUN_DATE / "summary.md").read_text()
    assert "new records found in this run: 5 (embase 3, pubmed 2)" in text
