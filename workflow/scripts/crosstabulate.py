"""Write the outcome table, the published tests and the Markdown summary."""

from pathlib import Path

from livingreview.baseline import load_baseline
from livingreview.extraction.tables import read_study_table, read_subgroup_table
from livingreview.io import write_text, write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.synthesis.outcomes import OUTCOME_COLUMNS, TEST_COLUMNS
from livingreview.synthesis.summary import summarise_outcomes


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    summary = summarise_outcomes(
        load_baseline(Path(snakemake.input.baseline[0]).parent),
        read_study_table(snakemake.input.studies),
        read_subgroup_table(snakemake.input.subgroups),
    )
    write_tsv(snakemake.output.outcomes, summary.outcomes, OUTCOME_COLUMNS)
    write_tsv(snakemake.output.tests, summary.tests, TEST_COLUMNS)
    write_text(snakemake.output.summary, summary.markdown)
    for test in summary.tests:
        logger.info("%s: statistic %.4f, p %.4g", test["test"], test["statistic"], test["p_value"])


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
