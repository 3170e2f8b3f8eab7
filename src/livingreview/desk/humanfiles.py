"""Writing the human sheets: one lock, re-read, edit, validate, journal, atomic replace.

The workflow only *reads* the sheets people type (screening decisions and adjudications,
extraction sheets, dedup verdicts).  The desk is one more way of typing them, so every write
here follows the same discipline whatever the sheet:

1. take an exclusive ``fcntl.flock`` on a lock file beside the sheets (``.desk.lock``), shared
   by every thread and process of every desk serving this project;
2. re-read the sheet from disk (it may have been edited by hand since the page was shown);
3. apply the change to that text, leaving every other line byte-for-byte as it was (column
   order, line endings, quoting, a BOM, blank lines);
4. validate the whole would-be sheet with the workflow's own validator (a callback);
5. append the change to the journal (``journal.jsonl`` beside the sheets: who, when, what the
   row was before and after), fsynced, *before* touching the sheet, so a crash can never
   lose the record of a change;
6. write a temporary file in the sheet's folder, fsync it, ``os.replace`` it over the sheet
   and fsync the folder: a reader (the workflow) sees the old sheet or the new one, never a
   half-written one, also after a power cut or a killed process.

Temporary files are named ``.<sheet>.<random>.tmp``: the workflow reads only ``*.tsv``.

One :class:`SheetStore` serves each folder of human files (``resources/screening``,
``resources/extraction``, the verdicts sheet's folder): the lock and the journal sit in that
folder, beside the sheets they protect and describe.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fcntl
import io
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..io import Table, parse_tsv, read_cell, spreadsheet_cell
from .errors import SheetRefused, SheetsBusy

log = logging.getLogger(__name__)

#: The longest text the desk takes for one cell (a note, an extraction cell, any form field):
#: the pages' ``maxlength`` and the server's cut are both this.
MAX_CELL_TEXT = 2000
LOCK_NAME = ".desk.lock"
JOURNAL_NAME = "journal.jsonl"
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


# --------------------------------------------------------------------------- lock


@contextmanager
def sheet_lock(path: Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    ``flock`` locks belong to an open file description, so each call opens the file anew:
    two threads of one process exclude each other exactly like two processes.  The lock
    dies with its holder (a killed desk never leaves the sheets locked).

    Raises:
        SheetsBusy: the lock was not free within ``timeout`` seconds.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SheetsBusy(
                        f"the sheets are locked by another desk process ({path}); nothing was "
                        "saved. Try again in a moment; if it persists, check for a hung desk "
                        "process holding the lock"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- documents


def _split_lines(text: str) -> list[str]:
    """Physical lines with their terminators (``\\n``, ``\\r\\n`` or ``\\r``; last may lack one)."""
    return _LINES.findall(text)


@dataclass
class Segment:
    """One logical row of a sheet: its raw text (one or more physical lines) and its cells."""

    raw: str
    cells: dict[str, str] | None  # None for a blank line


@dataclass
class TsvDocument:
    """A tab-separated sheet held as raw text segments, so edits leave other lines intact.

    Only rows that are changed or added are (re)serialised; everything else is written back
    exactly as read.  Cells hold values as people typed them: a cell that would start a
    spreadsheet formula is neutralised when written and read back as typed, by the
    workflow's own rule (:func:`livingreview.io.spreadsheet_cell`, :func:`~livingreview.io.read_cell`).
    """

    bom: str
    header_raw: str
    columns: list[str]
    segments: list[Segment] = field(default_factory=list)
    newline: str = "\n"
    #: (mtime_ns, size, inode) of the file this was read from (None: a new sheet).
    source_key: tuple[int, int, int] | None = None

    @classmethod
    def new(cls, columns: Sequence[str]) -> TsvDocument:
        """An empty sheet with ``columns`` as its header."""
        return cls(bom="", header_raw="\t".join(columns) + "\n", columns=list(columns))

    @classmethod
    def parse(cls, text: str) -> TsvDocument:
        """Split ``text`` into header and row segments (cells as the csv module reads them)."""
        bom = ""
        if text.startswith("\ufeff"):
            bom, text = "\ufeff", text[1:]
        lines = _split_lines(text)
        if not lines:
            raise ValueError("empty sheet")
        header_raw = lines[0]
        columns = [c.strip() for c in next(csv.reader([header_raw], delimiter="\t"), [])]
        newline = "\r\n" if header_raw.endswith("\r\n") else "\n"
        segments: list[Segment] = []
        if '"' not in text:  # no quoting anywhere: one row per line, cells split at tabs
            for line in lines[1:]:
                cells = line.rstrip("\r\n").split("\t")
                if not any(c.strip() for c in cells):
                    segments.append(Segment(line, None))
                else:
                    cells = [read_cell(c) for c in cells]
                    row = dict(zip(columns, cells + [""] * (len(columns) - len(cells))))
                    segments.append(Segment(line, row))
            return cls(bom, header_raw, columns, segments, newline)
        consumed: list[str] = []

        def feed() -> Iterator[str]:
            for line in lines[1:]:
                consumed.append(line)
                yield line

        for cells in csv.reader(feed(), delimiter="\t"):
            raw = "".join(consumed)
            consumed.clear()
            if not any(c.strip() for c in cells):
                segments.append(Segment(raw, None))
            else:
                row = {
                    c: (read_cell(cells[i]) if i < len(cells) else "")
                    for i, c in enumerate(columns)
                }
                segments.append(Segment(raw, row))
        if consumed:  # an unterminated quoted field at the end: keep it verbatim
            segments.append(Segment("".join(consumed), None))
        return cls(
            bom=bom, header_raw=header_raw, columns=columns, segments=segments, newline=newline
        )

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """``(segment index, cells)`` of every non-blank row."""
        for i, segment in enumerate(self.segments):
            if segment.cells is not None:
                yield i, segment.cells

    def serialise(self, cells: Mapping[str, str]) -> str:
        """One row in this sheet's column order and line ending (tabs/newlines become spaces,
        a formula start is neutralised)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator=self.newline)
        writer.writerow([spreadsheet_cell(clean_cell(cells.get(c, ""))) for c in self.columns])
        return buffer.getvalue()

    def replace(self, index: int, cells: Mapping[str, str]) -> None:
        """Replace the row at segment ``index`` with ``cells``."""
        self.segments[index] = Segment(self.serialise(cells), dict(cells))

    def remove(self, index: int) -> None:
        """Delete the row at segment ``index``."""
        del self.segments[index]

    def append(self, cells: Mapping[str, str]) -> None:
        """Add a row at the end (terminating the last line first if it lacked a newline)."""
        if self.segments and not self.segments[-1].raw.endswith(("\n", "\r")):
            last = self.segments[-1]  # segments are shared with copies: replace, never mutate
            self.segments[-1] = Segment(last.raw + self.newline, last.cells)
        elif not self.segments and not self.header_raw.endswith(("\n", "\r")):
            self.header_raw += self.newline
        self.segments.append(Segment(self.serialise(cells), dict(cells)))

    def rewrite(self, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
        """Make this the sheet of ``rows`` under the header ``columns`` (a form saved whole).

        The sheet's BOM and line ending are kept, so a sheet saved by a spreadsheet keeps the
        conventions it was saved with; everything else is written anew.
        """
        self.columns = list(columns)
        self.header_raw = "\t".join(self.columns) + self.newline
        self.segments = [Segment(self.serialise(row), dict(row)) for row in rows]

    def text(self) -> str:
        """The whole sheet as text, untouched lines exactly as read."""
        return self.bom + self.header_raw + "".join(s.raw for s in self.segments)

    def copy(self) -> TsvDocument:
        """A copy that can be edited without touching this one (segments are never mutated)."""
        return dataclasses.replace(self, segments=list(self.segments))

    def row_table(self, path: str | Path, index: int, line: int | None = None) -> Table:
        """The header and the row at segment ``index`` as the workflow's reader reads them,
        the row keeping its line in this sheet (``__line__``, or ``line`` when given): one
        changed row can be checked on its own and its problems still name the line people
        see. ``path`` names the sheet in messages."""
        segment = self.segments[index].raw
        row = segment if segment.endswith(("\n", "\r")) else segment + self.newline
        table = parse_tsv((self.bom + self.header_raw + row).encode("utf-8"), path)
        shift = (self.line_of(index) if line is None else line) - 2
        rows = [{**cells, "__line__": str(int(cells["__line__"]) + shift)} for cells in table.rows]
        return Table(table.columns, rows)

    def line_of(self, index: int) -> int:
        """The 1-based file line on which segment ``index`` starts (header = line 1)."""
        before = self.header_raw + "".join(s.raw for s in self.segments[:index])
        # as many lines as _split_lines finds, counted at C speed (a save checks one row of a
        # long sheet and names its line)
        ends = before.count("\n") + before.count("\r") - before.count("\r\n")
        return ends + (1 if before and not before.endswith(("\n", "\r")) else 0) + 1


def clean_cell(value: object) -> str:
    """A cell value that stays one cell on one line (no tabs, newlines or control characters)."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\t\r\n\v\f\x85\u2028\u2029]+", " ", text)
    return "".join(ch for ch in text if ch >= " " or ch == "\t").strip()


# --------------------------------------------------------------------------- files


def fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the directory entry itself is flushed)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stat_key(info: os.stat_result) -> tuple[int, int, int]:
    """What identifies one version of a file: an edit or a replacement changes it."""
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def replace_file(
    path: Path, data: bytes, before_replace: Callable[[Path], None] | None = None
) -> tuple[int, int, int]:
    """Atomically put ``data`` at ``path``: temp file in the same folder, fsync, rename, fsync.

    The new file keeps the permissions of the file it replaces (a new one gets 0666 less the
    umask, as an editor would create it).  ``before_replace`` is called with the complete,
    fsynced temporary file just before the rename (tests use it to kill the process there).
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fdatasync(handle.fileno())  # data and size; enough before a rename
        os.chmod(tmp, mode)
        key = stat_key(os.stat(tmp))  # a rename keeps mtime, size and inode
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_directory(folder)
    return key


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files a killed desk left in ``folder`` and its sub-folders.

    Call only while holding the folder's lock (no write can be in progress then).
    """
    removed = []
    for tmp in folder.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink()
            removed.append(tmp)
    return removed


# --------------------------------------------------------------------------- journal


class Journal:
    """Append-only JSON-lines record of every change the desk made to the sheets of a folder.

    One object per line: ``id``, ``at`` (UTC, ISO 8601 with ``Z``), ``who``, ``role``,
    ``action``, ``sheet`` (path relative to the project), ``record`` (what identifies the
    change: the publication id for screening sheets, the study id for extraction sheets, the
    two record ids for dedup verdicts), ``before`` and ``after`` (the row as a column -> value
    mapping, or for a sheet saved whole the list of its rows; null when absent), plus fields
    particular to the kind of sheet (e.g. ``stage``, ``study``, ``pair``, ``undoes``).
    """

    def __init__(self, path: Path):
        self.path = path
        self._cache: tuple[int, int, list[dict[str, Any]]] = (-1, 0, [])
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Append one entry durably (fsync) before the sheet it describes is replaced."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            # A crash mid-append may have left a partial last line: start on a fresh one.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry, oldest first (a partial line left by a crash is skipped).

        Only what was appended since the last call is parsed (the file only grows).
        """
        with self._lock:
            try:
                handle = open(self.path, "rb")
            except FileNotFoundError:
                return []
            with handle:
                inode = os.fstat(handle.fileno()).st_ino
                cached_inode, offset, entries = self._cache
                if inode != cached_inode:
                    offset, entries = 0, []
                handle.seek(offset)
                data = handle.read()
            complete = data[: data.rfind(b"\n") + 1]
            entries = list(entries)
            for line in complete.decode("utf-8", "replace").splitlines():
                if not line.strip():
                    continue
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    log.warning(
                        "%s: an incomplete journal line (a crash mid-append); skipped", self.path
                    )
            self._cache = (inode, offset + len(complete), entries)
            return entries


# --------------------------------------------------------------------------- the store


#: What the journal records before and after a change: one row (a column -> value mapping)
#: for sheets edited row by row, every row for sheets saved whole; ``None``: absent.
Snapshot = TypeVar("Snapshot", dict[str, str], list[dict[str, str]])


@dataclass(frozen=True)
class RowChange(Generic[Snapshot]):
    """What one edit did (``None``: the row, or the sheet, did not exist / was removed).

    ``key`` identifies what changed in the journal's ``record`` field: a publication id for
    screening sheets, a study id for extraction sheets, a record pair for dedup verdicts.
    """

    key: str
    before: Snapshot | None
    after: Snapshot | None
    #: stat key of the sheet as written (None when nothing was written)
    written_key: tuple[int, int, int] | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


#: ``validate(sheet, would_be_bytes, edited_document)`` raises SheetRefused to refuse.
Validator = Callable[[Path, bytes, "TsvDocument"], None]
Editor = Callable[[TsvDocument], RowChange[Snapshot]]


class SheetStore:
    """Every desk write to the sheets under one folder goes through :meth:`edit`.

    ``folder`` holds the lock file and the journal (e.g. ``resources/screening``); sheets
    may sit in its sub-folders.  ``clock`` returns the current UTC time (injectable so that
    tests pin it).
    """

    def __init__(
        self,
        folder: Path,
        project_root: Path,
        clock: Callable[[], dt.datetime],
        before_replace: Callable[[Path], None] | None = None,
        lock_timeout: float = 10.0,
    ):
        self.folder = folder
        self.project_root = project_root
        self.clock = clock
        self.before_replace = before_replace
        self.lock_timeout = lock_timeout
        self.journal = Journal(folder / JOURNAL_NAME)
        self.lock_path = folder / LOCK_NAME
        # sheet -> (version, document) of the last sheet this store wrote: a sheet unchanged
        # on disk since is not read and parsed again (a 5,000-row sheet takes a while).
        self._written: dict[Path, tuple[tuple[int, int, int], TsvDocument]] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The folder's write lock (for reads that must not interleave with a write)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with sheet_lock(self.lock_path, self.lock_timeout):
            yield

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, as the workflow names it in messages."""
        try:
            return str(path.relative_to(self.project_root))
        except ValueError:
            return str(path)

    def load(self, sheet: Path, columns: Sequence[str]) -> TsvDocument:
        """The sheet as it is on disk now, or a new empty one with ``columns``."""
        try:
            with open(sheet, "rb") as handle:
                key = stat_key(os.fstat(handle.fileno()))
                written = self._written.get(sheet)
                if written is not None and written[0] == key:
                    return written[1].copy()
                raw = handle.read()
        except FileNotFoundError:
            return TsvDocument.new(columns)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SheetRefused(
                f"{self.relative(sheet)} is not valid UTF-8 text (was it saved by a spreadsheet "
                "in another encoding?); the desk cannot change it safely. Save it as UTF-8 TSV "
                "and reload the page"
            ) from None
        document = TsvDocument.new(columns) if not text.strip() else TsvDocument.parse(text)
        document.source_key = key
        return document

    def edit(
        self,
        sheet: Path,
        columns: Sequence[str],
        editor: Editor[Snapshot],
        validate: Validator,
        journal_fields: Mapping[str, Any],
    ) -> RowChange[Snapshot]:
        """Apply ``editor`` to the sheet under the lock; validate, journal, replace.

        ``editor`` receives the freshly read document, changes it in place and returns the
        :class:`RowChange`; an editor may raise a :class:`~.errors.DeskError` to refuse.
        Nothing is written when the row does not change.  ``journal_fields`` (who, role,
        action, and sheet-specific fields) are stored with the change.

        Raises:
            SheetRefused: the would-be sheet fails ``validate`` (the workflow's message).
            SheetsBusy: the lock was not free in time.
        """
        with self.locked():
            document = self.load(sheet, columns)
            change = editor(document)
            if not change.changed:
                return change
            data = document.text().encode("utf-8")
            validate(sheet, data, document)
            self.journal.append(self._entry(sheet, change, journal_fields))
            written = replace_file(sheet, data, self.before_replace)
            document.source_key = written
            self._written[sheet] = (written, document)
            return dataclasses.replace(change, written_key=written)

    def delete(
        self,
        sheet: Path,
        check: Callable[[TsvDocument], RowChange[Snapshot]],
        journal_fields: Mapping[str, Any],
    ) -> RowChange[Snapshot]:
        """Remove a whole sheet under the lock, journalled first (a withdrawn agreed sheet).

        ``check`` receives the sheet as it is on disk now and returns the change (its
        ``before`` is journalled); it raises a :class:`~.errors.DeskError` to refuse, e.g.
        when the sheet changed since the page was shown.  A missing sheet is left alone.
        """
        with self.locked():
            if not sheet.is_file():
                return RowChange(sheet.stem, None, None)
            change = check(self.load(sheet, ()))
            self.journal.append(self._entry(sheet, change, journal_fields))
            sheet.unlink()
            fsync_directory(sheet.parent)
            self._written.pop(sheet, None)
            return change

    def _entry(
        self, sheet: Path, change: RowChange[Snapshot], journal_fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One journal entry: id, time, the caller's fields, sheet, record, before, after."""
        return {
            "id": secrets.token_hex(8),
            "at": self.clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            **journal_fields,
            "sheet": self.relative(sheet),
            "record": change.key,
            "before": change.before,
            "after": change.after,
        }
