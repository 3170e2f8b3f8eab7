"""The screening stage as one call: sheets in, every table of ``results/screening/`` out.

:func:`screen` runs the stage's steps in order: read and check every sheet
(:mod:`.sheets`), resolve every publication at both stages (:mod:`.resolve`), derive each
publication's status and the tables (:mod:`.tables`), learn the ranking score of every queue
(:mod:`.ranking`) and fill each reviewer's queue (:mod:`.queues`). The workflow script writes
what it returns; :func:`check_sheets` runs the same validation for the check rule.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProblemCollector
from .agreement import agreement_rows
from .publications import (
    PublicationIndex,
    load_baseline_study_ids,
    load_publications,
    possible_duplicate_hints,
)
from .queues import QUEUE_COLUMNS, QueueRow, queue_columns, queue_rows
from .ranking import QueueRankings, train_queue_rankings
from .resolve import Resolution, resolve_publications
from .settings import ScreeningSettings
from .sheets import SheetDecisions, read_sheets
from .tables import (
    ConflictRow,
    IncludedReportRow,
    PublicationState,
    StatusRow,
    conflict_rows,
    included_report_row,
    publication_state,
    status_row,
)
from .todo import Locations, TodoRow, Workload, summary_line, todo_rows
from .vocabulary import DECISION_COLUMNS, STAGES

log = logging.getLogger(__name__)

#: (stage, reviewer) -> the publications that reviewer still has to decide at that stage
Waiting = dict[tuple[str, str], list[str]]


@dataclass
class ScreeningResult:
    """Every table the screening stage writes, plus the one-line summary."""

    status: list[StatusRow]
    conflicts: list[ConflictRow]
    included: list[IncludedReportRow]
    queues: dict[tuple[str, str], list[QueueRow]]
    weights: list[dict[str, object]]
    evaluation: list[dict[str, object]]
    summary: str
    queue_columns: tuple[str, ...] = QUEUE_COLUMNS
    #: who has what to do (``todo.tsv``), counted like the summary
    todo: list[TodoRow] = field(default_factory=list)
    #: Cohen's κ and proportionate agreement per stage (``agreement.tsv``)
    agreement: list[dict[str, object]] = field(default_factory=list)


def screen(
    unique_path: str | Path,
    sheet_files: Sequence[str | Path],
    settings: ScreeningSettings,
    baseline_studies: str | Path | None = None,
    maybe_path: str | Path | None = None,
    locations: Locations | None = None,
) -> ScreeningResult:
    """Validate every sheet, resolve every publication and build the stage's tables.

    ``maybe_path`` (the dedup stage's uncertain pairs) adds a "possible duplicate of ..." hint
    to both publications of a pair, so a reviewer sees the pair before deciding either.
    Every decision in the sheets counts, whatever its date (``run_date`` decides which
    searches a run uses, not which decisions).
    ``locations``: the results and decisions folders the to-do list points to.

    Raises:
        ValidationError / InputFileError: on any bad sheet; nothing is returned then.
    """
    known_studies = load_baseline_study_ids(baseline_studies)
    index, resolution, states, decisions = resolve_sheets(unique_path, sheet_files, settings)

    status = [
        status_row(
            index.rows[pid],
            state,
            resolution.title_abstract[pid],
            settings.exclusion_reasons,
        )
        for pid, state in states.items()
    ]
    conflicts = [
        row for pid in index.rows for row in conflict_rows(pid, index.rows[pid], resolution)
    ]
    included = [
        row
        for pid, state in states.items()
        if (row := included_report_row(index.rows[pid], state, known_studies)) is not None
    ]
    included.sort(key=lambda r: (r["study_id"], r["publication_id"]))

    rankings = train_queue_rankings(index.rows, resolution, settings.reviewers, settings.ranking)
    queues = build_queues(
        waiting_for(states, settings), index, rankings, resolution, maybe_path, settings
    )
    workload = Workload.measure(queues, conflicts)
    run = settings.run_date.isoformat()
    new = sum(1 for r in index.rows.values() if r.get("first_run", "") == run)
    return ScreeningResult(
        status=status,
        conflicts=conflicts,
        included=included,
        queues=queues,
        weights=rankings.weight_rows(),
        evaluation=rankings.evaluation_rows(),
        summary=summary_line(run, new, workload, Counter(r["status"] for r in status), settings),
        queue_columns=queue_columns(settings.blinded),
        todo=todo_rows(workload, locations or Locations()),
        agreement=agreement_rows(decisions.by_stage, settings.reviewers),
    )


def resolve_sheets(
    unique_path: str | Path, sheet_files: Sequence[str | Path], settings: ScreeningSettings
) -> tuple[PublicationIndex, Resolution, dict[str, PublicationState], SheetDecisions]:
    """Read and validate every sheet and resolve every publication: everything that can find
    a problem in a sheet, and nothing more (the check rule stops here).

    Returns the publications, the resolution, each publication's state and the sheets'
    decisions as read (before adjudication: what the agreement statistics compare).

    Raises:
        ValidationError / InputFileError: on any bad sheet.
    """
    index = load_publications(unique_path)
    problems = ProblemCollector(log)
    decisions = read_sheets(sheet_files, settings, index, problems)
    problems.raise_any()
    resolution = resolve_publications(index, decisions, settings, problems)
    states = {pid: publication_state(pid, resolution, settings) for pid in index.rows}
    return index, resolution, states, decisions


def waiting_for(states: Mapping[str, PublicationState], settings: ScreeningSettings) -> Waiting:
    """Every active reviewer's to-decide list at each stage (empty lists included)."""
    waiting: Waiting = {(s, r): [] for s in STAGES for r in settings.reviewers}
    for pid, state in states.items():
        for reviewer in state.awaiting:
            waiting[(state.waiting_stage, reviewer)].append(pid)
    return waiting


def build_queues(
    waiting: Waiting,
    index: PublicationIndex,
    rankings: QueueRankings,
    resolution: Resolution,
    maybe_path: str | Path | None,
    settings: ScreeningSettings,
) -> dict[tuple[str, str], list[QueueRow]]:
    """Every reviewer's queue at each stage, ranked by that queue's own score."""
    possible_duplicates = possible_duplicate_hints(maybe_path)
    return {
        (stage, reviewer): queue_rows(
            stage,
            reviewer,
            pids,
            index,
            rankings.of_queue(stage, reviewer),
            resolution,
            possible_duplicates,
            settings.blinded,
        )
        for (stage, reviewer), pids in waiting.items()
    }


def screening_guide(criteria: str, settings: ScreeningSettings) -> str:
    """Markdown guide for reviewers: the criteria, the reason ids and how to record decisions."""
    lines = [
        "# Screening guide",
        "",
        "Generated from config.yaml (`screening:`); edit the config, not this file.",
        "",
        "## Eligibility criteria",
        "",
        criteria.strip(),
        "",
        "## Exclusion reasons (column `reason`)",
        "",
        "| id | meaning |",
        "|---|---|",
        *(f"| `{ident}` | {label} |" for ident, label in settings.exclusion_reasons.items()),
        "",
        "## Recording a decision",
        "",
        f"Add one row per publication to `resources/screening/<stage>/<your id>.tsv` (reviewers: "
        f"{', '.join(settings.reviewers)}). Columns: {', '.join(DECISION_COLUMNS)}; full text adds "
        "`study_id`. Decisions: title/abstract include, exclude, maybe; full text include (with "
        "study_id), exclude (with reason), maybe (goes to adjudication), not_retrieved. "
        f"Screening is {'dual' if settings.dual else 'single'} and {'blinded' if settings.blinded else 'not blinded'}.",
        "",
    ]
    return "\n".join(lines)


def check_sheets(
    unique_path: str | Path,
    sheets: Sequence[str | Path],
    settings_params: Mapping[str, object],
    run_date: str,
    baseline_studies: str | Path,
    clock_date: str = "",
) -> None:
    """Validate every decision and adjudication sheet exactly as :func:`screen` does, writing
    nothing (the ``check_screening_sheets`` rule; see :mod:`livingreview.checks`).

    ``clock_date`` (ISO, or empty for none): today's date, read by the check job when it runs
    (:func:`livingreview.checks.today`); a decision dated after it is an error."""
    settings = ScreeningSettings.from_params(settings_params, run_date, clock_date)
    load_baseline_study_ids(baseline_studies)  # read as screen reads it
    # The queues, ranking and tables screen builds next find no problem in a sheet.
    resolve_sheets(unique_path, list(sheets), settings)
