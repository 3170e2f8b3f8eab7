"""The audit report (`snakemake --report`) of a default run holds what an auditor checks:
screening conflicts and adjudications, merged duplicates with their rule or verdict, uncertain
pairs, extraction status and discrepancies, and the run record, each with its caption."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from conftest import ROOT, run_snakemake

pytestmark = pytest.mark.workflow

RUN_DATE = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["run_date"]
ITEMS = [
    ("Screening", "results/screening/conflicts.tsv"),
    ("Screening", "results/screening/agreement.tsv"),
    ("Search provenance", "results/search/prisma_s.tsv"),
    ("Deduplication", "results/records/duplicates.tsv"),
    ("Deduplication", "results/records/maybe.tsv"),
    ("Extraction", "results/extraction/status.tsv"),
    ("Extraction", "results/extraction/discrepancies.tsv"),
    ("Run record", f"results/runs/by-date/{RUN_DATE}/summary.md"),
]


@pytest.fixture(scope="module")
def report_html(default_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    run_snakemake(default_run, "--report", str(path))
    return path.read_text(encoding="utf-8")


def _record(html: str, path: str) -> dict:
    """The report's entry for one file: name, labels, caption, data."""
    key = f'"{path}": {{'
    assert key in html, f"{path} is not in the report"
    entry, _ = json.JSONDecoder().raw_decode(html, html.index(key) + len(key) - 1)
    return entry


@pytest.mark.parametrize(("category", "path"), ITEMS, ids=[p for _, p in ITEMS])
def test_the_report_holds_the_file_with_its_caption(default_run, report_html, category, path):
    entry = _record(report_html, path)
    assert any(entry["labels"].values())
    assert "How it was made" in entry["caption"]
    data = base64.b64decode(entry["data_uri"].split("base64,", 1)[1])
    assert data == (default_run / path).read_bytes()
    # filed under its stage's category
    assert re.search(rf'"{re.escape(category)}": {{[^{{}}]*"{re.escape(path)}"', report_html)


def test_the_run_record_caption_names_the_run(report_html):
    entry = _record(report_html, f"results/runs/by-date/{RUN_DATE}/summary.md")
    assert f"The record of the run dated {RUN_DATE}" in entry["caption"]
    assert entry["labels"]["item"] == f"run {RUN_DATE}"
