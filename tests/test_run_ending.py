"""How a run ends: the to-do block (stdout, summary.md, summary.json), one clear error line,
and the message when a scheduled run holds the project. Package functions first, then real
workflow runs in copies of a finished default run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import SNAKEMAKE, copy_finished_run
from run_support import ending_of, snakemake

from livingreview.errors import ValidationError
from livingreview.io import sha256_file, write_tsv
from livingreview.runs.ending import (
    PLANNER_PID_ENV,
    JobError,
    busy_message,
    final_error_line,
    is_planner,
    job_error,
    print_todo,
    run_errors,
)
from livingreview.runs.registry import (
    RUN_ID_ENV,
    RunEntry,
    latest_run,
    latest_run_of_date,
    list_runs,
    new_run_id,
    read_run,
    runs_of_date,
)
from livingreview.runs.runlock import hold_run_lock
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


def failing_job_of_run(tmp_path: Path, name: str, raising: str, run_id: str) -> Path:
    """A job of run ``run_id`` that fails (LIVINGREVIEW_RUN_ID set, as a run's jobs inherit)."""
    log = tmp_path / f"{name}.log"
    script = (
        "from livingreview.logs import setup_logging\n"
        "from livingreview.errors import InputFileError, NetworkError\n"
        f"setup_logging({str(log)!r}, 'livingreview.job')\n"
        f"raise {raising}\n"
    )
    env = {**os.environ, RUN_ID_ENV: run_id}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 1 and f"run={run_id}" in result.stderr
    return log


def test_the_error_line_is_the_message_of_the_jobs_uncaught_error(tmp_path):
    run_id = new_run_id("manual")
    log = failing_job(
        tmp_path,
        "sheet",
        "InputFileError('sheet.tsv', 'bad cell', line=4, field='decision', value='perhaps', "
        "allowed='include, exclude')",
    )
    assert job_error(log, run_id) is None  # a marker naming no run is not this run's
    log = failing_job_of_run(
        tmp_path,
        "sheet",
        "InputFileError('sheet.tsv', 'bad cell', line=4, field='decision', value='perhaps', "
        "allowed='include, exclude')",
        run_id,
    )
    error = job_error(log, run_id)
    assert error.exit_code == 3 and error.marker.startswith("LIVINGREVIEW-ERROR InputFileError")
    assert error.message == (
        "sheet.tsv, line 4, field 'decision': bad cell (found 'perhaps'); allowed: include, exclude"
    )
    assert job_error(log, new_run_id("manual", now=0)) is None  # another run's log


def test_a_runs_failed_jobs_are_found_by_its_markers_in_the_project_logs(tmp_path):
    run_id, earlier = new_run_id("scheduled"), new_run_id("scheduled", now=0)
    logs = tmp_path / "logs"
    (logs / "search").mkdir(parents=True)
    (logs / "checks").mkdir()
    failing_job_of_run(logs / "search", "pubmed", "NetworkError('NCBI still failing')", run_id)
    failing_job_of_run(logs / "checks", "sheets", "InputFileError('s.tsv', 'bad', line=2)", run_id)
    failing_job_of_run(logs / "checks", "old", "InputFileError('o.tsv', 'old', line=9)", earlier)
    errors = run_errors(run_id, logs)
    assert [e.exit_code for e in errors] == [3, 4]  # invalid input first
    assert final_error_line(errors) == "Error: s.tsv, line 2: bad"
    assert [e.message for e in run_errors(earlier, logs)] == ["o.tsv, line 9: old"]


def test_run_ending_prints_markers_then_the_message_and_records_the_failed_run(tmp_path, capsys):
    run_id = new_run_id("manual")
    logs = tmp_path / "logs"
    logs.mkdir()
    failing_job_of_run(logs, "sheet", "InputFileError('s.tsv', 'bad', line=2)", run_id)
    ending = ending_of(tmp_path, run_id, RUN_DATE, logs=logs, stream=sys.stdout)
    ending.failed("snakemake.log")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("LIVINGREVIEW-ERROR InputFileError exit_code=3")
    assert lines[-1] == "Error: s.tsv, line 2: bad"
    entry = read_run(run_id, tmp_path / "runs")
    assert (entry.status, entry.error, entry.run_date) == ("failed", lines[-1], RUN_DATE)


def test_final_line_without_a_marker_points_to_the_log():
    assert final_error_line([JobError("logs/x.log", "M", 1, "")], "s.log") == (
        "Error: a job failed: see logs/x.log"
    )
    assert "s.log" in final_error_line([], "s.log")


# ----------------------------------------------------------------------------- who holds the project


def test_who_holds_the_project_decides_whether_a_run_may_start(tmp_path):
    assert busy_message(tmp_path, "any") is None  # nobody holds the run lock
    desk_run = new_run_id("desk")
    with hold_run_lock(tmp_path, "desk", desk_run):
        assert busy_message(tmp_path, desk_run) is None  # part of the desk's run: goes on
        message = busy_message(tmp_path, new_run_id("manual"))
        assert "desk is refreshing" in message and desk_run in message
    scheduled = new_run_id("scheduled")
    with hold_run_lock(tmp_path, "scheduled", scheduled):
        message = busy_message(tmp_path, None)
        assert "scheduled run" in message and "do not --unlock" in message
    assert busy_message(tmp_path, None) is None


# ----------------------------------------------------------------------------- real runs


@pytest.fixture
def finished(default_run, tmp_path) -> Path:
    """A private copy of a finished default run (timestamps kept: nothing is out of date)."""
    return copy_finished_run(default_run, tmp_path / "project")


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


BY_DATE = Path("results") / "runs" / "by-date" / RUN_DATE


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def the_only_run_since(project: Path, before: list[dict[str, str]]) -> RunEntry:
    runs = list_runs(project / "results" / "runs")
    assert runs[: len(before)] == before and len(runs) == len(before) + 1
    entry = read_run(runs[-1]["run_id"], project / "results" / "runs")
    assert entry is not None
    return entry


@pytest.mark.workflow
def test_an_invalid_sheet_ends_the_run_with_its_message_and_a_failed_entry(finished):
    sheet = finished / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    sheet.write_text(
        "record_id\tdecision\treason\tnote\tdecided_on\npubmed:36746473\tperhaps\t\t\t2026-11-20\n"
    )
    before = list_runs(finished / "results" / "runs")
    result = snakemake(finished)
    assert result.returncode == 1
    entry = the_only_run_since(finished, before)
    assert (entry.status, entry.error, entry.run_date) == (
        "failed",
        f"Error: {SHEET_ERROR}",
        RUN_DATE,
    )
    assert entry.trigger == "manual" and entry.record == []
    lines = lines_of(result.stdout)
    marker = f"LIVINGREVIEW-ERROR ValidationError exit_code=3 run={entry.run_id}"
    # the run's own last words: this run's marker, then the error's message
    assert lines.index(marker) < lines.index(entry.error)
    assert [line for line in lines if line.startswith("Error: ")][-1] == entry.error
    assert "Traceback" not in result.stdout
    assert "Traceback" in (finished / "logs" / "checks" / "screening_sheets.log").read_text()
    assert latest_run(finished / "results" / "runs") == entry


@pytest.mark.workflow
def test_an_invalid_config_is_a_failed_run_with_its_marker(finished):
    before = list_runs(finished / "results" / "runs")
    result = snakemake(finished, "--config", "run_date=2020-01-01")
    assert result.returncode == 1
    entry = the_only_run_since(finished, before)
    assert entry.status == "failed" and entry.run_date == "2020-01-01"
    assert "run_date" in entry.error and "2021-10-31" in entry.error
    [error] = run_errors(entry.run_id, finished / "logs")
    assert error.exit_code == 3 and error.marker.split()[1] == "ConfigError"


@pytest.mark.workflow
def test_every_run_has_its_own_entry_and_ends_with_the_todo_block_of_its_record(finished):
    runs = finished / "results" / "runs"
    [first_row] = list_runs(runs)  # the default run itself
    first = read_run(first_row["run_id"], runs)
    first_entry_text = (runs / first.run_id / "run.json").read_text()
    result = snakemake(finished)  # nothing changed: only the run registers itself
    assert result.returncode == 0, result.stdout
    second = the_only_run_since(finished, [first_row])
    assert second.status == "succeeded" and second.run_date == first.run_date == RUN_DATE
    assert runs_of_date(RUN_DATE, runs) == [first.run_id, second.run_id]
    assert latest_run_of_date(RUN_DATE, runs) == second == latest_run(runs)
    assert (runs / first.run_id / "run.json").read_text() == first_entry_text  # kept as it was
    record = finished / BY_DATE
    for name in ("summary.json", "summary.md", "manifest.json"):
        assert (runs / second.run_id / name).read_bytes() == (record / name).read_bytes()
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
    # each run archived the human inputs it used, and its synthesis as its history entry
    manifest = json.loads((record / "manifest.json").read_text())
    assert second.details["inputs"] == {p: e["sha256"] for p, e in manifest["inputs"].items()}
    for digest in second.details["inputs"].values():
        assert sha256_file(runs / "inputs" / digest) == digest
    history = finished / "results" / "synthesis" / "history"
    assert {p.name for p in history.iterdir()} >= {first.run_id, second.run_id}


@pytest.mark.workflow
def test_a_run_refused_while_another_run_holds_the_project_says_why(finished):
    before = list_runs(finished / "results" / "runs")
    scheduled = new_run_id("scheduled")
    with hold_run_lock(finished, "scheduled", scheduled):
        result = snakemake(finished)
        assert result.returncode == 1
        assert "a scheduled run (bin/scheduled-update" in result.stdout
        assert "do not --unlock it" in result.stdout
        # a process of the holder's run goes on (here: a dry run)
        inside = subprocess.run(
            [str(SNAKEMAKE), "--cores", "1", "--dry-run"],
            cwd=finished,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(finished / "src"), RUN_ID_ENV: scheduled},
        )
        assert inside.returncode == 0, inside.stdout + inside.stderr
    assert list_runs(finished / "results" / "runs") == before  # a refusal is no run


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
    summary = json.loads((finished / BY_DATE / "summary.json").read_text())
    records_found = summary["records"]
    # the export enters this run (the first on or after its search): no run of its own
    assert records_found["runs_taken_in"] == [RUN_DATE]
    assert records_found["this_run_by_source"]["embase"]["records_identified"] == 3
    assert records_found["this_run_by_source"]["pubmed"]["records_identified"] == 2
    assert records_found["this_run"]["records_identified"] == 5
    assert records_found["this_run"]["duplicates_removed"] == (
        records_found["this_run_by_source"]["embase"]["duplicates_removed"]
        + records_found["this_run_by_source"]["pubmed"]["duplicates_removed"]
    )
    text = (finished / BY_DATE / "summary.md").read_text()
    assert "new records found in this run: 5 (pubmed 2, embase 3)" in text


def test_only_the_planner_checks_who_holds_the_project():
    env: dict[str, str] = {}
    assert is_planner(env) and env[PLANNER_PID_ENV] == str(os.getpid())
    assert is_planner(env)  # the planner asking again
    parent = {PLANNER_PID_ENV: str(os.getppid())}  # a live process that is not this one
    assert not is_planner(parent)
    stale = {PLANNER_PID_ENV: "not-a-pid"}
    assert is_planner(stale) and stale[PLANNER_PID_ENV] == str(os.getpid())


def test_the_schedulers_copy_of_a_runs_output_is_not_a_failed_job(tmp_path):
    run_id = new_run_id("scheduled")
    logs = tmp_path / "logs"
    (logs / "scheduled").mkdir(parents=True)
    failing_job_of_run(logs, "sheet", "InputFileError('s.tsv', 'bad', line=2)", run_id)
    (logs / "scheduled" / f"{run_id}_run-date-{RUN_DATE}.log").write_text(
        (logs / "sheet.log").read_text()
    )
    assert [Path(e.log).name for e in run_errors(run_id, logs)] == ["sheet.log"]
