"""Write results/runs/<run_date>/{summary.json, summary.md, manifest.json} (livingreview.runs)."""

from pathlib import Path

from livingreview.logs import log_path_of, setup_logging
from livingreview.runs import write_run_record


def main(snakemake) -> None:
    setup_logging(log_path_of(snakemake), "livingreview.runs")
    write_run_record(
        snakemake.wildcards.run_date,
        dict(snakemake.params.config),
        summary_json=snakemake.output.summary_json,
        summary_md=snakemake.output.summary_md,
        manifest_json=snakemake.output.manifest,
        base=".",
        code_base=Path(snakemake.input.code[0]).parents[2],  # <checkout>/src/livingreview/x.py
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
