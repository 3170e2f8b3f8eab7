"""Draw the forest plots (primary method first, new studies named and marked) and write the
per-study exact intervals they show."""

from livingreview.forest import draw_forest_plots
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    titles = snakemake.params.forest_titles
    new_studies = draw_forest_plots(
        studies_path=snakemake.input.studies,
        meta_path=snakemake.input.meta,
        included_reports_path=snakemake.input.included[0],
        publications_path=snakemake.input.publications,
        titles=titles,
        figure_paths={
            group: (
                snakemake.output[f"forest_{group}_svg"],
                snakemake.output[f"forest_{group}_png"],
            )
            for group in titles
        },
        proportions_path=snakemake.output.proportions,
        primary_method=snakemake.params.primary_method,
    )
    logger.info(
        "%d forest plots (primary method %s), %d new studies",
        len(titles),
        snakemake.params.primary_method,
        new_studies,
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
