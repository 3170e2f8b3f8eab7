"""An update run that includes a new study, end to end.

After the default run (baseline + the recorded 2026-11-23 update), the two reviewers screen the
two new PubMed records: one is excluded, the other included at full text as a new study with
two agreeing extraction sheets. These decisions and numbers are a **hypothetical test
scenario** written into a temporary copy of the project; they are not the review's decisions and
never enter resources/.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from conftest import copy_project, run_snakemake

from livingreview.extraction import SHEET_COLUMNS

pytestmark = pytest.mark.workflow

NEW_STUDY = "test-study-2023"
INCLUDED_RECORD = "pubmed:37876996"
EXCLUDED_RECORD = "pubmed:36746473"
TA_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\n"
FT_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
ARM = {
    "record_type": "arm",
    "cni": "tacrolimus",
    "n": "10",
    "remission": "6",
    "response": "2",
    "failure": "1",
    "unknown": "1",
    "reason_insufficient_response": "7",
    "reason_intolerance": "3",
    "reason_not_specified": "0",
}
SUBGROUPS = [
    {
        "record_type": "subgroup",
        "cni": "tacrolimus",
        "grouping": "indication",
        "group": "insufficient_response",
        "n": "7",
        "remission": "4",
        "response": "2",
        "failure": "1",
        "unknown": "0",
    },
    {
        "record_type": "subgroup",
        "cni": "tacrolimus",
        "grouping": "indication",
        "group": "intolerance",
        "n": "3",
        "remission": "2",
        "response": "0",
        "failure": "0",
        "unknown": "1",
    },
]


def table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def updated(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("update_scenario"))
    run_snakemake(project)
    first_meta = table(project / "results" / "synthesis" / "meta_analysis.tsv")
    screening = project / "resources" / "screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            TA_HEADER
            + f"{INCLUDED_RECORD}\tinclude\t\t\t2026-11-23\n"
            + f"{EXCLUDED_RECORD}\texclude\tno_own_patients\t\t2026-11-23\n"
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            FT_HEADER + f"{INCLUDED_RECORD}\tinclude\t\t\t2026-11-23\t{NEW_STUDY}\n"
        )
    for extractor in ("ab", "cd"):
        sheet = project / "resources" / "extraction" / NEW_STUDY / f"{extractor}.tsv"
        sheet.parent.mkdir(parents=True, exist_ok=True)
        rows = [ARM, *SUBGROUPS]
        sheet.write_text(
            "\n".join(
                ["\t".join(SHEET_COLUMNS)]
                + ["\t".join(r.get(c, "") for c in SHEET_COLUMNS) for r in rows]
            )
            + "\n"
        )
    human_before = fingerprints(project / "resources")
    run_snakemake(project)
    return project, first_meta, human_before


def test_human_files_are_untouched(updated):
    project, _, human_before = updated
    assert fingerprints(project / "resources") == human_before


def test_screening_moves_the_records_on(updated):
    project, _, _ = updated
    status = {
        r["publication_id"]: r for r in table(project / "results" / "screening" / "status.tsv")
    }
    assert status[INCLUDED_RECORD]["status"] == "included"
    assert status[INCLUDED_RECORD]["study_id"] == NEW_STUDY
    assert status[EXCLUDED_RECORD]["status"] == "excluded_title_abstract"
    for stage in ("title_abstract", "full_text"):
        for reviewer in ("reviewer-1", "reviewer-2"):
            assert (
                table(project / "results" / "screening" / "queue" / stage / f"{reviewer}.tsv") == []
            )


def test_the_new_study_enters_the_synthesis(updated):
    project, _, _ = updated
    studies = table(project / "results" / "extraction" / "studies.tsv")
    assert len(studies) == 25
    baseline = [s for s in studies if s["version"] == "baseline"]
    # The published figures stay reproducible from the baseline rows on their own.
    assert sum(int(s["n"]) for s in baseline if s["cni"] == "tacrolimus") == 219
    assert sum(int(s["remission"]) for s in baseline if s["cni"] == "tacrolimus") == 130
    outcomes = {
        (r["grouping"], r["group"]): r
        for r in table(project / "results" / "synthesis" / "outcomes.tsv")
    }
    assert (outcomes[("cni", "tacrolimus")]["n"], outcomes[("cni", "tacrolimus")]["remission"]) == (
        "229",
        "136",
    )
    assert (
        outcomes[("cni", "cyclosporine")]["n"],
        outcomes[("cni", "cyclosporine")]["remission"],
    ) == ("59", "35")
    assert (
        outcomes[("indication", "insufficient_response")]["n"],
        outcomes[("indication", "insufficient_response")]["remission"],
    ) == ("207", "109")
    assert outcomes[("indication", "intolerance")]["n"] == "63"
    assert outcomes[("line", "second")]["n"] == "203"  # the new study reports no line


def test_pooled_estimates_move_and_whats_new_says_so(updated):
    project, first_meta, _ = updated
    meta = {
        (r["subgroup"], r["method"]): r
        for r in table(project / "results" / "synthesis" / "meta_analysis.tsv")
    }
    before = {(r["subgroup"], r["method"]): r for r in first_meta}
    assert meta[("tacrolimus", "DL")]["k"] == "13" and meta[("both", "DL")]["k"] == "22"
    assert meta[("tacrolimus", "DL")]["estimate"] != before[("tacrolimus", "DL")]["estimate"]
    assert meta[("cyclosporine", "REML")] == before[("cyclosporine", "REML")]
    text = (project / "results" / "synthesis" / "whats_new.md").read_text()
    assert f"Studies entered: {NEW_STUDY}." in text
    assert "published review" in text
    rows = {
        (r["subgroup"], r["method"]): r
        for r in table(project / "results" / "synthesis" / "whats_new.tsv")
    }
    assert rows[("tacrolimus", "DL")]["previous_k"] == "12"
    assert float(rows[("tacrolimus", "DL")]["previous_estimate"]) == pytest.approx(
        float(before[("tacrolimus", "DL")]["estimate"])
    )


def test_prisma_counts_the_new_study(updated):
    project, _, _ = updated
    prisma = {r["data"]: r["n"] for r in table_csv(project / "results" / "prisma" / "prisma.csv")}
    assert prisma["previous_studies"] == "21"
    assert prisma["new_studies"] == "1"
    assert prisma["total_studies"] == "22"
    assert prisma["records_screened"] == "2"
    assert prisma["records_excluded"] == "1"


def table_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_run_record_names_the_added_study(updated):
    project, _, _ = updated
    summary = (project / "results" / "runs" / "2026-11-23" / "summary.md").read_text()
    assert f"studies added in this run: 1 ({NEW_STUDY})" in summary
    assert "**changed** compared with the published review" in summary
    assert "tacrolimus DL:" in summary and "(k 12 -> 13)" in summary
