#!/usr/bin/env python
"""How the workflow's cost grows with the number of records: whole run, rules, reruns.

    .venv/bin/python benchmarks/scale.py [SIZE ...] [--seed 1] [--cores 2] [--keep DIR]

For each SIZE (default 5000 20000; e.g. ``5000 20000 100000``) copies the project into a
temporary folder, writes one synthetic CSV export of SIZE records (the dedup benchmark's
generator, ``benchmarks/dedup_benchmark.py --synthetic``: realistic duplicates and traps),
declares it under ``imports:`` in an extra configfile (a Web of Science export searched three
days before the default run date, so its records are new records of an update run), then:

1. runs the whole workflow and prints its time and every rule's time and peak memory (the
   ``max_rss`` of the rules' ``benchmark:`` files under logs/benchmarks/);
2. runs it again with nothing changed (a no-op);
3. appends ONE title/abstract decision (exclude one synthetic publication) to a reviewer's
   sheet and reruns: prints the time and which rules ran.

Prints the machine's load average (``os.getloadavg``) beside every figure: the figures mean
something only next to it. Targets (idle 2-core machine): every rule's time t(20k)/t(5k) at
most 5; the whole run at 20k under 40 s; the rerun after one decision at 20k under 15 s,
without pooling, forest plots or what's new (the included studies did not change). Not run
in CI.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from dedup_benchmark import synthetic_set  # noqa: E402
from project_copy import copy_project, load_text  # noqa: E402

RUN_DATE = "2026-11-23"
EXPORT_DATABASE = "wos"
EXPORT_DATE = "2026-11-20"
EXPORT_FILE = f"resources/imports/{EXPORT_DATABASE}/{EXPORT_DATE}-synthetic.csv"
CONFIGFILE = "scale.yaml"
REVIEWER_SHEET = "resources/screening/title_abstract/reviewer-1.tsv"
SHEET_HEADER = ("record_id", "decision", "reason", "note", "decided_on")
#: Rules that must not run after a title/abstract decision that leaves the included
#: studies' data unchanged.
UNAFFECTED_BY_ONE_DECISION = ("pool_remission", "forest_plots", "whats_new")
JOB_LINE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):", re.MULTILINE)


@dataclass
class RunResult:
    """One snakemake invocation: wall time, load before it, the rules that ran."""

    seconds: float
    load: tuple[float, float, float]
    rules: list[str] = field(default_factory=list)


def write_export(project: Path, size: int, seed: int) -> Path:
    """The synthetic export as a CSV file (authors joined by ';', as exports do)."""
    rows, _truth = synthetic_set(size, seed)
    path = project / EXPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ("ID", "title", "author", "year", "journal", "volume", "number", "pages", "doi")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            row = dict(row, author=row.get("author", "").replace(" and ", "; "))
            writer.writerow([row.get(column, "") for column in columns])
    return path


def write_configfile(project: Path) -> Path:
    """An extra configfile: the default project's export plus the synthetic one (a list in a
    second configfile replaces the first one's, so the default entry is repeated)."""
    text = f"""imports:
  - database: embase
    search_date: "2021-10-31"
    format: ris
    dialect: embase
    files:
      - resources/imports/embase/2021-10-31-baseline-reconstructed.ris
  - database: {EXPORT_DATABASE}
    search_date: "{EXPORT_DATE}"
    format: csv
    files: [{EXPORT_FILE}]
    columns: {{accession: ID, title: title, authors: author, year: year, journal: journal,
              volume: volume, issue: number, pages: pages, doi: doi}}
    author_separator: ";"
"""
    path = project / CONFIGFILE
    path.write_text(text, encoding="utf-8")
    return path


def snakemake(project: Path, cores: int) -> RunResult:
    """Run the workflow once with the extra configfile; fail loudly on a failed run."""
    command = [
        str(Path(sys.executable).parent / "snakemake"),
        "--cores",
        str(cores),
        "--configfile",
        CONFIGFILE,
    ]
    load = os.getloadavg()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=project, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-20000:])
        raise SystemExit(f"snakemake failed with exit code {result.returncode} in {project}")
    return RunResult(seconds, load, JOB_LINE.findall(result.stderr + result.stdout))


def rule_benchmarks(project: Path, since: float = 0.0) -> dict[str, tuple[float, float]]:
    """rule benchmark file (relative to logs/benchmarks) -> (seconds, max_rss MB), for the
    files written after ``since`` (a time.time())."""
    figures: dict[str, tuple[float, float]] = {}
    folder = project / "logs" / "benchmarks"
    for path in sorted(folder.rglob("*.tsv")):
        if path.stat().st_mtime < since:
            continue
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if not rows:
            continue

        def number(value: str) -> float:
            try:
                return float(value)
            except ValueError:  # "NA" when the job was too short to sample
                return float("nan")

        figures[str(path.relative_to(folder).with_suffix(""))] = (
            number(rows[-1]["s"]),
            number(rows[-1]["max_rss"]),
        )
    return figures


