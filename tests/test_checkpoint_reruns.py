"""Stages downstream of screening rerun when what they read changed, and only then.

The screening stage rewrites included_reports.tsv on every decision, the extraction stage its
tables and the PRISMA ledger its count table whenever they run. These jobs are checkpoints,
and the jobs after them read those files by content (workflow/rules/common.smk:
checkpoint_inputs, checkpoint_content): a title/abstract decision reruns screening and the
PRISMA ledger, not extraction or the synthesis (nor the diagrams when no count moved); a new
included study with its data reruns the pooling, the forest plots and what's new in the same
run.

The decisions and numbers below are a **hypothetical test scenario** written into a temporary
copy of the project; they are not the review's and never enter resources/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import copy_finished_run, run_snakemake
from extraction_rows import TACROLIMUS_ARM
from run_support import only_registration

from livingreview.extraction.sheets import SHEET_COLUMNS
from livingreview.io import read_rows

pytestmark = pytest.mark.workflow

RUN_DATE = "2026-11-23"
TA_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\n"
FT_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
NEW_STUDY = "checkpoint-test-2024"
#: The shared synthetic arm, without its optional reason columns.
ARM = {k: v for k, v in TACROLIMUS_ARM.items() if not k.startswith("reason_")}
SYNTHESIS_RULES = {"crosstabulate", "pool_remission", "forest_plots", "whats_new"}
JOB = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):", re.MULTILINE)


def jobs_run(project: Path) -> set[str]:
    """Run the workflow; the rules whose jobs ran."""
    result = run_snakemake(project)
    return set(JOB.findall(result.stdout + result.stderr))


def awaiting_update_records(project: Path) -> list[str]:
    """Publications of the update run nobody has screened yet (the default project's)."""
    return sorted(
        row["publication_id"]
        for row in read_rows(project / "results" / "screening" / "status.tsv")
        if row["status"] == "awaiting_title_abstract"
    )


@pytest.fixture
def project(default_run, tmp_path) -> Path:
    return copy_finished_run(default_run, tmp_path / "project")


def test_a_title_abstract_decision_reruns_screening_and_prisma_not_the_synthesis(project):
    record = awaiting_update_records(project)[0]
    results = project / "results"
    kept = [
        results / "extraction" / "studies.tsv",
        results / "synthesis" / "meta_analysis.tsv",
        results / "synthesis" / "forest_both.svg",
        results / "synthesis" / "whats_new.md",
    ]
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept}
    counts_before = (results / "prisma" / "counts.tsv").read_text(encoding="utf-8")
    for reviewer in ("reviewer-1", "reviewer-2"):  # both: the publication is excluded
        (project / "resources" / "screening" / "title_abstract" / f"{reviewer}.tsv").write_text(
            TA_HEADER + f"{record}\texclude\tnot_aih\t\t{RUN_DATE}\n", encoding="utf-8"
        )

    ran = jobs_run(project)

    assert {"screen", "prisma_ledger", "prisma_flowchart", "run_record"} <= ran
    assert not ran & (SYNTHESIS_RULES | {"merge_extractions", "check_extraction_sheets"})
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept} == before
    # ...while the PRISMA counts did follow the decision.
    assert (results / "prisma" / "counts.tsv").read_text(encoding="utf-8") != counts_before
    assert only_registration(run_snakemake(project, "--dry-run"))


def test_a_decision_that_moves_no_count_does_not_redraw_the_diagrams(project):
    """The first of two reviewers' decisions: the publication still awaits the second, so
    the PRISMA ledger is rebuilt but its counts, and so the diagrams, stay as they were."""
    record = awaiting_update_records(project)[0]
    results = project / "results"
    counts = (results / "prisma" / "counts.tsv").read_bytes()
    diagram = results / "prisma" / "flow.svg"
    drawn = (diagram.read_bytes(), diagram.stat().st_mtime_ns)
    (project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv").write_text(
        TA_HEADER + f"{record}\texclude\tnot_aih\t\t{RUN_DATE}\n", encoding="utf-8"
    )

    ran = jobs_run(project)

    assert {"screen", "prisma_ledger", "run_record"} <= ran
    assert not ran & (SYNTHESIS_RULES | {"merge_extractions", "prisma_flowchart"})
    assert (results / "prisma" / "counts.tsv").read_bytes() == counts
    assert (diagram.read_bytes(), diagram.stat().st_mtime_ns) == drawn


