"""Snakemake script: import one declared export (see livingreview.imports)."""

from livingreview.imports.stage import write_import
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.imports")
    summary = write_import(
        snakemake.params.spec, snakemake.output.records, snakemake.output.summary
    )
    log.info(
        "%s %s: %d records (%d with PMID, %d with DOI, %d hashed ids)",
        summary["database"],
        summary["search_date"],
        summary["records"],
        summary["with_pmid"],
        summary["with_doi"],
        summary["hashed_ids"],
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
