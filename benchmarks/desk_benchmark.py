"""How fast the reviewers' desk shows the next publication and saves a decision.

    .venv/bin/python benchmarks/desk_benchmark.py [--publications 5000] [--decided 2500]
                                                  [--rounds 300]

Builds a **synthetic** project in a temporary folder (made-up publications in the workflow's
formats, tests/desk_support.py; nothing is written to resources/), a reviewer queue of
``--publications`` with ``--decided`` of them already in the reviewer's sheet, then, in
process through Starlette's test client (no network), repeats ``--rounds`` times: show the
next undecided publication (``GET /screen/title_abstract``, following its redirect to the
publication page) and save a decision on it (``POST``, the whole write: lock, re-read,
validation of the whole sheet by the workflow's reader, journal, fsync, rename).  Prints
median, p95 and max in milliseconds.  Targets: show p95 < 100 ms, save p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from desk_support import TA_HEADER, csrf_of, make_project, pid, pinned_clock  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from livingreview.desk.app import create_app  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(name: str, values: list[float], target: float) -> str:
    ms = [v * 1000 for v in values]
    p95 = percentile(ms, 0.95)
    verdict = "ok" if p95 < target else "ABOVE TARGET"
    return (
        f"{name:<28} n={len(ms):>4}  median {statistics.median(ms):6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {max(ms):6.1f} ms  (target p95 < {target:.0f} ms: {verdict})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument("--decided", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="desk-benchmark-") as tmp:
        started = time.perf_counter()
        project = make_project(Path(tmp) / "project", n=args.publications)
        sheet = project / "resources/screening/title_abstract/reviewer-1.tsv"
        sheet.write_text(
            TA_HEADER
            + "".join(
                f"{pid(i)}\texclude\tnot_adult\tsynthetic\t2026-11-20\n"
                for i in range(1, args.decided + 1)
            )
        )
        app = create_app(project, clock=pinned_clock, state_dir=Path(tmp) / "state")
        desk = app.state.desk
        token = desk.tokens.ensure(desk.project.people)["reviewer-1"]
        client = TestClient(app, base_url="http://127.0.0.1:8765")
        client.get("/signin", params={"token": token}, headers={"sec-fetch-site": "none"})
        first = client.get("/screen/title_abstract")
        csrf = csrf_of(first.text)
        print(
            f"synthetic project: {args.publications} publications queued, {args.decided} already "
            f"decided; set up in {time.perf_counter() - started:.1f} s (first page parses the "
            "tables once)"
        )
        show, save = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            page = client.get("/screen/title_abstract")
            t1 = time.perf_counter()
            assert page.status_code == 200, page.status_code
            record = str(page.url).rsplit("/", 1)[1]
            response = client.post(
                f"/screen/title_abstract/record/{record}",
                data={"csrf": csrf, "decision": "include", "note": "benchmark"},
                follow_redirects=False,
            )
            t2 = time.perf_counter()
            assert response.status_code == 303, response.text[:500]
            show.append(t1 - t0)
            save.append(t2 - t1)
        print(report("show next publication", show, 100))
        print(report("save a decision", save, 50))
    return 0


if __name__ == "__main__":
    sys.exit(main())
