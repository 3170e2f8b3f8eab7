"""The project the desk serves: its config (validated like the workflow's), people and paths.

The desk reads ``config.yaml`` plus any ``--configfile`` with the workflow's own loader
(:func:`livingreview.config.load_config`: Snakemake's merge rules; then
:func:`livingreview.config.prepare_config`: the schema, its defaults, the date checks), builds
the screening stage's and the dedup stage's settings with the functions their rules use,
follows the config files as they change, and never writes anything under ``results/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import load_config, prepare_config
from ..dedup.inputs import record_tables
from ..dedup.settings import MatchSettings, match_params
from ..errors import ConfigError
from ..schema import CONFIG_FILE, SCHEMA_FILE
from ..screening.settings import ScreeningSettings, screening_settings
from .people import Person, people_from_config

log = logging.getLogger(__name__)

SCHEMA = SCHEMA_FILE
Clock = Callable[[], dt.datetime]
#: What identifies one version of the files a project's config is read from.
Versions = tuple[tuple[str, tuple[int, int, int] | None], ...]


def utc_now() -> dt.datetime:
    """The real clock (aware, UTC); the app factory takes another one for tests."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Loaded:
    """One reading of the project's config, validated like the workflow validates it."""

    config: Mapping[str, Any]
    settings: ScreeningSettings
    people: Mapping[str, Person]
    #: The config files and schema as they were when read (a change means: read again).
    versions: Versions


def _versions(paths: Sequence[Path]) -> Versions:
    """(path, (mtime_ns, size, inode) or None when absent) of each file: one stat each."""
    found: list[tuple[str, tuple[int, int, int] | None]] = []
    for path in paths:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            found.append((str(path), None))
            continue
        found.append((str(path), (info.st_mtime_ns, info.st_size, info.st_ino)))
    return tuple(found)


def _read(root: Path, configfiles: Sequence[Path], watched: Sequence[Path]) -> Loaded:
    """Read, merge (Snakemake's rules) and validate the config; ConfigError if the workflow
    would refuse it, or a desk role is wrong."""
    versions = _versions(watched)  # before reading: an edit meanwhile is read next time
    config = prepare_config(load_config(root, configfiles), root / SCHEMA_FILE)
    settings = screening_settings(config)
    people = people_from_config(config)
    MatchSettings.from_config(config)  # as the dedup rules will check it
    return Loaded(config, settings, people, versions)


class Project:
    """Everything the desk needs to know about the review it serves, following the project
    as it changes: the config files (``config.yaml`` and the ``--configfile`` ones) and the
    schema are looked at (one ``stat`` each) whenever the config is used, and read again when
    one changed, so a new reviewer, changed exclusion reasons or a newly declared import count
    at once, without restarting the desk. A change that makes the config invalid is not
    taken: the desk keeps the last valid config, logs why and says so in :attr:`problem`.

    The record tables the dedup stage reads are listed anew from the config and the snapshots
    on disk each time (:meth:`record_tables`).
    """

    def __init__(self, root: Path, configfiles: Sequence[Path], loaded: Loaded):
        self.root = root
        self.configfiles = tuple(configfiles)
        self._watched = (root / CONFIG_FILE, *self.configfiles, root / SCHEMA_FILE)
        self._loaded = loaded
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Project], object]] = []
        #: Why the config on disk is not the one in use ('' when it is).
        self.problem = ""

    @classmethod
    def load(cls, root: str | Path, configfiles: Sequence[str | Path] = ()) -> Project:
        """Read and validate ``config.yaml`` (+ ``configfiles``) of the project at ``root``.

        Raises:
            ConfigError: exactly as the workflow would refuse the config, or for a desk role.
        """
        root = Path(root).resolve()
        files = [Path(f) if Path(f).is_absolute() else root / f for f in configfiles]
        watched = (root / CONFIG_FILE, *files, root / SCHEMA_FILE)
        return cls(root, files, _read(root, files, watched))

    def on_change(self, listener: Callable[[Project], object]) -> None:
        """Call ``listener(project)`` after each change of the config taken."""
        self._listeners.append(listener)

    def current(self) -> Loaded:
        """The config as the files hold it now (read again only when one of them changed)."""
        loaded = self._loaded
        if _versions(self._watched) == loaded.versions:
            return loaded
        with self._lock:
            if self._loaded is not loaded:  # another thread read it meanwhile
                return self._loaded
            try:
                fresh = _read(self.root, self.configfiles, self._watched)
            except ConfigError as error:
                if self.problem != str(error):
                    log.error("config changed but not taken (the last valid one stays): %s", error)
                self.problem = str(error)
                # remember these versions: an invalid file is not read again until it changes
                self._loaded = dataclasses.replace(loaded, versions=_versions(self._watched))
                return self._loaded
            self.problem = ""
            self._loaded = fresh
            log.info("config changed: read again (%s)", ", ".join(sorted(fresh.people)))
        for listener in self._listeners:
            listener(self)
        return fresh

    @property
    def config(self) -> Mapping[str, Any]:
        return self.current().config

    @property
    def settings(self) -> ScreeningSettings:
        return self.current().settings

    @property
    def people(self) -> Mapping[str, Person]:
        return self.current().people

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
        """The dedup section as the dedup rules pass it on (matching settings only)."""
        return match_params(self.config)

    def record_tables(self) -> list[Path]:
        """The record tables the dedup stage of a run dated ``run_date`` reads, from the
        function the workflow lists them with (:func:`livingreview.dedup.inputs.record_tables`)."""
        return [self.root / path for path in record_tables(self.config, self.root)]

    # -- screening settings ----------------------------------------------------------------

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        return tuple(self.config["screening"]["highlight_terms"])

    @property
    def criteria(self) -> str:
        return str(self.config["screening"]["eligibility_criteria"])

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
