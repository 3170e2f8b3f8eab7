"""The record-level ledger: one row per (flow, box, item), so every number has its records.

``box`` is the ``data`` name of the PRISMA2020 template (``database_results``,
``duplicates``, ...) or one of the two boxes for undecided records; the item is a record
(``record_id`` + ``run``), a publication/report (``publication_id``) or a study
(``study_id``). Every number of every diagram is the number of ledger rows of its flow and
box, so an auditor can check each one against the records behind it.

Flows: ``baseline`` (the published review, reconstructed from the baseline runs' records),
one flow per update run (records first retrieved in that run; the previous version is the
baseline plus earlier runs) and ``cumulative`` (every update run since the published
review). A record's run is the run it entered: its PubMed snapshot's date, or the entry run
of its export (``imports[].entry_run``), never an export's search date, so every flow is a
run of the project. Nothing is repaired here: a record unknown to dedup or a publication
without a status is simply absent from the boxes it should reach, and the identity checks
(:mod:`livingreview.prisma.identities`) name it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from .inputs import BaselineStudy, FlowSettings, Publication, RecordRef, Status
from .template import NO_REASON, STATUS_BOXES

log = logging.getLogger(__name__)

LEDGER_COLUMNS: tuple[str, ...] = (
    "flow",
    "run",
    "box",
    "id",
    "id_type",
    "publication_id",
    "study_id",
    "source",
    "detail",
    "note",
)
BASELINE_FLOW = "baseline"
CUMULATIVE_FLOW = "cumulative"


class LedgerRow(TypedDict):
    """One row of ``ledger.tsv`` (columns :data:`LEDGER_COLUMNS`)."""

    flow: str
    run: str
    box: str
    id: str
    id_type: str
    publication_id: str
    study_id: str
    source: str
    detail: str
    note: str


def _row(
    flow: str,
    run: str,
    box: str,
    ident: str,
    id_type: str,
    *,
    publication_id: str = "",
    study_id: str = "",
    source: str = "",
    detail: str = "",
    note: str = "",
) -> LedgerRow:
    return LedgerRow(
        flow=flow,
        run=run,
        box=box,
        id=ident,
        id_type=id_type,
        publication_id=publication_id,
        study_id=study_id,
        source=source,
        detail=detail,
        note=note,
    )


@dataclass
class FlowTotals:
    """What a flow ends with: the previous version of the next flow."""

    studies: dict[str, str] = field(default_factory=dict)  # study_id -> reports ("; ")
    reports: dict[str, str] = field(default_factory=dict)  # report id -> study_id


#: report id -> (study_id, run it entered the review in)
NewReports = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class LedgerOrder:
    """What every flow looks up, computed once for the whole ledger (each flow used to sort
    every record and publication again, a cost that grew with the number of runs)."""

    #: records by (run, source, record_id)
    records: list[RecordRef]
    #: record_id -> publication_id
    publication_of: dict[str, str]
    #: record_id -> the run that first retrieved it
    first_retrieval: dict[str, str]
    #: publication ids by (first_run, publication_id)
    publications: list[str]

    @classmethod
    def of(
        cls, records: Sequence[RecordRef], publications: Mapping[str, Publication]
    ) -> LedgerOrder:
        first_retrieval: dict[str, str] = {}
        for ref in sorted(records, key=lambda r: r.run):
            first_retrieval.setdefault(ref.record_id, ref.run)
        return cls(
            records=sorted(records, key=lambda r: (r.run, r.source, r.record_id)),
            publication_of={m: p.publication_id for p in publications.values() for m in p.members},
            first_retrieval=first_retrieval,
            publications=sorted(publications, key=lambda p: (publications[p].first_run, p)),
        )


def build_flow(
    flow: str,
    runs: set[str],
    records: Sequence[RecordRef],
    publications: Mapping[str, Publication],
    statuses: Mapping[str, Status],
    duplicate_rules: Mapping[str, str],
    settings: FlowSettings,
    previous: FlowTotals | None,
    other_methods: Sequence[BaselineStudy] = (),
    order: LedgerOrder | None = None,
) -> tuple[list[LedgerRow], FlowTotals]:
    """Ledger rows of one flow (records of ``runs``) and the studies/reports it totals.

    The phases follow the diagram from top to bottom: identification (records and
    duplicates), the previous version, screening (one path of boxes per publication),
    other methods (the unpublished baseline studies), then new and total studies.
    """
    previous = previous or FlowTotals()
    order = order or LedgerOrder.of(records, publications)
    rows = identification_rows(
        flow, runs, records, publications, duplicate_rules, settings, order=order
    )
    if flow != BASELINE_FLOW:
        rows += previous_version_rows(flow, previous)
    screening, new_reports = screening_rows(flow, runs, publications, statuses, order=order)
    rows += screening
    other, other_reports = other_method_rows(flow, runs, other_methods, settings)
    rows += other
    new_reports.update(other_reports)
    studies, totals = study_rows(flow, previous, new_reports)
    return rows + studies, totals


def identification_rows(
    flow: str,
    runs: set[str],
    records: Sequence[RecordRef],
    publications: Mapping[str, Publication],
    duplicate_rules: Mapping[str, str],
    settings: FlowSettings,
    order: LedgerOrder | None = None,
) -> list[LedgerRow]:
    """Every retrieval of the flow's runs in its database or register box (total and per
    source), and those that are duplicates: retrieved again in a later run, or merged into
    another record's publication (with the rule that merged them)."""
    rows: list[LedgerRow] = []
    order = order or LedgerOrder.of(records, publications)
    by_record, first_retrieval = order.publication_of, order.first_retrieval
    unknown: list[str] = []
    for ref in order.records:
        if ref.run not in runs:
            continue
        box = "register_results" if ref.source in settings.registers else "database_results"
        pid = by_record.get(ref.record_id, "")
        for each_box in (box, box.replace("_results", "_specific_results")):
            rows.append(
                _row(
                    flow,
                    ref.run,
                    each_box,
                    ref.record_id,
                    "record",
                    publication_id=pid,
                    source=ref.source,
                    detail=settings.label(ref.source),
                )
            )
        if not pid:
            unknown.append(ref.record_id)
            continue
        if first_retrieval[ref.record_id] != ref.run:
            why = f"retrieved again (first in run {first_retrieval[ref.record_id]})"
        elif ref.record_id != pid:
            rule = duplicate_rules.get(ref.record_id, "rule not recorded")
            why = f"duplicate of {pid} ({rule})"
        else:
            continue
        rows.append(
            _row(
                flow,
                ref.run,
                "duplicates",
                ref.record_id,
                "record",
                publication_id=pid,
                source=ref.source,
                detail=why,
            )
        )
    if unknown:
        log.warning(
            "%s: %d record(s) belong to no publication of unique.tsv (first: %s)",
            flow,
            len(unknown),
            unknown[0],
        )
    return rows


