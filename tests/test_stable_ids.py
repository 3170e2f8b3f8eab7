"""Publication ids and flows follow the run an export enters, whatever order exports arrive in.

A project of two PubMed runs (the baseline and 2026-11-23) and exports imported through the
package as the workflow imports them (the entry run resolved from the config and the runs,
then :func:`~livingreview.imports.stage.import_export`), deduplicated and counted by the
PRISMA ledger.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_dedup_rules import cni_records, pubmed

from livingreview.dedup.inputs import recorded_exports, resolved_imports, run_dates
from livingreview.dedup.tables import deduplicate_files
from livingreview.dedup.verdicts import VERDICT_COLUMNS
from livingreview.errors import ConfigError
from livingreview.imports.specs import check_entry_runs, check_recorded_runs, exports_of_run
from livingreview.imports.stage import write_import
from livingreview.io import write_tsv
from livingreview.prisma.counts import count_table
from livingreview.prisma.inputs import (
    FlowSettings,
    read_duplicate_rules,
    read_publications,
    read_record_refs,
)
from livingreview.prisma.ledger import build_ledger
from livingreview.records import RECORD_COLUMNS

BASELINE, UPDATE = "2021-10-31", "2026-11-23"
PRIORITY = ["pubmed", "embase", "wos"]
SETTINGS = {"source_priority": PRIORITY}
CSV_HEADER = ["Accession", "Title", "Authors", "Year", "Journal", "DOI", "Volume", "Pages"]
CSV_COLUMNS = dict(zip(("accession", "title", "authors", "year", "journal", "doi"), CSV_HEADER))
CSV_COLUMNS.update(volume="Volume", pages="Pages")


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def export(tmp: Path, database: str, search_date: str, facts: Sequence[int]) -> dict[str, Any]:
    """A CSV export of some of the ten real records (accession numbers of the database), and
    its config entry."""
    records = cni_records()
    path = tmp / "resources" / f"{database}-{search_date}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for number in facts:
            fact = records[number]
            writer.writerow(
                [f"{database.upper()}{number}", fact["title"], fact["authors"], fact["year"]]
                + [fact["journal"], fact["doi"], fact["volume"], fact["pages"]]
            )
    return {
        "database": database,
        "search_date": search_date,
        "format": "csv",
        "files": [str(path)],
        "columns": CSV_COLUMNS,
        "entry_run": None,
    }


def config(imports: Sequence[Mapping[str, Any]], run_date: str = UPDATE) -> dict[str, Any]:
    return {
        "run_date": run_date,
        "search": {"baseline_until": BASELINE, "update_runs": []},
        "imports": list(imports),
    }


def build(tmp: Path, imports: Sequence[Mapping[str, Any]], name: str) -> dict[str, Any]:
    """Import the exports in the order given (the runs of the config resolve their entry
    run), deduplicate every table (in the order given) and build the ledger."""
    project = tmp / name
    facts = cni_records()
    tables = [project / "pubmed-baseline.tsv", project / "pubmed-update.tsv"]
    write_tsv(tables[0], [dict(pubmed(f), run=BASELINE) for f in facts[:4]], RECORD_COLUMNS)
    write_tsv(tables[1], [dict(pubmed(f), run=UPDATE) for f in facts[4:7]], RECORD_COLUMNS)
    settings = config(imports)
    check_entry_runs(imports, run_dates(settings, project), UPDATE)
    for spec in resolved_imports(settings, project):
        folder = project / "imports" / spec["database"] / spec["search_date"]
        write_import(spec, folder / "records.tsv", folder / "summary.json")
        tables.append(folder / "records.tsv")
    verdicts = project / "verdicts.tsv"
    write_tsv(verdicts, [], VERDICT_COLUMNS)
    out = project / "out"
    deduplicate_files(
        tables if name != "reversed" else tables[::-1],
        verdicts,
        SETTINGS,
        unique=out / "unique.tsv",
        duplicates=out / "duplicates.tsv",
        maybe=out / "maybe.tsv",
        runs=out / "runs.tsv",
    )
    ledger = build_ledger(
        read_record_refs(tables),
        read_publications(out / "unique.tsv"),
        {},
        read_duplicate_rules(out / "duplicates.tsv"),
        [],
        FlowSettings(baseline_until=BASELINE),
    )
    _rows, columns = count_table(ledger)
    return {
        "unique": read(out / "unique.tsv"),
        "runs": read(out / "runs.tsv"),
        "ledger": ledger,
        "flows": columns[2:],
        "bytes": {n: (out / f"{n}.tsv").read_bytes() for n in ("unique", "duplicates", "runs")},
        "records": read(tables[-1]) if imports else [],
    }


def ids(outcome: Mapping[str, Any]) -> dict[str, str]:
    """record_id -> publication_id of every member record."""
    return {
        member: row["publication_id"]
        for row in outcome["unique"]
        for member in row["member_record_ids"].split("; ")
    }


def test_a_late_export_enters_the_run_its_search_points_to_and_moves_no_id(tmp_path):
    before = build(tmp_path, [], "pubmed-only")
    # Embase searched three days before the PubMed update and imported after it: records 2-5,
    # two found by the baseline (2, 3), two by the update (4, 5).
    embase = export(tmp_path, "embase", "2026-11-20", [2, 3, 4, 5])
    after = build(tmp_path, [embase], "with-embase")

    issued = ids(before)
    assert {r: ids(after)[r] for r in issued} == issued
    assert {row["run"] for row in after["records"]} == {UPDATE}
    assert "2026-11-20" not in {row["run"] for row in after["runs"]}
    assert after["flows"] == ["baseline", UPDATE, "cumulative"]
    embase_counts = next(r for r in after["runs"] if r["run"] == UPDATE and r["source"] == "embase")
    # 2 and 3 were known before this run; 4 and 5 were found by the same update's PubMed search
    assert embase_counts["duplicates_of_earlier_runs"] == "2"
    assert embase_counts["duplicates_within_run"] == "2"
    assert embase_counts["new_publications"] == "0"
    duplicates = [r for r in after["ledger"] if r["box"] == "duplicates" and r["flow"] == UPDATE]
    assert {r["id"] for r in duplicates} == {
        "embase:EMBASE2",
        "embase:EMBASE3",
        "embase:EMBASE4",
        "embase:EMBASE5",
    }


def test_exports_imported_out_of_date_order_give_the_same_ids_and_flows(tmp_path):
    embase = export(tmp_path, "embase", "2026-11-20", [2, 4, 7, 8])
    wos = export(tmp_path, "wos", "2021-09-30", [1, 3, 9])
    in_order = build(tmp_path, [wos, embase], "in-order")
    out_of_order = build(tmp_path, [embase, wos], "reversed")
    assert in_order["bytes"] == out_of_order["bytes"]
    assert in_order["flows"] == out_of_order["flows"] == ["baseline", UPDATE, "cumulative"]
    # the WoS search before the baseline's end enters the baseline: its new record (9) is
    # a baseline publication; Embase's 7 and 8 are new in the update
    first_run = {row["publication_id"]: row["first_run"] for row in in_order["unique"]}
    assert first_run["wos:WOS9"] == BASELINE
    assert first_run["embase:EMBASE7"] == first_run["embase:EMBASE8"] == UPDATE
    assert ids(in_order)["embase:EMBASE4"] == f"pubmed:{cni_records()[4]['pmid']}"


def test_an_explicit_entry_run_moves_the_export_to_that_run(tmp_path):
    embase = export(tmp_path, "embase", "2021-09-30", [2, 8])
    # searched before the baseline's end, but added to the review with the 2026-11-23 update
    outcome = build(tmp_path, [dict(embase, entry_run=UPDATE)], "explicit")
    assert {row["run"] for row in outcome["records"]} == {UPDATE}
    first_run = {row["publication_id"]: row["first_run"] for row in outcome["unique"]}
    assert first_run["embase:EMBASE8"] == UPDATE
    assert ids(outcome)["embase:EMBASE2"] == f"pubmed:{cni_records()[2]['pmid']}"
    counts = next(r for r in outcome["runs"] if r["run"] == UPDATE and r["source"] == "embase")
    assert counts["duplicates_of_earlier_runs"] == "1" and counts["new_publications"] == "1"


@pytest.mark.parametrize(
    ("entry_run", "message"),
    [
        ("2026-11-21", "'2026-11-21' is no run of this project"),
        ("2026-11-19", "before the export's search_date 2026-11-20"),
        ("20261123", "is not an ISO date"),
    ],
)
def test_an_entry_run_that_is_no_run_stops_the_run_naming_the_field_and_the_runs(
    entry_run, message
):
    spec = {"database": "embase", "search_date": "2026-11-20", "entry_run": entry_run}
    with pytest.raises(ConfigError, match=message) as error:
        check_entry_runs([spec], [BASELINE, UPDATE], UPDATE)
    assert error.value.key == "imports[0].entry_run"
    if "ISO" not in message:
        assert error.value.allowed and UPDATE in error.value.allowed


def test_an_entry_run_after_the_run_date_waits_for_that_run():
    spec = {"database": "embase", "search_date": "2026-11-20", "entry_run": "2026-11-30"}
    check_entry_runs([spec], [BASELINE, UPDATE], UPDATE)  # a later run: not an error
    assert exports_of_run([spec], UPDATE, [BASELINE, UPDATE]) == ([], [spec])
    assert exports_of_run([spec], "2026-11-30", [BASELINE, UPDATE]) == ([spec], [])


def recorded_run(root: Path, run_date: str, imports: Sequence[Mapping[str, Any]]) -> None:
    """The record of a run as the registry keeps it (only its config matters here)."""
    folder = root / "results" / "runs" / "by-date" / run_date
    folder.mkdir(parents=True)
    manifest = {"run_date": run_date, "config": {"run_date": run_date, "imports": list(imports)}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_an_export_declared_after_a_recorded_run_cannot_enter_it(tmp_path):
    baseline_embase = {"database": "embase", "search_date": BASELINE}
    recorded_run(tmp_path, UPDATE, [baseline_embase])
    late = {"database": "embase", "search_date": "2026-11-20", "entry_run": None}
    later_config = dict(config([baseline_embase, late], run_date="2026-11-30"))
    (tmp_path / "results" / "search" / "pubmed" / UPDATE).mkdir(parents=True)
    (tmp_path / "results" / "search" / "pubmed" / UPDATE / "provenance.json").write_text("{}")
    recorded = recorded_exports(tmp_path)
    assert recorded == {UPDATE: {("embase", BASELINE)}}
    # by its search date it would enter the 2026-11-23 run, recorded without it
    with pytest.raises(ConfigError, match="recorded without it") as error:
        check_recorded_runs(
            resolved_imports(later_config, tmp_path), recorded, "2026-11-30", PRIORITY
        )
    assert error.value.key == "imports[1].entry_run"
    assert error.value.allowed and "2026-11-30" in error.value.allowed
    # named to enter the run that first imports it: accepted
    late["entry_run"] = "2026-11-30"
    check_recorded_runs(resolved_imports(later_config, tmp_path), recorded, "2026-11-30", PRIORITY)
    # rerunning the recorded date itself with the export is that run, not an earlier one
    late["entry_run"] = None
    check_recorded_runs(
        resolved_imports(config([baseline_embase, late]), tmp_path), recorded, UPDATE, PRIORITY
    )


def test_a_late_export_that_would_outrank_one_its_run_holds_is_sent_to_a_later_run(tmp_path):
    """Within one run a publication's id comes from the source ranked first: an Embase
    export declared after the update run was recorded with a WoS export would take the
    WoS-issued id of a publication both found. That re-run is refused, naming the run to
    enter instead; an export ranked after everything the run holds (after PubMed, as in the
    default project) may still join the run it was recorded without."""
    wos = export(tmp_path, "wos", "2026-11-19", [8, 9])
    embase = export(tmp_path, "embase", "2026-11-21", [8])
    # the hazard itself: with Embase in the same run, the publication WoS found gets a new id
    before = build(tmp_path, [wos], "wos-only")
    after = build(tmp_path, [wos, embase], "wos-and-embase")
    assert ids(before)["wos:WOS8"] == "wos:WOS8"
    assert ids(after)["wos:WOS8"] == "embase:EMBASE8"

    recorded_run(tmp_path, UPDATE, [wos])
    (tmp_path / "results" / "search" / "pubmed" / UPDATE).mkdir(parents=True)
    (tmp_path / "results" / "search" / "pubmed" / UPDATE / "provenance.json").write_text("{}")
    priority = [*PRIORITY, "cochrane"]
    late = resolved_imports(config([wos, embase]), tmp_path)
    with pytest.raises(ConfigError, match="could take over publication ids") as error:
        check_recorded_runs(late, recorded_exports(tmp_path), UPDATE, priority)
    assert error.value.key == "imports[1].entry_run"
    assert "wos/2026-11-19" in str(error.value) and "a run after 2026-11-23" in str(error.value)
    # named to enter the next update: accepted (and it waits for that run)
    embase["entry_run"] = "2026-11-30"
    check_recorded_runs(
        resolved_imports(config([wos, embase]), tmp_path),
        recorded_exports(tmp_path),
        UPDATE,
        priority,
    )
    # ranked after WoS (and PubMed), the same late export may join the recorded run
    embase["entry_run"] = None
    check_recorded_runs(late, recorded_exports(tmp_path), UPDATE, ["pubmed", "wos", "embase"])
