"""The exports declared under ``imports:`` in the config: checks, look-ups and output paths.

The workflow calls these at parse time (``workflow/rules/common.smk``, ``imports.smk``), so
a config mistake the schema cannot express stops the run before any job starts, and the
exports a run uses (:func:`exports_of_run`) are chosen before any job is scheduled.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..records import source_rank
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


def check_entry_runs(
    specs: Sequence[Mapping[str, Any]], run_dates: Sequence[str], run_date: object
) -> None:
    """Every explicit ``entry_run`` names a run the export can enter. Raises ConfigError.

    ``run_dates`` are the dates of the runs up to ``run_date`` (the baseline, the update runs
    of the config and the PubMed snapshots on disk: :func:`livingreview.dedup.inputs.run_dates`).
    An ``entry_run`` must not be before the search (the export did not exist yet); one on or
    before ``run_date`` must be one of ``run_dates``; a later one waits for that run.

    >>> check_entry_runs([{"database": "embase", "search_date": "2026-11-20",
    ...                    "entry_run": "2026-11-21"}], ["2021-10-31", "2026-11-23"], "2026-11-23")
    Traceback (most recent call last):
    ...
    livingreview.errors.ConfigError: config: key 'imports[0].entry_run': '2026-11-21' is no run ...
    """
    run = str(run_date)
    dates = sorted(str(day) for day in run_dates)
    for number, spec in enumerate(specs):
        entry = spec.get("entry_run")
        if entry is None:
            continue
        entry, searched = str(entry), str(spec.get("search_date", ""))
        key = f"imports[{number}].entry_run"
        label = f"{spec.get('database')}/{searched}"
        possible = [day for day in dates if day >= searched] or [
            f"a run dated on or after {searched}"
        ]
        if not ISO_DATE.match(entry):
            raise ConfigError(key, f"{entry!r} is not an ISO date", "YYYY-MM-DD")
        if entry < searched:
            raise ConfigError(
                key,
                f"{entry} is before the export's search_date {searched} ({label})",
                f"{', '.join(possible)}; or remove entry_run to use the first run on or "
                "after the search",
            )
        if entry <= run and entry not in dates:
            raise ConfigError(
                key,
                f"{entry!r} is no run of this project ({label}): runs are the baseline, "
                "search.update_runs, the PubMed snapshots under results/search/pubmed/ and "
                "run_date",
                f"{', '.join(possible)}; name the run the export enters (usually the run_date "
                "of the run that first imports it), or remove entry_run for the default",
            )


def check_recorded_runs(
    specs: Sequence[Mapping[str, Any]],
    recorded: Mapping[str, Collection[tuple[str, str]]],
    run_date: object,
    source_priority: Sequence[str],
) -> None:
    """No export enters a run that an earlier run's record was made without it.

    ``specs`` have their ``entry_run`` resolved (:func:`with_entry_runs`); ``recorded`` maps
    the date of every recorded run (``results/runs/by-date/<date>/``) to the (database,
    search_date) of the exports its config declared. An export entering at or before a run
    dated before ``run_date`` that was recorded without it arrived after that run: taking it
    in there would rewrite what the run counted and the publication ids it issued (its
    records would compete as records of that earlier run). It must enter a later run, which
    ``entry_run`` says.

    The run of ``run_date`` itself, already recorded without the export, may take it in (a
    re-run of the same update), unless the export would rank before an export that run
    holds in the same entry run: within one run a publication's id comes from the member of
    the source ranked first (``source_priority``), so such an export could take over ids the
    run already issued. Raises ConfigError.

    >>> spec = {"database": "embase", "search_date": "2026-11-10", "entry_run": "2026-11-16"}
    >>> check_recorded_runs([spec], {"2026-11-23": set()}, "2026-11-30", ["pubmed"])
    Traceback (most recent call last):
    ...
    livingreview.errors.ConfigError: config: key 'imports[0].entry_run': embase/2026-11-10 would ...
    >>> later = {**spec, "entry_run": "2026-11-30"}
    >>> check_recorded_runs([later], {"2026-11-23": set()}, "2026-11-30", ["pubmed"])
    """
    run = str(run_date)
    for number, spec in enumerate(specs):
        export = (str(spec.get("database", "")), str(spec.get("search_date", "")))
        entry = str(spec.get("entry_run") or "")
        if not entry:
            continue
        without = sorted(
            day
            for day, exports in recorded.items()
            if entry <= day < run and export not in {(str(d), str(s)) for d, s in exports}
        )
        if without:
            later = f"a run after {without[-1]} (e.g. {run}, the run that first imports it)"
            raise ConfigError(
                f"imports[{number}].entry_run",
                f"{export[0]}/{export[1]} would enter run {entry}, but the run of {without[-1]} "
                f"was recorded without it (results/runs/by-date/{without[-1]}/manifest.json): "
                "the counts and publication ids of that run would change",
                f"{later}; set entry_run to it",
            )
        outranked = [
            other
            for other in _held_in_recorded_run(export, entry, specs, recorded.get(run), run)
            if source_rank(export[0], source_priority) < source_rank(other[0], source_priority)
        ]
        if outranked:
            other = outranked[0]
            raise ConfigError(
                f"imports[{number}].entry_run",
                f"{export[0]}/{export[1]} would enter run {run}, which was recorded without it "
                f"(results/runs/by-date/{run}/manifest.json) but with {other[0]}/{other[1]} "
                f"in the same run; ranked before {other[0]} (dedup.source_priority), its "
                "records could take over publication ids that run already issued",
                f"a run after {run} (the next update's run date); set entry_run to it",
            )


def _held_in_recorded_run(
    export: tuple[str, str],
    entry: str,
    specs: Sequence[Mapping[str, Any]],
    recorded: Collection[tuple[str, str]] | None,
    run: str,
) -> list[tuple[str, str]]:
    """What the recorded run of ``run`` held that entered it as ``export`` would: its PubMed
    search and the exports it declared entering it (none when ``export`` enters another run
    or that run held it already)."""
    if recorded is None or entry != run:
        return []
    held = {(str(d), str(s)) for d, s in recorded}
    if export in held:
        return []
    same_run = [
        (str(spec.get("database", "")), str(spec.get("search_date", "")))
        for spec in specs
        if str(spec.get("entry_run") or "") == run
    ]
    return [("pubmed", run)] + [other for other in same_run if other in held]


def entry_run_of(spec: Mapping[str, Any], run_dates: Sequence[str]) -> str:
    """The run an export enters: its ``entry_run``, else the first of ``run_dates`` dated on
    or after its search (``""``: no such run yet, the export waits).

    The entry run, not the search date, is the export's ``run``: its records are counted in
    that run's flow and compete for a publication's id as records of that run, so ids and
    flows follow from the config and the records alone, whatever order exports arrive in.

    >>> spec = {"database": "embase", "search_date": "2026-11-20"}
    >>> entry_run_of(spec, ["2021-10-31", "2026-11-23"])
    '2026-11-23'
    >>> entry_run_of(spec, ["2021-10-31"])
    ''
    >>> entry_run_of({**spec, "entry_run": "2026-11-30"}, ["2021-10-31", "2026-11-23"])
    '2026-11-30'
    """
    if spec.get("entry_run") is not None:
        return str(spec["entry_run"])
    searched = str(spec["search_date"])
    return next((day for day in sorted(map(str, run_dates)) if day >= searched), "")


def with_entry_runs(
    specs: Sequence[Mapping[str, Any]], run_dates: Sequence[str]
) -> list[dict[str, Any]]:
    """Copies of the declared exports with ``entry_run`` resolved (:func:`entry_run_of`)."""
    return [{**spec, "entry_run": entry_run_of(spec, run_dates)} for spec in specs]


def exports_of_run(
    specs: Sequence[Mapping[str, Any]], run_date: object, run_dates: Sequence[str] = ()
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The declared exports a run dated ``run_date`` uses, and those it defers, in config order.

    An export enters the review at its entry run (:func:`entry_run_of` over ``run_dates``,
    the runs up to ``run_date``; ``run_date`` itself is always one): a run dated before it
    neither imports, deduplicates nor counts it (rerunning a past run gives what that run
    gave), and every run from its entry run on includes it. Without an explicit ``entry_run``
    that is the first run dated on or after its search.

    >>> specs = [{"database": "embase", "search_date": "2021-10-31"},
    ...          {"database": "wos", "search_date": "2026-12-01"},
    ...          {"database": "cochrane", "search_date": "2026-11-01", "entry_run": "2026-12-01"}]
    >>> included, deferred = exports_of_run(specs, "2026-11-23")
    >>> [s["database"] for s in included], [s["database"] for s in deferred]
    (['embase'], ['wos', 'cochrane'])
    >>> [s["database"] for s in exports_of_run(specs, "2026-12-01")[0]]
    ['embase', 'wos', 'cochrane']
    """
    run = str(run_date)
    if not ISO_DATE.match(run):
        raise ConfigError("run_date", f"{run!r} is not an ISO date", "YYYY-MM-DD")
    dates = sorted({*map(str, run_dates), run})
    included: list[Mapping[str, Any]] = []
    deferred: list[Mapping[str, Any]] = []
    for spec in specs:
        entry = entry_run_of(spec, [day for day in dates if day <= run])
        (included if entry and entry <= run else deferred).append(spec)
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