def previous_version_rows(flow: str, previous: FlowTotals) -> list[LedgerRow]:
    """The studies and reports of the previous version of the review."""
    rows = [
        _row(
            flow,
            "previous",
            "previous_studies",
            study_id,
            "study",
            study_id=study_id,
            publication_id=reports,
        )
        for study_id, reports in previous.studies.items()
    ]
    rows += [
        _row(
            flow,
            "previous",
            "previous_reports",
            report_id,
            "report",
            study_id=study_id,
            publication_id=report_id,
        )
        for report_id, study_id in previous.reports.items()
    ]
    return rows


def screening_rows(
    flow: str,
    runs: set[str],
    publications: Mapping[str, Publication],
    statuses: Mapping[str, Status],
    order: LedgerOrder | None = None,
) -> tuple[list[LedgerRow], NewReports]:
    """Each publication first seen in the flow's runs, in every box its screening status
    passes through (:data:`~livingreview.prisma.template.STATUS_BOXES`); the included ones
    are the flow's new reports."""
    rows: list[LedgerRow] = []
    new_reports: NewReports = {}
    ordered = (
        order.publications
        if order
        else sorted(publications, key=lambda p: (publications[p].first_run, p))
    )
    for pid in ordered:
        publication = publications[pid]
        status = statuses.get(pid)
        if publication.first_run not in runs or status is None:
            continue
        reason = status.reasons[0] if status.reasons else ""
        note = f"also: {'; '.join(status.reasons[1:])}" if len(status.reasons) > 1 else ""
        for box in STATUS_BOXES[status.status]:
            detail = ""
            if box == "dbr_excluded":
                detail = reason or NO_REASON
            elif box == "records_excluded":
                detail = reason
            rows.append(
                _row(
                    flow,
                    publication.first_run,
                    box,
                    pid,
                    "publication",
                    publication_id=pid,
                    study_id=status.study_id,
                    detail=detail,
                    note=note if detail else "",
                )
            )
        if status.status == "included":
            new_reports[pid] = (status.study_id, publication.first_run)
    return rows, new_reports


