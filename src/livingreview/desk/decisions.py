"""Screening decisions and adjudications: the rules of who may write which row, and how.

Every change goes through :class:`~.humanfiles.SheetStore` (lock, re-read, validate, journal,
atomic replace) and is validated by the workflow's own sheet reader,
:func:`livingreview.screening.read_sheet`, run on the whole would-be sheet: a sheet the
workflow would refuse is never written, and the refusal carries the workflow's message.

Who may write what (checked here, on the server, for every change):

* a reviewer writes only their own sheet (its path comes from the signed-in id, never from
  the request), and only publications of their own queue at the last run or already in their
  sheet, while the last run still had that stage open for the publication;
* under blinded dual screening a reviewer's decision is *locked* once the publication has
  every decision it needs at that stage (both reviewers'), or an adjudication: judged from the
  sheets as they are on disk, under the sheets' lock, never from the last run's results.  A
  locked decision is neither changed nor undone on the desk, whether the two agree or not
  (refusing only disagreements would tell the reviewer that the other disagreed); a
  disagreement is settled by an adjudicator (:class:`DecisionLocked` names them);
* an adjudicator writes ``<stage>/adjudication.tsv`` rows only for conflicts the last run
  listed as open;
* one row per publication per sheet: a change replaces the row, an undo restores the row
  the journal says it replaced (or removes it).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, Problem
from ..io import Table, parse_tsv
from ..screening.publications import PublicationIndex
from ..screening.sheets import sheet_columns, sheet_problems
from ..screening.vocabulary import (
    ADJUDICATION_FILE,
    DECISIONS,
    FULL_TEXT,
    STAGES,
    TITLE_ABSTRACT,
    split_multi,
)
from .errors import DeskError, NotAllowed, NotFound, SheetProblems, SheetRefused, StaleChange
from .humanfiles import RowChange, SheetStore, TsvDocument, clean_cell, stat_key, within_limit
from .lastrun import LastRun
from .people import ADJUDICATOR, REVIEWER
from .project import Clock, Project

log = logging.getLogger(__name__)

#: A change to one row of a screening sheet.
RowEdit = RowChange[dict[str, str]]

OPEN_STATUS = {TITLE_ABSTRACT: "awaiting_title_abstract", FULL_TEXT: "awaiting_full_text"}
UNDOABLE = ("decide", "change")
STAGE_WORDS = {TITLE_ABSTRACT: "title/abstract", FULL_TEXT: "full-text"}

#: Where a reviewer's own decision stands, as their pages show it (:meth:`ScreeningDesk.state`).
UNDECIDED = "undecided"
PENDING = "pending"  # saved since the last run; still in the reviewer's queue
OPEN = "open"  # seen by the last run, which left the stage open; no one else has decided
LOCKED = "locked"  # blinded dual screening: both have decided (or an adjudicator has)
SETTLED = "settled"  # the last run settled the stage without it being locked (baseline)
CHANGEABLE = (PENDING, OPEN)


class DecisionLocked(NotAllowed):
    """Both reviewers have decided (blinded dual screening): the reviewer's own decision can
    no longer be changed or undone on the desk; an adjudicator settles any disagreement.

    The message is the same whether the two decisions agree or not, and whether a run has
    seen them or not: it tells the reviewer nothing about the other's decision.
    """


@dataclass(frozen=True)
class Verdict:
    """What a person chose on a page (before it becomes a sheet row)."""

    decision: str
    reason: str = ""
    note: str = ""
    study_id: str = ""

    def cells(self, stage: str) -> dict[str, str]:
        """Reason only on exclusions and study only on full-text inclusions, as the sheets say."""
        cells = {
            "decision": self.decision.strip().lower(),
            "reason": self.reason.strip().lower() if self.decision == "exclude" else "",
            "note": within_limit(self.note.strip(), "note"),
        }
        if stage == FULL_TEXT:
            cells["study_id"] = self.study_id.strip() if self.decision == "include" else ""
        return cells


@dataclass(frozen=True)
class SheetRow:
    """A row of a sheet as it is on disk, keyed by the publication it resolves to."""

    publication_id: str
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


def publication_ids(index: PublicationIndex, pid: str) -> set[str]:
    """Every record id a sheet may use for publication ``pid`` (as the workflow resolves them)."""
    row = index.rows.get(pid, {})
    ids = {pid, (row.get("canonical_record_id") or "").strip()}
    ids.update(split_multi(row.get("member_record_ids") or ""))
    return {i for i in ids if i and index.resolve(i) == pid}


def check_stage(stage: str) -> str:
    """``stage`` if it is one of the workflow's stages (from a URL), else NotFound."""
    if stage not in STAGES:
        raise NotFound(f"no screening stage {stage!r}; stages: {', '.join(STAGES)}")
    return stage


