"""Which dates a PubMed search covers: run dates, windows and the snapshots a run uses.

Windows: the baseline snapshot (dated ``baseline_until``) covers ``baseline_from`` to
``baseline_until``; every update run covers ``baseline_until`` to ``run_date`` by creation date
(the whole update period each time, so records indexed late are still caught; the boundary day
is in both, which is harmless because only PMIDs no earlier snapshot holds are fetched).
A window with more hits than esearch can list is split in halves (:meth:`Window.split`) by
:func:`livingreview.search.retrieve.search_slices`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..text import ISO_DATE

#: The file that marks a snapshot folder complete (written last, see :mod:`.snapshot`).
PROVENANCE = "provenance.json"


def parse_date(value: str, key: str = "run_date") -> dt.date:
    """ISO date string -> date, with an error that names the config key.

    >>> parse_date("2021-10-31")
    datetime.date(2021, 10, 31)
    """
    text = str(value).strip()
    try:
        if not ISO_DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(key, f"not an ISO date: {value!r}", "YYYY-MM-DD") from None


def entrez_date(day: dt.date) -> str:
    """E-utilities date format.

    >>> entrez_date(dt.date(2021, 10, 31))
    '2021/10/31'
    """
    return day.strftime("%Y/%m/%d")


@dataclass(frozen=True)
class Window:
    """An inclusive date range searched by one date type (``crdt``, ``edat``, ``pdat``...)."""

    start: dt.date
    end: dt.date
    datetype: str

    def split(self) -> tuple[Window, Window]:
        """Two halves that cover this window exactly, without overlap.

        >>> Window(dt.date(2020, 1, 1), dt.date(2020, 1, 4), "crdt").split()[1].start
        datetime.date(2020, 1, 3)
        """
        if self.start >= self.end:
            raise ValueError("a one-day window cannot be split")
        middle = self.start + (self.end - self.start) // 2
        return (
            Window(self.start, middle, self.datetype),
            Window(middle + dt.timedelta(days=1), self.end, self.datetype),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "mindate": self.start.isoformat(),
            "maxdate": self.end.isoformat(),
            "datetype": self.datetype,
        }


def run_window(
    run_date: str, baseline_until: str, baseline_from: str, datetype: str
) -> tuple[str, Window]:
    """The kind of run (``baseline`` or ``update``) and the window it searches.

    >>> run_window("2021-10-31", "2021-10-31", "1800-01-01", "crdt")[0]
    'baseline'
    >>> kind, window = run_window("2024-01-31", "2021-10-31", "1800-01-01", "crdt")
    >>> kind, window.start.isoformat(), window.end.isoformat()
    ('update', '2021-10-31', '2024-01-31')
    """
    run = parse_date(run_date, "run_date")
    baseline = parse_date(baseline_until, "search.baseline_until")
    earliest = parse_date(baseline_from, "search.baseline_from")
    if run < baseline:
        raise ConfigError(
            "run_date",
            f"{run_date} is before search.baseline_until ({baseline_until})",
            "a date on or after the baseline (the baseline snapshot is dated search.baseline_until)",
        )
    if earliest >= baseline:
        raise ConfigError(
            "search.baseline_from",
            f"{baseline_from} is not before {baseline_until}",
            "an earlier date",
        )
    if run == baseline:
        return "baseline", Window(earliest, baseline, datetype)
    return "update", Window(baseline, run, datetype)


def snapshot_dates(
    run_date: str,
    baseline_until: str,
    update_runs: Iterable[str] = (),
    existing: Iterable[str] = (),
) -> list[str]:
    """Ordered snapshot dates a run uses: baseline, then every update run up to ``run_date``.

    ``update_runs`` are extra dates to (re)produce; ``existing`` are dates of snapshots already
    on disk (a scheduled server keeps each run's snapshot; a later run must still see them).

    >>> snapshot_dates("2024-06-30", "2021-10-31", ["2023-01-31"], ["2022-05-01", "2025-01-01"])
    ['2021-10-31', '2022-05-01', '2023-01-31', '2024-06-30']
    """
    run = parse_date(run_date, "run_date").isoformat()
    baseline = parse_date(baseline_until, "search.baseline_until").isoformat()
    dates = {baseline, run}
    for value in [*update_runs]:
        dates.add(parse_date(value, "search.update_runs").isoformat())
    dates.update(d for d in existing if ISO_DATE.match(d))
    return sorted(d for d in dates if baseline <= d <= run)


def discover_snapshots(root: str | Path) -> list[str]:
    """Dates of the complete snapshots under ``root`` (folders with a provenance file)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and ISO_DATE.match(p.name) and (p / PROVENANCE).is_file()
    )
