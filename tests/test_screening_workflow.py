"""Screening through Snakemake, run after run, in a temporary copy of the project.

The copy runs the screening stage alone (a two-line Snakefile including common.smk and
screening.smk) with the dedup output replaced by the fixtures, so the scenario does not
depend on the upstream stages: baseline -> update run -> decisions typed -> rerun.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_snakemake
from run_support import only_registration

pytestmark = pytest.mark.workflow

FIXTURES = Path(__file__).parent / "fixtures" / "screening"
NEW = ["embase:hbc409507e023303b", "embase:hed33daa9e9a5908b", "pubmed:37876996", "pubmed:36746473"]
HEADER = "record_id\tdecision\treason\tnote\tdecided_on\n"
SNAKEFILE = """\
configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/screening.smk"


rule all:
    input:
        all_targets(),
    default_target: True
"""


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    for part in ("config.yaml", "workflow", "src"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, work / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, work / part)
    (work / "resources" / "baseline").mkdir(parents=True)
    shutil.copy2(FIXTURES / "studies.tsv", work / "resources" / "baseline" / "studies.tsv")
    shutil.copytree(FIXTURES / "sheets", work / "resources" / "screening")
    (work / "Snakefile").write_text(SNAKEFILE)
    (work / "results" / "records").mkdir(parents=True)
    return work


def set_unique(work: Path, fixture: str) -> None:
    shutil.copy(FIXTURES / fixture, work / "results" / "records" / "unique.tsv")
    maybe = work / "results" / "records" / "maybe.tsv"
    if not maybe.exists():  # the dedup stage's uncertain pairs: none in these fixtures
        maybe.write_text(
            "record_id_a\trecord_id_b\tpublication_id_a\tpublication_id_b\trule\tscore\n"
        )


def queue(work: Path, stage: str, reviewer: str) -> list[str]:
    return [
        r["record_id"]
        for r in read_rows(work / "results" / "screening" / "queue" / stage / f"{reviewer}.tsv")
    ]


def status(work: Path) -> dict[str, dict[str, str]]:
    return {
        r["publication_id"]: r for r in read_rows(work / "results" / "screening" / "status.tsv")
    }


def todo(work: Path) -> list[dict[str, str]]:
    return read_rows(work / "results" / "screening" / "todo.tsv")


def assert_todo_matches_queues(work: Path) -> None:
    """todo.tsv and summary.txt count exactly the rows of the queue files written."""
    summary = (work / "results" / "screening" / "summary.txt").read_text()
    screen_rows = {
        (r["stage"], r["person"]): r for r in todo(work) if r["task"] == "screen publications"
    }
    for path in sorted((work / "results" / "screening" / "queue").glob("*/*.tsv")):
        stage, reviewer = path.parent.name, path.stem
        rows = len(read_rows(path))
        row = screen_rows.pop((stage, reviewer), None)
        assert (int(row["count"]) if row else 0) == rows, (stage, reviewer)
        if row:
            assert row["items_in"] == f"results/screening/queue/{stage}/{reviewer}.tsv"
            assert row["act_in"] == f"resources/screening/{stage}/{reviewer}.tsv"
        label = {"title_abstract": "title/abstract", "full_text": "full text"}[stage]
        per_stage = summary.split(f"{label}: ", 1)[1].split(";")[0].rstrip(")")
        assert f"{reviewer} {rows}" in per_stage.split(", "), (per_stage, reviewer, rows)
    assert screen_rows == {}


def test_baseline_update_decisions_rerun(project):
    work = project
    human = work / "resources" / "screening"
    config = ("--config", "screening={'reviewers': ['ann', 'bob']}")

    # 1. baseline run: every baseline publication decided, nothing queued
    set_unique(work, "unique_run1.tsv")
    before = fingerprints(human)
    run_snakemake(work, *config, "run_date=2021-10-31")
    assert fingerprints(human) == before
    assert {r["status"] for r in status(work).values()} == {
        "included",
        "excluded_title_abstract",
        "excluded_full_text",
    }
    assert all(
        queue(work, s, r) == [] for s in ("title_abstract", "full_text") for r in ("ann", "bob")
    )
    included = read_rows(work / "results" / "screening" / "included_reports.tsv")
    assert sorted(r["study_id"] for r in included) == ["larsen-2007", "pape-2019", "than-2016"]

    # 2. update run with new search results: exactly the new publications are queued
    set_unique(work, "unique_run2.tsv")
    run_snakemake(work, *config)
    assert fingerprints(human) == before
    for reviewer in ("ann", "bob"):
        assert sorted(queue(work, "title_abstract", reviewer)) == sorted(NEW)
    summary = (work / "results" / "screening" / "summary.txt").read_text()
    assert summary.count("\n") == 1
    assert "4 new publication(s) this run; waiting for ann 4, bob 4 " in summary
    assert_todo_matches_queues(work)
    assert status(work)["pubmed:26458216"]["status"] == "included"  # joined by an Embase record

    # 3. a typing mistake stops the run with file, line and field; nothing is written and
    #    the previous results stay (the sheets are checked by a rule of their own)
    (human / "title_abstract" / "ann.tsv").write_text(
        HEADER + f"{NEW[0]}\tinclude\t\t\t2026-11-20\n{NEW[1]}\texclude\tdull\t\t2026-11-20\n"
    )
    before = fingerprints(human)
    results_before = (work / "results" / "screening" / "status.tsv").read_bytes()
    result = run_snakemake(work, *config, check=False)
    assert result.returncode != 0
    assert (work / "results" / "screening" / "status.tsv").read_bytes() == results_before
    log = (work / "logs" / "checks" / "screening_sheets.log").read_text()
    assert "ann.tsv, line 3, field 'reason'" in log and "'dull'" in log
    assert fingerprints(human) == before

    # 4. decisions typed: agreement moves records on, disagreement becomes a conflict
    (human / "title_abstract" / "ann.tsv").write_text(
        HEADER
        + f"{NEW[0]}\tinclude\t\t\t2026-11-20\n{NEW[1]}\texclude\ttransplant_setting\t\t2026-11-20\n{NEW[2]}\tinclude\t\t\t2026-11-20\n"
    )
    # bob saves from Excel as "Unicode Text": UTF-16 with a byte-order mark, CRLF line ends
    (human / "title_abstract" / "bob.tsv").write_bytes(
        (
            HEADER
            + f"{NEW[0]}\tmaybe\t\tcheck the tables \u2013 p. 3\t2026-11-21\n{NEW[1]}\texclude\ttransplant_setting\t\t2026-11-21\n{NEW[2]}\texclude\tno_cni_outcomes\t\t2026-11-21\n"
        )
        .replace("\n", "\r\n")
        .encode("utf-16")
    )
    before = fingerprints(human)
    run_snakemake(work, *config)
    assert fingerprints(human) == before
    rows = status(work)
    assert rows[NEW[0]]["status"] == "awaiting_full_text"
    assert (
        rows[NEW[1]]["status"] == "excluded_title_abstract"
        and rows[NEW[1]]["exclusion_reason"] == "transplant_setting"
    )
    assert rows[NEW[2]]["open_conflict"] == "title_abstract"
    assert queue(work, "title_abstract", "ann") == queue(work, "title_abstract", "bob") == [NEW[3]]
    assert queue(work, "full_text", "ann") == queue(work, "full_text", "bob") == [NEW[0]]
    [conflict] = read_rows(work / "results" / "screening" / "conflicts.tsv")
    assert (conflict["publication_id"], conflict["state"]) == (NEW[2], "open")
    assert_todo_matches_queues(work)
    assert [
        (r["role"], r["stage"], r["count"], r["act_in"])
        for r in todo(work)
        if r["task"] == "settle conflicts"
    ] == [
        (
            "adjudicator",
            "title_abstract",
            "1",
            "resources/screening/title_abstract/adjudication.tsv",
        )
    ]

    # 5. adjudication and full-text decisions; the inclusion links a new study
    (human / "title_abstract" / "adjudication.tsv").write_text(
        HEADER.replace("\n", "\tadjudicator\n")
        + f"{NEW[2]}\texclude\tno_cni_outcomes\tepidemiology only\t2026-11-22\tcarol\n"
    )
    for reviewer in ("ann", "bob"):
        (human / "full_text" / f"{reviewer}.tsv").write_text(
            HEADER.replace("\n", "\tstudy_id\n")
            + f"{NEW[0]}\tinclude\t\t\t2026-11-23\tnew-review-2024\n"
        )
    before = fingerprints(human)
    run_snakemake(work, *config)
    assert fingerprints(human) == before
    rows = status(work)
    assert (
        rows[NEW[2]]["status"] == "excluded_title_abstract"
        and rows[NEW[2]]["decided_by"] == "carol"
    )
    assert rows[NEW[0]]["status"] == "included" and rows[NEW[0]]["study_id"] == "new-review-2024"
    included = {
        r["publication_id"]: r
        for r in read_rows(work / "results" / "screening" / "included_reports.tsv")
    }
    assert (
        included[NEW[0]]["new_study"] == "yes" and included["pubmed:31658173"]["new_study"] == "no"
    )
    assert queue(work, "full_text", "ann") == []
    assert_todo_matches_queues(work)
    assert not [r for r in todo(work) if r["role"] == "adjudicator"]  # adjudicated: none open

    # 6. nothing left to do, and the baseline sheets were never touched
    dry = run_snakemake(work, *config, "--dry-run")
    assert only_registration(dry), dry.stdout
    for stage in ("title_abstract", "full_text"):
        sheet = f"{stage}/baven-pronk-2022.tsv"
        assert (human / sheet).read_bytes() == (FIXTURES / "sheets" / sheet).read_bytes()


def test_project_baseline_decisions_reproduce_the_published_review(project_copy):
    """The shipped baseline sheets on the real upstream stages (search replay, Embase
    reconstruction, dedup): every baseline publication decided, the 20 published studies
    included under their ids, update-run publications queued, human files untouched."""
    work = project_copy
    human = work / "resources"
    before = fingerprints(human)
    run_snakemake(work, "results/screening/status.tsv")
    assert fingerprints(human) == before
    rows = status(work)
    baseline = {p: r for p, r in rows.items() if r["first_run"] == "2021-10-31"}
    assert baseline and all(
        r["status"] in ("included", "excluded_title_abstract", "excluded_full_text")
        for r in baseline.values()
    )
    assert all(r["decided_by"] == "baven-pronk-2022" for r in baseline.values())
    assert all(r["exclusion_reason"] for r in baseline.values() if r["status"] != "included")
    studies = {r["study_id"] for r in read_rows(ROOT / "resources" / "baseline" / "studies.tsv")}
    included = read_rows(work / "results" / "screening" / "included_reports.tsv")
    assert sorted(r["study_id"] for r in included) == sorted(
        studies - {"dutch-cohort"}
    )  # unpublished: no record
    assert all(r["new_study"] == "no" for r in included)
    new = {p for p, r in rows.items() if r["first_run"] != "2021-10-31"}
    reviewers = yaml.safe_load((work / "config.yaml").read_text())["screening"]["reviewers"]
    assert new, "the update run should bring publications the baseline did not have"
    for reviewer in reviewers:
        assert set(queue(work, "title_abstract", reviewer)) == {
            p for p in new if rows[p]["status"] == "awaiting_title_abstract"
        }


def test_a_decision_saved_today_counts_and_the_check_job_refuses_the_future(project):
    """run_date (2026-11-23) chooses the searches; a decision saved today counts in the next
    run, whatever its date. A date after today is a typo: the check job, which reads the
    clock when it runs, refuses it and nothing is rewritten."""
    work = project
    human = work / "resources" / "screening"
    reviewers = "screening={'reviewers': ['ann', 'bob']}"
    set_unique(work, "unique_run2.tsv")
    today = dt.date.today().isoformat()
    (human / "title_abstract" / "ann.tsv").write_text(
        HEADER + f"{NEW[0]}\texclude\tnot_adult\t\t{today}\n"
    )
    run_snakemake(work, "--config", reviewers, "run_date=2026-11-23")
    assert not (work / "results" / "screening" / "deferred.tsv").exists()
    assert "later_dated_decisions" not in status(work)[NEW[0]]
    assert status(work)[NEW[0]]["awaiting_reviewers"] == "bob"
    assert NEW[0] not in queue(work, "title_abstract", "ann")
    assert_todo_matches_queues(work)

    status_before = (work / "results" / "screening" / "status.tsv").read_bytes()
    (human / "title_abstract" / "ann.tsv").write_text(
        HEADER + f"{NEW[0]}\texclude\tnot_adult\t\t2999-01-01\n"
    )
    failed = run_snakemake(work, "--config", reviewers, "run_date=2026-11-23", check=False)
    assert failed.returncode != 0
    log = (work / "logs" / "checks" / "screening_sheets.log").read_text()
    assert "ann.tsv, line 2, field 'decided_on'" in log and "after today's date" in log
    assert (work / "results" / "screening" / "status.tsv").read_bytes() == status_before
