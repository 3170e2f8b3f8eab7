"""The facts of one run, gathered from the files its rule declares: ``summary.json`` and
``manifest.json`` (``summary.md`` is rendered from the summary by :mod:`.summary`).

Consumes (:class:`~livingreview.runs.inputs.RunInputs`), after every other stage has finished:

- the stages' to-do files ``results/{records,screening,extraction}/todo.tsv``: what waits for
  whom, and where to act (:mod:`.todo`);
- the search receipts ``results/search/receipts/pubmed-<date>.json``: what each PubMed search
  returned (byte copies of the snapshots' ``provenance.json``);
- ``results/records/{unique,duplicates,runs}.tsv``: deduplication (per-run, per-source counts);
- ``results/screening/status.tsv`` (all-time statuses) and ``agreement.tsv`` (the reviewers'
  agreement before adjudication);
- ``results/prisma/counts.tsv``: this version's PRISMA box counts and exclusion reasons (the
  flow ``prisma.csv`` and the update diagram show);
- ``results/extraction/studies.tsv``: studies in the synthesis (``version`` baseline or update),
  and the previous archived version's ``studies.tsv``, to say which studies are new;
- ``results/synthesis/{outcomes,tests,meta_analysis}.tsv`` and ``whats_new.tsv``;
- the record of the latest *earlier* run_date (``results/runs/by-date/<earlier date>/``), to say
  what changed.

Produces the summary (the to-do block, new records per source, duplicates, studies added,
whether the pooled estimates changed since the previous run record; the sections come from
:mod:`.stages`) and the manifest (:mod:`.manifest`). A stage whose files the rule does not
declare is reported as ``"available": false`` with the missing inputs, never as zeros.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..io import write_text
from ..text import ISO_DATE
from .estimates import compare_estimates, read_estimate_tables, versus_previous_version
from .inputs import RunInputs
from .manifest import (
    checksum_files,
    compare_files,
    public_config,
    snapshot_checksums,
    software_versions,
)
from .stages import (
    agreement_section,
    extraction_section,
    previous_run_date,
    prisma_section,
    records_section,
    screening_section,
    search_section,
)
from .summary import render_summary
from .todo import todo_section

log = logging.getLogger(__name__)

#: 2: the to-do block; records found by every source of the run; studies counted apart
#: from arms; counts of people's work from the stages' to-do files.
#: 3: this version's PRISMA box counts and full-text exclusion reasons (``prisma``), the
#: reviewers' agreement (``agreement``), the run that takes in each deferred export.
RECORD_VERSION = 3


def load_json(path: str | Path, allowed: str) -> dict[str, Any]:
    """A JSON file written by this workflow; an error naming the file and line if it is not."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"is not valid JSON ({exc.msg})", line=exc.lineno, allowed=allowed
        ) from None


