"""Validate human-owned sheets in a rule of their own, before the rule that consumes them.

Snakemake deletes a job's previous outputs just before it runs the job. If the rule that
reads a reviewer's sheet also validated it, an invalid sheet would leave that stage's
previous results deleted until the sheet is fixed. So each human input (dedup verdicts,
screening decisions, extraction sheets, and other databases' export files) is first checked by a ``check_*`` rule that runs the
stage's own validation and writes a small receipt; the consuming rule takes the receipt as
input. An invalid sheet then fails the check job, the consuming job never starts, and every
earlier result stays as it was.

Each check runs the same code path as its stage (not a re-implementation), so a sheet that
passes its check is a sheet the stage accepts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .io import sha256_file, write_text


def write_check_receipt(path: str | Path, checked: Sequence[str | Path], what: str) -> None:
    """Record which files were checked (with their SHA-256), for the log and the manifest."""
    receipt = {
        "checked": what,
        "valid": True,
        "files": {str(p): sha256_file(p) for p in checked},
    }
    write_text(path, json.dumps(receipt, indent=2, sort_keys=True) + "\n")


def check_export(spec: Mapping[str, object]) -> None:
    """Parse one declared export exactly as the imports stage does, writing nothing."""
    from .imports import import_export

    import_export(spec)


def check_dedup_verdicts(
    record_tables: Sequence[str | Path], verdicts_path: str | Path, settings: Mapping[str, object]
) -> None:
    """Validate the dedup verdicts sheet exactly as the dedup stage reads and applies it."""
    from .dedup import MatchSettings, deduplicate, load_record_tables, load_verdicts

    record_set = load_record_tables(record_tables)
    verdicts = load_verdicts(verdicts_path, (r["record_id"] for r in record_set.records))
    deduplicate(record_set, verdicts, MatchSettings.from_params(settings), verdicts_path)


def check_screening_sheets(
    unique_path: str | Path,
    sheets: Sequence[str | Path],
    settings_params: Mapping[str, object],
    run_date: str,
    baseline_studies: str | Path,
) -> None:
    """Validate every decision and adjudication sheet as the screening stage does."""
    from .screening import ScreeningSettings, screen

    settings = ScreeningSettings.from_params(settings_params, run_date)
    screen(unique_path, list(sheets), settings, baseline_studies)


def check_extraction_sheets(
    baseline_dir: str | Path,
    sheets: Sequence[str | Path],
    included_reports: str | Path | None,
    min_extractors: int,
) -> None:
    """Validate every extraction sheet as the extraction stage does."""
    from .baseline import load_baseline
    from .extraction import included_study_ids, merge_extractions

    included = included_study_ids(included_reports) if included_reports else set()
    merge_extractions(load_baseline(baseline_dir), list(sheets), included, min_extractors)
