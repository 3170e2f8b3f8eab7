"""The scheduler's side of a run: exit codes, failure classification, stale temporaries.

``bin/scheduled-update`` uses :func:`classify_scheduled_run` to turn a failed run into one of
the documented exit codes (docs/scheduling.md), from that run's own traces: the error markers
carrying its id (in the project's job logs, including the log of an error found while
planning, and in the job output the run printed) and its entry: the ``error`` line, and the
structured ``failure_kind`` the logger plugin recorded from Snakemake's events when the
cluster refused a job (never read from Snakemake's or the executor's messages). It uses
:func:`clean_stale_temporaries` to remove what a killed run left behind. Both through
``python -m livingreview.runs`` (:mod:`.cli`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..errors import ReviewError
from ..logs import ERROR_MARKER_PATTERN
from .ending import LOGS_DIR, entry_error, entry_failure_kind, run_errors, run_started
from .registry import RUNS_DIR, SUBMISSION_FAILURE, RunIdError

# ----------------------------------------------------------------------------- exit codes

#: Exit codes of ``bin/scheduled-update`` (documented in docs/scheduling.md).
EXIT_OK = 0
EXIT_FAILURE = 1  # anything else: a bug, a full disk, a missing file, a failed notification
EXIT_USAGE = 2  # bad arguments to bin/scheduled-update itself
EXIT_INPUT = errors.InputFileError.exit_code  # 3: invalid human input or config
EXIT_NETWORK = errors.NetworkError.exit_code  # 4: NCBI unreachable after all retries
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the project; nothing was touched

_MARKER = ERROR_MARKER_PATTERN
#: The reason given when the run's entry says the cluster refused a job (exit code 1).
SUBMISSION_FAILED = "SubmissionFailed"
# Most specific first: a person must act on invalid input, the network heals itself.
_PRIORITY = (EXIT_INPUT, EXIT_NETWORK, EXIT_BUSY)


def exit_code_of_class(name: str) -> int | None:
    """Exit code of a :mod:`livingreview.errors` class by name, ``None`` if it is not one.

    >>> exit_code_of_class("ValidationError"), exit_code_of_class("NetworkError")
    (3, 4)
    >>> exit_code_of_class("KeyError") is None
    True
    """
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ReviewError):
        return int(cls.exit_code)
    return None


@dataclass(frozen=True)
class Failure:
    """Why a run failed: the exit code, a short reason and, if any, the message to show last."""

    code: int
    reason: str
    detail: str = ""


def classify_run(text: str, run_id: str | None = None) -> Failure:
    """Exit code, reason and message for a failed Snakemake run, from this run's output.

    Markers written by :func:`livingreview.logs.error_marker` in a job's output win. With
    ``run_id`` (what ``bin/scheduled-update`` passes), only markers naming that run count:
    Snakemake prints a failed job's log file even when the job never ran in this run (its
    submission failed), and that file may still hold an earlier run's marker. Anything else
    is :data:`EXIT_FAILURE` (a job the cluster refused is known from the run's entry, see
    :func:`classify_scheduled_run`).

    >>> classify_run("LIVINGREVIEW-ERROR ValidationError exit_code=3 run=old\\n", run_id="new")
    Failure(code=1, reason='other failure', detail='')
    >>> classify_run("LIVINGREVIEW-ERROR ValidationError exit_code=3 run=new\\n", run_id="new")
    Failure(code=3, reason='ValidationError', detail='')
    """
    found: dict[int, str] = {}
    for match in _MARKER.finditer(text):
        if run_id is not None and match["run"] != run_id:
            continue  # written by another run (an old log printed again)
        found.setdefault(int(match["code"]), match["name"])
    for code in _PRIORITY:
        if code in found:
            return Failure(code, found[code])
    for code, name in sorted(found.items()):
        if code != EXIT_OK:
            return Failure(EXIT_FAILURE, name)
    return Failure(EXIT_FAILURE, "other failure")


def classify_failure(text: str, run_id: str | None = None) -> tuple[int, str]:
    """Exit code and reason for a failed Snakemake run (:func:`classify_run` without detail).

    >>> classify_failure("... LIVINGREVIEW-ERROR NetworkError exit_code=4 ...")
    (4, 'NetworkError')
    >>> classify_failure("MissingInputException in rule dedup")
    (1, 'other failure')
    """
    failure = classify_run(text, run_id)
    return failure.code, failure.reason


def clean_stale_temporaries(results_dir: str | Path) -> list[Path]:
    """Remove the temporary files and folders a killed run left under ``results_dir``.

    Only the two shapes this project writes are touched: ``.<name>.<random>.tmp`` from
    :func:`livingreview.io.atomic_open` and ``.tmp-<date>-<pid>/`` snapshot folders from the
    search stage. Call it only while no other run is active (the scheduler holds the lock).
    """
    root = Path(results_dir)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in sorted(root.rglob(".*"), key=lambda p: len(p.parts), reverse=True):
        name = path.name
        if path.is_dir() and name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and name.endswith(".tmp") and name.count(".") >= 3:
            path.unlink(missing_ok=True)
        else:
            continue
        removed.append(path)
    return removed


def classify_scheduled_run(
    run_id: str,
    output_text: str = "",
    logs_dir: str | Path = LOGS_DIR,
    results_runs: str | Path = RUNS_DIR,
) -> Failure:
    """Exit code, reason and last message of the failed run ``run_id``.

    The markers carrying its id decide the code: those in the project's logs (the failed
    jobs' logs and the log of an error found while planning, :func:`.ending.run_errors`) and
    those in the job output the run printed (``output_text``, e.g. a cluster job's). Then a
    job the cluster refused: the entry's ``failure_kind`` (:data:`.registry.SUBMISSION_FAILURE`,
    recorded by the logger plugin from Snakemake's events) gives :data:`SUBMISSION_FAILED`
    (exit 1). The message is the error line of the run's entry (for a refused job, the
    executor's own message, as it came), else what :func:`classify_run` found.
    """
    try:
        since: float | None = run_started(run_id)
    except RunIdError:
        since = None
    found: dict[int, str] = {}
    for error in run_errors(run_id, logs_dir, since=since):
        found.setdefault(error.exit_code, error.marker.split()[1])
    for match in _MARKER.finditer(output_text):
        if match["run"] == run_id:
            found.setdefault(int(match["code"]), match["name"])
    failure = classify_run(output_text, run_id)
    detail = entry_error(run_id, results_runs).removeprefix("Error: ")
    for code in _PRIORITY:
        if code in found:
            return Failure(code, found[code], detail)
    if entry_failure_kind(run_id, results_runs) == SUBMISSION_FAILURE:
        return Failure(EXIT_FAILURE, SUBMISSION_FAILED, detail)
    if found:
        code, name = sorted(found.items())[0]
        return Failure(EXIT_FAILURE, name, detail)
    return Failure(EXIT_FAILURE, failure.reason, detail or failure.detail)
