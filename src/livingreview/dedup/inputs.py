"""The record tables the dedup stage reads, as the config and the snapshots on disk say.

One function lists them for the workflow (``pubmed_snapshots()`` and ``imported_tables()``
in ``workflow/rules/common.smk``) and for the reviewers' desk (the records it shows and the
verdict check), so the two never disagree about which tables a run reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..imports.specs import exports_of_run, import_table_path, with_entry_runs
from ..search.windows import discover_snapshots, snapshot_dates
from ..text import ISO_DATE

log = logging.getLogger(__name__)

#: Where the PubMed snapshots live (one folder per date) and their declared record tables.
PUBMED_ROOT = "results/search/pubmed"
PUBMED_TABLES = "results/search/tables"
#: Where each recorded run date keeps its record (manifest.json holds its config).
RUN_RECORDS = "results/runs/by-date"


def run_snapshot_dates(config: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """Dates of the PubMed snapshots the config's run uses: baseline, then every update run
    up to ``run_date`` (the config's ``update_runs`` and the snapshots on disk under
    ``root``)."""
    search = config["search"]
    return snapshot_dates(
        str(config["run_date"]),
        str(search["baseline_until"]),
        [str(day) for day in search["update_runs"]],
        discover_snapshots(Path(root) / PUBMED_ROOT),
    )


def run_dates(config: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """The runs of the project up to the config's ``run_date``: the dates an export can
    enter (``imports[].entry_run``). Each run has its PubMed snapshot, so these are
    :func:`run_snapshot_dates`: the baseline, ``search.update_runs``, the snapshots on disk
    and ``run_date``."""
    return run_snapshot_dates(config, root)


def resolved_imports(config: Mapping[str, Any], root: str | Path = ".") -> list[dict[str, Any]]:
    """The config's declared exports, each with the run it enters (``entry_run``) resolved:
    as declared, else the first run dated on or after its search
    (:func:`livingreview.imports.specs.entry_run_of`)."""
    return with_entry_runs(config["imports"], run_dates(config, root))


def recorded_exports(root: str | Path = ".") -> dict[str, set[tuple[str, str]]]:
    """The exports each recorded run declared: run date -> {(database, search_date)}, from
    the config kept in ``results/runs/by-date/<date>/manifest.json`` (a record without a
    readable config is left out: it cannot tell what arrived later)."""
    recorded: dict[str, set[tuple[str, str]]] = {}
    for manifest in sorted((Path(root) / RUN_RECORDS).glob("*/manifest.json")):
        if not ISO_DATE.match(manifest.parent.name):
            continue
        try:
            imports = json.loads(manifest.read_text(encoding="utf-8"))["config"]["imports"]
            recorded[manifest.parent.name] = {
                (str(spec["database"]), str(spec["search_date"])) for spec in imports
            }
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: no readable config; not used to check late exports", manifest)
    return recorded


def pubmed_tables(config: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """The record table of every PubMed snapshot the run uses, baseline first (relative)."""
    return [f"{PUBMED_TABLES}/pubmed-{day}.tsv" for day in run_snapshot_dates(config, root)]


def import_tables(config: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """``records.tsv`` of every declared export the run uses (its entry run is on or before
    ``run_date``; a later export waits for a later run), relative to the project."""
    included, _deferred = exports_of_run(
        config["imports"], config["run_date"], run_dates(config, root)
    )
    return [import_table_path(spec) for spec in included]


def record_tables(config: Mapping[str, Any], root: str | Path = ".") -> list[str]:
    """Every record table the dedup stage of the config's run reads, in the order it reads
    them: the workflow's inputs and the reviewers' desk's records come from here alike."""
    return [*pubmed_tables(config, root), *import_tables(config, root)]
