"""The human verdicts sheet ``resources/dedup/verdicts.tsv``: read and checked, never written.

A person decides the uncertain pairs of ``results/records/maybe.tsv`` here: ``same`` merges
two records on every run, ``different`` forbids their merge. Every verdict counts, whatever
its ``decided_on`` date (a date after today is a typo, refused by the check job); one on
records a run does not have (from a search after its ``run_date``) waits for the first run
that includes them (:func:`split_by_records`). The sheet is read as
spreadsheet programs save it (:func:`livingreview.io.read_tsv`: UTF-8 with or without BOM,
UTF-16, Windows-1252 when unambiguous, CRLF line ends).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProblemCollector
from ..io import read_tsv
from ..text import ISO_DATE

log = logging.getLogger(__name__)

VERDICT_COLUMNS = ("record_id_a", "record_id_b", "verdict", "reviewer", "decided_on", "note")
VERDICT_VALUES = ("same", "different")


@dataclass(frozen=True)
class Verdict:
    """One line of the sheet: a pair of record ids and what a person said about it."""

    record_id_a: str
    record_id_b: str
    verdict: str
    line: int
    decided_on: str = ""

    @property
    def pair(self) -> tuple[str, str]:
        """The two record ids in sorted order (a line may name them either way round)."""
        return pair_key(self.record_id_a, self.record_id_b)


def pair_key(record_id_a: str, record_id_b: str) -> tuple[str, str]:
    """A pair of record ids in sorted order.

    >>> pair_key("pubmed:2", "embase:1")
    ('embase:1', 'pubmed:2')
    """
    return (min(record_id_a, record_id_b), max(record_id_a, record_id_b))


def split_by_records(
    verdicts: Sequence[Verdict], known_ids: Iterable[str]
) -> tuple[list[Verdict], list[Verdict]]:
    """The verdicts this run applies (both records are in its record tables) and those on
    records it does not have: records of a search after its ``run_date`` (such a verdict
    waits for the first run that includes them; :func:`load_verdicts` accepts absent record
    ids only on lines dated after ``run_date``). Every verdict counts, whatever its date.

    >>> early, late = Verdict("a:1", "b:2", "same", 2, "2026-11-20"), Verdict("a:1", "c:3", "same", 3, "2026-12-01")
    >>> split_by_records([early, late], ["a:1", "b:2"]) == ([early], [late])
    True
    """
    known = set(known_ids)
    present = [v.record_id_a in known and v.record_id_b in known for v in verdicts]
    return (
        [v for v, ok in zip(verdicts, present) if ok],
        [v for v, ok in zip(verdicts, present) if not ok],
    )


def load_verdicts(
    path: str | Path,
    known_ids: Iterable[str],
    run_date: str | None = None,
    today: str | None = None,
) -> list[Verdict]:
    """Read and check the human verdicts sheet (read-only for the workflow).

    Every line is checked; every problem is logged and the first is raised. A line dated
    after ``run_date`` is checked like any other, except that its record ids may be absent
    from this run (they can belong to an export or snapshot of a later run). With ``today``
    (read by the check job when it runs), a line dated after it is an error (a typo).

    Raises:
        InputFileError: wrong columns or encoding.
        ValidationError: unknown verdict, empty or unknown record_id, a record paired with
            itself, an empty reviewer, a malformed ``decided_on`` or two lines disagreeing
            about one pair.
    """
    known = set(known_ids)
    problems = ProblemCollector(log)
    verdicts: list[Verdict] = []
    by_pair: dict[tuple[str, str], Verdict] = {}
    for row in read_tsv(path, required=VERDICT_COLUMNS[:5], allowed=VERDICT_COLUMNS):
        item = _checked_line(path, row, known, problems, run_date, today)
        if item is None:
            continue
        earlier = by_pair.get(item.pair)
        if earlier and earlier.verdict != item.verdict:
            problems.add(
                path,
                f"contradicts line {earlier.line} about the same pair",
                line=item.line,
                field="verdict",
                value=item.verdict,
                allowed="one verdict per pair; delete one line",
            )
            continue
        by_pair[item.pair] = item
        verdicts.append(item)
    problems.raise_any()
    return verdicts


def _checked_line(
    path: str | Path,
    row: Mapping[str, str],
    known: set[str],
    problems: ProblemCollector,
    run_date: str | None,
    today: str | None = None,
) -> Verdict | None:
    """The line as a Verdict, or None after adding each of its problems to ``problems``."""
    found_before = problems.count
    line = int(row["__line__"])
    a, b = row["record_id_a"].strip(), row["record_id_b"].strip()
    verdict = row["verdict"].strip().lower()
    decided_on = row["decided_on"].strip()
    later = run_date is not None and bool(ISO_DATE.match(decided_on)) and decided_on > run_date
    for column, value in (("record_id_a", a), ("record_id_b", b)):
        if not value:
            problems.add(
                path,
                "empty record id",
                line=line,
                field=column,
                allowed="a record_id from results/records/maybe.tsv",
            )
        elif value not in known and not later:
            problems.add(
                path,
                "record_id is not in any record table of this run",
                line=line,
                field=column,
                value=value,
                allowed="record ids as written in results/records/maybe.tsv; fix the typo "
                "or delete the line if the record's source was removed from config.yaml",
            )
    if a and a == b:
        problems.add(
            path,
            "a record is paired with itself",
            line=line,
            field="record_id_b",
            value=b,
            allowed="two different records",
        )
    if verdict not in VERDICT_VALUES:
        problems.add(
            path,
            "unknown verdict",
            line=line,
            field="verdict",
            value=row["verdict"],
            allowed=", ".join(VERDICT_VALUES),
        )
    if not row["reviewer"].strip():
        problems.add(
            path,
            "empty reviewer",
            line=line,
            field="reviewer",
            allowed="the initials of the person who decided",
        )
    if not ISO_DATE.match(decided_on):
        problems.add(
            path,
            "decided_on is not an ISO date",
            line=line,
            field="decided_on",
            value=row["decided_on"],
            allowed="YYYY-MM-DD",
        )
    elif today and decided_on > today:
        problems.add(
            path,
            f"decided_on is after today's date {today} (the clock when this check ran)",
            line=line,
            field="decided_on",
            value=decided_on,
            allowed=f"a date on or before {today}; fix the typo",
        )
    if problems.count > found_before:
        return None
    return Verdict(a, b, verdict, line, decided_on)
