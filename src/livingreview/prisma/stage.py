"""The prisma_ledger job: read every input, build and check the ledger, write four files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..io import read_tsv, write_text, write_tsv
from .counts import count_table, flow_counts
from .identities import check_baseline, check_dedup_runs, check_identities
from .inputs import (
    FlowSettings,
    read_baseline_studies,
    read_duplicate_rules,
    read_publications,
    read_record_refs,
    read_statuses,
)
from .ledger import BASELINE_FLOW, CUMULATIVE_FLOW, LEDGER_COLUMNS, LedgerRow, build_ledger
from .prisma_csv import prisma_csv_rows, render_prisma_csv

log = logging.getLogger(__name__)


def build_prisma(
    record_tables: Sequence[str | Path],
    unique: str | Path,
    duplicates: str | Path,
    dedup_runs: str | Path,
    status: str | Path,
    baseline_studies: str | Path,
    settings: FlowSettings,
    *,
    ledger_path: str | Path,
    prisma_csv: str | Path,
    prisma_baseline_csv: str | Path,
    counts_path: str | Path,
) -> list[LedgerRow]:
    """Read every input, build and check the ledger, write the four outputs (atomically).

    Nothing is written when an identity is broken: every check runs before the first write.
    """
    studies = read_baseline_studies(baseline_studies, settings.unpublished_designs)
    ledger = build_ledger(
        read_record_refs(record_tables),
        read_publications(unique),
        read_statuses(status),
        read_duplicate_rules(duplicates),
        studies,
        settings,
    )
    check_identities(ledger)
    check_baseline(ledger, studies)
    check_dedup_runs(
        ledger,
        read_tsv(
            dedup_runs, required=("run", "source", "records_identified", "duplicates_removed")
        ),
        dedup_runs,
    )
    write_tsv(ledger_path, ledger, LEDGER_COLUMNS)
    write_text(prisma_csv, render_prisma_csv(prisma_csv_rows(ledger, CUMULATIVE_FLOW)))
    write_text(prisma_baseline_csv, render_prisma_csv(prisma_csv_rows(ledger, BASELINE_FLOW)))
    table, columns = count_table(ledger)
    write_tsv(counts_path, table, columns)
    counts = flow_counts(ledger, CUMULATIVE_FLOW)
    log.info(
        "cumulative flow: %d records identified, %d screened, %d awaiting screening, %d new studies, %d in total",
        counts["database_results"] + counts["register_results"],
        counts["records_screened"],
        counts["awaiting_title_abstract"],
        counts["new_studies"],
        counts["total_studies"],
    )
    return ledger
