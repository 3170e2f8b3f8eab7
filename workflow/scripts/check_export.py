"""Snakemake script: parse one declared export exactly as the import does, writing only a
receipt (livingreview.checks explains why checks run in rules of their own)."""

from livingreview.checks import write_check_receipt
from livingreview.imports.stage import import_export
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.imports")
    records, _ = import_export(dict(snakemake.params.spec))
    write_check_receipt(snakemake.output.receipt, list(snakemake.input.files), "export")
    log.info("export: %d file(s) valid, %d records", len(snakemake.input.files), len(records))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
