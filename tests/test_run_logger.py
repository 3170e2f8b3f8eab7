"""The project's Snakemake logger plugin ends every run: its entry is written when Snakemake
stops, from structured events only, even when there was nothing to do; dry runs and
inspections (--lint, --summary) are no runs. Units with hand-made log records first, then real
Snakemake runs in copies of a finished default run."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import SNAKEMAKE, copy_finished_run
from run_support import ending_of, snakemake
from snakemake_interface_logger_plugins.common import LogEvent

import snakemake_logger_plugin_livingreview as plugin
from livingreview.io import write_text
from livingreview.runs import ending
from livingreview.runs.ending import RunEnding, announce_run, logger_ends_runs, planned_run
from livingreview.runs.register import record_is_current
from livingreview.runs.registry import list_runs, new_run_id, read_run
from livingreview.runs.runlock import HOLDER_PATH, holder

RUN_DATE = "2026-11-23"


# ----------------------------------------------------------------------------- the handler
class RecordingRun:
    """Stands for the announced RunEnding: remembers how the handler ended it."""

    def __init__(self) -> None:
        self.run_id = "r"
        self.results_runs = "results/runs"
        self.ended: list[bool] = []
        self.not_submitted: list[tuple[str, object, str]] = []

    def finish(self, failed: bool) -> None:
        self.ended.append(failed)

    def job_not_submitted(self, rule: str, jobid: object, message: str) -> None:
        self.not_submitted.append((rule, jobid, message))


@pytest.fixture
def announced(monkeypatch) -> RecordingRun:
    run = RecordingRun()
    monkeypatch.setattr(ending, "_PLANNED", [run])
    return run


def handler(dryrun: bool = False) -> plugin.LogHandler:
    return plugin.LogHandler(SimpleNamespace(dryrun=dryrun), None)  # type: ignore[arg-type]


def event(kind: LogEvent | None, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("snakemake", logging.INFO, "", 0, "any text", None, None)
    if kind is not None:
        record.event = kind
    record.__dict__.update(fields)
    return record


def test_an_executed_run_is_ended_once_as_succeeded_when_no_error_came(announced):
    h = handler()
    assert plugin.is_active() and logger_ends_runs()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.emit(event(None))  # e.g. "Nothing to be done": text, no event
    h.close()
    h.close()  # logging closes handlers again at exit
    assert announced.ended == [False]
    assert not plugin.is_active()


def test_an_error_event_or_an_exception_on_its_way_out_fails_the_run(announced):
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.emit(event(LogEvent.ERROR, exception="WorkflowError"))
    h.close()
    interrupted = handler()
    interrupted.emit(event(LogEvent.WORKFLOW_STARTED))
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt
        finally:
            interrupted.close()
    assert announced.ended == [True, True]


def test_text_that_reads_like_an_error_decides_nothing(announced):
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.emit(event(None, msg="Error in rule x: exit_code=3 At least one job did not complete"))
    h.close()
    assert announced.ended == [False]


def job_info(jobid: int, local: bool) -> logging.LogRecord:
    """Snakemake's record for a job it starts (snakemake/jobs.py ``Job.log_info``)."""
    return event(LogEvent.JOB_INFO, jobid=jobid, rule_name="dedup", rule_msg=None, local=local)


def job_error(jobid: int, message: str, **aux: object) -> logging.LogRecord:
    """Snakemake's record for a job an executor reports failed (``Job.log_error``, with the
    executor's keyword arguments as ``aux``; a cluster executor adds ``external_jobid`` once
    the cluster accepted the job)."""
    record = event(
        LogEvent.JOB_ERROR, jobid=jobid, rule_name="dedup", rule_msg=message, aux=aux, log=[]
    )
    record.levelno, record.msg = logging.ERROR, f"Error in rule dedup, jobid: {jobid}"
    return record


def test_a_cluster_job_reported_failed_without_a_cluster_job_id_was_never_submitted(announced):
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.emit(job_info(6, local=False))
    h.emit(job_error(6, "SLURM sbatch failed. The error message was 'sbatch: error: x'."))
    h.emit(event(LogEvent.ERROR, exception="WorkflowError"))
    h.close()
    assert announced.not_submitted == [
        ("dedup", 6, "SLURM sbatch failed. The error message was 'sbatch: error: x'.")
    ]
    assert announced.ended == [True]


