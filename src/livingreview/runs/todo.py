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
from pathlib import Path
from typing import Any, TypedDict

from ..errors import ProblemCollector
from ..io import read_tsv


class TodoRow(TypedDict):
    """One task of a ``todo.tsv``: who, which stage, what, how many, where to look and act."""

    role: str
    person: str
    stage: str
    task: str
    count: int
    items_in: str
    act_in: str


TODO_COLUMNS: tuple[str, ...] = tuple(TodoRow.__annotations__)
#: Roles of the people a task can wait for, in the order the block lists them.
ROLES: tuple[str, ...] = ("reviewer", "adjudicator", "extractor", "data_manager")
#: Stages in the order the review goes through them (the block is sorted by it).
STAGES: tuple[str, ...] = ("dedup", "title_abstract", "full_text", "extraction")
STAGE_LABELS = {
    "dedup": "deduplication",
    "title_abstract": "title/abstract",
    "full_text": "full text",
    "extraction": "extraction",
}
#: The tasks whose counts the run record shows in its sections (the contract's sentences).
SCREEN = "screen publications"
SETTLE_CONFLICTS = "settle conflicts"
DECIDE_PAIRS = "decide uncertain duplicate pairs"
EXTRACT = "extract data of included studies"
SETTLE_DISCREPANCIES = "settle extraction discrepancies"
LATER_DATED = "decisions dated after this run (take effect in a later run)"
TASKS = (SCREEN, SETTLE_CONFLICTS, DECIDE_PAIRS, EXTRACT, SETTLE_DISCREPANCIES, LATER_DATED)


def todo_order(row: TodoRow) -> tuple[int, int, str, str]:
    """Sort key: stage order, then role order, then person, then task.

    >>> todo_order(TodoRow(role="adjudicator", person="", stage="full_text",
    ...                    task="settle conflicts", count=1, items_in="", act_in=""))
    (2, 1, '', 'settle conflicts')
    """
    return (
        STAGES.index(row["stage"]) if row["stage"] in STAGES else len(STAGES),
        ROLES.index(row["role"]) if row["role"] in ROLES else len(ROLES),
        row["person"],
        row["task"],
    )


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
