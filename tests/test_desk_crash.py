"""Journal and sheets agree after a desk is killed anywhere in a write; the desk's file modes.

Each crash point of a write (``livingreview.desk.humanfiles.CRASH_POINTS``) is hit in a forked
child that SIGKILLs itself there (no ``finally`` runs, as under a real SIGKILL); the parent
then starts a desk again, which settles the interrupted write, and checks that the journal
holds exactly the changes the sheet holds and that undo works.  The random-moment drill
with 20 rounds is ``tests/test_desk_concurrency.py``.
"""

from __future__ import annotations

import datetime as dt
import grp
import hashlib
import json
import logging
import os
import signal
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from desk_support import TA_HEADER, make_project, pid, pinned_clock

from livingreview.desk.app import build_desk
from livingreview.desk.decisions import Verdict
from livingreview.desk.errors import NotFound, StaleChange
from livingreview.desk.humanfiles import (
    CRASH_POINTS,
    INTENT_NAME,
    JOURNAL_NAME,
    LOCK_NAME,
    FileAccess,
    Journal,
    RowChange,
    SheetStore,
    TsvDocument,
    file_digest,
)
from livingreview.errors import ConfigError

STAGE = "title_abstract"
SCREENING = Path("resources") / "screening"


def sheet_of(project: Path, reviewer: str = "reviewer-1") -> Path:
    return project / SCREENING / STAGE / f"{reviewer}.tsv"


def killed_at(point: str, action: Callable[[], object], stores: list[SheetStore]) -> None:
    """Run ``action`` in a forked child that SIGKILLs itself at crash point ``point``
    (``after-save``: once the action returned)."""

    def fault(name: str, sheet: Path) -> None:
        if name == point:
            os.kill(os.getpid(), signal.SIGKILL)

    child = os.fork()
    if child == 0:  # pragma: no cover (the child never returns to pytest)
        try:
            for store in stores:
                store.fault = fault
            action()
            if point == "after-save":
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(70)  # the crash point was never reached: the parent fails
    # A guard against a child hung on a lock another thread held at the fork (e.g. under
    # xdist): not a speed assertion, a save takes milliseconds.
    for _ in range(1200):
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail(f"the forked desk did not reach {point} within two minutes")
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def journal_agrees_with_sheets(
    folder: Path, root: Path, initial: dict[str, str | None] | None = None
) -> None:
    """Every sheet's journalled changes chain from its first version (``initial``: sheet ->
    SHA-256, default: no file) to the file on disk: each entry starts from the version the
    previous one left, the last one is the file now, and for a sheet the desk made,
    replaying the entries' rows gives the sheet's rows.  No temporary file or intent is left."""
    initial = initial or {}
    entries = Journal(folder / JOURNAL_NAME).read()
    assert len({e["id"] for e in entries}) == len(entries), "an entry journalled twice"
    for name in {e["sheet"] for e in entries} | set(initial):
        version = initial.get(name)
        rows: dict[str, object] = {}
        for entry in (e for e in entries if e["sheet"] == name):
            assert entry["sha256_before"] == version, (name, entry["id"])
            version = entry["sha256_after"]
            if entry["after"] is None:
                rows.pop(entry["record"], None)
            else:
                rows[entry["record"]] = entry["after"]
        path = root / name
        assert file_digest(path) == version, name
        if name not in initial and version is not None and path.suffix == ".tsv":
            on_disk = {
                c["record_id"]: {k: v.strip() for k, v in c.items()}
                for _, c in TsvDocument.parse(path.read_text()).rows()
            }
            assert on_disk == rows, name
    assert not list(folder.rglob(".*.tmp")), "a temporary file survived the restart"
    intent = folder / INTENT_NAME
    assert not intent.exists() or intent.stat().st_size == 0, "an unsettled intent"


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project", n=6)


def desk_of(project: Path, tmp_path: Path, **kwargs):
    return build_desk(project, clock=pinned_clock, state_dir=tmp_path / "state", **kwargs)


# --------------------------------------------------------------------------- crash points


