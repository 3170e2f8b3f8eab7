"""PRISMA 2020 flow of the living review, counted from records and checked on every run.

Consumes

* the record tables of every source and run (PubMed snapshots
  ``results/search/pubmed/<date>/records.tsv`` and imported exports
  ``results/imports/<database>/<date>/records.tsv``; only ``record_id``, ``source`` and ``run``
  are read);
* the deduplication stage's ``unique.tsv`` (publication_id, member_record_ids, first_run),
  ``duplicates.tsv`` (why each record joined a publication) and ``runs.tsv`` (its own
  per-run counts, cross-checked here);
* the screening stage's ``status.tsv`` (one status per publication, exclusion reason,
  study_id of included reports);
* the published review's ``studies.tsv`` (the previous version: 20 studies from the
  literature and the unpublished Dutch cohort).

Produces

* the **ledger**: one row per (flow, box, item) where ``box`` is the ``data`` name of the
  PRISMA2020 R package's CSV template (``database_results``, ``duplicates``, ...) and the item
  is a record (``record_id`` + ``run``), a publication/report (``publication_id``) or a
  study (``study_id``). Every number of every diagram is the number of ledger rows of its
  flow and box, so an auditor can check each one against the records behind it;
* ``prisma.csv`` in that template's exact layout (columns ``data, node, box, description,
  boxtext, tooltips, url, n``; several databases or reasons in one cell as
  ``"Label, n; Label, n"``), loadable by ``PRISMA2020::PRISMA_data()`` unchanged;
* a wide count table (one column per flow) for the report and the diagram.

Flows: ``baseline`` (the published review, reconstructed from the baseline runs' records,
new-review layout), one flow per update run (records first retrieved in that run; the
previous version is the baseline plus earlier runs) and ``cumulative`` (every update run
since the published review). Records still awaiting a decision are counted in two extra
boxes, ``awaiting_title_abstract`` and ``awaiting_full_text`` (appended to ``prisma.csv``
with names the R package ignores), so nothing is silently dropped and the identities hold
with them.

The arithmetic identities of the diagram are checked as *set* identities on the ledger
(identified - duplicates - removed - awaiting = screened, ...), so a violation names the
boxes and the record ids that break it (:class:`~livingreview.errors.ConsistencyError`).

The template rows below reproduce ``inst/extdata/PRISMA.csv`` of the PRISMA2020 R package
(Haddaway NR, Page MJ, Pritchard CC, McGuinness LA; Copyright 2020 Neal R Haddaway; MIT
licence, see ``tests/fixtures/prisma/LICENSE-PRISMA2020.md``).
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConsistencyError, InputFileError, ValidationError
from .io import read_tsv, write_text, write_tsv

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ template

#: Columns of the PRISMA2020 package's CSV template, in order.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "data",
    "node",
    "box",
    "description",
    "boxtext",
    "tooltips",
    "url",
    "n",
)

#: The template rows (inst/extdata/PRISMA.csv, PRISMA2020 package, MIT), ``n`` as shipped.
TEMPLATE_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "NA",
        "node4",
        "prevstud",
        "Grey title box; Previous studies",
        "Previous studies",
        "Grey title box; Previous studies",
        "prevstud.html",
        "0",
    ),
    (
        "previous_studies",
        "node5",
        "box1",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "previous_studies.html",
        "0",
    ),
    (
        "previous_reports",
        "NA",
        "box1",
        "Reports of studies included in previous version of review",
        "Reports of studies included in previous version of review",
        "NA",
        "previous_reports.html",
        "0",
    ),
    (
        "NA",
        "node6",
        "newstud",
        "Yellow title box; Identification of new studies via databases and registers",
        "Identification of new studies via databases and registers",
        "Yellow title box; Identification of new studies via databases and registers",
        "newstud.html",
        "0",
    ),
    (
        "database_results",
        "node7",
        "box2",
        "Records identified from: Databases",
        "Databases",
        "Records identified from: Databases and Registers",
        "database_results.html",
        "0",
    ),
    (
        "database_specific_results",
        "NA",
        "box2",
        "Records identified from: specific databases",
        "Specific Databases",
        "NA",
        "database_results.html",
        "Database 1, xxx; Database 2, xxx; Database 3, xxx",
    ),
    (
        "register_results",
        "NA",
        "box2",
        "Records identified from: Registers",
        "Registers",
        "NA",
        "NA",
        "0",
    ),
    (
        "register_specific_results",
        "NA",
        "box2",
        "Records identified from: specific registers",
        "Specific Registers",
        "NA",
        "database_results.html",
        "Register 1, xxx; Register 2, xxx; Register 3, xxx",
    ),
    (
        "NA",
        "node16",
        "othstud",
        "Grey title box; Identification of new studies via other methods",
        "Identification of new studies via other methods",
        "Grey title box; Identification of new studies via other methods",
        "othstud.html",
        "0",
    ),
    (
        "website_results",
        "node17",
        "box11",
        "Records identified from: Websites",
        "Websites",
        "Records identified from: Websites, Organisations and Citation Searching",
        "website_results.html",
        "0",
    ),
    (
        "organisation_results",
        "",
        "box11",
        "Records identified from: Organisations",
        "Organisations",
        "NA",
        "NA",
        "0",
    ),
    (
        "citations_results",
        "NA",
        "box11",
        "Records identified from: Citation searching",
        "Citation searching",
        "NA",
        "NA",
        "0",
    ),
    (
        "duplicates",
        "node8",
        "box3",
        "Duplicate records",
        "Duplicate records",
        "Duplicate records",
        "duplicates.html",
        "0",
    ),
    (
        "excluded_automatic",
        "NA",
        "box3",
        "Records marked as ineligible by automation tools",
        "Records marked as ineligible by automation tools",
        "NA",
        "NA",
        "0",
    ),
    (
        "excluded_other",
        "NA",
        "box3",
        "Records removed for other reasons",
        "Records removed for other reasons",
        "NA",
        "NA",
        "0",
    ),
    (
        "records_screened",
        "node9",
        "box4",
        "Records screened (databases and registers)",
        "Records screened",
        "Records screened (databases and registers)",
        "records_screened.html",
        "0",
    ),
    (
        "records_excluded",
        "node10",
        "box5",
        "Records excluded (databases and registers)",
        "Records excluded",
        "Records excluded (databases and registers)",
        "records_excluded.html",
        "0",
    ),
    (
        "dbr_sought_reports",
        "node11",
        "box6",
        "Reports sought for retrieval (databases and registers)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (databases and registers)",
        "dbr_sought_reports.html",
        "0",
    ),
    (
        "dbr_notretrieved_reports",
        "node12",
        "box7",
        "Reports not retrieved (databases and registers)",
        "Reports not retrieved",
        "Reports not retrieved (databases and registers)",
        "dbr_notretrieved_reports.html",
        "0",
    ),
    (
        "other_sought_reports",
        "node18",
        "box12",
        "Reports sought for retrieval (other)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (other)",
        "other_sought_reports.html",
        "0",
    ),
    (
        "other_notretrieved_reports",
        "node19",
        "box13",
        "Reports not retrieved (other)",
        "Reports not retrieved",
        "Reports not retrieved (other)",
        "other_notretrieved_reports.html",
        "0",
    ),
    (
        "dbr_assessed",
        "node13",
        "box8",
        "Reports assessed for eligibility (databases and registers)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (databases and registers)",
        "dbr_assessed.html",
        "0",
    ),
    (
        "dbr_excluded",
        "node14",
        "box9",
        "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (databases and registers)",
        "dbrexcludedrecords.html",
        "Reason1, xxx; Reason2, xxx; Reason3, xxx",
    ),
    (
        "other_assessed",
        "node20",
        "box14",
        "Reports assessed for eligibility (other)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (other)",
        "other_assessed.html",
        "0",
    ),
    (
        "other_excluded",
        "node21",
        "box15",
        "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (other)",
        "other_excluded.html",
        "Reason1, xxx; Reason2, xxx; Reason3, xxx",
    ),
    (
        "new_studies",
        "node15",
        "box10",
        "New studies included in review",
        "New studies included in review",
        "New studies included in review",
        "new_studies.html",
        "0",
    ),
    (
        "new_reports",
        "NA",
        "box10",
        "Reports of new included studies",
        "Reports of new included studies",
        "NA",
        "NA",
        "0",
    ),
    (
        "total_studies",
        "node22",
        "box16",
        "Total studies included in review",
        "Total studies included in review",
        "Total studies included in review",
        "total_studies.html",
        "0",
    ),
    (
        "total_reports",
        "NA",
        "box16",
        "Reports of total included studies",
        "Reports of total included studies",
        "NA",
        "NA",
        "0",
    ),
    (
        "identification",
        "node1",
        "identification",
        "Blue identification box",
        "Identification",
        "Blue identification box",
        "identification.html",
        "0",
    ),
    (
        "screening",
        "node2",
        "screening",
        "Blue screening box",
        "Screening",
        "Blue screening box",
        "screening.html",
        "0",
    ),
    (
        "included",
        "node3",
        "included",
        "Blue included box",
        "Included",
        "Blue included box",
        "included.html",
        "0",
    ),
)

#: Boxes this project adds so that undecided records are shown, never dropped. Their names
#: match none of the patterns PRISMA_data() greps for, so the package ignores them.
EXTENSION_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "awaiting_title_abstract",
        "NA",
        "box4",
        "Records awaiting title/abstract screening (living review extension; not drawn by PRISMA2020)",
        "Records awaiting screening",
        "NA",
        "NA",
        "0",
    ),
    (
        "awaiting_full_text",
        "NA",
        "box8",
        "Reports retrieved, awaiting full-text assessment (living review extension; not drawn by PRISMA2020)",
        "Reports awaiting assessment",
        "NA",
        "NA",
        "0",
    ),
)

#: Boxes whose ``n`` cell lists several labelled counts ("Label, n; Label, n").
MULTI_BOXES: tuple[str, ...] = (
    "database_specific_results",
    "register_specific_results",
    "dbr_excluded",
    "other_excluded",
)
#: Section rows of the template: they hold no count.
SECTION_BOXES: tuple[str, ...] = ("identification", "screening", "included")
#: Every box the ledger may use, in template order.
BOXES: tuple[str, ...] = tuple(
    row[0]
    for row in (*TEMPLATE_ROWS, *EXTENSION_ROWS)
    if row[0] != "NA" and row[0] not in SECTION_BOXES
)
OTHER_METHOD_BOXES: tuple[str, ...] = (
    "website_results",
    "organisation_results",
    "citations_results",
)

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

# Screening status -> the boxes a publication of the databases/registers arm passes through.
STATUS_BOXES: dict[str, tuple[str, ...]] = {
    "awaiting_title_abstract": ("awaiting_title_abstract",),
    "excluded_title_abstract": ("records_screened", "records_excluded"),
    "awaiting_full_text": ("records_screened", "dbr_sought_reports", "awaiting_full_text"),
    "full_text_not_retrieved": (
        "records_screened",
        "dbr_sought_reports",
        "dbr_notretrieved_reports",
    ),
    "excluded_full_text": (
        "records_screened",
        "dbr_sought_reports",
        "dbr_assessed",
        "dbr_excluded",
    ),
    "included": ("records_screened", "dbr_sought_reports", "dbr_assessed", "new_reports"),
}
NO_REASON = "reason not recorded"


def csv_label(label: str) -> str:
    """A label safe inside the template's ``"Label, n; Label, n"`` cells.

    PRISMA_data() splits on ``;`` and takes the text before the first comma as the label,
    so both are replaced.

    >>> csv_label("Review, guideline, editorial or comment; no data")
    'Review / guideline / editorial or comment: no data'
    """
    return " ".join(label.replace(";", ":").replace(",", " /").split())


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class RecordRef:
    """One retrieval of one record: a row of a source's record table."""

    record_id: str
    source: str
    run: str


