"""Running the workflow in a project copy, and what a dry run plans, for tests that check
that a run would have nothing to do (a run registers itself through the project's logger
plugin when Snakemake stops, not with a job, so such a run is Snakemake's own "Nothing to be
done")."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

from conftest import SNAKEMAKE

from livingreview.runs.ending import RunEnding


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the workflow in ``project`` with stdout and stderr in one stream, in the order
    they came."""
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--directory", str(project), *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )


_JOB = re.compile(r"^(?:local)?rule (?P<rule>\w+):$", re.MULTILINE)
#: The jobs every run has: none (the name is kept for the tests that subtract it).
REGISTRATION_ONLY: set[str] = set()


def planned_rules(result: subprocess.CompletedProcess) -> set[str]:
    """The rules of the jobs a ``--dry-run`` lists."""
    return {match["rule"] for match in _JOB.finditer(result.stdout + result.stderr)}


def only_registration(result: subprocess.CompletedProcess) -> bool:
    """Whether the dry run plans no job at all."""
    return planned_rules(result) <= REGISTRATION_ONLY


def nothing_written_but_run_entries(project: Path) -> bool:
    """Whether ``results/`` holds nothing but runs' entries (a failed run records its own)."""
    results = project / "results"
    return not results.exists() or {p.name for p in results.iterdir()} <= {"runs"}


def ending_of(
    tmp_path: Path, run_id: str, run_date: str, logs: Path | None = None, stream=None
) -> RunEnding:
    """A run's ending with no record of its date: entries under ``tmp_path/runs``, job logs
    in ``logs`` (default ``tmp_path/logs``)."""
    return RunEnding(
        run_id=run_id,
        run_date=run_date,
        run_summary="none.json",
        date_summary="none.json",
        results_runs=str(tmp_path / "runs"),
        logs_dir=str(logs if logs is not None else tmp_path / "logs"),
        stream=stream if stream is not None else io.StringIO(),
    )
