"""The facts of one run, gathered from the files its rule declares: ``summary.json`` and
``manifest.json`` (``summary.md`` is rendered from the summary by :mod:`.summary`).

Consumes (:class:`~livingreview.runs.inputs.RunInputs`), after every other stage has finished:

- the search receipts ``results/search/receipts/pubmed-<date>.json``: what each PubMed search
  returned (byte copies of the snapshots' ``provenance.json``);
- ``results/records/{unique,duplicates,maybe,runs}.tsv``: deduplication (per-run counts);
- ``results/screening/status.tsv`` (``awaiting_reviewers``), ``conflicts.tsv`` and the queues
  ``queue/<stage>/<reviewer>.tsv``: who has publications waiting;
- ``results/extraction/studies.tsv``: studies in the synthesis (``version`` baseline or update),
  and the previous archived version's ``studies.tsv``, to say which studies are new;
- ``results/synthesis/{outcomes,tests,meta_analysis}.tsv`` and ``whats_new.tsv``;
- the record of the latest *earlier* run (``results/runs/<earlier date>/``), to say what changed.

Produces the summary (new records, duplicates, publications awaiting each reviewer, studies
added, whether the pooled estimates changed since the previous run record) and the manifest
(:mod:`.manifest`). A stage whose files the rule does not declare is reported as
``"available": false`` with the missing inputs, never as zeros.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..dedup import RUN_COLUMNS
from ..errors import InputFileError
from ..io import read_rows, write_text
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
from .summary import render_summary

log = logging.getLogger(__name__)

RECORD_VERSION = 1
#: The counts of one row of results/records/runs.tsv (the columns after ``run``, ``source``).
COUNTED = tuple(c for c in RUN_COLUMNS if c not in ("run", "source"))


def _int(value: str | None) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def _missing(*names: str) -> dict[str, Any]:
    return {"available": False, "missing": list(names)}


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


def search_section(
    receipts: Mapping[str, Mapping[str, Any]], run_date: str, snapshot_root: str
) -> dict[str, Any]:
    """What this run's PubMed search returned, from its receipt."""
    provenance = next((p for p in receipts.values() if p.get("run_date") == run_date), None)
    if provenance is None:
        return _missing(f"receipts (the receipt of the {run_date} snapshot)")
    return {
        "available": True,
        "snapshot": f"{snapshot_root}/{run_date}",
        "kind": provenance.get("kind"),
        "mode": provenance.get("mode"),
        "window": provenance.get("window"),
        "pmids_returned": len(provenance.get("pmids_returned", [])),
        "pmids_new": len(provenance.get("pmids_new", [])),
        "pmids_already_held": len(provenance.get("pmids_already_held", [])),
        "requests": provenance.get("request_count"),
    }


def records_section(inputs: RunInputs, run_date: str) -> dict[str, Any]:
    """Records found by this run (per source) and the dedup totals."""
    named = {
        "records_unique": inputs.records_unique,
        "records_duplicates": inputs.records_duplicates,
        "records_maybe": inputs.records_maybe,
        "records_runs": inputs.records_runs,
    }
    missing = [name for name, path in named.items() if path is None]
    if missing:
        return _missing(*missing)
    assert inputs.records_runs and inputs.records_unique  # checked just above (for mypy)
    assert inputs.records_duplicates and inputs.records_maybe
    run_rows = [r for r in read_rows(inputs.records_runs) if r.get("run") == run_date]
    total = next((r for r in run_rows if r.get("source") == "all"), None)
    this_run = {c: _int(total.get(c)) for c in COUNTED} if total else {c: 0 for c in COUNTED}
    return {
        "available": True,
        "this_run": this_run,
        "this_run_by_source": {
            r["source"]: {c: _int(r.get(c)) for c in COUNTED}
            for r in run_rows
            if r.get("source") != "all"
        },
        "publications_total": len(read_rows(inputs.records_unique)),
        "duplicate_records_total": len(read_rows(inputs.records_duplicates)),
        "uncertain_pairs_awaiting_verdict": len(read_rows(inputs.records_maybe)),
    }


def _queue_lengths(queues: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{stage: {reviewer: rows}}`` of the queue files ``.../queue/<stage>/<reviewer>.tsv``."""
    lengths: dict[str, dict[str, int]] = {}
    for queue in sorted(queues, key=lambda q: (Path(q).parent.name, Path(q).stem)):
        lengths.setdefault(Path(queue).parent.name, {})[Path(queue).stem] = len(read_rows(queue))
    return lengths


def screening_section(inputs: RunInputs) -> dict[str, Any]:
    """Publications awaiting each reviewer (``status.tsv`` column ``awaiting_reviewers``,
    ``; ``-joined), the queue lengths and the conflicts."""
    if inputs.screening_status is None:
        return _missing("screening_status")
    rows = read_rows(inputs.screening_status)
    awaiting: dict[str, Counter[str]] = {}
    for row in rows:
        for reviewer in (r.strip() for r in row.get("awaiting_reviewers", "").split(";")):
            if reviewer:
                awaiting.setdefault(reviewer, Counter())[row.get("status", "")] += 1
    section: dict[str, Any] = {
        "available": True,
        "awaiting_by_reviewer": {
            reviewer: {"total": sum(by_status.values()), **dict(sorted(by_status.items()))}
            for reviewer, by_status in sorted(awaiting.items())
        },
        "status_counts": dict(sorted(Counter(r.get("status", "") for r in rows).items())),
    }
    if inputs.screening_queues:
        section["queues"] = _queue_lengths(inputs.screening_queues)
    if inputs.screening_conflicts is not None:
        section["conflicts_awaiting_adjudication"] = len(read_rows(inputs.screening_conflicts))
    return section


def studies_added(rows: Sequence[Mapping[str, str]], previous_studies: str | None) -> set[str]:
    """New studies (not in the published review) absent from the previous archived version.

    The same comparison as whats_new (``livingreview.updates``): against the latest run
    archived before this one (``previous_studies``), or, before any, the published review.
    """
    new = {r["study_id"] for r in rows if r.get("study_id") and r.get("version") != "baseline"}
    if previous_studies is None:
        return new
    return new - {r.get("study_id", "") for r in read_rows(previous_studies)}


def extraction_section(inputs: RunInputs) -> dict[str, Any]:
    """Studies, arms and patients in the synthesis, and the studies this run added."""
    if inputs.extraction_studies is None:
        return _missing("extraction_studies")
    rows = read_rows(inputs.extraction_studies)
    studies = sorted({r.get("study_id", "") for r in rows if r.get("study_id")})
    return {
        "available": True,
        "studies_total": len(studies),
        "arms_total": len(rows),
        "patients_total": sum(_int(r.get("n")) for r in rows),
        "studies_added_this_run": sorted(studies_added(rows, inputs.previous_version_studies)),
        "studies_by_version": dict(sorted(Counter(r.get("version", "") for r in rows).items())),
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
    summary = {
        "record_version": RECORD_VERSION,
        "run_date": run_date,
        "generated_at": generated,
        "search": search_section(receipts, run_date, inputs.snapshot_root),
        "records": records_section(inputs, run_date),
        "screening": screening_section(inputs),
        "extraction": extraction_section(inputs),
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
