"""One run at a time: the project's run lock, shared by ``bin/scheduled-update`` and the
reviewers' desk's refreshes.

The lock is ``flock`` on :data:`LOCK_PATH` (the file ``bin/scheduled-update`` has always
locked with ``flock(1)``); whoever holds it also writes :data:`HOLDER_PATH`, a small JSON
note saying who holds it (``trigger``, ``run_id``, ``pid``, ``since``), so that the other
side can decide what to do: a scheduled run that finds a desk refresh running waits for it
(bounded); the desk, finding a scheduled run, waits and says so. The note is only advice:
the flock is the truth, and a note left by a killed holder is ignored (:func:`holder`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..io import atomic_open

#: The lock file, relative to the project root.
LOCK_PATH = ".snakemake/scheduled-update.lock"
#: Who holds the lock, relative to the project root.
HOLDER_PATH = ".snakemake/run-holder.json"


class RunLockTimeout(TimeoutError):
    """The lock stayed held by another run for longer than the caller would wait."""


def _try_lock(handle: Any, mode: int = fcntl.LOCK_EX) -> bool:
    """Take the lock in ``mode`` without waiting; ``False`` when another process holds it."""
    try:
        fcntl.flock(handle.fileno(), mode | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def is_locked(root: str | Path) -> bool:
    """Whether some process holds the run lock now (checked without blocking)."""
    path = Path(root) / LOCK_PATH
    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        if not _try_lock(handle, fcntl.LOCK_SH):
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def holder(root: str | Path) -> dict[str, Any] | None:
    """Who holds the run lock now (the holder's note), or ``None`` when nobody does.

    When the lock is held but the note is missing or unreadable, ``{"trigger": "unknown"}``.
    """
    if not is_locked(root):
        return None
    try:
        note = json.loads((Path(root) / HOLDER_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"trigger": "unknown"}
    return note if isinstance(note, dict) else {"trigger": "unknown"}


@contextmanager
def hold_run_lock(
    root: str | Path,
    trigger: str,
    run_id: str,
    wait_seconds: float | None = None,
    on_wait: Callable[[dict[str, Any] | None], None] | None = None,
    poll_seconds: float = 0.5,
) -> Iterator[None]:
    """Hold the project's run lock for the duration of the ``with`` block.

    Waits while another process holds it, calling ``on_wait(holder)`` once when it starts
    waiting; ``wait_seconds`` bounds the wait (``None``: no bound) and
    :class:`RunLockTimeout` is raised past it. The holder note is written once the lock is
    held and removed before it is released.
    """
    base = Path(root)
    lock_path = base / LOCK_PATH
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        told = False
        while not _try_lock(handle):
            if not told and on_wait is not None:
                on_wait(holder(base))
                told = True
            if deadline is not None and time.monotonic() >= deadline:
                raise RunLockTimeout(
                    f"another run held {LOCK_PATH} for more than {wait_seconds:g} s"
                )
            time.sleep(poll_seconds)
        _write_note(base, trigger, run_id)
        try:
            yield
        finally:
            try:
                os.unlink(base / HOLDER_PATH)
            except FileNotFoundError:
                pass
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


#: The run locks taken by :func:`claim_run_lock` for the rest of this process's life, by
#: project root.
_CLAIMED: dict[Path, Any] = {}


def claim_run_lock(root: str | Path, trigger: str, run_id: str) -> bool:
    """Take the run lock for the rest of this process, without waiting; ``True`` when taken
    (or already taken by this process), ``False`` when another process holds it.

    For a run started without a launcher (``snakemake`` typed in a terminal): its planning
    process holds the lock until it exits (the kernel releases it then, also when the
    process is killed; the file is opened close-on-exec, so no job process inherits it), so
    that a desk refresh or a scheduled run waits for it instead of meeting Snakemake's own
    directory lock. A run whose launcher holds the lock for it (the holder's note names its
    run id) takes nothing. The note written here outlives the process; :func:`holder`
    ignores it once the lock is free.
    """
    base = Path(root).resolve()
    if base in _CLAIMED:
        return True
    note = holder(base)
    if note is not None:
        return note.get("run_id") == run_id
    lock_path = base / LOCK_PATH
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a")  # noqa: SIM115 - held until the process exits
    if not _try_lock(handle):
        handle.close()
        return False
    _CLAIMED[base] = handle
    _write_note(base, trigger, run_id)
    return True


def _write_note(base: Path, trigger: str, run_id: str) -> None:
    """Say who holds the run lock (:data:`HOLDER_PATH`), once it is held."""
    note = {"trigger": trigger, "run_id": run_id, "pid": os.getpid(), "since": time.time()}
    with atomic_open(base / HOLDER_PATH) as out:
        out.write(json.dumps(note) + "\n")
