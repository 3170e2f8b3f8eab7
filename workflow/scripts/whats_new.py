"""Compare this run's pooled estimates with the previous version's; archive this run's."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.updates import report_update


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    summary = report_update(
        meta_path=snakemake.input.meta,
        studies_path=snakemake.input.studies,
        run_date=snakemake.params.run_date,
        history_dir=snakemake.params.history_dir,
        estimate_change=snakemake.params.estimate_change,
        flag_previous_outside_ci=snakemake.params.flag_previous_outside_ci,
        tsv_path=snakemake.output.tsv,
        markdown_path=snakemake.output.markdown,
    )
    logger.info(summary)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
