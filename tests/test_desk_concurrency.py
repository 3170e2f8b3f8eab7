"""Simultaneous saves and killed writers: every decision kept, every sheet valid, always.

Threads (two reviewers, two tabs each, over HTTP) and processes (two more desks on the same
project) write at once; a desk killed with SIGKILL between writing its temporary file and
renaming it, or at random moments, leaves the old sheet or the new one, never a broken one,
and a desk started afterwards finds the journal holding exactly the changes the sheet holds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from desk_support import TA_HEADER, make_project, pid, pinned_clock
from starlette.testclient import TestClient
from test_desk_crash import journal_agrees_with_sheets
from test_desk_http import BASE, token

from livingreview.desk.app import build_desk, create_app
from livingreview.desk.decisions import Verdict
from livingreview.desk.errors import NotFound
from livingreview.desk.humanfiles import CRASH_POINTS
from livingreview.desk.project import Project
from livingreview.screening.publications import load_publications
from livingreview.screening.sheets import read_sheet

N = 40
WRITER = """
import datetime as dt, os, signal, sys, time
from livingreview.desk.app import build_desk
from livingreview.desk.decisions import Verdict
from livingreview.desk.errors import NotFound

root, state, mode, reviewer = sys.argv[1:5]
ids = sys.argv[5:]
clock = lambda: dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

def pause(tmp):
    print("READY", tmp, flush=True)
    time.sleep(60)

desk = build_desk(root, clock=clock, state_dir=state, before_replace=pause if mode == "pause" else None)
if mode.startswith("loop"):
    # loop:<round>[:<crash point>:<n>]: change and undo the decision on ids[0] until killed,
    # from outside or, given a crash point, by the process itself at its n-th passage there
    _, label, *crash = mode.split(":")
    if crash:
        passages = []

        def fault(point, sheet):
            if point == crash[0]:
                passages.append(point)
                if len(passages) == int(crash[1]):
                    os.kill(os.getpid(), signal.SIGKILL)

        desk.screening.store.fault = fault
    i = 0
    while True:
        i += 1
        if i % 3 == 0:
            try:
                desk.screening.undo("title_abstract", reviewer)
            except NotFound:
                pass
        else:
            verdict = Verdict("include" if i % 2 else "exclude", note=f"round {label}.{i}")
            desk.screening.decide("title_abstract", reviewer, ids[0], verdict)
        print("SAVED", i, flush=True)
elif mode == "pause":
    desk.screening.decide("title_abstract", reviewer, ids[0], Verdict("exclude", "not_adult"))
else:
    for ident in ids:
        desk.screening.decide("title_abstract", reviewer, ident, Verdict(mode, note="process"))
    print("DONE", flush=True)
"""


def writer(project: Path, state: Path, mode: str, reviewer: str, *ids: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project), str(state), mode, reviewer, *ids],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def valid_rows(project: Path, reviewer: str) -> dict[str, str]:
    """Read the sheet with the workflow's own reader (raises if it is broken)."""
    loaded = Project.load(project)
    index = load_publications(project / "results" / "records" / "unique.tsv")
    path = project / "resources" / "screening" / "title_abstract" / f"{reviewer}.tsv"
    return {d.record_id: d.decision for d in read_sheet(path, loaded.settings, index)}


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project", n=N)


def test_simultaneous_saves_from_two_reviewers_two_tabs_and_two_processes(project, tmp_path):
    state = tmp_path / "state"
    app = create_app(project, clock=pinned_clock, state_dir=state)
    sessions = {}
    for reviewer in ("reviewer-1", "reviewer-2"):
        client = TestClient(app, base_url=BASE)
        client.get(
            "/signin",
            params={"token": token(app, reviewer)},
            headers={"sec-fetch-site": "none"},
        )
        sessions[reviewer] = client.cookies.get("desk_session")
    csrf = {}
    for reviewer, cookie in sessions.items():
        probe = TestClient(app, base_url=BASE, cookies={"desk_session": cookie})
        page = probe.get("/screen/title_abstract/decisions").text
        csrf[reviewer] = page.split('name="csrf" value="')[1].split('"')[0]
    # Reviewer 1: tab A takes 1-10, tab B 11-20, and both change publication 1 at once.
    # Reviewer 2: tab A the odd of 3-20 (publication 1 is left to reviewer 1 alone: once both
    # have decided a publication, blinded screening locks it), tab B the even.
    # Processes: 21-40 for each.
    plan = {
        ("reviewer-1", "A"): [pid(i) for i in range(1, 11)] + [pid(1)],
        ("reviewer-1", "B"): [pid(i) for i in range(11, 21)] + [pid(1)],
        ("reviewer-2", "A"): [pid(i) for i in range(3, 21, 2)],
        ("reviewer-2", "B"): [pid(i) for i in range(2, 21, 2)],
    }
    failures: list[str] = []
    start = threading.Barrier(len(plan) + 1)

    def tab(reviewer: str, name: str, ids: list[str]) -> None:
        client = TestClient(app, base_url=BASE, cookies={"desk_session": sessions[reviewer]})
        start.wait()
        for n, ident in enumerate(ids):
            decision = "exclude" if n == len(ids) - 1 and ident == pid(1) else "include"
            response = client.post(
                f"/screen/title_abstract/record/{ident}",
                data={"csrf": csrf[reviewer], "decision": decision, "note": f"tab {name}"},
                follow_redirects=False,
            )
            if response.status_code != 303:
                failures.append(f"{reviewer} {name} {ident}: {response.status_code}")

    threads = [threading.Thread(target=tab, args=(*key, ids)) for key, ids in plan.items()]
    for thread in threads:
        thread.start()
    processes = [
        writer(project, state, "maybe", r, *(pid(i) for i in range(21, N + 1)))
        for r in ("reviewer-1", "reviewer-2")
    ]
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    outputs = [p.communicate(timeout=120) for p in processes]
    assert failures == []
    assert all(p.returncode == 0 for p in processes), outputs
    for reviewer, first in (("reviewer-1", 1), ("reviewer-2", 2)):
        rows = valid_rows(project, reviewer)
        assert set(rows) == {pid(i) for i in range(first, N + 1)}, reviewer
        assert all(rows[pid(i)] == "maybe" for i in range(21, N + 1))
    assert valid_rows(project, "reviewer-1")[pid(1)] == "exclude"
    entries = [
        json.loads(line)
        for line in (project / "resources/screening/journal.jsonl").read_text().splitlines()
    ]
    assert len(entries) == 2 * N + 1  # every save journalled, including both changes of pub 1
    assert len({e["id"] for e in entries}) == len(entries)