@dataclass(frozen=True)
class Publication:
    publication_id: str
    first_run: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    publication_id: str
    status: str
    reasons: tuple[str, ...] = ()
    study_id: str = ""


@dataclass(frozen=True)
class BaselineStudy:
    study_id: str
    label: str
    unpublished: bool


@dataclass(frozen=True)
class FlowSettings:
    """The ``prisma:`` config section plus the date that ends the published review's search."""

    baseline_until: str
    registers: frozenset[str] = frozenset()
    source_labels: Mapping[str, str] = field(default_factory=dict)
    unpublished_designs: frozenset[str] = frozenset({"unpublished case series"})
    unpublished_identified_via: str = "organisation_results"

    def label(self, source: str) -> str:
        return self.source_labels.get(source, source)


def read_record_refs(paths: Sequence[str | Path]) -> list[RecordRef]:
    """Every (record_id, source, run) of the record tables; a repeat within one run counts once.

    Raises:
        InputFileError: a table lacks the columns or has an empty id, source or run.
    """
    seen: set[tuple[str, str]] = set()
    refs: list[RecordRef] = []
    for path in paths:
        for row in read_tsv(path, required=("record_id", "source", "run")):
            values = {c: row[c].strip() for c in ("record_id", "source", "run")}
            for column, value in values.items():
                if not value:
                    raise InputFileError(
                        path,
                        "empty cell",
                        line=int(row["__line__"]),
                        field=column,
                        allowed="every record needs record_id, source and run; rerun its stage",
                    )
            key = (values["record_id"], values["run"])
            if key in seen:
                continue
            seen.add(key)
            refs.append(RecordRef(**values))
    return refs