def decide_one(project: Path) -> str:
    """Append one title/abstract exclusion of a synthetic publication awaiting screening to
    reviewer-1's sheet (created with its header when absent); return its record id."""
    with open(project / "results/screening/status.tsv", encoding="utf-8", newline="") as handle:
        statuses = list(csv.DictReader(handle, delimiter="\t"))
    awaiting = sorted(
        row["publication_id"]
        for row in statuses
        if row["publication_id"].startswith(f"{EXPORT_DATABASE}:")
        and row["status"] == "awaiting_title_abstract"
    )
    if not awaiting:
        raise SystemExit("no synthetic publication awaits title/abstract screening")
    record_id = awaiting[len(awaiting) // 2]
    sheet = project / REVIEWER_SHEET
    new = not sheet.exists()
    with open(sheet, "a", encoding="utf-8", newline="") as handle:
        if new:
            handle.write("\t".join(SHEET_HEADER) + "\n")
        handle.write(
            "\t".join((record_id, "exclude", "not_aih", "benchmark: one new decision", RUN_DATE))
            + "\n"
        )
    return record_id


def children_peak_mib() -> float:
    """The largest resident set of any finished child process (Snakemake or a job)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_size(size: int, seed: int, cores: int, keep: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"scale-{size}-") as folder:
        project = copy_project((keep or Path(folder)) / f"project-{size}")
        write_export(project, size, seed)
        write_configfile(project)
        print(f"\n## {size:,} synthetic records ({project})", flush=True)
        full = snakemake(project, cores)
        rules = rule_benchmarks(project)
        with open(project / "results/records/unique.tsv", encoding="utf-8") as handle:
            publications = sum(1 for _ in handle) - 1
        print(
            f"whole run: {full.seconds:.1f} s ({len(full.rules)} jobs, "
            f"{publications:,} publications; {load_text(full.load)})"
        )
        print("| rule | seconds | peak MB |\n|---|---:|---:|")
        for name, (seconds, rss) in sorted(rules.items(), key=lambda item: -item[1][0]):
            print(f"| {name} | {seconds:.2f} | {rss:.0f} |")
        noop = snakemake(project, cores)
        print(f"no-op run: {noop.seconds:.1f} s ({len(noop.rules)} jobs; {load_text(noop.load)})")
        record_id = decide_one(project)
        before = time.time()
        rerun = snakemake(project, cores)
        rerun_rules = rule_benchmarks(project, since=before)
        unexpected = sorted(set(rerun.rules) & set(UNAFFECTED_BY_ONE_DECISION))
        print(
            f"rerun after one title/abstract decision ({record_id}): {rerun.seconds:.1f} s "
            f"({load_text(rerun.load)}); rules run: {', '.join(rerun.rules) or 'none'}"
        )
        print(
            "  jobs timed: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, (seconds, _) in rerun_rules.items())
        )
        if unexpected:
            print(f"  NOT EXPECTED after one title/abstract decision: {', '.join(unexpected)}")
        print(f"peak memory of any process so far: {children_peak_mib():,.0f} MiB", flush=True)
        return {
            "size": size,
            "publications": publications,
            "whole": full,
            "rules": rules,
            "noop": noop,
            "rerun": rerun,
        }


def print_growth(results: list[dict[str, object]]) -> None:
    """Each rule's time at every size, and the ratio of consecutive sizes."""
    if len(results) < 2:
        return
    sizes = [int(str(r["size"])) for r in results]
    names = sorted({name for r in results for name in r["rules"]})  # type: ignore[attr-defined]
    header = " | ".join(f"{s:,}" for s in sizes)
    ratios = " | ".join(f"t({b // 1000}k)/t({a // 1000}k)" for a, b in zip(sizes, sizes[1:]))
    print(f"\n## growth\n| rule | {header} | {ratios} |")
    print("|---|" + "---:|" * (len(sizes) * 2 - 1))
    for name in names:
        times = [r["rules"].get(name, (float("nan"), 0))[0] for r in results]  # type: ignore[attr-defined]
        cells = " | ".join(f"{t:.2f}" for t in times)
        growth = " | ".join(f"{b / a:.1f}" if a > 0 else "-" for a, b in zip(times, times[1:]))
        print(f"| {name} | {cells} | {growth} |")


def print_targets(results: list[dict[str, object]]) -> None:
    """The targets at 20k (and the growth from 5k), each with its verdict."""
    by_size = {int(str(r["size"])): r for r in results}
    if 20000 not in by_size:
        return
    at_20k = by_size[20000]
    whole, rerun = at_20k["whole"], at_20k["rerun"]
    assert isinstance(whole, RunResult) and isinstance(rerun, RunResult)
    print("\n## targets (idle 2-core machine)")
    print(f"- whole run at 20k under 40 s: {whole.seconds:.1f} s ({load_text(whole.load)})")
    skipped = not set(rerun.rules) & set(UNAFFECTED_BY_ONE_DECISION)
    print(
        f"- rerun after one title/abstract decision at 20k under 15 s: {rerun.seconds:.1f} s "
        f"({load_text(rerun.load)}); pooling, forest plots, what's new not rerun: {skipped}"
    )
    if 5000 in by_size:
        small, large = by_size[5000]["rules"], at_20k["rules"]
        assert isinstance(small, dict) and isinstance(large, dict)
        ratios = {
            name: large[name][0] / small[name][0]
            for name in large
            if name in small and small[name][0] > 0
        }
        worst = max(ratios, key=lambda name: ratios[name])
        print(f"- every rule t(20k)/t(5k) at most 5: largest {ratios[worst]:.1f} ({worst})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[5000, 20000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--keep", type=Path, help="build the projects in this folder and keep them (profiling)"
    )
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load_text(os.getloadavg())}")
    results = [run_size(size, args.seed, args.cores, args.keep) for size in args.sizes]
    print_growth(results)
    print_targets(results)
    print(f"\nload at the end: {load_text(os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