@pytest.mark.drill
def test_a_desk_killed_between_temp_file_and_rename_leaves_the_old_sheet(project, tmp_path):
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    old = TA_HEADER + f"{pid(1)}\tinclude\t\tbefore the crash\t2026-11-22\n"
    sheet.write_text(old)
    process = writer(project, tmp_path / "state", "pause", "reviewer-1", pid(2))
    line = process.stdout.readline()
    assert line.startswith("READY"), process.stderr.read()
    temporary = Path(line.split(" ", 1)[1].strip())
    assert temporary.exists() and temporary.name.startswith(".reviewer-1.tsv.")
    assert f"{pid(2)}\texclude\tnot_adult" in temporary.read_text()  # the new sheet, complete
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert sheet.read_text() == old
    assert set(valid_rows(project, "reviewer-1")) == {pid(1)}
    # The journal is appended only after the rename: nothing is journalled, the intent holds
    # the change that was under way.
    assert not (project / "resources/screening/journal.jsonl").exists()
    intent = json.loads((project / "resources/screening/.desk.intent").read_text())
    assert intent["entry"]["after"]["record_id"] == pid(2)
    assert intent["temporary"] == temporary.name
    # A desk started afterwards settles it (not reached: nothing to journal), clears the
    # leftover temporary file; saving works again.
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")
    assert not temporary.exists()
    assert (project / "resources/screening/.desk.intent").read_text() == ""
    assert not (project / "resources/screening/journal.jsonl").exists()
    app.state.desk.screening.decide("title_abstract", "reviewer-1", pid(2), Verdict("maybe"))
    assert set(valid_rows(project, "reviewer-1")) == {pid(1), pid(2)}


@pytest.mark.drill
def test_desks_killed_at_random_moments_leave_journal_and_sheet_agreeing(project, tmp_path):
    """20 rounds: a desk changes and undoes one decision until it is killed, at a crash point
    of a write chosen at random (even rounds: the process kills itself there) or after a
    random pause (odd rounds: SIGKILL from here); then a desk starts, settles, and must find
    the journal holding exactly the changes the sheet holds; its undo must work."""
    rng = random.Random(20261123)
    state = tmp_path / "state"
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    points = []
    for round_ in range(20):
        if round_ % 2 == 0:
            point = rng.choice(CRASH_POINTS)
            nth = rng.randint(1, 4)
            points.append(point)
            process = writer(project, state, f"loop:{round_}:{point}:{nth}", "reviewer-1", pid(1))
            _, err = process.communicate(timeout=120)
        else:
            process = writer(project, state, f"loop:{round_}", "reviewer-1", pid(1))
            assert process.stdout.readline().startswith("SAVED"), process.stderr.read()
            time.sleep(rng.uniform(0.0, 0.3))
            process.send_signal(signal.SIGKILL)
            _, err = process.communicate(timeout=30)
        # killed, never failed (an undo refused as "edited by hand" would end it with 1)
        assert process.returncode == -signal.SIGKILL, err
        text = sheet.read_text()
        assert text.startswith(TA_HEADER) and text.count("\n") in (1, 2), text
        valid_rows(project, "reviewer-1")
        restarted = build_desk(project, clock=pinned_clock, state_dir=state)
        journal_agrees_with_sheets(project / "resources" / "screening", project)
        try:
            restarted.screening.undo("title_abstract", "reviewer-1")
        except NotFound:
            pass
        journal_agrees_with_sheets(project / "resources" / "screening", project)
    assert set(points) >= {"intent-written", "renamed"}, points  # the points that matter
