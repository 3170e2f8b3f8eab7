"""Snakemake script: the PRISMA 2020 flow diagrams (cumulative update and baseline) drawn
from results/prisma/counts.tsv, with how and when each database was searched from
results/search/prisma_s.tsv (see livingreview.prisma.flowchart)."""

from livingreview.io import read_rows
from livingreview.logs import log_path_of, setup_logging
from livingreview.prisma import flowchart
from livingreview.search.prisma_s import diagram_searches


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.prisma.flowchart")
    out = snakemake.output
    flowchart.draw_flows(
        snakemake.input.counts,
        {
            "cumulative": [out.svg, out.pdf, out.png],
            "baseline": [out.baseline_svg, out.baseline_pdf, out.baseline_png],
        },
        dict(snakemake.params.titles),
        footnote=str(snakemake.params.footnote),
        searches=diagram_searches(
            read_rows(snakemake.input.searches),
            dict(snakemake.params.source_labels),
            str(snakemake.params.baseline_until),
        ),
    )
    log.info("diagrams written: %s", ", ".join(map(str, out)))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