@pytest.mark.parametrize("point", [*CRASH_POINTS, "after-save"])
def test_a_desk_killed_at_each_point_of_a_save_restarts_with_journal_and_sheet_agreeing(
    project, tmp_path, point
):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include", note="first"))
    first = sheet_of(project).read_bytes()

    killed_at(
        point,
        lambda: desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("exclude", "not_adult")),
        [desk.screening.store],
    )
    reached = point in ("renamed", "journalled", "after-save")
    restarted = desk_of(project, tmp_path)  # the desk's start settles the write
    journal_agrees_with_sheets(project / SCREENING, project)
    entries = Journal(project / SCREENING / JOURNAL_NAME).read()
    assert [e["action"] for e in entries] == (["decide", "change"] if reached else ["decide"])
    if reached:
        assert entries[-1]["after"]["decision"] == "exclude"
        assert ("recovered" in entries[-1]) == (point == "renamed")
    else:
        assert sheet_of(project).read_bytes() == first  # the old sheet, untouched

    # Undo after the restart undoes what the sheet holds (never a 409 for a lost write).
    restarted.screening.undo(STAGE, "reviewer-1")
    row = restarted.screening.rows(sheet_of(project)).get(pid(1))
    if reached:
        assert row is not None and row.cells["decision"] == "include"
    else:
        assert row is None
    journal_agrees_with_sheets(project / SCREENING, project)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_sheet_removed_whole_agrees_with_the_journal_at_each_crash_point(tmp_path, point):
    root = tmp_path / "project"
    folder = root / "resources" / "extraction"
    sheet = folder / "study-1" / "adjudicated.tsv"
    sheet.parent.mkdir(parents=True)
    sheet.write_text("record_type\tn\narm\t3\n")
    store = SheetStore(folder, root, pinned_clock)
    rows = [{"record_type": "arm", "n": "3"}]

    def withdraw() -> None:
        store.delete(sheet, lambda document: RowChange("study-1", rows, None), {"action": "undo"})

    if point == "temporary-written":  # a removal writes no temporary file
        point = "intent-written"
    original = file_digest(sheet)
    killed_at(point, withdraw, [store])
    SheetStore(folder, root, pinned_clock).recover()
    entries = Journal(folder / JOURNAL_NAME).read()
    if point in ("renamed", "journalled"):
        assert not sheet.exists() and [e["after"] for e in entries] == [None]
    else:
        assert sheet.exists() and entries == []
    journal_agrees_with_sheets(
        folder, root, {"resources/extraction/study-1/adjudicated.tsv": original}
    )


def test_settling_is_idempotent_and_never_rewrites_a_sheet(project, tmp_path):
    desk = desk_of(project, tmp_path)
    killed_at(
        "renamed",
        lambda: desk.screening.decide(STAGE, "reviewer-1", pid(2), Verdict("include")),
        [desk.screening.store],
    )
    before = sheet_of(project).read_bytes(), os.stat(sheet_of(project)).st_mtime_ns
    for _ in range(3):
        desk_of(project, tmp_path)
        assert (sheet_of(project).read_bytes(), os.stat(sheet_of(project)).st_mtime_ns) == before
    entries = Journal(project / SCREENING / JOURNAL_NAME).read()
    assert [e["record"] for e in entries] == [pid(2)]  # journalled once, not once per start


def test_a_running_desk_sees_a_change_another_desk_was_killed_before_journalling(project, tmp_path):
    """Two desk processes: the one still running settles the other's write on its next
    journal read, so its reviewer's undo sees the change."""
    running = desk_of(project, tmp_path)
    killed = desk_of(project, tmp_path)
    killed_at(
        "renamed",
        lambda: killed.screening.decide(STAGE, "reviewer-1", pid(3), Verdict("include")),
        [killed.screening.store],
    )
    entry = running.screening.last_undoable(STAGE, "reviewer-1")
    assert entry is not None and entry["record"] == pid(3) and "recovered" in entry
    running.screening.undo(STAGE, "reviewer-1")
    assert pid(3) not in running.screening.rows(sheet_of(project))


# --------------------------------------------------------------------------- hand edits


