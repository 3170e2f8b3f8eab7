"""``prisma.csv``: a flow's counts in the PRISMA2020 R package's template layout.

The file is the package's template (columns ``data, node, box, description, boxtext,
tooltips, url, n``; every row of the current release, in its order) with ``n`` filled from
the ledger, so ``PRISMA2020::PRISMA_data()`` loads it unchanged and finds every row it looks
up; several databases or reasons share one cell as ``"Label, n; Label, n"``. The extension
boxes (undecided records, reports of studies already included) follow the template rows,
under names no lookup of the package matches; what they count is also written into the
``boxtext`` of the boxes the package draws (:func:`box_texts`), so its diagram shows them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from .counts import flow_breakdowns, flow_counts
from .ledger import LedgerRow
from .template import (
    EXTENSION_ROWS,
    MULTI_BOXES,
    SPECIFIC_RESULTS_BOXES,
    TEMPLATE_COLUMNS,
    TEMPLATE_ROWS,
)

#: The template's "nothing listed" cells of the database and register breakdowns.
_PLACEHOLDERS = frozenset(row[-1] for row in TEMPLATE_ROWS if row[0] in SPECIFIC_RESULTS_BOXES)


def csv_label(label: str) -> str:
    """A label safe inside the template's ``"Label, n; Label, n"`` cells.

    PRISMA_data() splits on ``;`` and takes the text before the first comma as the label,
    so both are replaced; PRISMA_flowdiagram() quotes labels with ``'``, so an apostrophe
    becomes a typographic one.

    >>> csv_label("Review, guideline, editorial or comment; no data")
    'Review / guideline / editorial or comment: no data'
    >>> csv_label("Children's hospital registry")
    'Children’s hospital registry'
    """
    return " ".join(label.replace(";", ":").replace(",", " /").replace("'", "\u2019").split())


def multi_cell(items: Sequence[tuple[str, int]], empty: str = "0") -> str:
    """The template's multi-value cell; ``empty`` when there is nothing to list.

    PRISMA_data() reads a cell without labels as one count, so zero reasons are "0" (drawn
    as "(n = 0)") and one reason is one ``Label, n`` pair.

    >>> multi_cell([("MEDLINE (PubMed)", 12), ("Embase", 30)])
    'MEDLINE (PubMed), 12; Embase, 30'
    >>> multi_cell([("Not adults", 1)])
    'Not adults, 1'
    >>> multi_cell([])
    '0'
    """
    if not items:
        return empty
    return "; ".join(f"{csv_label(label)}, {n}" for label, n in items)


def parse_multi_cell(cell: str) -> list[tuple[str, int]]:
    """Inverse of :func:`multi_cell`, parsed the way PRISMA_data() does (a template
    placeholder lists nothing).

    >>> parse_multi_cell("PubMed, 12; Embase, 30")
    [('PubMed', 12), ('Embase', 30)]
    >>> parse_multi_cell("0")
    []
    >>> parse_multi_cell("Register 1, xxx; Register 2, xxx; Register 3, xxx")
    []
    """
    if cell in _PLACEHOLDERS or not any(ch not in "0123456789," for ch in cell):
        return []
    items = []
    for part in cell.split(";"):
        label, _, number = part.strip().partition(",")
        items.append((label.strip(), int(number.replace(",", "").strip() or 0)))
    return items


def _count(n: int) -> str:
    return f"{n:,}"


def box_texts(counts: Mapping[str, int]) -> dict[str, str]:
    """The ``boxtext`` cells that differ from the template, so that the diagram the package
    draws says what the counts are.

    PRISMA_flowdiagram() draws a box as its ``boxtext`` followed by "(n = N)" on a line of its
    own, and draws nothing of the extension rows. So records still awaiting a decision are
    written into the text of the box they wait at, as a count of their own above the box's
    count (the layout of the package's "previous studies" box), and every identified record
    stays visible: identified - removed = screened + awaiting screening, sought - not
    retrieved = assessed + awaiting assessment. When some new reports belong to studies
    already included, "Reports of new included studies" would be false, so the label says
    how many are of new studies and how many of studies already included.

    >>> box_texts({"awaiting_title_abstract": 2, "awaiting_full_text": 0,
    ...            "new_reports": 1, "known_study_reports": 1})  # doctest: +NORMALIZE_WHITESPACE
    {'records_screened': 'Records awaiting screening\\n(n = 2)\\n\\nRecords screened',
     'new_reports': 'Reports included: 0 of new studies / 1 of studies already included'}
    >>> box_texts({"awaiting_title_abstract": 0, "awaiting_full_text": 0,
    ...            "new_reports": 3, "known_study_reports": 0})
    {}
    """
    texts = {}
    awaiting = counts.get("awaiting_title_abstract", 0)
    if awaiting:
        texts["records_screened"] = (
            f"Records awaiting screening\n(n = {_count(awaiting)})\n\nRecords screened"
        )
    waiting = counts.get("awaiting_full_text", 0)
    if waiting:
        texts["dbr_assessed"] = (
            f"Reports awaiting assessment\n(n = {_count(waiting)})\n\n"
            "Reports assessed for eligibility"
        )
    known = counts.get("known_study_reports", 0)
    if known:
        # one line: the package wraps this label itself (stringr::str_wrap)
        texts["new_reports"] = (
            f"Reports included: {_count(counts.get('new_reports', 0) - known)} of new studies"
            f" / {_count(known)} of studies already included"
        )
    return texts


def prisma_csv_rows(ledger: Sequence[LedgerRow], flow: str) -> list[dict[str, str]]:
    """Every template row, in its order, with ``n`` filled from the ledger (and ``boxtext``
    from :func:`box_texts` where the template's would hide or misstate a count), then the
    extension rows.

    Rows the ledger does not count (titles, sections, the meta-analysis box) keep the
    template's ``n``; a database or register breakdown with nothing to list keeps the
    template's placeholder (:data:`~livingreview.prisma.template.SPECIFIC_RESULTS_BOXES`).
    """
    counts = flow_counts(ledger, flow)
    breakdowns = flow_breakdowns(ledger, flow)
    texts = box_texts(counts)
    rows = []
    for values in (*TEMPLATE_ROWS, *EXTENSION_ROWS):
        row = dict(zip(TEMPLATE_COLUMNS, values, strict=True))
        data = row["data"]
        row["boxtext"] = texts.get(data, row["boxtext"])
        if data in SPECIFIC_RESULTS_BOXES:
            row["n"] = multi_cell(breakdowns[data], empty=row["n"])
        elif data in MULTI_BOXES:
            row["n"] = multi_cell(breakdowns[data])
        elif data in counts:
            row["n"] = str(counts[data])
        rows.append(row)
    return rows


def render_prisma_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """CSV text as R's ``write.csv``-style template: comma-separated, quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TEMPLATE_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in TEMPLATE_COLUMNS])
    return buffer.getvalue()
