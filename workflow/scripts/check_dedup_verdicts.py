"""Snakemake script: validate resources/dedup/verdicts.tsv as the dedup stage applies it,
writing only a receipt (livingreview.checks explains why checks run in rules of their own).
A verdict dated after today is an error: the clock is read here, when the check runs."""

from livingreview.checks import today, write_check_receipt
from livingreview.dedup import check_verdicts
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.dedup")
    inp = snakemake.input
    check_verdicts(
        [*inp.snapshots, *inp.imports],
        inp.verdicts,
        dict(snakemake.params.settings),
        snakemake.params.run_date,
        today=today(),
    )
    write_check_receipt(snakemake.output.receipt, [inp.verdicts], "dedup_verdicts")
    log.info("dedup verdicts: %s valid", inp.verdicts)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
