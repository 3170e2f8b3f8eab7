"""Run identity: ids, entries never overwritten, the latest run and the runs of a date; the
run lock and its holder note."""

import threading

import pytest

from livingreview.runs.registry import (
    RunEntry,
    RunIdError,
    check_run_id,
    current_run_id,
    latest_run,
    latest_run_of_date,
    list_runs,
    new_run_id,
    read_run,
    record_run,
    runs_of_date,
    started_at,
    trigger_of,
)
from livingreview.runs.runlock import RunLockTimeout, hold_run_lock, holder, is_locked


def test_ids_sort_by_start_and_name_their_trigger():
    first = new_run_id("scheduled", now=1_000_000)
    second = new_run_id("desk", now=1_000_001)
    assert first < second
    assert trigger_of(second) == "desk"
    assert started_at(first) == "1970-01-12T13:46:40Z"
    with pytest.raises(RunIdError, match="not valid"):
        check_run_id("../etc")
    with pytest.raises(RunIdError, match="unknown run trigger"):
        new_run_id("cron")


def test_current_run_id_is_the_launchers_or_a_new_one_put_into_the_environment():
    env = {}
    run_id = current_run_id(env)
    assert trigger_of(run_id) == "manual" and env["LIVINGREVIEW_RUN_ID"] == run_id
    assert current_run_id(env) == run_id
    assert trigger_of(current_run_id({"LIVINGREVIEW_RUN_TRIGGER": "desk"})) == "desk"


def test_runs_of_one_date_each_keep_their_entry(tmp_path):
    runs = tmp_path / "runs"
    ids = [new_run_id("manual", now=10), new_run_id("desk", now=20), new_run_id("desk", now=30)]
    for number, run_id in enumerate(ids):
        record_run(
            RunEntry(
                run_id,
                trigger_of(run_id),
                "2026-11-23",
                started_at(run_id),
                finished=started_at(run_id),
                status="failed" if number == 2 else "succeeded",
                error="Error: x.tsv, line 2" if number == 2 else "",
            ),
            runs,
        )
    assert [row["run_id"] for row in list_runs(runs)] == ids
    assert runs_of_date("2026-11-23", runs) == ids
    assert runs_of_date("2026-11-30", runs) == []
    assert latest_run(runs).run_id == ids[2] and latest_run(runs).status == "failed"
    assert latest_run_of_date("2026-11-23", runs).run_id == ids[1]
    assert read_run(ids[0], runs).status == "succeeded"
    with pytest.raises(RunIdError, match="already recorded"):
        record_run(RunEntry(ids[0], "manual", "2026-11-23", "x"), runs)
    assert read_run(ids[0], runs).status == "succeeded"


def test_run_lock_waits_for_its_holder_and_names_it(tmp_path):
    held = threading.Event()
    release = threading.Event()

    def desk_refresh():
        with hold_run_lock(tmp_path, "desk", "r1"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=desk_refresh)
    thread.start()
    assert held.wait(10)
    assert is_locked(tmp_path) and holder(tmp_path)["trigger"] == "desk"
    assert holder(tmp_path)["run_id"] == "r1"
    seen = []
    with pytest.raises(RunLockTimeout):
        with hold_run_lock(
            tmp_path, "scheduled", "r2", wait_seconds=0.2, on_wait=seen.append, poll_seconds=0.05
        ):
            pass
    release.set()
    thread.join(10)
    with hold_run_lock(tmp_path, "scheduled", "r2", wait_seconds=5):
        pass
    assert holder(tmp_path) is None
