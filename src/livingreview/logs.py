"""Logging for workflow scripts: one call sends records to the rule's log file and stderr.

Uncaught exceptions are written to the log too, so a failed job's log says why it failed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType


def setup_logging(log_path: str | Path | None, name: str = "livingreview") -> logging.Logger:
    """Configure the root logger for one Snakemake job and return a named logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(name)

    def log_uncaught(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        logger.error("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught
    return logger


def log_path_of(snakemake: object) -> str | None:
    """The first ``log:`` file of a Snakemake job, if any."""
    log = getattr(snakemake, "log", None)
    return str(log[0]) if log else None
