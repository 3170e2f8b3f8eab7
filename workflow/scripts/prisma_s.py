"""Snakemake script: every search of the run as PRISMA-S reports it (see
livingreview.search.prisma_s)."""

from livingreview.io import write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.search.prisma_s import PRISMA_S_COLUMNS, prisma_s_table


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.search")
    rows = prisma_s_table(
        list(snakemake.input.receipts),
        list(snakemake.params.exports),
        list(snakemake.input.imports),
        list(snakemake.params.unreconstructed),
        str(snakemake.params.baseline_until),
    )
    write_tsv(snakemake.output.table, rows, PRISMA_S_COLUMNS)
    for row in rows:
        if row["gaps"]:
            log.info("%s %s: PRISMA-S gaps: %s", row["database"], row["search_date"], row["gaps"])


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
