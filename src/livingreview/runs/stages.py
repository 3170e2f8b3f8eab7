"""What each stage's files say about this run: the sections of ``summary.json``.

Every function reads only the declared files it is given (:class:`~.inputs.RunInputs`); a
stage whose files the workflow does not write is reported as ``"available": false`` with the
missing inputs, and a count that depends on a missing to-do file is left out, never shown as
zero. Counts of people's work (queues, conflicts, uncertain pairs, studies to extract) come
from the stages' to-do rows (:mod:`.todo`), the same numbers the stages' own summaries show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..dedup.tables import RUN_COLUMNS
from ..imports.specs import exports_of_run
from ..io import read_rows
from ..prisma.counts import read_counts
from ..prisma.ledger import CUMULATIVE_FLOW
from ..prisma.template import BOXES
from ..screening.agreement import AGREEMENT_COLUMNS, agreement_sentence
from ..todo import (
    DECIDE_PAIRS,
    EXTRACT,
    SCREEN,
    SETTLE_CONFLICTS,
    SETTLE_DISCREPANCIES,
    TodoRow,
)
from .inputs import RunInputs
from .todo import count_tasks

#: The counts of one row of results/records/runs.tsv (the columns after ``run``, ``source``).
COUNTED = tuple(c for c in RUN_COLUMNS if c not in ("run", "source"))


def _int(value: str | None) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def missing(*names: str) -> dict[str, Any]:
    """A section whose inputs the workflow does not write."""
    return {"available": False, "missing": list(names)}


# ----------------------------------------------------------------------------- search


def search_section(
    receipts: Mapping[str, Mapping[str, Any]], run_date: str, snapshot_root: str
) -> dict[str, Any]:
    """What this run's PubMed search returned, from its receipt."""
    provenance = next((p for p in receipts.values() if p.get("run_date") == run_date), None)
    if provenance is None:
        return missing(f"receipts (the receipt of the {run_date} snapshot)")
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


# ----------------------------------------------------------------------------- records


def previous_run_date(run_date: str, snapshot_dates: Iterable[str]) -> str | None:
    """The date of the run before ``run_date`` (its latest earlier snapshot), if any: a run
    takes in what arrived after it, up to and including ``run_date``.

    >>> previous_run_date("2026-11-23", ["2021-10-31", "2026-11-23"])
    '2021-10-31'
    >>> previous_run_date("2021-10-31", ["2021-10-31"]) is None
    True
    """
    earlier = [day for day in snapshot_dates if day < run_date]
    return max(earlier) if earlier else None


def exports_after_run(imports: Sequence[Mapping[str, Any]], run_date: str) -> list[dict[str, Any]]:
    """The declared exports this run leaves for a later one (the ones
    :func:`livingreview.imports.exports_of_run` defers), with the run that takes each in:
    its ``entry_run`` when the config names one (``entry_run``), else the first run dated on
    or after its search date (``entry_run`` None).

    >>> exports_after_run([{"database": "embase", "search_date": "2026-12-01", "files": ["a.ris"]},
    ...                    {"database": "wos", "search_date": "2026-11-01", "files": ["b.ris"]}],
    ...                   "2026-11-23")
    [{'database': 'embase', 'search_date': '2026-12-01', 'files': ['a.ris'], 'entry_run': None}]
    >>> exports_after_run([{"database": "wos", "search_date": "2026-11-01", "files": ["b.ris"],
    ...                     "entry_run": "2026-11-30"}], "2026-11-23")[0]["entry_run"]
    '2026-11-30'
    """
    _, deferred = exports_of_run(imports, run_date)
    return [
        {
            "database": str(spec.get("database", "")),
            "search_date": str(spec.get("search_date", "")),
            "files": [str(f) for f in spec.get("files", [])],
            "entry_run": None if spec.get("entry_run") is None else str(spec["entry_run"]),
        }
        for spec in deferred
    ]


def records_found(
    run_rows: Iterable[Mapping[str, str]], after: str | None, run_date: str
) -> dict[str, Any]:
    """Records every source brought in this run, from results/records/runs.tsv.

    A run takes in every run dated after the previous run's record and up to its own date:
    its PubMed snapshot and every export entering in between (an export's rows carry its
    entry run, ``imports[].entry_run``), each per source and in total.

    >>> rows = [{"run": "2021-10-31", "source": "pubmed", "records_identified": "32"},
    ...         {"run": "2026-11-20", "source": "embase", "records_identified": "5"},
    ...         {"run": "2026-11-23", "source": "pubmed", "records_identified": "2"},
    ...         {"run": "2026-11-23", "source": "all", "records_identified": "2"}]
    >>> found = records_found(rows, "2021-10-31", "2026-11-23")
    >>> found["runs"], found["by_source"]["embase"]["records_identified"]
    (['2026-11-20', '2026-11-23'], 5)
    >>> found["total"]["records_identified"]
    7
    """
    rows = [
        r
        for r in run_rows
        if (after is None or r.get("run", "") > after)
        and r.get("run", "") <= run_date
        and r.get("source") != "all"
    ]
    by_source: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = by_source.setdefault(row["source"], {c: 0 for c in COUNTED})
        for column in COUNTED:
            counts[column] += _int(row.get(column))
    total = {c: sum(counts[c] for counts in by_source.values()) for c in COUNTED}
    return {
        "runs": sorted({r["run"] for r in rows}),
        "by_source": by_source,
        "total": total,
    }


