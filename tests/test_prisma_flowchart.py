"""The PRISMA 2020 diagram (livingreview.prisma.flowchart): drawn from the counts, A4, reproducible."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from test_prisma import RUN2, small_scenario

from livingreview.io import write_tsv
from livingreview.prisma.counts import count_table, flow_breakdowns, flow_counts
from livingreview.prisma.flowchart import (
    A4_LANDSCAPE_INCHES,
    MIN_FONT_PT,
    NBSP,
    draw_flow,
    draw_flows,
    save_flow,
)


def _texts(fig) -> str:
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]
    return "\n".join(texts).replace(NBSP, " ")


def _fonts(fig) -> list[float]:
    return [t.get_fontsize() for t in fig.texts] + [
        t.get_fontsize() for ax in fig.axes for t in ax.texts
    ]


@pytest.fixture(scope="module")
def ledger():
    return small_scenario().ledger()


def test_every_box_shows_the_ledger_count(ledger):
    counts = flow_counts(ledger, RUN2)
    fig = draw_flow(counts, flow_breakdowns(ledger, RUN2), "Run 2")
    text = " ".join(_texts(fig).split())
    for phrase, box in [
        ("Studies included in previous version of review (n = {})", "previous_studies"),
        ("Databases (n = {})", "database_results"),
        ("Registers (n = {})", "register_results"),
        ("Duplicate records (n = {})", "duplicates"),
        ("Records awaiting screening (n = {})", "awaiting_title_abstract"),
        ("Records screened (n = {})", "records_screened"),
        ("Records excluded (n = {})", "records_excluded"),
        ("Reports sought for retrieval (n = {})", "dbr_sought_reports"),
        ("Reports not retrieved (n = {})", "dbr_notretrieved_reports"),
        ("Reports awaiting assessment (n = {})", "awaiting_full_text"),
        ("Reports assessed for eligibility (n = {})", "dbr_assessed"),
        ("Reports excluded (n = {})", "dbr_excluded"),
        ("New studies included in review (n = {})", "new_studies"),
        ("Total studies included in review (n = {})", "total_studies"),
        ("Reports of total included studies (n = {})", "total_reports"),
    ]:
        assert phrase.format(counts[box]) in text, phrase
    assert "Not adults (n = 2)" in text  # exclusion reasons are listed
    assert (
        "MEDLINE (PubMed) (n = 7)" in text
        and "Embase (n = 2)" in text
        and "ClinicalTrials.gov (n = 1)" in text
    )


def test_readable_on_a4(ledger):
    many_reasons = {
        "dbr_excluded": [
            (f"Exclusion reason number {i} with a long explanation", i) for i in range(1, 16)
        ]
    }
    fig = draw_flow(flow_counts(ledger, "cumulative"), many_reasons, "Many reasons")
    assert tuple(round(v, 2) for v in fig.get_size_inches()) == A4_LANDSCAPE_INCHES
    assert min(_fonts(fig)) >= MIN_FONT_PT
    assert "Exclusion reason number 15" in _texts(fig)


def test_baseline_layout_has_no_previous_column(ledger):
    fig = draw_flow(flow_counts(ledger, "baseline"), {}, "Baseline", show_previous=False)
    text = _texts(fig)
    assert "previous version" not in text and "Organisations (n = 1)" in text


def test_files_are_written_reproducibly(ledger, tmp_path):
    table, columns = count_table(ledger)
    write_tsv(tmp_path / "counts.tsv", table, columns)
    outputs = {
        "cumulative": [tmp_path / "a.svg", tmp_path / "a.pdf", tmp_path / "a.png"],
        "baseline": [tmp_path / "b.svg"],
    }
    draw_flows(tmp_path / "counts.tsv", outputs, {"cumulative": "Update"})
    first = {p.name: p.read_bytes() for p in tmp_path.glob("a.*")}
    draw_flows(tmp_path / "counts.tsv", outputs, {"cumulative": "Update"})
    assert first == {p.name: p.read_bytes() for p in tmp_path.glob("a.*")}
    root = ET.fromstring(first["a.svg"])
    assert root.get("width").startswith("841.") and root.get("height").startswith(
        "595."
    )  # A4 in pt
    assert first["a.pdf"].startswith(b"%PDF") and first["a.png"].startswith(b"\x89PNG")
    assert (tmp_path / "b.svg").stat().st_size > 1000
    assert not list(tmp_path.glob(".*.tmp"))


def test_unknown_format_leaves_no_file(ledger, tmp_path):
    fig = draw_flow(flow_counts(ledger, "cumulative"), {}, "x")
    with pytest.raises(ValueError):
        save_flow(fig, [tmp_path / "flow.bogus"])
    assert not list(tmp_path.iterdir())
