"""The project the desk serves: its config (validated like the workflow's), people and paths.

The desk reads ``config.yaml`` plus any ``--configfile`` (merged like Snakemake merges them),
validates the result with the workflow's own code (:func:`livingreview.config.validate_config`
and the screening stage's settings), and never writes anything under ``results/``.
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
from ..errors import ConfigError
from ..screening import ScreeningSettings
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
        return cls(root, config, settings, people_from_config(config))

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

        A decision saved today is read by the next run, dated today by
        ``bin/scheduled-update`` or later by the config's ``run_date``: validating with the
        later of the two accepts today's date, and the desk's clock as the ``clock_date``
        refuses a date in the future (in a sheet edited by hand), as the scheduler's run would.
        """
        return dataclasses.replace(
            self.settings, run_date=max(today, self.settings.run_date), clock_date=today
        )
