"""Duplicate verdicts on the desk: the uncertain pairs of ``maybe.tsv``, decided in the verdicts
sheet.

The workflow reads ``dedup.verdicts`` (``resources/dedup/verdicts.tsv``) on every run and never
writes it; the desk writes its documented rows (``record_id_a, record_id_b, verdict, reviewer,
decided_on, note``) through :class:`~.humanfiles.SheetStore`, with the lock and the journal in
the sheet's folder.  One row per pair (either order of the two ids): a new verdict replaces
the pair's row, leaving every other line byte-for-byte.

Validation is the dedup stage's own, on the would-be sheet held in memory:
:func:`livingreview.dedup.tables.verdict_problems` with the record tables the next run reads
(each line's checks, then the clustering that refuses a ``same`` verdict joining records
another line marks ``different``) returns each problem with the sheet's file, line and field.

Who may write what: a data manager decides the pairs the last run listed in ``maybe.tsv`` and
may change or withdraw any verdict of the sheet except the baseline reviewer's, which stand
for the published review's decisions (changed by hand only, deliberately).
"""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..dedup.tables import RecordSet, load_record_tables, verdict_problems
from ..dedup.verdicts import VERDICT_COLUMNS, VERDICT_VALUES, pair_key
from ..errors import Problem, ReviewError
from ..io import parse_tsv, read_tsv
from .errors import NotAllowed, NotFound, SheetProblems, SheetRefused
from .humanfiles import RowChange, SheetStore, TsvDocument, clean_cell, stat_key, within_limit
from .lastrun import LastRun
from .people import DATA_MANAGER
from .project import Clock, Project

#: The fields shown side by side, in order, with differences marked.
COMPARED_FIELDS: tuple[str, ...] = (
    "title",
    "authors",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
)
#: A change to the pair's row of the verdicts sheet.
VerdictEdit = RowChange[dict[str, str]]


def comparable(value: str) -> str:
    """What two fields are compared as: case, spacing and a final full stop do not count.

    >>> comparable("Efficacy of X.  ") == comparable("efficacy of  x")
    True
    """
    return " ".join(value.split()).casefold().rstrip(".")


def _word(word: str) -> str:
    """A word as compared within a field: ``AJ;`` and ``aj`` are the same word."""
    return word.strip(".,;:()[]").casefold()


@dataclass(frozen=True)
class Pair:
    """An uncertain pair of the last run, or a pair the sheet holds a verdict on."""

    record_id_a: str
    record_id_b: str
    rule: str = ""
    score: str = ""
    publication_id_a: str = ""
    publication_id_b: str = ""
    #: Listed in the last run's maybe.tsv (else: only in the verdicts sheet).
    open: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return pair_key(self.record_id_a, self.record_id_b)


