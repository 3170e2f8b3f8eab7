"""bin/scheduled-update: arguments, the run lock, exit codes, the run record of a real run.

Workflow runs happen in temporary copies of the project (never in the real tree), with the
copy's own package first on PYTHONPATH so the jobs run the copied code.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, copy_finished_run, copy_project

from livingreview.runs.registry import latest_run, list_runs, new_run_id, runs_of_date
from livingreview.runs.runlock import hold_run_lock

pytestmark = pytest.mark.workflow

RUN_DATE = "2026-11-23"  # the date the default replay recordings cover
VENV = Path(sys.executable).parent.parent


def make_project(destination: Path) -> Path:
    """A copy of the project with bin/ (the scheduler) as well."""
    project = copy_project(destination)
    shutil.copytree(ROOT / "bin", project / "bin")
    return project


def scheduler_env(project: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LIVINGREVIEW_VENV": str(VENV),
        "PYTHONPATH": str(project / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def scheduled_update(
    project: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(project / "bin" / "scheduled-update"), *args],
        cwd=project,
        env=scheduler_env(project),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_scheduled_update(project: Path, *args: str) -> subprocess.Popen:
    """Start a run in its own process group (so a drill can kill the whole run at once)."""
    return subprocess.Popen(
        [str(project / "bin" / "scheduled-update"), *args],
        cwd=project,
        env=scheduler_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def checksums(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative paths), except under ``skip`` prefixes."""
    sums = {}
    if not folder.exists():
        return sums
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not relative.startswith(skip):
            sums[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def human_files(project: Path) -> dict[str, str]:
    """Checksums of the human-owned and recorded inputs (everything under resources/)."""
    return checksums(project / "resources")


@pytest.fixture(scope="session")
def completed_project(tmp_path_factory) -> Path:
    """One complete scheduled run of the default (replay) configuration; copy it, don't change it."""
    project = make_project(tmp_path_factory.mktemp("scheduled") / "project")
    result = scheduled_update(project, "--run-date", RUN_DATE)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def completed_copy(completed_project, tmp_path) -> Path:
    """A private copy of the completed run (timestamps kept, so nothing looks out of date)."""
    return copy_finished_run(completed_project, tmp_path / "project")


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "args, message",
    [
        (["--run-date", "2026-02-30"], "not a valid date"),
        (["--run-date"], "needs a date"),
        (["--config", "x=1", "run_date=2026-11-23"], "--run-date"),
        (["--config=x=1"], "with a space"),
        (["--directory", "/tmp"], "fixed by this script"),
    ],
)
def test_bad_arguments_exit_2_and_touch_nothing(tmp_path, args, message):
    project = make_project(tmp_path / "project")
    result = scheduled_update(project, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (project / "logs").exists() and not (project / "results").exists()
    assert not (project / ".snakemake").exists()


def test_help_documents_the_exit_codes(tmp_path):
    project = make_project(tmp_path / "project")
    result = scheduled_update(project, "--help")
    assert result.returncode == 0
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "75 "):
        assert f"\n     {code}" in result.stdout or f"\n    {code}" in result.stdout, code


# ----------------------------------------------------------------------------- the run lock


def test_a_held_lock_means_exit_75_and_nothing_touched(tmp_path):
    project = make_project(tmp_path / "project")
    (project / ".snakemake").mkdir()
    lock_file = project / ".snakemake" / "scheduled-update.lock"
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = checksums(project)
        result = scheduled_update(project, "--run-date", RUN_DATE, timeout=60)
    assert result.returncode == 75
    assert "another run (unknown" in result.stderr and "holds" in result.stderr
    assert checksums(project) == before
    assert not (project / "logs").exists() and not (project / "results").exists()


def test_a_scheduled_holder_means_exit_75_at_once(tmp_path):
    project = make_project(tmp_path / "project")
    other = new_run_id("scheduled")
    with hold_run_lock(project, "scheduled", other):
        result = scheduled_update(project, "--run-date", RUN_DATE, timeout=60)
    assert result.returncode == 75
    assert f"another run (scheduled {other}) holds" in result.stderr
    assert not (project / "results").exists()


def test_a_desk_refresh_is_waited_for_within_the_bound(tmp_path):
    project = make_project(tmp_path / "project")
    desk = new_run_id("desk")
    with hold_run_lock(project, "desk", desk):
        result = scheduled_update(
            project, "--run-date", RUN_DATE, "--wait-for-desk", "1", timeout=120
        )
    assert result.returncode == 75
    assert f"the desk is refreshing the review (run {desk}); waiting" in result.stderr
    assert "still held" in result.stderr
    assert not (project / "results").exists()


