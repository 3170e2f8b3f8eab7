"""Registering a run: its own folder, entry, archived inputs and history entry.

The content-derived record of a ``run_date`` (``results/runs/by-date/<run_date>/``:
``summary.json``, ``summary.md``, ``manifest.json``, written by the rule ``run_record`` only
when its inputs change) says what the review looks like for that date. Every run, even one
with nothing else to do, then registers itself when Snakemake stops (the project's logger
plugin, ``snakemake_logger_plugin_livingreview``, through
:class:`livingreview.runs.ending.RunEnding`): it copies that record into
``results/runs/<run_id>/``, stores the bytes of the human inputs the manifest lists
(:mod:`.archive`), archives the synthesis it ended with as its own history entry
(:mod:`livingreview.history`) and records its entry (:func:`.registry.record_run`). A run
whose date's record does not describe its results (it built chosen targets) gets an entry
without a record (:func:`register_partial`); a failed run, an entry with its one error line
(:func:`register_failure`).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Collection, Sequence
from pathlib import Path

from ..history import archive_run
from ..io import atomic_open, sha256_file
from .archive import INPUTS_ARCHIVE, archive_inputs
from .registry import RUNS_DIR, RunEntry, read_run, record_run, run_folder

#: The content-derived records, one folder per ``run_date`` (not a run: see the module doc).
BY_DATE_DIR = f"{RUNS_DIR}/by-date"
#: The files of a date's record, copied into each run's folder (the notification receipt
#: too, when the project sends one).
RECORD_FILES = ("summary.json", "summary.md", "manifest.json")
NOTIFICATION = "notification.json"


def record_of_date(run_date: str, by_date: str | Path = BY_DATE_DIR) -> Path:
    """``results/runs/by-date/<run_date>/``."""
    return Path(by_date) / run_date


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_is_current(record_dir: str | Path, code_base: str | Path = ".") -> bool:
    """Whether the record of a date describes the project as it is now: its three files are
    there, and every result and code file its manifest checksums is there with that content.

    A run asked for the whole review rebuilds the record whenever one of those files changes,
    so after such a run it is current; a run asked for chosen targets may leave it behind, and
    then registers without it. Only files written after the record are read (to compare their
    SHA-256: the workflow rewrites some outputs with the same content); the rest cost a stat.
    """
    folder = Path(record_dir)
    try:
        written = min((folder / name).stat().st_mtime for name in RECORD_FILES)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = [(Path(path), entry) for path, entry in manifest.get("outputs", {}).items()]
    files += [(Path(code_base) / path, entry) for path, entry in manifest.get("code", {}).items()]
    try:
        return all(
            path.stat().st_mtime <= written or sha256_file(path) == entry.get("sha256")
            for path, entry in files
        )
    except OSError:
        return False


def copy_record(record_dir: str | Path, run_dir: str | Path) -> list[str]:
    """Copy the date's record files into the run's folder; the names copied."""
    copied = []
    for name in (*RECORD_FILES, NOTIFICATION):
        source = Path(record_dir) / name
        if not source.is_file():
            continue
        with open(source, "rb") as src, atomic_open(Path(run_dir) / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
        copied.append(name)
    return copied


def register_success(
    run_id: str,
    run_date: str,
    *,
    record_dir: str | Path,
    history_dir: str | Path,
    synthesis_files: Sequence[str | Path],
    results_runs: str | Path = RUNS_DIR,
    archive: str | Path = INPUTS_ARCHIVE,
    private: Collection[str] = (),
) -> RunEntry:
    """Everything a successful run leaves of its own (see the module doc); returns its entry.

    The entry's ``details`` say where the date's record came from, which history entry is the
    run's, and ``inputs``: ``path -> sha256`` of every human input the run used (``private``:
    paths named by config values kept out of records, listed but never archived).
    """
    folder = run_folder(run_id, results_runs)
    folder.mkdir(parents=True, exist_ok=True)
    copied = copy_record(record_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    archived = archive_inputs(manifest.get("inputs", {}), archive=archive, private=private)
    history = archive_run(history_dir, run_id, run_date, list(synthesis_files))
    entry = RunEntry.ended(
        run_id,
        run_date,
        "succeeded",
        now_iso(),
        record=copied,
        details={
            "record_of_date": str(record_dir),
            "history": str(history),
            "inputs_archive": str(archive),
            "inputs": {p: d for p, d in archived.files.items() if p not in archived.private},
            "inputs_changed_during_run": archived.changed_since_record,
            "inputs_not_archived_private": archived.private,
        },
    )
    record_run(entry, results_runs)
    return entry


def register_failure(
    run_id: str, run_date: str, error: str, results_runs: str | Path = RUNS_DIR
) -> RunEntry | None:
    """Record a failed run (status ``failed``, ``error`` the line it ended with), unless the
    run is already recorded; returns the entry written, if any."""
    if read_run(run_id, results_runs) is not None:
        return None
    entry = RunEntry.ended(run_id, run_date, "failed", now_iso(), error=error)
    record_run(entry, results_runs)
    return entry


def register_partial(run_id: str, run_date: str, results_runs: str | Path = RUNS_DIR) -> None:
    """Record a run that succeeded but whose date's record does not describe its results (it
    was asked for other targets than the whole review): an entry without a record."""
    if read_run(run_id, results_runs) is not None:
        return
    record_run(
        RunEntry.ended(
            run_id,
            run_date,
            "succeeded",
            now_iso(),
            details={"partial": "the run built chosen targets, not the whole review"},
        ),
        results_runs,
    )
