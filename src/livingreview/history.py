"""The synthesis history archive: what each version of the review said, one folder per run.

``whats_new`` (:mod:`livingreview.updates`) copies each run's pooled estimates and study table
to ``<history_dir>/<run_date>/`` and compares a run with the latest earlier folder; the run
record reads the same folder to say which studies a run added. The archive is written outside
any declared output on purpose (Snakemake deletes declared outputs before a rerun): it is the
record of earlier versions and must outlive every rerun. This module is kept free of the
meta-analysis code so that reading the archive stays cheap.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from .io import atomic_open


def latest_history(history_dir: str | Path, run_date: str) -> Path | None:
    """The most recent archived run strictly before ``run_date``, if any."""
    folder = Path(history_dir)
    if not folder.is_dir():
        return None
    earlier = sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and p.name < run_date and (p / "meta_analysis.tsv").is_file()
    )
    return earlier[-1] if earlier else None


def archive_run(history_dir: str | Path, run_date: str, files: Sequence[str | Path]) -> Path:
    """Copy this run's synthesis into ``history/<run_date>/`` (atomically, file by file)."""
    target = Path(history_dir) / run_date
    target.mkdir(parents=True, exist_ok=True)
    for source in files:
        with open(source, "rb") as src, atomic_open(target / Path(source).name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target
