"""Snakemake script: resolve screening from the decision sheets (see livingreview.screening)."""

from pathlib import Path

from livingreview.io import write_text, write_tsv
from livingreview.logs import log_path_of, setup_logging
from livingreview.screening.agreement import AGREEMENT_COLUMNS
from livingreview.screening.settings import ScreeningSettings
from livingreview.screening.stage import screen, screening_guide
from livingreview.screening.tables import (
    CONFLICT_COLUMNS,
    EVALUATION_COLUMNS,
    INCLUDED_COLUMNS,
    STATUS_COLUMNS,
    WEIGHT_COLUMNS,
)
from livingreview.screening.todo import Locations
from livingreview.todo import TODO_COLUMNS


def main(snakemake) -> None:
    log = setup_logging(log_path_of(snakemake), "livingreview.screening")
    params = snakemake.params
    settings = ScreeningSettings.from_params(params.settings, params.run_date)
    result = screen(
        snakemake.input.unique,
        list(snakemake.input.sheets),
        settings,
        snakemake.input.studies,
        maybe_path=snakemake.input.maybe,
        locations=Locations(str(Path(snakemake.output.todo).parent), params.decisions_dir),
    )
    out = snakemake.output
    write_tsv(out.status, result.status, STATUS_COLUMNS)
    write_tsv(out.conflicts, result.conflicts, CONFLICT_COLUMNS)
    write_tsv(out.included, result.included, INCLUDED_COLUMNS)
    write_tsv(out.weights, result.weights, WEIGHT_COLUMNS)
    write_tsv(out.evaluation, result.evaluation, EVALUATION_COLUMNS)
    write_text(out.guide, screening_guide(snakemake.params.criteria, settings))
    for path in out.queues:
        key = (Path(path).parent.name, Path(path).stem)
        write_tsv(path, result.queues[key], result.queue_columns)
    write_tsv(out.todo, result.todo, TODO_COLUMNS)
    write_tsv(out.agreement, result.agreement, AGREEMENT_COLUMNS)
    write_text(out.summary, result.summary + "\n")
    log.info("%s", result.summary)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