def test_a_write_cut_before_the_rename_then_a_hand_edit_keeps_the_hand_edit_unjournalled(
    project, tmp_path, caplog
):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
    killed_at(
        "intent-written",
        lambda: desk.screening.decide(STAGE, "reviewer-1", pid(2), Verdict("include")),
        [desk.screening.store],
    )
    hand = sheet_of(project).read_text() + f"{pid(4)}\tmaybe\t\tby hand\t2026-11-23\n"
    sheet_of(project).write_text(hand)
    with caplog.at_level(logging.WARNING, logger="livingreview.desk.humanfiles"):
        restarted = desk_of(project, tmp_path)
    assert sheet_of(project).read_text() == hand  # settling never rewrites a sheet
    assert "interrupted before it reached the sheet" in caplog.text
    assert "edited outside the desk" in caplog.text
    entries = Journal(project / SCREENING / JOURNAL_NAME).read()
    assert [e["record"] for e in entries] == [pid(1)]
    restarted.screening.undo(STAGE, "reviewer-1")  # the hand edit left pid(1)'s row alone
    assert set(restarted.screening.rows(sheet_of(project))) == {pid(4)}


def test_a_write_that_reached_the_sheet_then_a_hand_edit_is_named_and_undo_says_by_hand(
    project, tmp_path, caplog
):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
    killed_at(
        "renamed",
        lambda: desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("exclude", "not_adult")),
        [desk.screening.store],
    )
    hand = sheet_of(project).read_text().replace("exclude\tnot_adult", "maybe\t")
    sheet_of(project).write_text(hand)
    with caplog.at_level(logging.WARNING, logger="livingreview.desk.humanfiles"):
        restarted = desk_of(project, tmp_path)
    assert sheet_of(project).read_text() == hand
    assert "whether the change reached it cannot be told" in caplog.text
    assert f"Check the sheet's row for {pid(1)}" in caplog.text
    entries = Journal(project / SCREENING / JOURNAL_NAME).read()
    assert [e["action"] for e in entries] == ["decide"]  # the unknown change is not claimed
    with pytest.raises(StaleChange, match="edited by hand"):
        restarted.screening.undo(STAGE, "reviewer-1")
    assert sheet_of(project).read_text() == hand


def test_undo_after_a_plain_restart_works_and_a_real_hand_edit_is_a_409_that_says_so(
    project, tmp_path
):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("exclude", "not_adult"))
    restarted = desk_of(project, tmp_path)
    restarted.screening.undo(STAGE, "reviewer-1")
    assert restarted.screening.rows(sheet_of(project))[pid(1)].cells["decision"] == "include"
    sheet_of(project).write_text(TA_HEADER + f"{pid(1)}\tmaybe\t\tby hand\t2026-11-23\n")
    with pytest.raises(StaleChange) as refused:
        desk_of(project, tmp_path).screening.undo(STAGE, "reviewer-1")
    assert refused.value.http_status == 409 and "edited by hand" in str(refused.value)
    with pytest.raises(NotFound):
        desk_of(project, tmp_path).screening.undo("full_text", "reviewer-1")


# --------------------------------------------------------------------------- file modes


def other_group() -> grp.struct_group:
    """A group the test's user may give files to, other than its primary one when it can."""
    if os.geteuid() == 0:
        for group in grp.getgrall():
            if group.gr_gid != os.getegid():
                return group
    for gid in os.getgroups():
        if gid != os.getegid():
            return grp.getgrgid(gid)
    return grp.getgrgid(os.getegid())


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def with_group(project: Path, tmp_path: Path, group: str) -> list[Path]:
    config = tmp_path / "group.yaml"
    config.write_text(f"desk:\n  file_group: {json.dumps(group)}\n")
    return [config]


