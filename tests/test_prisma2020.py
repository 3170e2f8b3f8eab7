"""prisma.csv in the PRISMA2020 R package: every row of its current template (1.1.4) in its
order, every lookup of its PRISMA_data() finding exactly one row, and (where R is installed)
the package's own code reading the files and drawing the same numbers as our diagram.

The scenario is the small constructed review of test_prisma.py: a baseline, one update run
with a record awaiting screening, one with every status, one register record and a single
exclusion reason (given twice).
"""

from __future__ import annotations

import pytest
from prisma2020 import (
    R_SOURCES,
    assert_read_as_counted,
    assert_text_shows,
    csv_rows,
    drawn_phrases,
    load_in_prisma2020,
    matching_rows,
    r_lookups,
    r_unavailable,
    template_keys,
)
from test_prisma import BASELINE, RUN1, RUN2, small_scenario

from livingreview.prisma.counts import flow_breakdowns, flow_counts
from livingreview.prisma.flowchart import draw_flow
from livingreview.prisma.prisma_csv import parse_multi_cell, prisma_csv_rows, render_prisma_csv
from livingreview.prisma.template import BOXES, EXTENSION_ROWS, TEMPLATE_COLUMNS, TEMPLATE_ROWS

FLOWS = ("baseline", RUN1, RUN2, "cumulative")


@pytest.fixture(scope="module")
def ledger():
    return small_scenario().ledger()


@pytest.fixture(scope="module")
def no_update_ledger():
    """No update run yet: the cumulative flow has no database record at all."""
    s = small_scenario()
    s.records = [r for r in s.records if r.run == BASELINE]
    s.publications = {k: p for k, p in s.publications.items() if p.first_run == BASELINE}
    return s.ledger()


def _csv(ledger, flow):
    return csv_rows(render_prisma_csv(prisma_csv_rows(ledger, flow)))


def test_the_template_is_the_current_prisma2020_release():
    assert [tuple(row[:3]) for row in TEMPLATE_ROWS] == template_keys()
    assert [k[0] for k in template_keys()][-2:] == ["total_studies_ma", "total_reports_ma"]


@pytest.mark.parametrize("flow", FLOWS)
def test_every_template_row_in_its_order_then_the_extension_rows(ledger, flow):
    rows = _csv(ledger, flow)
    assert list(rows[0]) == list(TEMPLATE_COLUMNS)
    keys = template_keys()
    assert [(r["data"], r["node"], r["box"]) for r in rows[: len(keys)]] == keys
    assert [r["data"] for r in rows[len(keys) :]] == [r[0] for r in EXTENSION_ROWS]


def test_the_lookups_are_read_from_the_r_code():
    """Every value PRISMA_data() reads goes through PRISMA_default_or_csv_(): one lookup each."""
    lookups = r_lookups()
    calls = (
        (R_SOURCES / "PRISMA_data.R").read_text(encoding="utf-8").count("PRISMA_default_or_csv_(")
    )
    assert len(lookups) == calls == 60
    assert (1, "total_studies_ma") in lookups and (1, "total_studies$") in lookups
    assert (3, "prevstud") in lookups


@pytest.mark.parametrize("flow", FLOWS)
def test_every_lookup_of_prisma_data_finds_exactly_one_row(ledger, flow):
    """What made PRISMA_data() stop at "object 'total_studies_ma_text' not found": a lookup
    with no row falls back to a default that names a variable not yet defined; one with two
    rows reads a vector where a number is expected."""
    rows = _csv(ledger, flow)
    for column, pattern in r_lookups():
        assert len(matching_rows(rows, column, pattern)) == 1, (column, pattern)


def test_an_empty_register_list_keeps_the_template_placeholder(ledger, no_update_ledger):
    placeholder = "Register 1, xxx; Register 2, xxx; Register 3, xxx"
    by_data = {r["data"]: r for r in _csv(ledger, "baseline")}
    assert by_data["register_results"]["n"] == "0"
    assert by_data["register_specific_results"]["n"] == placeholder
    by_data = {r["data"]: r for r in _csv(ledger, RUN2)}
    assert by_data["register_specific_results"]["n"] == "ClinicalTrials.gov, 1"
    by_data = {r["data"]: r for r in _csv(no_update_ledger, "cumulative")}
    assert by_data["database_results"]["n"] == "0"
    assert by_data["database_specific_results"]["n"] == (
        "Database 1, xxx; Database 2, xxx; Database 3, xxx"
    )


def test_exclusion_reason_cells_with_zero_one_and_several_reasons(ledger):
    assert {r["data"]: r["n"] for r in _csv(ledger, RUN1)}["dbr_excluded"] == "0"
    assert {r["data"]: r["n"] for r in _csv(ledger, RUN2)}["dbr_excluded"] == "Not adults, 2"
    s = small_scenario()
    s.publication(RUN2, "excluded_full_text", ("pubmed:11", RUN2), reasons=["No data, at all"])
    cell = {r["data"]: r["n"] for r in _csv(s.ledger(), RUN2)}["dbr_excluded"]
    assert cell == "Not adults, 2; No data / at all, 1"
    assert parse_multi_cell(cell) == [("Not adults", 2), ("No data / at all", 1)]


def test_the_meta_analysis_rows_keep_the_template_zero(ledger):
    by_data = {r["data"]: r for r in _csv(ledger, "cumulative")}
    assert by_data["total_studies_ma"]["n"] == by_data["total_reports_ma"]["n"] == "0"
    assert "total_studies_ma" not in BOXES


@pytest.mark.parametrize("flow", FLOWS)
def test_our_diagram_shows_the_counts_prisma2020_reads(ledger, flow):
    counts = flow_counts(ledger, flow)
    fig = draw_flow(counts, flow_breakdowns(ledger, flow), flow, flow != "baseline")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert_text_shows("\n".join(texts), drawn_phrases(counts, flow != "baseline"))


@pytest.mark.r
def test_prisma2020_reads_and_draws_every_flow(ledger, no_update_ledger, tmp_path):
    """The package's own R code (PRISMA2020 1.1.4; 1.1.3 reads the same way): no error, no
    warning, every count as the ledger has it, the same phrases as our diagram."""
    reason = r_unavailable()
    if reason:
        pytest.skip(reason)
    cases = {}
    for name, source, flow in [
        *((flow, ledger, flow) for flow in FLOWS),
        ("no-update-cumulative", no_update_ledger, "cumulative"),
    ]:
        path = tmp_path / f"{name}.csv"
        path.write_text(render_prisma_csv(prisma_csv_rows(source, flow)))
        cases[str(path)] = (source, flow)
    loaded = load_in_prisma2020([tmp_path / f"{n}.csv" for n in (*FLOWS, "no-update-cumulative")])
    for path, (source, flow) in cases.items():
        assert_read_as_counted(
            loaded[path], flow_counts(source, flow), flow_breakdowns(source, flow)
        )
