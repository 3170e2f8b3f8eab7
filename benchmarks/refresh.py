"""How soon what people save on the desk shows up, when the desk refreshes the review itself.

    .venv/bin/python benchmarks/refresh.py [--cycles 5] [--quiet 3] [--cores 2]
                                           [--dates today|run_date] [--no-extraction]
                                           [--records N]

Copies the project into a temporary folder, runs the default workflow there once (set-up,
timed apart), then serves that copy with the desk in process (Starlette's test client, the
desk's refresher on, the real ``snakemake`` behind it) and measures:

1. **conflict**, ``--cycles`` times: reviewer-1 includes the first publication of the
   title/abstract queue and the refresh it starts ends; then reviewer-2 excludes it, and the
   clock runs from that save until the adjudicator's conflicts page (``GET /adjudicate``,
   asked every 0.1 s) lists the conflict.  This includes the quiet period (``--quiet``
   seconds, the config's ``desk.refresh_quiet_seconds``).  In a browser the page follows at
   its next look at ``/refresh/status`` (at most 1 s later while a refresh runs).  Each cycle
   takes the next publication of the queue (a decision both reviewers have made is locked by
   blinded screening: neither can undo it);
2. **pooled estimates** (unless ``--no-extraction``): both publications of the queue are made
   new studies (hand-typed sheets: both reviewers include them at both stages, two extractors
   disagree on one cell, a **hypothetical test scenario** as in the browser tests), a refresh
   takes them in, then for each study the adjudicator's settled sheet is saved through the
   desk and the clock runs until ``results/synthesis/meta_analysis.tsv`` changes.

Prints median, p95 and max of each, with the load average before and after (the machine is
usually shared: compare figures only with their load).  Target: the conflict on the
adjudicator's page within 10 s on the default project on a 2-core machine.

``--records N`` adds a synthetic export of N records to the project first (the scale
benchmark's, ``benchmarks/scale.py``), declared in an extra config file the desk is given, to
measure the refresh of a large project.

``--dates run_date`` dates the desk's decisions on the config's ``run_date`` instead of today
(for a workflow that still defers decisions dated after ``run_date``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

from desk_support import FT_HEADER, TA_HEADER, csrf_of, pinned_clock, sheet_text  # noqa: E402
from project_copy import WORKFLOW_PARTS, copy_project  # noqa: E402
from scale import write_configfile, write_export  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from livingreview.desk.app import create_app  # noqa: E402
from livingreview.desk.extraction import version_of  # noqa: E402
from livingreview.desk.extractionform import as_form_row  # noqa: E402
from livingreview.desk.project import utc_now  # noqa: E402
from livingreview.desk.refresh import IDLE, Refresher  # noqa: E402

SNAKEMAKE = ROOT / ".venv" / "bin" / "snakemake"
PARTS = (*WORKFLOW_PARTS, "pyproject.toml")
BASE = "http://127.0.0.1:8765"
WAIT = 600.0
STUDIES = ("bench-study-a", "bench-study-b")
REASONS = ("reason_insufficient_response", "reason_intolerance", "reason_not_specified")


def arm(cni: str, counts: str, reasons: str, discontinued: str = "") -> dict[str, str]:
    """One arm of hypothetical counts (benchmark data, not a real study's)."""
    n, remission, response, failure, unknown = counts.split()
    row = {"record_type": "arm", "cni": cni, "n": n, "remission": remission}
    row.update(response=response, failure=failure, unknown=unknown)
    row.update(zip(REASONS, reasons))
    if discontinued:
        row["discontinued_total"] = discontinued
    return row


FIRST = [arm("cyclosporine", "4 2 1 1 0", "310"), arm("tacrolimus", "6 4 1 0 1", "420", "1")]
SECOND = [arm("cyclosporine", "4 2 1 1 0", "310"), arm("tacrolimus", "6 4 1 0 1", "420", "2")]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(name: str, values: list[float], target: float | None = None) -> str:
    if not values:
        return f"{name:<34} no samples"
    line = (
        f"{name:<34} n={len(values):>2}  median {statistics.median(values):5.1f} s  "
        f"p95 {percentile(values, 0.95):5.1f} s  max {max(values):5.1f} s"
    )
    if target is not None:
        verdict = "ok" if percentile(values, 0.95) <= target else "ABOVE TARGET"
        line += f"  (target {target:.0f} s: {verdict})"
    return line


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise SystemExit(f"refresh benchmark: timed out waiting for {what}")


def settled(refresher: Refresher, after: int) -> Callable[[], bool]:
    """True once a refresh after generation ``after`` ended and nothing waits."""

    def check() -> bool:
        state = refresher.state()
        return state.generation > after and state.phase == IDLE and not state.queued

    return check


def set_up(folder: Path, records: int = 0) -> tuple[Path, list[str]]:
    """A copy of the project after its first run, and the extra config files it runs with."""
    project = copy_project(folder / "project", PARTS)
    configfiles: list[str] = []
    if records:
        write_export(project, records, seed=1)
        configfiles = [str(write_configfile(project))]
    started = time.perf_counter()
    subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", *(["--configfile", *configfiles] if configfiles else [])],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )
    print(
        f"set-up: the default workflow's first run in a copy took {time.perf_counter() - started:.0f} s"
        + (f" (with a synthetic export of {records:,} records)" if records else "")
    )
    return project, configfiles


def content(path: Path) -> bytes | None:
    """The file's bytes, or None while a run is rewriting it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def signed_in(app, person: str) -> tuple[TestClient, str]:
    desk = app.state.desk
    client = TestClient(app, base_url=BASE)
    client.get(
        "/signin",
        params={"token": desk.tokens.ensure(desk.project.people)[person]},
        headers={"sec-fetch-site": "none"},  # the link pasted, as a browser says it
    )
    return client, csrf_of(client.get("/").text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--quiet", type=float, default=3.0, help="desk.refresh_quiet_seconds")
    parser.add_argument("--cores", type=int, default=2, help="desk.refresh_cores")
    parser.add_argument("--dates", choices=["today", "run_date"], default="today")
    parser.add_argument("--no-extraction", dest="extraction", action="store_false")
    parser.add_argument("--records", type=int, default=0, help="synthetic records added first")
    args = parser.parse_args(argv)
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory(prefix="refresh-benchmark-") as tmp:
        project, configfiles = set_up(Path(tmp), args.records)
        with open(project / "config.yaml", "a", encoding="utf-8") as config:
            config.write(
                f"\ndesk:\n  refresh_quiet_seconds: {args.quiet}\n  refresh_cores: {args.cores}\n"
            )
        clock = pinned_clock if args.dates == "run_date" else utc_now
        day = clock().date().isoformat()
        app = create_app(
            project,
            configfiles,
            clock=clock,
            state_dir=Path(tmp) / "state",
            refresh=True,
            snakemake_program=str(SNAKEMAKE),
        )
        desk = app.state.desk
        refresher = desk.refresher
        assert refresher is not None
        queue = project / "results/screening/queue/title_abstract/reviewer-1.tsv"
        records = [line.split("\t")[0] for line in queue.read_text().splitlines()[1:]]
        if len(records) < args.cycles:
            raise SystemExit(f"the queue holds {len(records)} publications; --cycles at most that")
        with TestClient(app, base_url=BASE):  # the app's lifespan: the refresher runs
            first, csrf1 = signed_in(app, "reviewer-1")
            second, csrf2 = signed_in(app, "reviewer-2")
            adjudicator, _ = signed_in(app, "adjudicator-1")
            conflict, whole = [], []
            for cycle in range(args.cycles):
                record = records[cycle]
                marker = f'id="title_abstract-{record}"'
                generation = refresher.state().generation
                first.post(
                    f"/screen/title_abstract/record/{record}",
                    data={"csrf": csrf1, "decision": "include"},
                )
                wait_for(settled(refresher, generation), "reviewer-1's refresh")
                generation = refresher.state().generation
                started = time.perf_counter()
                second.post(
                    f"/screen/title_abstract/record/{record}",
                    data={"csrf": csrf2, "decision": "exclude"},
                )
                wait_for(lambda: marker in adjudicator.get("/adjudicate").text, "the conflict")
                conflict.append(time.perf_counter() - started)
                wait_for(settled(refresher, generation), "the conflict's refresh")
                whole.append(time.perf_counter() - started)
                if not refresher.state().last_ok:
                    raise SystemExit(f"refresh failed: {refresher.state().error}")
                print(
                    f"cycle {cycle + 1}: conflict on the adjudicator's page after "
                    f"{conflict[-1]:.1f} s, refresh ended after {whole[-1]:.1f} s; {load()}"
                )
            if args.cycles:
                print(summary("conflict visible to the adjudicator", conflict, 10.0))
                print(summary("refresh after the conflict, whole", whole))
            pooled: list[float] = []
            if args.extraction:
                pooled = extraction_rounds(project, app, refresher, day)
        if args.extraction:
            print(summary("settled extraction -> new pooled", pooled))
    print(f"after: {load()}")
    return 0


def extraction_rounds(project: Path, app, refresher: Refresher, day: str) -> list[float]:
    """Two new studies with one discrepancy each; time each adjudication to new estimates."""
    queue = project / "results/screening/queue/title_abstract/reviewer-1.tsv"
    records = [line.split("\t")[0] for line in queue.read_text().splitlines()[1:3]]
    screening = project / "resources" / "screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            TA_HEADER + "".join(f"{r}\tinclude\t\t\t{day}\n" for r in records)
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            FT_HEADER + "".join(f"{r}\tinclude\t\t\t{day}\t{s}\n" for r, s in zip(records, STUDIES))
        )
    for study in STUDIES:
        folder = project / "resources" / "extraction" / study
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "extractor-1.tsv").write_text(sheet_text(FIRST))
        (folder / "extractor-2.tsv").write_text(sheet_text(SECOND))
    generation = refresher.state().generation
    refresher.refresh_now()  # hand-typed sheets journal nothing: ask for the run
    wait_for(settled(refresher, generation), "the refresh that takes the studies in")
    if not refresher.state().last_ok:
        raise SystemExit(f"refresh failed: {refresher.state().error}")
    desk = app.state.desk
    estimates = project / "results/synthesis/meta_analysis.tsv"
    times = []
    for study in STUDIES:
        before = estimates.read_bytes()
        generation = refresher.state().generation
        started = time.perf_counter()
        desk.extraction.adjudicate(
            study, "adjudicator-1", [as_form_row(row) for row in SECOND], version_of(None)
        )
        wait_for(lambda: content(estimates) not in (None, before), f"new estimates after {study}")
        times.append(time.perf_counter() - started)
        print(f"{study}: new pooled estimates {times[-1]:.1f} s after the settled sheet; {load()}")
        wait_for(settled(refresher, generation), "the refresh to end")
    return times


if __name__ == "__main__":
    raise SystemExit(main())