@pytest.mark.parametrize("mask", [0o000, 0o077])
@pytest.mark.parametrize("grouped", [False, True])
def test_files_the_desk_writes_are_0640_in_the_group_or_0600_whatever_the_umask(
    project, tmp_path, mask, grouped
):
    group = other_group() if grouped else None
    configfiles = with_group(project, tmp_path, group.gr_name) if group else []
    mode = 0o640 if group else 0o600
    temporaries: list[tuple[int, int]] = []

    def look(tmp: Path) -> None:  # the temporary file, complete, just before the rename
        info = tmp.stat()
        temporaries.append((stat.S_IMODE(info.st_mode), info.st_gid))

    with umask(mask):
        desk = desk_of(project, tmp_path, configfiles=configfiles, before_replace=look)
        desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
        store = desk.screening.store
        # a folder the desk makes (as for a new study's extraction sheets)
        new_sheet = project / SCREENING / "study-x" / "sheet.tsv"
        store.edit(
            new_sheet,
            ("record_id",),
            lambda document: (document.append({"record_id": "a"}), RowChange("a", None, {}))[1],
            lambda *args: None,
            {"action": "test"},
        )
    expected_gid = group.gr_gid if group else os.getegid()
    files = [
        sheet_of(project),
        new_sheet,
        project / SCREENING / JOURNAL_NAME,
        project / SCREENING / LOCK_NAME,
        project / SCREENING / INTENT_NAME,
        project / "resources" / "extraction" / LOCK_NAME,
        project / "resources" / "dedup" / LOCK_NAME,
    ]
    for path in files:
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == mode, (path, oct(info.st_mode))
        assert info.st_gid == expected_gid, path
    assert temporaries and all(t == (mode, expected_gid) for t in temporaries), temporaries
    folder = new_sheet.parent.stat()
    assert stat.S_IMODE(folder.st_mode) == (0o2750 if group else 0o700)
    assert folder.st_gid == expected_gid
    # The desk's secrets: 0600 files in a 0700 folder, group or not.
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    secrets = list(state.iterdir())
    assert secrets and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets)


def test_wider_files_are_tightened_at_start_and_the_log_says_so(project, tmp_path, caplog):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
    opened = [
        sheet_of(project),
        project / SCREENING / JOURNAL_NAME,
        project / SCREENING / LOCK_NAME,
    ]
    verdicts = project / "resources" / "dedup" / "verdicts.tsv"
    for path in [*opened, verdicts]:
        os.chmod(path, 0o644)
    readme = project / SCREENING / "README.md"
    readme.write_text("not a file the desk writes\n")
    os.chmod(readme, 0o644)
    with caplog.at_level(logging.WARNING, logger="livingreview.desk.humanfiles"):
        desk_of(project, tmp_path)
    for path in [*opened, verdicts]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert f"{path.relative_to(project)}: mode 0644 -> 0600" in caplog.text
    assert stat.S_IMODE(readme.stat().st_mode) == 0o644  # not the desk's: left alone


def test_a_group_that_does_not_exist_is_refused_naming_the_setting(project, tmp_path):
    configfiles = with_group(project, tmp_path, "no-such-group-for-the-desk")
    with pytest.raises(ConfigError, match="desk.file_group") as refused:
        desk_of(project, tmp_path, configfiles=configfiles)
    assert "no group 'no-such-group-for-the-desk'" in str(refused.value)


def test_a_group_the_desks_user_is_not_in_is_refused_naming_the_setting(monkeypatch):
    group = other_group()
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    monkeypatch.setattr(os, "getegid", lambda: 4242 if group.gr_gid != 4242 else 4243)
    monkeypatch.setattr(os, "getgroups", lambda: [])
    with pytest.raises(ConfigError, match="desk.file_group") as refused:
        FileAccess.of_group(group.gr_name)
    assert f"not in group {group.gr_name!r}" in str(refused.value)
    assert FileAccess.of_group("").mode == 0o600


def test_journal_entries_name_the_sheet_versions_they_go_between(project, tmp_path):
    desk = desk_of(project, tmp_path)
    desk.screening.decide(STAGE, "reviewer-1", pid(1), Verdict("include"))
    [entry] = Journal(project / SCREENING / JOURNAL_NAME).read()
    assert entry["sha256_before"] is None
    assert entry["sha256_after"] == hashlib.sha256(sheet_of(project).read_bytes()).hexdigest()
    assert dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00")) == pinned_clock()
