"""Run runs.notify_command with the run's summary path (livingreview.runs.notify)."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.runs.notify import notify


def main(snakemake) -> None:
    setup_logging(log_path_of(snakemake), "livingreview.runs")
    notify(
        snakemake.params.command,
        summary_md=snakemake.input.summary_md,
        summary_json=snakemake.input.summary_json,
        run_date=snakemake.wildcards.run_date,
        timeout=float(snakemake.params.timeout),
        receipt=snakemake.output.receipt,
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