class DuplicateDesk:
    """Reads the uncertain pairs and writes the verdicts sheet for the desk's pages."""

    def __init__(self, project: Project, last_run: LastRun, store: SheetStore, clock: Clock):
        self.project = project
        self.last_run = last_run
        self.store = store
        self.clock = clock
        self._records: tuple[Any, RecordSet] | None = None
        self._records_lock = threading.Lock()
        #: (what the last sheet check depended on, its answer)
        self._health: tuple[Any, str] | None = None

    @property
    def sheet(self) -> Path:
        return self.project.verdicts_sheet

    @property
    def baseline_reviewer(self) -> str:
        return str(self.project.config["screening"]["baseline_reviewer"])

    def today(self) -> str:
        return self.clock().date().isoformat()

    # -- reading -------------------------------------------------------------------------------

    def open_pairs(self) -> dict[tuple[str, str], Pair]:
        """The uncertain pairs of the last run's maybe.tsv, by sorted record ids."""
        pairs: dict[tuple[str, str], Pair] = {}
        for row in self.last_run.maybe_pairs():
            pair = Pair(
                row.get("record_id_a", ""),
                row.get("record_id_b", ""),
                row.get("rule", ""),
                row.get("score", ""),
                row.get("publication_id_a", ""),
                row.get("publication_id_b", ""),
                open=True,
            )
            pairs.setdefault(pair.key, pair)
        return pairs

    def verdicts(self) -> dict[tuple[str, str], dict[str, str]]:
        """The sheet's row for each pair, as on disk now (first row of a pair; cells stripped)."""
        if not self.sheet.is_file():
            return {}
        try:
            rows = read_tsv(self.sheet)
        except ReviewError:
            return {}
        found: dict[tuple[str, str], dict[str, str]] = {}
        for row in rows:
            cells = {c: (row.get(c) or "").strip() for c in VERDICT_COLUMNS}
            if cells["record_id_a"] and cells["record_id_b"]:
                found.setdefault(pair_key(cells["record_id_a"], cells["record_id_b"]), cells)
        return found

    def pair(self, record_id_a: str, record_id_b: str) -> Pair:
        """A pair from the address or form: open at the last run or in the sheet, else NotFound."""
        key = pair_key(record_id_a.strip(), record_id_b.strip())
        found = self.open_pairs().get(key)
        if found is not None:
            return found
        row = self.verdicts().get(key)
        if row is None:
            raise NotFound(
                f"no uncertain pair {key[0]} / {key[1]} in the last run's maybe.tsv or the "
                "verdicts sheet"
            )
        return Pair(row["record_id_a"], row["record_id_b"])

    def record(self, record_id: str) -> dict[str, str]:
        """A record's own fields (from the record tables the dedup stage read)."""
        row = self.last_run.records(self.project.record_tables()).get(record_id)
        if row is not None:
            return row
        publication = self.last_run.index().resolve(record_id)
        return dict(self.last_run.index().rows.get(publication or "", {}))

    def sheet_problem(self) -> str:
        """The dedup stage's message if the verdicts sheet on disk would stop the next run.

        The check deduplicates every record, so its answer is kept until the sheet, a record
        table or the date changes.
        """
        try:
            data = self.sheet.read_bytes()
        except FileNotFoundError:
            return ""
        tables = tuple(
            (path, stat_key(path.stat())) for path in self.project.record_tables() if path.is_file()
        )
        key = (hashlib.sha256(data).hexdigest(), tables, self.today())
        if self._health is not None and self._health[0] == key:
            return self._health[1]
        try:
            self._check(self.sheet, data)
            problem = ""
        except SheetRefused as error:
            problem = str(error)
        self._health = (key, problem)
        return problem

    # -- validation: the dedup stage's own reader ---------------------------------------------

    def _check(self, sheet: Path, data: bytes) -> None:
        """Check ``data`` as the verdicts sheet the next run reads, held in memory, with the
        dedup stage's own validator; SheetProblems (file, line, field of each) if refused."""
        run_date = max(self.today(), str(self.project.config["run_date"]))
        relative = self.store.relative(sheet)
        try:
            table = parse_tsv(data, relative)
            problems = verdict_problems(
                self._record_set(), relative, table, self.project.match_settings, run_date
            )
        except ReviewError as error:
            problems = [Problem.of(error)]
        if problems:
            raise SheetProblems([*self._unbuilt_tables(), *problems])

    def _unbuilt_tables(self) -> list[Problem]:
        """The record tables the config declares that no run has written yet (an import or
        a search run added since the last run): what really happened when a record id of
        theirs is unknown, which the dedup stage's own message must take for a typo."""
        return [
            Problem(
                self.store.relative(path),
                "is not built yet: the config declares it (an import or a search run added "
                "since the last run), so its records are unknown until the workflow has run",
                allowed="run the workflow (.venv/bin/snakemake --cores 4), then save again",
            )
            for path in self.project.record_tables()
            if not path.is_file()
        ]

    def _record_set(self) -> RecordSet:
        """The record tables the next run's dedup stage reads, read again only when one of
        them changes on disk (or the list of tables does)."""
        tables = [path for path in self.project.record_tables() if path.is_file()]
        key = tuple((path, stat_key(path.stat())) for path in tables)
        with self._records_lock:
            if self._records is not None and self._records[0] == key:
                return self._records[1]
        record_set = load_record_tables(tables)
        with self._records_lock:
            self._records = (key, record_set)
        return record_set

    # -- writing --------------------------------------------------------------------------------

    def _write(
        self, pair: Pair, cells: dict[str, str] | None, journal: dict[str, Any]
    ) -> VerdictEdit:
        """Set (or with ``cells`` None remove) the pair's row of the verdicts sheet."""

        def editor(document: TsvDocument) -> VerdictEdit:
            matches = [
                (i, row)
                for i, row in document.rows()
                if pair_key(row.get("record_id_a", "").strip(), row.get("record_id_b", "").strip())
                == pair.key
            ]
            before = {c: v.strip() for c, v in matches[0][1].items()} if matches else None
            for i, _ in reversed(matches[1:]):  # hand-typed repeats of the same pair
                document.remove(i)
            if cells is None:
                if matches:
                    document.remove(matches[0][0])
                return VerdictEdit(" ".join(pair.key), before, None)
            ids = (
                {"record_id_a": before["record_id_a"], "record_id_b": before["record_id_b"]}
                if before
                else {"record_id_a": pair.record_id_a, "record_id_b": pair.record_id_b}
            )
            after = {c: clean_cell({**ids, **cells}.get(c, "")) for c in document.columns}
            if matches:
                document.replace(matches[0][0], after)
            else:
                document.append(after)
            return VerdictEdit(" ".join(pair.key), before, after)

        return self.store.edit(
            self.sheet,
            VERDICT_COLUMNS,
            editor,
            lambda sheet, data, _document: self._check(sheet, data),
            {**journal, "pair": list(pair.key)},
        )

    def _may_change(self, person_id: str, pair: Pair) -> None:
        person = self.project.people.get(person_id)
        if person is None or not person.has(DATA_MANAGER):
            raise NotAllowed(f"{person_id!r} is not a data manager in the config")
        existing = self.verdicts().get(pair.key)
        if existing is not None and existing["reviewer"] == self.baseline_reviewer:
            raise NotAllowed(
                f"the verdict on {pair.key[0]} / {pair.key[1]} is the published review's "
                f"({self.baseline_reviewer}); change it by hand in "
                f"{self.store.relative(self.sheet)} if it must be corrected"
            )

    def decide(self, person_id: str, pair: Pair, verdict: str, note: str = "") -> VerdictEdit:
        """Write (or change) the verdict on a pair, with who and when.

        Raises:
            NotAllowed: not a data manager, or the published review's verdict.
            SheetRefused: not ``same``/``different``, or the dedup stage would refuse the sheet.
        """
        self._may_change(person_id, pair)
        verdict = verdict.strip().lower()
        if verdict not in VERDICT_VALUES:
            raise SheetRefused(
                f"verdict {verdict!r} is not allowed; allowed: {', '.join(VERDICT_VALUES)}"
            )
        cells = {
            "verdict": verdict,
            "reviewer": person_id,
            "decided_on": self.today(),
            "note": within_limit(note.strip(), "note"),
        }
        action = "change" if pair.key in self.verdicts() else "decide"
        return self._write(pair, cells, {"who": person_id, "role": DATA_MANAGER, "action": action})

    def withdraw(self, person_id: str, pair: Pair) -> VerdictEdit:
        """Delete the pair's verdict (the next run applies the rules to the pair again)."""
        self._may_change(person_id, pair)
        if pair.key not in self.verdicts():
            raise NotFound(f"no verdict on {pair.key[0]} / {pair.key[1]} to withdraw")
        return self._write(pair, None, {"who": person_id, "role": DATA_MANAGER, "action": "undo"})


