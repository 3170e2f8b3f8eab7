"""How a run ends on screen and in its entry: the to-do block after success, one clear line
after a failure, and a refusal to start while another run holds the project.

Only Snakemake's public interfaces are used. The workflow announces the run it planned
(:func:`announce_run`, workflow/rules/runs.smk); the project's logger plugin
(``snakemake_logger_plugin_livingreview``), whose handler Snakemake closes when it stops after
every run, even one with nothing to do, then calls :meth:`RunEnding.finish`, having decided
from Snakemake's structured log events (never their text) whether the run failed. The
workflow's ``onerror`` handler prints a failure's ending; without the plugin, ``onsuccess`` /
``onerror`` record the run. The failed jobs of a run are found by the project's own job logs,
never by reading Snakemake's messages: every job that fails writes a marker line naming its
run (:func:`livingreview.logs.error_marker`), so the logs under ``logs/`` whose last marker
carries this run's id are this run's failures. A job that never ran because its cluster
executor could not submit it writes no log: the plugin tells the run of it from Snakemake's
``JOB_ERROR`` event (:meth:`RunEnding.job_not_submitted`), and the entry records it as a
structured ``failure_kind`` with the executor's own message, displayed as it came.

After a successful run, the to-do block of the run's record is printed (:mod:`.todo`). After
a failed one, each failed job's marker line and then the error's own message (file, line,
field, what to do; the traceback stays in the job's log), which is also the ``error`` of the
run's entry (status ``failed``). Snakemake itself then names its log file and exits.

Before anything is planned (at parse time), :func:`busy_message` asks the run lock
(:mod:`.runlock`) whether another run holds the project: a process whose run id is the
holder's is part of that run and goes on; anyone else is told who holds it and to wait.
"""

from __future__ import annotations

import calendar
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..errors import ReviewError
from ..logs import ERROR_MARKER_PATTERN
from .register import (
    now_iso,
    record_is_current,
    register_failure,
    register_partial,
    register_success,
)
from .registry import RUN_ID_ENV, SUBMISSION_FAILURE, RunEntry, read_run, record_run, started_at
from .runlock import holder
from .todo import todo_block

#: Set by bin/scheduled-update, which prints the to-do block itself after its last line.
SCHEDULER_PRINTS_TODO_ENV = "LIVINGREVIEW_SCHEDULER_PRINTS_TODO"
#: Where the jobs' logs are, relative to the project root.
LOGS_DIR = "logs"

_MARKER = ERROR_MARKER_PATTERN
_TRACEBACK = "Traceback (most recent call last):"
# Most specific first: a person must act on invalid input (3); the network heals itself (4).
_PRIORITY = {3: 0, 4: 1}


class ProjectBusyError(ReviewError):
    """Another run (a scheduled update or a desk refresh) holds the project right now."""

    exit_code = 75


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


@dataclass(frozen=True)
class SubmissionFailure:
    """A job the cluster executor could not submit, as Snakemake's ``JOB_ERROR`` event gave it:
    the rule, Snakemake's job id and the executor's message (e.g. sbatch's refusal), kept as
    it came and never parsed."""

    rule: str
    jobid: str
    message: str

    def line(self) -> str:
        """The run's last line for it: the message on one line (whitespace folded, as the
        index of runs keeps every error), nothing taken out.

        >>> SubmissionFailure("dedup", "6", "sbatch failed.\\n  sbatch: error: bad").line()
        'Error: job dedup (jobid 6) could not be submitted to the cluster: sbatch failed. sbatch: error: bad'
        """
        message = " ".join(self.message.split()) or "the executor gave no message"
        return (
            f"Error: job {self.rule} (jobid {self.jobid}) could not be submitted to the "
            f"cluster: {message}"
        )


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


