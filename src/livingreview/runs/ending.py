"""How a run ends on screen: the to-do block after success, one clear line after a failure.

Snakemake calls the workflow's ``onsuccess`` / ``onerror`` handlers (workflow/rules/runs.smk)
and they call :class:`RunEnding`. After a successful run it prints the to-do block of the
run's record (``results/runs/<run_date>/summary.json``, :mod:`.todo`). After a failed one it
prints the marker line of each failed job's log (:func:`livingreview.logs.error_marker`, for
``bin/scheduled-update``'s exit code) and, as the very last line of the run, after everything
Snakemake prints on its way out, the error's own message (file, line, field, what to do): the
traceback stays in the job's log. When Snakemake could not even start because another run
holds the project and that run is a scheduled one (``bin/scheduled-update`` holds its lock),
the last line says so instead of leaving Snakemake's ``--unlock`` advice as the last word.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..errors import ReviewError
from ..logs import ERROR_MARKER_PATTERN
from .todo import todo_block

#: The lock bin/scheduled-update holds (flock) for the whole of a scheduled run.
SCHEDULER_LOCK = ".snakemake/scheduled-update.lock"
#: Environment variable naming the current scheduled run (set by bin/scheduled-update).
RUN_ID_ENV = "LIVINGREVIEW_RUN_ID"
#: Set by bin/scheduled-update, which prints the to-do block itself after its last line.
SCHEDULER_PRINTS_TODO_ENV = "LIVINGREVIEW_SCHEDULER_PRINTS_TODO"

_JOB_LOG = re.compile(r"^\s+log: (?P<logs>.+?) \(check log file\(s\) for error details\)$", re.M)
_MARKER = ERROR_MARKER_PATTERN
_TRACEBACK = "Traceback (most recent call last):"
# Most specific first: a person must act on invalid input (3); the network heals itself (4).
_PRIORITY = {3: 0, 4: 1}


@dataclass(frozen=True)
class JobError:
    """Why one job failed, from its log: the marker line, its exit code and the message."""

    log: str
    marker: str
    exit_code: int
    message: str

    @property
    def rank(self) -> int:
        return _PRIORITY.get(self.exit_code, len(_PRIORITY))


def failed_job_logs(snakemake_output: str) -> list[str]:
    """The log files of the jobs Snakemake reports as failed ("Error in rule ...").

    >>> failed_job_logs("Error in rule screen:\\n    jobid: 3\\n    log: logs/a.log, "
    ...                 "logs/b.log (check log file(s) for error details)\\n")
    ['logs/a.log', 'logs/b.log']
    """
    found: list[str] = []
    for match in _JOB_LOG.finditer(snakemake_output):
        for path in match["logs"].split(", "):
            if path not in found:
                found.append(path)
    return found


def _message_before(lines: Sequence[str], marker_at: int, name: str) -> str:
    """The logged message of the uncaught ``name`` error that precedes the marker line
    (``... ERROR <logger>: <name>: <message>``, continued up to the traceback)."""
    start = next(
        (i for i in range(marker_at - 1, -1, -1) if f": {name}: " in lines[i]),
        None,
    )
    if start is None:
        return ""
    first = lines[start].split(f": {name}: ", 1)[1]
    rest = []
    for line in lines[start + 1 : marker_at]:
        if line.startswith(_TRACEBACK) or _MARKER.search(line):
            break
        rest.append(line.strip())
    return " ".join([first.strip(), *filter(None, rest)])


def job_error(log_path: str | Path, run_id: str | None = None) -> JobError | None:
    """The error a job's log ends with, or ``None`` when it has no marker of this run.

    With ``run_id`` (a scheduled run), a marker naming another run (an old log) does not
    count.
    """
    try:
        text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = text.splitlines()
    for at in range(len(lines) - 1, -1, -1):
        match = _MARKER.search(lines[at])
        if match is None:
            continue
        if run_id and match["run"] not in (None, run_id):
            return None
        return JobError(
            log=str(log_path),
            marker=lines[at][match.start() :].strip(),
            exit_code=int(match["code"]),
            message=_message_before(lines, at, match["name"]),
        )
    return None


def _snakemake_logs(logs: str | Path | Sequence[str | Path]) -> list[Path]:
    return [Path(logs)] if isinstance(logs, (str, Path)) else [Path(p) for p in logs]


def run_errors(
    snakemake_logs: str | Path | Sequence[str | Path], since: float, run_id: str | None = None
) -> list[JobError]:
    """The errors of the jobs that failed in this run (their logs written at or after
    ``since``, the run's start), the one a person must act on first.

    ``snakemake_logs`` is Snakemake's own log of this run (the handlers get a list of them).
    """
    text = ""
    for path in _snakemake_logs(snakemake_logs):
        try:
            text += path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    errors = []
    for log in failed_job_logs(text):
        try:
            if os.stat(log).st_mtime < since:
                continue  # not written by this run (a job that never started)
        except OSError:
            continue
        error = job_error(log, run_id)
        if error is not None:
            errors.append(error)
    return sorted(errors, key=lambda e: e.rank)


def final_error_line(
    errors: Sequence[JobError], snakemake_logs: str | Path | Sequence[str | Path]
) -> str:
    """The one line a failed run ends with.

    >>> final_error_line([JobError("logs/x.log", "M", 3, "sheet.tsv, line 3: bad")], "s.log")
    'Error: sheet.tsv, line 3: bad'
    >>> final_error_line([], ["s.log"])
    'Error: the run failed; Snakemake says why above, its full log is s.log'
    """
    for error in errors:
        if error.message:
            return f"Error: {error.message}"
    if errors:
        return f"Error: a job failed: see {errors[0].log}"
    logs = ", ".join(str(p) for p in _snakemake_logs(snakemake_logs)) or "in .snakemake/log/"
    return f"Error: the run failed; Snakemake says why above, its full log is {logs}"


def _holds_lock_file(lock_path: Path) -> bool:
    """Whether this process has the lock file open (a child of bin/scheduled-update inherits
    its locked descriptor, and is then part of the scheduled run, not blocked by it)."""
    try:
        target = lock_path.resolve()
        for fd in os.listdir("/proc/self/fd"):
            try:
                if Path(os.readlink(f"/proc/self/fd/{fd}")) == target:
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


def scheduled_run_active(lock_path: str | Path = SCHEDULER_LOCK) -> bool:
    """Whether another process (bin/scheduled-update) holds the scheduler's lock now.

    Checked without blocking and without creating the file; a process that is itself part
    of the scheduled run does not count.
    """
    path = Path(lock_path)
    if not path.is_file() or _holds_lock_file(path):
        return False
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return True
                raise
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


SCHEDULED_RUN_ACTIVE = (
    "Error: a scheduled run (bin/scheduled-update) is working in this project right now; "
    "do not --unlock it: wait until it has finished (logs/scheduled/ shows its progress), "
    "then run again"
)


def print_todo(
    summary_json: str | Path, stream: TextIO | None = None, fresh_since: float | None = None
) -> bool:
    """Print the to-do block of a run record; ``False`` (nothing printed) if there is none.

    With ``fresh_since`` (the run's start), a record this run did not rewrite (its targets
    left it out) is printed with a line saying when it was written.
    """
    path = Path(summary_json)
    if not path.is_file():
        return False
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        block = todo_block(summary)
    except (ValueError, KeyError, ReviewError):
        return False  # a record of an older layout: summary.md is still there
    if fresh_since is not None and path.stat().st_mtime < fresh_since:
        block += (
            f"(from the record written {summary.get('generated_at')}: not rebuilt by this run)\n"
        )
    out = stream or sys.stdout
    out.write("\n" + block)
    out.flush()
    return True


class LockRefusalWatch(logging.Handler):
    """Notices Snakemake's refusal to start because the project is locked (its
    ``LockException``, logged just before it exits): the only failure no handler sees."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.refused = False

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "exception", None) == "LockException":
            self.refused = True


