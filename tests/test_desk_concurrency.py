"""Simultaneous saves and killed writers: every decision kept, every sheet valid, always.

Threads (two reviewers, two tabs each, over HTTP) and processes (two more desks on the same
project) write at once; a desk killed with SIGKILL between writing its temporary file and
renaming it, or at random moments, leaves the old sheet or the new one, never a broken one.
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
from test_desk_http import BASE, token

from livingreview.desk.app import create_app
from livingreview.desk.decisions import Verdict
from livingreview.desk.project import Project
from livingreview.screening.publications import load_publications
from livingreview.screening.sheets import read_sheet

N = 40
WRITER = """
import datetime as dt, sys, time
from livingreview.desk.app import build_desk
from livingreview.desk.decisions import Verdict

root, state, mode, reviewer = sys.argv[1:5]
ids = sys.argv[5:]
clock = lambda: dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

def pause(tmp):
    print("READY", tmp, flush=True)
    time.sleep(60)

desk = build_desk(root, clock=clock, state_dir=state, before_replace=pause if mode == "pause" else None)
if mode == "loop":
    i = 0
    while True:
        i += 1
        desk.screening.decide("title_abstract", reviewer, ids[0], Verdict("include" if i % 2 else "exclude", note=f"round {i}"))
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
        client.get("/signin", params={"token": token(app, reviewer)})
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
    # The journal was written first: the change is on record although the sheet kept the old row.
    [entry] = [json.loads(x) for x in (project / "resources/screening/journal.jsonl").open()]
    assert entry["after"]["record_id"] == pid(2)
    # A desk started afterwards clears the leftover temporary file; saving works again.
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")
    assert not temporary.exists()
    app.state.desk.screening.decide("title_abstract", "reviewer-1", pid(2), Verdict("maybe"))
    assert set(valid_rows(project, "reviewer-1")) == {pid(1), pid(2)}


@pytest.mark.drill
def test_desks_killed_at_random_moments_never_leave_a_broken_sheet(project, tmp_path):
    rng = random.Random(20261123)
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    for _ in range(6):
        process = writer(project, tmp_path / "state", "loop", "reviewer-1", pid(1))
        assert process.stdout.readline().startswith("SAVED"), process.stderr.read()
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        text = sheet.read_text()
        assert text.startswith(TA_HEADER) and text.count("\n") == 2, text
        assert valid_rows(project, "reviewer-1")[pid(1)] in ("include", "exclude")
    lines = (project / "resources/screening/journal.jsonl").read_text().splitlines()
    complete = []
    for line in lines:
        try:
            complete.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line cut by SIGKILL mid-append is skipped by readers
    assert len(complete) >= 6
