"""Write results/extraction/studies.tsv from the baseline (and accepted new extractions)."""

from pathlib import Path

from livingreview.baseline import load_baseline
from livingreview.extraction import STUDY_TABLE_COLUMNS, baseline_study_rows
from livingreview.io import write_tsv
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    baseline = load_baseline(Path(snakemake.input.baseline[0]).parent)
    rows = baseline_study_rows(baseline)
    write_tsv(snakemake.output.studies, rows, STUDY_TABLE_COLUMNS)
    logger.info("wrote %d study arms to %s", len(rows), snakemake.output.studies)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
