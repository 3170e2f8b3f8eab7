"""Snakemake logger plugin that ends every run of the living review: ``--logger livingreview``
(set in profiles/default and profiles/slurm).

Why a logger plugin: a run must leave its own entry (``results/runs/<run_id>/``) even when
it has nothing to do, and Snakemake returns before ``onstart`` / ``onsuccess`` in that case.
The handlers of logger plugins are closed when Snakemake stops, after every run, whatever
happened (``LoggerManager.stop``); so :meth:`LogHandler.close` ends the run:
:meth:`livingreview.runs.ending.RunEnding.finish` records its entry and prints its to-do
block. That costs a few file reads and writes, no job.

What the handler looks at: only the structured events Snakemake attaches to its log records
(``record.event``), never their text. ``WORKFLOW_STARTED`` says the run was executed
(not ``--lint``, ``--summary``, ``--list-*``, ``--unlock``, nor a run refused or failed while
it was planned: :mod:`livingreview.runs.planning` records the latter); ``ERROR`` says Snakemake
stopped on an error (a failed job included); an exception still on its way out when the
handler is closed (an interrupt) fails the run too. A dry run (the ``dryrun`` output setting
the handler receives) records nothing.

A job its cluster executor could not submit (sbatch refused it: an invalid partition or
account...) is told apart by fields of the events alone: ``JOB_INFO`` says whether a job runs
locally (``local``; every job does with the local executor), and the ``JOB_ERROR`` that a
remote executor reports for a job carries the cluster's job id (``aux["external_jobid"]``,
added by ``RemoteExecutor.print_job_error``) once the cluster accepted the job. So a
``JOB_ERROR`` of a job that was not local and has no cluster job id is a job that was never
submitted; the run is told at once (:meth:`RunEnding.job_not_submitted
<livingreview.runs.ending.RunEnding.job_not_submitted>`), with the rule, the job id and the
executor's message (``rule_msg``) as they came.

What it records comes from the workflow itself: the Snakefile announces the run it planned
(:func:`livingreview.runs.ending.announce_run`: run id, run_date, paths from the config) in
this process. The plugin imports nothing of the project: it asks for that module only if
the workflow loaded it, so it is the workflow's own copy of the code, and a workflow other
than this one is left alone.
"""

from __future__ import annotations

import sys
from logging import LogRecord
from typing import Any

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent

#: The module through which the workflow announces the run it planned.
ENDING_MODULE = "livingreview.runs.ending"

_open_handlers: list[LogHandler] = []


def is_active() -> bool:
    """Whether a handler of this plugin is open in this process (the workflow then leaves
    the run's entry to it)."""
    return bool(_open_handlers)


class LogHandler(LogHandlerBase):
    """Follows the run's structured events; records the run when closed."""

    def __post_init__(self) -> None:
        self.started = False
        self.error_events: list[str] = []
        #: Snakemake's ids of the jobs handed to a remote (cluster) executor.
        self.remote_jobs: set[object] = set()
        #: (rule, job id, message) of every job the cluster executor could not submit.
        self.not_submitted: list[tuple[str, object, str]] = []
        self.closed_once = False
        _open_handlers.append(self)

    @property
    def writes_to_stream(self) -> bool:
        return False

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        # Its own "filter": every record reaches emit, which only looks at events (the
        # default filter would drop records that --quiet hides from the screen).
        return True

    @property
    def has_formatter(self) -> bool:
        return True  # nothing is formatted

    @property
    def needs_rulegraph(self) -> bool:
        return False

    def emit(self, record: LogRecord) -> None:
        event = getattr(record, "event", None)
        if event == LogEvent.WORKFLOW_STARTED:
            self.started = True
        elif event == LogEvent.ERROR:
            self.error_events.append(str(getattr(record, "exception", "") or "error"))
        elif event == LogEvent.JOB_INFO:
            if getattr(record, "local", True) is False:
                self.remote_jobs.add(getattr(record, "jobid", None))
        elif event == LogEvent.JOB_ERROR:
            self._job_error(record)

    def _job_error(self, record: LogRecord) -> None:
        jobid = getattr(record, "jobid", None)
        aux = getattr(record, "aux", None)
        submitted = isinstance(aux, dict) and aux.get("external_jobid") is not None
        if jobid not in self.remote_jobs or submitted:
            return  # a local job, or a cluster job that ran: its own log says why it failed
        failure = (
            str(getattr(record, "rule_name", "") or "?"),
            jobid,
            str(getattr(record, "rule_msg", "") or ""),
        )
        self.not_submitted.append(failure)
        ending: Any = sys.modules.get(ENDING_MODULE)
        run = ending.planned_run() if ending is not None else None
        if run is not None:
            run.job_not_submitted(*failure)

    def close(self) -> None:
        """Snakemake has stopped: end the run (once; ``logging`` closes handlers again when
        the interpreter exits)."""
        try:
            if not self.closed_once:
                self.closed_once = True
                if self in _open_handlers:
                    _open_handlers.remove(self)
                self.end_run(interrupted=sys.exc_info()[0] is not None)
        finally:
            super().close()

    def end_run(self, interrupted: bool) -> None:
        if self.common_settings.dryrun or not self.started:
            return
        ending: Any = sys.modules.get(ENDING_MODULE)
        run = ending.planned_run() if ending is not None else None
        if run is None:
            return
        try:
            run.finish(failed=interrupted or bool(self.error_events))
        except Exception as exc:  # noqa: BLE001 - Snakemake would swallow it silently
            sys.stderr.write(
                f"Error: run {run.run_id} could not be recorded in {run.results_runs}: "
                f"{type(exc).__name__}: {exc}\n"
            )
            sys.stderr.flush()
