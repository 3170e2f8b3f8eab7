"""The to-do table each stage that leaves work for people writes (``results/<stage>/todo.tsv``).

One row per task with something to do: who (``role``, and ``person`` when the task is one
person's), where in the review (``stage``), what (``task``, one of :data:`TASKS`), how many
(``count``), which results file lists the items (``items_in``) and which human file or
folder the person acts in (``act_in``). The dedup, screening and extraction stages write it;
the run record (:mod:`livingreview.runs.todo`) reads every stage's table into the to-do
block of its summary, so counts shown anywhere come from these rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

from .errors import ProblemCollector
from .io import read_tsv, write_tsv

#: Roles of the people a task can wait for, in the order the block lists them.
ROLES: tuple[str, ...] = ("reviewer", "adjudicator", "extractor", "data_manager")
#: Stages in the order the review goes through them (rows are sorted by it).
STAGES: tuple[str, ...] = ("dedup", "title_abstract", "full_text", "extraction")
STAGE_LABELS = {
    "dedup": "deduplication",
    "title_abstract": "title/abstract",
    "full_text": "full text",
    "extraction": "extraction",
}
#: The tasks, in the contract's words.
SCREEN = "screen publications"
SETTLE_CONFLICTS = "settle conflicts"
DECIDE_PAIRS = "decide uncertain duplicate pairs"
EXTRACT = "extract data of included studies"
SETTLE_DISCREPANCIES = "settle extraction discrepancies"
#: Duplicate verdicts on records this run does not have yet (from a search after its
#: run_date): applied by the first run that includes those records.
WAITING_FOR_RECORDS = "verdicts on records of a later search (applied once a run includes them)"
TASKS = (
    SCREEN,
    SETTLE_CONFLICTS,
    DECIDE_PAIRS,
    EXTRACT,
    SETTLE_DISCREPANCIES,
    WAITING_FOR_RECORDS,
)


class TodoRow(TypedDict):
    """One task of the to-do table."""

    role: str
    person: str
    stage: str
    task: str
    count: int
    items_in: str
    act_in: str


TODO_COLUMNS: tuple[str, ...] = tuple(TodoRow.__annotations__)


def todo_order(row: TodoRow) -> tuple[int, int, str]:
    """Sort key: stage order, then role order, then person (a stable sort keeps each stage's
    own order of tasks for one person).

    >>> row = TodoRow(role="reviewer", person="r1", stage="full_text", task="t", count=1,
    ...               items_in="", act_in="")
    >>> todo_order(row)
    (2, 0, 'r1')
    """
    return (
        STAGES.index(row["stage"]) if row["stage"] in STAGES else len(STAGES),
        ROLES.index(row["role"]) if row["role"] in ROLES else len(ROLES),
        row["person"],
    )


def write_todo(path: str | Path, rows: Iterable[TodoRow]) -> list[TodoRow]:
    """Write the tasks with a count above zero, sorted (:func:`todo_order`), atomically; a
    stage with nothing waiting writes the header alone. Returns the rows written."""
    kept = sorted((row for row in rows if row["count"] > 0), key=todo_order)
    write_tsv(path, kept, TODO_COLUMNS)
    return kept


def _count(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def read_todo(path: str | Path) -> list[TodoRow]:
    """The rows of one stage's ``todo.tsv``, checked against the contract.

    Raises:
        ValidationError: a column, role, stage or count breaks the contract (every problem
            is logged; the first names file, line, field and what is allowed).
    """
    raw = read_tsv(path, required=TODO_COLUMNS, allowed=TODO_COLUMNS)
    problems = ProblemCollector()
    rows: list[TodoRow] = []
    for row in raw:
        line = int(row["__line__"])
        count = _count(row["count"])
        checks = (
            ("role", row["role"] in ROLES, ", ".join(ROLES)),
            ("stage", row["stage"] in STAGES, ", ".join(STAGES)),
            ("task", bool(row["task"].strip()), "a short sentence"),
            ("count", count is not None and count > 0, "a whole number above 0"),
            ("items_in", bool(row["items_in"].strip()), "the results file listing the items"),
        )
        for field, ok, allowed in checks:
            if not ok:
                problems.add(
                    path,
                    f"not a valid to-do {field}",
                    line=line,
                    field=field,
                    value=row[field],
                    allowed=f"{allowed}; this file is written by the workflow: rerun the stage",
                )
        rows.append(
            TodoRow(
                role=row["role"],
                person=row["person"],
                stage=row["stage"],
                task=row["task"],
                count=count or 0,
                items_in=row["items_in"],
                act_in=row["act_in"],
            )
        )
    problems.raise_any()
    return rows
