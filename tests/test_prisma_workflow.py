"""The prisma rules on the project's own recorded data, in a temporary copy of the project.

Runs search (replay), imports, dedup, screening and the two prisma rules, then the
Snakemake report. Checks the files against each other, the baseline against the published
review, and that a broken identity fails the job naming the record.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from conftest import copy_finished_run, copy_project, run_snakemake
from prisma2020 import (
    assert_read_as_counted,
    csv_rows,
    load_in_prisma2020,
    matching_rows,
    r_lookups,
    r_unavailable,
    template_keys,
)

from livingreview.io import read_tsv, write_tsv
from livingreview.prisma.counts import flow_counts, read_counts
from livingreview.prisma.identities import check_identities
from livingreview.prisma.ledger import LEDGER_COLUMNS
from livingreview.prisma.prisma_csv import parse_multi_cell
from livingreview.prisma.template import BOXES, MULTI_BOXES, TEMPLATE_COLUMNS, TEMPLATE_ROWS

pytestmark = pytest.mark.workflow
TARGETS = (
    "results/prisma/flow.svg",
    "results/prisma/ledger.tsv",
    "results/prisma/excluded_reports.tsv",
)


@pytest.fixture(scope="module")
def prisma_run(default_run, tmp_path_factory):
    """A private copy of the default run (its PRISMA outputs are up to date)."""
    return copy_finished_run(default_run, tmp_path_factory.mktemp("prisma_run") / "project")


def _ledger(workdir):
    return read_tsv(
        workdir / "results/prisma/ledger.tsv",
        required=LEDGER_COLUMNS,
        allowed=LEDGER_COLUMNS,
    )


def test_ledger_and_prisma_csv_agree(prisma_run):
    ledger = _ledger(prisma_run)
    check_identities(ledger)
    for name, flow in (("prisma.csv", "cumulative"), ("prisma_baseline.csv", "baseline")):
        with open(prisma_run / "results/prisma" / name, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == list(TEMPLATE_COLUMNS)
        assert [r["data"] for r in rows[: len(TEMPLATE_ROWS)]] == [r[0] for r in TEMPLATE_ROWS]
        for row in rows:
            box = row["data"]
            in_box = [r for r in ledger if r["flow"] == flow and r["box"] == box]
            if box in MULTI_BOXES:
                assert sum(n for _, n in parse_multi_cell(row["n"])) == len(in_box), (
                    name,
                    box,
                )
            elif box in BOXES:
                assert int(row["n"]) == len(in_box), (name, box)


def test_prisma2020_finds_every_row_it_looks_up(prisma_run):
    keys = template_keys()
    for name in ("prisma.csv", "prisma_baseline.csv"):
        rows = csv_rows((prisma_run / "results/prisma" / name).read_text(encoding="utf-8"))
        assert [(r["data"], r["node"], r["box"]) for r in rows[: len(keys)]] == keys, name
        for column, pattern in r_lookups():
            assert len(matching_rows(rows, column, pattern)) == 1, (name, column, pattern)


@pytest.mark.r
def test_prisma2020_reads_and_draws_the_counts_of_flow_svg(prisma_run):
    """PRISMA2020's own code (1.1.4; 1.1.3 reads the same way) loads both files with no error
    or warning and draws the numbers counts.tsv holds, from which flow.svg is drawn."""
    reason = r_unavailable()
    if reason:
        pytest.skip(reason)
    folder = prisma_run / "results/prisma"
    paths = {"cumulative": folder / "prisma.csv", "baseline": folder / "prisma_baseline.csv"}
    loaded = load_in_prisma2020(list(paths.values()))
    counts, breakdowns, _ = read_counts(folder / "counts.tsv")
    for flow, path in paths.items():
        assert_read_as_counted(loaded[str(path)], counts[flow], breakdowns.get(flow, {}))


def test_baseline_flow_is_the_published_review(prisma_run):
    ledger = _ledger(prisma_run)
    studies = read_tsv(
        prisma_run / "resources/baseline/studies.tsv", required=("study_id", "design")
    )
    literature = {s["study_id"] for s in studies if s["design"] != "unpublished case series"}
    assert len(literature) == 20 and len(studies) == 21
    rows = [r for r in ledger if r["flow"] == "baseline"]
    via_databases = {
        r["study_id"] for r in rows if r["box"] == "new_reports" and r["id_type"] == "publication"
    }
    assert via_databases == literature
    assert [r["study_id"] for r in rows if r["box"] == "organisation_results"] == ["dutch-cohort"]
    assert {r["id"] for r in rows if r["box"] == "total_studies"} == {
        s["study_id"] for s in studies
    }
    counts = flow_counts(ledger, "cumulative")
    assert counts["previous_studies"] == 21
    assert counts["total_studies"] == 21 + counts["new_studies"]
    assert counts["total_reports"] == counts["previous_reports"] + counts["new_reports"]


def test_counts_per_run_match_dedup(prisma_run):
    runs = read_tsv(prisma_run / "results/records/runs.tsv")
    counts, _, flows = read_counts(prisma_run / "results/prisma/counts.tsv")
    update_runs = [f for f in flows if f not in ("baseline", "cumulative")]
    assert update_runs, "the recorded data hold one update run"
    for run in update_runs:
        total = next(r for r in runs if r["run"] == run and r["source"] == "all")
        assert counts[run]["database_results"] + counts[run]["register_results"] == int(
            total["records_identified"]
        )
        assert counts[run]["duplicates"] == int(total["duplicates_removed"])


def test_report_builds(prisma_run):
    run_snakemake(prisma_run, "--report", "results/report.html", *TARGETS)
    html = (prisma_run / "results/report.html").read_text(encoding="utf-8")
    assert "PRISMA 2020 flow diagram of the update" in html  # the diagram's caption
    assert "Record-level PRISMA ledger" in html
    assert "Reports excluded at full text, with their citation" in html  # item 16b
    assert "Every included study with each of its reports" in html
    assert "prisma_baseline.csv (published review, reconstructed" in html


def test_report_lists_hold_the_reports_the_diagrams_count(prisma_run):
    ledger = _ledger(prisma_run)
    folder = prisma_run / "results/prisma"
    excluded = read_tsv(folder / "excluded_reports.tsv")
    assert sorted((r["flow"], r["publication_id"], r["reason"]) for r in excluded) == sorted(
        (r["flow"], r["id"], r["detail"])
        for r in ledger
        if r["flow"] != "cumulative" and r["box"] in ("dbr_excluded", "other_excluded")
    )
    assert len(excluded) == 3 and all(r["citation"] and r["reason"] for r in excluded)
    included = read_tsv(folder / "included_reports_by_study.tsv")
    assert sorted((r["study_id"], r["publication_id"]) for r in included) == sorted(
        (r["study_id"], r["id"])
        for r in ledger
        if r["flow"] != "cumulative" and r["box"] == "new_reports"
    )
    assert len({r["study_id"] for r in included}) == 21


def test_broken_identity_fails_the_job_naming_the_record(prisma_run, tmp_path):
    workdir = copy_project(tmp_path / "broken")
    shutil.copytree(prisma_run / "results", workdir / "results")
    status = workdir / "results/screening/status.tsv"
    rows = read_tsv(status)
    columns = [c for c in rows[0] if c != "__line__"]
    dropped = rows.pop()["publication_id"]
    write_tsv(status, rows, columns)
    # only the ledger may run: the edited status.tsv stands for a stale screening output
    result = run_snakemake(
        workdir,
        "results/prisma/ledger.tsv",
        "--forcerun",
        "prisma_ledger",
        "--allowed-rules",
        "prisma_ledger",
        check=False,
    )
    assert result.returncode != 0
    log = (workdir / "logs/prisma/prisma_ledger.log").read_text(encoding="utf-8")
    assert "PRISMA identity violation" in log and dropped in log
    assert not (workdir / "results/prisma/ledger.tsv").exists()


def test_a_further_report_of_a_known_study_and_a_waiting_record_on_both_diagrams(
    prisma_run, tmp_path
):
    """A hypothetical test scenario (decisions written into a temporary copy, never into
    resources/): of the update's two records, both reviewers include one as a further report
    of a study of the published review; the other still awaits screening. Both diagrams then
    show the waiting record and say the included report is of a study already included."""
    workdir = copy_finished_run(prisma_run, tmp_path / "project")
    waiting = sorted(
        r["publication_id"]
        for r in read_tsv(workdir / "results/screening/status.tsv")
        if r["status"] == "awaiting_title_abstract"
    )
    assert len(waiting) == 2
    record = waiting[0]
    screening = workdir / "resources/screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            f"record_id\tdecision\treason\tnote\tdecided_on\n{record}\tinclude\t\t\t2026-11-23\n",
            encoding="utf-8",
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
            f"{record}\tinclude\t\t\t2026-11-23\taqel-2004\n",
            encoding="utf-8",
        )
    run_snakemake(workdir, *TARGETS, "results/prisma/included_reports_by_study.tsv")
    folder = workdir / "results/prisma"
    counts, _, _ = read_counts(folder / "counts.tsv")
    c = counts["cumulative"]
    assert (c["database_results"], c["duplicates"]) == (2, 0)
    assert (c["records_screened"], c["awaiting_title_abstract"]) == (1, 1)  # 2 - 0 = 1 + 1
    assert (c["new_studies"], c["new_reports"], c["known_study_reports"]) == (0, 1, 1)
    cells = {r["data"]: r for r in csv_rows((folder / "prisma.csv").read_text(encoding="utf-8"))}
    assert cells["records_screened"]["boxtext"].startswith("Records awaiting screening\n(n = 1)")
    assert cells["new_reports"]["boxtext"] == (
        "Reports included: 0 of new studies / 1 of studies already included"
    )
    included = read_tsv(folder / "included_reports_by_study.tsv")
    assert [r["report_of"] for r in included if r["publication_id"] == record] == [
        "study already included"
    ]
    reason = r_unavailable()
    if reason:
        pytest.skip(reason)
    loaded = load_in_prisma2020([folder / "prisma.csv"])[str(folder / "prisma.csv")]
    drawn = " ".join("\n".join(loaded.labels()).split())
    assert "Records awaiting screening (n = 1) Records screened (n = 1)" in drawn
    assert "Reports of new included studies" not in drawn
    assert "0 of new studies / 1 of studies already included (n = 1)" in drawn
