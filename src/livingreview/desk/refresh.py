"""The desk refreshes the review itself: a local workflow run after people save.

After a save the :class:`Refresher` waits until the desk has been quiet for
``desk.refresh_quiet_seconds`` (a burst of keystrokes makes one run, not one per key), then
runs the workflow as a person would type it in the project, one run at a time under the
project's run lock (the one ``bin/scheduled-update`` takes).  Saves made while a run is
going make exactly one more run after it.  "Refresh now" skips the quiet period.

What a refresh never does:

* search: it checks first that every PubMed snapshot the run needs is on disk (the search
  package's own snapshot discovery) and otherwise tells the people who can act that a search
  is needed (``bin/scheduled-update``);
* use a cluster profile: it runs ``snakemake --cores N --workflow-profile profiles/default``
  in the project, with ``SNAKEMAKE_PROFILE`` removed from its environment;
* write under ``results/`` itself or import Snakemake: it starts the ``snakemake`` program
  in its own process group (killed with the desk) and keeps its output in
  ``logs/desk/<run_id>.log``.

The run identifies itself with ``LIVINGREVIEW_RUN_ID`` (trigger ``desk``), so the workflow
records it in ``results/runs/<run_id>/``; a failed run's one-line error is read from there
(or, for a workflow that does not record it, from the last line of the log).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ReviewError
from ..runs.registry import RUN_ID_ENV, RUN_TRIGGER_ENV, new_run_id, read_run
from ..runs.runlock import RunLockTimeout, hold_run_lock
from ..search.snapshot import discover_snapshots
from ..search.windows import snapshot_dates
from .project import Project

log = logging.getLogger("livingreview.desk.refresh")

#: Defaults of the config section ``desk`` (workflow/schemas/config.schema.yaml).
DEFAULT_QUIET_SECONDS = 3.0
DEFAULT_CORES = 2
LOG_DIR = Path("logs") / "desk"
WORKFLOW_PROFILE = Path("profiles") / "default"
#: How often the refresher looks for saves made by any desk process (journals' stat).
POLL_SECONDS = 0.25
#: How long one wait for the run lock lasts before the refresher checks whether to stop.
LOCK_WAIT_SLICE = 2.0

IDLE = "idle"
PENDING = "pending"  # a save waits for the quiet period
WAITING = "waiting"  # another run holds the project's run lock
RUNNING = "running"
FAILED = "failed"
NEEDS_SEARCH = "needs_search"


@dataclass(frozen=True)
class RefreshSettings:
    """The ``desk`` section of the config, as the refresher uses it."""

    enabled: bool = True
    quiet_seconds: float = DEFAULT_QUIET_SECONDS
    cores: int = DEFAULT_CORES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RefreshSettings:
        section = config.get("desk") or {}
        return cls(
            enabled=bool(section.get("refresh", True)),
            quiet_seconds=float(section.get("refresh_quiet_seconds", DEFAULT_QUIET_SECONDS)),
            cores=int(section.get("refresh_cores", DEFAULT_CORES)),
        )


@dataclass(frozen=True)
class RefreshState:
    """What the pages say about refreshing (the same for everyone, except :attr:`error`,
    which :meth:`Refresher.public_state` shows only to the people who can fix it)."""

    phase: str = IDLE
    run_id: str = ""
    #: The holder of the run lock the desk waits for (``scheduled``, ``manual``, ...).
    waiting_for: str = ""
    #: The last refresh that ended: its id and whether it succeeded.
    last_run_id: str = ""
    last_ok: bool = True
    #: A failed refresh's one line (file, line, field, what to do), or why none can start.
    error: str = ""
    #: Ids of people whose own sheet the error names (they may see it).
    error_names: tuple[str, ...] = ()
    #: A save (or "refresh now") waits to be picked up by a run.
    queued: bool = False
    #: Counts finished refreshes (a page compares it to know a run ended).
    generation: int = 0


def missing_snapshots(project: Project) -> list[str]:
    """Dates of the PubMed snapshots a run of ``project`` needs and does not find on disk.

    The same dates the workflow lists (``pubmed_snapshot_dates()`` in common.smk): the
    baseline, ``search.update_runs`` and ``run_date``, plus every snapshot already on disk.
    """
    search = project.config["search"]
    root = project.results_dir / "search" / "pubmed"
    existing = discover_snapshots(root)
    needed = snapshot_dates(
        str(project.config["run_date"]),
        str(search["baseline_until"]),
        [str(d) for d in search.get("update_runs", ())],
        existing,
    )
    return [day for day in needed if day not in existing]


def snakemake_command(
    root: Path, cores: int, configfiles: Sequence[str | Path], program: str | None = None
) -> list[str]:
    """The command of a desk refresh: local, the project's own profile, the desk's config,
    and the project's logger plugin, which records the run when Snakemake stops (also set in
    the profile; given here so that a project without it is recorded too)."""
    executable = program or str(root / ".venv" / "bin" / "snakemake")
    command = [executable, "--cores", str(cores), "--logger=livingreview"]
    if (root / WORKFLOW_PROFILE).is_dir():
        command += ["--workflow-profile", str(WORKFLOW_PROFILE)]
    else:
        command += ["--workflow-profile", "none"]
    if configfiles:
        command += ["--configfile", *[str(Path(f).resolve()) for f in configfiles]]
    return command


def refresh_environment(
    base: Mapping[str, str], run_id: str, secret_variables: Sequence[str] = ()
) -> dict[str, str]:
    """The environment of a refresh: the desk's, with the run's id and trigger, without a
    profile from the environment (a cluster profile must not apply) and without secrets the
    run does not need (it never searches)."""
    env = {k: v for k, v in base.items() if k != "SNAKEMAKE_PROFILE" and k not in secret_variables}
    env[RUN_ID_ENV] = run_id
    env[RUN_TRIGGER_ENV] = "desk"
    return env


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def last_log_line(path: Path, limit: int = 64 * 1024) -> str:
    """The last non-blank line of a log (read from its tail), without terminal colours."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [_ANSI.sub("", line).strip() for line in tail.splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""


