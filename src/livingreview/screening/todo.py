"""Who has what to do after this run: counted once, written as the to-do list and the summary.

:class:`Workload` counts, from the very tables the stage writes, each reviewer's queue at
each stage and the open conflicts at each stage (adjudicated ones wait for nobody).
``todo.tsv`` (the to-do contract shared by the stages that
leave work for people; the run record collects it) and the one-line ``summary.txt`` are both
made from it, so they cannot disagree with each other or with the queue files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..todo import SCREEN, SETTLE_CONFLICTS, TodoRow, todo_order
from .queues import QueueRow
from .settings import ScreeningSettings
from .tables import ConflictRow
from .vocabulary import ADJUDICATION_FILE, STAGE_LABELS, STAGES, STATUSES

REVIEWER, ADJUDICATOR = "reviewer", "adjudicator"
SCREEN_TASK, SETTLE_TASK = SCREEN, SETTLE_CONFLICTS


@dataclass(frozen=True)
class Locations:
    """Where the items of each task are listed (results) and where people act (sheets)."""

    results_dir: str = "results/screening"
    decisions_dir: str = "resources/screening"

    def queue(self, stage: str, reviewer: str) -> str:
        return f"{self.results_dir}/queue/{stage}/{reviewer}.tsv"

    def sheet(self, stage: str, reviewer: str) -> str:
        return f"{self.decisions_dir}/{stage}/{reviewer}.tsv"

    def adjudication_sheet(self, stage: str) -> str:
        return f"{self.decisions_dir}/{stage}/{ADJUDICATION_FILE}"

    @property
    def conflicts(self) -> str:
        return f"{self.results_dir}/conflicts.tsv"


@dataclass(frozen=True)
class Workload:
    """The counts behind the to-do list and the summary."""

    #: (stage, reviewer) -> publications in that reviewer's queue (every active reviewer)
    queued: Mapping[tuple[str, str], int]
    #: stage -> conflicts no adjudication has settled (every stage)
    open_conflicts: Mapping[str, int]

    @classmethod
    def measure(
        cls,
        queues: Mapping[tuple[str, str], Sequence[QueueRow]],
        conflicts: Iterable[ConflictRow],
    ) -> Workload:
        open_conflicts = Counter(c["stage"] for c in conflicts if c["state"] == "open")
        return cls(
            queued={key: len(rows) for key, rows in queues.items()},
            open_conflicts={stage: open_conflicts[stage] for stage in STAGES},
        )

    def waiting_for(self, reviewer: str) -> int:
        """Publications in ``reviewer``'s queues, both stages together."""
        return sum(n for (_, r), n in self.queued.items() if r == reviewer)

    @property
    def total_open_conflicts(self) -> int:
        return sum(self.open_conflicts.values())


def todo_rows(workload: Workload, where: Locations) -> list[TodoRow]:
    """``todo.tsv``: one row per task with something to do, by stage, role, then person."""
    rows: list[TodoRow] = []
    for (stage, reviewer), count in workload.queued.items():
        if count:
            rows.append(
                TodoRow(
                    role=REVIEWER,
                    person=reviewer,
                    stage=stage,
                    task=SCREEN_TASK,
                    count=count,
                    items_in=where.queue(stage, reviewer),
                    act_in=where.sheet(stage, reviewer),
                )
            )
    for stage, count in workload.open_conflicts.items():
        if count:
            rows.append(
                TodoRow(
                    role=ADJUDICATOR,
                    person="",
                    stage=stage,
                    task=SETTLE_TASK,
                    count=count,
                    items_in=where.conflicts,
                    act_in=where.adjudication_sheet(stage),
                )
            )
    return sorted(rows, key=todo_order)


def summary_line(
    run_date: str,
    new_publications: int,
    workload: Workload,
    status_counts: Mapping[str, int],
    settings: ScreeningSettings,
) -> str:
    """The one-line summary: new publications, who waits how much, open conflicts, statuses.
    Every count is the to-do list's."""
    waiting = ", ".join(f"{r} {workload.waiting_for(r)}" for r in settings.reviewers)
    per_stage = "; ".join(
        f"{STAGE_LABELS[stage]}: "
        + ", ".join(f"{r} {workload.queued[(stage, r)]}" for r in settings.reviewers)
        for stage in STAGES
    )
    return (
        f"screening {run_date}: {new_publications} new publication(s) this run; "
        f"waiting for {waiting} ({per_stage}); "
        f"{workload.total_open_conflicts} open conflict(s); "
        + ", ".join(f"{s} {status_counts.get(s, 0)}" for s in STATUSES)
    )
