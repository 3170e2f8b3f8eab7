"""Copy a PubMed snapshot's provenance.json to results/search/receipts/ for the report."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.search import write_receipt


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    provenance = write_receipt(snakemake.input.records, snakemake.output.receipt)
    logger.info(
        "receipt of the %s snapshot: %s PMIDs returned",
        snakemake.wildcards.run_date,
        len(provenance.get("pmids_returned", [])),
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
