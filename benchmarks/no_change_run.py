"""Time a scheduled rerun with nothing new on the default (replay) configuration.

    .venv/bin/python benchmarks/no_change_run.py [--repeats 5]

Copies the project into a temporary folder, runs ``bin/scheduled-update --run-date
2026-11-23`` once to build everything, then times ``--repeats`` further runs in which nothing
is new (each still registers itself in results/runs/<run_id>/ and re-verifies the snapshots). Prints
each time and the median, the figure quoted in the README. Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("Snakefile", "config.yaml", "workflow", "src", "resources", "profiles", "bin")
RUN_DATE = "2026-11-23"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="no-change-run-") as folder:
        project = Path(folder) / "project"
        project.mkdir()
        for part in PARTS:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(
                    source, project / part, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy2(source, project / part)
        env = {
            **os.environ,
            "LIVINGREVIEW_VENV": str(Path(sys.executable).parent.parent),
            "PYTHONPATH": str(project / "src"),
        }
        command = [str(project / "bin" / "scheduled-update"), "--run-date", RUN_DATE]

        def run() -> float:
            started = time.perf_counter()
            result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            if result.returncode != 0:
                sys.stderr.write(result.stdout + result.stderr)
                raise SystemExit(f"scheduled-update failed with exit code {result.returncode}")
            return elapsed

        print(f"first (full) run: {run():.1f} s")
        times = [run() for _ in range(args.repeats)]
        for number, seconds in enumerate(times, start=1):
            print(f"no-change run {number}: {seconds:.2f} s")
        print(
            f"median no-change run: {statistics.median(times):.1f} s "
            f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
