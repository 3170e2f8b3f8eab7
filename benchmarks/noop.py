"""Time a run with nothing to do: this workflow against a trivial Snakefile, same Snakemake.

    .venv/bin/python benchmarks/noop.py [--repeats 7]

Copies the project into a temporary folder and runs it once (about 20 s) so that everything
is up to date, and builds two trivial workflows beside it: one rule that writes one file, and
the same rule with one parameter (a workflow with parameters makes Snakemake import pandas, if
installed, to compare them: a fixed cost of Snakemake's, about half a second). Then times
``snakemake --cores 2`` in each, in turns, ``--repeats`` times, so that all three meet the same
load. Prints each time (wall-clock and CPU), the median and spread of each, how far this
workflow's median is from the trivial ones, the load average before and after and the
machine's CPU count: the figures the README quotes. Each timed run of this workflow must write
no result (every file under results/ but the runs' entries and history is left as it was) and
still add its own entry to results/runs/index.tsv (the project's logger plugin records it when
Snakemake stops), so the time includes recording the run. Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_copy import copy_project, load_text

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

TRIVIAL = """\
rule all:
    input:
        "done.txt",


rule write:
    output:
        "done.txt",
    shell:
        "echo done > {output}"
"""

TRIVIAL_WITH_PARAMS = TRIVIAL.replace(
    "    shell:\n", '    params:\n        text="done",\n    shell:\n'
).replace("echo done", "echo {params.text}")


def trivial_workflow(destination: Path, snakefile: str) -> Path:
    destination.mkdir(parents=True)
    (destination / "Snakefile").write_text(snakefile, encoding="utf-8")
    return destination


def recorded_runs(workdir: Path) -> int:
    """Lines of this workflow's list of runs (0 for the trivial ones)."""
    index = workdir / "results" / "runs" / "index.tsv"
    return len(index.read_text(encoding="utf-8").splitlines()) if index.is_file() else 0


def results_written(workdir: Path) -> dict[str, int]:
    """Every result file and its modification time, but the runs' own entries and history
    (which every run adds to)."""
    results = workdir / "results"
    own = (results / "runs", results / "synthesis" / "history")
    return {
        str(path): path.stat().st_mtime_ns
        for path in results.rglob("*")
        if path.is_file() and not any(path.is_relative_to(folder) for folder in own)
    }


def snakemake(workdir: Path, no_op: bool = False) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, its processes) of one ``snakemake --cores 2``
    in ``workdir``, which must succeed (with ``no_op``: have nothing to do, and record the run
    when this workflow's). CPU time varies less than wall-clock time on a busy machine."""
    runs_before = recorded_runs(workdir)
    results_before = results_written(workdir) if no_op else {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [str(SNAKEMAKE), "--cores", "2"], cwd=workdir, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"snakemake failed in {workdir} with exit code {result.returncode}")
    if no_op:
        if results_written(workdir) != results_before:
            raise SystemExit(f"the run in {workdir} rewrote results: not a no-op")
        if runs_before and recorded_runs(workdir) != runs_before + 1:
            raise SystemExit(f"the no-op run in {workdir} did not record itself")
    return elapsed, cpu


def describe(name: str, times: list[float]) -> str:
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return (
        f"{name:<22} median {statistics.median(times):5.2f} s  "
        f"min {min(times):5.2f}  quartiles {quartiles[0]:5.2f}-{quartiles[2]:5.2f}  "
        f"max {max(times):5.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="noop-") as folder:
        workflows = {
            "this workflow": copy_project(Path(folder) / "project"),
            "trivial Snakefile": trivial_workflow(Path(folder) / "trivial", TRIVIAL),
            "trivial, with a param": trivial_workflow(
                Path(folder) / "trivial-params", TRIVIAL_WITH_PARAMS
            ),
        }
        print(f"first runs (build everything): {load_text()}")
        for name, workdir in workflows.items():
            print(f"  {name}: {snakemake(workdir)[0]:.1f} s")
        print(f"no-op runs, {args.repeats} turns: before: {load_text()}")
        wall: dict[str, list[float]] = {name: [] for name in workflows}
        cpu: dict[str, list[float]] = {name: [] for name in workflows}
        for turn in range(1, args.repeats + 1):
            for name, workdir in workflows.items():
                seconds, cpu_seconds = snakemake(workdir, no_op=True)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
            print(
                f"  turn {turn}: "
                + "; ".join(
                    f"{name} {wall[name][-1]:5.2f} s (cpu {cpu[name][-1]:4.2f})"
                    for name in workflows
                )
            )
        print(f"after: {load_text()} ({os.cpu_count()} CPUs)")
        for label, table in (("wall-clock", wall), ("cpu", cpu)):
            print(f"{label} seconds:")
            for name, values in table.items():
                print("  " + describe(name, values))
            ours = statistics.median(table["this workflow"])
            for name in ("trivial Snakefile", "trivial, with a param"):
                difference = ours - statistics.median(table[name])
                print(f"  this workflow - {name}: {difference:+.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
