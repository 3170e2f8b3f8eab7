"""The reconstructed baseline Embase-style export: built only from facts.tsv, parses cleanly."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import pytest

from livingreview.imports.stage import import_export
from livingreview.records import normalise_doi

ROOT = Path(__file__).resolve().parents[1]
RECON = ROOT / "resources" / "imports" / "embase" / "reconstruction"
EXPORT = ROOT / "resources" / "imports" / "embase" / "2021-10-31-baseline-reconstructed.ris"
# The team's reference material (seed article, real records), outside this repository: set
# LIVINGREVIEW_REFERENCE_DIR to check the reconstruction's sources against it.
REFERENCE = Path(os.environ.get("LIVINGREVIEW_REFERENCE_DIR", "/nonexistent"))


def _builder():
    spec = importlib.util.spec_from_file_location("build_export", RECON / "build_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _facts() -> list[dict[str, str]]:
    with (RECON / "facts.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _records():
    spec = {
        "database": "embase",
        "search_date": "2021-10-31",
        "format": "ris",
        "dialect": "embase",
        "files": [str(EXPORT)],
    }
    return import_export(spec)[0]


def test_export_is_exactly_what_the_builder_makes_from_facts():
    assert EXPORT.read_text(encoding="utf-8") == _builder().build(_facts())


def test_every_identifier_and_title_comes_from_facts():
    facts, records = _facts(), _records()
    assert len(records) == len(facts)
    for fact, record in zip(facts, records):
        assert record["title"] == fact["title"]
        assert record["pmid"] == fact["pmid"]
        assert record["doi"] == normalise_doi(fact["doi"])
        assert record["year"] == fact["year"]
        assert record["abstract"] == ""  # no abstract is invented
    assert len({r["record_id"] for r in records}) == len(records)
    assert all(r["record_id"].startswith("embase:h") for r in records)  # no accession invented


def test_export_has_the_variations_real_exports_have():
    text = EXPORT.read_text(encoding="utf-8")
    records = _records()
    assert "DO  - https://doi.org/" in text and "DO  - http://dx.doi.org/" in text
    assert any(line.startswith("DO  - 10.") and line != line.lower() for line in text.splitlines())
    with_doi = [r for r in records if r["doi"]]
    assert with_doi and any(not r["pmid"] for r in with_doi)  # papers with a DOI but no PMID
    assert sum(1 for r in records if r["publication_types"] == "Conference Abstract") >= 2
    included = [f for f in _facts() if f["key"].startswith("ref")]
    assert [f["seed_ref"] for f in included] == ["15", *map(str, range(26, 45))]


@pytest.mark.skipif(
    not (REFERENCE / "seed").is_dir(),
    reason="set LIVINGREVIEW_REFERENCE_DIR to the reference material to check the sources",
)
def test_facts_are_found_in_the_seed_and_real_records():
    assert _builder().check_sources(_facts(), REFERENCE) == []
