"""The notification after a run: ``runs.notify_command`` run with the summary's path.

Consumes the run record's ``summary.md`` / ``summary.json`` and the command from the config
(a rule param; it may hold a webhook token, so it is never recorded). Produces
``results/runs/by-date/<run_date>/notification.json`` when the command succeeded.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, ReviewError
from ..io import write_text

log = logging.getLogger(__name__)


def notify_argv(command: str | Sequence[str], summary_path: str | Path) -> list[str]:
    """The notification command as an argument list, with the summary path appended
    (or put where ``{summary}`` stands). No shell is involved.

    >>> notify_argv("mail-summary --to team", "results/runs/by-date/2026-11-23/summary.md")
    ['mail-summary', '--to', 'team', 'results/runs/by-date/2026-11-23/summary.md']
    >>> notify_argv(["post", "--file={summary}", "now"], "s.md")
    ['post', '--file=s.md', 'now']
    """
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if not argv:
        raise ConfigError(
            "runs.notify_command", "is empty", 'a command line, or "" for no notification'
        )
    if any("{summary}" in a for a in argv):
        return [a.replace("{summary}", str(summary_path)) for a in argv]
    return [*argv, str(summary_path)]


def notify(
    command: str | Sequence[str],
    *,
    summary_md: str | Path,
    summary_json: str | Path,
    run_date: str,
    timeout: float,
    receipt: str | Path,
) -> None:
    """Run the notification command with the summary path; write a receipt on success.

    The command also gets ``LIVINGREVIEW_SUMMARY_JSON`` and ``LIVINGREVIEW_RUN_DATE`` in its
    environment. Its output goes to the job log; it is never recorded in the manifest (it may
    hold a webhook token).
    """
    argv = notify_argv(command, summary_md)
    env = {
        **os.environ,
        "LIVINGREVIEW_SUMMARY_JSON": str(summary_json),
        "LIVINGREVIEW_RUN_DATE": run_date,
    }
    log.info("notifying: %s <summary>", shlex.quote(argv[0]))
    try:
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ConfigError(
            "runs.notify_command",
            f"program {argv[0]!r} not found",
            'an installed program (absolute path), or "" for no notification',
        ) from None
    except subprocess.TimeoutExpired:
        raise ReviewError(
            f"runs.notify_command did not finish within {timeout:g} s; the run record is complete "
            "in results/runs/ — fix the command or raise runs.notify_timeout_seconds, then rerun"
        ) from None
    for line in (result.stdout + result.stderr).splitlines():
        log.info("notify: %s", line)
    if result.returncode != 0:
        raise ReviewError(
            f"runs.notify_command exited with {result.returncode}; the run record is complete in "
            f"results/runs/by-date/{run_date}/ — fix the command (its output is in this log) and rerun"
        )
    write_text(
        receipt,
        json.dumps(
            {
                "run_date": run_date,
                "notified_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                "summary": str(summary_md),
                "exit_status": result.returncode,
            },
            indent=2,
        )
        + "\n",
    )
