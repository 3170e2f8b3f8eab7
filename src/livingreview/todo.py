"""The to-do table each stage that leaves work for people writes (``results/<stage>/todo.tsv``).

One row per task with something to do: who (``role``, and ``person`` when the task is one
person's), where in the review (``stage``), what (``task``, a short sentence), how many
(``count``), which results file lists the items (``items_in``) and which human file or
folder the person acts in (``act_in``). The run record collects every stage's table into
the to-do block of its summary, so counts shown anywhere come from these rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

from .io import write_tsv

#: Roles of the people a task can wait for.
ROLES: tuple[str, ...] = ("reviewer", "adjudicator", "extractor", "data_manager")
#: Stages in the order the review goes through them (rows are sorted by it).
STAGES: tuple[str, ...] = ("dedup", "title_abstract", "full_text", "extraction")


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
