"""What the last workflow run wrote, read (never written) from ``results/``.

Files are re-read when they change on disk (size, mtime, inode), so a workflow run while the
desk is serving shows up on the next page without a restart; unchanged files are parsed once.
While a run rewrites a file (Snakemake removes a job's outputs before the job runs), the pages
keep showing the content last read, until the new file lands.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..io import read_rows
from ..screening.publications import (
    PublicationIndex,
    load_baseline_study_ids,
    load_publications,
)
from .errors import NotFound

T = TypeVar("T")

UNIQUE = Path("records") / "unique.tsv"
MAYBE = Path("records") / "maybe.tsv"
STATUS = Path("screening") / "status.tsv"
CONFLICTS = Path("screening") / "conflicts.tsv"
INCLUDED = Path("screening") / "included_reports.tsv"
SUMMARY = Path("screening") / "summary.txt"
AGREEMENT = Path("screening") / "agreement.tsv"
EXTRACTION_STATUS = Path("extraction") / "status.tsv"
LATEST_RUN = Path("runs") / "latest.json"
#: How each kind of run is named on the pages.
RUN_TRIGGERS = {
    "desk": "a desk refresh",
    "scheduled": "the scheduled update",
    "manual": "a run by hand",
}
#: Folders whose files the desk shows, directly or through a page's numbers: when one of their
#: files changes, the pages are out of date (:meth:`LastRun.version`).
SHOWN_FOLDERS = (
    Path("records"),
    Path("screening"),
    Path("screening") / "queue" / "title_abstract",
    Path("screening") / "queue" / "full_text",
    Path("extraction"),
    Path("synthesis"),
    Path("prisma"),
    Path("runs"),
)


class NoRunYet(NotFound):
    """The workflow has not produced what the desk shows; run it first."""

    http_status = 503


@dataclass(frozen=True)
class Queue:
    """One reviewer's queue at one stage, in the run's order."""

    rows: tuple[dict[str, str], ...]
    position: dict[str, int]

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, publication_id: object) -> bool:
        return publication_id in self.position

    def row(self, publication_id: str) -> dict[str, str]:
        return self.rows[self.position[publication_id]]


class _Cached:
    """A parsed file, refreshed when the file on disk changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Path, str], tuple[tuple[int, int, int], Any]] = {}

    def known(self, path: Path) -> bool:
        """Whether some content of ``path`` was read before."""
        with self._lock:
            return any(known == path for known, _ in self._entries)

    def get(self, path: Path, kind: str, parse: Callable[[Path], T]) -> T:
        try:
            info = path.stat()
        except FileNotFoundError:
            with self._lock:
                hit = self._entries.get((path, kind))
            if hit is None:
                raise
            return hit[1]  # a run is rewriting the file: the last content until it lands
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._lock:
            hit = self._entries.get((path, kind))
            if hit and hit[0] == key:
                return hit[1]
        try:
            value = parse(path)
        except FileNotFoundError:
            with self._lock:
                hit = self._entries.get((path, kind))
            if hit is None:
                raise
            return hit[1]
        with self._lock:
            self._entries[(path, kind)] = (key, value)
        return value


def _describe_run(path: Path) -> str:
    """``2026-12-08 01:04 UTC (a desk refresh; searches up to 2026-11-23)`` from a run's entry
    (``results/runs/latest.json``)."""
    entry = json.loads(path.read_text(encoding="utf-8"))
    moment = str(entry.get("finished") or entry.get("started") or "")
    when = f"{moment[:10]} {moment[11:16]} UTC" if len(moment) >= 16 else moment
    who = RUN_TRIGGERS.get(str(entry.get("trigger")), "a run")
    failed = "" if entry.get("status") == "succeeded" else f", {entry.get('status')}"
    return f"{when} ({who}{failed}; searches up to {entry.get('run_date', '?')})"


def _queue(path: Path) -> Queue:
    rows = tuple(read_rows(path))
    return Queue(rows, {row["record_id"]: i for i, row in enumerate(rows)})