def job_error(log_path: str | Path, run_id: str) -> JobError | None:
    """The error a job's log ends with, when its last marker names the run ``run_id``;
    ``None`` otherwise (no marker, or a marker of another run: an old log)."""
    try:
        text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if run_id not in text:
        return None
    lines = text.splitlines()
    for at in range(len(lines) - 1, -1, -1):
        match = _MARKER.search(lines[at])
        if match is None:
            continue
        if match["run"] != run_id:
            return None
        return JobError(
            log=str(log_path),
            marker=lines[at][match.start() :].strip(),
            exit_code=int(match["code"]),
            message=_message_before(lines, at, match["name"]),
        )
    return None


#: Under the logs folder, what is not a job's log: the scheduler's copies of whole runs'
#: output (they repeat the jobs' markers).
NOT_JOB_LOGS = ("scheduled",)


def _log_files(logs_dir: Path, since: float | None) -> Iterator[Path]:
    for path in logs_dir.rglob("*.log"):
        if path.relative_to(logs_dir).parts[0] in NOT_JOB_LOGS:
            continue
        try:
            if since is None or path.stat().st_mtime >= since:
                yield path
        except OSError:
            continue


def run_errors(
    run_id: str, logs_dir: str | Path = LOGS_DIR, since: float | None = None
) -> list[JobError]:
    """The errors of the jobs of run ``run_id`` that failed, by their markers in the
    project's job logs (those written at or after ``since``, when given), the one a person
    must act on first."""
    errors = [
        error
        for path in sorted(_log_files(Path(logs_dir), since))
        if (error := job_error(path, run_id)) is not None
    ]
    return sorted(errors, key=lambda e: (e.rank, e.log))


def run_started(run_id: str) -> float:
    """The start of run ``run_id`` as a POSIX time (whole seconds, from the id)."""
    return float(calendar.timegm(time.strptime(started_at(run_id), "%Y-%m-%dT%H:%M:%SZ")))


def final_error_line(errors: Sequence[JobError], snakemake_log: str | Path | None = None) -> str:
    """The one line a failed run ends with.

    >>> final_error_line([JobError("logs/x.log", "M", 3, "sheet.tsv, line 3: bad")])
    'Error: sheet.tsv, line 3: bad'
    >>> final_error_line([], "s.log")
    "Error: the run failed before any of its jobs said why; Snakemake's messages above say why (its log: s.log)"
    """
    for error in errors:
        if error.message:
            return f"Error: {error.message}"
    if errors:
        return f"Error: a job failed: see {errors[0].log}"
    where = f" (its log: {snakemake_log})" if snakemake_log else ""
    return (
        "Error: the run failed before any of its jobs said why; "
        f"Snakemake's messages above say why{where}"
    )


#: Set by the process that plans a run (the Snakefile's main process) to its pid; the job
#: processes Snakemake starts inherit it, which tells them they are not the planner.
PLANNER_PID_ENV = "LIVINGREVIEW_PLANNER_PID"


def is_planner(environ: dict[str, str] | None = None) -> bool:
    """Whether this process plans the run (and not one of the job processes Snakemake starts
    for it, which read the Snakefile again); the first call in the planner says so to every
    process it starts (:data:`PLANNER_PID_ENV`)."""
    env = os.environ if environ is None else environ
    planner = env.get(PLANNER_PID_ENV, "")
    if planner and planner != str(os.getpid()):
        try:
            os.kill(int(planner), 0)
            return False  # the planner is alive: this is one of its jobs
        except (ValueError, OSError):
            pass  # a stale value (e.g. inherited from a finished run's shell)
    env[PLANNER_PID_ENV] = str(os.getpid())
    return True


def busy_message(root: str | Path, run_id: str | None) -> str | None:
    """Why this process must not run now, or ``None``: another run holds the project's run
    lock (a process whose run id is the holder's belongs to that run and goes on)."""
    note = holder(root)
    if note is None or (run_id and note.get("run_id") == run_id):
        return None
    who = note.get("run_id") or "unknown"
    if note.get("trigger") == "desk":
        return (
            f"the reviewers' desk is refreshing the review right now (run {who}); "
            "wait until it has finished (a minute or so), then run again"
        )
    if note.get("trigger") == "scheduled":
        return (
            f"a scheduled run (bin/scheduled-update, run {who}) is working in this project "
            "right now; do not --unlock it: wait until it has finished (logs/scheduled/ "
            "shows its progress), then run again"
        )
    return (
        "another run holds this project's run lock (.snakemake/scheduled-update.lock) right "
        "now; wait until it has finished, then run again"
    )


