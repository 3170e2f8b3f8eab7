"""Snakemake script: validate every extraction sheet as the extraction stage does, writing
only a receipt (see livingreview.checks)."""

from pathlib import Path

from livingreview.checks import write_check_receipt
from livingreview.extraction.merge import check_sheets
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.extraction")
    inp = snakemake.input
    included = inp.included[0] if inp.included else None
    baseline_dir = Path(inp.baseline[0]).parent
    check_sheets(baseline_dir, list(inp.sheets), included, snakemake.params.min_extractors)
    write_check_receipt(snakemake.output.receipt, list(inp.sheets), "extraction_sheets")
    log.info("extraction sheets: %d file(s) valid", len(inp.sheets))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
