"""Logging for workflow scripts: one call sends records to the rule's log file and stderr.

Uncaught exceptions are written to the log too, so a failed job's log says why it failed,
followed by one machine-readable marker line (:func:`error_marker`) from which
``bin/scheduled-update`` picks its exit code (network, invalid human input, other). The marker
names the run that wrote it (``run=<id>``, from :data:`RUN_ID_ENV`), so that an old log
printed again in a later run is never taken for that run's failure.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from types import TracebackType

#: Prefix of the marker line written for an uncaught exception (see :func:`error_marker`).
ERROR_MARKER = "LIVINGREVIEW-ERROR"
#: Environment variable naming the current run; ``bin/scheduled-update`` sets it, every job
#: inherits it (SLURM jobs too: the executor submits with ``--export=ALL``).
RUN_ID_ENV = "LIVINGREVIEW_RUN_ID"
#: A marker line as :func:`error_marker` writes it: class name, exit code, run id (optional).
ERROR_MARKER_PATTERN = re.compile(
    rf"{ERROR_MARKER} (?P<name>[A-Za-z_][A-Za-z0-9_]*) exit_code=(?P<code>\d+)"
    r"(?: run=(?P<run>\S+))?"
)


def error_marker(exc: BaseException, run_id: str | None = None) -> str:
    """The one-line marker naming an uncaught exception's class, its exit code and the run.

    ``exit_code`` comes from :class:`livingreview.errors.ReviewError` subclasses; any other
    exception counts as 1 (other failure). ``run_id`` defaults to :data:`RUN_ID_ENV` from
    the environment; without one the marker names no run.

    >>> from livingreview.errors import NetworkError
    >>> error_marker(NetworkError("NCBI down"), run_id="")
    'LIVINGREVIEW-ERROR NetworkError exit_code=4'
    >>> error_marker(KeyError("x"), run_id="2026-11-23T060000Z-4242")
    'LIVINGREVIEW-ERROR KeyError exit_code=1 run=2026-11-23T060000Z-4242'
    """
    code = getattr(exc, "exit_code", 1)
    if not isinstance(code, int) or isinstance(code, bool):
        code = 1
    if run_id is None:
        run_id = os.environ.get(RUN_ID_ENV, "")
    run = f" run={run_id}" if run_id and not any(c.isspace() for c in run_id) else ""
    return f"{ERROR_MARKER} {type(exc).__name__} exit_code={code}{run}"


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _WithoutTraceback(logging.Formatter):
    """Formats a record without its traceback (for the screen; the log file keeps it)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def setup_logging(log_path: str | Path | None, name: str = "livingreview") -> logging.Logger:
    """Configure the root logger for one Snakemake job and return a named logger."""
    # On screen, an uncaught error is its message alone: the traceback goes to the log file.
    screen = logging.StreamHandler(sys.stderr)
    screen.setFormatter(_WithoutTraceback(_FORMAT))
    handlers: list[logging.Handler] = [screen]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format=_FORMAT,
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(name)

    def log_uncaught(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        logger.error("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))
        logger.error("%s", error_marker(exc))

    sys.excepthook = log_uncaught
    return logger


def log_path_of(snakemake: object) -> str | None:
    """The first ``log:`` file of a Snakemake job, if any."""
    log = getattr(snakemake, "log", None)
    return str(log[0]) if log else None