def read_publications(path: str | Path) -> dict[str, Publication]:
    """``unique.tsv`` of the dedup stage: publication -> first run and member records."""
    publications: dict[str, Publication] = {}
    for row in read_tsv(path, required=("publication_id", "member_record_ids", "first_run")):
        pid = row["publication_id"].strip()
        if not pid or pid in publications:
            raise InputFileError(
                path,
                "empty or repeated publication_id",
                line=int(row["__line__"]),
                field="publication_id",
                value=pid,
                allowed="one row per publication; rerun dedup",
            )
        members = tuple(m.strip() for m in row["member_record_ids"].split(";") if m.strip()) or (
            pid,
        )
        publications[pid] = Publication(pid, row["first_run"].strip(), members)
    return publications


def read_duplicate_rules(path: str | Path) -> dict[str, str]:
    """``duplicates.tsv``: record_id -> how it was matched (rule and score), for the ledger."""
    rules: dict[str, str] = {}
    for row in read_tsv(path, required=("record_id", "duplicate_of", "rule")):
        score = row.get("score", "").strip()
        rules[row["record_id"].strip()] = row["rule"].strip() + (f" {score}" if score else "")
    return rules


def read_statuses(path: str | Path) -> dict[str, Status]:
    """``status.tsv`` of the screening stage.

    Raises:
        ValidationError: an unknown status, a repeated publication, or an inclusion without
            a study_id.
    """
    statuses: dict[str, Status] = {}
    for row in read_tsv(path, required=("publication_id", "status", "study_id")):
        line = int(row["__line__"])
        pid, status = row["publication_id"].strip(), row["status"].strip()
        if status not in STATUS_BOXES:
            raise ValidationError(
                path,
                "unknown screening status",
                line=line,
                field="status",
                value=status,
                allowed=", ".join(STATUS_BOXES),
            )
        if pid in statuses:
            raise ValidationError(
                path,
                "publication listed twice",
                line=line,
                field="publication_id",
                value=pid,
                allowed="one row per publication; rerun screening",
            )
        study = row["study_id"].strip()
        if status == "included" and not study:
            raise ValidationError(
                path,
                "an included report has no study_id",
                line=line,
                field="study_id",
                allowed="the study the report belongs to; fix the full-text sheet and rerun screening",
            )
        labels = row.get("exclusion_reason_label", "") or row.get("exclusion_reason", "")
        reasons = tuple(r.strip() for r in labels.split(";") if r.strip())
        statuses[pid] = Status(pid, status, reasons, study)
    return statuses


