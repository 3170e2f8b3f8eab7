"""Write results/runs/by-date/<run_date>/{summary.json, summary.md, manifest.json} (livingreview.runs)
from the rule's declared inputs, and nothing else."""

from pathlib import Path

from livingreview.logs import log_path_of, setup_logging
from livingreview.runs.inputs import RunInputs
from livingreview.runs.record import write_run_record


def main(snakemake) -> None:
    setup_logging(log_path_of(snakemake), "livingreview.runs")
    inputs = RunInputs.from_named(
        dict(snakemake.input.items()),
        runs_dir=str(Path(snakemake.output.summary_json).parents[1]),
        snapshot_root=snakemake.params.snapshot_root,
    )
    write_run_record(
        snakemake.wildcards.run_date,
        dict(snakemake.params.config),
        inputs,
        summary_json=snakemake.output.summary_json,
        summary_md=snakemake.output.summary_md,
        manifest_json=snakemake.output.manifest,
        # scriptdir is <workflow folder>/workflow/rules/../scripts
        code_base=Path(snakemake.scriptdir).resolve().parents[1],
    )


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
