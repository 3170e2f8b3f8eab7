"""Check one stage's human-owned sheets before the stage runs; write a receipt.

Which check runs is the rule's `params.check`: export, dedup_verdicts, screening_sheets or
extraction_sheets (see livingreview.checks).
"""

from pathlib import Path

from livingreview import checks
from livingreview.logs import log_path_of, setup_logging


def main(snakemake) -> None:
    logger = setup_logging(log_path_of(snakemake))
    inp, params = snakemake.input, snakemake.params
    if params.check == "export":
        checks.check_export(dict(params.spec))
        checked = list(inp.files)
    elif params.check == "dedup_verdicts":
        checks.check_dedup_verdicts(
            [*inp.snapshots, *inp.imports], inp.verdicts, dict(params.settings)
        )
        checked = [inp.verdicts]
    elif params.check == "screening_sheets":
        checks.check_screening_sheets(
            inp.unique, list(inp.sheets), dict(params.settings), params.run_date, inp.studies
        )
        checked = list(inp.sheets)
    elif params.check == "extraction_sheets":
        included = inp.included[0] if inp.included else None
        checks.check_extraction_sheets(
            Path(inp.baseline[0]).parent, list(inp.sheets), included, params.min_extractors
        )
        checked = list(inp.sheets)
    else:
        raise ValueError(f"unknown check {params.check!r}")
    checks.write_check_receipt(snakemake.output.receipt, checked, params.check)
    logger.info("%s: %d file(s) valid", params.check, len(checked))


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