def other_method_rows(
    flow: str,
    runs: set[str],
    other_methods: Sequence[BaselineStudy],
    settings: FlowSettings,
) -> tuple[list[LedgerRow], NewReports]:
    """Studies no database search can find (the unpublished cohort), identified via the
    configured other-methods box, sought, assessed and included as one report each."""
    rows: list[LedgerRow] = []
    new_reports: NewReports = {}
    run = min(runs) if runs else ""
    for study in other_methods:
        report_id = f"unpublished:{study.study_id}"
        for box in (
            settings.unpublished_identified_via,
            "other_sought_reports",
            "other_assessed",
            "new_reports",
        ):
            rows.append(
                _row(
                    flow,
                    run,
                    box,
                    report_id,
                    "report",
                    publication_id=report_id,
                    study_id=study.study_id,
                    detail=f"{study.label} (unpublished)",
                )
            )
        new_reports[report_id] = (study.study_id, run)
    return rows, new_reports


def study_rows(
    flow: str, previous: FlowTotals, new_reports: NewReports
) -> tuple[list[LedgerRow], FlowTotals]:
    """New studies (studies of new reports absent from the previous version), the new reports
    that belong to a study of the previous version, then the total studies and reports: the
    previous version plus what this flow added."""
    totals = FlowTotals(dict(previous.studies), dict(previous.reports))
    new_studies: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for report_id, (study_id, run) in new_reports.items():
        totals.reports[report_id] = study_id
        if study_id not in previous.studies:
            new_studies[study_id].append((run, report_id))
    rows: list[LedgerRow] = []
    for study_id, reports in sorted(new_studies.items()):
        reports.sort()
        joined = "; ".join(r for _, r in reports)
        rows.append(
            _row(
                flow,
                reports[0][0],
                "new_studies",
                study_id,
                "study",
                study_id=study_id,
                publication_id=joined,
            )
        )
        totals.studies[study_id] = joined
    rows += [  # included reports of a study the previous version already had
        _row(
            flow,
            run,
            "known_study_reports",
            report_id,
            "report",
            study_id=study_id,
            publication_id=report_id,
        )
        for report_id, (study_id, run) in sorted(new_reports.items())
        if study_id in previous.studies
    ]
    rows += [
        _row(
            flow,
            "total",
            "total_studies",
            study_id,
            "study",
            study_id=study_id,
            publication_id=reports,
        )
        for study_id, reports in sorted(totals.studies.items())
    ]
    rows += [
        _row(
            flow,
            "total",
            "total_reports",
            report_id,
            "report",
            study_id=study_id,
            publication_id=report_id,
        )
        for report_id, study_id in sorted(totals.reports.items())
    ]
    return rows, totals


def build_ledger(
    records: Sequence[RecordRef],
    publications: Mapping[str, Publication],
    statuses: Mapping[str, Status],
    duplicate_rules: Mapping[str, str],
    baseline_studies: Sequence[BaselineStudy],
    settings: FlowSettings,
) -> list[LedgerRow]:
    """The ledger of every flow: baseline, each update run in date order, cumulative.

    The previous version of each update run is the baseline flow's total plus the studies
    earlier runs added; the cumulative flow's previous version is the published review.
    """
    all_runs = {r.run for r in records} | {p.first_run for p in publications.values()}
    baseline_runs = {r for r in all_runs if r <= settings.baseline_until}
    update_runs = sorted(r for r in all_runs if r > settings.baseline_until)
    unpublished = [s for s in baseline_studies if s.unpublished]
    args = (records, publications, statuses, duplicate_rules, settings)
    order = LedgerOrder.of(records, publications)
    ledger, baseline_totals = build_flow(
        BASELINE_FLOW,
        baseline_runs,
        *args,
        previous=None,
        other_methods=unpublished,
        order=order,
    )
    previous = baseline_totals
    for run in update_runs:
        rows, previous = build_flow(run, {run}, *args, previous=previous, order=order)
        ledger += rows
    rows, _ = build_flow(
        CUMULATIVE_FLOW, set(update_runs), *args, previous=baseline_totals, order=order
    )
    ledger += rows
    return ledger


def flows_of(ledger: Iterable[LedgerRow]) -> list[str]:
    """Flow names in ledger order (baseline, runs by date, cumulative)."""
    return list(dict.fromkeys(row["flow"] for row in ledger))