def read_baseline_studies(
    path: str | Path, unpublished_designs: Iterable[str]
) -> list[BaselineStudy]:
    """The previous version's studies; unpublished ones count as found by other methods."""
    designs = {d.strip().lower() for d in unpublished_designs}
    studies = []
    for row in read_tsv(path, required=("study_id", "label", "design")):
        studies.append(
            BaselineStudy(
                row["study_id"].strip(),
                row["label"].strip(),
                row["design"].strip().lower() in designs,
            )
        )
    return studies


# ------------------------------------------------------------------------------ ledger


def _row(flow: str, run: str, box: str, ident: str, id_type: str, **extra: str) -> dict[str, str]:
    row = {"flow": flow, "run": run, "box": box, "id": ident, "id_type": id_type}
    for column in LEDGER_COLUMNS[5:]:
        row[column] = extra.get(column, "")
    return row


@dataclass
class _Totals:
    studies: dict[str, str] = field(default_factory=dict)  # study_id -> reports ("; ")
    reports: dict[str, str] = field(default_factory=dict)  # report id -> study_id


def build_flow(
    flow: str,
    runs: set[str],
    records: Sequence[RecordRef],
    publications: Mapping[str, Publication],
    statuses: Mapping[str, Status],
    duplicate_rules: Mapping[str, str],
    settings: FlowSettings,
    previous: _Totals | None,
    other_methods: Sequence[BaselineStudy] = (),
) -> tuple[list[dict[str, str]], _Totals]:
    """Ledger rows of one flow (records of ``runs``) and the studies/reports it totals.

    Nothing is repaired here: a record unknown to dedup or a publication without a status is
    simply absent from the boxes it should reach, and :func:`check_identities` names it.
    """
    rows: list[dict[str, str]] = []
    by_record = {m: p.publication_id for p in publications.values() for m in p.members}
    first_retrieval: dict[str, str] = {}
    for ref in sorted(records, key=lambda r: r.run):
        first_retrieval.setdefault(ref.record_id, ref.run)
    unknown: list[str] = []
    for ref in sorted(records, key=lambda r: (r.run, r.source, r.record_id)):
        if ref.run not in runs:
            continue
        is_register = ref.source in settings.registers
        box = "register_results" if is_register else "database_results"
        label = settings.label(ref.source)
        pid = by_record.get(ref.record_id, "")
        common = dict(publication_id=pid, source=ref.source)
        rows.append(_row(flow, ref.run, box, ref.record_id, "record", detail=label, **common))
        rows.append(
            _row(
                flow,
                ref.run,
                box.replace("_results", "_specific_results"),
                ref.record_id,
                "record",
                detail=label,
                **common,
            )
        )
        if not pid:
            unknown.append(ref.record_id)
            continue
        if first_retrieval[ref.record_id] != ref.run:
            rows.append(
                _row(
                    flow,
                    ref.run,
                    "duplicates",
                    ref.record_id,
                    "record",
                    detail=f"retrieved again (first in run {first_retrieval[ref.record_id]})",
                    **common,
                )
            )
        elif ref.record_id != pid:
            rows.append(
                _row(
                    flow,
                    ref.run,
                    "duplicates",
                    ref.record_id,
                    "record",
                    detail=f"duplicate of {pid} ({duplicate_rules.get(ref.record_id, 'rule not recorded')})",
                    **common,
                )
            )
    if unknown:
        log.warning(
            "%s: %d record(s) belong to no publication of unique.tsv (first: %s)",
            flow,
            len(unknown),
            unknown[0],
        )

    previous = previous or _Totals()
    if flow != BASELINE_FLOW:
        for study_id, reports in previous.studies.items():
            rows.append(
                _row(
                    flow,
                    "previous",
                    "previous_studies",
                    study_id,
                    "study",
                    study_id=study_id,
                    publication_id=reports,
                )
            )
        for report_id, study_id in previous.reports.items():
            rows.append(
                _row(
                    flow,
                    "previous",
                    "previous_reports",
                    report_id,
                    "report",
                    study_id=study_id,
                    publication_id=report_id,
                )
            )

    new_reports: dict[str, tuple[str, str]] = {}  # report -> (study, run)
    for pid in sorted(publications, key=lambda p: (publications[p].first_run, p)):
        publication = publications[pid]
        if publication.first_run not in runs:
            continue
        status = statuses.get(pid)
        if status is None:
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

    for study in other_methods:
        report_id = f"unpublished:{study.study_id}"
        run = min(runs) if runs else ""
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

    totals = _Totals(dict(previous.studies), dict(previous.reports))
    new_studies: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for report_id, (study_id, run) in new_reports.items():
        totals.reports[report_id] = study_id
        if study_id not in previous.studies:
            new_studies[study_id].append((run, report_id))
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
    for study_id, reports in sorted(totals.studies.items()):
        rows.append(
            _row(
                flow,
                "total",
                "total_studies",
                study_id,
                "study",
                study_id=study_id,
                publication_id=reports,
            )
        )
    for report_id, study_id in sorted(totals.reports.items()):
        rows.append(
            _row(
                flow,
                "total",
                "total_reports",
                report_id,
                "report",
                study_id=study_id,
                publication_id=report_id,
            )
        )
    return rows, totals