@pytest.mark.parametrize(
    "local, aux",
    [
        (False, {"external_jobid": "4242"}),  # accepted by the cluster, then failed there
        (True, {}),  # a local job (every job with the local executor): its log says why
    ],
)
def test_a_job_that_ran_is_no_submission_failure(announced, local, aux):
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.emit(job_info(6, local=local))
    h.emit(job_error(6, "Job submission failed with exception: reads like one", **aux))
    h.emit(event(LogEvent.ERROR, exception="WorkflowError"))
    h.close()
    assert announced.not_submitted == [] and announced.ended == [True]


@pytest.mark.parametrize("dryrun, started", [(True, True), (False, False)])
def test_dry_runs_and_runs_never_executed_are_not_ended(announced, dryrun, started):
    h = handler(dryrun=dryrun)
    if started:
        h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.close()
    assert announced.ended == []


def test_another_workflow_is_left_alone(monkeypatch):
    monkeypatch.setattr(ending, "_PLANNED", [])
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.close()  # nothing announced: nothing to record, no error
    assert planned_run() is None


def test_a_run_that_cannot_be_recorded_says_so(tmp_path, monkeypatch, capsys):
    run = RunEnding(
        run_id="not a run id",
        run_date=RUN_DATE,
        run_summary="none.json",
        date_summary=str(tmp_path / "none.json"),
        results_runs=str(tmp_path / "runs"),
    )
    monkeypatch.setattr(ending, "_PLANNED", [])
    announce_run(run)
    h = handler()
    h.emit(event(LogEvent.WORKFLOW_STARTED))
    h.close()
    assert "could not be recorded" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the record
def test_a_refused_job_is_the_failed_runs_last_line_and_its_entrys_structured_kind(tmp_path):
    out = io.StringIO()
    run = ending_of(tmp_path, new_run_id("manual"), RUN_DATE, stream=out)
    run.job_not_submitted("pool_remission", 9, "sbatch: error: invalid account\n  (try x)")
    run.failed([".snakemake/log/a.snakemake.log"])
    run.finish(failed=True)
    line = (
        "Error: job pool_remission (jobid 9) could not be submitted to the cluster: "
        "sbatch: error: invalid account (try x)"
    )
    assert out.getvalue().splitlines()[-1] == line
    entry = read_run(run.run_id, tmp_path / "runs")
    assert entry is not None and (entry.error, entry.failure_kind) == (line, "submission")
    assert entry.details["not_submitted"] == [
        {
            "rule": "pool_remission",
            "jobid": "9",
            "message": "sbatch: error: invalid account\n  (try x)",
        }
    ]


def record_of(folder: Path, outputs: dict[str, str]) -> Path:
    from livingreview.io import sha256_file

    manifest = {"outputs": {p: {"sha256": sha256_file(p)} for p in outputs}, "code": {}}
    write_text(folder / "manifest.json", json.dumps(manifest))
    write_text(folder / "summary.json", "{}")
    write_text(folder / "summary.md", "")
    return folder


def test_a_record_is_current_while_its_files_keep_their_content(tmp_path):
    output = tmp_path / "out.tsv"
    output.write_text("a\n")
    record = record_of(tmp_path / "record", {str(output): ""})
    assert record_is_current(record)
    later = record.joinpath("summary.json").stat().st_mtime + 10
    os.utime(output, (later, later))  # rewritten, same bytes
    assert record_is_current(record)
    output.write_text("b\n")
    os.utime(output, (later, later))
    assert not record_is_current(record)
    output.unlink()
    assert not record_is_current(record)
    assert not record_is_current(tmp_path / "no-record")


def test_a_success_whose_record_lags_gets_an_entry_without_a_record(tmp_path, monkeypatch):
    monkeypatch.delenv("LIVINGREVIEW_SCHEDULER_PRINTS_TODO", raising=False)
    run = RunEnding(
        run_id=new_run_id("manual"),
        run_date=RUN_DATE,
        run_summary=str(tmp_path / "none.json"),
        date_summary=str(tmp_path / "by-date" / RUN_DATE / "summary.json"),
        results_runs=str(tmp_path / "runs"),
        history_dir=str(tmp_path / "history"),
    )
    run.finish(failed=False)
    run.finish(failed=True)  # recorded once
    entry = read_run(run.run_id, tmp_path / "runs")
    assert entry is not None and (entry.status, entry.record) == ("succeeded", [])
    assert "partial" in entry.details and run.recorded == "partial"