class LastRun:
    """Read access to the last run's tables under ``results_dir``."""

    def __init__(self, results_dir: Path, baseline_studies: Path):
        self.results = results_dir
        self.baseline_studies = baseline_studies
        self._cache = _Cached()

    def _file(self, relative: Path) -> Path:
        path = self.results / relative
        if not path.is_file() and not self._cache.known(path):
            raise NoRunYet(
                f"results/{relative} is missing: the workflow has not written it yet. The desk "
                'runs it after saves (an adjudicator or data manager can press "Refresh the '
                'review now"), or run .venv/bin/snakemake --cores 4; this page then reloads'
            )
        return path

    def index_key(self) -> tuple[int, int, int]:
        """Version of ``unique.tsv`` (record ids a sheet may name depend on it)."""
        try:
            info = self._file(UNIQUE).stat()
        except FileNotFoundError:  # a run is rewriting it: the version read last still holds
            return (0, 0, 0)
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def index(self) -> PublicationIndex:
        """Every publication of ``unique.tsv`` and the map from member record ids to it."""
        return self._cache.get(self._file(UNIQUE), "index", load_publications)

    def queue(self, stage: str, reviewer: str) -> Queue:
        """``queue/<stage>/<reviewer>.tsv`` (stage and reviewer already validated)."""
        relative = Path("screening") / "queue" / stage / f"{reviewer}.tsv"
        path = self.results / relative
        if not path.is_file() and not self._cache.known(path):
            if (self.results / STATUS).is_file():
                return Queue((), {})  # a reviewer added to the config after the last run
            self._file(relative)
        return self._cache.get(path, "queue", _queue)

    def status(self) -> dict[str, dict[str, str]]:
        """publication_id -> its row of ``status.tsv``."""
        return self._cache.get(
            self._file(STATUS), "status", lambda p: {r["publication_id"]: r for r in read_rows(p)}
        )

    def conflicts(self) -> list[dict[str, str]]:
        """Rows of ``conflicts.tsv`` (open and adjudicated)."""
        return self._cache.get(self._file(CONFLICTS), "conflicts", read_rows)

    def possible_duplicates(self) -> dict[str, list[str]]:
        """publication_id -> other publication ids of its uncertain dedup pairs (maybe.tsv)."""
        path = self.results / MAYBE
        if not path.is_file() and not self._cache.known(path):
            return {}

        def parse(p: Path) -> dict[str, list[str]]:
            pairs: dict[str, list[str]] = {}
            for row in read_rows(p):
                a, b = row.get("publication_id_a", ""), row.get("publication_id_b", "")
                if a and b and a != b:
                    pairs.setdefault(a, []).append(b)
                    pairs.setdefault(b, []).append(a)
            return pairs

        return self._cache.get(path, "maybe", parse)

    def maybe_pairs(self) -> list[dict[str, str]]:
        """Rows of ``maybe.tsv``: the uncertain pairs waiting for a person's verdict."""
        return self._cache.get(self._file(MAYBE), "maybe_rows", read_rows)

    def records(self, tables: Sequence[Path]) -> dict[str, dict[str, str]]:
        """record_id -> its row in the record tables the dedup stage read (first seen wins,
        as the dedup stage keeps a record's first-seen version)."""
        found: dict[str, dict[str, str]] = {}
        for table in tables:
            if not table.is_file():
                continue
            rows = self._cache.get(table, "records", read_rows)
            for row in rows:
                found.setdefault(row.get("record_id", ""), row)
        return found

    def extraction_status(self) -> dict[str, dict[str, str]]:
        """study_id -> its row of ``extraction/status.tsv`` (new studies only).

        Empty when the last run predates that table but screened (nothing to extract yet).
        """
        path = self.results / EXTRACTION_STATUS
        if not path.is_file() and not self._cache.known(path) and (self.results / STATUS).is_file():
            return {}
        return self._cache.get(
            self._file(EXTRACTION_STATUS),
            "extraction_status",
            lambda p: {r["study_id"]: r for r in read_rows(p)},
        )

    def included_reports(self) -> list[dict[str, str]]:
        """Rows of ``included_reports.tsv``: each publication included at full text and the
        study it reports."""
        return self._cache.get(self._file(INCLUDED), "included_rows", read_rows)

    def study_ids(self) -> list[str]:
        """Known study ids: the published review's and those of included reports since."""
        known: set[str] = set()
        if self.baseline_studies.is_file():
            known |= self._cache.get(self.baseline_studies, "studies", load_baseline_study_ids)
        included = self.results / INCLUDED
        if included.is_file() or self._cache.known(included):
            known |= self._cache.get(
                included,
                "included",
                lambda p: {r["study_id"] for r in read_rows(p) if r.get("study_id")},
            )
        return sorted(known)

    def agreement(self) -> list[dict[str, str]]:
        """Rows of ``agreement.tsv`` (κ per stage); empty before a run that wrote it."""
        path = self.results / AGREEMENT
        if not path.is_file() and not self._cache.known(path):
            return []
        return self._cache.get(path, "agreement", read_rows)

    def summary(self) -> str:
        """The screening stage's one-line summary (empty before the first run)."""
        path = self.results / SUMMARY
        if not path.is_file() and not self._cache.known(path):
            return ""
        return self._cache.get(path, "summary", lambda p: p.read_text(encoding="utf-8").strip())

    def latest_run(self) -> str:
        """When the review last ran, who started it and which searches it used (from the run
        registry); the run date of the screening summary for results older than it."""
        path = self.results / LATEST_RUN
        if not path.is_file() and not self._cache.known(path):
            return self.run_label()
        try:
            return self._cache.get(path, "latest_run", _describe_run)
        except (ValueError, KeyError):
            return self.run_label()

    def run_label(self) -> str:
        """``2026-11-23`` from the summary line ``screening 2026-11-23: ...`` ('' if none)."""
        head = self.summary().split(":", 1)[0]
        return head.removeprefix("screening ").strip() if head.startswith("screening ") else ""

    def version(self) -> str:
        """A short digest of the (name, size, mtime) of every file the pages read.

        A page is rendered with the version it was read at; when a workflow run changes one
        of these files the version changes, and the page's script shows the new state.  Only
        the fact that something changed is public, the same for everyone.
        """
        digest = hashlib.blake2b(digest_size=8)
        for folder in SHOWN_FOLDERS:
            try:
                entries = sorted(os.scandir(self.results / folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if not entry.is_file():
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue
                digest.update(
                    f"{folder}/{entry.name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode()
                )
        return digest.hexdigest()