def both_include(project: Path, record: str) -> None:
    """Both reviewers include ``record`` at both stages as the report of NEW_STUDY."""
    screening = project / "resources" / "screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            TA_HEADER + f"{record}\tinclude\t\t\t{RUN_DATE}\n", encoding="utf-8"
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            FT_HEADER + f"{record}\tinclude\t\t\t{RUN_DATE}\t{NEW_STUDY}\n", encoding="utf-8"
        )


def test_a_new_included_study_with_its_data_reruns_pooling_in_the_same_run(project):
    record = awaiting_update_records(project)[0]
    both_include(project, record)
    for extractor in ("ab", "cd"):  # two agreeing extractors: the study is accepted
        sheet = project / "resources" / "extraction" / NEW_STUDY / f"{extractor}.tsv"
        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_text(
            "\t".join(SHEET_COLUMNS)
            + "\n"
            + "\t".join(ARM.get(c, "") for c in SHEET_COLUMNS)
            + "\n",
            encoding="utf-8",
        )

    ran = jobs_run(project)

    assert {"screen", "merge_extractions"} | SYNTHESIS_RULES <= ran
    studies = read_rows(project / "results" / "extraction" / "studies.tsv")
    assert NEW_STUDY in {row["study_id"] for row in studies}
    forest = (project / "results" / "synthesis" / "forest_tacrolimus.svg").read_text("utf-8")
    assert f"<!-- {NEW_STUDY} (new {RUN_DATE}) -->" in forest
    assert only_registration(run_snakemake(project, "--dry-run"))


def test_an_inclusion_without_data_reruns_extraction_not_pooling(project):
    """The included studies' data did not change: the study waits for its extraction."""
    record = awaiting_update_records(project)[0]
    both_include(project, record)

    ran = jobs_run(project)

    assert {"screen", "merge_extractions"} <= ran
    assert not ran & {"pool_remission", "whats_new"}
    status = read_rows(project / "results" / "extraction" / "status.tsv")
    assert NEW_STUDY in {row["study_id"] for row in status}


def test_an_edited_extraction_reruns_pooling(project):
    """The published review's arm table is the baseline studies' extraction: an edit that
    reaches the study table (here its provenance) reruns the synthesis."""
    arms = project / "resources" / "baseline" / "arms.tsv"
    header, first, *rest = arms.read_text(encoding="utf-8").splitlines(keepends=True)
    columns = header.rstrip("\n").split("\t")
    row = dict(zip(columns, first.rstrip("\n").split("\t"), strict=True))
    row["provenance"] += " (checked again)"
    arms.write_text(
        "".join([header, "\t".join(row[c] for c in columns) + "\n", *rest]), encoding="utf-8"
    )

    ran = jobs_run(project)

    assert {"merge_extractions"} | SYNTHESIS_RULES <= ran
    assert only_registration(run_snakemake(project, "--dry-run"))


def test_a_resaved_baseline_table_reruns_its_readers_not_pooling(project):
    """arms.tsv saved again with Windows line endings: every rule that reads it reruns
    (crosstabulate reads it itself), the study table comes out the same, so the pooling and
    what's new do not rerun."""
    arms = project / "resources" / "baseline" / "arms.tsv"
    arms.write_bytes(arms.read_bytes().replace(b"\n", b"\r\n"))
    studies = project / "results" / "extraction" / "studies.tsv"
    before = studies.read_bytes()

    ran = jobs_run(project)

    assert {"check_extraction_sheets", "merge_extractions", "crosstabulate"} <= ran
    assert not ran & {"pool_remission", "whats_new", "forest_plots"}
    assert studies.read_bytes() == before
