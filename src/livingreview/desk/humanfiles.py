"""Writing the human sheets: one lock, re-read, edit, validate, atomic replace, journal.

The workflow only *reads* the sheets people type (screening decisions and adjudications,
extraction sheets, dedup verdicts).  The desk is one more way of typing them, so every write
here follows the same discipline whatever the sheet:

1. take an exclusive ``fcntl.flock`` on a lock file beside the sheets (``.desk.lock``), shared
   by every thread and process of every desk serving this project, and settle a write a
   killed desk left unfinished (below);
2. re-read the sheet from disk (it may have been edited by hand since the page was shown);
3. apply the change to that text, leaving every other line byte-for-byte as it was (column
   order, line endings, quoting, a BOM, blank lines);
4. validate the whole would-be sheet with the workflow's own validator (a callback);
5. write a temporary file in the sheet's folder and fsync it;
6. write the *intent* (``.desk.intent`` beside the lock: the journal entry to be, with the
   SHA-256 of the sheet before and after and the temporary file's name) and fsync it;
7. ``os.replace`` the temporary file over the sheet and fsync the folder: a reader (the
   workflow) sees the old sheet or the new one, never a half-written one;
8. append the entry to the journal (``journal.jsonl`` beside the sheets: who, when, what the
   row was before and after), fsynced; then empty the intent.

So the journal holds exactly the changes the sheets hold.  A desk killed (SIGKILL, power cut)
anywhere in 5-8 leaves a non-empty intent; whoever takes the lock next (a desk starting, or
any desk process before its next write or journal read) settles it without touching any
sheet: the sheet's digest equals the intent's *after* digest, so the rename happened and the
entry is appended (marked ``recovered``); it equals the *before* digest, or the temporary file
is still there, so the change never reached the sheet and nothing is journalled; neither,
so the sheet was edited outside the desk since and whether the desk's change reached it
cannot be told: nothing is journalled and the log names the lost entry.  Settling is
idempotent (an entry already in the journal is not appended twice).

Temporary files are named ``.<sheet>.<random>.tmp``: the workflow reads only ``*.tsv``.

Every file the desk writes here (sheets, their temporaries, the journal, the intent and the
lock) is created with :class:`FileAccess`: mode 0640 and one group (``desk.file_group``) so
the scheduled runs and the people who read the sheets can share them, or 0600 without a
group, whatever the umask; temporaries never have a wider mode than the sheet they become.

One :class:`SheetStore` serves each folder of human files (``resources/screening``,
``resources/extraction``, the verdicts sheet's folder): the lock, the intent and the journal
sit in that folder, beside the sheets they protect and describe.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fcntl
import grp
import hashlib
import io
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import ConfigError
from ..io import Table, parse_tsv, read_cell, spreadsheet_cell
from .errors import SheetRefused, SheetsBusy

log = logging.getLogger(__name__)

#: The longest text the desk takes for one cell (a note, an extraction cell, any form field):
#: the pages' ``maxlength``; a longer text posted anyway is refused (:func:`within_limit`).
MAX_CELL_TEXT = 2000
LOCK_NAME = ".desk.lock"
JOURNAL_NAME = "journal.jsonl"
#: The write in progress (empty when none): see the module's docstring.
INTENT_NAME = ".desk.intent"
#: Where a write can be cut short, in order; :class:`SheetStore` calls its ``fault`` hook with
#: each name (tests kill the process there).  ``before-temporary``: nothing written yet;
#: ``temporary-written``: the new sheet is in its temporary file; ``intent-written``: the
#: intent is on disk, the sheet not yet replaced; ``renamed``: the sheet is replaced, the
#: journal not yet appended; ``journalled``: the entry is in the journal, the intent not yet
#: emptied.
CRASH_POINTS = (
    "before-temporary",
    "temporary-written",
    "intent-written",
    "renamed",
    "journalled",
)
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


# --------------------------------------------------------------------------- file modes


@dataclass(frozen=True)
class FileAccess:
    """Who may read the files the desk writes: their owner, and one group when set.

    Files are 0640 with the group (``desk.file_group``), 0600 without; folders the desk makes
    are 2750 (setgid: files made in them by hand join the group) or 0700.  The mode is set
    on the open file before anything is written to it, so no file is ever readable more
    widely, whatever the umask.
    """

    group: str = ""
    gid: int | None = None

    @property
    def mode(self) -> int:
        return 0o640 if self.gid is not None else 0o600

    @property
    def folder_mode(self) -> int:
        return 0o2750 if self.gid is not None else 0o700

    def describe(self) -> str:
        """How the log names this policy."""
        if self.gid is None:
            return "mode 0600 (desk.file_group is not set: only the desk's user reads them)"
        return f"mode 0640, group {self.group}"

    @classmethod
    def of_group(cls, group: str) -> FileAccess:
        """The policy of the config's ``desk.file_group`` (empty: owner only).

        Raises:
            ConfigError: no such group, or the desk's user is not in it (a file cannot be
                given to a group its owner is not in).
        """
        group = group.strip()
        if not group:
            return cls()
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError(
                "desk.file_group",
                f"there is no group {group!r} on this machine",
                allowed="an existing group the desk's user belongs to (create it with "
                "groupadd and add the desk's user with usermod -aG), or '' for files only "
                "the desk's user reads",
            ) from None
        if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
            user = _user_name()
            raise ConfigError(
                "desk.file_group",
                f"the desk runs as {user}, who is not in group {group!r}, so it cannot give "
                "its files to that group",
                allowed=f"a group {user} belongs to (add it: usermod -aG {group} {user}, then "
                "log in again or restart the service), or '' for files only the desk's user "
                "reads",
            )
        return cls(group, gid)

    def apply(self, fd: int, info: os.stat_result | None = None) -> None:
        """Give the open file ``fd`` this mode and group (when it differs and is ours)."""
        info = info or os.fstat(fd)
        if (info.st_mode & 0o7777) == self.mode and self.gid in (None, info.st_gid):
            return
        if info.st_uid != os.geteuid() and os.geteuid() != 0:
            return  # not ours: reported at the desk's start (tighten), replaced when written
        if self.gid is not None and info.st_gid != self.gid:
            os.fchown(fd, -1, self.gid)
        os.fchmod(fd, self.mode)

    def create(self, path: Path, flags: int) -> int:
        """Open ``path`` (created if missing) with this mode and group, never wider."""
        fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, self.mode)
        try:
            self.apply(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def make_folder(self, folder: Path) -> None:
        """Make ``folder`` and any missing parents with :attr:`folder_mode` and the group."""
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue  # made by another desk process meanwhile
            if self.gid is not None:
                os.chown(path, -1, self.gid)
            os.chmod(path, self.folder_mode)


#: Owner only (0600): the default, and always for the desk's secrets in ``.desk/``.
PRIVATE = FileAccess()


def _user_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


# --------------------------------------------------------------------------- lock


@contextmanager
def sheet_lock(path: Path, timeout: float = 10.0, access: FileAccess = PRIVATE) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing, with ``access``) for the
    ``with`` block.

    ``flock`` locks belong to an open file description, so each call opens the file anew:
    two threads of one process exclude each other exactly like two processes.  The lock
    dies with its holder (a killed desk never leaves the sheets locked).

    Raises:
        SheetsBusy: the lock was not free within ``timeout`` seconds.
    """
    fd = access.create(path, os.O_RDWR)
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


