"""Every identified record on the diagram a reader sees, and labels true to the data.

A hand-checked update run: five records identified (four PubMed records and an Embase copy of
one of them), one duplicate; of the four publications, two await title/abstract screening,
one waits at full text and one is included as a further report of a study the published
review already had. By hand:

    identified 5 - duplicates 1 = 4 = screened 2 + awaiting screening 2
    screened 2 - excluded 0 = sought 2
    sought 2 - not retrieved 0 = 2 = assessed 1 + awaiting assessment 1
    assessed 1 - excluded 0 = reports included 1: 0 of new studies, 1 of a study already included

The PRISMA2020 package draws neither extension box, so these numbers must reach the text of the
boxes it does draw (prisma.csv's ``boxtext``), and its "Reports of new included studies" must
not be printed beside "New studies (n = 0)".
"""

from __future__ import annotations

import re

import pytest
from prisma2020 import assert_read_as_counted, load_in_prisma2020, r_unavailable
from test_prisma import BASELINE, LEDGER_COLUMNS, Scenario, _violation, small_studies

from livingreview.io import read_tsv, write_tsv
from livingreview.prisma.counts import flow_breakdowns, flow_counts
from livingreview.prisma.flowchart import NBSP, draw_flow
from livingreview.prisma.identities import check_identities
from livingreview.prisma.prisma_csv import prisma_csv_rows, render_prisma_csv
from livingreview.prisma.report_lists import write_report_lists
from livingreview.prisma.template import TEMPLATE_ROWS

RUN = "2026-11-23"


def hand_checked() -> Scenario:
    s = Scenario(small_studies())
    s.publication(BASELINE, "included", ("pubmed:1", BASELINE), study="alpha-2001")
    s.publication(BASELINE, "included", ("embase:E2", BASELINE), study="beta-2010")
    s.publication(RUN, "included", ("pubmed:101", RUN), ("embase:E101", RUN), study="alpha-2001")
    s.publication(RUN, "awaiting_title_abstract", ("pubmed:102", RUN))
    s.publication(RUN, "awaiting_title_abstract", ("pubmed:103", RUN))
    s.publication(RUN, "awaiting_full_text", ("pubmed:104", RUN))
    return s


@pytest.fixture(scope="module")
def ledger():
    return hand_checked().ledger()


def test_the_hand_checked_counts(ledger):
    check_identities(ledger)
    c = flow_counts(ledger, "cumulative")
    assert (c["database_results"], c["duplicates"]) == (5, 1)
    assert (c["records_screened"], c["awaiting_title_abstract"]) == (2, 2)
    assert (c["dbr_sought_reports"], c["dbr_assessed"], c["awaiting_full_text"]) == (2, 1, 1)
    assert (c["new_studies"], c["new_reports"], c["known_study_reports"]) == (0, 1, 1)
    assert (c["previous_studies"], c["total_studies"], c["total_reports"]) == (3, 3, 4)
    assert c == flow_counts(ledger, RUN)


def _cells(ledger, flow="cumulative"):
    return {row["data"]: row for row in prisma_csv_rows(ledger, flow)}


def test_prisma_csv_writes_the_waiting_records_into_the_boxes_the_package_draws(ledger):
    cells = _cells(ledger)
    assert cells["records_screened"]["n"] == "2"
    assert cells["records_screened"]["boxtext"] == (
        "Records awaiting screening\n(n = 2)\n\nRecords screened"
    )
    assert cells["dbr_assessed"]["boxtext"] == (
        "Reports awaiting assessment\n(n = 1)\n\nReports assessed for eligibility"
    )
    assert cells["new_reports"]["boxtext"] == (
        "Reports included: 0 of new studies / 1 of studies already included"
    )
    # the extension rows are still there, under names the package ignores
    assert cells["awaiting_title_abstract"]["n"] == "2"
    assert cells["known_study_reports"]["n"] == "1"


def test_with_nothing_waiting_the_template_text_is_kept():
    s = hand_checked()
    s.publications = {k: p for k, p in s.publications.items() if p.first_run == BASELINE}
    s.records = [r for r in s.records if r.run == BASELINE]
    template = {row[0]: row[4] for row in TEMPLATE_ROWS}
    cells = _cells(s.ledger())
    for box in ("records_screened", "dbr_assessed", "new_reports"):
        assert cells[box]["boxtext"] == template[box]


def _numbers(text: str) -> dict[str, int]:
    """Each "Label (n = N)" of a diagram's text, flattened; the first of labels both arms
    print (the databases and registers arm, drawn first)."""
    flat = " ".join(text.replace(NBSP, " ").split())
    numbers: dict[str, int] = {}
    for label, n in re.findall(r"([A-Za-z][A-Za-z /-]*?)\s*\(n = ([0-9,]+)\)", flat):
        numbers.setdefault(label.strip(), int(n.replace(",", "")))
    return numbers


