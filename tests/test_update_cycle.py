"""One update cycle end to end, as a review team lives it, checked after every step.

After the default run (baseline + the recorded 2026-11-23 update: two new PubMed records):

1. an Embase export searched on 2026-11-20 arrives, holding a near-duplicate of one new
   PubMed record (the same article as Embase writes it, no PMID);
2. the data manager decides the uncertain pair (same publication) and the two reviewers
   screen titles and abstracts: they disagree on one publication;
3. the adjudicator settles that conflict and both reviewers include the other publication at
   full text as a new study;
4. two extractors extract it and disagree on one cell;
5. the adjudicator settles the discrepancy.

After each step the workflow runs, and the run record (summary.json and the to-do block of
summary.md), the audit report and the PRISMA counts are checked. The decisions, the export and
the extracted numbers are a **hypothetical test scenario** written into a temporary copy of
the project; they are not the review's decisions and never enter resources/.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from pathlib import Path

import pytest
from conftest import copy_finished_run, run_snakemake
from extraction_rows import INSUFFICIENT_RESPONSE_SUBGROUP, INTOLERANCE_SUBGROUP, TACROLIMUS_ARM

from livingreview.extraction import SHEET_COLUMNS

pytestmark = pytest.mark.workflow

RUN_DATE = "2026-11-23"
NEW_STUDY = "test-study-2023"
INCLUDED = "pubmed:37876996"  # "Global incidence and prevalence of autoimmune hepatitis..."
EXCLUDED = "pubmed:36746473"  # "Diagnosis and management of autoimmune hepatitis."
TA_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\n"
FT_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
ADJ_TA_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\tadjudicator\n"
VERDICT_COLUMNS = ("record_id_a", "record_id_b", "verdict", "reviewer", "decided_on", "note")
# The same article as an Embase export writes it: other punctuation, no PMID.
EMBASE_EXPORT = """TY  - JOUR
DB  - Embase
T1  - Global incidence and prevalence of autoimmune hepatitis, 1970-2022 - a systematic review and meta-analysis
M3  - Review
ER  - 
"""
ARM = TACROLIMUS_ARM
SUBGROUPS = [INSUFFICIENT_RESPONSE_SUBGROUP, INTOLERANCE_SUBGROUP]
# Extractor cd read one remission as a response: the discrepancy of step 4.
ARM_CD = {**ARM, "remission": "5", "response": "3"}
SUBGROUPS_CD = [{**SUBGROUPS[0], "remission": "3", "response": "3"}, SUBGROUPS[1]]
STEPS = ("export", "screened", "adjudicated", "extracted", "settled")


def table(path: Path, delimiter: str = "\t") -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_sheet(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(SHEET_COLUMNS)] + [
        "\t".join(r.get(c, "") for c in SHEET_COLUMNS) for r in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def report_entries(project: Path, name: str) -> dict[str, bytes]:
    """The files the audit report holds, path -> bytes."""
    html_path = project / f"{name}.html"
    run_snakemake(project, "--report", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    found = {}
    decoder = json.JSONDecoder()
    for path in (
        "results/screening/conflicts.tsv",
        "results/records/maybe.tsv",
        "results/records/duplicates.tsv",
        "results/extraction/discrepancies.tsv",
        "results/extraction/status.tsv",
        f"results/runs/by-date/{RUN_DATE}/summary.md",
    ):
        key = f'"{path}": {{'
        if key in html:
            entry, _ = decoder.raw_decode(html, html.index(key) + len(key) - 1)
            found[path] = base64.b64decode(entry["data_uri"].split("base64,", 1)[1])
    return found


def snapshot(project: Path, step: str) -> dict:
    """What the team sees after a step: run record, to-do, PRISMA counts, report, tables."""
    results = project / "results"
    record = json.loads((results / "runs" / RUN_DATE / "summary.json").read_text())
    return {
        "record": record,
        "summary_md": (results / "runs" / RUN_DATE / "summary.md").read_text(encoding="utf-8"),
        "prisma": {r["data"]: r["n"] for r in table(results / "prisma" / "prisma.csv", ",")},
        # by member record: the merged publication takes the earlier (Embase) record's id
        "status": {
            record_id: row
            for row in table(results / "screening" / "status.tsv")
            for record_id in row["member_record_ids"].split("; ")
        },
        "maybe": table(results / "records" / "maybe.tsv"),
        "conflicts": table(results / "screening" / "conflicts.tsv"),
        "meta": {
            (r["subgroup"], r["method"]): r
            for r in table(results / "synthesis" / "meta_analysis.tsv")
        },
        "studies": table(results / "extraction" / "studies.tsv"),
        "outcomes": {
            (r["grouping"], r["group"]): (r["n"], r["remission"])
            for r in table(results / "synthesis" / "outcomes.tsv")
        },
        "whats_new": (results / "synthesis" / "whats_new.md").read_text(encoding="utf-8"),
        "report": report_entries(project, f"report-{step}"),
    }


def tasks(snap: dict) -> dict[tuple[str, str, str, str], int]:
    """The to-do block of the run record: (stage, role, person, task) -> count."""
    return {
        (t["stage"], t["role"], t["person"], t["task"]): t["count"]
        for t in snap["record"]["todo"]["tasks"]
    }


@pytest.fixture(scope="module")
def cycle(default_run, tmp_path_factory):
    project = copy_finished_run(default_run, tmp_path_factory.mktemp("update_cycle") / "project")
    snaps = {"default": snapshot(project, "default")}
    human = {}
    resources = project / "resources"

    # 1. An Embase export searched three days before the run.
    export = resources / "imports" / "embase" / "2026-11-20-update.ris"
    export.write_text(EMBASE_EXPORT, encoding="utf-8")
    config = project / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "      - resources/imports/embase/2021-10-31-baseline-reconstructed.ris\n",
            "      - resources/imports/embase/2021-10-31-baseline-reconstructed.ris\n"
            '  - database: embase\n    search_date: "2026-11-20"\n    format: ris\n'
            "    dialect: embase\n    files:\n      - resources/imports/embase/2026-11-20-update.ris\n",
        ),
        encoding="utf-8",
    )
    run_snakemake(project)
    snaps["export"] = snapshot(project, "export")

    # 2. The data manager: same publication. The reviewers: a conflict on EXCLUDED.
    pair = snaps["export"]["maybe"][0]
    verdicts = resources / "dedup" / "verdicts.tsv"
    with open(verdicts, "a", encoding="utf-8") as handle:
        handle.write(
            "\t".join(
                [pair["record_id_a"], pair["record_id_b"], "same", "data-manager-1", RUN_DATE, ""]
            )
            + "\n"
        )
    ta = resources / "screening" / "title_abstract"
    (ta / "reviewer-1.tsv").write_text(
        TA_HEADER + f"{INCLUDED}\tinclude\t\t\t{RUN_DATE}\n{EXCLUDED}\tinclude\t\t\t{RUN_DATE}\n"
    )
    (ta / "reviewer-2.tsv").write_text(
        TA_HEADER
        + f"{INCLUDED}\tinclude\t\t\t{RUN_DATE}\n"
        + f"{EXCLUDED}\texclude\tno_own_patients\tnarrative review\t{RUN_DATE}\n"
    )
    run_snakemake(project)
    snaps["screened"] = snapshot(project, "screened")

    # 3. The adjudicator settles it; both include INCLUDED at full text as a new study.
    (ta / "adjudication.tsv").write_text(
        ADJ_TA_HEADER + f"{EXCLUDED}\texclude\tno_own_patients\t\t{RUN_DATE}\tadjudicator-1\n"
    )
    for reviewer in ("reviewer-1", "reviewer-2"):
        (resources / "screening" / "full_text" / f"{reviewer}.tsv").write_text(
            FT_HEADER + f"{INCLUDED}\tinclude\t\t\t{RUN_DATE}\t{NEW_STUDY}\n"
        )
    run_snakemake(project)
    snaps["adjudicated"] = snapshot(project, "adjudicated")

    # 4. Two extractors disagree on one remission.
    write_sheet(resources / "extraction" / NEW_STUDY / "ab.tsv", [ARM, *SUBGROUPS])
    write_sheet(resources / "extraction" / NEW_STUDY / "cd.tsv", [ARM_CD, *SUBGROUPS_CD])
    run_snakemake(project)
    snaps["extracted"] = snapshot(project, "extracted")

    # 5. The adjudicator settles the discrepancy with extractor ab's values.
    write_sheet(resources / "extraction" / NEW_STUDY / "adjudicated.tsv", [ARM, *SUBGROUPS])
    human["before_last_run"] = fingerprints(resources)
    run_snakemake(project)
    snaps["settled"] = snapshot(project, "settled")
    human["after_last_run"] = fingerprints(resources)
    return snaps, human


def test_the_workflow_never_writes_a_human_file(cycle):
    _, human = cycle
    assert human["after_last_run"] == human["before_last_run"]


def test_step1_the_export_and_its_near_duplicate(cycle):
    snaps, _ = cycle
    snap = snaps["export"]
    records = snap["record"]["records"]
    by_source = records["this_run_by_source"]
    assert {source: counts["records_identified"] for source, counts in by_source.items()} == {
        "embase": 1,
        "pubmed": 2,
    }
    assert records["uncertain_pairs_awaiting_verdict"] == 1
    assert len(snap["maybe"]) == 1
    pair = snap["maybe"][0]
    assert INCLUDED in (pair["record_id_a"], pair["record_id_b"])
    assert tasks(snap)[("dedup", "data_manager", "", "decide uncertain duplicate pairs")] == 1
    for reviewer in ("reviewer-1", "reviewer-2"):
        assert tasks(snap)[("title_abstract", "reviewer", reviewer, "screen publications")] == 3
    assert "decide uncertain duplicate pairs: 1" in snap["summary_md"].split("\n## ", 2)[1]
    assert snap["report"]["results/records/maybe.tsv"].count(b"\n") == 2
    assert snap["prisma"]["database_results"] == "3"
    assert snap["prisma"]["database_specific_results"] == "MEDLINE (PubMed), 2; Embase, 1"
    assert snap["prisma"]["duplicates"] == "0"
    assert snap["prisma"]["records_screened"] == "0"
    assert snap["prisma"]["awaiting_title_abstract"] == "3"


def test_step2_the_verdict_merges_and_the_conflict_waits(cycle):
    snaps, _ = cycle
    snap = snaps["screened"]
    assert snap["maybe"] == []
    assert snap["record"]["records"]["duplicate_records_total"] == (
        snaps["export"]["record"]["records"]["duplicate_records_total"] + 1
    )
    assert snap["record"]["records"]["uncertain_pairs_awaiting_verdict"] == 0
    assert snap["record"]["screening"]["conflicts_awaiting_adjudication"] == 1
    assert len([c for c in snap["conflicts"] if c["state"] == "open"]) == 1
    todo = tasks(snap)
    assert todo[("title_abstract", "adjudicator", "", "settle conflicts")] == 1
    assert ("dedup", "data_manager", "", "decide uncertain duplicate pairs") not in todo
    for reviewer in ("reviewer-1", "reviewer-2"):
        assert ("title_abstract", "reviewer", reviewer, "screen publications") not in todo
        assert todo[("full_text", "reviewer", reviewer, "screen publications")] == 1
    assert EXCLUDED.encode() in snap["report"]["results/screening/conflicts.tsv"]
    # The publication both reviewers included is screened; the one in conflict still waits.
    assert snap["prisma"]["duplicates"] == "1"
    assert snap["prisma"]["records_screened"] == "1"
    assert snap["prisma"]["awaiting_title_abstract"] == "1"
    assert snap["prisma"]["records_excluded"] == "0"


def test_step3_after_adjudication_no_conflict_is_counted(cycle):
    snaps, _ = cycle
    snap = snaps["adjudicated"]
    assert [c["state"] for c in snap["conflicts"]] == ["adjudicated"]
    todo = tasks(snap)
    assert not [key for key in todo if key[3] == "settle conflicts"]
    assert todo[("extraction", "extractor", "", "extract data of included studies")] == 1
    assert snap["record"]["screening"]["conflicts_awaiting_adjudication"] == 0
    assert snap["status"][EXCLUDED]["status"] == "excluded_title_abstract"
    assert snap["status"][INCLUDED]["status"] == "included"
    assert snap["prisma"]["records_screened"] == "2"
    assert snap["prisma"]["records_excluded"] == "1"
    assert snap["prisma"]["new_studies"] == "1"


def test_step4_the_discrepancy_keeps_the_study_out(cycle):
    snaps, _ = cycle
    snap = snaps["extracted"]
    todo = tasks(snap)
    key = ("extraction", "adjudicator", "", "settle extraction discrepancies")
    assert todo[key] == 1
    task = next(t for t in snap["record"]["todo"]["tasks"] if t["task"] == key[3])
    assert task["act_in"] == f"resources/extraction/{NEW_STUDY}/adjudicated.tsv"
    assert NEW_STUDY not in {s["study_id"] for s in snap["studies"]}
    assert b"remission" in snap["report"]["results/extraction/discrepancies.tsv"]
    assert snap["meta"] == snaps["adjudicated"]["meta"]


def test_step5_the_study_enters_the_synthesis_and_nothing_waits(cycle):
    snaps, _ = cycle
    snap = snaps["settled"]
    assert snap["record"]["todo"]["tasks"] == []
    assert "nothing waits for anyone" in snap["summary_md"]
    assert NEW_STUDY in {s["study_id"] for s in snap["studies"]}
    before, after = snaps["default"]["meta"], snap["meta"]
    assert after[("tacrolimus", "DL")]["k"] == "13"
    assert after[("tacrolimus", "DL")]["estimate"] != before[("tacrolimus", "DL")]["estimate"]
    assert after[("cyclosporine", "REML")] == before[("cyclosporine", "REML")]
    # The published figures stay reproducible from the baseline rows on their own...
    baseline = [s for s in snap["studies"] if s["version"] == "baseline"]
    assert sum(int(s["n"]) for s in baseline if s["cni"] == "tacrolimus") == 219
    # ...and the adjudicated values (extractor ab's) are the ones counted.
    assert snap["outcomes"][("cni", "tacrolimus")] == ("229", "136")
    assert snap["outcomes"][("cni", "cyclosporine")] == ("59", "35")
    assert snap["outcomes"][("indication", "insufficient_response")] == ("207", "109")
    assert f"Studies entered: {NEW_STUDY}." in snap["whats_new"]
    summary = snap["summary_md"]
    assert f"({NEW_STUDY})" in summary and "(k 12 -> 13)" in summary
    assert snap["prisma"]["previous_studies"] == "21"
    assert snap["prisma"]["total_studies"] == "22"
    assert snap["report"][f"results/runs/by-date/{RUN_DATE}/summary.md"].decode() == summary


def test_every_step_has_a_record_and_a_report(cycle):
    snaps, _ = cycle
    for step in STEPS:
        assert snaps[step]["record"]["run_date"] == RUN_DATE
        assert f"results/runs/by-date/{RUN_DATE}/summary.md" in snaps[step]["report"]
