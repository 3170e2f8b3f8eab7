"""Snakemake script: the reports excluded at full text with citation and reason, and the
included reports per study, read from the PRISMA ledger (see livingreview.prisma.report_lists)."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.prisma.report_lists import write_report_lists


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.prisma.report_lists")
    excluded, included = write_report_lists(
        snakemake.input.ledger,
        snakemake.input.unique,
        excluded_path=snakemake.output.excluded,
        included_path=snakemake.output.included,
    )
    log.info("%d report(s) excluded at full text, %d included report(s)", excluded, included)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
