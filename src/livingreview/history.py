"""The synthesis history archive: what each version of the review said, one entry per run.

Every run that finishes archives the pooled estimates and the study table it ended with in
``<history_dir>/<run_id>/`` (with ``version.json``: the run's id and ``run_date``); the run's
registration (:mod:`livingreview.runs.register`) writes it, once, and a later run of the same
``run_date`` writes an entry of its own beside it. "The previous version" of a run is the
newest entry of an *earlier* ``run_date`` (:func:`latest_history`): ``whats_new``
(:mod:`livingreview.updates`) compares with it and the run record reads it to say which
studies a run added, so every run of one ``run_date`` compares with the same version.

The archive is written outside any declared output on purpose (Snakemake deletes declared
outputs before a rerun): it is the record of earlier versions and must outlive every rerun.
Folders named by a date alone (``<history_dir>/<run_date>/``) are entries of the layout
before runs had ids; they are still read. This module is kept free of the meta-analysis code
so that reading the archive stays cheap.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from .io import atomic_open
from .text import ISO_DATE

#: The note in each entry naming its run.
VERSION_NOTE = "version.json"
#: The file every complete entry holds (a folder without it is ignored).
ENTRY_MARK = "meta_analysis.tsv"


def history_run_date(entry: Path) -> str | None:
    """The ``run_date`` of one archive entry (``None`` for a folder that is not one)."""
    note = entry / VERSION_NOTE
    if note.is_file():
        try:
            return str(json.loads(note.read_text(encoding="utf-8"))["run_date"])
        except (ValueError, KeyError, TypeError):
            return None
    return entry.name if ISO_DATE.match(entry.name) else None


def history_entries(history_dir: str | Path) -> list[tuple[str, str, Path]]:
    """Every complete entry as ``(run_date, name, folder)``, oldest first (run ids sort by
    start time; an old date-named folder sorts before the runs of its date)."""
    folder = Path(history_dir)
    if not folder.is_dir():
        return []
    entries = []
    for path in folder.iterdir():
        if not (path.is_dir() and (path / ENTRY_MARK).is_file()):
            continue
        run_date = history_run_date(path)
        if run_date is not None:
            entries.append((run_date, "" if path.name == run_date else path.name, path))
    return sorted(entries)


def latest_history(history_dir: str | Path, run_date: str) -> Path | None:
    """The previous version of a run of ``run_date``: the newest entry of an earlier
    ``run_date``, if any."""
    earlier = [path for date, _name, path in history_entries(history_dir) if date < run_date]
    return earlier[-1] if earlier else None


def archive_run(
    history_dir: str | Path, run_id: str, run_date: str, files: Sequence[str | Path]
) -> Path:
    """Copy a run's synthesis into ``<history_dir>/<run_id>/`` (atomically, file by file;
    ``version.json`` last, so a folder without it was interrupted). An entry is written
    once: archiving the same run again changes nothing."""
    target = Path(history_dir) / run_id
    if (target / VERSION_NOTE).is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for source in files:
        with open(source, "rb") as src, atomic_open(target / Path(source).name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    with atomic_open(target / VERSION_NOTE) as out:
        out.write(json.dumps({"run_id": run_id, "run_date": run_date}, sort_keys=True) + "\n")
    return target
