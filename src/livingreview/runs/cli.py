"""``python -m livingreview.runs``: the project's runs from the command line, and the helpers
``bin/scheduled-update`` calls.

    python -m livingreview.runs latest              # the run that finished last (its entry)
    python -m livingreview.runs show RUN_ID         # one run's entry
    python -m livingreview.runs list [--date D]     # every run (of run_date D), oldest first
    python -m livingreview.runs new-id TRIGGER      # a fresh run id (manual|scheduled|desk)
    python -m livingreview.runs reproduce RUN_ID DIR  # rebuild a run in DIR and compare

Paths are relative to the project folder (``--root``, default the current folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from .ending import print_todo
from .registry import (
    INDEX_COLUMNS,
    RUNS_DIR,
    TRIGGERS,
    RunIdError,
    latest_run,
    list_runs,
    new_run_id,
    read_run,
)
from .runlock import holder
from .scheduler import classify_scheduled_run, clean_stale_temporaries


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m livingreview.runs",
        description="The project's runs: list them, show one, make a run id, reproduce a run.",
    )
    parser.add_argument(
        "--root", type=Path, default=Path("."), help="the project folder (default: here)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("latest", help="print the entry of the run that finished last (JSON)")
    show = sub.add_parser("show", help="print one run's entry (JSON)")
    show.add_argument("run_id")
    listing = sub.add_parser("list", help="list every run, oldest first (TSV)")
    listing.add_argument("--date", help="only the runs of this run_date (YYYY-MM-DD)")
    new_id = sub.add_parser("new-id", help="print a fresh run id")
    new_id.add_argument("trigger", choices=TRIGGERS)
    reproduce = sub.add_parser(
        "reproduce",
        help="rebuild a run in a fresh copy of the project (DIR, new or empty) from its "
        "archived human inputs, snapshots and config, and compare the outputs' digests "
        "with its manifest (exit 0 when they all match)",
    )
    reproduce.add_argument("run_id")
    reproduce.add_argument("directory", type=Path)
    reproduce.add_argument("--cores", type=int, default=2)
    classify = sub.add_parser(
        "classify",
        help="(bin/scheduled-update) the exit code and reason of a failed run (line 1) and "
        "the message to show last, if any (line 2)",
    )
    classify.add_argument("--run-id", required=True, help="the run (LIVINGREVIEW_RUN_ID)")
    classify.add_argument("output", type=Path, help="what the run printed")
    sub.add_parser(
        "holder",
        help="(bin/scheduled-update) who holds the project's run lock: its trigger and run id "
        "on one line, nothing when nobody does",
    )
    clean = sub.add_parser(
        "clean-stale", help="(bin/scheduled-update) remove temporaries a killed run left"
    )
    clean.add_argument("results", type=Path)
    todo = sub.add_parser("todo", help="print the to-do block of a run record (summary.json)")
    todo.add_argument("summary", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runs = args.root / RUNS_DIR
    try:
        if args.command == "latest":
            entry = latest_run(runs)
            if entry is None:
                print(f"no run recorded yet in {runs}", file=sys.stderr)
                return 1
            print(json.dumps(asdict(entry), indent=2, sort_keys=True))
        elif args.command == "show":
            entry = read_run(args.run_id, runs)
            if entry is None:
                print(f"no run {args.run_id} recorded in {runs}", file=sys.stderr)
                return 1
            print(json.dumps(asdict(entry), indent=2, sort_keys=True))
        elif args.command == "list":
            print("\t".join(INDEX_COLUMNS))
            for row in list_runs(runs):
                if args.date is None or row["run_date"] == args.date:
                    print("\t".join(row.get(c) or "" for c in INDEX_COLUMNS))
        elif args.command == "new-id":
            print(new_run_id(args.trigger))
        elif args.command == "reproduce":
            from .reproduce import report_lines, reproduce_run

            result = reproduce_run(args.root, args.run_id, args.directory, cores=args.cores)
            for line in report_lines(result):
                print(line)
            return 0 if result.matches else 1
        elif args.command == "classify":
            text = (
                args.output.read_text(encoding="utf-8", errors="replace")
                if args.output.exists()
                else ""
            )
            failure = classify_scheduled_run(
                args.run_id, text, args.root / "logs", args.root / RUNS_DIR
            )
            print(f"{failure.code} {failure.reason}")
            if failure.detail:
                print(failure.detail)
        elif args.command == "holder":
            note = holder(args.root)
            if note is not None:
                print(note.get("trigger", "unknown"), note.get("run_id", ""))
        elif args.command == "clean-stale":
            for path in clean_stale_temporaries(args.results):
                print(f"removed {path} (left by an interrupted run)")
        elif args.command == "todo":
            print_todo(args.summary)
    except RunIdError as exc:
        print(f"python -m livingreview.runs: {exc}", file=sys.stderr)
        return 2
    return 0
