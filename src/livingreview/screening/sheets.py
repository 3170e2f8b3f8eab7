"""Reading the people's decision sheets: every cell checked, every problem named.

A sheet is ``<decisions_dir>/<stage>/<reviewer>.tsv`` (columns :data:`DECISION_COLUMNS`, plus
``study_id`` at full text) or ``<decisions_dir>/<stage>/adjudication.tsv`` (plus
``adjudicator``). The workflow only reads them. :func:`read_sheet` checks one sheet row by row
(record id known and decided once, decision, reason and study id allowed for the stage, date,
adjudicator) and turns its rows into :class:`Decision` objects; the reviewers' desk runs the
same function on a would-be sheet before saving it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError, ProblemCollector, ValidationError
from ..io import read_tsv
from ..text import ISO_DATE
from .publications import PublicationIndex
from .settings import ScreeningSettings
from .vocabulary import (
    ADJUDICATION_FILE,
    DECISION_COLUMNS,
    DECISIONS,
    FULL_TEXT,
    PERSON_ID,
    RECORD_ID,
    STAGES,
    STUDY_ID,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """One validated row of a reviewer's (or the adjudication) sheet."""

    publication_id: str
    record_id: str
    stage: str
    reviewer: str
    decision: str
    reason: str
    note: str
    decided_on: str
    study_id: str
    path: str
    line: int
    adjudicated: bool = False

    def describe(self) -> str:
        """``reviewer=decision(reason)[study]`` as shown in conflicts.tsv."""
        text = f"{self.reviewer}={self.decision}"
        if self.reason:
            text += f"({self.reason})"
        if self.study_id:
            text += f"[{self.study_id}]"
        return text


def sheet_columns(stage: str, adjudication: bool = False) -> tuple[str, ...]:
    """Exact columns of a sheet of ``stage`` (reviewer or adjudication)."""
    columns = DECISION_COLUMNS
    if stage == FULL_TEXT:
        columns += ("study_id",)
    if adjudication:
        columns += ("adjudicator",)
    return columns


def classify_sheet(path: str | Path, settings: ScreeningSettings) -> tuple[str, str | None]:
    """``(stage, reviewer)`` of a sheet path; reviewer ``None`` for the adjudication sheet."""
    p = Path(path)
    stage = p.parent.name
    if stage not in STAGES:
        raise ValidationError(
            path, "sheet is not in a stage folder", value=stage, allowed=", ".join(STAGES)
        )
    if p.name == ADJUDICATION_FILE:
        return stage, None
    reviewer = p.stem
    known = (*settings.reviewers, settings.baseline_reviewer)
    if reviewer not in known:
        raise ValidationError(
            path,
            f"sheet of unknown reviewer {reviewer!r}: add the id to screening.reviewers in config.yaml "
            "or rename the file",
            value=reviewer,
            allowed=", ".join(known),
        )
    return stage, reviewer


def decided_on_problem(value: str, clock_date: dt.date | None = None) -> str | None:
    """Problem with a ``decided_on`` cell, or None.

    A date after the run date is no problem: every decision counts, whatever its date. A date
    after ``clock_date`` (today, where a clock is legitimately read: the check job when it
    runs, the reviewers' desk) cannot be a real decision's date: a typo.

    >>> decided_on_problem("2026-11-20") is None
    True
    >>> decided_on_problem("2026-02-30")
    'decided_on is not a calendar date'
    >>> decided_on_problem("2026-11-24", clock_date=dt.date(2026, 11, 23))
    "decided_on is after today's date 2026-11-23 (the clock when this check ran): type the day you decided"
    """
    if not ISO_DATE.match(value):
        return "decided_on is not an ISO date"
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return "decided_on is not a calendar date"
    if clock_date is not None and date > clock_date:
        return (
            f"decided_on is after today's date {clock_date.isoformat()} (the clock when this "
            "check ran): type the day you decided"
        )
    if date.year < 1990:
        return "decided_on is before 1990"
    return None


@dataclass(frozen=True)
class _Cells:
    """The cells of one sheet row, trimmed (decision and reason lower-cased)."""

    line: int
    record_id: str
    decision: str
    reason: str
    study_id: str
    decided_on: str
    raw: Mapping[str, str]

    @classmethod
    def of(cls, row: Mapping[str, str]) -> _Cells:
        return cls(
            line=int(row["__line__"]),
            record_id=row["record_id"].strip(),
            decision=row["decision"].strip().lower(),
            reason=row["reason"].strip().lower(),
            study_id=row.get("study_id", "").strip(),
            decided_on=row["decided_on"].strip(),
            raw=row,
        )

    @property
    def agreement(self) -> tuple[str, str, str]:
        """What two rows on one publication must share to be harmless repeats."""
        return (self.decision, self.reason, self.study_id)


