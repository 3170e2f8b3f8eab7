"""The shared to-do table: only tasks with something to do, in stage, role, person order."""

from __future__ import annotations

from livingreview.io import read_rows
from livingreview.todo import TODO_COLUMNS, TodoRow, write_todo


def task(stage: str, role: str, person: str, count: int) -> TodoRow:
    return TodoRow(
        role=role,
        person=person,
        stage=stage,
        task="t",
        count=count,
        items_in="results/x.tsv",
        act_in="resources/x.tsv",
    )


def test_rows_with_nothing_to_do_are_left_out_and_the_rest_sorted(tmp_path):
    rows = [
        task("extraction", "extractor", "e1", 1),
        task("full_text", "reviewer", "r2", 3),
        task("title_abstract", "adjudicator", "", 2),
        task("title_abstract", "reviewer", "r2", 1),
        task("title_abstract", "reviewer", "r1", 0),
        task("dedup", "data_manager", "", 4),
    ]
    written = write_todo(tmp_path / "todo.tsv", rows)
    assert [(r["stage"], r["role"], r["person"]) for r in written] == [
        ("dedup", "data_manager", ""),
        ("title_abstract", "reviewer", "r2"),
        ("title_abstract", "adjudicator", ""),
        ("full_text", "reviewer", "r2"),
        ("extraction", "extractor", "e1"),
    ]
    table = read_rows(tmp_path / "todo.tsv")
    assert tuple(table[0]) == TODO_COLUMNS
    assert [r["count"] for r in table] == ["4", "1", "2", "3", "1"]


def test_nothing_to_do_writes_the_header_alone(tmp_path):
    write_todo(tmp_path / "todo.tsv", [task("dedup", "data_manager", "", 0)])
    assert (tmp_path / "todo.tsv").read_text() == "\t".join(TODO_COLUMNS) + "\n"
