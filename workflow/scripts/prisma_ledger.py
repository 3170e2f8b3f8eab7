"""Snakemake script: record-level PRISMA ledger, prisma.csv (PRISMA2020 template layout) and
the per-flow count table, with every identity checked (see livingreview.prisma)."""

from livingreview.logs import log_path_of, setup_logging
from livingreview.prisma.inputs import FlowSettings
from livingreview.prisma.stage import build_prisma


def main(snakemake) -> None:
    setup_logging(log_path_of(snakemake), "livingreview.prisma")
    p = snakemake.params
    settings = FlowSettings(
        baseline_until=str(p.baseline_until),
        registers=frozenset(p.registers),
        source_labels=dict(p.source_labels),
        unpublished_designs=frozenset(p.unpublished_designs),
        unpublished_identified_via=str(p.unpublished_identified_via),
    )
    build_prisma(
        [*snakemake.input.snapshots, *snakemake.input.imports],
        snakemake.input.unique,
        snakemake.input.duplicates,
        snakemake.input.dedup_runs,
        snakemake.input.status,
        snakemake.input.studies,
        settings,
        ledger_path=snakemake.output.ledger,
        prisma_csv=snakemake.output.prisma,
        prisma_baseline_csv=snakemake.output.prisma_baseline,
        counts_path=snakemake.output.counts,
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
