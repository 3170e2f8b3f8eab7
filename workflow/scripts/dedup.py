"""Snakemake script: collapse every record of every run and source into publications
(see livingreview.dedup)."""

from livingreview.dedup.tables import deduplicate_files
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.dedup")
    outcome = deduplicate_files(
        [*snakemake.input.snapshots, *snakemake.input.imports],
        snakemake.input.verdicts,
        dict(snakemake.params.settings),
        unique=snakemake.output.unique,
        duplicates=snakemake.output.duplicates,
        maybe=snakemake.output.maybe,
        runs=snakemake.output.runs,
        todo=snakemake.output.todo,
        run_date=snakemake.params.run_date,
    )
    log.info(
        "%d publications, %d duplicate records merged, %d uncertain pairs in %s",
        len(outcome.unique),
        len(outcome.duplicates),
        len(outcome.maybe),
        snakemake.output.maybe,
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
