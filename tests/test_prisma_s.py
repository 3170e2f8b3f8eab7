"""PRISMA-S: every search of a run with its platform, strategy, limits, date and gaps."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest import ROOT

from livingreview.config import validate_config
from livingreview.errors import ConfigError
from livingreview.imports.specs import import_job_spec
from livingreview.io import read_rows, write_tsv
from livingreview.search.prisma_s import (
    NOT_AVAILABLE_REPLAY,
    NOT_REPORTED,
    PRISMA_S_COLUMNS,
    database_line,
    prisma_s_rows,
    prisma_s_table,
)

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
QUERY = '("autoimmune hepatitis"[tiab]) AND (tacrolimus[tiab])'


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def receipt(run_date: str = "2026-11-23", mode: str = "replay", translation: str = "") -> dict:
    """A snapshot receipt shaped as the search stage writes it (only the keys read here)."""
    return {
        "source": "pubmed",
        "run_date": run_date,
        "kind": "baseline" if run_date == "2021-10-31" else "update",
        "mode": mode,
        "window": {"mindate": "2021-10-31", "maxdate": run_date, "datetype": "crdt"},
        "queries": {"cni_aih": {"query": QUERY, "query_translation": translation, "count": 2}},
        "pmids_returned": ["36746473", "37876996"],
    }


def test_the_baselines_embase_search_reports_only_what_the_review_says(config):
    (embase,) = config["imports"]
    summary = {"records": 39, "files": [{"path": embase["files"][0], "records": 39}]}
    (row,) = prisma_s_rows([], [(embase, summary)])
    assert row["database"] == "embase"
    assert row["platform"] == row["strategy"] == row["limits"] == NOT_REPORTED
    assert row["gaps"] == (
        "platform (PRISMA-S item 1); full search strategy (item 8); "
        "limits and restrictions (item 9)"
    )
    assert row["search_date"] == "2021-10-31"
    assert row["search_date_as_reported"].startswith("October 2021")
    assert row["records"] == 39
    # the seed's terms are quoted in the notes, never passed off as the strategy
    assert '"Advagraf"' in row["notes"]


def test_an_export_with_everything_reported_has_no_gaps():
    spec = {
        "database": "wos",
        "search_date": "2026-11-20",
        "format": "ris",
        "prisma_s": {
            "platform": "Web of Science Core Collection (Clarivate)",
            "strategy": "TS=(autoimmune hepatitis) AND TS=(tacrolimus)",
            "limits": "none",
        },
    }
    (row,) = prisma_s_rows([], [(spec, {"records": 3, "files": [{}]})])
    assert row["gaps"] == ""
    assert row["search_date_as_reported"] == "2026-11-20"
    spec["prisma_s"]["limits"] = ""  # written but empty: not reported
    (row,) = prisma_s_rows([], [(spec, {"records": 3})])
    assert row["limits"] == NOT_REPORTED
    assert row["gaps"] == "limits and restrictions (item 9)"


def test_pubmed_query_translation_in_replay_and_live():
    replayed, live = prisma_s_rows(
        [
            receipt("2021-10-31"),
            receipt("2026-11-23", mode="live", translation='"hepatitis, autoimmune"[MeSH Terms]'),
        ],
        [],
    )
    assert replayed["query_translation"] == NOT_AVAILABLE_REPLAY
    assert live["query_translation"] == '"hepatitis, autoimmune"[MeSH Terms]'
    assert replayed["strategy"] == QUERY
    assert replayed["gaps"] == live["gaps"] == ""
    assert replayed["records"] == 2
    assert "crdt 2021-10-31 to 2021-10-31" in replayed["limits"]
    assert "translation of the published review's terms" in replayed["notes"]
    assert "translation" not in live["notes"]


def test_rows_are_ordered_by_date_pubmed_first(config):
    rows = prisma_s_rows(
        [receipt("2026-11-23"), receipt("2021-10-31")], [(config["imports"][0], {"records": 39})]
    )
    assert [(r["search_date"], r["database"]) for r in rows] == [
        ("2021-10-31", "pubmed"),
        ("2021-10-31", "embase"),
        ("2026-11-23", "pubmed"),
    ]


def test_table_from_files_round_trips(tmp_path, config):
    receipt_path = tmp_path / "pubmed-2026-11-23.json"
    receipt_path.write_text(json.dumps(receipt()))
    summary_path = tmp_path / "summary.json"
    summary_path.write_text(json.dumps({"records": 39, "files": [{}]}))
    rows = prisma_s_table([receipt_path], config["imports"], [summary_path])
    out = tmp_path / "prisma_s.tsv"
    write_tsv(out, rows, PRISMA_S_COLUMNS)
    read = list(read_rows(out))
    assert [r["database"] for r in read] == ["embase", "pubmed"]
    assert read[1]["query_translation"] == NOT_AVAILABLE_REPLAY
    with pytest.raises(ValueError, match="one import summary per export"):
        prisma_s_table([], config["imports"], [])


def test_the_schema_checks_prisma_s_fields(config):
    validate_config(copy.deepcopy(config), SCHEMA)
    bad = copy.deepcopy(config)
    bad["imports"][0]["prisma_s"]["plattform"] = "Ovid"
    with pytest.raises(ConfigError, match="plattform"):
        validate_config(bad, SCHEMA)
    wrong_type = copy.deepcopy(config)
    wrong_type["imports"][0]["prisma_s"]["strategy"] = ["line 1"]
    with pytest.raises(ConfigError):
        validate_config(wrong_type, SCHEMA)
    missing = copy.deepcopy(config)
    del missing["imports"][0]["prisma_s"]  # optional
    validate_config(missing, SCHEMA)


def test_describing_a_search_does_not_change_the_import_jobs(config):
    (embase,) = config["imports"]
    described = import_job_spec(embase)
    assert "prisma_s" not in described
    assert described == import_job_spec({k: v for k, v in embase.items() if k != "prisma_s"})


def test_database_lines_for_the_diagram(config):
    embase_row, pubmed_row = prisma_s_rows(
        [receipt("2026-11-23")], [(config["imports"][0], {"records": 39})]
    )
    assert database_line(embase_row) == (
        "Embase (platform not reported; searched October 2021) (n = 39)"
    )
    assert database_line(pubmed_row) == "PubMed (NCBI E-utilities; searched 2026-11-23) (n = 2)"