def named_people(message: str, people: Sequence[str]) -> tuple[str, ...]:
    """People whose own sheet (``.../<id>.tsv``) the message names."""
    return tuple(p for p in people if re.search(rf"(?:^|[/\s'\"]){re.escape(p)}\.tsv\b", message))


@dataclass
class _Wants:
    """Saves not yet picked up by a run."""

    pending: bool = False
    now: bool = False
    last_save: float = 0.0


Runner = Callable[[list[str], Path, dict[str, str], Path], "subprocess.Popen[bytes]"]


def start_process(command: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> Any:
    """Start the run in its own process group (killed as a whole when the desk stops)."""
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Refresher:
    """Runs the workflow after saves, one run at a time, in a background thread."""

    root: Path
    configfiles: Sequence[str | Path]
    settings: RefreshSettings
    #: Files whose change means "someone saved" (the desk's journals), checked by polling so
    #: that a save made through another desk process of the project counts too.
    watched: Callable[[], Sequence[Path]] = lambda: ()
    program: str | None = None
    runner: Callable[..., Any] = start_process
    monotonic: Callable[[], float] = time.monotonic
    _state: RefreshState = field(default_factory=RefreshState)
    _wants: _Wants = field(default_factory=_Wants)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: Any = None
        self._signature = self._journal_signature()
        self._people: list[str] = []

    # -- what the pages use ----------------------------------------------------------------

    def state(self) -> RefreshState:
        with self._lock:
            return replace(self._state, queued=self._wants.pending)

    def note_save(self) -> None:
        """Someone saved: run once the desk has been quiet for the quiet period."""
        with self._lock:
            self._wants.pending = True
            self._wants.last_save = self.monotonic()
        self._wake.set()

    def poke(self) -> None:
        """Look for saves now (a page just handled a form) instead of at the next poll."""
        self._wake.set()

    def refresh_now(self) -> None:
        """Run at once (or right after the run going on)."""
        with self._lock:
            self._wants.pending = True
            self._wants.now = True
        self._wake.set()

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="desk-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop refreshing; a run going on is killed with its whole process group."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while True:
            self._kill()  # again each time: a run may have started just as the stop came
            if self._thread is None or time.monotonic() >= deadline:
                break
            self._thread.join(0.5)
            if not self._thread.is_alive():
                self._thread = None

    def _kill(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        except ProcessLookupError:
            pass

    # -- the loop --------------------------------------------------------------------------

    def _journal_signature(self) -> tuple[tuple[str, int, int, int], ...]:
        keys = []
        for path in self.watched():
            try:
                info = path.stat()
            except OSError:
                continue
            keys.append((str(path), info.st_mtime_ns, info.st_size, info.st_ino))
        return tuple(keys)

    def _due(self) -> bool:
        signature = self._journal_signature()
        if signature != self._signature:
            self._signature = signature
            self.note_save()
        with self._lock:
            wants = self._wants
            if not wants.pending:
                return False
            quiet = self.monotonic() - wants.last_save >= self.settings.quiet_seconds
            return wants.now or quiet

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._due():
                    self.run_once()
            except Exception:  # the desk keeps serving whatever a refresh does
                log.exception("desk refresh failed unexpectedly")
                self._set(phase=FAILED, error="the desk could not start a refresh (see its log)")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)

    def run_once(self) -> bool:
        """One refresh, now (the loop calls it when due). True when the run succeeded."""
        with self._lock:
            self._wants = _Wants()
        try:
            project = Project.load(self.root, self.configfiles)
        except ReviewError as error:
            self._finish("", False, f"the desk cannot refresh: {error}")
            return False
        self._people = list(project.people)
        missing = missing_snapshots(project)
        if missing:
            self._set(
                phase=NEEDS_SEARCH,
                error=(
                    f"a search is needed: no PubMed snapshot of {', '.join(missing)} on disk. "
                    "The desk never searches: run "
                    f"bin/scheduled-update --run-date {project.config['run_date']} "
                    "(or .venv/bin/snakemake --cores 4) once to take it, then refresh"
                ),
                error_names=(),
            )
            return False
        run_id = new_run_id("desk")

        def waiting(holder: Mapping[str, Any] | None) -> None:
            trigger = str((holder or {}).get("trigger", "unknown"))
            self._set(phase=WAITING, run_id=run_id, waiting_for=trigger)

        while True:
            try:
                with hold_run_lock(
                    self.root, "desk", run_id, wait_seconds=LOCK_WAIT_SLICE, on_wait=waiting
                ):
                    return self._run(project, run_id)
            except RunLockTimeout:
                if self._stop.is_set():
                    self._set(phase=IDLE, waiting_for="")
                    return False

    def _run(self, project: Project, run_id: str) -> bool:
        if self._stop.is_set():
            return False
        self._set(phase=RUNNING, run_id=run_id, waiting_for="")
        log_dir = self.root / LOG_DIR
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{run_id}.log"
        secret = str(project.config.get("entrez", {}).get("api_key_env", "") or "")
        env = refresh_environment(os.environ, run_id, [secret] if secret else [])
        if (self.root / "src").is_dir():  # the project's own package, as bin/desk uses it
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(self.root / "src"), env.get("PYTHONPATH", "")) if p
            )
        command = snakemake_command(self.root, self.settings.cores, self.configfiles, self.program)
        log.info("desk refresh %s: %s (log %s)", run_id, " ".join(command), log_path)
        self._process = self.runner(command, self.root, env, log_path)
        code = self._process.wait()
        self._process = None
        if self._stop.is_set():
            self._set(phase=IDLE, run_id="")
            return False
        if code == 0:
            self._finish(run_id, True, "")
            return True
        entry = read_run(run_id, self.root / "results" / "runs")
        message = (entry.error if entry is not None else "") or last_log_line(log_path)
        self._finish(run_id, False, message or f"the workflow stopped with exit code {code}")
        log.warning("desk refresh %s failed (exit %s): %s", run_id, code, message)
        return False

    def _finish(self, run_id: str, ok: bool, error: str) -> None:
        with self._lock:
            self._state = replace(
                self._state,
                phase=IDLE if ok else FAILED,
                run_id="",
                waiting_for="",
                last_run_id=run_id,
                last_ok=ok,
                error=error,
                error_names=named_people(error, self._people) if error else (),
                generation=self._state.generation + 1,
            )