def print_todo(
    summary_json: str | Path, stream: TextIO | None = None, fresh_since: float | None = None
) -> bool:
    """Print the to-do block of a run record; ``False`` (nothing printed) if there is none.

    With ``fresh_since``, a record not written since then is printed with a line saying when
    it was written.
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


#: The Snakemake logger plugin shipped with this project (src/), which ends every run.
LOGGER_PLUGIN_MODULE = "snakemake_logger_plugin_livingreview"


def logger_ends_runs() -> bool:
    """Whether this project's logger plugin is active in this process (``--logger
    livingreview``, set in the profiles): then it records the run when Snakemake stops,
    whatever the run did; without it the ``onsuccess`` / ``onerror`` handlers do, and a run
    with nothing to do goes unrecorded. Asks the plugin's module, only if it is loaded."""
    plugin = sys.modules.get(LOGGER_PLUGIN_MODULE)
    return bool(plugin is not None and plugin.is_active())


@dataclass
class RunEnding:
    """The end of one run: what the workflow planned (announced with :func:`announce_run`),
    and how the run ended.

    ``run_summary`` is the run's own copy of its record and ``date_summary`` the record of
    its ``run_date`` (printed when the run did not register a copy of its own).
    ``history_dir`` and ``synthesis_files``: where and what the run archives as its history
    entry; ``private``: words of config values kept out of records (never written anywhere,
    only used to keep files they name out of the inputs archive).

    The logger plugin calls :meth:`finish` when Snakemake stops; the workflow's ``onsuccess``
    and ``onerror`` handlers call :meth:`succeeded` and :meth:`failed`, which print the
    ending of a failed run and, without the plugin, record the run themselves.
    """

    run_id: str
    run_date: str
    run_summary: str
    date_summary: str
    results_runs: str = "results/runs"
    logs_dir: str = LOGS_DIR
    stream: TextIO | None = None
    history_dir: str = ""
    synthesis_files: tuple[str, ...] = ()
    private: frozenset[str] = frozenset()
    #: The workflow's folder, which the manifest names code files relative to.
    code_base: str = "."
    final_line: str = ""
    errors: list[JobError] = field(default_factory=list)
    #: Jobs the cluster executor could not submit (told by the logger plugin as they failed).
    not_submitted: list[SubmissionFailure] = field(default_factory=list)
    #: The entry's ``failure_kind`` (:data:`.registry.SUBMISSION_FAILURE` or empty), decided
    #: with the final line.
    failure_kind: str = ""
    #: How the run was recorded, once it has been ("succeeded", "partial" or "failed").
    recorded: str = ""

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def job_not_submitted(self, rule: str, jobid: object, message: str) -> None:
        """The logger plugin saw Snakemake's ``JOB_ERROR`` event of a job handed to a cluster
        executor that never got a cluster job id: the cluster refused it (nothing ran)."""
        self.not_submitted.append(SubmissionFailure(str(rule), str(jobid), str(message)))

    def succeeded(self) -> None:
        """onsuccess: without the logger plugin, the run's entry and its to-do block here."""
        if not logger_ends_runs():
            self.finish(failed=False)

    def failed(self, snakemake_log: str | Path | Sequence[str] | None = None) -> None:
        """onerror: the failed jobs' marker lines, then the error's message as the run's last
        line of its own; the run's entry records that line (here, without the plugin).
        ``snakemake_log``: what Snakemake passes the handler (a list of its log files)."""
        if snakemake_log is not None and not isinstance(snakemake_log, (str, Path)):
            snakemake_log = ", ".join(map(str, snakemake_log)) or None
        self._print_failure(snakemake_log)
        if not logger_ends_runs():
            self.finish(failed=True)

    def _print_failure(self, snakemake_log: str | Path | None = None) -> None:
        self.errors = run_errors(self.run_id, self.logs_dir, since=run_started(self.run_id))
        person_must_act = any(error.exit_code in _PRIORITY for error in self.errors)
        if self.not_submitted and not person_must_act:
            # the cluster refused a job; a job of this run that met invalid input or a network
            # failure would still be named first (a person must act on it)
            self.final_line = self.not_submitted[0].line()
            self.failure_kind = SUBMISSION_FAILURE
        else:
            self.final_line = final_error_line(self.errors, snakemake_log)
        out = self._out()
        for error in self.errors:
            out.write(error.marker + "\n")
        out.write(self.final_line + "\n")
        out.flush()

    def finish(self, failed: bool) -> None:
        """The run has ended: record its entry once. A success registers the run (its copy of
        the record of its date, archived inputs, history entry) when that record describes
        the run's results (:func:`record_is_current`), else records an entry without a record;
        then prints the to-do block on stdout (unless the scheduler prints it at its end). A
        failure that ``onerror`` did not see (the run stopped while it was planned, or was
        interrupted) first prints its one line."""
        if self.recorded:
            return
        if failed:
            if not self.final_line:
                self._print_failure()
            if self.failure_kind:
                self._record_submission_failure()
            else:
                register_failure(self.run_id, self.run_date, self.final_line, self.results_runs)
            self.recorded = "failed"
            return
        record_dir = Path(self.date_summary).parent
        if self.history_dir and record_is_current(record_dir, self.code_base):
            register_success(
                self.run_id,
                self.run_date,
                record_dir=record_dir,
                history_dir=self.history_dir,
                synthesis_files=list(self.synthesis_files),
                results_runs=self.results_runs,
                private=self.private,
            )
            self.recorded = "succeeded"
        else:
            register_partial(self.run_id, self.run_date, self.results_runs)
            self.recorded = "partial"
        if os.environ.get(SCHEDULER_PRINTS_TODO_ENV):
            return
        if not print_todo(self.run_summary):
            print_todo(self.date_summary)

    def _record_submission_failure(self) -> None:
        """The failed entry with its structured kind and every job the cluster refused."""
        if read_run(self.run_id, self.results_runs) is not None:
            return
        entry = RunEntry.ended(
            self.run_id,
            self.run_date,
            "failed",
            now_iso(),
            error=self.final_line,
            failure_kind=self.failure_kind,
            details={
                "not_submitted": [
                    {"rule": f.rule, "jobid": f.jobid, "message": f.message}
                    for f in self.not_submitted
                ]
            },
        )
        record_run(entry, self.results_runs)


