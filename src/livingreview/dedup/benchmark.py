"""The labelled benchmark sets' CSV layout, and clustering without the workflow around it.

Used by ``benchmarks/dedup_benchmark.py`` and the accuracy tests: records in the layout of
the shared deduplication benchmarks (``ID, title, author, year, journal, ...``) go through
the same features, comparison and clustering as the workflow's records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..errors import InputFileError
from .cluster import cluster_records
from .keys import features_of
from .settings import MatchSettings


def records_from_benchmark(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Map rows in the benchmark CSV layout (ID, title, author, year, journal, volume,
    number, pages, doi; missing columns allowed) to record dicts."""
    records = []
    for line, row in enumerate(rows, start=2):
        if not (row.get("ID") or "").strip():
            raise InputFileError(
                "<records CSV>",
                "row has no ID",
                line=line,
                field="ID",
                allowed="a unique, non-empty ID column (ID, title, author, year, ...)",
            )
        records.append(
            {
                "record_id": row["ID"],
                "title": row.get("title") or "",
                "authors": row.get("author") or "",
                "year": row.get("year") or "",
                "journal": row.get("journal") or row.get("booktitle") or "",
                "volume": row.get("volume") or "",
                "issue": row.get("number") or "",
                "pages": row.get("pages") or "",
                "doi": row.get("doi") or "",
                "pmid": "",
            }
        )
    return records


def duplicate_groups(
    records: Sequence[Mapping[str, str]], settings: MatchSettings | None = None
) -> list[list[str]]:
    """Record IDs of every group of two or more records judged to be one publication."""
    settings = settings or MatchSettings()
    features = [features_of(r) for r in records]
    clustering = cluster_records(features, settings)
    groups = [
        sorted(features[i].record_id for i in members)
        for members in clustering.groups().values()
        if len(members) > 1
    ]
    return sorted(groups)
