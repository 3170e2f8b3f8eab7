"""The run summary's scopes: this version's PRISMA box counts and exclusion reasons, the
all-time statuses apart, the reviewers' agreement, and the run that takes in a deferred export
(summary.json and summary.md, without Snakemake)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from livingreview.io import write_tsv
from livingreview.runs.inputs import RunInputs
from livingreview.runs.record import build_run_record
from livingreview.runs.stages import exports_after_run
from livingreview.runs.summary import deferred_export, render_summary
from livingreview.screening.agreement import AGREEMENT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.timezone.utc)
CONFIG = {"run_date": "2026-11-23", "search": {"baseline_until": "2021-10-31"}}

#: counts.tsv as the prisma stage writes it: the published review's flow, one update run and
#: the cumulative flow of the version (which prisma.csv and the update diagram show).
COUNTS = [
    ("previous_studies", "", 0, 21, 21),
    ("previous_reports", "", 0, 21, 21),
    ("database_results", "", 71, 9, 9),
    ("database_specific_results", "", 71, 9, 9),
    ("database_specific_results", "Embase", 39, 4, 4),
    ("database_specific_results", "MEDLINE (PubMed)", 32, 5, 5),
    ("register_results", "", 0, 0, 0),
    ("duplicates", "", 23, 2, 2),
    ("records_screened", "", 48, 5, 5),
    ("records_excluded", "", 25, 1, 1),
    ("dbr_sought_reports", "", 23, 4, 4),
    ("dbr_notretrieved_reports", "", 0, 1, 1),
    ("dbr_assessed", "", 23, 2, 2),
    ("dbr_excluded", "", 3, 1, 1),
    ("dbr_excluded", "Patients not adults", 2, 1, 1),
    ("dbr_excluded", "Meeting (congress) abstract", 1, 0, 0),
    ("new_studies", "", 21, 0, 0),
    ("new_reports", "", 21, 1, 1),
    ("total_studies", "", 21, 21, 21),
    ("total_reports", "", 21, 22, 22),
    ("awaiting_title_abstract", "", 0, 2, 2),
    ("awaiting_full_text", "", 0, 1, 1),
    ("known_study_reports", "", 0, 1, 1),
]


def write_counts(path: Path) -> str:
    columns = ["box", "label", "baseline", "2026-11-23", "cumulative"]
    write_tsv(path, [dict(zip(columns, row, strict=True)) for row in COUNTS], columns)
    return str(path)


def write_agreement(path: Path) -> str:
    """Title/abstract: 20/5/10/15 (hand-computed: p_o 0.7, p_e 0.5, κ 0.4); full text: none."""
    rows = [
        {
            "stage": "title_abstract",
            "compared": "include or maybe vs exclude",
            "reviewers": "reviewer-1; reviewer-2",
            "publications_compared": 50,
            "both_include": 20,
            "r1_include_r2_exclude": 5,
            "r1_exclude_r2_include": 10,
            "both_exclude": 15,
            "proportionate_agreement": "0.700",
            "expected_agreement": "0.500",
            "kappa": "0.400",
            "note": "",
            "not_retrieved_left_out": 0,
            "maybe_left_out": 0,
            "awaiting_second_decision": 3,
            "more_than_two_reviewers": 0,
        },
        {
            "stage": "full_text",
            "compared": "include vs exclude (not retrieved and maybe left out)",
            "reviewers": "",
            "publications_compared": 0,
            **dict.fromkeys(("both_include", "r1_include_r2_exclude", "r1_exclude_r2_include"), 0),
            "both_exclude": 0,
            "proportionate_agreement": "",
            "expected_agreement": "",
            "kappa": "",
            "note": "no publication decided by two reviewers yet",
            "not_retrieved_left_out": 1,
            "maybe_left_out": 0,
            "awaiting_second_decision": 0,
            "more_than_two_reviewers": 0,
        },
    ]
    write_tsv(path, rows, AGREEMENT_COLUMNS)
    return str(path)


def write_status(path: Path) -> str:
    statuses = ["excluded_title_abstract"] * 26 + ["included"] * 20 + ["awaiting_title_abstract"]
    write_tsv(
        path,
        [{"publication_id": f"p{i}", "status": s} for i, s in enumerate(statuses)],
        ["publication_id", "status"],
    )
    return str(path)


def record(tmp_path: Path, **inputs: str) -> dict:
    summary, _ = build_run_record(
        "2026-11-23", CONFIG, RunInputs(**inputs), code_base=tmp_path, now=NOW
    )
    return summary


def test_summary_gives_the_versions_box_counts_and_reasons_and_the_all_time_statuses_apart(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    summary = record(
        tmp_path,
        prisma_counts=write_counts(tmp_path / "counts.tsv"),
        screening_status=write_status(tmp_path / "status.tsv"),
    )
    prisma = summary["prisma"]
    assert prisma["flow"] == "cumulative"
    assert (prisma["searches_after"], prisma["searches_until"]) == ("2021-10-31", "2026-11-23")
    boxes = prisma["boxes"]
    # the version's flow, not the published review's (baseline column)
    assert boxes["records_excluded"] == 1 and boxes["duplicates"] == 2
    assert boxes["awaiting_title_abstract"] == 2 and boxes["awaiting_full_text"] == 1
    assert boxes["known_study_reports"] == 1
    assert prisma["records_by_database"] == [
        {"database": "Embase", "records": 4},
        {"database": "MEDLINE (PubMed)", "records": 5},
    ]
    # a reason counted only in the published review's flow is not one of this version's
    assert prisma["full_text_exclusion_reasons"] == [
        {"arm": "databases and registers", "reason": "Patients not adults", "reports": 1}
    ]
    # the statuses stay all-time, and say so
    assert summary["screening"]["status_counts"]["excluded_title_abstract"] == 26
    assert summary["screening"]["status_counts_scope"].startswith("all time")
    json.dumps(summary)  # summary.json holds it as it is

    text = render_summary(summary)
    flow = text.split("## PRISMA 2020 flow of this version (since the published review)")[1]
    flow = flow.split("\n## ")[0]
    assert "Update searches after 2021-10-31 up to 2026-11-23" in flow
    assert "- records identified from databases: 9 (Embase 4, MEDLINE (PubMed) 5)" in flow
    assert (
        "- records screened: 5; awaiting screening: 2 "
        "(identified 9 - removed 2 = screened 5 + awaiting 2)" in flow
    )
    assert "- records excluded at title/abstract: 1" in flow
    assert "- reports sought for retrieval: 4; not retrieved: 1" in flow
    assert "- reports assessed for eligibility: 2; awaiting assessment: 1" in flow
    assert "- new studies included: 0; reports included: 1 (0 of new studies, 1 of studies" in flow
    assert (
        "### Reports excluded at full text, by reason (this version)\n- Patients not adults: 1"
        in (flow)
    )
    assert "Meeting (congress) abstract" not in flow
    # the all-time title/abstract exclusions are not this version's
    assert ": 26" not in flow and "status" not in flow
    screening = text.split("## Screening")[1].split("\n## ")[0]
    assert "### Status of every publication (all time" in screening
    assert "- status excluded_title_abstract: 26" in screening


def test_summary_without_the_prisma_counts_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = record(tmp_path)
    assert summary["prisma"] == {"available": False, "missing": ["prisma_counts"]}
    assert summary["agreement"] == {"available": False, "missing": ["screening_agreement"]}
    text = render_summary(summary)
    assert "not produced by this run (missing: prisma_counts)" in text
    assert "not produced by this run (missing: screening_agreement)" in text


def test_summary_gives_the_reviewers_agreement_per_stage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = record(tmp_path, screening_agreement=write_agreement(tmp_path / "agreement.tsv"))
    title, full = summary["agreement"]["stages"]
    assert title["stage"] == "title_abstract" and title["kappa"] == 0.4
    assert (title["both_include"], title["r1_include_r2_exclude"]) == (20, 5)
    assert (title["r1_exclude_r2_include"], title["both_exclude"]) == (10, 15)
    assert title["publications_compared"] == 50 and title["proportionate_agreement"] == 0.7
    assert title["reviewers"] == ["reviewer-1", "reviewer-2"]
    assert full["kappa"] is None and full["publications_compared"] == 0
    assert full["not_retrieved_left_out"] == 1

    text = render_summary(summary)
    section = text.split("## Agreement between reviewers (before adjudication)\n")[1]
    lines = [line for line in section.split("\n## ")[0].splitlines() if line.startswith("- ")]
    assert lines == [
        "- title/abstract: κ = 0.400, proportionate agreement 0.700 (n = 50); both include 20, "
        "reviewer 1 include / reviewer 2 exclude 5, reviewer 1 exclude / reviewer 2 include 10, "
        "both exclude 15 (awaiting a second decision 3)",
        "- full text: no publication decided by two reviewers yet (not retrieved, left out 1)",
    ]


def test_a_deferred_export_names_the_run_that_takes_it_in():
    imports = [
        # searched before the run, entering a later run named in the config
        {
            "database": "embase",
            "search_date": "2026-11-20",
            "entry_run": "2026-11-30",
            "files": ["e.ris"],
        },
        # searched after the run: the first run on or after its search takes it in
        {"database": "wos", "search_date": "2026-12-01", "files": ["w.txt"]},
    ]
    embase, wos = exports_after_run(imports, "2026-11-23")
    assert embase["entry_run"] == "2026-11-30" and wos["entry_run"] is None
    assert deferred_export(embase) == (
        "the embase export searched 2026-11-20 (`e.ris`): it enters the run of 2026-11-30 "
        "(its entry_run)"
    )
    assert "after the run date" not in deferred_export(embase)
    assert deferred_export(wos).endswith(
        "searched after this run; the first run dated on or after 2026-12-01 takes it in"
    )


def test_the_rule_declares_what_the_summary_reads():
    rule = (ROOT / "workflow" / "rules" / "runs.smk").read_text(encoding="utf-8")
    block = rule.split("rule run_record:")[1].split("output:")[0]
    assert 'prisma_counts="results/prisma/counts.tsv"' in block
    assert 'screening_agreement="results/screening/agreement.tsv"' in block
