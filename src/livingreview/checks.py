"""Validate human-owned sheets in a rule of their own, before the rule that consumes them.

Snakemake deletes a job's previous outputs just before it runs the job. If the rule that
reads a reviewer's sheet also validated it, an invalid sheet would leave that stage's
previous results deleted until the sheet is fixed. So each human input (dedup verdicts,
screening decisions, extraction sheets, and other databases' export files) is first checked by a ``check_*`` rule that runs the
stage's own validation and writes a small receipt; the consuming rule takes the receipt as
input. An invalid sheet then fails the check job, the consuming job never starts, and every
earlier result stays as it was.

Each check runs the same code path as its stage (not a re-implementation), so a sheet that
passes its check is a sheet the stage accepts: ``imports.import_export`` (without writing),
``dedup.check_verdicts``, ``screening.check_sheets`` and ``extraction.check_sheets``, each
called by a thin script ``workflow/scripts/check_<what>.py``. This module writes the receipt.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from .io import sha256_file, write_text


def today() -> str:
    """Today's date for the check jobs' "not after today" rule, read when the job runs (never
    a rule parameter: outputs must not depend on the day a run happened). The later of the
    local and the UTC date, so that a decision dated today anywhere is never refused.
    """
    local = dt.date.today()
    utc = dt.datetime.now(dt.timezone.utc).date()
    return max(local, utc).isoformat()


def write_check_receipt(path: str | Path, checked: Sequence[str | Path], what: str) -> None:
    """Record which files were checked (with their SHA-256), for the log and the manifest."""
    receipt = {
        "checked": what,
        "valid": True,
        "files": {str(p): sha256_file(p) for p in checked},
    }
    write_text(path, json.dumps(receipt, indent=2, sort_keys=True) + "\n")