def read_receipts(paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every search receipt the rule declares, by path."""
    return {
        path: load_json(path, "the provenance of a snapshot, as the search stage copies it")
        for path in sorted(paths)
    }


def previous_run(runs_dir: str | Path, run_date: str) -> str | None:
    """The latest run date before ``run_date`` with a complete record (summary + manifest)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return None
    dates = [
        p.name
        for p in runs_dir.iterdir()
        if ISO_DATE.match(p.name)
        and p.name < run_date
        and (p / "summary.json").is_file()
        and (p / "manifest.json").is_file()
    ]
    return max(dates) if dates else None


def build_manifest(
    run_date: str,
    config: Mapping[str, Any],
    inputs: RunInputs,
    receipts: Mapping[str, Mapping[str, Any]],
    *,
    code_base: str | Path,
    generated: str,
) -> dict[str, Any]:
    """The manifest: config without secrets, software, and the checksums of every declared
    input, code file and output (snapshot files as their receipts record them)."""
    outputs = {
        **checksum_files(inputs.result_files()),
        **snapshot_checksums(receipts, inputs.snapshot_root),
    }
    return {
        "record_version": RECORD_VERSION,
        "run_date": run_date,
        "generated_at": generated,
        "config": public_config(config),
        "software": software_versions(),
        "inputs": checksum_files(inputs.inputs),
        "code": checksum_files(inputs.workflow_code, code_base),
        "outputs": dict(sorted(outputs.items())),
    }


_RECORD = "a run record written by this workflow; delete the folder to drop it"


def changes_since_previous(
    inputs: RunInputs,
    run_date: str,
    manifest: Mapping[str, Any],
    estimates: Mapping[str, Sequence[Mapping[str, str]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What changed since the previous run record: the pooled estimates and the files.

    The first record compares as whats_new does, with the previous version of the review
    (the published one until an update has been archived).
    """
    previous_date = previous_run(inputs.runs_dir, run_date)
    pooled: dict[str, Any] = {"tables": sorted(estimates), "compared_with": previous_date}
    file_changes: dict[str, Any] = {"compared_with": previous_date}
    if previous_date is None:
        pooled.update(versus_previous_version(inputs.whats_new))
        return pooled, file_changes
    folder = Path(inputs.runs_dir) / previous_date
    previous_summary = load_json(folder / "summary.json", _RECORD)
    previous_manifest = load_json(folder / "manifest.json", _RECORD)
    differences = compare_estimates(estimates, previous_summary.get("estimates", {}))
    pooled.update(changed=bool(differences), differences=differences)
    for kind in ("inputs", "code", "outputs"):
        file_changes[kind] = compare_files(manifest[kind], previous_manifest.get(kind, {}))
    return pooled, file_changes


def build_run_record(
    run_date: str,
    config: Mapping[str, Any],
    inputs: RunInputs,
    *,
    code_base: str | Path = ".",
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Summary and manifest of the run ``run_date``, from the declared ``inputs`` (code files
    are named relative to ``code_base``, the workflow's folder)."""
    generated = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    receipts = read_receipts(inputs.receipts)
    manifest = build_manifest(
        run_date, config, inputs, receipts, code_base=code_base, generated=generated
    )
    estimates = read_estimate_tables(inputs.estimates)
    pooled, file_changes = changes_since_previous(inputs, run_date, manifest, estimates)
    todo = todo_section(inputs.todo_files())
    tasks = todo["tasks"]
    snapshot_dates = [str(p.get("run_date", "")) for p in receipts.values()]
    summary = {
        "record_version": RECORD_VERSION,
        "run_date": run_date,
        "generated_at": generated,
        "todo": todo,
        "search": search_section(receipts, run_date, inputs.snapshot_root),
        "records": records_section(
            inputs,
            run_date,
            previous_run_date(run_date, snapshot_dates),
            config.get("imports", []),
            tasks,
        ),
        "prisma": prisma_section(
            inputs.prisma_counts,
            (config.get("search") or {}).get("baseline_until"),
            run_date,
        ),
        "screening": screening_section(inputs, tasks),
        "agreement": agreement_section(inputs.screening_agreement),
        "extraction": extraction_section(inputs, tasks),
        "pooled_estimates": pooled,
        "file_changes": file_changes,
        "counts": {kind: len(manifest[kind]) for kind in ("inputs", "code", "outputs")},
        "estimates": estimates,
    }
    return summary, manifest


def write_run_record(
    run_date: str,
    config: Mapping[str, Any],
    inputs: RunInputs,
    *,
    summary_json: str | Path,
    summary_md: str | Path,
    manifest_json: str | Path,
    code_base: str | Path = ".",
) -> dict[str, Any]:
    """Build and write the three record files (atomically); return the summary."""
    summary, manifest = build_run_record(run_date, config, inputs, code_base=code_base)
    write_text(manifest_json, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    write_text(summary_md, render_summary(summary))
    write_text(summary_json, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    log.info(
        "run %s: %s; pooled estimates %s",
        run_date,
        f"{summary['records']['this_run']['records_identified']} records found"
        if summary["records"].get("available")
        else "no dedup output",
        {None: "not compared", True: "changed", False: "unchanged"}[
            summary["pooled_estimates"]["changed"]
        ],
    )
    return summary