def within_limit(text: str, field: str) -> str:
    """``text`` when it fits one cell; a longer one is refused, nothing written, rather than
    kept cut to a text nobody typed (the pages' ``maxlength`` stops it in a browser)."""
    if len(text) > MAX_CELL_TEXT:
        raise SheetRefused(
            f"the {field} is {len(text):,} characters long; at most {MAX_CELL_TEXT:,} are "
            "allowed: shorten it and save again (nothing was saved)"
        )
    return text


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


def file_digest(path: Path) -> str | None:
    """SHA-256 (hex) of the file at ``path``; None when there is none."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def write_temporary(path: Path, data: bytes, access: FileAccess = PRIVATE) -> Path:
    """``data`` in a new, fsynced temporary file beside ``path`` (``.<name>.<random>.tmp``).

    The file is created 0600 and given ``access``'s mode and group before ``data`` is
    written, so it is never readable more widely than the file it will replace.
    """
    access.make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            access.apply(handle.fileno())
            handle.write(data)
            handle.flush()
            os.fdatasync(handle.fileno())  # data and size; enough before a rename
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def replace_file(
    path: Path,
    data: bytes,
    before_replace: Callable[[Path], None] | None = None,
    access: FileAccess = PRIVATE,
) -> tuple[int, int, int]:
    """Atomically put ``data`` at ``path``: temp file in the same folder, fsync, rename, fsync.

    The new file gets ``access``'s mode and group (default 0600, owner only), whatever the
    umask and the mode of the file it replaces.  ``before_replace`` is called with the
    complete, fsynced temporary file just before the rename (tests use it to kill the
    process there).  Returns the new file's :func:`stat_key`.
    """
    tmp = write_temporary(path, data, access)
    try:
        key = stat_key(os.stat(tmp))  # a rename keeps mtime, size and inode
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
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
    particular to the kind of sheet (e.g. ``stage``, ``study``, ``pair``, ``undoes``), and
    ``sha256_before`` / ``sha256_after``: the SHA-256 of the whole sheet file before and
    after the change (null: no file).  An entry a desk appended when settling a write that a
    killed desk left unfinished also has ``recovered`` (when it was appended).

    A line is appended only after the sheet was replaced (see the module's docstring), so
    every entry is a change the sheet holds.
    """

    def __init__(self, path: Path, access: FileAccess = PRIVATE):
        self.path = path
        self.access = access
        #: Called before each :meth:`entries` (a :class:`SheetStore` settles a write a killed
        #: desk left unfinished there, so that readers see its change).
        self.before_read: Callable[[], None] | None = None
        self._cache: tuple[int, int, list[dict[str, Any]]] = (-1, 0, [])
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Append one entry durably (fsync) after the sheet it describes was replaced."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = self.access.create(self.path, os.O_RDWR | os.O_APPEND)
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
        if self.before_read is not None:
            self.before_read()
        return self.read()

    def read(self) -> list[dict[str, Any]]:
        """:meth:`entries` without :attr:`before_read` (for the store settling a write)."""
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