def build_ledger(
    records: Sequence[RecordRef],
    publications: Mapping[str, Publication],
    statuses: Mapping[str, Status],
    duplicate_rules: Mapping[str, str],
    baseline_studies: Sequence[BaselineStudy],
    settings: FlowSettings,
) -> list[dict[str, str]]:
    """The ledger of every flow: baseline, each update run in date order, cumulative.

    The previous version of each update run is the baseline flow's total plus the studies
    earlier runs added; the cumulative flow's previous version is the published review.
    """
    all_runs = {r.run for r in records} | {p.first_run for p in publications.values()}
    baseline_runs = {r for r in all_runs if r <= settings.baseline_until}
    update_runs = sorted(r for r in all_runs if r > settings.baseline_until)
    unpublished = [s for s in baseline_studies if s.unpublished]
    args = (records, publications, statuses, duplicate_rules, settings)
    ledger, baseline_totals = build_flow(
        BASELINE_FLOW, baseline_runs, *args, previous=None, other_methods=unpublished
    )
    previous = baseline_totals
    for run in update_runs:
        rows, previous = build_flow(run, {run}, *args, previous=previous)
        ledger += rows
    rows, _ = build_flow(CUMULATIVE_FLOW, set(update_runs), *args, previous=baseline_totals)
    ledger += rows
    return ledger


def flows_of(ledger: Iterable[Mapping[str, str]]) -> list[str]:
    """Flow names in ledger order (baseline, runs by date, cumulative)."""
    return list(dict.fromkeys(row["flow"] for row in ledger))


# ------------------------------------------------------------------------------ counts


def flow_counts(ledger: Iterable[Mapping[str, str]], flow: str) -> dict[str, int]:
    """Number of ledger rows per box of one flow (every box present, 0 when empty)."""
    counts = dict.fromkeys(BOXES, 0)
    for row in ledger:
        if row["flow"] == flow:
            counts[row["box"]] = counts.get(row["box"], 0) + 1
    return counts


def flow_breakdowns(
    ledger: Iterable[Mapping[str, str]], flow: str
) -> dict[str, list[tuple[str, int]]]:
    """Labelled counts of the multi-valued boxes of one flow, most frequent first."""
    counters: dict[str, Counter[str]] = {box: Counter() for box in MULTI_BOXES}
    for row in ledger:
        if row["flow"] == flow and row["box"] in counters:
            counters[row["box"]][row["detail"] or NO_REASON] += 1
    return {
        box: sorted(c.items(), key=lambda item: (-item[1], item[0])) for box, c in counters.items()
    }


def multi_cell(items: Sequence[tuple[str, int]]) -> str:
    """The template's multi-value cell.

    >>> multi_cell([("MEDLINE (PubMed)", 12), ("Embase", 30)])
    'MEDLINE (PubMed), 12; Embase, 30'
    >>> multi_cell([])
    '0'
    """
    if not items:
        return "0"
    return "; ".join(f"{csv_label(label)}, {n}" for label, n in items)


def prisma_csv_rows(ledger: Sequence[Mapping[str, str]], flow: str) -> list[dict[str, str]]:
    """The template rows with ``n`` filled from the ledger, then the extension rows."""
    counts = flow_counts(ledger, flow)
    breakdowns = flow_breakdowns(ledger, flow)
    rows = []
    for values in (*TEMPLATE_ROWS, *EXTENSION_ROWS):
        row = dict(zip(TEMPLATE_COLUMNS, values, strict=True))
        data = row["data"]
        if data in MULTI_BOXES:
            row["n"] = multi_cell(breakdowns[data])
        elif data in counts:
            row["n"] = str(counts[data])
        rows.append(row)
    return rows


