"""The desk refreshes the review itself: when, how and what people see (a stand-in workflow).

The refresher is driven with a small stand-in for the ``snakemake`` program that records its
arguments and environment and waits for the test's go-ahead; the real workflow runs in the
browser cycle test (test_desk_refresh_browser.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from desk_support import BASE, TA_HEADER, make_project, pid, pinned_clock, sign_in
from starlette.testclient import TestClient

from livingreview.desk.app import create_app
from livingreview.desk.project import Project
from livingreview.desk.refresh import (
    FAILED,
    IDLE,
    LOG_DIR,
    NEEDS_SEARCH,
    RUNNING,
    WAITING,
    Refresher,
    RefreshSettings,
    last_log_line,
    missing_snapshots,
    named_people,
    refresh_environment,
    snakemake_command,
)
from livingreview.runs.registry import trigger_of
from livingreview.runs.runlock import hold_run_lock

FAKE = """\
import json, os, pathlib, subprocess, sys, time
calls = pathlib.Path(os.environ["FAKE_CALLS"])
with open(calls, "a") as out:
    out.write(json.dumps({
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "run_id": os.environ.get("LIVINGREVIEW_RUN_ID", ""),
        "trigger": os.environ.get("LIVINGREVIEW_RUN_TRIGGER", ""),
        "profile": os.environ.get("SNAKEMAKE_PROFILE"),
        "api_key": os.environ.get("NCBI_API_KEY"),
    }) + "\\n")
