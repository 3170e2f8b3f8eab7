"""PRISMA-S: every search of a run with its platform, strategy, limits, date and gaps."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from conftest import ROOT

from livingreview.config import validate_config
from livingreview.errors import ConfigError
from livingreview.imports.specs import import_job_spec
from livingreview.io import read_rows, write_tsv
from livingreview.search.prisma_s import (
    NOT_AVAILABLE_REPLAY,
    NOT_RECONSTRUCTED,
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


def test_the_published_reviews_other_databases_are_listed_with_only_what_it_says(config):
    """The seed searched Medline, Embase, Web of Science and the Cochrane database; the
    project has records of the first two only. The other two get rows of their own, dated as
    the published search, their records a gap, nothing invented."""
    declared = config["search"]["baseline_other_databases"]
    assert [d["database"] for d in declared] == ["wos", "cochrane"]
    rows = prisma_s_rows(
        [receipt("2021-10-31")],
        [(config["imports"][0], {"records": 39})],
        declared,
        config["search"]["baseline_until"],
    )
    assert [r["database"] for r in rows] == ["pubmed", "cochrane", "embase", "wos"]
    by_name = {r["database"]: r for r in rows}
    for name in ("wos", "cochrane"):
        row = by_name[name]
        assert row["search_date"] == "2021-10-31"
        assert row["search_date_as_reported"].startswith("October 2021")
        assert row["records"] == NOT_RECONSTRUCTED
        assert row["platform"] == row["strategy"] == row["limits"] == NOT_REPORTED
        assert row["gaps"] == (
            "records not available to this project (not reconstructed); platform (PRISMA-S "
            "item 1); full search strategy (item 8); limits and restrictions (item 9)"
        )
        # the seed's terms, quoted, and its word on meeting abstracts
        assert '"Advagraf"' in row["notes"] and "meeting abstracts were excluded" in row["notes"]
    assert "which Cochrane database" in by_name["cochrane"]["notes"]
    # the reconstructed searches keep their counts
    assert by_name["embase"]["records"] == 39 and by_name["pubmed"]["records"] == 2
    assert database_line(by_name["wos"]).startswith("Web of Science (platform not reported;")


def test_every_term_the_notes_quote_is_in_the_published_review(config):
    # the published review's Methods (Baven-Pronk et al. 2022), quoted
    methods = (
        'combinations of the terms "autoimmune hepatitis," "chronic active hepatitis," '
        '"calcineurin inhibitor," "cyclosporin," "ciclosporine," "Neoral," "tacrolimus." '
        '"Prograf," and "Advagraf."'
    )
    for declared in config["search"]["baseline_other_databases"]:
        terms = re.findall(r'"([^"]+)"', declared["notes"])
        assert len(terms) == 9 + (declared["database"] == "cochrane")  # + "the Cochrane database"
        for term in terms:
            assert f'"{term}' in methods or term == "the Cochrane database"


def test_the_schema_checks_the_other_databases(config):
    validate_config(copy.deepcopy(config), SCHEMA)
    for bad_entry, word in (
        ({"database": "wos", "strategie": "x"}, "strategie"),
        ({"database": "Web of Science"}, "database"),
        ({"search_date_as_reported": "October 2021"}, "database"),
    ):
        bad = copy.deepcopy(config)
        bad["search"]["baseline_other_databases"] = [bad_entry]
        with pytest.raises(ConfigError, match=word):
            validate_config(bad, SCHEMA)
    none = copy.deepcopy(config)
    del none["search"]["baseline_other_databases"]  # optional: defaults to none
    validate_config(none, SCHEMA)
    assert none["search"]["baseline_other_databases"] == []
    # an entry with only its name: every item "not reported", dated as the published search
    (row,) = prisma_s_rows([], [], [{"database": "wos"}], "2021-10-31")
    assert row["search_date_as_reported"] == "2021-10-31" and row["strategy"] == NOT_REPORTED


def test_the_rule_passes_the_other_databases_to_the_table(tmp_path, config):
    rows = prisma_s_table([], [], [], config["search"]["baseline_other_databases"], "2021-10-31")
    out = tmp_path / "prisma_s.tsv"
    write_tsv(out, rows, PRISMA_S_COLUMNS)
    assert [r["records"] for r in read_rows(out)] == [NOT_RECONSTRUCTED] * 2
    rule = (ROOT / "workflow" / "rules" / "search.smk").read_text(encoding="utf-8")
    assert 'unreconstructed=config["search"]["baseline_other_databases"]' in rule


def test_the_diagrams_say_how_and_when_each_database_was_searched_and_list_the_gaps():
    """PRISMA-S on the diagrams: each database line of a flow carries its platform and search
    date(s); databases with gaps (the baseline's unreconstructed Web of Science) are listed
    in the footnote; the update's searches stay off the baseline diagram and back."""
    from livingreview.prisma.flowchart import _identification_text
    from livingreview.search.prisma_s import PUBMED_PLATFORM, RECORDS_GAP, diagram_searches

    def row(database, date, platform=PUBMED_PLATFORM, as_reported="", gaps=""):
        return {
            "database": database,
            "platform": platform,
            "search_date": date,
            "search_date_as_reported": as_reported or date,
            "gaps": gaps,
        }

    rows = [
        row("pubmed", "2021-10-31"),
        row("embase", "2021-10-31", "not reported", "October 2021 (the last search)", "platform"),
        row("wos", "2021-10-31", "not reported", "October 2021", RECORDS_GAP),
        row("pubmed", "2026-11-16"),
        row("pubmed", "2026-11-23"),
    ]
    labels = {"pubmed": "MEDLINE (PubMed)", "embase": "Embase", "wos": "Web of Science"}
    flows = diagram_searches(rows, labels, "2021-10-31")
    notes, gaps = flows["baseline"]
    assert notes["Embase"] == "platform not reported; searched October 2021"
    assert notes["MEDLINE (PubMed)"] == "NCBI E-utilities; searched 2021-10-31"
    assert [gap.split(" (", 1)[0] for gap in gaps] == ["Embase", "Web of Science"]
    assert gaps[1].endswith(RECORDS_GAP)
    notes, gaps = flows["cumulative"]
    assert notes == {"MEDLINE (PubMed)": "NCBI E-utilities; searched 2026-11-16, 2026-11-23"}
    assert gaps == []
    text = _identification_text(
        {"database_results": 71},
        {"database_specific_results": [("Embase", 39), ("MEDLINE (PubMed)", 32)]},
        flows["baseline"][0],
    )
    assert text.splitlines()[2:6] == [
        "  Embase (n = 39)",
        "    platform not reported; searched October 2021",
        "  MEDLINE (PubMed) (n = 32)",
        "    NCBI E-utilities; searched 2021-10-31",
    ]
