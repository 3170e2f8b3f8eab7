"""What the PRISMA stage reads from the other stages, as small typed values.

* record tables of every source and run (``record_id``, ``source``, ``run`` only);
* the dedup stage's ``unique.tsv`` (publication_id, member_record_ids, first_run) and
  ``duplicates.tsv`` (why each record joined a publication);
* the screening stage's ``status.tsv`` (one status per publication);
* the published review's ``studies.tsv`` (the previous version's studies).

Each reader refuses what would make a count wrong (an empty id, a repeated publication, an
unknown status) with an error naming the file, line and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError, ValidationError
from ..io import read_tsv
from ..screening.vocabulary import INCLUDED
from .template import STATUS_BOXES


@dataclass(frozen=True)
class RecordRef:
    """One retrieval of one record: a row of a source's record table."""

    record_id: str
    source: str
    run: str


@dataclass(frozen=True)
class Publication:
    """A publication of the dedup stage: its id, the run it was first seen in, its records."""

    publication_id: str
    first_run: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    """The screening stage's status of one publication (reasons of an exclusion, study of an
    inclusion)."""

    publication_id: str
    status: str
    reasons: tuple[str, ...] = ()
    study_id: str = ""


@dataclass(frozen=True)
class BaselineStudy:
    """A study of the published review; ``unpublished`` ones no database search can find."""

    study_id: str
    label: str
    unpublished: bool


@dataclass(frozen=True)
class FlowSettings:
    """The ``prisma:`` config section plus the date that ends the published review's search."""

    baseline_until: str
    registers: frozenset[str] = frozenset()
    source_labels: Mapping[str, str] = field(default_factory=dict)
    unpublished_designs: frozenset[str] = frozenset({"unpublished case series"})
    unpublished_identified_via: str = "organisation_results"

    def label(self, source: str) -> str:
        """The name printed for a source (its configured label, else the source itself)."""
        return self.source_labels.get(source, source)


def read_record_refs(paths: Sequence[str | Path]) -> list[RecordRef]:
    """Every (record_id, source, run) of the record tables; a repeat within one run counts once.

    Raises:
        InputFileError: a table lacks the columns or has an empty id, source or run.
    """
    seen: set[tuple[str, str]] = set()
    refs: list[RecordRef] = []
    for path in paths:
        for row in read_tsv(path, required=("record_id", "source", "run")):
            values = {c: row[c].strip() for c in ("record_id", "source", "run")}
            for column, value in values.items():
                if not value:
                    raise InputFileError(
                        path,
                        "empty cell",
                        line=int(row["__line__"]),
                        field=column,
                        allowed="every record needs record_id, source and run; rerun its stage",
                    )
            key = (values["record_id"], values["run"])
            if key in seen:
                continue
            seen.add(key)
            refs.append(RecordRef(**values))
    return refs


def read_publications(path: str | Path) -> dict[str, Publication]:
    """``unique.tsv`` of the dedup stage: publication -> first run and member records."""
    publications: dict[str, Publication] = {}
    for row in read_tsv(path, required=("publication_id", "member_record_ids", "first_run")):
        pid = row["publication_id"].strip()
        if not pid or pid in publications:
            raise InputFileError(
                path,
                "empty or repeated publication_id",
                line=int(row["__line__"]),
                field="publication_id",
                value=pid,
                allowed="one row per publication; rerun dedup",
            )
        members = tuple(m.strip() for m in row["member_record_ids"].split(";") if m.strip()) or (
            pid,
        )
        publications[pid] = Publication(pid, row["first_run"].strip(), members)
    return publications


def read_duplicate_rules(path: str | Path) -> dict[str, str]:
    """``duplicates.tsv``: record_id -> how it was matched (rule and score), for the ledger."""
    rules: dict[str, str] = {}
    for row in read_tsv(path, required=("record_id", "duplicate_of", "rule")):
        score = row.get("score", "").strip()
        rules[row["record_id"].strip()] = row["rule"].strip() + (f" {score}" if score else "")
    return rules


def read_statuses(path: str | Path) -> dict[str, Status]:
    """``status.tsv`` of the screening stage.

    Raises:
        ValidationError: an unknown status, a repeated publication, or an inclusion without
            a study_id.
    """
    statuses: dict[str, Status] = {}
    for row in read_tsv(path, required=("publication_id", "status", "study_id")):
        line = int(row["__line__"])
        pid, status = row["publication_id"].strip(), row["status"].strip()
        if status not in STATUS_BOXES:
            raise ValidationError(
                path,
                "unknown screening status",
                line=line,
                field="status",
                value=status,
                allowed=", ".join(STATUS_BOXES),
            )
        if pid in statuses:
            raise ValidationError(
                path,
                "publication listed twice",
                line=line,
                field="publication_id",
                value=pid,
                allowed="one row per publication; rerun screening",
            )
        study = row["study_id"].strip()
        if status == INCLUDED and not study:
            raise ValidationError(
                path,
                "an included report has no study_id",
                line=line,
                field="study_id",
                allowed="the study the report belongs to; fix the full-text sheet and rerun screening",
            )
        labels = row.get("exclusion_reason_label", "") or row.get("exclusion_reason", "")
        reasons = tuple(r.strip() for r in labels.split(";") if r.strip())
        statuses[pid] = Status(pid, status, reasons, study)
    return statuses


def read_baseline_studies(
    path: str | Path, unpublished_designs: Iterable[str]
) -> list[BaselineStudy]:
    """The previous version's studies; unpublished ones count as found by other methods."""
    designs = {d.strip().lower() for d in unpublished_designs}
    studies = []
    for row in read_tsv(path, required=("study_id", "label", "design")):
        studies.append(
            BaselineStudy(
                row["study_id"].strip(),
                row["label"].strip(),
                row["design"].strip().lower() in designs,
            )
        )
    return studies