@dataclass
class _SheetReader:
    """Checks the rows of one sheet in order, adding each problem to ``problems``."""

    path: str | Path
    stage: str
    reviewer: str | None  # None: the adjudication sheet
    settings: ScreeningSettings
    index: PublicationIndex
    problems: ProblemCollector
    #: publication_id -> (line, record_id, cells that must agree) of its first row
    seen: dict[str, tuple[int, str, tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def adjudication(self) -> bool:
        return self.reviewer is None

    @property
    def allowed_decisions(self) -> tuple[str, ...]:
        allowed = DECISIONS[self.stage]
        return tuple(d for d in allowed if d != "maybe") if self.adjudication else allowed

    def _add(
        self,
        cells: _Cells,
        problem: str,
        *,
        field: str,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        self.problems.add(
            self.path, problem, line=cells.line, field=field, value=value, allowed=allowed
        )

    def read(self, row: Mapping[str, str]) -> Decision | None:
        """The row as a decision, or None when it has a problem (recorded) or is redundant."""
        cells = _Cells.of(row)
        before = self.problems.count
        pid, redundant = self.publication_of(cells)
        if redundant:
            return None
        self.check_decision_and_reason(cells)
        if self.stage == FULL_TEXT:
            self.check_study_id(cells)
        self.check_decided_on(cells)
        decider = self.decider(cells)
        if self.problems.count != before or pid is None:
            return None
        return Decision(
            publication_id=pid,
            record_id=cells.record_id,
            stage=self.stage,
            reviewer=decider,
            decision=cells.decision,
            reason=cells.reason,
            note=row["note"].strip(),
            decided_on=cells.decided_on,
            study_id=cells.study_id,
            path=str(self.path),
            line=cells.line,
            adjudicated=self.adjudication,
        )

    def publication_of(self, cells: _Cells) -> tuple[str | None, bool]:
        """``(publication_id or None, redundant)`` of the row's record id.

        Redundant: a second record of a publication already decided alike in this sheet (two
        records deduplication merged later), tolerated with a warning.
        """
        record_id = cells.record_id
        if not record_id:
            self._add(
                cells,
                "record_id is empty",
                field="record_id",
                allowed="a record_id of results/records/unique.tsv",
            )
            return None, False
        if not RECORD_ID.match(record_id):
            self._add(
                cells,
                "record_id is not of the form <source>:<id>",
                field="record_id",
                value=record_id,
                allowed="e.g. pubmed:31658173 or embase:L2005412345",
            )
            return None, False
        pid = self.index.resolve(record_id)
        if pid is None:
            self._add(
                cells,
                "unknown record_id: no publication of results/records/unique.tsv has it",
                field="record_id",
                value=record_id,
                allowed="a publication_id or member record_id of results/records/unique.tsv (check for typos)",
            )
            return None, False
        if pid not in self.seen:
            self.seen[pid] = (cells.line, record_id, cells.agreement)
            return pid, False
        first_line, first_id, first_key = self.seen[pid]
        if first_id != record_id and first_key == cells.agreement:
            log.warning(
                "%s, line %d: %s and %s (line %d) are now one publication %s, decided alike; "
                "the row on line %d is redundant",
                self.path,
                cells.line,
                record_id,
                first_id,
                first_line,
                pid,
                cells.line,
            )
            return pid, True
        self._add(
            cells,
            f"second decision on publication {pid} in this sheet (first on line {first_line}, "
            f"{first_id}); keep one row",
            field="record_id",
            value=record_id,
        )
        return pid, False

    def check_decision_and_reason(self, cells: _Cells) -> None:
        """The decision is allowed here; a reason only on exclusions, from the config's list
        (and required on full-text exclusions)."""
        allowed, reasons = self.allowed_decisions, self.settings.exclusion_reasons
        decision, reason = cells.decision, cells.reason
        if decision not in allowed:
            self._add(
                cells,
                "decision not allowed",
                field="decision",
                value=cells.raw["decision"],
                allowed=", ".join(allowed),
            )
        if decision == "exclude":
            if reason and reason not in reasons:
                self._add(
                    cells,
                    "exclusion reason not listed in config",
                    field="reason",
                    value=cells.raw["reason"],
                    allowed=", ".join(reasons),
                )
            elif not reason and self.stage == FULL_TEXT:
                self._add(
                    cells,
                    "a full-text exclusion needs a reason",
                    field="reason",
                    value="",
                    allowed=", ".join(reasons),
                )
        elif reason and decision in allowed:
            self._add(
                cells,
                f"a reason is only for exclusions, not for '{decision}' (put remarks in 'note')",
                field="reason",
                value=cells.raw["reason"],
            )

    def check_study_id(self, cells: _Cells) -> None:
        """A full-text inclusion names its study; nothing else does."""
        study_id = cells.study_id
        if cells.decision != "include":
            if study_id:
                self._add(
                    cells,
                    f"study_id is only for inclusions, not for '{cells.decision}'",
                    field="study_id",
                    value=study_id,
                )
        elif not study_id:
            self._add(
                cells,
                "a full-text inclusion needs the study_id it reports on",
                field="study_id",
                value="",
                allowed="an id of resources/baseline/studies.tsv or a new id like smith-2024",
            )
        elif not STUDY_ID.match(study_id):
            self._add(
                cells,
                "study_id is malformed",
                field="study_id",
                value=study_id,
                allowed="lower-case words joined by '-', e.g. pape-2019",
            )

    def check_decided_on(self, cells: _Cells) -> None:
        clock = self.settings.clock_date
        problem = decided_on_problem(cells.decided_on, clock)
        if problem:
            self._add(
                cells,
                problem,
                field="decided_on",
                value=cells.decided_on,
                allowed="a date YYYY-MM-DD"
                + (f", not after {clock.isoformat()}" if clock is not None else ""),
            )

    def decider(self, cells: _Cells) -> str:
        """The sheet's reviewer, or the adjudication row's ``adjudicator`` (checked)."""
        if not self.adjudication:
            return str(self.reviewer)
        adjudicator = cells.raw["adjudicator"].strip()
        if not PERSON_ID.match(adjudicator):
            self._add(
                cells,
                "adjudicator is empty or malformed",
                field="adjudicator",
                value=adjudicator,
                allowed="a reviewer id (lower-case letters, digits, '-', '_')",
            )
        return adjudicator


def read_sheet(
    path: str | Path,
    settings: ScreeningSettings,
    index: PublicationIndex,
    problems: ProblemCollector | None = None,
) -> list[Decision]:
    """Validate one decision or adjudication sheet and return its rows as decisions.

    Problems are collected in ``problems`` (or raised at once when it is None). A sheet whose
    name, encoding or columns are wrong raises :class:`~livingreview.errors.InputFileError`
    at once, whatever ``problems`` is.
    """
    own = problems is None
    collector = problems if problems is not None else ProblemCollector(log)
    stage, reviewer = classify_sheet(path, settings)
    columns = sheet_columns(stage, adjudication=reviewer is None)
    rows = read_tsv(path, required=columns, allowed=columns)
    reader = _SheetReader(path, stage, reviewer, settings, index, collector)
    decisions = [d for d in map(reader.read, rows) if d is not None]
    if own:
        collector.raise_any()
    return decisions


@dataclass
class SheetDecisions:
    """Every valid row of every sheet, by stage and publication."""

    #: stage -> publication_id -> the reviewers' decisions (adjudications apart)
    by_stage: dict[str, dict[str, list[Decision]]] = field(
        default_factory=lambda: {stage: {} for stage in STAGES}
    )
    #: stage -> publication_id -> its adjudication
    adjudications: dict[str, dict[str, Decision]] = field(
        default_factory=lambda: {stage: {} for stage in STAGES}
    )

    def add(self, decision: Decision) -> None:
        if decision.adjudicated:
            self.adjudications[decision.stage][decision.publication_id] = decision
        else:
            self.by_stage[decision.stage].setdefault(decision.publication_id, []).append(decision)

    def of(self, stage: str, publication_id: str) -> tuple[list[Decision], Decision | None]:
        """The reviewers' decisions and the adjudication of one publication at ``stage``."""
        return (
            self.by_stage[stage].get(publication_id, []),
            self.adjudications[stage].get(publication_id),
        )


def read_sheets(
    paths: Iterable[str | Path],
    settings: ScreeningSettings,
    index: PublicationIndex,
    problems: ProblemCollector,
) -> SheetDecisions:
    """Read every sheet (sorted by path), collecting the problems of all of them.

    Whole-file problems (encoding, columns, a sheet of an unknown reviewer) are collected too,
    so one run names every broken sheet; the caller raises them.
    """
    decisions = SheetDecisions()
    for path in sorted(map(str, paths)):
        try:
            rows = read_sheet(path, settings, index, problems)
        except InputFileError as error:
            problems.add_error(error)
            continue
        for decision in rows:
            decisions.add(decision)
    return decisions
