"""The exports declared under ``imports:`` in the config: checks, look-ups and output paths.

The workflow calls these at parse time (``workflow/rules/common.smk``, ``imports.smk``), so
a config mistake the schema cannot express stops the run before any job starts, and the
exports a run uses (:func:`exports_of_run`) are chosen before any job is scheduled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..text import ISO_DATE
from .delimited import CSV_FIELDS
from .ris import RIS_DIALECTS

FORMATS: tuple[str, ...] = ("ris", "medline", "csv", "tsv")
DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_import_specs(specs: Sequence[Mapping[str, Any]]) -> None:
    """Checks the config schema cannot express: unique (database, search_date) pairs and
    format-specific keys. Raises ConfigError.

    >>> check_import_specs([{"database": "wos", "search_date": "2024-01-31", "format": "ris"}])
    Traceback (most recent call last):
    ...
    livingreview.errors.ConfigError: config: key 'imports[0].dialect': RIS needs a dialect, got None; ...
    """
    seen: set[tuple[str, str]] = set()
    for number, spec in enumerate(specs):
        key = f"imports[{number}]"
        database, date = spec.get("database", ""), spec.get("search_date", "")
        if not DATABASE_NAME.match(str(database)):
            raise ConfigError(
                f"{key}.database",
                f"{database!r} is not a usable name",
                "lower-case letters, digits and _ (e.g. embase, wos)",
            )
        if not ISO_DATE.match(str(date)):
            raise ConfigError(f"{key}.search_date", f"{date!r} is not an ISO date", "YYYY-MM-DD")
        if (database, date) in seen:
            raise ConfigError(
                key,
                f"a second export for {database} on {date}",
                "one entry per database and date; list several files under that entry's files",
            )
        seen.add((database, date))
        _check_format(key, spec)


def _check_format(key: str, spec: Mapping[str, Any]) -> None:
    fmt = spec.get("format")
    if fmt not in FORMATS:
        raise ConfigError(f"{key}.format", f"unknown format {fmt!r}", ", ".join(FORMATS))
    if fmt == "ris" and spec.get("dialect") not in RIS_DIALECTS:
        raise ConfigError(
            f"{key}.dialect",
            f"RIS needs a dialect, got {spec.get('dialect')!r}",
            ", ".join(RIS_DIALECTS),
        )
    if fmt in ("csv", "tsv") and "title" not in (spec.get("columns") or {}):
        raise ConfigError(
            f"{key}.columns",
            "CSV/TSV exports need a column mapping with title",
            ", ".join(CSV_FIELDS),
        )


def check_import_files(specs: Sequence[Mapping[str, Any]], base: str | Path = ".") -> None:
    """Every declared export file must exist before the workflow runs.

    Otherwise Snakemake would keep using an earlier import's output (its job is not rerun for
    a missing input) and the run would silently rest on data no longer declared.
    """
    for number, spec in enumerate(specs):
        for position, file in enumerate(spec.get("files") or []):
            if not (Path(base) / file).is_file():
                raise ConfigError(
                    f"imports[{number}].files[{position}]",
                    f"declared export file {file} does not exist",
                    "an existing file, e.g. under resources/imports/<database>/ (fix the path or remove the entry)",
                )


def exports_of_run(
    specs: Sequence[Mapping[str, Any]], run_date: object
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The declared exports a run dated ``run_date`` uses, and those it defers, in config order.

    An export whose ``search_date`` is after the run's date was not part of the literature
    on that date: the run neither imports, deduplicates nor counts it (rerunning a past run
    gives what that run gave), and the first run dated on or after its search includes it.

    >>> specs = [{"database": "embase", "search_date": "2021-10-31"},
    ...          {"database": "wos", "search_date": "2026-12-01"}]
    >>> included, deferred = exports_of_run(specs, "2026-11-23")
    >>> [s["database"] for s in included], [s["database"] for s in deferred]
    (['embase'], ['wos'])
    >>> [s["database"] for s in exports_of_run(specs, "2026-12-01")[0]]
    ['embase', 'wos']
    """
    run = str(run_date)
    if not ISO_DATE.match(run):
        raise ConfigError("run_date", f"{run!r} is not an ISO date", "YYYY-MM-DD")
    included = [spec for spec in specs if str(spec["search_date"]) <= run]
    deferred = [spec for spec in specs if str(spec["search_date"]) > run]
    return included, deferred


#: Keys of an export's config entry that describe the search for the report (PRISMA-S) and do
#: not change its records: left out of the import jobs' params, so editing them reruns nothing
#: but the PRISMA-S table.
DESCRIPTIVE_KEYS = frozenset({"prisma_s"})


def import_job_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as the import jobs get it: without :data:`DESCRIPTIVE_KEYS`.

    >>> import_job_spec({"database": "embase", "prisma_s": {"platform": "Ovid"}})
    {'database': 'embase'}
    """
    return {key: value for key, value in spec.items() if key not in DESCRIPTIVE_KEYS}


def import_table_path(spec: Mapping[str, Any], name: str = "records.tsv") -> str:
    """Where the record table of one declared export is written.

    >>> import_table_path({"database": "embase", "search_date": "2021-10-31"})
    'results/imports/embase/2021-10-31/records.tsv'
    """
    return f"results/imports/{spec['database']}/{spec['search_date']}/{name}"


def find_spec(
    specs: Sequence[Mapping[str, Any]], database: str, search_date: str
) -> Mapping[str, Any]:
    """The declared export for a (database, search_date) pair, or a ConfigError."""
    for spec in specs:
        if spec.get("database") == database and spec.get("search_date") == search_date:
            return spec
    declared = ", ".join(f"{s.get('database')}/{s.get('search_date')}" for s in specs) or "none"
    raise ConfigError(
        "imports", f"no export declared for {database} on {search_date}", f"declared: {declared}"
    )
