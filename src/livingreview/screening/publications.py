"""What screening reads from other stages: the publications of deduplication, their possible
duplicates, and the study ids of the published review.

A decision may name the ``publication_id`` or any member ``record_id`` of a publication, so a
record that joins a cluster later inherits the cluster's screening state: the
:class:`PublicationIndex` maps every member record to its publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError
from ..io import read_tsv
from .vocabulary import split_multi


@dataclass(frozen=True)
class PublicationIndex:
    """Publications of ``unique.tsv`` and the map from every member record_id to them."""

    rows: Mapping[str, Mapping[str, str]]
    by_record: Mapping[str, str]

    def resolve(self, record_id: str) -> str | None:
        return self.by_record.get(record_id)


def load_publications(path: str | Path) -> PublicationIndex:
    """Read ``unique.tsv`` and index every member record_id (a record in two clusters is an error)."""
    rows = read_tsv(path, required=("publication_id", "member_record_ids", "first_run", "title"))
    publications: dict[str, dict[str, str]] = {}
    by_record: dict[str, str] = {}
    for row in rows:
        line = int(row["__line__"])
        pid = row["publication_id"].strip()
        if not pid:
            raise InputFileError(path, "empty publication_id", line=line, field="publication_id")
        if pid in publications:
            raise InputFileError(
                path, "publication_id appears twice", line=line, field="publication_id", value=pid
            )
        publications[pid] = row
        members = split_multi(row["member_record_ids"]) or [pid]
        for ident in dict.fromkeys([pid, row.get("canonical_record_id", "").strip(), *members]):
            if not ident:
                continue
            other = by_record.get(ident)
            if other is not None and other != pid:
                raise InputFileError(
                    path,
                    f"record {ident} belongs to two publications ({other} and {pid}); rerun deduplication",
                    line=line,
                    field="member_record_ids",
                    value=ident,
                )
            by_record[ident] = pid
    return PublicationIndex(publications, by_record)


def load_baseline_study_ids(path: str | Path | None) -> set[str]:
    """Study ids of the published review (``studies.tsv``), to tell new studies apart."""
    if not path:
        return set()
    return {
        row["study_id"].strip()
        for row in read_tsv(path, required=("study_id",))
        if row["study_id"].strip()
    }


def possible_duplicate_hints(maybe_path: str | Path | None) -> dict[str, list[str]]:
    """publication_id -> hints naming the other publication of each uncertain dedup pair."""
    hints: dict[str, list[str]] = {}
    if not maybe_path or not Path(maybe_path).is_file():
        return hints
    for row in read_tsv(maybe_path, required=("publication_id_a", "publication_id_b")):
        a, b = row["publication_id_a"], row["publication_id_b"]
        if a and b and a != b:
            hints.setdefault(a, []).append(f"possible duplicate of {b} (results/records/maybe.tsv)")
            hints.setdefault(b, []).append(f"possible duplicate of {a} (results/records/maybe.tsv)")
    return hints
