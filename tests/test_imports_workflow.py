"""Workflow-level: the import rule in a temporary copy of the project."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SNAKEMAKE, copy_project
from run_support import nothing_written_but_run_entries

from livingreview.io import read_rows
from livingreview.records import MULTI_VALUE_SEPARATOR
from livingreview.todo import WAITING_FOR_RECORDS

TARGET = "results/imports/embase/2021-10-31/records.tsv"

pytestmark = pytest.mark.workflow


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def _run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(SNAKEMAKE),
            "--cores",
            "2",
            "-d",
            str(project),
            "-s",
            str(project / "Snakefile"),
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_rule_builds_the_table_and_reruns_nothing(project):
    done = _run(project, TARGET)
    assert done.returncode == 0, done.stderr
    header = (project / TARGET).read_text().splitlines()[0].split("\t")
    from livingreview.records import RECORD_COLUMNS

    assert tuple(header) == RECORD_COLUMNS
    assert (project / "logs/imports/embase/2021-10-31.log").exists()
    before = (project / TARGET).read_bytes()
    again = _run(project, TARGET)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert (project / TARGET).read_bytes() == before


def test_broken_export_stops_the_run_and_writes_nothing(project):
    export = project / "resources/imports/embase/2021-10-31-baseline-reconstructed.ris"
    export.write_text(export.read_text().replace("JF  - Gut", "XX  - Gut", 1))
    failed = _run(project, TARGET)
    assert failed.returncode != 0
    # The export is parsed by a check rule of its own first, so the import job never starts.
    log = (project / "logs/checks/imports/embase/2021-10-31.log").read_text()
    assert "unknown tag" in log and "field 'XX'" in log and "line " in log
    assert not (project / TARGET).exists()
    assert not (project / "results/imports/embase/2021-10-31/summary.json").exists()


def test_broken_export_keeps_the_earlier_import(project):
    assert _run(project, TARGET).returncode == 0
    before = (project / TARGET).read_bytes()
    export = project / "resources/imports/embase/2021-10-31-baseline-reconstructed.ris"
    export.write_text(export.read_text().replace("JF  - Gut", "XX  - Gut", 1))
    assert _run(project, TARGET).returncode != 0
    assert (project / TARGET).read_bytes() == before


def test_missing_export_file_stops_before_any_job(project):
    (project / "resources/imports/embase/2021-10-31-baseline-reconstructed.ris").unlink()
    failed = _run(project, TARGET)
    assert failed.returncode != 0
    assert "imports[0].files[0]" in failed.stderr and "does not exist" in failed.stderr
    assert nothing_written_but_run_entries(project)


def test_unknown_format_in_config_stops_before_any_job(project):
    failed = _run(
        project,
        TARGET,
        "--config",
        "imports=[{database: wos, search_date: '2021-10-31', format: bibtex, files: [x.bib]}]",
    )
    assert failed.returncode != 0
    assert "format" in failed.stderr and "bibtex" in failed.stderr
    assert nothing_written_but_run_entries(project)


def _declare_wos_export(project: Path, search_date: str) -> None:
    """Add a Web of Science export searched on ``search_date`` to the project's config."""
    folder = project / "resources/imports/wos"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests/fixtures/imports/wos.ris", folder / f"{search_date}.ris")
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["imports"].append(
        {
            "database": "wos",
            "search_date": search_date,
            "format": "ris",
            "dialect": "wos",
            "files": [f"resources/imports/wos/{search_date}.ris"],
        }
    )
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def _record_ids(path: Path) -> set[str]:
    return {row["record_id"] for row in read_rows(path)}


def test_an_export_searched_after_the_run_date_waits_for_a_later_run(project):
    """An export dated after run_date is neither imported nor deduplicated by that run; the
    first run dated on or after its search includes it."""
    _declare_wos_export(project, "2026-11-23")
    wos_ids = {"wos:WOS:000424022700066", "wos:WOS:000424022700040"}
    unique, runs = "results/records/unique.tsv", "results/records/runs.tsv"

    earlier = _run(project, unique, runs, "--config", "run_date=2021-10-31")
    assert earlier.returncode == 0, earlier.stderr
    assert not (project / "results/imports/wos").exists()
    members = {
        m for row in read_rows(project / unique) for m in row["member_record_ids"].split("; ")
    }
    assert members and not members & wos_ids
    assert {row["source"] for row in read_rows(project / runs)} == {"pubmed", "embase", "all"}

    later = _run(project, unique, runs)  # the config's run_date, 2026-11-23
    assert later.returncode == 0, later.stderr
    assert _record_ids(project / "results/imports/wos/2026-11-23/records.tsv") == wos_ids
    members = {
        m for row in read_rows(project / unique) for m in row["member_record_ids"].split("; ")
    }
    assert wos_ids <= members
    counted = [r for r in read_rows(project / runs) if r["source"] == "wos"]
    assert [(r["run"], r["records_identified"]) for r in counted] == [("2026-11-23", "2")]

    # A verdict on the export's records, decided on the later run's date: rerunning the
    # earlier run still works (the verdict waits, its records are not in that run) and the
    # to-do says it waits for the records of a later search.
    sheet = project / "resources/dedup/verdicts.tsv"
    with open(sheet, "a", encoding="utf-8") as handle:
        handle.write(
            "wos:WOS:000424022700066\twos:WOS:000424022700040\tdifferent\tJB\t2026-11-23\t\n"
        )
    again = _run(project, unique, "--config", "run_date=2021-10-31")
    assert again.returncode == 0, again.stderr
    todo = {r["task"]: r for r in read_rows(project / "results/records/todo.tsv")}
    later = todo[WAITING_FOR_RECORDS]
    in_run = {
        record_id
        for row in read_rows(project / unique)
        for record_id in row["member_record_ids"].split(MULTI_VALUE_SEPARATOR)
    }
    waiting = [
        line
        for line in sheet.read_text().splitlines()[1:]
        if not {line.split("\t")[0], line.split("\t")[1]} <= in_run
    ]
    assert waiting[-1].startswith("wos:WOS:000424022700066")
    assert later["count"] == str(len(waiting)) and later["act_in"] == "resources/dedup/verdicts.tsv"


def test_an_entry_run_that_names_no_run_stops_before_any_job(project):
    """An export searched 2026-11-20 cannot enter a 2026-11-21 run the project never had; the
    error names the field and the runs it may enter."""
    _declare_wos_export(project, "2026-11-20")
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["imports"][-1]["entry_run"] = "2026-11-21"
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    failed = _run(project, "results/records/unique.tsv")
    assert failed.returncode != 0
    assert "imports[1].entry_run" in failed.stderr and "'2026-11-21' is no run" in failed.stderr
    assert "allowed: 2026-11-23" in failed.stderr
    assert nothing_written_but_run_entries(project)