def records_section(
    inputs: RunInputs,
    run_date: str,
    previous: str | None,
    imports: Sequence[Mapping[str, Any]],
    todo: Sequence[TodoRow],
) -> dict[str, Any]:
    """Records found by this run (every source), the dedup totals, the uncertain pairs
    awaiting a verdict and the exports left for a later run."""
    named = {
        "records_unique": inputs.records_unique,
        "records_duplicates": inputs.records_duplicates,
        "records_runs": inputs.records_runs,
    }
    absent = [name for name, path in named.items() if path is None]
    if absent:
        return missing(*absent)
    assert inputs.records_runs and inputs.records_unique and inputs.records_duplicates
    found = records_found(read_rows(inputs.records_runs), previous, run_date)
    section: dict[str, Any] = {
        "available": True,
        "previous_run": previous,
        "runs_taken_in": found["runs"],
        "this_run": found["total"],
        "this_run_by_source": found["by_source"],
        "publications_total": len(read_rows(inputs.records_unique)),
        "duplicate_records_total": len(read_rows(inputs.records_duplicates)),
        "exports_after_run_date": exports_after_run(imports, run_date),
    }
    if inputs.records_todo is not None:
        section["uncertain_pairs_awaiting_verdict"] = count_tasks(todo, DECIDE_PAIRS)
    return section


# ----------------------------------------------------------------------------- screening


def awaiting_reviewers(todo: Iterable[TodoRow]) -> dict[str, dict[str, int]]:
    """Publications waiting in each reviewer's queues: ``{reviewer: {stage: n, "total": n}}``.

    >>> awaiting_reviewers([TodoRow(role="reviewer", person="r1", stage="full_text",
    ...     task=SCREEN, count=2, items_in="q.tsv", act_in="s.tsv")])
    {'r1': {'full_text': 2, 'total': 2}}
    """
    waiting: dict[str, Counter[str]] = {}
    for row in todo:
        if row["task"] == SCREEN and row["person"]:
            waiting.setdefault(row["person"], Counter())[row["stage"]] += row["count"]
    return {
        person: {**dict(by_stage), "total": sum(by_stage.values())}
        for person, by_stage in sorted(waiting.items())
    }


#: What the status counts of ``status.tsv`` cover (unlike the PRISMA counts of the version).
STATUS_SCOPE = "all time, the published review's publications included"


def screening_section(inputs: RunInputs, todo: Sequence[TodoRow]) -> dict[str, Any]:
    """Screening statuses, publications awaiting each reviewer and open conflicts (from the
    to-do rows)."""
    if inputs.screening_status is None:
        return missing("screening_status")
    rows = read_rows(inputs.screening_status)
    section: dict[str, Any] = {
        "available": True,
        "status_counts_scope": STATUS_SCOPE,
        "status_counts": dict(sorted(Counter(r.get("status", "") for r in rows).items())),
    }
    if inputs.screening_todo is not None:
        section["awaiting_by_reviewer"] = awaiting_reviewers(todo)
        section["conflicts_awaiting_adjudication"] = count_tasks(todo, SETTLE_CONFLICTS)
    return section


#: Columns of agreement.tsv that hold counts (whole numbers) and proportions (decimals).
AGREEMENT_COUNTS = (
    "publications_compared",
    "both_include",
    "r1_include_r2_exclude",
    "r1_exclude_r2_include",
    "both_exclude",
    "not_retrieved_left_out",
    "maybe_left_out",
    "awaiting_second_decision",
    "more_than_two_reviewers",
)
AGREEMENT_PROPORTIONS = ("proportionate_agreement", "expected_agreement", "kappa")


def _proportion(value: str | None) -> float | None:
    text = str(value or "").strip()
    return float(text) if text else None