def test_a_scheduled_run_goes_on_once_the_desk_refresh_ends(tmp_path):
    project = make_project(tmp_path / "project")
    desk = new_run_id("desk")
    lock = hold_run_lock(project, "desk", desk)
    lock.__enter__()
    try:
        run = subprocess.Popen(
            [str(project / "bin" / "scheduled-update"), "--run-date", RUN_DATE, "--dry-run"],
            cwd=project,
            env=scheduler_env(project),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = run.stderr.readline()
        assert f"the desk is refreshing the review (run {desk}); waiting" in first
    finally:
        lock.__exit__(None, None, None)
    rest = run.stderr.read()
    assert run.wait(timeout=300) == 0, first + rest
    assert "-scheduled-" in rest and f"run_date {RUN_DATE}" in rest


def test_a_snakemake_started_by_hand_is_not_unlocked_under_it(tmp_path):
    project = make_project(tmp_path / "project")
    locks = project / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text(str(project / "config.yaml") + "\n")
    # a process working in the project, started like `python .venv/bin/snakemake ...`
    fake = tmp_path / "fakebin" / "snakemake"
    fake.parent.mkdir()
    fake.write_text("sleep 60\nexit 0\n")
    stand_in = subprocess.Popen(["bash", str(fake), "--cores", "2"], cwd=project)
    try:
        result = scheduled_update(project, "--run-date", RUN_DATE, timeout=60)
    finally:
        stand_in.kill()
        stand_in.wait()
    assert result.returncode == 75, result.stdout + result.stderr
    assert f"(pid {stand_in.pid}) is running" in result.stderr
    assert (locks / "0.input.lock").exists()
    assert not (project / "results").exists()


# ----------------------------------------------------------------------------- real runs


def test_scheduled_run_writes_the_record_and_a_dated_log(completed_project):
    record = completed_project / "results" / "runs" / "by-date" / RUN_DATE
    entry = latest_run(completed_project / "results" / "runs")
    assert entry.trigger == "scheduled" and entry.status == "succeeded"
    assert entry.run_date == RUN_DATE and runs_of_date(RUN_DATE, record.parents[1]) == [
        entry.run_id
    ]
    run_folder = completed_project / "results" / "runs" / entry.run_id
    assert (run_folder / "summary.json").read_bytes() == (record / "summary.json").read_bytes()
    summary = json.loads((record / "summary.json").read_text())
    manifest = json.loads((record / "manifest.json").read_text())
    assert summary["run_date"] == RUN_DATE
    assert summary["search"]["available"] and summary["search"]["kind"] == "update"
    assert summary["records"]["available"]
    assert summary["records"]["this_run"]["records_identified"] == summary["search"]["pmids_new"]
    assert summary["extraction"]["studies_total"] > 0
    # The first record compares with the previous version of the review (whats_new): the
    # default run adds no study, so nothing moved.
    assert summary["pooled_estimates"]["changed"] is False
    assert (record / "summary.md").read_text().startswith(f"# Run {RUN_DATE}")
    # the manifest covers the inputs, code and outputs of the run, with correct checksums
    assert "resources/baseline/arms.tsv" in manifest["inputs"]
    assert "src/livingreview/runs/record.py" in manifest["code"]
    for path, entry in manifest["outputs"].items():
        assert (
            hashlib.sha256((completed_project / path).read_bytes()).hexdigest() == entry["sha256"]
        ), path
    assert any(p.startswith("results/search/pubmed/2021-10-31/") for p in manifest["outputs"])
    assert manifest["config"]["run_date"] == RUN_DATE
    logs = list((completed_project / "logs" / "scheduled").glob("*.log"))
    assert [log.name for log in logs] == [f"{entry.run_id}_run-date-{RUN_DATE}.log"]
    assert "finished" in logs[0].read_text()


def test_rerun_with_nothing_new_adds_only_that_runs_entry(completed_copy):
    project = completed_copy
    runs = project / "results" / "runs"
    skip = ("runs/", "synthesis/history/")
    results_before = checksums(project / "results", skip=skip)
    human_before = human_files(project)
    record = runs / "by-date" / RUN_DATE
    record_before = checksums(record)
    [first] = list_runs(runs)
    result = scheduled_update(project, "--run-date", RUN_DATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert checksums(project / "results", skip=skip) == results_before
    assert human_files(project) == human_before
    assert checksums(record) == record_before  # nothing changed: the date's record stays
    assert "localrule run_record" not in result.stdout
    rows = list_runs(runs)
    assert rows[0] == first and len(rows) == 2 and rows[1]["trigger"] == "scheduled"
    second = rows[1]["run_id"]
    assert (runs / second / "summary.json").read_bytes() == (record / "summary.json").read_bytes()
    history = project / "results" / "synthesis" / "history"
    assert {p.name for p in history.iterdir()} == {first["run_id"], second}
    # the scheduler's output ends with the to-do block of the record, printed once
    heading = f"To do after the run of {RUN_DATE}:"
    assert result.stdout.count(heading) == 1
    block = result.stdout[result.stdout.index(heading) :]
    assert block.strip().splitlines()[1:] == [
        line.replace("`", "")
        for line in (record / "summary.md")
        .read_text()
        .split("## To do\n")[1]
        .split("\n\n")[0]
        .splitlines()
    ]


def test_notification_command_gets_the_summary_path(completed_copy):
    project = completed_copy
    seen = project / "notified.txt"
    script = project / "notify.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    result = scheduled_update(
        project,
        "--run-date",
        RUN_DATE,
        "--config",
        f"runs={{notify_command: '{sys.executable} {script}'}}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen.read_text().strip().endswith(f"results/runs/by-date/{RUN_DATE}/summary.md")
    assert (project / "results" / "runs" / "by-date" / RUN_DATE / "notification.json").exists()
    entry = latest_run(project / "results" / "runs")
    assert "notification.json" in entry.record
    manifest = (project / "results" / "runs" / "by-date" / RUN_DATE / "manifest.json").read_text()
    assert str(script) not in manifest  # the command (it may hold a token) is never recorded


def test_invalid_config_exits_3_before_anything_runs(completed_copy):
    project = completed_copy
    before_without_runs = checksums(project / "results", skip=("runs/",))
    result = scheduled_update(
        project, "--run-date", RUN_DATE, "--config", "dedup={title_same: 900}"
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "dedup.title_same" in result.stdout
    assert "invalid human input or config" in result.stderr
    assert "dedup.title_same" in result.stderr.strip().splitlines()[-1]
    entry = latest_run(project / "results" / "runs")
    assert entry.status == "failed" and "dedup.title_same" in entry.error
    assert checksums(project / "results", skip=("runs/",)) == before_without_runs
