"""Snakemake script: validate every screening decision and adjudication sheet as the
screening stage does, writing only a receipt (see livingreview.checks). A decision dated
after today is an error: the clock is read here, when the check runs (never a rule param)."""

from livingreview.checks import today, write_check_receipt
from livingreview.logs import log_path_of, setup_logging
from livingreview.screening import check_sheets


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.screening")
    inp, params = snakemake.input, snakemake.params
    check_sheets(
        inp.unique,
        list(inp.sheets),
        dict(params.settings),
        params.run_date,
        inp.studies,
        clock_date=today(),
    )
    write_check_receipt(snakemake.output.receipt, list(inp.sheets), "screening_sheets")
    log.info("screening sheets: %d file(s) valid", len(inp.sheets))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