#: What settling an interrupted write can find (:attr:`Settled.outcome`).
JOURNALLED = "journalled"  # the sheet holds the change: its entry was appended now
ALREADY_JOURNALLED = "already journalled"  # killed after the journal append: nothing to do
NOT_REACHED = "not reached"  # the sheet was never replaced: nothing to journal
UNKNOWN = "unknown"  # the sheet was edited outside the desk since: not journalled
UNREADABLE = "unreadable"  # killed while the intent was written, before any sheet change


@dataclass(frozen=True)
class Settled:
    """What settling one write a killed desk left unfinished found and did."""

    outcome: str
    #: The journal entry the write was to append (None: the intent was cut short).
    entry: Mapping[str, Any] | None
    #: The log's line: which sheet, whose change, what the journal shows now.
    message: str


class SheetStore:
    """Every desk write to the sheets under one folder goes through :meth:`edit`.

    ``folder`` holds the lock file, the intent and the journal (e.g. ``resources/screening``);
    sheets may sit in its sub-folders, or in the folder itself when named in
    ``loose_sheets`` (the dedup verdicts sheet).  ``clock`` returns the current UTC time
    (injectable so that tests pin it).  ``access`` gives every file written here its mode and
    group.  ``fault`` (tests) is called with each of :data:`CRASH_POINTS` and the sheet.
    """

    def __init__(
        self,
        folder: Path,
        project_root: Path,
        clock: Callable[[], dt.datetime],
        before_replace: Callable[[Path], None] | None = None,
        lock_timeout: float = 10.0,
        access: FileAccess = PRIVATE,
        loose_sheets: Sequence[str] = (),
    ):
        self.folder = folder
        self.project_root = project_root
        self.clock = clock
        self.before_replace = before_replace
        self.lock_timeout = lock_timeout
        self.access = access
        self.loose_sheets = tuple(loose_sheets)
        self.fault: Callable[[str, Path], None] | None = None
        self.journal = Journal(folder / JOURNAL_NAME, access)
        self.journal.before_read = self._settle_before_read
        self.lock_path = folder / LOCK_NAME
        self.intent_path = folder / INTENT_NAME
        self._holding = threading.local()
        self._intent_synced = False
        # sheet -> (version, document, SHA-256) of the last sheet this store wrote: a sheet
        # unchanged on disk since is not read and parsed again (a 5,000-row sheet takes a while).
        self._written: dict[Path, tuple[tuple[int, int, int], TsvDocument, str]] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The folder's write lock (for reads that must not interleave with a write)."""
        self.access.make_folder(self.folder)
        with sheet_lock(self.lock_path, self.lock_timeout, self.access):
            self._holding.depth = getattr(self._holding, "depth", 0) + 1
            try:
                yield
            finally:
                self._holding.depth -= 1

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, as the workflow names it in messages."""
        try:
            return str(path.relative_to(self.project_root))
        except ValueError:
            return str(path)

    def load(self, sheet: Path, columns: Sequence[str]) -> TsvDocument:
        """The sheet as it is on disk now, or a new empty one with ``columns``."""
        return self._load(sheet, columns)[0]

    def _load(self, sheet: Path, columns: Sequence[str]) -> tuple[TsvDocument, str | None]:
        """:meth:`load` and the SHA-256 of the file read (None: there is none)."""
        try:
            with open(sheet, "rb") as handle:
                key = stat_key(os.fstat(handle.fileno()))
                written = self._written.get(sheet)
                if written is not None and written[0] == key:
                    return written[1].copy(), written[2]
                raw = handle.read()
        except FileNotFoundError:
            return TsvDocument.new(columns), None
        digest = hashlib.sha256(raw).hexdigest()
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
        return document, digest

    def edit(
        self,
        sheet: Path,
        columns: Sequence[str],
        editor: Editor[Snapshot],
        validate: Validator,
        journal_fields: Mapping[str, Any],
    ) -> RowChange[Snapshot]:
        """Apply ``editor`` to the sheet under the lock; validate, replace, journal.

        ``editor`` receives the freshly read document, changes it in place and returns the
        :class:`RowChange`; an editor may raise a :class:`~.errors.DeskError` to refuse.
        Nothing is written when the row does not change.  ``journal_fields`` (who, role,
        action, and sheet-specific fields) are stored with the change.

        Raises:
            SheetRefused: the would-be sheet fails ``validate`` (the workflow's message).
            SheetsBusy: the lock was not free in time.
        """
        with self.locked():
            self.settle_interrupted()
            document, before = self._load(sheet, columns)
            change = editor(document)
            if not change.changed:
                return change
            data = document.text().encode("utf-8")
            validate(sheet, data, document)
            after = hashlib.sha256(data).hexdigest()
            written = self._write(
                sheet, self._entry(sheet, change, journal_fields, before, after), data
            )
            assert written is not None  # a replaced sheet has a version
            document.source_key = written
            self._written[sheet] = (written, document, after)
            return dataclasses.replace(change, written_key=written)

    def delete(
        self,
        sheet: Path,
        check: Callable[[TsvDocument], RowChange[Snapshot]],
        journal_fields: Mapping[str, Any],
    ) -> RowChange[Snapshot]:
        """Remove a whole sheet under the lock, then journal it (a withdrawn agreed sheet).

        ``check`` receives the sheet as it is on disk now and returns the change (its
        ``before`` is journalled); it raises a :class:`~.errors.DeskError` to refuse, e.g.
        when the sheet changed since the page was shown.  A missing sheet is left alone.
        """
        with self.locked():
            self.settle_interrupted()
            if not sheet.is_file():
                return RowChange(sheet.stem, None, None)
            document, before = self._load(sheet, ())
            change = check(document)
            self._write(sheet, self._entry(sheet, change, journal_fields, before, None), None)
            self._written.pop(sheet, None)
            return change

    # -- the write and its intent -----------------------------------------------------------

    def _fault(self, point: str, sheet: Path) -> None:
        if self.fault is not None:
            self.fault(point, sheet)

    def _write(
        self, sheet: Path, entry: dict[str, Any], data: bytes | None
    ) -> tuple[int, int, int] | None:
        """Replace (``data``) or remove (None) ``sheet`` and journal ``entry``, under the lock:
        temporary file, intent, rename, journal, intent emptied (module docstring)."""
        self._fault("before-temporary", sheet)
        tmp = write_temporary(sheet, data, self.access) if data is not None else None
        try:
            key = stat_key(os.stat(tmp)) if tmp is not None else None  # a rename keeps it
            self._fault("temporary-written", sheet)
            self._write_intent({"entry": entry, "temporary": tmp.name if tmp else None})
            self._fault("intent-written", sheet)
            if tmp is not None:
                if self.before_replace is not None:
                    self.before_replace(tmp)
                os.replace(tmp, sheet)
            else:
                sheet.unlink()
        except BaseException:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            self._clear_intent(durable=True)  # the sheet was not touched
            raise
        fsync_directory(sheet.parent)
        self._fault("renamed", sheet)
        self.journal.append(entry)
        self._fault("journalled", sheet)
        self._clear_intent()  # were this lost, settling finds the entry already journalled
        return key

    def _write_intent(self, intent: Mapping[str, Any]) -> None:
        data = json.dumps(intent, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        fd = self.access.create(self.intent_path, os.O_RDWR)
        try:
            os.ftruncate(fd, 0)  # cut short from here on, it reads as "no sheet touched"
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if not self._intent_synced:  # the intent file's own name must survive a power cut
            fsync_directory(self.folder)
            self._intent_synced = True

    def _clear_intent(self, durable: bool = False) -> None:
        try:
            fd = os.open(self.intent_path, os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            os.ftruncate(fd, 0)
            if durable:
                os.fdatasync(fd)
        finally:
            os.close(fd)

    def _intent_pending(self) -> bool:
        try:
            return os.stat(self.intent_path).st_size > 0
        except FileNotFoundError:
            return False

    def _settle_before_read(self) -> None:
        """Before a journal read outside the lock: settle a write a killed desk left (a write
        in progress elsewhere is waited for; the lock shows which is which)."""
        if getattr(self._holding, "depth", 0) or not self._intent_pending():
            return
        try:
            with self.locked():
                self.settle_interrupted()
        except SheetsBusy:
            pass  # read what is journalled; the next write settles it

    def settle_interrupted(self) -> Settled | None:
        """Settle the write a killed desk left unfinished here, if any (hold the lock).

        Never touches a sheet: appends the journal entry when the sheet holds the change,
        removes the write's temporary file and empties the intent; logs what it found.
        Idempotent: an entry already in the journal is not appended again.
        """
        if not self._intent_pending():
            return None
        try:
            raw = self.intent_path.read_bytes()
            intent = json.loads(raw)
            entry = dict(intent["entry"])
            sheet = self.project_root / str(entry["sheet"])
            temporary = intent.get("temporary")
            tmp = sheet.parent / str(temporary) if temporary else None
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            settled = Settled(
                UNREADABLE,
                None,
                f"{self.relative(self.intent_path)}: a desk was stopped while it wrote the "
                "intent of a change, before it touched any sheet; nothing to journal",
            )
        else:
            settled = self._settle(sheet, entry, tmp)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        self._clear_intent(durable=True)
        if settled.outcome != ALREADY_JOURNALLED:
            log.warning("%s", settled.message)
        return settled

    def _settle(self, sheet: Path, entry: dict[str, Any], tmp: Path | None) -> Settled:
        name = self.relative(sheet)
        what = (
            f"a change by {entry.get('who', '?')} ({entry.get('action', '?')} "
            f"{entry.get('record', '?')}, journal entry {entry.get('id', '?')})"
        )
        if any(e.get("id") == entry.get("id") for e in self.journal.read()):
            return Settled(ALREADY_JOURNALLED, entry, f"{name}: {what} is journalled already")
        now = file_digest(sheet)
        if now == entry.get("sha256_after"):
            entry["recovered"] = self._now()
            self.journal.append(entry)
            return Settled(
                JOURNALLED,
                entry,
                f"{name}: {what} reached the sheet, but the desk was stopped before it "
                "journalled it; journalled now (marked 'recovered')",
            )
        if now == entry.get("sha256_before"):
            return Settled(
                NOT_REACHED,
                entry,
                f"{name}: {what} was interrupted before it reached the sheet; the sheet is as "
                "before and nothing is journalled (the change is not saved: make it again)",
            )
        if tmp is not None and tmp.exists():
            return Settled(
                NOT_REACHED,
                entry,
                f"{name}: {what} was interrupted before it reached the sheet, which has been "
                "edited outside the desk since; nothing is journalled (make the change again "
                "if it is still wanted)",
            )
        return Settled(
            UNKNOWN,
            entry,
            f"{name}: {what} was interrupted, and the sheet has been edited outside the desk "
            "since, so whether the change reached it cannot be told; it is not journalled. "
            f"Check the sheet's row for {entry.get('record', '?')}",
        )

    # -- at the desk's start ---------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle a write a killed desk left unfinished and remove leftover temporary files
        (under the lock); returns what was done, each as a log line (also logged)."""
        done: list[str] = []
        with self.locked():
            settled = self.settle_interrupted()
            if settled is not None:
                done.append(settled.message)
            for tmp in remove_stale_temporaries(self.folder):
                line = f"{self.relative(tmp)}: a killed desk's temporary file, removed"
                log.info("%s", line)
                done.append(line)
        return done

    def tighten(self) -> list[str]:
        """Give the desk's files here (sheets, journal, intent, lock) the desk's mode and
        group; returns what changed or could not be changed, each as a log line (logged).

        Only files of the desk's user are changed; another user's file with a wider mode is
        named (it gets the desk's mode when the desk next writes it)."""
        access = self.access
        if not self.folder.is_dir():
            return []
        candidates = [self.journal.path, self.intent_path, self.lock_path]
        candidates += [self.folder / name for name in self.loose_sheets]
        candidates += sorted(
            path
            for path in self.folder.rglob("*.tsv")
            if len(path.relative_to(self.folder).parts) >= 2
        )
        done: list[str] = []
        for path in candidates:
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            mode = info.st_mode & 0o7777
            if not stat.S_ISREG(info.st_mode) or (
                mode == access.mode and access.gid in (None, info.st_gid)
            ):
                continue
            name = self.relative(path)
            if info.st_uid != os.geteuid() and os.geteuid() != 0:
                if mode & ~access.mode & 0o077:
                    line = (
                        f"{name} is mode {mode:04o} and belongs to another user, so the desk "
                        f"cannot change it: run chmod {access.mode:o} {name}"
                    )
                    log.warning("%s", line)
                    done.append(line)
                continue
            if access.gid is not None and info.st_gid != access.gid:
                os.chown(path, -1, access.gid)
            os.chmod(path, access.mode)
            group = f", group {access.group}" if access.gid is not None else ""
            line = f"{name}: mode {mode:04o} -> {access.mode:04o}{group} (the desk's file mode)"
            log.warning("%s", line)
            done.append(line)
        for folder in [self.folder, *(p for p in self.folder.rglob("*") if p.is_dir())]:
            if folder.stat().st_mode & 0o002:
                line = (
                    f"{self.relative(folder)}/ is writable by every user, who could replace "
                    f"the sheets in it: run chmod o-w {self.relative(folder)}"
                )
                log.warning("%s", line)
                done.append(line)
        return done

    def _now(self) -> str:
        return self.clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _entry(
        self,
        sheet: Path,
        change: RowChange[Snapshot],
        journal_fields: Mapping[str, Any],
        sha256_before: str | None,
        sha256_after: str | None,
    ) -> dict[str, Any]:
        """One journal entry: id, time, the caller's fields, sheet, record, before, after."""
        return {
            "id": secrets.token_hex(8),
            "at": self._now(),
            **journal_fields,
            "sheet": self.relative(sheet),
            "record": change.key,
            "before": change.before,
            "after": change.after,
            "sha256_before": sha256_before,
            "sha256_after": sha256_after,
        }


def open_stores(
    folders: Mapping[Path, Sequence[str]],
    project_root: Path,
    clock: Callable[[], dt.datetime],
    access: FileAccess = PRIVATE,
    before_replace: Callable[[Path], None] | None = None,
) -> dict[Path, SheetStore]:
    """One :class:`SheetStore` per folder of human files (``folder -> loose sheets``), ready
    for the desk's start: the desk's files get the desk's mode and group, a write a killed
    desk left unfinished is settled and leftover temporary files are removed, each step
    logged.  Call before anything reads a journal."""
    log.info("the desk writes the human files with %s", access.describe())
    stores = {}
    for folder, loose_sheets in folders.items():
        store = SheetStore(
            folder,
            project_root,
            clock,
            before_replace=before_replace,
            access=access,
            loose_sheets=loose_sheets,
        )
        store.tighten()  # first: taking the lock would give the lock file its mode unsaid
        store.recover()
        stores[folder] = store
    return stores


def file_access(config: Mapping[str, Any]) -> FileAccess:
    """The desk's :class:`FileAccess` from the config's ``desk.file_group``.

    Raises:
        ConfigError: no such group, or the desk's user is not in it.
    """
    section = config.get("desk") or {}
    return FileAccess.of_group(str(section.get("file_group") or ""))
