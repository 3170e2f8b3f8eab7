"""Screening: reviewer decision sheets -> status, conflicts, queues and study links.

Consumes

* ``results/records/unique.tsv`` (dedup stage): one row per publication with a stable
  ``publication_id``, its ``member_record_ids`` and the canonical record's columns;
* the human decision sheets ``<decisions_dir>/<stage>/<reviewer>.tsv`` (stage
  ``title_abstract`` or ``full_text``; columns :data:`DECISION_COLUMNS`, full text adds
  ``study_id``) and ``<decisions_dir>/<stage>/adjudication.tsv`` (adds ``adjudicator``).
  They are read only: nothing here ever writes them;
* the baseline study table (``resources/baseline/studies.tsv``) to flag new study ids.

Produces (as tables returned by :func:`screen`; the workflow script writes them)

* ``status.tsv``: the resolved status of every publication (:data:`STATUSES`), with the
  exclusion reason, study id, who decided and when (PRISMA counts every box from it);
* ``conflicts.tsv``: every disagreement between reviewers, open or adjudicated;
* ``included_reports.tsv``: full-text inclusions linked to their ``study_id``;
* ``queue/<stage>/<reviewer>.tsv``: what each reviewer still has to decide, likely
  inclusions first, with eligibility hints (which never decide anything);
* ``ranking_weights.tsv`` and ``ranking_evaluation.tsv``: the transparent ranking score;
* ``todo.tsv`` and a one-line summary of who has what to do, from one count.

A decision may name the ``publication_id`` or any member ``record_id`` of a publication, so a
record that joins a cluster later inherits the cluster's screening state and is never queued
again.  Every sheet is validated before anything is returned; a bad cell raises
:class:`~livingreview.errors.ValidationError` naming the file, line, field, value and what is
allowed (all problems are logged, the first is raised).

Where things are: :mod:`.vocabulary` (stages, decisions, statuses), :mod:`.settings` (the
config section, sheet and queue paths), :mod:`.publications` (inputs from other stages),
:mod:`.sheets` (reading and checking sheets), :mod:`.resolve` (agreement, conflicts,
adjudication, assignment), :mod:`.hints`, :mod:`.ranking`, :mod:`.tables` (typed output rows),
:mod:`.queues`, :mod:`.todo` (who has what to do: the to-do list and the summary) and :mod:`.stage` (:func:`screen`, the guide, the check).
"""

from ..records import MULTI_VALUE_SEPARATOR
from ..todo import TODO_COLUMNS, TodoRow
from .hints import eligibility_hints
from .publications import (
    PublicationIndex,
    load_baseline_study_ids,
    load_publications,
    possible_duplicate_hints,
)
from .queues import OTHER_DECISIONS_COLUMN, QUEUE_COLUMNS, QueueRow, queue_columns
from .ranking import (
    Ranking,
    TermWeight,
    evaluate_ranking,
    learn_weights,
    ranking_terms,
    score_terms,
    top_terms,
    train_ranking,
)
from .resolve import Resolution, StageOutcome, assigned_reviewers, resolve_stage
from .settings import RankingSettings, ScreeningSettings, queue_paths, sheet_paths
from .sheets import Decision, SheetDecisions, classify_sheet, read_sheet, sheet_columns
from .stage import ScreeningResult, check_sheets, screen, screening_guide
from .tables import (
    CONFLICT_COLUMNS,
    EVALUATION_COLUMNS,
    INCLUDED_COLUMNS,
    STATUS_COLUMNS,
    WEIGHT_COLUMNS,
    ConflictRow,
    IncludedReportRow,
    StatusRow,
)
from .todo import Locations, Workload
from .vocabulary import (
    ADJUDICATION_FILE,
    AWAITING_FULL_TEXT,
    AWAITING_TITLE_ABSTRACT,
    DECISION_COLUMNS,
    DECISIONS,
    EXCLUDED_FULL_TEXT,
    EXCLUDED_TITLE_ABSTRACT,
    FULL_TEXT,
    FULL_TEXT_NOT_RETRIEVED,
    INCLUDED,
    STAGE_LABELS,
    STAGES,
    STATUSES,
    TITLE_ABSTRACT,
    split_multi,
)

__all__ = [
    "ADJUDICATION_FILE",
    "AWAITING_FULL_TEXT",
    "AWAITING_TITLE_ABSTRACT",
    "CONFLICT_COLUMNS",
    "DECISIONS",
    "DECISION_COLUMNS",
    "EVALUATION_COLUMNS",
    "EXCLUDED_FULL_TEXT",
    "EXCLUDED_TITLE_ABSTRACT",
    "FULL_TEXT",
    "FULL_TEXT_NOT_RETRIEVED",
    "INCLUDED",
    "INCLUDED_COLUMNS",
    "MULTI_VALUE_SEPARATOR",
    "OTHER_DECISIONS_COLUMN",
    "QUEUE_COLUMNS",
    "STAGES",
    "STAGE_LABELS",
    "STATUSES",
    "STATUS_COLUMNS",
    "TITLE_ABSTRACT",
    "TODO_COLUMNS",
    "WEIGHT_COLUMNS",
    "ConflictRow",
    "Decision",
    "IncludedReportRow",
    "Locations",
    "PublicationIndex",
    "QueueRow",
    "Ranking",
    "RankingSettings",
    "Resolution",
    "ScreeningResult",
    "ScreeningSettings",
    "SheetDecisions",
    "StageOutcome",
    "StatusRow",
    "TermWeight",
    "TodoRow",
    "Workload",
    "assigned_reviewers",
    "check_sheets",
    "classify_sheet",
    "eligibility_hints",
    "evaluate_ranking",
    "learn_weights",
    "load_baseline_study_ids",
    "load_publications",
    "possible_duplicate_hints",
    "queue_columns",
    "queue_paths",
    "ranking_terms",
    "read_sheet",
    "resolve_stage",
    "score_terms",
    "screen",
    "screening_guide",
    "sheet_columns",
    "sheet_paths",
    "split_multi",
    "top_terms",
    "train_ranking",
]
