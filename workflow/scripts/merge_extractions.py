"""Write the study table (baseline + accepted new extractions), subgroups, discrepancies,
status, and what is left for extractors and the adjudicator (todo.tsv)."""

from pathlib import Path

from livingreview.baseline import load_baseline
from livingreview.extraction.merge import included_study_ids, merge_extractions
from livingreview.extraction.tables import (
    DISCREPANCY_COLUMNS,
    STATUS_COLUMNS,
    STUDY_TABLE_COLUMNS,
    SUBGROUP_TABLE_COLUMNS,
)
from livingreview.extraction.todo import extraction_todo
from livingreview.io import write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.todo import TODO_COLUMNS


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    baseline = load_baseline(Path(snakemake.input.baseline[0]).parent)
    included = (
        included_study_ids(snakemake.input.included[0]) if snakemake.input.included else set()
    )
    result = merge_extractions(
        baseline, list(snakemake.input.sheets), included, snakemake.params.min_extractors
    )
    todo = extraction_todo(
        result.status,
        snakemake.params.extraction_dir,
        snakemake.output.status,
        snakemake.output.discrepancies,
    )
    write_tsv(snakemake.output.studies, result.studies, STUDY_TABLE_COLUMNS)
    write_tsv(snakemake.output.subgroups, result.subgroups, SUBGROUP_TABLE_COLUMNS)
    write_tsv(snakemake.output.discrepancies, result.discrepancies, DISCREPANCY_COLUMNS)
    write_tsv(snakemake.output.status, result.status, STATUS_COLUMNS)
    write_tsv(snakemake.output.todo, todo, TODO_COLUMNS)
    logger.info(
        "%d study arms (%d new), %d subgroup rows, %d discrepancies",
        len(result.studies),
        sum(1 for s in result.studies if s["version"] != "baseline"),
        len(result.subgroups),
        len(result.discrepancies),
    )
    for task in todo:
        logger.info(
            "to do (%s): %s: %d, see %s",
            task["role"],
            task["task"],
            task["count"],
            task["items_in"],
        )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