def test_without_the_plugin_onerror_records_the_line_with_snakemakes_log_files(tmp_path):
    assert not logger_ends_runs()
    run = ending_of(tmp_path, new_run_id("manual"), RUN_DATE)
    run.failed([".snakemake/log/a.snakemake.log"])  # as Snakemake passes it: a list
    entry = read_run(run.run_id, tmp_path / "runs")
    assert entry is not None and entry.status == "failed"
    assert entry.error.endswith("(its log: .snakemake/log/a.snakemake.log)")


# ----------------------------------------------------------------------------- real runs
@pytest.fixture
def finished(default_run, tmp_path) -> Path:
    return copy_finished_run(default_run, tmp_path / "project")


@pytest.mark.workflow
def test_nothing_to_do_is_snakemakes_own_and_still_a_recorded_run(finished):
    runs = finished / "results" / "runs"
    before = list_runs(runs)
    dry = snakemake(finished, "--dry-run")
    assert dry.returncode == 0 and "localrule" not in dry.stdout and "rule " not in dry.stdout
    for inspection in (["--lint"], ["--summary"], ["--list-rules"]):
        snakemake(finished, *inspection)
    assert list_runs(runs) == before  # a dry run and inspections are no runs
    result = snakemake(finished)
    assert result.returncode == 0, result.stdout
    after = list_runs(runs)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    entry = read_run(after[-1]["run_id"], runs)
    assert entry is not None and entry.status == "succeeded"
    assert entry.record == ["summary.json", "summary.md", "manifest.json"]
    # The typed run held the project's run lock while it planned and ran (its note names it)
    # and released it when it exited.
    note = json.loads((finished / HOLDER_PATH).read_text(encoding="utf-8"))
    assert (note["trigger"], note["run_id"]) == ("manual", entry.run_id)
    assert holder(finished) is None


@pytest.mark.workflow
def test_a_run_that_fails_while_snakemake_plans_its_jobs_gets_a_failed_entry(finished):
    runs = finished / "results" / "runs"
    before = list_runs(runs)
    result = snakemake(finished, "results/no-such-file.tsv")
    assert result.returncode == 1
    after = list_runs(runs)
    assert len(after) == len(before) + 1
    entry = read_run(after[-1]["run_id"], runs)
    assert entry is not None and entry.status == "failed" and entry.record == []
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert entry.error.startswith("Error: ") and entry.error in lines


def job_logs_since(project: Path, since: float) -> list[Path]:
    return [
        path
        for path in (project / "logs").rglob("*.log")
        if path.is_file() and path.stat().st_mtime >= since
    ]


@pytest.mark.workflow
def test_a_run_stopped_while_its_jobs_run_gets_a_failed_entry(finished):
    runs = finished / "results" / "runs"
    before = list_runs(runs)
    started = time.time() - 1
    process = subprocess.Popen(
        [str(SNAKEMAKE), "--cores", "1", "--forceall"],
        cwd=finished,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(finished / "src")},
    )
    try:
        # once a job has written its log, Snakemake is running jobs (not planning any more)
        while not job_logs_since(finished, started) and process.poll() is None:
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before it could be stopped"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    after = list_runs(runs)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    entry = read_run(after[-1]["run_id"], runs)
    assert entry is not None and entry.status == "failed" and entry.record == []
    assert entry.error in output.splitlines()


@pytest.mark.workflow
def test_without_the_plugin_a_run_with_jobs_is_still_recorded_by_its_handlers(finished):
    runs = finished / "results" / "runs"
    before = list_runs(runs)
    run_id = new_run_id("manual")
    result = subprocess.run(
        [
            str(SNAKEMAKE),
            "--cores",
            "2",
            "--workflow-profile",
            "none",
            "--forcerun",
            "run_record",
        ],
        cwd=finished,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(finished / "src"), "LIVINGREVIEW_RUN_ID": run_id},
    )
    assert result.returncode == 0, result.stdout
    assert len(list_runs(runs)) == len(before) + 1
    entry = read_run(run_id, runs)
    assert entry is not None and entry.status == "succeeded" and entry.record
