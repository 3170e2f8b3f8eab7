"""The rows of the tables the screening stage writes, typed, and how each row is made.

``status.tsv`` (one :class:`StatusRow` per publication; PRISMA and the run record read it),
``conflicts.tsv`` (:class:`ConflictRow`) and ``included_reports.tsv``
(:class:`IncludedReportRow`; extraction reads it). Column meanings:
``docs/data-contracts.md`` and ``resources/screening/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from .resolve import Resolution, StageOutcome, assigned_reviewers
from .settings import ScreeningSettings
from .vocabulary import (
    AWAITING_FULL_TEXT,
    AWAITING_TITLE_ABSTRACT,
    EXCLUDED_TITLE_ABSTRACT,
    FULL_TEXT,
    FULL_TEXT_STATUS,
    INCLUDED,
    TITLE_ABSTRACT,
    split_multi,
)

STATUS_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "first_run",
    "sources",
    "member_record_ids",
    "status",
    "exclusion_reason",
    "exclusion_reason_label",
    "study_id",
    "decided_by",
    "decided_on",
    "title_abstract_decision",
    "title_abstract_decided_by",
    "title_abstract_decided_on",
    "open_conflict",
    "awaiting_reviewers",
    "title",
)
CONFLICT_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "stage",
    "kind",
    "state",
    "decisions",
    "adjudication",
    "title",
)
INCLUDED_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "record_ids",
    "pmid",
    "doi",
    "study_id",
    "new_study",
    "decided_by",
    "decided_on",
    "first_author",
    "year",
    "title",
)
WEIGHT_COLUMNS: tuple[str, ...] = ("term", "n_included", "n_excluded", "weight")
EVALUATION_COLUMNS: tuple[str, ...] = ("metric", "value", "meaning")


class StatusRow(TypedDict):
    """One row of ``status.tsv`` (columns :data:`STATUS_COLUMNS`)."""

    publication_id: str
    first_run: str
    sources: str
    member_record_ids: str
    status: str
    exclusion_reason: str
    exclusion_reason_label: str
    study_id: str
    decided_by: str
    decided_on: str
    title_abstract_decision: str
    title_abstract_decided_by: str
    title_abstract_decided_on: str
    open_conflict: str
    awaiting_reviewers: str
    title: str


class ConflictRow(TypedDict):
    """One row of ``conflicts.tsv`` (columns :data:`CONFLICT_COLUMNS`)."""

    publication_id: str
    stage: str
    kind: str
    state: str
    decisions: str
    adjudication: str
    title: str


class IncludedReportRow(TypedDict):
    """One row of ``included_reports.tsv`` (columns :data:`INCLUDED_COLUMNS`)."""

    publication_id: str
    record_ids: str
    pmid: str
    doi: str
    study_id: str
    new_study: str
    decided_by: str
    decided_on: str
    first_author: str
    year: str
    title: str


@dataclass(frozen=True)
class PublicationState:
    """Where one publication stands in this run, and who it waits for."""

    publication_id: str
    status: str
    #: the final outcome that gave the status (None while awaiting a stage)
    final: StageOutcome | None
    #: the stage it waits at ("" when screening is over for it)
    waiting_stage: str
    #: that stage, when its decisions disagree and no adjudication settled them yet
    open_conflict: str
    #: active reviewers who still have to decide it at ``waiting_stage``
    awaiting: tuple[str, ...]


def publication_state(
    publication_id: str, resolution: Resolution, settings: ScreeningSettings
) -> PublicationState:
    """The status of one publication from its outcomes at both stages."""
    t = resolution.title_abstract[publication_id]
    f = resolution.full_text.get(publication_id)
    final: StageOutcome | None = None
    if t.state != "final":
        status, waiting_stage, waiting = AWAITING_TITLE_ABSTRACT, TITLE_ABSTRACT, t
    elif t.decision == "exclude":
        status, waiting_stage, waiting, final = EXCLUDED_TITLE_ABSTRACT, "", None, t
    elif f is None:
        raise AssertionError(f"{publication_id} passed title/abstract but was not resolved")
    elif f.state != "final":
        status, waiting_stage, waiting = AWAITING_FULL_TEXT, FULL_TEXT, f
    else:
        status, waiting_stage, waiting, final = FULL_TEXT_STATUS[f.decision], "", None, f
    open_conflict = ""
    awaiting: tuple[str, ...] = ()
    if waiting is not None:
        if waiting.state == "conflict":
            open_conflict = waiting_stage
        else:
            decided = [d.reviewer for d in waiting.decisions]
            awaiting = tuple(
                r for r in assigned_reviewers(publication_id, decided, settings) if r not in decided
            )
    return PublicationState(publication_id, status, final, waiting_stage, open_conflict, awaiting)


def status_row(
    record: Mapping[str, str],
    state: PublicationState,
    title_abstract: StageOutcome,
    exclusion_reasons: Mapping[str, str],
) -> StatusRow:
    """The ``status.tsv`` row of one publication."""
    final = state.final
    reason = final.reason if final is not None and final.decision == "exclude" else ""
    ta_final = title_abstract.state == "final"
    return {
        "publication_id": state.publication_id,
        "first_run": record.get("first_run", ""),
        "sources": record.get("sources", ""),
        "member_record_ids": record.get("member_record_ids", ""),
        "status": state.status,
        "exclusion_reason": reason,
        "exclusion_reason_label": "; ".join(
            exclusion_reasons.get(r, r) for r in split_multi(reason)
        ),
        "study_id": final.study_id if state.status == INCLUDED and final else "",
        "decided_by": final.decided_by if final else "",
        "decided_on": final.decided_on if final else "",
        "title_abstract_decision": title_abstract.decision if ta_final else "",
        "title_abstract_decided_by": title_abstract.decided_by if ta_final else "",
        "title_abstract_decided_on": title_abstract.decided_on if ta_final else "",
        "open_conflict": state.open_conflict,
        "awaiting_reviewers": "; ".join(state.awaiting),
        "title": record.get("title", ""),
    }


def conflict_rows(
    publication_id: str, record: Mapping[str, str], resolution: Resolution
) -> list[ConflictRow]:
    """The ``conflicts.tsv`` rows of one publication: each stage where reviewers disagreed,
    open or adjudicated."""
    rows: list[ConflictRow] = []
    for stage in (TITLE_ABSTRACT, FULL_TEXT):
        outcome = resolution.at(stage).get(publication_id)
        if outcome is None or not outcome.conflict_kind:
            continue
        adj = outcome.adjudication
        rows.append(
            {
                "publication_id": publication_id,
                "stage": stage,
                "kind": outcome.conflict_kind,
                "state": "adjudicated" if adj else "open",
                "decisions": "; ".join(d.describe() for d in outcome.decisions),
                "adjudication": f"{adj.describe()} on {adj.decided_on}" if adj else "",
                "title": record.get("title", ""),
            }
        )
    return rows


def included_report_row(
    record: Mapping[str, str], state: PublicationState, known_studies: set[str]
) -> IncludedReportRow | None:
    """The ``included_reports.tsv`` row of an included publication (None for the others)."""
    final = state.final
    if state.status != INCLUDED or final is None:
        return None
    pid = state.publication_id
    return {
        "publication_id": pid,
        "record_ids": record.get("member_record_ids", "") or pid,
        "pmid": record.get("pmid", ""),
        "doi": record.get("doi", ""),
        "study_id": final.study_id,
        "new_study": "no" if final.study_id in known_studies else "yes",
        "decided_by": final.decided_by,
        "decided_on": final.decided_on,
        "first_author": record.get("first_author", ""),
        "year": record.get("year", ""),
        "title": record.get("title", ""),
    }
