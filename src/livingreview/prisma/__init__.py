"""PRISMA 2020 flow of the living review, counted from records and checked on every run.

Consumes the record tables of every source and run (PubMed snapshots and imported exports),
the dedup stage's ``unique.tsv``, ``duplicates.tsv`` and ``runs.tsv``, the screening stage's
``status.tsv`` and the published review's ``studies.tsv``; produces (``results/prisma/``)
the record-level ``ledger.tsv``, ``prisma.csv`` / ``prisma_baseline.csv`` in the PRISMA2020
R package's template layout, ``counts.tsv`` and the diagrams.

Modules, in the order the data flows:

* :mod:`~livingreview.prisma.template`: the PRISMA2020 template (``template.csv``, a data
  file of this package, MIT) and the boxes of the ledger;
* :mod:`~livingreview.prisma.inputs`: readers of the other stages' tables;
* :mod:`~livingreview.prisma.ledger`: one row per (flow, box, item);
* :mod:`~livingreview.prisma.identities`: the diagram's identities as set identities that
  name the ids breaking them;
* :mod:`~livingreview.prisma.counts`: counts per box and the wide ``counts.tsv``;
* :mod:`~livingreview.prisma.prisma_csv`: ``prisma.csv`` in the template layout;
* :mod:`~livingreview.prisma.stage`: the ledger job (:func:`build_prisma`);
* :mod:`~livingreview.prisma.flowchart`: the diagram, drawn from ``counts.tsv``. It is not
  imported here, so the ledger job neither loads matplotlib nor reruns when only the
  drawing code changes; import it as ``from livingreview.prisma import flowchart``.

Records still awaiting a decision are counted in two extra boxes, ``awaiting_title_abstract``
and ``awaiting_full_text`` (appended to ``prisma.csv`` under names the R package ignores), so
nothing is silently dropped and the identities hold with them.
"""

from .counts import count_table, flow_breakdowns, flow_counts, read_counts
from .identities import check_baseline, check_dedup_runs, check_identities, identity_problems
from .inputs import (
    BaselineStudy,
    FlowSettings,
    Publication,
    RecordRef,
    Status,
    read_baseline_studies,
    read_duplicate_rules,
    read_publications,
    read_record_refs,
    read_statuses,
)
from .ledger import (
    BASELINE_FLOW,
    CUMULATIVE_FLOW,
    LEDGER_COLUMNS,
    FlowTotals,
    LedgerRow,
    build_flow,
    build_ledger,
    flows_of,
)
from .prisma_csv import csv_label, multi_cell, parse_multi_cell, prisma_csv_rows, render_prisma_csv
from .stage import build_prisma
from .template import (
    BOXES,
    EXTENSION_ROWS,
    META_ANALYSIS_BOXES,
    MULTI_BOXES,
    NO_REASON,
    OTHER_METHOD_BOXES,
    SECTION_BOXES,
    SPECIFIC_RESULTS_BOXES,
    STATUS_BOXES,
    TEMPLATE_COLUMNS,
    TEMPLATE_ROWS,
)

__all__ = [
    "BASELINE_FLOW",
    "BOXES",
    "CUMULATIVE_FLOW",
    "EXTENSION_ROWS",
    "LEDGER_COLUMNS",
    "META_ANALYSIS_BOXES",
    "MULTI_BOXES",
    "NO_REASON",
    "OTHER_METHOD_BOXES",
    "SECTION_BOXES",
    "SPECIFIC_RESULTS_BOXES",
    "STATUS_BOXES",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_ROWS",
    "BaselineStudy",
    "FlowSettings",
    "FlowTotals",
    "LedgerRow",
    "Publication",
    "RecordRef",
    "Status",
    "build_flow",
    "build_ledger",
    "build_prisma",
    "check_baseline",
    "check_dedup_runs",
    "check_identities",
    "count_table",
    "csv_label",
    "flow_breakdowns",
    "flow_counts",
    "flows_of",
    "identity_problems",
    "multi_cell",
    "parse_multi_cell",
    "prisma_csv_rows",
    "read_baseline_studies",
    "read_counts",
    "read_duplicate_rules",
    "read_publications",
    "read_record_refs",
    "read_statuses",
    "render_prisma_csv",
]