def render_prisma_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """CSV text as R's ``write.csv``-style template: comma-separated, quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TEMPLATE_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in TEMPLATE_COLUMNS])
    return buffer.getvalue()


def parse_multi_cell(cell: str) -> list[tuple[str, int]]:
    """Inverse of :func:`multi_cell`, parsed the way PRISMA_data() does.

    >>> parse_multi_cell("PubMed, 12; Embase, 30")
    [('PubMed', 12), ('Embase', 30)]
    >>> parse_multi_cell("0")
    []
    """
    if not any(ch not in "0123456789," for ch in cell):
        return []
    items = []
    for part in cell.split(";"):
        label, _, number = part.strip().partition(",")
        items.append((label.strip(), int(number.replace(",", "").strip() or 0)))
    return items


def count_table(ledger: Sequence[Mapping[str, str]]) -> tuple[list[dict[str, object]], list[str]]:
    """Wide table: one row per box (and per label of the multi boxes), one column per flow."""
    flows = flows_of(ledger)
    per_flow = {f: (flow_counts(ledger, f), flow_breakdowns(ledger, f)) for f in flows}
    rows: list[dict[str, object]] = []
    for box in BOXES:
        rows.append({"box": box, "label": "", **{f: per_flow[f][0][box] for f in flows}})
        if box in MULTI_BOXES:
            labels = dict.fromkeys(label for f in flows for label, _ in per_flow[f][1][box])
            for label in labels:
                rows.append(
                    {
                        "box": box,
                        "label": label,
                        **{f: dict(per_flow[f][1][box]).get(label, 0) for f in flows},
                    }
                )
    return rows, ["box", "label", *flows]


# ------------------------------------------------------------------------------ identities


def _ids(
    ledger: Iterable[Mapping[str, str]], flow: str, *boxes: str, with_run: bool = False
) -> list[str]:
    return [
        f"{r['id']}@{r['run']}" if with_run else r["id"]
        for r in ledger
        if r["flow"] == flow and r["box"] in boxes
    ]


def _show(ids: Iterable[str], limit: int = 12) -> str:
    items = sorted(set(ids))
    text = ", ".join(items[:limit])
    return text + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


@dataclass
class _Violations:
    problems: list[str] = field(default_factory=list)

    def expect_equal(
        self,
        flow: str,
        identity: str,
        left_name: str,
        left: Iterable[str],
        right_name: str,
        right: Iterable[str],
    ) -> None:
        left_list, right_list = list(left), list(right)
        a, b = set(left_list), set(right_list)
        only_left, only_right = a - b, b - a
        repeats = [i for i, n in Counter(left_list).items() if n > 1] + [
            i for i, n in Counter(right_list).items() if n > 1
        ]
        if only_left or only_right or repeats or len(left_list) != len(right_list):
            parts = [
                f"[{flow}] {identity}: {left_name} = {len(left_list)} but {right_name} = {len(right_list)}"
            ]
            if only_left:
                parts.append(f"only in {left_name}: {_show(only_left)}")
            if only_right:
                parts.append(f"only in {right_name}: {_show(only_right)}")
            if repeats:
                parts.append(f"counted twice: {_show(repeats)}")
            self.problems.append("; ".join(parts))

    def expect_disjoint(self, flow: str, identity: str, named: Mapping[str, Iterable[str]]) -> None:
        seen: dict[str, str] = {}
        for name, ids in named.items():
            for ident in ids:
                if ident in seen and seen[ident] != name:
                    self.problems.append(
                        f"[{flow}] {identity}: {ident} is in both {seen[ident]} and {name}"
                    )
                seen.setdefault(ident, name)


def _strip_run(keys: Iterable[str]) -> list[str]:
    return [k.rsplit("@", 1)[0] for k in keys]


def _minus(left: Sequence[str], *subtract: Sequence[str]) -> list[str]:
    remove = Counter(i for s in subtract for i in s)
    out = []
    for item in left:
        if remove[item]:
            remove[item] -= 1
        else:
            out.append(item)
    return out


def identity_problems(ledger: Sequence[Mapping[str, str]]) -> list[str]:
    """Every broken identity of every flow, as messages naming the boxes and the ids."""
    v = _Violations()
    flows = flows_of(ledger)
    for flow in flows:
        ids = lambda *boxes, **kw: _ids(ledger, flow, *boxes, **kw)  # noqa: E731
        identified = ids("database_results", "register_results", with_run=True)
        for total, specific in (
            ("database_results", "database_specific_results"),
            ("register_results", "register_specific_results"),
        ):
            v.expect_equal(
                flow,
                f"{total} = sum of {specific}",
                total,
                ids(total, with_run=True),
                specific,
                ids(specific, with_run=True),
            )
        duplicates = ids("duplicates", with_run=True)
        v.expect_equal(
            flow,
            "duplicates are identified records",
            "duplicates",
            duplicates,
            "duplicates also in database_results/register_results",
            [d for d in duplicates if d in set(identified)],
        )
        removed = {
            box: ids(box)
            for box in (
                "excluded_automatic",
                "excluded_other",
                "awaiting_title_abstract",
                "records_screened",
            )
        }
        v.expect_disjoint(flow, "a record reaches one box after deduplication", removed)
        v.expect_equal(
            flow,
            "identified - duplicates - excluded_automatic - excluded_other - awaiting_title_abstract = records_screened",
            "identified records not removed as duplicates",
            _strip_run(_minus(identified, duplicates)),
            "excluded_automatic + excluded_other + awaiting_title_abstract + records_screened",
            [i for box in removed.values() for i in box],
        )
        screened, excluded = ids("records_screened"), ids("records_excluded")
        v.expect_equal(
            flow,
            "records_screened - records_excluded = dbr_sought_reports",
            "records_screened - records_excluded",
            _minus(screened, excluded),
            "dbr_sought_reports",
            ids("dbr_sought_reports"),
        )
        v.expect_equal(
            flow,
            "records_excluded are screened records",
            "records_excluded",
            excluded,
            "records_excluded also in records_screened",
            [e for e in excluded if e in set(screened)],
        )
        sought = ids("dbr_sought_reports")
        not_retrieved, waiting = ids("dbr_notretrieved_reports"), ids("awaiting_full_text")
        v.expect_disjoint(
            flow,
            "a sought report is not retrieved, awaiting or assessed",
            {
                "dbr_notretrieved_reports": not_retrieved,
                "awaiting_full_text": waiting,
                "dbr_assessed": ids("dbr_assessed"),
            },
        )
        v.expect_equal(
            flow,
            "dbr_sought_reports - dbr_notretrieved_reports - awaiting_full_text = dbr_assessed",
            "dbr_sought_reports - dbr_notretrieved_reports - awaiting_full_text",
            _minus(sought, not_retrieved, waiting),
            "dbr_assessed",
            ids("dbr_assessed"),
        )
        assessed, dbr_excluded = ids("dbr_assessed"), ids("dbr_excluded")
        other_identified = ids(*OTHER_METHOD_BOXES)
        other_sought, other_not = ids("other_sought_reports"), ids("other_notretrieved_reports")
        v.expect_equal(
            flow,
            "other_sought_reports come from records identified by other methods",
            "other_sought_reports",
            other_sought,
            "other_sought_reports also identified by other methods",
            [s for s in other_sought if s in set(other_identified)],
        )
        v.expect_equal(
            flow,
            "other_sought_reports - other_notretrieved_reports = other_assessed",
            "other_sought_reports - other_notretrieved_reports",
            _minus(other_sought, other_not),
            "other_assessed",
            ids("other_assessed"),
        )
        v.expect_equal(
            flow,
            "dbr_assessed - dbr_excluded + other_assessed - other_excluded = new_reports",
            "dbr_assessed - dbr_excluded + other_assessed - other_excluded",
            _minus(assessed, dbr_excluded) + _minus(ids("other_assessed"), ids("other_excluded")),
            "new_reports",
            ids("new_reports"),
        )
        v.expect_equal(
            flow,
            "dbr_excluded are assessed reports",
            "dbr_excluded",
            dbr_excluded,
            "dbr_excluded also in dbr_assessed",
            [e for e in dbr_excluded if e in set(assessed)],
        )
        previous_studies = ids("previous_studies")
        report_studies = {
            r["id"]: r["study_id"]
            for r in ledger
            if r["flow"] == flow and r["box"] == "new_reports"
        }
        v.expect_equal(
            flow,
            "new_studies = studies of new_reports not in previous_studies",
            "studies of new_reports not in previous_studies",
            sorted(set(report_studies.values()) - set(previous_studies)),
            "new_studies",
            ids("new_studies"),
        )
        v.expect_disjoint(
            flow,
            "a study is previous or new",
            {"previous_studies": previous_studies, "new_studies": ids("new_studies")},
        )
        v.expect_equal(
            flow,
            "previous_studies + new_studies = total_studies",
            "previous_studies + new_studies",
            previous_studies + ids("new_studies"),
            "total_studies",
            ids("total_studies"),
        )
        v.expect_equal(
            flow,
            "previous_reports + new_reports = total_reports",
            "previous_reports + new_reports",
            ids("previous_reports") + ids("new_reports"),
            "total_reports",
            ids("total_reports"),
        )

    runs = [f for f in flows if f not in (BASELINE_FLOW, CUMULATIVE_FLOW)]
    if BASELINE_FLOW in flows and CUMULATIVE_FLOW in flows:
        chain = [BASELINE_FLOW, *runs]
        for before, after in zip(chain, chain[1:], strict=False):
            v.expect_equal(
                after,
                f"previous version = total of {before}",
                f"total_studies of {before}",
                _ids(ledger, before, "total_studies"),
                "previous_studies",
                _ids(ledger, after, "previous_studies"),
            )
            v.expect_equal(
                after,
                f"previous version = total of {before}",
                f"total_reports of {before}",
                _ids(ledger, before, "total_reports"),
                "previous_reports",
                _ids(ledger, after, "previous_reports"),
            )
        v.expect_equal(
            CUMULATIVE_FLOW,
            "previous version = the published review (baseline total)",
            "total_studies of baseline",
            _ids(ledger, BASELINE_FLOW, "total_studies"),
            "previous_studies",
            _ids(ledger, CUMULATIVE_FLOW, "previous_studies"),
        )
        v.expect_equal(
            CUMULATIVE_FLOW,
            "total = total of the last run",
            f"total_studies of {chain[-1]}",
            _ids(ledger, chain[-1], "total_studies"),
            "total_studies",
            _ids(ledger, CUMULATIVE_FLOW, "total_studies"),
        )
        additive = [b for b in BOXES if not b.startswith(("previous_", "total_"))]
        for box in additive:
            v.expect_equal(
                CUMULATIVE_FLOW,
                f"{box} = sum over update runs",
                f"{box} of the runs",
                [i for run in runs for i in _ids(ledger, run, box, with_run=True)],
                box,
                _ids(ledger, CUMULATIVE_FLOW, box, with_run=True),
            )
    return v.problems


def check_identities(ledger: Sequence[Mapping[str, str]]) -> None:
    """Raise ConsistencyError listing every broken identity (boxes and ids)."""
    problems = identity_problems(ledger)
    if problems:
        for problem in problems:
            log.error("%s", problem)
        raise ConsistencyError(
            f"{len(problems)} PRISMA identity violation(s):\n  "
            + "\n  ".join(problems)
            + "\nThe dedup and screening outputs disagree with the record tables: rerun those stages "
            "(snakemake --forcerun dedup) and check the ids above in results/records/unique.tsv and "
            "results/screening/status.tsv."
        )


def check_baseline(ledger: Sequence[Mapping[str, str]], studies: Sequence[BaselineStudy]) -> None:
    """The baseline flow must end in exactly the published review's studies.

    Raises:
        ConsistencyError: naming the studies of studies.tsv no baseline report is linked to,
            and the study ids included from baseline records that the published review lacks.
    """
    expected = {s.study_id for s in studies}
    found = set(_ids(ledger, BASELINE_FLOW, "total_studies"))
    missing, extra = sorted(expected - found), sorted(found - expected)
    if missing or extra:
        parts = []
        if missing:
            parts.append(
                f"published studies with no included baseline report: {_show(missing, 30)}"
            )
        if extra:
            parts.append(
                f"studies included from baseline records but absent from the published review: {_show(extra, 30)}"
            )
        raise ConsistencyError(
            "[baseline] total_studies differs from resources/baseline/studies.tsv: "
            + "; ".join(parts)
            + ". Record the published review's decisions for the baseline records (the baseline reviewer's "
            "full-text sheet: include with the study_id of studies.tsv) and rerun screening."
        )


def check_dedup_runs(
    ledger: Sequence[Mapping[str, str]],
    runs_rows: Sequence[Mapping[str, str]],
    path: str | Path = "runs.tsv",
) -> None:
    """The ledger's per-run identification and duplicate counts must equal dedup's runs.tsv."""
    identified: Counter[tuple[str, str]] = Counter()
    duplicates: Counter[tuple[str, str]] = Counter()
    for row in ledger:
        if row["flow"] == CUMULATIVE_FLOW:
            continue  # every run's records are already in the baseline or in a run flow
        key = (row["run"], row["source"])
        if row["box"] in ("database_results", "register_results"):
            identified[key] += 1
            identified[(row["run"], "all")] += 1
        elif row["box"] == "duplicates":
            duplicates[key] += 1
            duplicates[(row["run"], "all")] += 1
    problems = []
    for row in runs_rows:
        key = (row["run"].strip(), row["source"].strip())
        for column, counter in (
            ("records_identified", identified),
            ("duplicates_removed", duplicates),
        ):
            value = row.get(column, "").strip()
            if value and int(value) != counter[key]:
                problems.append(
                    f"{path} line {row.get('__line__', '?')}: {column} of run {key[0]} source {key[1]} "
                    f"is {value}, the ledger counts {counter[key]}"
                )
    if problems:
        raise ConsistencyError(
            "dedup counts disagree with the record-level ledger:\n  "
            + "\n  ".join(problems)
            + "\nRerun the dedup stage (snakemake --forcerun dedup)."
        )


# ------------------------------------------------------------------------------ stage


def build_prisma(
    record_tables: Sequence[str | Path],
    unique: str | Path,
    duplicates: str | Path,
    dedup_runs: str | Path,
    status: str | Path,
    baseline_studies: str | Path,
    settings: FlowSettings,
    *,
    ledger_path: str | Path,
    prisma_csv: str | Path,
    prisma_baseline_csv: str | Path,
    counts_path: str | Path,
) -> list[dict[str, str]]:
    """Read every input, build and check the ledger, write the four outputs (atomically).

    Nothing is written when an identity is broken.
    """
    studies = read_baseline_studies(baseline_studies, settings.unpublished_designs)
    ledger = build_ledger(
        read_record_refs(record_tables),
        read_publications(unique),
        read_statuses(status),
        read_duplicate_rules(duplicates),
        studies,
        settings,
    )
    check_identities(ledger)
    check_baseline(ledger, studies)
    check_dedup_runs(
        ledger,
        read_tsv(
            dedup_runs, required=("run", "source", "records_identified", "duplicates_removed")
        ),
        dedup_runs,
    )
    write_tsv(ledger_path, ledger, LEDGER_COLUMNS)
    write_text(prisma_csv, render_prisma_csv(prisma_csv_rows(ledger, CUMULATIVE_FLOW)))
    write_text(prisma_baseline_csv, render_prisma_csv(prisma_csv_rows(ledger, BASELINE_FLOW)))
    table, columns = count_table(ledger)
    write_tsv(counts_path, table, columns)
    counts = flow_counts(ledger, CUMULATIVE_FLOW)
    log.info(
        "cumulative flow: %d records identified, %d screened, %d awaiting screening, %d new studies, %d in total",
        counts["database_results"] + counts["register_results"],
        counts["records_screened"],
        counts["awaiting_title_abstract"],
        counts["new_studies"],
        counts["total_studies"],
    )
    return ledger


def read_counts(
    path: str | Path,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, list[tuple[str, int]]]], list[str]]:
    """Read the wide count table back: per flow, box counts and labelled breakdowns."""
    rows = read_tsv(path, required=("box", "label"))
    if not rows:
        raise InputFileError(
            path, "has no rows", line=2, allowed="the table written by build_prisma"
        )
    flows = [c for c in rows[0] if c not in ("box", "label", "__line__")]
    counts: dict[str, dict[str, int]] = {f: {} for f in flows}
    breakdowns: dict[str, dict[str, list[tuple[str, int]]]] = {f: defaultdict(list) for f in flows}
    for row in rows:
        for f in flows:
            try:
                n = int(row[f])
            except ValueError:
                raise InputFileError(
                    path,
                    "not a count",
                    line=int(row["__line__"]),
                    field=f,
                    value=row[f],
                    allowed="a whole number",
                ) from None
            if row["label"]:
                if n:
                    breakdowns[f][row["box"]].append((row["label"], n))
            else:
                counts[f][row["box"]] = n
    return counts, {f: dict(b) for f, b in breakdowns.items()}, flows
