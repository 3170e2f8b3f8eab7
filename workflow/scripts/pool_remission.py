"""Pool the remission proportion per CNI and overall; write per-arm exact CIs and forest plots."""

from livingreview.extraction import read_study_table
from livingreview.forest import forest_plot
from livingreview.io import write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.meta import COLUMNS, pool
from livingreview.synthesis import STUDY_PROPORTION_COLUMNS, remission_rows, study_proportions


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    rows = remission_rows(read_study_table(snakemake.input.studies))
    pooled = pool(rows, analysis="remission", source=snakemake.input.studies)
    write_tsv(snakemake.output.meta, pooled, COLUMNS)
    write_tsv(snakemake.output.proportions, study_proportions(rows), STUDY_PROPORTION_COLUMNS)
    for group, title in snakemake.params.forest_titles.items():
        forest_plot(
            [r for r in rows if r["subgroup"] == group],
            [p for p in pooled if p["subgroup"] == group],
            title,
            snakemake.output[f"forest_{group}_svg"],
            snakemake.output[f"forest_{group}_png"],
        )
    for row in pooled:
        logger.info("%s %s: %s (k=%s)", row["subgroup"], row["method"], row["estimate"], row["k"])


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