@dataclass
class RunEnding:
    """The end of one Snakemake invocation, as the workflow's handlers see it.

    ``started`` is when the workflow was parsed (the run's start). Attach :attr:`lock_watch`
    to Snakemake's logger, and call :meth:`last_words` once at exit (atexit): it prints the
    final line, if any, after everything Snakemake has printed.
    """

    summary_json: str
    started: float
    lock_path: str = SCHEDULER_LOCK
    stream: TextIO | None = None
    final_line: str = ""
    errors: list[JobError] = field(default_factory=list)
    lock_watch: LockRefusalWatch = field(default_factory=LockRefusalWatch)

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def succeeded(self) -> None:
        """onsuccess: the to-do block of the run's record, on stdout (unless the scheduler
        prints it at the end of its own output)."""
        if not os.environ.get(SCHEDULER_PRINTS_TODO_ENV):
            print_todo(self.summary_json, fresh_since=self.started)

    def failed(self, snakemake_logs: str | Path | Sequence[str | Path]) -> None:
        """onerror: the failed jobs' marker lines now; the error's message at exit."""
        self.errors = run_errors(snakemake_logs, self.started, os.environ.get(RUN_ID_ENV))
        out = self._out()
        for error in self.errors:
            out.write(error.marker + "\n")
        out.flush()
        self.final_line = final_error_line(self.errors, snakemake_logs)

    def last_words(self) -> None:
        """At exit: the error line of a failed run or, when Snakemake refused to start because
        a scheduled run holds the project, say that one is active."""
        line = self.final_line
        if not line and self.lock_watch.refused and scheduled_run_active(self.lock_path):
            line = SCHEDULED_RUN_ACTIVE
        if line:
            out = self._out()
            out.write(line + "\n")
            out.flush()