number = len(calls.read_text().splitlines())
if os.environ.get("FAKE_CHILD"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    pathlib.Path(os.environ["FAKE_CHILD"]).write_text(str(child.pid))
go = calls.with_name(f"go-{number}")
while not go.exists():
    time.sleep(0.05)
print("Building DAG of jobs...")
error = os.environ.get("FAKE_ERROR", "")
if error:
    if os.environ.get("FAKE_RECORD"):
        sys.path.insert(0, os.environ["FAKE_RECORD"])
        from livingreview.runs.registry import RunEntry, record_run
        run_id = os.environ["LIVINGREVIEW_RUN_ID"]
        record_run(RunEntry(run_id, "desk", "2026-11-23", "now", "now", "failed", error),
                   pathlib.Path("results") / "runs")
        print("a longer traceback line that is not the error")
    else:
        print(error)
    sys.exit(1)
"""

SHEET_ERROR = (
    "resources/screening/title_abstract/reviewer-2.tsv line 2, field 'decision': 'perhaps' "
    "is not allowed (include, exclude, maybe); correct the sheet"
)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` (generous bound: the machine may be busy; not a timing test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def project(tmp_path) -> Path:
    root = make_project(tmp_path / "project", n=4)
    for day in ("2021-10-31", "2026-11-23"):  # the snapshots a run of the default config uses
        folder = root / "results" / "search" / "pubmed" / day
        folder.mkdir(parents=True)
        (folder / "provenance.json").write_text("{}\n")
    (root / "profiles" / "default").mkdir(parents=True)
    return root


@pytest.fixture
def fake(tmp_path, monkeypatch) -> Path:
    """The stand-in program; returns the file where it records its calls."""
    program = tmp_path / "fake-snakemake"
    program.write_text(f"#!{sys.executable}\n{FAKE}")
    program.chmod(0o755)
    calls = tmp_path / "calls" / "calls.jsonl"
    calls.parent.mkdir()
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    return calls


def calls_of(calls: Path) -> list[dict]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def go(calls: Path, number: int) -> None:
    (calls.parent / f"go-{number}").touch()


def refresher(project: Path, fake: Path, quiet: float = 0.0, **kw) -> Refresher:
    program = str(fake.parent.parent / "fake-snakemake")
    return Refresher(project, [], RefreshSettings(True, quiet, 2), program=program, **kw)


# --------------------------------------------------------------------------- pieces


def test_the_command_is_local_with_the_projects_own_profile_and_the_desks_config(tmp_path):
    (tmp_path / "profiles" / "default").mkdir(parents=True)
    extra = tmp_path / "team.yaml"
    command = snakemake_command(tmp_path, 3, [extra])
    assert command[0] == str(tmp_path / ".venv" / "bin" / "snakemake")
    assert command[1:] == [
        "--cores",
        "3",
        "--logger=livingreview",
        "--workflow-profile",
        "profiles/default",
        "--configfile",
        str(extra.resolve()),
    ]
    assert not any(arg in ("--profile", "--executor") for arg in command)


def test_the_environment_names_the_run_and_drops_profiles_and_secrets():
    env = refresh_environment(
        {"PATH": "/bin", "SNAKEMAKE_PROFILE": "slurm", "NCBI_API_KEY": "s3cret"},
        "20261207T000000Z-desk-abc123",
        ["NCBI_API_KEY"],
    )
    assert env == {
        "PATH": "/bin",
        "LIVINGREVIEW_RUN_ID": "20261207T000000Z-desk-abc123",
        "LIVINGREVIEW_RUN_TRIGGER": "desk",
    }


def test_missing_snapshots_are_the_dates_the_run_needs_and_does_not_find(project):
    assert missing_snapshots(Project.load(project)) == []
    (project / "results" / "search" / "pubmed" / "2026-11-23" / "provenance.json").unlink()
    assert missing_snapshots(Project.load(project)) == ["2026-11-23"]


def test_the_last_log_line_and_whose_sheet_an_error_names(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("Building DAG\n\x1b[31mfinal: it broke\x1b[0m\n\n")
    assert last_log_line(log) == "final: it broke"
    assert last_log_line(tmp_path / "missing.log") == ""
    people = ["reviewer-1", "reviewer-2", "extractor-1"]
    assert named_people(SHEET_ERROR, people) == ("reviewer-2",)
    assert named_people("resources/extraction/cni-2024/extractor-1.tsv line 3", people) == (
        "extractor-1",
    )
    assert named_people("config.yaml: 'run_date' is not a date", people) == ()


# --------------------------------------------------------------------------- running


def test_a_refresh_runs_the_workflow_under_the_run_lock_with_its_own_id_and_log(
    project, fake, monkeypatch
):
    monkeypatch.setenv("SNAKEMAKE_PROFILE", "slurm")
    monkeypatch.setenv("NCBI_API_KEY", "s3cret-key")
    seen: list[dict | None] = []
    worker = refresher(project, fake)
    worker.start()
    try:
        worker.refresh_now()
        wait_for(lambda: calls_of(fake), "the run to start")
        state = worker.state()
        assert state.phase == RUNNING
        holder = json.loads((project / ".snakemake" / "run-holder.json").read_text())
        seen.append(holder)
        go(fake, 1)
        wait_for(lambda: worker.state().generation == 1, "the run to end")
    finally:
        worker.stop()
    (call,) = calls_of(fake)
    assert call["cwd"] == str(project)
    assert "--workflow-profile" in call["argv"] and "--profile" not in call["argv"]
    assert call["trigger"] == "desk" and trigger_of(call["run_id"]) == "desk"
    assert call["profile"] is None and call["api_key"] is None
    assert seen[0] is not None
    assert seen[0]["trigger"] == "desk" and seen[0]["run_id"] == call["run_id"]
    assert not (project / ".snakemake" / "run-holder.json").exists()  # released
    state = worker.state()
    assert (state.phase, state.last_run_id, state.last_ok) == (IDLE, call["run_id"], True)
    log = (project / LOG_DIR / f"{call['run_id']}.log").read_text()
    assert "Building DAG of jobs" in log and "s3cret" not in log


def test_saves_wait_for_quiet_and_saves_during_a_run_make_one_more_run(project, fake):
    worker = refresher(project, fake, quiet=0.5)
    worker.start()
    try:
        worker.note_save()
        assert worker.state().queued  # not yet: the desk has not been quiet long enough
        wait_for(lambda: len(calls_of(fake)) == 1, "the first run")
        for _ in range(3):
            worker.note_save()
        assert worker.state().queued
        go(fake, 1)
        wait_for(lambda: len(calls_of(fake)) == 2, "the one run after it")
        assert not worker.state().queued
        go(fake, 2)
        wait_for(lambda: worker.state().generation == 2, "the second run to end")
    finally:
        worker.stop()
    assert len(calls_of(fake)) == 2
    assert not worker.state().queued


def test_a_save_through_any_desk_process_is_seen_in_the_journals(project, fake):
    journal = project / "resources" / "screening" / "journal.jsonl"
    worker = refresher(project, fake, watched=lambda: [journal])
    worker.start()
    try:
        journal.write_text('{"a": 1}\n')
        wait_for(lambda: calls_of(fake), "a run after the journal changed")
        go(fake, 1)
        wait_for(lambda: worker.state().generation == 1, "the run to end")
    finally:
        worker.stop()


def test_a_run_held_elsewhere_makes_the_desk_wait_and_say_so(project, fake):
    worker = refresher(project, fake)
    with hold_run_lock(project, "scheduled", "20261207T000000Z-scheduled-abc123"):
        worker.start()
        try:
            worker.refresh_now()
            wait_for(lambda: worker.state().phase == WAITING, "the desk to wait")
            assert worker.state().waiting_for == "scheduled"
            assert calls_of(fake) == []
        except BaseException:
            worker.stop()
            raise
    try:
        wait_for(lambda: calls_of(fake), "the run once the lock is free")
        go(fake, 1)
        wait_for(lambda: worker.state().generation == 1, "the run to end")
    finally:
        worker.stop()


def test_a_snakemake_typed_in_a_terminal_makes_the_desk_wait_until_it_exits(project, fake):
    """A run typed without a launcher holds the run lock from its planning process until it
    exits (claim_run_lock, as runs.smk calls it): the desk waits, says for whom, and runs
    once that process is gone, even when it was killed."""
    typed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from livingreview.runs.runlock import claim_run_lock; "
            "assert claim_run_lock(sys.argv[1], 'manual', '20261207T000000Z-manual-abc123'); "
            "print('held', flush=True); time.sleep(600)",
            str(project),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    worker = refresher(project, fake)
    try:
        assert typed.stdout is not None and typed.stdout.readline() == "held\n"
        worker.start()
        worker.refresh_now()
        wait_for(lambda: worker.state().phase == WAITING, "the desk to wait")
        assert worker.state().waiting_for == "manual" and worker.state().error == ""
        assert calls_of(fake) == []
        typed.kill()  # SIGKILL: the kernel releases the lock
        typed.wait()
        wait_for(lambda: calls_of(fake), "the run once the typed run is gone")
        go(fake, 1)
        wait_for(lambda: worker.state().generation == 1, "the run to end")
    finally:
        typed.kill()
        worker.stop()
    assert worker.state().last_ok


def test_a_missing_snapshot_starts_no_run_and_asks_for_a_search(project, fake):
    (project / "results" / "search" / "pubmed" / "2026-11-23" / "provenance.json").unlink()
    worker = refresher(project, fake)
    assert worker.run_once() is False
    state = worker.state()
    assert state.phase == NEEDS_SEARCH
    assert "2026-11-23" in state.error and "bin/scheduled-update" in state.error
    assert calls_of(fake) == []
    assert not (project / LOG_DIR).exists()


@pytest.mark.parametrize("recorded", [True, False], ids=["run-record", "log-fallback"])
def test_a_failed_refresh_keeps_the_workflows_one_line_error(project, fake, monkeypatch, recorded):
    monkeypatch.setenv("FAKE_ERROR", SHEET_ERROR)
    if recorded:
        monkeypatch.setenv("FAKE_RECORD", str(Path(__file__).parents[1] / "src"))
    go(fake, 1)
    worker = refresher(project, fake)
    assert worker.run_once() is False
    state = worker.state()
    assert (state.phase, state.last_ok, state.error) == (FAILED, False, SHEET_ERROR)
    assert state.error_names == ("reviewer-2",)


def test_stopping_the_desk_kills_the_whole_run(project, fake, tmp_path, monkeypatch):
    child_file = tmp_path / "child.pid"
    monkeypatch.setenv("FAKE_CHILD", str(child_file))
    worker = refresher(project, fake)
    worker.start()
    worker.refresh_now()
    wait_for(child_file.exists, "the run's child process")
    wait_for(lambda: child_file.read_text().strip(), "its pid")
    child = int(child_file.read_text())
    worker.stop()

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        # a zombie (reaped by init later) counts as gone
        status = Path(f"/proc/{child}/stat")
        return not status.exists() or status.read_text().split()[2] == "Z"

    wait_for(gone, "the child to be killed")
    assert worker.state().phase != RUNNING
    assert not (project / ".snakemake" / "run-holder.json").exists()


# --------------------------------------------------------------------------- on the pages


@pytest.fixture
def app(project, fake, tmp_path):
    program = str(fake.parent.parent / "fake-snakemake")
    application = create_app(
        project,
        clock=pinned_clock,
        state_dir=tmp_path / "state",
        refresh=True,
        snakemake_program=program,
    )
    desk = application.state.desk
    desk.refresher.settings = RefreshSettings(True, 0.0, 2)
    return application


def test_only_adjudicators_and_data_managers_refresh_now(app, fake):
    with TestClient(app, base_url=BASE):  # runs the app's lifespan: the refresher starts
        reviewer, csrf = sign_in(app, "reviewer-1")
        refused = reviewer.post("/refresh", data={"csrf": csrf}, follow_redirects=False)
        assert refused.status_code == 403
        assert "Refresh the review now" not in reviewer.get("/screen/title_abstract").text
        assert calls_of(fake) == []
        adjudicator, csrf = sign_in(app, "adjudicator-1")
        page = adjudicator.get("/adjudicate").text
        assert "Refresh the review now" in page and 'data-live="reload"' in page
        answer = adjudicator.post(
            "/refresh",
            data={"csrf": csrf, "back": "https://evil.example/x"},
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        wait_for(lambda: calls_of(fake), "the run")
        assert adjudicator.get("/refresh/status").json()["phase"] == RUNNING
        go(fake, 1)
        wait_for(lambda: app.state.desk.refresher.state().generation == 1, "the run to end")


def test_a_save_on_the_desk_refreshes_and_a_failure_shows_only_to_who_can_fix_it(
    app, fake, project, monkeypatch
):
    monkeypatch.setenv("FAKE_ERROR", SHEET_ERROR)
    go(fake, 1)
    with TestClient(app, base_url=BASE):
        reviewer, csrf = sign_in(app, "reviewer-1")
        before = reviewer.get("/refresh/status").json()
        assert before["phase"] == IDLE and before["refreshing"] and not before["can_refresh"]
        saved = reviewer.post(
            f"/screen/title_abstract/record/{pid(1)}",
            data={"csrf": csrf, "decision": "include"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert (
            project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
        ).read_text() == (TA_HEADER + f"{pid(1)}\tinclude\t\t\t2026-11-23\n")
        desk = app.state.desk
        wait_for(lambda: desk.refresher.state().generation == 1, "the refresh after the save")
        mine = reviewer.get("/refresh/status").json()
        assert mine["phase"] == FAILED and mine["error"] == ""  # reviewer-2's sheet: not mine
        assert "reviewer-2" not in json.dumps(mine)
        other, _ = sign_in(app, "reviewer-2")
        assert other.get("/refresh/status").json()["error"] == SHEET_ERROR
        adjudicator, _ = sign_in(app, "adjudicator-1")
        status = adjudicator.get("/refresh/status").json()
        assert status["error"] == SHEET_ERROR and status["can_refresh"]
        assert reviewer.get("/screen/title_abstract").status_code == 200  # still serving


def test_a_needed_search_is_told_to_adjudicators_and_data_managers_only(app, fake, project):
    (project / "results" / "search" / "pubmed" / "2026-11-23" / "provenance.json").unlink()
    with TestClient(app, base_url=BASE):
        adjudicator, csrf = sign_in(app, "adjudicator-1")
        answer = adjudicator.post("/refresh", data={"csrf": csrf}, headers={"x-csrf-token": csrf})
        assert answer.status_code == 202
        desk = app.state.desk
        wait_for(lambda: desk.refresher.state().phase == NEEDS_SEARCH, "the check to run")
        told = adjudicator.get("/refresh/status").json()
        assert "a search is needed" in told["error"] and "bin/scheduled-update" in told["error"]
        manager, _ = sign_in(app, "data-manager-1")
        assert "a search is needed" in manager.get("/refresh/status").json()["error"]
        reviewer, _ = sign_in(app, "reviewer-1")
        assert reviewer.get("/refresh/status").json()["error"] == ""
    assert calls_of(fake) == []
