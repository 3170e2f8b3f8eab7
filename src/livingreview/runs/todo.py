"""The to-do block of a run: every task the stages leave for people, with where to act.

Consumes the ``todo.tsv`` every stage that leaves work for people writes in its results
folder (``results/records/todo.tsv`` from dedup, ``results/screening/todo.tsv`` from
screening, ``results/extraction/todo.tsv`` from extraction), one row per task with a count
above zero, columns exactly :data:`TODO_COLUMNS`:

- ``role``: reviewer, adjudicator, extractor or data_manager;
- ``person``: the person's id when the task is one person's (a reviewer's queue), else empty;
- ``stage``: dedup, title_abstract, full_text or extraction;
- ``task``: a short sentence (:data:`TASKS` names the ones the record counts);
- ``count``: how many items wait;
- ``items_in``: the results file listing the items;
- ``act_in``: the human file or folder where the person acts.

Produces the ``todo`` part of ``summary.json`` and the to-do block at the top of
``summary.md``, printed again at the end of every run. Every count the run record shows
for people's work comes from these rows, so it cannot disagree with the stages' own
summaries (one source of truth).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..todo import (
    STAGE_LABELS,
    TodoRow,
    read_todo,
    todo_order,
)


def todo_section(declared: Mapping[str, str | None]) -> dict[str, Any]:
    """The ``todo`` part of summary.json from the stages' to-do files.

    ``declared`` maps each input name (``records_todo``...) to its path, ``None`` when the
    workflow writes no such file; those are listed as missing, and the counts that depend on
    them are left out rather than shown as zero.
    """
    rows = [row for path in declared.values() if path for row in read_todo(path)]
    return {
        "from": sorted(path for path in declared.values() if path),
        "missing": [name for name, path in declared.items() if not path],
        "tasks": sorted(rows, key=todo_order),
    }


def count_tasks(
    rows: Iterable[TodoRow],
    task: str,
    *,
    role: str | None = None,
    stage: str | None = None,
    person: str | None = None,
) -> int:
    """Total count of the rows of ``task`` (and of the given role, stage, person).

    >>> from livingreview.todo import SCREEN
    >>> rows = [TodoRow(role="reviewer", person="r1", stage="full_text", task=SCREEN,
    ...                 count=2, items_in="q.tsv", act_in="s.tsv")]
    >>> count_tasks(rows, SCREEN), count_tasks(rows, SCREEN, person="r2")
    (2, 0)
    """
    return sum(
        row["count"]
        for row in rows
        if row["task"] == task
        and role in (None, row["role"])
        and stage in (None, row["stage"])
        and person in (None, row["person"])
    )


def describe_task(row: TodoRow, path: Callable[[str], str] = str) -> str:
    """One line of the to-do block: who, what, how many, where to look, where to act
    (``path`` formats a path, e.g. in backticks for markdown).

    >>> print(describe_task(TodoRow(role="reviewer", person="reviewer-1",
    ...     stage="title_abstract", task="screen publications", count=2,
    ...     items_in="results/screening/queue/title_abstract/reviewer-1.tsv",
    ...     act_in="resources/screening/title_abstract/reviewer-1.tsv")))
    reviewer-1 (reviewer, title/abstract): screen publications: 2, listed in results/screening/queue/title_abstract/reviewer-1.tsv; act in resources/screening/title_abstract/reviewer-1.tsv
    >>> print(describe_task(TodoRow(role="adjudicator", person="", stage="full_text",
    ...     task="settle conflicts", count=1, items_in="results/screening/conflicts.tsv",
    ...     act_in=""), path=lambda p: f"`{p}`"))
    adjudicator (full text): settle conflicts: 1, listed in `results/screening/conflicts.tsv`
    """
    stage = STAGE_LABELS.get(row["stage"], row["stage"])
    who = (
        f"{row['person']} ({row['role']}, {stage})" if row["person"] else f"{row['role']} ({stage})"
    )
    where = f"listed in {path(row['items_in'])}"
    if row["act_in"]:
        where += f"; act in {path(row['act_in'])}"
    return f"{who}: {row['task']}: {row['count']}, {where}"


def todo_lines(todo: Mapping[str, Any], path: Callable[[str], str] = str) -> list[str]:
    """The items of the to-do block, as list lines (``path`` formats paths)."""
    lines = [f"- {describe_task(row, path)}" for row in todo["tasks"]]
    if not todo["tasks"]:
        lines.append(
            "- nothing waits for anyone" + (" that this run can see" if todo["missing"] else "")
        )
    if todo["missing"]:
        stages = ", ".join(name.removesuffix("_todo") for name in todo["missing"])
        lines.append(f"- not known: the workflow writes no to-do file for {stages}")
    return lines


def todo_block(summary: Mapping[str, Any]) -> str:
    """The to-do block as printed at the end of a run (plain text)."""
    heading = f"To do after the run of {summary['run_date']}:"
    return "\n".join([heading, *todo_lines(summary["todo"])]) + "\n"