def agreement_section(agreement: str | None) -> dict[str, Any]:
    """How far the reviewers agreed before adjudication, per screening stage, from
    ``results/screening/agreement.tsv``: each stage's row with its counts as numbers (a
    proportion the table leaves empty, κ when it is undefined, is None) and its sentence
    (:func:`livingreview.screening.agreement.agreement_sentence`)."""
    if agreement is None:
        return missing("screening_agreement")
    stages = []
    for row in read_rows(agreement):
        stage: dict[str, Any] = {c: row.get(c, "") for c in AGREEMENT_COLUMNS}
        stage.update({c: _int(row.get(c)) for c in AGREEMENT_COUNTS})
        stage.update({c: _proportion(row.get(c)) for c in AGREEMENT_PROPORTIONS})
        stage["reviewers"] = [
            r.strip() for r in str(row.get("reviewers", "")).split(";") if r.strip()
        ]
        stage["sentence"] = agreement_sentence(row)
        stages.append(stage)
    return {"available": True, "stages": stages}


# ----------------------------------------------------------------------------- prisma

#: Boxes whose breakdown is a list of exclusion reasons (full text: databases and registers,
#: then other methods).
REASON_BOXES = {"dbr_excluded": "databases and registers", "other_excluded": "other methods"}


def prisma_section(counts: str | None, baseline_until: str | None, run_date: str) -> dict[str, Any]:
    """This version's PRISMA 2020 flow: the box counts of the flow ``prisma.csv`` and the
    update diagram show (the cumulative flow of ``results/prisma/counts.tsv``: every update
    search since the published review's), records per database, and the reasons reports were
    excluded at full text with their counts.

    Not the screening statuses: those count every publication of all time, the published
    review's too (:func:`screening_section`).
    """
    if counts is None:
        return missing("prisma_counts")
    per_flow, breakdowns, _ = read_counts(counts)
    if CUMULATIVE_FLOW not in per_flow:  # no update run yet: the published review's flow only
        return missing(f"prisma_counts (no '{CUMULATIVE_FLOW}' column in {counts})")
    boxes = per_flow[CUMULATIVE_FLOW]
    listed = breakdowns.get(CUMULATIVE_FLOW, {})
    return {
        "available": True,
        "flow": CUMULATIVE_FLOW,
        "searches_after": baseline_until,
        "searches_until": run_date,
        "boxes": {box: boxes.get(box, 0) for box in BOXES},
        "records_by_database": [
            {"database": label, "records": n}
            for label, n in listed.get("database_specific_results", [])
        ],
        "records_by_register": [
            {"register": label, "records": n}
            for label, n in listed.get("register_specific_results", [])
        ],
        "full_text_exclusion_reasons": [
            {"arm": arm, "reason": label, "reports": n}
            for box, arm in REASON_BOXES.items()
            for label, n in listed.get(box, [])
        ],
    }


# ----------------------------------------------------------------------------- extraction


def studies_added(rows: Sequence[Mapping[str, str]], previous_studies: str | None) -> set[str]:
    """New studies (not in the published review) absent from the previous archived version.

    The same comparison as whats_new (``livingreview.updates``): against the latest run
    archived before this one (``previous_studies``), or, before any, the published review.
    """
    new = {r["study_id"] for r in rows if r.get("study_id") and r.get("version") != "baseline"}
    if previous_studies is None:
        return new
    return new - {r.get("study_id", "") for r in read_rows(previous_studies)}


def by_version(rows: Sequence[Mapping[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """Studies and arms per version (``baseline`` or the run that added them).

    >>> by_version([{"study_id": "a", "version": "baseline"},
    ...             {"study_id": "a", "version": "baseline"},
    ...             {"study_id": "b", "version": "2026-11-23"}])
    ({'2026-11-23': 1, 'baseline': 1}, {'2026-11-23': 1, 'baseline': 2})
    """
    studies: dict[str, set[str]] = {}
    for row in rows:
        studies.setdefault(row.get("version", ""), set()).add(row.get("study_id", ""))
    arms = Counter(row.get("version", "") for row in rows)
    return (
        {version: len(ids) for version, ids in sorted(studies.items())},
        dict(sorted(arms.items())),
    )


def extraction_section(inputs: RunInputs, todo: Sequence[TodoRow]) -> dict[str, Any]:
    """Studies (and, separately, arms and patients) in the synthesis, the studies this run
    added, and what waits for extractors and the adjudicator."""
    if inputs.extraction_studies is None:
        return missing("extraction_studies")
    rows = read_rows(inputs.extraction_studies)
    studies = {r.get("study_id", "") for r in rows if r.get("study_id")}
    studies_per_version, arms_per_version = by_version(rows)
    section: dict[str, Any] = {
        "available": True,
        "studies_total": len(studies),
        "arms_total": len(rows),
        "patients_total": sum(_int(r.get("n")) for r in rows),
        "studies_added_this_run": sorted(studies_added(rows, inputs.previous_version_studies)),
        "studies_by_version": studies_per_version,
        "arms_by_version": arms_per_version,
    }
    if inputs.extraction_todo is not None:
        section["studies_awaiting_extraction"] = count_tasks(todo, EXTRACT)
        section["studies_with_discrepancies"] = count_tasks(todo, SETTLE_DISCREPANCIES)
    return section
