"""What the run record reads: exactly the files its rule declares, by name.

The rule ``run_record`` (workflow/rules/runs.smk) names each input; the script hands them over
as :class:`RunInputs` and the record reads nothing else, apart from the earlier run records
under ``runs_dir`` (the rule file says why those cannot be declared). A file the workflow does
not write (a stage left out, a to-do file a stage does not have) is ``None`` or an empty list,
and the record says it is missing rather than reporting zeros.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..history import latest_history

#: Input names of the rule that are not read by the record itself.
NOT_READ = ("code",)


@dataclass(frozen=True)
class RunInputs:
    """The declared inputs of one run record (paths relative to the working directory)."""

    #: ``results/runs/by-date``: where this and the earlier dates' records live.
    runs_dir: str = "results/runs/by-date"
    #: Where the immutable PubMed snapshots are (their receipts stand for them).
    snapshot_root: str = "results/search/pubmed"
    #: ``results/search/receipts/pubmed-<date>.json`` of every snapshot the run uses.
    receipts: tuple[str, ...] = ()
    #: Deduplication: ``results/records/{unique,duplicates,runs,todo}.tsv``.
    records_unique: str | None = None
    records_duplicates: str | None = None
    records_runs: str | None = None
    records_todo: str | None = None
    #: Screening: ``results/screening/status.tsv`` and ``todo.tsv``.
    screening_status: str | None = None
    screening_todo: str | None = None
    #: ``results/screening/agreement.tsv``: the reviewers' agreement per stage.
    screening_agreement: str | None = None
    #: ``results/prisma/counts.tsv``: the PRISMA box counts of every flow.
    prisma_counts: str | None = None
    #: Extraction: ``results/extraction/studies.tsv`` (one row per arm) and ``todo.tsv``.
    extraction_studies: str | None = None
    extraction_todo: str | None = None
    #: Synthesis: the pooled-estimate tables and ``whats_new.tsv``.
    estimates: tuple[str, ...] = ()
    whats_new: str | None = None
    #: ``studies.tsv`` of the previous archived version of the synthesis, if one exists.
    previous_version_studies: str | None = None
    #: Every output of the run's stages (checksummed in the manifest).
    outputs: tuple[str, ...] = ()
    #: Inputs people keep and code files (checksummed in the manifest).
    inputs: tuple[str, ...] = ()
    workflow_code: tuple[str, ...] = field(default=())

    @classmethod
    def from_named(cls, named: Mapping[str, Any], **settings: str) -> RunInputs:
        """From the rule's named inputs (each a path or a list of paths) plus ``settings``
        (``runs_dir``, ``snapshot_root``). An unknown name is a mistake in the rule file."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = dict(settings)
        for name, value in named.items():
            if name in NOT_READ:
                continue
            if name not in known:
                raise ConfigError(
                    f"run_record input '{name}'",
                    "is not an input the run record knows",
                    ", ".join(known),
                    source="workflow/rules/runs.smk",
                )
            paths = [value] if isinstance(value, str) else [str(v) for v in value]
            if str(known[name].type).startswith("tuple"):
                values[name] = tuple(paths)
            elif len(paths) > 1:
                raise ConfigError(
                    f"run_record input '{name}'", f"names {len(paths)} files", "one file or none"
                )
            else:
                values[name] = paths[0] if paths else None
        return cls(**values)

    def todo_files(self) -> dict[str, str | None]:
        """The stages' to-do files by input name, ``None`` where the workflow writes none."""
        return {
            "records_todo": self.records_todo,
            "screening_todo": self.screening_todo,
            "extraction_todo": self.extraction_todo,
        }

    def result_files(self) -> list[str]:
        """Every file declared under ``results/`` (the outputs the manifest records)."""
        single = [
            getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("runs_dir", "snapshot_root")
            and isinstance(getattr(self, f.name), str)
        ]
        many: Iterable[str] = (
            path
            for f in fields(self)
            if f.name not in ("inputs", "workflow_code")
            and isinstance(getattr(self, f.name), tuple)
            for path in getattr(self, f.name)
        )
        return sorted({*single, *many})


def archived_studies_before(history_dir: str | Path, run_date: str) -> list[str]:
    """``studies.tsv`` of the latest synthesis archived before ``run_date`` (the previous
    version, as whats_new compares with it); none before the first update was archived.

    Safe to declare as an input: a run archives only its own date, never an earlier one.
    """
    previous = latest_history(history_dir, run_date)
    return [str(previous / "studies.tsv")] if previous else []
