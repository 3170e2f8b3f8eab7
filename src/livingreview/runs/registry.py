"""Run identity: every invocation of the workflow is a run with an id, a record and an entry
in the project's list of runs, never overwritten by a later run of the same ``run_date``.

A *run* is one start of the workflow, whoever starts it: a person typing ``snakemake``
(trigger ``manual``), ``bin/scheduled-update`` (``scheduled``) or the reviewers' desk
refreshing the review after a save (``desk``). ``run_date`` is something else: the date a
run stands for, which decides which searches it uses. Many runs may share one ``run_date``
(every desk refresh of the week's search does); each still has its own id and entry.

Layout under ``results/runs/`` (this module is the only code that knows it):

- ``index.tsv``: one line per finished run, appended in the order runs finish, columns
  :data:`INDEX_COLUMNS`; the list of every run of the project;
- ``<run_id>/run.json``: that run's entry (:class:`RunEntry` as JSON), with, for a run that
  succeeded, the copies of its record (``summary.json``, ``summary.md``, ``manifest.json``);
- ``latest.json``: a copy of the newest entry, for readers that want "the latest run" with
  one read.

Run ids sort by start time: ``YYYYMMDDTHHMMSSZ-<trigger>-<hex>``. A launcher may choose the id
(environment variable :data:`RUN_ID_ENV`) and says who started the run
(:data:`RUN_TRIGGER_ENV`); a plain ``snakemake`` gets one from :func:`new_run_id`.

Kept free of heavy imports: the desk and the Snakefile read it often.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..io import atomic_open, read_cell, spreadsheet_cell

#: Environment variable a launcher sets to name the run (inherited by every job it starts).
RUN_ID_ENV = "LIVINGREVIEW_RUN_ID"
#: Environment variable a launcher sets to say who started the run (:data:`TRIGGERS`).
RUN_TRIGGER_ENV = "LIVINGREVIEW_RUN_TRIGGER"
#: Who can start a run.
TRIGGERS = ("manual", "scheduled", "desk")
#: How a run ended.
STATUSES = ("running", "succeeded", "failed")
#: ``failure_kind`` of a run stopped by a job its cluster executor could not submit (the
#: cluster refused it: an invalid partition or account, a limit): nothing of it ran.
SUBMISSION_FAILURE = "submission"

RUNS_DIR = "results/runs"
INDEX_NAME = "index.tsv"
LATEST_NAME = "latest.json"
ENTRY_NAME = "run.json"
INDEX_COLUMNS = ("run_id", "trigger", "run_date", "started", "finished", "status", "error")

_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-(manual|scheduled|desk)-[0-9a-f]{4,16}$")


class RunIdError(ValueError):
    """A run id that does not follow :func:`new_run_id`'s pattern (it names a folder)."""


