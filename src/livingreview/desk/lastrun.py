"""What the last workflow run wrote, read (never written) from ``results/``.

Files are re-read when they change on disk (size, mtime, inode), so a workflow run while the
desk is serving shows up on the next page without a restart; unchanged files are parsed once.
"""

from __future__ import annotations

import hashlib
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
EXTRACTION_STATUS = Path("extraction") / "status.tsv"
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

    def get(self, path: Path, kind: str, parse: Callable[[Path], T]) -> T:
        info = path.stat()
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._lock:
            hit = self._entries.get((path, kind))
            if hit and hit[0] == key:
                return hit[1]
        value = parse(path)
        with self._lock:
            self._entries[(path, kind)] = (key, value)
        return value


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
        if not path.is_file():
            raise NoRunYet(
                f"results/{relative} is missing: run the workflow first "
                "(.venv/bin/snakemake --cores 4), then reload this page"
            )
        return path

    def index_key(self) -> tuple[int, int, int]:
        """Version of ``unique.tsv`` (record ids a sheet may name depend on it)."""
        info = self._file(UNIQUE).stat()
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def index(self) -> PublicationIndex:
        """Every publication of ``unique.tsv`` and the map from member record ids to it."""
        return self._cache.get(self._file(UNIQUE), "index", load_publications)

    def queue(self, stage: str, reviewer: str) -> Queue:
        """``queue/<stage>/<reviewer>.tsv`` (stage and reviewer already validated)."""
        relative = Path("screening") / "queue" / stage / f"{reviewer}.tsv"
        path = self.results / relative
        if not path.is_file():
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
        if not path.is_file():
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
        if not path.is_file() and (self.results / STATUS).is_file():
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
        if included.is_file():
            known |= self._cache.get(
                included,
                "included",
                lambda p: {r["study_id"] for r in read_rows(p) if r.get("study_id")},
            )
        return sorted(known)

    def summary(self) -> str:
        """The screening stage's one-line summary (empty before the first run)."""
        path = self.results / SUMMARY
        if not path.is_file():
            return ""
        return self._cache.get(path, "summary", lambda p: p.read_text(encoding="utf-8").strip())

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