_PLANNED: list[RunEnding] = []


def announce_run(ending: RunEnding) -> RunEnding:
    """Called by the workflow once it is planned: the run the logger plugin will end."""
    _PLANNED[:] = [ending]
    return ending


def planned_run() -> RunEnding | None:
    """The run this process planned (:func:`announce_run`), if any."""
    return _PLANNED[0] if _PLANNED else None


def entry_error(run_id: str, results_runs: str | Path = "results/runs") -> str:
    """The ``error`` line of a recorded run (empty when it has none or is not recorded)."""
    entry = read_run(run_id, results_runs)
    return entry.error if entry is not None else ""


def entry_failure_kind(run_id: str, results_runs: str | Path = "results/runs") -> str:
    """The ``failure_kind`` of a recorded run (empty when it has none or is not recorded)."""
    entry = read_run(run_id, results_runs)
    return entry.failure_kind if entry is not None else ""


__all__ = [
    "RUN_ID_ENV",
    "JobError",
    "ProjectBusyError",
    "RunEnding",
    "announce_run",
    "busy_message",
    "SubmissionFailure",
    "entry_error",
    "entry_failure_kind",
    "final_error_line",
    "job_error",
    "logger_ends_runs",
    "planned_run",
    "print_todo",
    "run_errors",
]
