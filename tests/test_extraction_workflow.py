"""Extraction to forest plot in the workflow: a discrepancy waits for the adjudicator, then the
adjudicated study enters the synthesis, named and marked new.

The two reviewers include one of the recorded update's PubMed records at full text as a new
study; two extractors disagree on one count, one of them leaving out the optional columns.
These decisions and numbers are a **hypothetical test scenario** written into a temporary copy
of the project; they are not the review's and never enter resources/.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import copy_finished_run, run_snakemake

from livingreview.extraction.sheets import SHEET_COLUMNS, SHEET_REQUIRED_COLUMNS
from livingreview.todo import TODO_COLUMNS

pytestmark = pytest.mark.workflow

NEW_STUDY = "test-study-2023"
RECORD = "pubmed:37876996"
RUN_DATE = "2026-11-23"
ARM = {
    "record_type": "arm",
    "cni": "tacrolimus",
    "n": "10",
    "remission": "6",
    "response": "2",
    "failure": "1",
    "unknown": "1",
}


def table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def write_sheet(project: Path, name: str, row: dict[str, str], columns: tuple[str, ...]) -> None:
    sheet = project / "resources" / "extraction" / NEW_STUDY / f"{name}.tsv"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text(
        "\t".join(columns) + "\n" + "\t".join(row.get(c, "") for c in columns) + "\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def project(default_run, tmp_path_factory):
    project = copy_finished_run(
        default_run, tmp_path_factory.mktemp("extraction_workflow") / "project"
    )
    screening = project / "resources" / "screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            f"record_id\tdecision\treason\tnote\tdecided_on\n{RECORD}\tinclude\t\t\t{RUN_DATE}\n"
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
            f"{RECORD}\tinclude\t\t\t{RUN_DATE}\t{NEW_STUDY}\n"
        )
    write_sheet(project, "ab", ARM, SHEET_COLUMNS)
    write_sheet(project, "cd", {**ARM, "remission": "5", "unknown": "2"}, SHEET_REQUIRED_COLUMNS)
    return project


@pytest.fixture(scope="module")
def disagreeing(project):
    run_snakemake(project)
    results = project / "results"
    return {
        "todo": table(results / "extraction" / "todo.tsv"),
        "status": table(results / "extraction" / "status.tsv"),
        "discrepancies": table(results / "extraction" / "discrepancies.tsv"),
        "forest": (results / "synthesis" / "forest_tacrolimus.svg").read_text(encoding="utf-8"),
    }


@pytest.fixture(scope="module")
def adjudicated(project, disagreeing):
    write_sheet(project, "adjudicated", ARM, SHEET_REQUIRED_COLUMNS)
    run_snakemake(project)
    return project / "results"


def test_disagreement_waits_for_the_adjudicator(disagreeing):
    assert [(r["study_id"], r["status"]) for r in disagreeing["status"]] == [
        (NEW_STUDY, "discrepancies")
    ]
    assert {(r["field"], r["value_a"], r["value_b"]) for r in disagreeing["discrepancies"]} == {
        ("remission", "6", "5"),
        ("unknown", "1", "2"),
    }
    assert [list(r.values()) for r in disagreeing["todo"]] == [
        [
            "adjudicator",
            "",
            "extraction",
            "settle extraction discrepancies",
            "1",
            "results/extraction/discrepancies.tsv",
            f"resources/extraction/{NEW_STUDY}/adjudicated.tsv",
        ]
    ]
    assert NEW_STUDY not in disagreeing["forest"]


def test_todo_has_the_shared_columns_and_empties_once_settled(adjudicated):
    with open(adjudicated / "extraction" / "todo.tsv", encoding="utf-8") as handle:
        assert handle.read() == "\t".join(TODO_COLUMNS) + "\n"
    status = table(adjudicated / "extraction" / "status.tsv")
    assert [(r["status"], r["detail"]) for r in status] == [("accepted", "adjudicated sheet")]


def test_the_adjudicated_study_is_drawn_marked_new(adjudicated):
    # The recorded update's records carry no author or year: the study keeps its id.
    label = f"{NEW_STUDY} (new {RUN_DATE})"
    synthesis = adjudicated / "synthesis"
    assert f"<!-- {label} -->" in (synthesis / "forest_tacrolimus.svg").read_text("utf-8")
    both = (synthesis / "forest_both.svg").read_text("utf-8")
    assert f"<!-- {label} -->" in both and "<!-- both, summed -->" in both
    assert "<!-- Primary: binomial-normal GLMM -->" in both
    assert f"<!-- {label} -->" not in (synthesis / "forest_cyclosporine.svg").read_text("utf-8")


def test_summary_sets_this_version_beside_the_article(adjudicated):
    text = (adjudicated / "synthesis" / "summary.md").read_text(encoding="utf-8")
    assert "| Group | | published 2022 | this version |" in text
    assert "| Tacrolimus | n | 219 | **229** |" in text
    assert "| | Remission | 130 (59%) | **136 (59%)** |" in text
