"""The PRISMA2020 R package's CSV template and the boxes of the ledger.

``template.csv`` beside this module is the template ``PRISMA2020::PRISMA_data()`` reads (MIT
licence, see ``LICENSE-PRISMA2020.md`` beside it). It is read as data, not retyped as code, so
that following a new release of the package means replacing one file, and a test compares it
with the row keys of that release.

The ledger uses the template's ``data`` names as its box names, plus boxes of its own
(:data:`EXTENSION_ROWS`): records still awaiting a decision, and the included reports of
studies already included.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from ..screening.vocabulary import (
    AWAITING_FULL_TEXT,
    AWAITING_TITLE_ABSTRACT,
    EXCLUDED_FULL_TEXT,
    EXCLUDED_TITLE_ABSTRACT,
    FULL_TEXT_NOT_RETRIEVED,
    INCLUDED,
)

#: Columns of the PRISMA2020 package's CSV template, in order.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "data",
    "node",
    "box",
    "description",
    "boxtext",
    "tooltips",
    "url",
    "n",
)


def read_template(text: str) -> tuple[tuple[str, ...], ...]:
    """The rows of a PRISMA2020 template CSV (``n`` as shipped), checking its header.

    >>> read_template("data,node,box,description,boxtext,tooltips,url,n\\nduplicates,node8,box3,D,D,D,d.html,0\\n")
    (('duplicates', 'node8', 'box3', 'D', 'D', 'D', 'd.html', '0'),)

    Raises:
        ValueError: the header is not :data:`TEMPLATE_COLUMNS` or a row has another width
            (the packaged template was replaced by a file of another layout).
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != TEMPLATE_COLUMNS:
        raise ValueError(f"PRISMA2020 template header is not {', '.join(TEMPLATE_COLUMNS)}")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(TEMPLATE_COLUMNS):
            raise ValueError(f"PRISMA2020 template line {number} has {len(row)} cells, not 8")
    return tuple(tuple(row) for row in rows[1:])


#: The template rows (``template.csv``, PRISMA2020 package, MIT), ``n`` as shipped.
TEMPLATE_ROWS: tuple[tuple[str, ...], ...] = read_template(
    files("livingreview.prisma").joinpath("template.csv").read_text(encoding="utf-8")
)

#: Boxes this project adds: records still awaiting a decision (so that they are shown, never
#: dropped) and the included reports that belong to a study already included (so that the
#: label of ``new_reports`` can say so). Their names match none of the patterns PRISMA_data()
#: greps for, so the package ignores them.
EXTENSION_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "awaiting_title_abstract",
        "NA",
        "box4",
        "Records awaiting title/abstract screening (living review extension; drawn in the text of records_screened)",
        "Records awaiting screening",
        "NA",
        "NA",
        "0",
    ),
    (
        "awaiting_full_text",
        "NA",
        "box8",
        "Reports retrieved, awaiting full-text assessment (living review extension; drawn in the text of dbr_assessed)",
        "Reports awaiting assessment",
        "NA",
        "NA",
        "0",
    ),
    (
        "known_study_reports",
        "NA",
        "box10",
        "New reports of studies already included (living review extension; drawn in the text of new_reports)",
        "Reports of studies already included",
        "NA",
        "NA",
        "0",
    ),
)

#: Boxes whose ``n`` cell lists several labelled counts ("Label, n; Label, n").
MULTI_BOXES: tuple[str, ...] = (
    "database_specific_results",
    "register_specific_results",
    "dbr_excluded",
    "other_excluded",
)
#: Boxes listing records per database or register: with none to list, the cell keeps the
#: template's placeholder, which is how the package (and its Shiny app) tell that there is no
#: breakdown to draw; "0" would be drawn as a stray "(n = 0)" line.
SPECIFIC_RESULTS_BOXES: tuple[str, ...] = ("database_specific_results", "register_specific_results")
#: Section rows of the template: they hold no count.
SECTION_BOXES: tuple[str, ...] = ("identification", "screening", "included")
#: The template's meta-analysis box (PRISMA2020 1.1.4). Which studies are pooled is the
#: synthesis stage's result (``results/synthesis/``), not a step of the flow, so the ledger
#: does not count it: the rows keep the template's 0, which leaves the box off.
META_ANALYSIS_BOXES: tuple[str, ...] = ("total_studies_ma", "total_reports_ma")
#: Every box the ledger may use, in template order.
BOXES: tuple[str, ...] = tuple(
    row[0]
    for row in (*TEMPLATE_ROWS, *EXTENSION_ROWS)
    if row[0] != "NA" and row[0] not in SECTION_BOXES + META_ANALYSIS_BOXES
)

#: Boxes of records identified by other methods than databases and registers.
OTHER_METHOD_BOXES: tuple[str, ...] = (
    "website_results",
    "organisation_results",
    "citations_results",
)

#: Screening status (the screening stage's vocabulary) -> the boxes a publication of the
#: databases/registers arm passes through.
STATUS_BOXES: dict[str, tuple[str, ...]] = {
    AWAITING_TITLE_ABSTRACT: ("awaiting_title_abstract",),
    EXCLUDED_TITLE_ABSTRACT: ("records_screened", "records_excluded"),
    AWAITING_FULL_TEXT: ("records_screened", "dbr_sought_reports", "awaiting_full_text"),
    FULL_TEXT_NOT_RETRIEVED: (
        "records_screened",
        "dbr_sought_reports",
        "dbr_notretrieved_reports",
    ),
    EXCLUDED_FULL_TEXT: (
        "records_screened",
        "dbr_sought_reports",
        "dbr_assessed",
        "dbr_excluded",
    ),
    INCLUDED: ("records_screened", "dbr_sought_reports", "dbr_assessed", "new_reports"),
}
#: Label of an exclusion whose reason the sheet did not give.
NO_REASON = "reason not recorded"
