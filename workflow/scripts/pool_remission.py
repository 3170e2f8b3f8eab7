"""Pool the remission proportion per CNI and for both CNIs (meta_analysis.tsv)."""

from livingreview.extraction.tables import read_study_table
from livingreview.io import write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.meta.pool import pool
from livingreview.meta.results import COLUMNS
from livingreview.synthesis.remission import remission_rows


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    rows = remission_rows(read_study_table(snakemake.input.studies))
    pooled = pool(rows, analysis="remission", source=snakemake.input.studies)
    write_tsv(snakemake.output.meta, pooled, COLUMNS)
    for row in pooled:
        logger.info("%s %s: %s (k=%s)", row["subgroup"], row["method"], row["estimate"], row["k"])


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
