"""Snakemake script: validate every screening decision and adjudication sheet as the
screening stage does, writing only a receipt (see livingreview.checks)."""

from livingreview.checks import write_check_receipt
from livingreview.logs import log_path_of, setup_logging
from livingreview.screening.stage import check_sheets


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.screening")
    inp, params = snakemake.input, snakemake.params
    check_sheets(
        inp.unique,
        list(inp.sheets),
        dict(params.settings),
        params.run_date,
        inp.studies,
        clock_date=params.clock_date,
    )
    write_check_receipt(snakemake.output.receipt, list(inp.sheets), "screening_sheets")
    log.info("screening sheets: %d file(s) valid", len(inp.sheets))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
