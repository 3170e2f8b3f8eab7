"""The imports stage: one declared export -> its record table and summary.

Every file of the export is parsed (:mod:`.ris`, :mod:`.medline`, :mod:`.delimited`) before
anything is written; each raw record gets its stable id (:func:`build_records`) and becomes
one row of :data:`~livingreview.records.RECORD_COLUMNS`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputFileError
from ..io import sha256_file, write_text, write_tsv
from ..records import MULTI_VALUE_SEPARATOR, RECORD_COLUMNS, Record, as_record
from .delimited import parse_delimited
from .fields import stable_local_id, surname
from .medline import parse_medline
from .ris import parse_ris
from .specs import FORMATS, check_import_specs

log = logging.getLogger(__name__)

#: Fields that tell apart two records of one export sharing title, year and first author.
_TIEBREAK_FIELDS = ("journal", "volume", "issue", "pages", "doi", "abstract")


def parse_export_file(path: str | Path, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parse one file of a declared export according to its ``format`` (and dialect/mapping)."""
    fmt = spec.get("format")
    encoding = spec.get("encoding") or "utf-8"
    if fmt == "ris":
        return parse_ris(path, spec.get("dialect") or "", encoding)
    if fmt == "medline":
        return parse_medline(path, encoding)
    if fmt in ("csv", "tsv"):
        return parse_delimited(
            path,
            spec.get("columns") or {},
            "," if fmt == "csv" else "\t",
            encoding,
            spec.get("author_separator", ";"),
        )
    raise InputFileError(
        path, "unknown export format", field="format", value=fmt, allowed=", ".join(FORMATS)
    )


def to_record(raw: Mapping[str, Any], database: str, entry_run: str, local_id: str) -> Record:
    """A parsed raw record as one row of RECORD_COLUMNS; its ``run`` is the run the export
    enters (:func:`~.specs.entry_run_of`), not its search date.

    >>> row = to_record({"title": "T", "authors": ["van den Berg AP", "Pape S"]}, "wos", "2024-01-31", "h1")
    >>> row["record_id"], row["authors"], row["first_author"], row["run"]
    ('wos:h1', 'van den Berg AP; Pape S', 'van den Berg', '2024-01-31')
    """
    values: dict[str, str] = {}
    for column in RECORD_COLUMNS:
        value = raw.get(column)
        if isinstance(value, list):
            values[column] = MULTI_VALUE_SEPARATOR.join(value)
        else:
            values[column] = "" if value is None else str(value)
    record = as_record(values)
    record["record_id"] = f"{database}:{local_id}"
    record["source"] = database
    record["run"] = entry_run
    authors = raw.get("authors") or []
    record["first_author"] = surname(authors[0]) if authors else ""
    return record


def _first_surname(raw: Mapping[str, Any]) -> str:
    return surname(raw["authors"][0]) if raw.get("authors") else ""


def build_records(
    raws: Sequence[tuple[Path, dict[str, Any]]], database: str, entry_run: str
) -> list[Record]:
    """Give each raw record its stable id and turn it into a record row.

    Ids come from the accession number, else from :func:`stable_local_id`. Two records of one
    export that end up with one id (the same accession twice, or hash twins even after adding
    journal, volume, pages, DOI and abstract) keep both rows; the later ones get ``~2``,
    ``~3``... in file order, and a warning is logged, since deduplication merges them later.
    """
    base_ids = [
        str(raw["accession"])
        if raw.get("accession")
        else stable_local_id(raw["title"], raw.get("year", ""), _first_surname(raw))
        for _path, raw in raws
    ]
    counts: dict[str, int] = {}
    for base in base_ids:
        counts[base] = counts.get(base, 0) + 1
    used: dict[str, int] = {}
    records: list[Record] = []
    for (path, raw), base in zip(raws, base_ids):
        local = base
        if counts[base] > 1 and not raw.get("accession"):
            local = stable_local_id(
                raw["title"],
                raw.get("year", ""),
                _first_surname(raw),
                extra=[raw.get(k, "") for k in _TIEBREAK_FIELDS],
            )
        used[local] = used.get(local, 0) + 1
        if used[local] > 1:
            log.warning(
                "%s, line %s: same id %s as an earlier record of this export; kept as %s~%d",
                path,
                raw.get("__line__"),
                local,
                local,
                used[local],
            )
            local = f"{local}~{used[local]}"
        records.append(to_record(raw, database, entry_run, local))
    return records


def import_export(spec: Mapping[str, Any]) -> tuple[list[Record], dict[str, Any]]:
    """Parse every file of one declared export; return (record rows, summary). Writes nothing.

    The records' ``run`` is the spec's resolved ``entry_run`` (the workflow resolves it:
    :func:`~.specs.with_entry_runs`); a spec without one enters the run of its search date.
    """
    check_import_specs([spec])
    database, date = spec["database"], spec["search_date"]
    entry_run = str(spec.get("entry_run") or date)
    raws: list[tuple[Path, dict[str, Any]]] = []
    files_summary: list[dict[str, Any]] = []
    for name in spec.get("files") or []:
        path = Path(name)
        parsed = parse_export_file(path, spec)
        raws.extend((path, raw) for raw in parsed)
        files_summary.append({"path": str(name), "records": len(parsed)})
        log.info("%s: %d records (%s)", path, len(parsed), spec.get("format"))
    if not raws:
        raise ConfigError(
            f"imports[{database}/{date}].files", "no export file declared", "at least one file"
        )
    records = build_records(raws, database, entry_run)
    for entry in files_summary:
        entry["sha256"] = sha256_file(entry["path"])
    summary = {
        "database": database,
        "search_date": date,
        "entry_run": entry_run,
        "format": spec.get("format"),
        "dialect": spec.get("dialect"),
        "files": files_summary,
        "records": len(records),
        "with_pmid": sum(1 for r in records if r["pmid"]),
        "with_doi": sum(1 for r in records if r["doi"]),
        "hashed_ids": sum(1 for r in records if r["record_id"].split(":", 1)[1].startswith("h")),
    }
    return records, summary


def write_import(
    spec: Mapping[str, Any], records_path: str | Path, summary_path: str | Path
) -> dict[str, Any]:
    """Import one export and write its record table and summary (atomically, after parsing)."""
    records, summary = import_export(spec)
    write_tsv(records_path, records, RECORD_COLUMNS)
    write_text(summary_path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary
