"""Decisions dated after the run date: not part of this run, reported as waiting for a later one.

A decision counts from its date. A run dated earlier (the default demo, any rerun of a past
run) ignores it and says so (``deferred.tsv``, the status column ``later_dated_decisions``,
the summary and the to-do list); the first run dated on or after it uses it. This is never an
error: only a date after today's clock is (checked where a clock is legitimately read).

A full-text row whose publication has not passed title/abstract in this run only because a
title/abstract decision on it is dated later waits with it, instead of being an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from .settings import ScreeningSettings
from .sheets import Decision, SheetDecisions
from .vocabulary import STAGES

DEFERRED_COLUMNS: tuple[str, ...] = (
    "sheet",
    "line",
    "stage",
    "person",
    "record_id",
    "publication_id",
    "decided_on",
    "takes_effect_from",
)


class DeferredRow(TypedDict):
    """One row of ``deferred.tsv`` (columns :data:`DEFERRED_COLUMNS`)."""

    sheet: str
    line: int
    stage: str
    person: str
    record_id: str
    publication_id: str
    decided_on: str
    #: the first run date that uses the row (its own date, or a later title/abstract date)
    takes_effect_from: str


@dataclass(frozen=True)
class LaterDecision:
    """A sheet row this run leaves for a later run, and the first run date that takes it."""

    decision: Decision
    takes_effect_from: str

    def describe(self) -> str:
        """``reviewer (stage, date)``, as in the status column ``later_dated_decisions``."""
        d = self.decision
        return f"{d.reviewer} ({d.stage}, {d.decided_on})"


def counts_in_run(decision: Decision, settings: ScreeningSettings) -> bool:
    """Whether ``decision`` is part of the run dated ``settings.run_date``.

    The baseline reviewer's rows always count: they stand for the published review, whose
    decisions postdate its search, and the baseline run is dated at the end of that search.
    """
    if not decision.adjudicated and decision.reviewer == settings.baseline_reviewer:
        return True
    return dt.date.fromisoformat(decision.decided_on) <= settings.run_date


def split_later_dated(
    decisions: SheetDecisions, settings: ScreeningSettings
) -> tuple[SheetDecisions, list[LaterDecision]]:
    """``(decisions of this run, decisions dated after it)``."""
    current = SheetDecisions()
    later: list[LaterDecision] = []
    for stage in STAGES:
        every = [
            *(d for rows in decisions.by_stage[stage].values() for d in rows),
            *decisions.adjudications[stage].values(),
        ]
        for decision in every:
            if counts_in_run(decision, settings):
                current.add(decision)
            else:
                later.append(LaterDecision(decision, decision.decided_on))
    return current, later


def latest_dates(later: Iterable[LaterDecision], stage: str) -> dict[str, str]:
    """publication_id -> the latest date of its later-dated decisions at ``stage``."""
    latest: dict[str, str] = {}
    for item in later:
        d = item.decision
        if d.stage == stage:
            latest[d.publication_id] = max(latest.get(d.publication_id, ""), d.decided_on)
    return latest


def deferred_rows(later: Iterable[LaterDecision]) -> list[DeferredRow]:
    """``deferred.tsv``: one row per sheet row left for a later run, by sheet and line."""
    rows: list[DeferredRow] = [
        {
            "sheet": item.decision.path,
            "line": item.decision.line,
            "stage": item.decision.stage,
            "person": item.decision.reviewer,
            "record_id": item.decision.record_id,
            "publication_id": item.decision.publication_id,
            "decided_on": item.decision.decided_on,
            "takes_effect_from": item.takes_effect_from,
        }
        for item in later
    ]
    return sorted(rows, key=lambda r: (STAGES.index(r["stage"]), r["sheet"], r["line"]))


def later_by_publication(later: Iterable[LaterDecision]) -> Mapping[str, list[LaterDecision]]:
    """publication_id -> its later-dated decisions, title/abstract first."""
    by_publication: dict[str, list[LaterDecision]] = {}
    for item in sorted(
        later, key=lambda i: (STAGES.index(i.decision.stage), i.decision.reviewer, i.decision.line)
    ):
        by_publication.setdefault(item.decision.publication_id, []).append(item)
    return by_publication