def new_run_id(trigger: str = "manual", now: float | None = None) -> str:
    """A fresh run id: UTC start time, trigger and random hex, so ids sort by start time
    and two runs started in the same second still differ.

    >>> rid = new_run_id("desk", now=0)
    >>> rid.startswith("19700101T000000Z-desk-") and len(rid) == 30
    True
    """
    if trigger not in TRIGGERS:
        raise RunIdError(f"unknown run trigger {trigger!r}; allowed: {', '.join(TRIGGERS)}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{trigger}-{secrets.token_hex(4)}"


def check_run_id(run_id: str) -> str:
    """``run_id`` itself, if it is a valid run id (it becomes a folder name)."""
    if not _RUN_ID.match(run_id):
        raise RunIdError(
            f"run id {run_id!r} is not valid: expected YYYYMMDDTHHMMSSZ-<trigger>-<hex>, "
            f"trigger one of {', '.join(TRIGGERS)} (e.g. {new_run_id('manual', now=0)})"
        )
    return run_id


def trigger_of(run_id: str) -> str:
    """The trigger named in a run id."""
    return check_run_id(run_id).split("-")[1]


def started_at(run_id: str) -> str:
    """The ISO start time (UTC) a run id carries, e.g. ``2026-12-07T10:00:00Z``."""
    stamp = check_run_id(run_id).split("-")[0]
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"


def current_run_id(environ: dict[str, str] | None = None) -> str:
    """The id of the run this process belongs to: the launcher's, else a new manual one
    (which is then put into the environment so that every job of the run inherits it)."""
    env = os.environ if environ is None else environ
    given = env.get(RUN_ID_ENV, "")
    if given:
        return check_run_id(given)
    trigger = env.get(RUN_TRIGGER_ENV) or "manual"
    run_id = new_run_id(trigger)
    env[RUN_ID_ENV] = run_id
    return run_id


@dataclass
class RunEntry:
    """One run of the workflow, as ``<run_id>/run.json`` and a line of ``index.tsv`` hold it."""

    run_id: str
    trigger: str
    run_date: str
    started: str
    finished: str = ""
    status: str = "running"
    #: A failed run's one line (file, line, field, what to do), as the run printed it last.
    error: str = ""
    #: What stopped a failed run, when Snakemake's structured events said so (never read from
    #: its messages): :data:`SUBMISSION_FAILURE`, or empty (the ``error`` line says why).
    failure_kind: str = ""
    #: Files of the run's record copied into its folder (names), for a run that succeeded.
    record: list[str] = field(default_factory=list)
    #: Anything else the run wants kept (e.g. the archived human inputs, by path and digest).
    details: dict[str, Any] = field(default_factory=dict)

    def folder(self, results_runs: str | Path = RUNS_DIR) -> Path:
        return Path(results_runs) / self.run_id

    @classmethod
    def ended(
        cls, run_id: str, run_date: str, status: str, finished: str, **fields: Any
    ) -> RunEntry:
        """The entry of a run that has ended: its trigger and start are read from its id."""
        return cls(
            run_id, trigger_of(run_id), run_date, started_at(run_id), finished, status, **fields
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunEntry:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def run_folder(run_id: str, results_runs: str | Path = RUNS_DIR) -> Path:
    """``results/runs/<run_id>/``."""
    return Path(results_runs) / check_run_id(run_id)


@contextmanager
def _index_lock(results_runs: Path) -> Iterator[None]:
    results_runs.mkdir(parents=True, exist_ok=True)
    with open(results_runs / ".index.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def record_run(entry: RunEntry, results_runs: str | Path = RUNS_DIR) -> Path:
    """Write a finished run's ``run.json``, append its line to ``index.tsv`` and make it the
    latest; each file atomic, all under one lock. A run id is recorded once: a second call
    for the same id raises (a run's entry is never overwritten)."""
    root = Path(results_runs)
    folder = run_folder(entry.run_id, root)
    text = json.dumps(asdict(entry), indent=2, sort_keys=True) + "\n"
    with _index_lock(root):
        if any(row["run_id"] == entry.run_id for row in _index_rows(root)):
            raise RunIdError(f"run {entry.run_id} is already recorded in {root / INDEX_NAME}")
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_open(folder / ENTRY_NAME) as handle:
            handle.write(text)
        index = root / INDEX_NAME
        new_index = not index.is_file() or index.stat().st_size == 0
        with open(index, "a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            if new_index:
                writer.writerow(INDEX_COLUMNS)
            row = asdict(entry)
            # one line per run (whitespace folded), each cell safe to open in a spreadsheet
            writer.writerow(
                [spreadsheet_cell(" ".join(str(row[c]).split())) for c in INDEX_COLUMNS]
            )
            handle.flush()
            os.fsync(handle.fileno())
        with atomic_open(root / LATEST_NAME) as handle:
            handle.write(text)
    return folder


def _index_rows(root: Path) -> list[dict[str, str]]:
    index = root / INDEX_NAME
    if not index.is_file():
        return []
    with open(index, encoding="utf-8", newline="") as handle:
        return [
            {column: read_cell(value or "") for column, value in row.items()}
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def list_runs(results_runs: str | Path = RUNS_DIR) -> list[dict[str, str]]:
    """Every recorded run, oldest first (the rows of ``index.tsv``)."""
    return _index_rows(Path(results_runs))


def read_run(run_id: str, results_runs: str | Path = RUNS_DIR) -> RunEntry | None:
    """The entry of one run, or ``None`` when no such run is recorded."""
    path = run_folder(run_id, results_runs) / ENTRY_NAME
    if not path.is_file():
        return None
    return RunEntry.from_json(json.loads(path.read_text(encoding="utf-8")))


def latest_run(results_runs: str | Path = RUNS_DIR) -> RunEntry | None:
    """The run that finished last, or ``None`` before the first run."""
    path = Path(results_runs) / LATEST_NAME
    if not path.is_file():
        return None
    return RunEntry.from_json(json.loads(path.read_text(encoding="utf-8")))


def runs_of_date(run_date: str, results_runs: str | Path = RUNS_DIR) -> list[str]:
    """The ids of every run that stood for ``run_date``, oldest first."""
    return [row["run_id"] for row in list_runs(results_runs) if row["run_date"] == run_date]


def latest_run_of_date(run_date: str, results_runs: str | Path = RUNS_DIR) -> RunEntry | None:
    """The newest run of ``run_date`` that succeeded, or ``None``."""
    for row in reversed(list_runs(results_runs)):
        if row["run_date"] == run_date and row["status"] == "succeeded":
            return read_run(row["run_id"], results_runs)
    return None