def word_marks(left: str, right: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Each side as runs of words (text, differs), the words the other side lacks marked.

    >>> word_marks("Efficacy of tacrolimus", "efficacy of ciclosporin")
    ([('Efficacy of', False), ('tacrolimus', True)], [('efficacy of', False), ('ciclosporin', True)])
    """
    a, b = left.split(), right.split()
    matcher = difflib.SequenceMatcher(a=[_word(w) for w in a], b=[_word(w) for w in b])
    sides: tuple[list[tuple[str, bool]], list[tuple[str, bool]]] = ([], [])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for side, words, start, end in ((sides[0], a, i1, i2), (sides[1], b, j1, j2)):
            if start < end:
                side.append((" ".join(words[start:end]), tag != "equal"))
    return sides


def side_by_side(a: Mapping[str, str], b: Mapping[str, str]) -> list[dict[str, Any]]:
    """The compared fields of two records, each marked when the two differ (and within it,
    the words one side has and the other lacks)."""
    rows = []
    for name in COMPARED_FIELDS:
        left, right = (a.get(name) or "").strip(), (b.get(name) or "").strip()
        differs = comparable(left) != comparable(right)
        a_words, b_words = (
            word_marks(left, right) if differs else ([(left, False)], [(right, False)])
        )
        rows.append(
            {
                "field": name,
                "a": left,
                "b": right,
                "differs": differs,
                "a_words": [w for w in a_words if w[0]],
                "b_words": [w for w in b_words if w[0]],
            }
        )
    return rows