class ScreeningDesk:
    """Reads and writes the screening sheets for the desk's pages."""

    def __init__(self, project: Project, last_run: LastRun, store: SheetStore, clock: Clock):
        self.project = project
        self.last_run = last_run
        self.store = store
        self.clock = clock
        self._sheet_cache: dict[Path, tuple[tuple[int, int, int], dict[str, SheetRow]]] = {}
        # sheet -> (file version, validation context, the workflow's message or "")
        self._health: dict[Path, tuple[tuple[int, int, int], tuple[Any, ...], str]] = {}
        self._cache_lock = threading.Lock()

    # -- paths: built from validated ids only ----------------------------------------------

    def reviewer_sheet(self, stage: str, reviewer: str) -> Path:
        person = self.project.people.get(reviewer)
        if person is None or not person.has(REVIEWER):
            raise NotAllowed(f"{reviewer!r} is not a reviewer in the config")
        return self.project.decisions_dir / check_stage(stage) / f"{person.id}.tsv"

    def adjudication_sheet(self, stage: str) -> Path:
        return self.project.decisions_dir / check_stage(stage) / ADJUDICATION_FILE

    def today(self) -> dt.date:
        return self.clock().astimezone(dt.UTC).date()

    # -- reading -----------------------------------------------------------------------------

    def publication(self, record_id: str) -> str:
        """The publication id a record id (from a URL or form) belongs to, else NotFound."""
        pid = self.last_run.index().resolve(record_id.strip())
        if pid is None:
            raise NotFound(f"no publication {record_id!r} in the last run's results")
        return pid

    def rows(self, sheet: Path) -> dict[str, SheetRow]:
        """publication_id -> the sheet's (first) row for it, as on disk now (cached by stat)."""
        try:
            info = sheet.stat()
        except FileNotFoundError:
            return {}
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._cache_lock:
            hit = self._sheet_cache.get(sheet)
        if hit and hit[0] == key:
            return hit[1]
        document = self.store.load(sheet, ())
        rows = self._rows_of(document)
        with self._cache_lock:
            self._sheet_cache[sheet] = (document.source_key or key, rows)
        return rows

    def _rows_of(self, document: TsvDocument) -> dict[str, SheetRow]:
        index = self.last_run.index()
        rows: dict[str, SheetRow] = {}
        for _, cells in document.rows():
            record_id = cells.get("record_id", "").strip()
            pid = index.resolve(record_id) or record_id
            rows.setdefault(pid, SheetRow(pid, {k: v.strip() for k, v in cells.items()}))
        return rows

    def sheet_problem(self, sheet: Path, stage: str) -> str:
        """The workflow's message if the sheet on disk would stop the next run, else ''."""
        try:
            info = sheet.stat()
        except FileNotFoundError:
            return ""
        context = self._context(self.today())
        key = stat_key(info)
        with self._cache_lock:
            hit = self._health.get(sheet)
        if hit and hit[:2] == (key, context):
            return hit[2]
        try:
            with open(sheet, "rb") as handle:
                data = handle.read()
                key = stat_key(os.fstat(handle.fileno()))
        except FileNotFoundError:
            return ""
        try:
            self._check_whole(sheet, stage, data, self.today())
            problem = ""
        except SheetRefused as error:
            problem = str(error)
        with self._cache_lock:
            self._health[sheet] = (key, context, problem)
        return problem

    def stage_open(self, stage: str, pid: str) -> bool:
        """Did the last run leave ``stage`` undecided for this publication?"""
        status = self.last_run.status().get(pid)
        return status is not None and status.get("status") == OPEN_STATUS[stage]

    def may_screen(self, stage: str, reviewer: str, pid: str) -> bool:
        """A reviewer's own queue, or their own earlier row while the stage is still open."""
        if pid in self.last_run.queue(stage, reviewer):
            return True
        return pid in self.rows(self.reviewer_sheet(stage, reviewer)) and self.stage_open(
            stage, pid
        )

    # -- blinding: the lock once both have decided ------------------------------------------

    def blinding_locks(self) -> bool:
        """Whether decisions lock once a publication has all it needs (blinded dual screening).

        With one decision needed a reviewer's own decision settles the stage at the next run;
        without blinding the queue shows the others' decisions anyway, and reviewers may
        change theirs after talking it over until a run settles the stage.
        """
        settings = self.project.settings
        return settings.blinded and settings.decisions_needed >= 2

    def _other_sheets(self, stage: str, reviewer: str) -> list[Path]:
        """Every other configured reviewer's sheet at ``stage`` (present or not)."""
        folder = self.project.decisions_dir / stage
        return [folder / f"{r}.tsv" for r in self.project.settings.reviewers if r != reviewer]

    def _peer_rows(self, sheet: Path) -> dict[str, SheetRow]:
        """Another person's sheet, read only to know which publications it decides.

        A sheet the desk cannot read (not UTF-8, unreadable) counts as deciding nothing here:
        its owner sees the problem on their own pages, the next run refuses it, and nothing
        about it may reach this reviewer's pages.
        """
        try:
            return self.rows(sheet)
        except (DeskError, OSError, ValueError) as error:
            log.warning("could not read %s to check decision locks: %s", sheet, error)
            return {}

    def locked(self, stage: str, reviewer: str) -> set[str]:
        """Publications whose decision by ``reviewer`` at ``stage`` is locked now.

        Read from the sheets on disk (every configured reviewer's and the adjudication
        sheet), not from the last run's results: a decision locks the moment the second one is
        saved, and a run changes nothing to it.  The same whether the decisions agree or not.
        """
        if not self.blinding_locks():
            return set()
        mine = self.rows(self.reviewer_sheet(stage, reviewer))
        if not mine:
            return set()
        counts = dict.fromkeys(mine, 1)
        for sheet in self._other_sheets(stage, reviewer):
            for pid in self._peer_rows(sheet):
                if pid in counts:
                    counts[pid] += 1
        needed = self.project.settings.decisions_needed
        adjudicated = self._peer_rows(self.adjudication_sheet(stage))
        return {pid for pid, n in counts.items() if n >= needed or pid in adjudicated}

    def is_locked(self, stage: str, reviewer: str, pid: str) -> bool:
        """Whether ``reviewer``'s decision on ``pid`` is locked now (:meth:`locked`, for one)."""
        if not self.blinding_locks():
            return False
        if pid not in self.rows(self.reviewer_sheet(stage, reviewer)):
            return False
        if pid in self._peer_rows(self.adjudication_sheet(stage)):
            return True
        decided = 1 + sum(pid in self._peer_rows(s) for s in self._other_sheets(stage, reviewer))
        return decided >= self.project.settings.decisions_needed

    def adjudicators(self) -> list[str]:
        """Ids of the people who settle conflicts (``screening.adjudicators``)."""
        return sorted(p.id for p in self.project.people.values() if p.has(ADJUDICATOR))

    def who_settles(self) -> str:
        """``the adjudicator (adjudicator-1)``: named in every refusal of a locked decision."""
        ids = self.adjudicators()
        if not ids:
            return (
                "the adjudicator (none is named in screening.adjudicators of the config yet: "
                "ask the review lead)"
            )
        role = "the adjudicator" if len(ids) == 1 else "an adjudicator"
        return f"{role} ({', '.join(ids)})"

    def locked_message(self, stage: str, pid: str, action: str) -> str:
        return (
            f"your {STAGE_WORDS[stage]} decision on {pid} cannot be {action} here: both "
            "reviewers have decided this publication, and under blinded screening a decision "
            "is locked once both have, whatever they decided. A disagreement is settled only "
            f"by adjudication: {self.who_settles()} settles it; ask them if your decision must "
            "be corrected. Nothing was saved"
        )

    def _refuse_if_locked(self, stage: str, reviewer: str, pid: str, action: str) -> None:
        if self.is_locked(stage, reviewer, pid):
            raise DecisionLocked(self.locked_message(stage, pid, action))

    def state(self, stage: str, reviewer: str, pid: str, locked: set[str] | None = None) -> str:
        """Where the reviewer's own decision on ``pid`` stands (UNDECIDED ... SETTLED).

        ``LOCKED`` comes before anything the last run says: after a run an agreement is
        settled and a disagreement is an open conflict, and the reviewer must not be able to
        tell them apart.
        """
        mine = self.rows(self.reviewer_sheet(stage, reviewer))
        if pid not in mine:
            return UNDECIDED
        if self.is_locked(stage, reviewer, pid) if locked is None else pid in locked:
            return LOCKED
        if pid in self.last_run.queue(stage, reviewer):
            return PENDING
        return OPEN if self.stage_open(stage, pid) else SETTLED

    def open_conflicts(self, stage: str) -> dict[str, dict[str, str]]:
        """publication_id -> conflicts.tsv row of every conflict open at the last run."""
        return {
            c["publication_id"]: c
            for c in self.last_run.conflicts()
            if c.get("stage") == stage and c.get("state") == "open"
        }

    # -- validation: the workflow's own reader ------------------------------------------------

    def _context(self, today: dt.date) -> tuple[Any, ...]:
        """What a sheet's validity depends on besides its own bytes."""
        return (self.last_run.index_key(), self.project.validation_settings(today).run_date)

    def _check(self, sheet: Path, table: Table, today: dt.date) -> None:
        """Validate a would-be sheet held in memory with the workflow's own reader
        (:func:`livingreview.screening.sheets.sheet_problems`); SheetProblems if it refuses."""
        problems = sheet_problems(
            self.store.relative(sheet),
            table,
            self.project.validation_settings(today),
            self.last_run.index(),
        )
        if problems:
            raise SheetProblems(problems)

    def _check_whole(self, sheet: Path, stage: str, data: bytes, today: dt.date) -> None:
        try:
            table = parse_tsv(data, self.store.relative(sheet))
        except InputFileError as error:
            raise SheetProblems([Problem.of(error)]) from None
        self._check(sheet, table, today)

    def _validator(self, stage: str, today: dt.date, state: dict[str, Any]):
        """Validate a would-be sheet with the workflow's reader.

        When the sheet on disk is a version already validated (in this context), only the
        changed row can be new: the reader checks that row on its own (with the sheet's header)
        and the desk's editor guarantees the reader's only cross-row rule, one row per
        publication.  Otherwise the whole would-be sheet is read.
        """
        context = self._context(today)

        def validate(sheet: Path, data: bytes, document: TsvDocument) -> None:
            with self._cache_lock:
                hit = self._health.get(sheet)
            trusted = (
                document.source_key is not None
                and hit is not None
                and hit == (document.source_key, context, "")
            )
            index = state.get("index")
            if not trusted:
                self._check_whole(sheet, stage, data, today)
            elif index is not None:
                relative = self.store.relative(sheet)
                try:
                    # the row alone first; its line in the sheet (a count over the whole
                    # sheet) only when there is a problem to name it in
                    self._check(sheet, document.row_table(relative, index, line=2), today)
                except (InputFileError, SheetProblems):
                    try:
                        table = document.row_table(relative, index)
                    except InputFileError as error:
                        raise SheetProblems([Problem.of(error)]) from None
                    self._check(sheet, table, today)
            state["context"] = context

        return validate

    # -- writing ------------------------------------------------------------------------------

    def _write(
        self,
        sheet: Path,
        stage: str,
        pid: str,
        new_cells: dict[str, str] | None,
        journal: dict[str, Any],
        expect: dict[str, str] | None | bool = True,
        guard: Callable[[], None] | None = None,
    ) -> RowEdit:
        """Set (or, with ``new_cells`` None, remove) the row of ``pid`` in ``sheet``.

        ``expect`` (a row or None) refuses the change when the row on disk is not that one.
        ``guard`` runs under the sheets' lock before anything is changed, and may refuse.
        """
        columns = sheet_columns(stage, adjudication=sheet.name == ADJUDICATION_FILE)
        index = self.last_run.index()
        state: dict[str, Any] = {}

        def editor(document: TsvDocument) -> RowEdit:
            if guard is not None:
                guard()
            state["document"] = document
            state["source_key"] = document.source_key
            # Every id the workflow resolves to this publication; a cheap substring test on
            # each raw line first, so a long sheet is scanned at C speed.
            ids = publication_ids(index, pid)
            matches = [
                (i, segment.cells)
                for i, segment in enumerate(document.segments)
                if segment.cells is not None
                and any(ident in segment.raw for ident in ids)
                and segment.cells.get("record_id", "").strip() in ids
            ]
            before = {c: v.strip() for c, v in matches[0][1].items()} if matches else None
            if expect is not True and before != expect:
                raise StaleChange(
                    f"the row for {pid} in {self.store.relative(sheet)} has changed since "
                    "(edited by hand or in another tab); nothing was saved. Reload the page"
                )
            for i, _ in reversed(matches[1:]):  # hand-typed duplicates of the same publication
                document.remove(i)
            if new_cells is None:
                if matches:
                    document.remove(matches[0][0])
                return RowChange(pid, before, None)
            cells = {"record_id": before["record_id"] if before else pid, **new_cells}
            after = {c: clean_cell(cells.get(c, "")) for c in document.columns}
            if before is not None and after == before:
                return RowChange(pid, before, before)
            if matches:
                document.replace(matches[0][0], after)
                state["index"] = matches[0][0]
            else:
                document.append(after)
                state["index"] = len(document.segments) - 1
            return RowChange(pid, before, after)

        journal["stage"] = stage  # the guard may still complete it (under the lock)
        change = self.store.edit(
            sheet, columns, editor, self._validator(stage, self.today(), state), journal
        )
        if change.written_key is not None:
            self._remember(sheet, state, change, change.written_key)
        return change

    def _remember(
        self,
        sheet: Path,
        state: dict[str, Any],
        change: RowEdit,
        written: tuple[int, int, int],
    ) -> None:
        """The sheet just written is valid and its rows are known: no need to read it again."""
        document: TsvDocument = state["document"]
        with self._cache_lock:
            old = self._sheet_cache.get(sheet)
        if old is not None and old[0] == state["source_key"]:
            rows = dict(old[1])
            if change.after is None:
                rows.pop(change.key, None)
            else:
                rows[change.key] = SheetRow(change.key, dict(change.after))
        else:
            rows = self._rows_of(document)
        with self._cache_lock:
            self._sheet_cache[sheet] = (written, rows)
            self._health[sheet] = (written, state["context"], "")

    def decide(self, stage: str, reviewer: str, record_id: str, verdict: Verdict) -> RowEdit:
        """Record (or change) a reviewer's decision on a publication of their queue.

        Checked under the sheets' lock, against the sheets as they are then.

        Raises:
            DecisionLocked: blinded dual screening and both reviewers have decided.
            NotFound / NotAllowed: not their publication, or the stage was settled by a run.
            SheetRefused: the workflow would refuse the sheet (its message).
        """
        stage = check_stage(stage)
        pid = self.publication(record_id)
        sheet = self.reviewer_sheet(stage, reviewer)
        cells = {**verdict.cells(stage), "decided_on": self.today().isoformat()}
        journal: dict[str, Any] = {"who": reviewer, "role": REVIEWER, "action": "decide"}

        def guard() -> None:
            self._refuse_if_locked(stage, reviewer, pid, "changed")
            mine = self.rows(sheet)
            if not self.may_screen(stage, reviewer, pid):
                if pid in mine:
                    raise NotAllowed(
                        f"your {stage} decision on {pid} was settled by the last run and can no "
                        "longer be changed here; ask the review lead if it must be corrected"
                    )
                raise NotFound(f"{pid} is not in your {stage} queue")
            if verdict.decision not in DECISIONS[stage]:
                raise SheetRefused(
                    f"decision {verdict.decision!r} is not allowed at {stage}; allowed: "
                    + ", ".join(DECISIONS[stage])
                )
            journal["action"] = "change" if pid in mine else "decide"

        return self._write(sheet, stage, pid, cells, journal, guard=guard)

    def last_undoable(self, stage: str, reviewer: str) -> dict[str, Any] | None:
        """The reviewer's most recent decide/change at ``stage`` not undone yet (journal)."""
        sheet = self.store.relative(self.reviewer_sheet(stage, reviewer))
        undone: set[str] = set()
        for entry in reversed(self.store.journal.entries()):
            if entry.get("sheet") != sheet or entry.get("who") != reviewer:
                continue
            if entry.get("action") == "undo":
                undone.add(str(entry.get("undoes", "")))
            elif entry.get("action") in UNDOABLE and entry.get("id") not in undone:
                return entry
        return None

    def undo(self, stage: str, reviewer: str) -> RowEdit:
        """Restore the row the reviewer's last decision replaced (journalled as ``undo``).

        Raises:
            NotFound: nothing to undo.  StaleChange: the row changed since (by hand).
            DecisionLocked: blinded dual screening and both reviewers have decided.
            NotAllowed: a run has settled the publication since.
        """
        stage = check_stage(stage)
        entry = self.last_undoable(stage, reviewer)
        if entry is None:
            raise NotFound(f"nothing to undo: you have made no {stage} decision on the desk")
        pid = str(entry["record"])

        def guard() -> None:
            self._refuse_if_locked(stage, reviewer, pid, "undone")
            if not self.may_screen(stage, reviewer, pid):
                raise NotAllowed(
                    f"your decision on {pid} was settled by the last run and can no longer be "
                    "undone"
                )

        before = entry.get("before")
        return self._write(
            self.reviewer_sheet(stage, reviewer),
            stage,
            pid,
            dict(before) if before else None,
            {"who": reviewer, "role": REVIEWER, "action": "undo", "undoes": entry["id"]},
            expect=entry.get("after"),
            guard=guard,
        )

    def adjudicate(self, stage: str, adjudicator: str, record_id: str, verdict: Verdict) -> RowEdit:
        """Settle an open conflict: write the adjudication.tsv row with the adjudicator's id."""
        stage = check_stage(stage)
        pid = self.publication(record_id)
        person = self.project.people.get(adjudicator)
        if person is None or not person.has(ADJUDICATOR):
            raise NotAllowed(f"{adjudicator!r} is not an adjudicator in the config")
        if pid not in self.open_conflicts(stage):
            raise NotFound(f"no open {stage} conflict on {pid} at the last run")
        allowed = tuple(d for d in DECISIONS[stage] if d != "maybe")
        if verdict.decision not in allowed:
            raise SheetRefused(
                f"an adjudication decides; {verdict.decision!r} is not allowed at {stage}; "
                f"allowed: {', '.join(allowed)}"
            )
        cells = {
            **verdict.cells(stage),
            "decided_on": self.today().isoformat(),
            "adjudicator": person.id,
        }
        return self._write(
            self.adjudication_sheet(stage),
            stage,
            pid,
            cells,
            {"who": person.id, "role": ADJUDICATOR, "action": "adjudicate"},
        )

    def withdraw_adjudication(self, stage: str, adjudicator: str, record_id: str) -> RowEdit:
        """Remove a pending adjudication row (journalled as ``undo``)."""
        stage = check_stage(stage)
        pid = self.publication(record_id)
        person = self.project.people.get(adjudicator)
        if person is None or not person.has(ADJUDICATOR):
            raise NotAllowed(f"{adjudicator!r} is not an adjudicator in the config")
        if pid not in self.open_conflicts(stage):
            raise NotAllowed(f"the {stage} conflict on {pid} was settled by the last run")
        sheet = self.adjudication_sheet(stage)
        if pid not in self.rows(sheet):
            raise NotFound(f"no adjudication of {pid} to withdraw")
        return self._write(
            sheet, stage, pid, None, {"who": person.id, "role": ADJUDICATOR, "action": "undo"}
        )
