"""What the extraction stage leaves for people: ``results/extraction/todo.tsv``.

Every stage that leaves work for people writes a ``todo.tsv`` in its results folder with the
same columns (:data:`livingreview.todo.TODO_COLUMNS`), one row per task with something to do; the run record
collects them into the to-do block of every run. This stage has two tasks, both counted from
the study status rows that ``status.tsv`` holds, so the two files can never disagree:

- extractors: studies included at full text that still lack the extractions they need;
- the adjudicator: studies whose extractors disagree, settled in the study's
  ``adjudicated.tsv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..text import ADJUDICATED_SHEET
from ..todo import EXTRACT, SETTLE_DISCREPANCIES, TodoRow, todo_order
from .merge import AWAITING_EXTRACTION, DISCREPANCIES

EXTRACTION_STAGE = "extraction"
EXTRACT_TASK, SETTLE_TASK = EXTRACT, SETTLE_DISCREPANCIES


def extraction_todo(
    status: Iterable[Mapping[str, object]],
    extraction_dir: str,
    status_path: str,
    discrepancies_path: str,
) -> list[TodoRow]:
    """The extraction stage's tasks, from its ``status.tsv`` rows (tasks with nothing to do
    are left out).

    >>> rows = extraction_todo(
    ...     [{"study_id": "smith-2023", "status": "discrepancies"},
    ...      {"study_id": "lee-2024", "status": "awaiting_extraction"}],
    ...     "resources/extraction", "results/extraction/status.tsv",
    ...     "results/extraction/discrepancies.tsv")
    >>> [(r["role"], r["count"], r["act_in"]) for r in rows]
    [('adjudicator', 1, 'resources/extraction/smith-2023/adjudicated.tsv'), ('extractor', 1, 'resources/extraction/')]
    """
    folder = extraction_dir.rstrip("/") + "/"
    by_status: dict[str, list[str]] = {}
    for row in status:
        by_status.setdefault(str(row["status"]), []).append(str(row["study_id"]))
    disagreeing = sorted(by_status.get(DISCREPANCIES, []))
    awaiting = sorted(by_status.get(AWAITING_EXTRACTION, []))
    rows = [
        TodoRow(
            role="adjudicator",
            person="",
            stage=EXTRACTION_STAGE,
            task=SETTLE_TASK,
            count=len(disagreeing),
            items_in=discrepancies_path,
            act_in=f"{folder}{disagreeing[0]}/{ADJUDICATED_SHEET}.tsv"
            if len(disagreeing) == 1
            else folder,
        ),
        TodoRow(
            role="extractor",
            person="",
            stage=EXTRACTION_STAGE,
            task=EXTRACT_TASK,
            count=len(awaiting),
            items_in=status_path,
            act_in=folder,
        ),
    ]
    return sorted((row for row in rows if row["count"] > 0), key=todo_order)
