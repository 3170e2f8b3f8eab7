"""Errors found while the workflow is planned (an invalid config, a file read at parse time)
leave the same trace as a failed job: a log naming the run, ending with its marker line.

Snakemake calls no handler for an error raised while it reads the Snakefile, and its own
message is meant for people. The Snakefile therefore reads its stages inside
:func:`planning_errors_marked`, which writes ``logs/runs/planning/<run_id>.log`` (the error's
message, then :func:`livingreview.logs.error_marker`) and records the run as failed, before
Snakemake reports the error as usual. ``bin/scheduled-update`` then finds this run's failure
like any other, by the markers carrying its id (:func:`livingreview.runs.ending.run_errors`).
A run refused because another run holds the project is not a run and is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..logs import error_marker
from .registry import current_run_id

#: Where planning errors are logged, relative to the project root.
PLANNING_LOGS = "logs/runs/planning"


def write_planning_log(exc: BaseException, run_id: str, logs_dir: str | Path) -> Path:
    """``<logs_dir>/<run_id>.log``: the error's message and its marker line."""
    path = Path(logs_dir) / f"{run_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    message = " ".join(str(exc).split())
    path.write_text(
        f"ERROR livingreview.planning: {type(exc).__name__}: {message}\n"
        f"{error_marker(exc, run_id)}\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def planning_errors_marked(
    run_date: Callable[[], object],
    logs_dir: str | Path = PLANNING_LOGS,
    results_runs: str | Path | None = None,
) -> Iterator[str]:
    """Around the Snakefile's includes: on an error, log it with this run's marker and
    record the run as failed (``run_date()``: the config's, as far as it was read), then let
    the error go on to Snakemake. Yields the run id."""
    run_id = current_run_id()
    try:
        yield run_id
    except Exception as exc:
        from .ending import ProjectBusyError
        from .register import register_failure
        from .registry import RUNS_DIR

        if isinstance(exc, ProjectBusyError):
            raise
        write_planning_log(exc, run_id, logs_dir)
        try:
            register_failure(
                run_id,
                str(run_date() or ""),
                "Error: " + " ".join(str(exc).split()),
                results_runs or RUNS_DIR,
            )
        except OSError:
            pass  # the run's error still reaches the screen and its log
        raise
