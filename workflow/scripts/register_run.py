"""Register one run (livingreview.runs.register): copy the record of its run_date into
results/runs/<run_id>/, archive the human inputs it used and its synthesis, record its entry."""

from pathlib import Path

from livingreview.logs import log_path_of, setup_logging
from livingreview.runs.manifest import private_words
from livingreview.runs.register import register_success


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.runs")
    params = snakemake.params
    entry = register_success(
        snakemake.wildcards.run_id,
        params.run_date,
        # results/runs/by-date/<run_date>/ and results/runs/, from the declared files
        record_dir=Path(snakemake.input.record[0]).parent,
        history_dir=params.history_dir,
        synthesis_files=list(snakemake.input.synthesis),
        results_runs=Path(snakemake.output.entry).parents[1],
        # read from the config here, never passed as a param (params are stored by Snakemake)
        private=private_words(snakemake.config),
    )
    log.info("run %s (%s) registered: %s", entry.run_id, entry.run_date, ", ".join(entry.record))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
