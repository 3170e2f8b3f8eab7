"""The scheduler's side of a run: exit codes, failure classification, stale temporaries.

``bin/scheduled-update`` uses :func:`classify_failure` to turn a failed run's output into one of
the documented exit codes (docs/scheduling.md), and :func:`clean_stale_temporaries` to remove
what a killed run left behind, both through ``python -m livingreview.runs`` (:func:`main`).
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from .. import errors
from ..errors import ReviewError
from ..logs import ERROR_MARKER
from .ending import print_todo

# ----------------------------------------------------------------------------- exit codes

#: Exit codes of ``bin/scheduled-update`` (documented in docs/scheduling.md).
EXIT_OK = 0
EXIT_FAILURE = 1  # anything else: a bug, a full disk, a missing file, a failed notification
EXIT_USAGE = 2  # bad arguments to bin/scheduled-update itself
EXIT_INPUT = errors.InputFileError.exit_code  # 3: invalid human input or config
EXIT_NETWORK = errors.NetworkError.exit_code  # 4: NCBI unreachable after all retries
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the project; nothing was touched

_MARKER = re.compile(rf"{ERROR_MARKER} (?P<name>[A-Za-z_][A-Za-z0-9_]*) exit_code=(?P<code>\d+)")
# Snakemake reports an exception raised while parsing the Snakefile (e.g. ConfigError from
# the config validation in common.smk) as "<Class> in file "<path>", line N:".
_PARSE_ERROR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*) in (?:file|line) ", re.MULTILINE)
_LOCKED = re.compile(r"\bLockException\b|Directory cannot be locked")
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


def classify_failure(text: str) -> tuple[int, str]:
    """Exit code and reason for a failed Snakemake run, from its combined output.

    Markers written by :func:`livingreview.logs.error_marker` in a job's output win; then
    errors raised while the Snakefile was parsed (config validation); then Snakemake's
    lock error (another run is active). Anything else is :data:`EXIT_FAILURE`.

    >>> classify_failure("... LIVINGREVIEW-ERROR NetworkError exit_code=4 ...")
    (4, 'NetworkError')
    >>> classify_failure('ConfigError in file "/p/common.smk", line 13:')
    (3, 'ConfigError')
    >>> classify_failure("MissingInputException in rule dedup")
    (1, 'other failure')
    """
    found: dict[int, str] = {}
    for match in _MARKER.finditer(text):
        found.setdefault(int(match["code"]), match["name"])
    for match in _PARSE_ERROR.finditer(text):
        code = exit_code_of_class(match["name"])
        if code is not None:
            found.setdefault(code, match["name"])
    if _LOCKED.search(text):
        found.setdefault(EXIT_BUSY, "LockException")
    for code in _PRIORITY:
        if code in found:
            return code, found[code]
    for code, name in sorted(found.items()):
        if code != EXIT_OK:
            return EXIT_FAILURE, name
    return EXIT_FAILURE, "other failure"


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


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Helpers for ``bin/scheduled-update`` (not needed by hand)."""
    parser = argparse.ArgumentParser(prog="python -m livingreview.runs", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    classify = sub.add_parser("classify", help="print the exit code for a failed run's output file")
    classify.add_argument("output", type=Path)
    clean = sub.add_parser(
        "clean-stale", help="remove temporaries left under RESULTS by a killed run"
    )
    clean.add_argument("results", type=Path)
    todo = sub.add_parser("todo", help="print the to-do block of a run record (summary.json)")
    todo.add_argument("summary", type=Path)
    args = parser.parse_args(argv)
    if args.command == "todo":
        print_todo(args.summary)
        return 0
    if args.command == "classify":
        text = (
            args.output.read_text(encoding="utf-8", errors="replace")
            if args.output.exists()
            else ""
        )
        code, reason = classify_failure(text)
        print(f"{code} {reason}")
        return 0
    for path in clean_stale_temporaries(args.results):
        print(f"removed {path} (left by an interrupted run)")
    return 0
