"""The project the desk serves: its config (validated like the workflow's), people and paths.

The desk reads ``config.yaml`` plus any ``--configfile`` (merged like Snakemake merges them),
validates the result with the workflow's own code (:func:`livingreview.config.validate_config`,
the screening stage's settings and the dedup stage's matching settings), and never writes
anything under ``results/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import check_run_date, validate_config
from ..dedup.settings import MatchSettings
from ..errors import ConfigError
from ..imports import exports_of_run, import_table_path
from ..screening import ScreeningSettings
from ..search import discover_snapshots, snapshot_dates
from .people import Person, people_from_config

SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock (aware, UTC); the app factory takes another one for tests."""
    return dt.datetime.now(dt.UTC)


def merge_config(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``base`` recursively (mappings merge, other values replace).

    The same rule Snakemake applies to a second ``--configfile``.
    """
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise ConfigError("configfile", f"{path} not found", "an existing YAML file") from None
    except yaml.YAMLError as error:
        raise ConfigError("configfile", f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError("configfile", f"{path} does not hold a mapping", "key: value pairs")
    return data


@dataclass(frozen=True)
class Project:
    """Everything the desk needs to know about the review it serves."""

    root: Path
    config: Mapping[str, Any]
    settings: ScreeningSettings
    people: Mapping[str, Person]

    @classmethod
    def load(cls, root: str | Path, configfiles: Sequence[str | Path] = ()) -> Project:
        """Read and validate ``config.yaml`` (+ ``configfiles``) of the project at ``root``.

        Raises:
            ConfigError: exactly as the workflow would refuse the config, or for a desk role.
        """
        root = Path(root).resolve()
        config = _read_yaml(root / "config.yaml")
        for extra in configfiles:
            path = Path(extra)
            merge_config(config, _read_yaml(path if path.is_absolute() else root / path))
        validate_config(config, root / SCHEMA)
        check_run_date(config)
        settings = ScreeningSettings.from_params(config["screening"], str(config["run_date"]))
        project = cls(root, config, settings, people_from_config(config))
        MatchSettings.from_params(project.match_settings)  # as the dedup rule will check it
        return project

    # -- paths (never built from request input) ------------------------------------------

    @property
    def decisions_dir(self) -> Path:
        return self.root / str(self.config["screening"]["decisions_dir"])

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def baseline_studies(self) -> Path:
        return self.root / str(self.config["baseline"]["dir"]) / "studies.tsv"

    @property
    def baseline_dir(self) -> Path:
        return self.root / str(self.config["baseline"]["dir"])

    @property
    def extraction_dir(self) -> Path:
        """``extraction.dir``: one folder per new study holding its extraction sheets."""
        return self.root / str(self.config["extraction"]["dir"])

    @property
    def verdicts_sheet(self) -> Path:
        """``dedup.verdicts``: the duplicate verdicts sheet."""
        return self.root / str(self.config["dedup"]["verdicts"])

    # -- extraction and dedup settings -------------------------------------------------------

    @property
    def min_extractors(self) -> int:
        return int(self.config["extraction"]["min_extractors"])

    @property
    def match_settings(self) -> dict[str, Any]:
        """The dedup section as the dedup rule passes it on (matching settings only)."""
        people = ("verdicts", "data_managers")
        return {k: v for k, v in self.config["dedup"].items() if k not in people}

    def record_tables(self) -> list[Path]:
        """The record tables the dedup stage of a run dated ``run_date`` reads, as the
        workflow lists them (``pubmed_snapshots()`` and ``imported_tables()`` in
        ``workflow/rules/common.smk``, from the same package functions)."""
        run_date = str(self.config["run_date"])
        search = self.config["search"]
        dates = snapshot_dates(
            run_date,
            str(search["baseline_until"]),
            [str(d) for d in search.get("update_runs", ())],
            discover_snapshots(self.results_dir / "search" / "pubmed"),
        )
        tables = [self.results_dir / "search" / "tables" / f"pubmed-{day}.tsv" for day in dates]
        included, _deferred = exports_of_run(self.config.get("imports", []), run_date)
        return tables + [self.root / import_table_path(spec) for spec in included]

    # -- screening settings ----------------------------------------------------------------

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        return tuple(self.config["screening"].get("highlight_terms", ()))

    @property
    def criteria(self) -> str:
        return str(self.config["screening"].get("eligibility_criteria", ""))

    @property
    def run_date(self) -> dt.date:
        return self.settings.run_date

    def validation_settings(self, today: dt.date) -> ScreeningSettings:
        """Settings to validate a would-be sheet as the *next* run will read it.

        Every decision saved counts in the next run, whatever its date; the desk's clock as
        the ``clock_date`` refuses a date in the future (in a sheet edited by hand), as the
        next run's check job would.
        """
        return dataclasses.replace(
            self.settings, run_date=max(today, self.settings.run_date), clock_date=today
        )
