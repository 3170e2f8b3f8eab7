"""The dedup rule under Snakemake, in a temporary copy with a tiny Snakefile of its own.

The real Snakefile takes its inputs from search.smk (pubmed_snapshots) and imports.smk
(imported_tables); here both functions point at small record tables written by the test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import copy_project, run_snakemake
from run_support import only_registration
from test_dedup_rules import cni_records, embase_style, pubmed

from livingreview.dedup import VERDICT_COLUMNS
from livingreview.io import write_tsv
from livingreview.records import RECORD_COLUMNS
from livingreview.todo import TODO_COLUMNS

pytestmark = pytest.mark.workflow

SNAKEFILE = """
configfile: "config.yaml"


include: "workflow/rules/common.smk"


def pubmed_snapshots():
    return ["data/pubmed/2021-10-31/records.tsv", "data/pubmed/2026-11-23/records.tsv"]


def imported_tables():
    return ["data/embase/2021-10-31/records.tsv"]


include: "workflow/rules/dedup.smk"


rule all:
    input:
        all_targets(),
    default_target: True
"""


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture
def project(tmp_path) -> Path:
    workdir = copy_project(tmp_path / "project")
    (workdir / "Snakefile").write_text(SNAKEFILE)
    facts = cni_records()
    write_tsv(
        workdir / "data/pubmed/2021-10-31/records.tsv",
        [dict(pubmed(f), run="2021-10-31") for f in facts[:6]],
        RECORD_COLUMNS,
    )
    write_tsv(
        workdir / "data/pubmed/2026-11-23/records.tsv",
        [dict(pubmed(f), run="2026-11-23") for f in facts],
        RECORD_COLUMNS,
    )
    write_tsv(
        workdir / "data/embase/2021-10-31/records.tsv",
        [embase_style(f, i) for i, f in enumerate(facts) if i >= 3],
        RECORD_COLUMNS,
    )
    # The project's own verdicts name records of the real review, absent from these tables.
    write_tsv(workdir / "resources/dedup/verdicts.tsv", [], VERDICT_COLUMNS)
    return workdir


def test_dedup_rule_end_to_end(project):
    run_snakemake(project)
    out = project / "results" / "records"
    unique = read(out / "unique.tsv")
    assert len(unique) == 10
    runs = {(r["run"], r["source"]): r for r in read(out / "runs.tsv")}
    assert runs[("2026-11-23", "all")]["new_publications"] == "0"
    assert runs[("2021-10-31", "all")]["duplicates_removed"] == "3"
    assert (project / "logs" / "dedup" / "dedup.log").read_text().count("publications") >= 1
    # Nothing uncertain: the to-do table holds its header alone.
    assert (out / "todo.tsv").read_text().splitlines() == ["\t".join(TODO_COLUMNS)]
    # Nothing to do on a second run.
    second = run_snakemake(project, "--dry-run")
    assert only_registration(second), second.stdout

    # A human verdict reruns the rule and is honoured.
    verdicts = project / "resources" / "dedup" / "verdicts.tsv"
    with open(verdicts, "a", encoding="utf-8") as handle:
        handle.write(
            f"pubmed:{cni_records()[3]['pmid']}\tembase:3\tdifferent\tJB\t2026-11-20\ttest\n"
        )
    run_snakemake(project)
    assert len(read(out / "unique.tsv")) == 11

    # A bad verdict stops the run, names the line, and leaves the previous outputs alone.
    before = (out / "unique.tsv").read_bytes()
    with open(verdicts, "a", encoding="utf-8") as handle:
        handle.write("embase:3\tembase:4\tperhaps\tJB\t2026-11-21\t\n")
    failed = run_snakemake(project, check=False)
    assert failed.returncode != 0
    # The sheet is checked by its own rule (so the dedup job never starts and deletes nothing).
    log = (project / "logs" / "checks" / "dedup_verdicts.log").read_text()
    assert "line 3, field 'verdict': unknown verdict" in log
    assert not (out / "unique.tsv").exists() or (out / "unique.tsv").read_bytes() == before
