"""Snakemake script: the PRISMA 2020 flow diagrams (cumulative update and baseline) drawn
from results/prisma/counts.tsv (see livingreview.prisma.flowchart)."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.prisma import flowchart


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
    )
    log.info("diagrams written: %s", ", ".join(map(str, out)))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