def _assert_identities_as_read(seen: dict[str, int]) -> None:
    """identified - removed = screened + awaiting, on the printed numbers only."""
    assert seen["Databases"] - seen["Duplicate records"] == 4
    assert seen["Records screened"] + seen["Records awaiting screening"] == 4
    assert seen["Reports sought for retrieval"] - seen["Reports not retrieved"] == 2
    assert seen["Reports assessed for eligibility"] + seen["Reports awaiting assessment"] == 2


def test_our_diagram_accounts_for_every_record_and_labels_the_report_truly(ledger):
    fig = draw_flow(
        flow_counts(ledger, "cumulative"), flow_breakdowns(ledger, "cumulative"), "update"
    )
    text = "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)
    _assert_identities_as_read(_numbers(text))
    flat = " ".join(text.replace(NBSP, " ").split())
    assert "Reports of new included studies" not in flat
    assert "Reports included (n = 1): 0 of new studies, 1 of studies already included" in flat
    assert "New studies included in review (n = 0)" in flat


def test_the_prisma2020_package_draws_every_record_and_a_true_label(ledger, tmp_path):
    reason = r_unavailable()
    if reason:
        pytest.skip(reason)
    path = tmp_path / "prisma.csv"
    path.write_text(render_prisma_csv(prisma_csv_rows(ledger, "cumulative")))
    loaded = load_in_prisma2020([path])[str(path)]
    counts = flow_counts(ledger, "cumulative")
    assert_read_as_counted(loaded, counts, flow_breakdowns(ledger, "cumulative"))
    labels = loaded.labels()
    screened = next(label for label in labels if "Records screened" in label)
    assert screened == "Records awaiting screening\n(n = 2)\n\nRecords screened\n(n = 2)"
    _assert_identities_as_read(_numbers("\n".join(labels)))
    drawn = " ".join("\n".join(labels).split())
    assert "Reports of new included studies" not in drawn
    assert "0 of new studies / 1 of studies already included (n = 1)" in drawn


def test_a_report_of_a_known_study_left_out_of_its_box_is_caught(ledger):
    broken = [
        row for row in ledger if not (row["flow"] == RUN and row["box"] == "known_study_reports")
    ]
    _violation(broken, f"[{RUN}] known_study_reports = new_reports of a study in previous_studies")
    extra = {**dict.fromkeys(LEDGER_COLUMNS, ""), "flow": RUN, "box": "known_study_reports"}
    _violation([*ledger, {**extra, "id": "pubmed:104"}], "only in known_study_reports: pubmed:104")


# ----------------------------------------------------------------------------- the report's lists


def test_excluded_and_included_report_lists_are_the_ledger_boxes(tmp_path):
    """Item 16b and the included reports per study, written through write_tsv (a title that
    starts like a formula is neutralised) and cited from unique.tsv."""
    s = hand_checked()
    s.publication(RUN, "excluded_full_text", ("pubmed:105", RUN), reasons=["Not adults", "No data"])
    ledger = s.ledger()
    ledger_path, unique = tmp_path / "ledger.tsv", tmp_path / "unique.tsv"
    write_tsv(ledger_path, ledger, LEDGER_COLUMNS)
    fields = ("publication_id", "title", "authors", "journal_abbrev", "year", "pmid", "doi")
    write_tsv(
        unique,
        [
            {
                "publication_id": "pubmed:105",
                "title": "=HYPERLINK(1) in children",
                "authors": "",
                "journal_abbrev": "Hepatology",
                "year": "2026",
                "pmid": "105",
                "doi": "10.1/x",
            },
            {
                "publication_id": "pubmed:101",
                "title": "Alpha, five years on",
                "authors": "Alpha A",
                "journal_abbrev": "J Hepatol",
                "year": "2026",
                "pmid": "101",
            },
        ],
        fields,
    )
    out = tmp_path / "out"
    out.mkdir()
    assert write_report_lists(
        ledger_path, unique, excluded_path=out / "ex.tsv", included_path=out / "in.tsv"
    ) == (1, 4)
    excluded = read_tsv(out / "ex.tsv")
    assert [
        (r["flow"], r["publication_id"], r["reason"], r["other_reasons"]) for r in excluded
    ] == [(RUN, "pubmed:105", "Not adults", "No data")]
    assert excluded[0]["citation"] == "=HYPERLINK(1) in children. Hepatology. 2026."
    raw_citation = (out / "ex.tsv").read_text().split("\n")[1].split("\t")[2]
    assert raw_citation.endswith("=HYPERLINK(1) in children. Hepatology. 2026.")
    assert not raw_citation.startswith("=")  # neutralised for spreadsheets
    included = read_tsv(out / "in.tsv")
    assert [(r["study_id"], r["publication_id"], r["flow"], r["report_of"]) for r in included] == [
        ("alpha-2001", "pubmed:1", "baseline", "new study"),
        ("alpha-2001", "pubmed:101", RUN, "study already included"),
        ("beta-2010", "embase:E2", "baseline", "new study"),
        ("cohort", "unpublished:cohort", "baseline", "new study"),
    ]
    assert included[1]["citation"] == "Alpha A. Alpha, five years on. J Hepatol. 2026."
    assert included[3]["citation"] == "Cohort (unpublished)"
