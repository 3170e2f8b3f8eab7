"""Extraction sheets on the desk: each extractor's sheet of a study, and the agreed sheet.

The workflow reads ``<extraction.dir>/<study_id>/<extractor>.tsv`` and ``adjudicated.tsv``
and never writes them; the desk writes exactly those files, whole (a form is saved whole),
through :class:`~.humanfiles.SheetStore` (lock, re-read, validate, journal, atomic replace),
with the lock and the journal in the extraction folder.

Validation is the workflow's own, on the would-be sheet held in memory:
:func:`livingreview.extraction.sheets.sheet_problems` (every rule of the README, and the study
is new and included at full text) returns each problem as data, with the real sheet's path,
line and field, which the form shows beside the cell.

Who may write what (checked here, on the server, for every change):

* an extractor writes only their own sheet (path from the signed-in id and a study id the
  last run listed in ``results/extraction/status.tsv``), while that run had the study
  waiting for extraction or with discrepancies (an accepted study is settled);
* an extractor sees another extractor's sheet of a study only once both have saved theirs
  (blinded extraction), and then only where the two differ;
* an adjudicator writes ``adjudicated.tsv`` of a study that is not settled and has at least
  two extractors' sheets, and may withdraw it until a run has accepted the study.

A form carries the version (a digest) of the sheet it was filled from: a sheet changed since
(by hand, in another tab, by another desk process) is never overwritten.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem, ProblemCollector, ReviewError
from ..extraction.merge import (
    AWAITING_EXTRACTION,
    DISCREPANCIES,
    compare_sheets,
)
from ..extraction.sheets import Sheet, collect_sheet, sheet_problems
from ..extraction.tables import DiscrepancyRow
from ..io import Table, parse_tsv
from ..screening.publications import load_baseline_study_ids
from ..text import ADJUDICATED_SHEET
from .errors import NotAllowed, NotFound, SheetProblems, StaleChange
from .extractionform import FormRow, as_form_row, filled, sheet_columns
from .humanfiles import RowChange, SheetStore, TsvDocument, clean_cell
from .lastrun import LastRun
from .people import ADJUDICATOR, EXTRACTOR
from .project import Clock, Project

log = logging.getLogger(__name__)

#: Statuses of ``status.tsv`` under which a study's sheets may still change on the desk.
OPEN_STATUSES = (AWAITING_EXTRACTION, DISCREPANCIES)
#: The version of a sheet that does not exist yet.
ABSENT = "absent"
#: A change to a sheet saved whole: its rows (non-empty cells) before and after.
SheetEdit = RowChange[list[dict[str, str]]]


def version_of(data: bytes | None) -> str:
    """What identifies the content a form was filled from (``absent``: no sheet yet)."""
    return ABSENT if data is None else hashlib.sha256(data).hexdigest()[:32]


@dataclass
class SheetOnDisk:
    """A sheet as it is on disk now: its rows as typed, version, and the workflow's verdict."""

    path: Path
    name: str
    rows: list[FormRow] = field(default_factory=list)
    version: str = ABSENT
    problems: list[Problem] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.version != ABSENT


@dataclass(frozen=True)
class OtherSheet:
    """Another extractor's sheet of the study, as an extractor may see it."""

    name: str
    saved: bool
    #: Cells where it differs from the viewer's sheet; None while blinded (one of the two
    #: sheets is not saved yet) or when either sheet is not valid.
    differences: list[DiscrepancyRow] | None


class ExtractionDesk:
    """Reads and writes the extraction sheets of new studies for the desk's pages."""

    def __init__(self, project: Project, last_run: LastRun, store: SheetStore, clock: Clock):
        self.project = project
        self.last_run = last_run
        self.store = store
        self.clock = clock

    # -- ids and paths: built from validated ids only -----------------------------------------

    def study(self, study_id: str) -> str:
        """``study_id`` if the last run listed it as a new study, else NotFound."""
        study_id = study_id.strip()
        if study_id not in self.last_run.extraction_status():
            raise NotFound(
                f"no new study {study_id!r} in the last run's results/extraction/status.tsv"
            )
        return study_id

    def status(self, study: str) -> dict[str, str]:
        return self.last_run.extraction_status()[study]

    def is_open(self, study: str) -> bool:
        """Did the last run leave the study's extraction open (not accepted)?"""
        return self.status(study).get("status") in OPEN_STATUSES

    def folder(self, study: str) -> Path:
        return self.project.extraction_dir / self.study(study)

    def extractor_sheet(self, study: str, person_id: str) -> Path:
        person = self.project.people.get(person_id)
        if person is None or not person.has(EXTRACTOR):
            raise NotAllowed(f"{person_id!r} is not an extractor in the config")
        return self.folder(study) / f"{person.id}.tsv"

    def adjudicated_sheet(self, study: str) -> Path:
        return self.folder(study) / f"{ADJUDICATED_SHEET}.tsv"

    def sheet_names(self, study: str) -> list[str]:
        """Every extractor's sheet of the study now (whoever wrote it; not the agreed one)."""
        folder = self.folder(study)
        if not folder.is_dir():
            return []
        return sorted(
            path.stem
            for path in folder.glob("*.tsv")
            if path.is_file() and path.stem != ADJUDICATED_SHEET
        )

    def reports(self, study: str) -> list[str]:
        """Publication ids of the study's reports included at full text."""
        return [
            row["publication_id"]
            for row in self.last_run.included_reports()
            if row.get("study_id", "").strip() == study and row.get("publication_id")
        ]

    def today(self) -> str:
        return self.clock().date().isoformat()

    # -- reading --------------------------------------------------------------------------------

    def read(self, sheet: Path) -> SheetOnDisk:
        """The sheet on disk with its rows as typed and the workflow's problems with it."""
        found = SheetOnDisk(sheet, sheet.stem)
        try:
            data = sheet.read_bytes()
        except FileNotFoundError:
            return found
        found.version = version_of(data)
        try:
            table = parse_tsv(data, self.store.relative(sheet))
        except ReviewError as error:
            found.problems = [Problem.of(error)]
            return found
        found.rows = [as_form_row(row) for row in table.rows]
        found.problems = self.check_table(sheet, table)
        return found

    def parsed(self, sheet: Path) -> Sheet | None:
        """The sheet as the workflow reads it (valid rows only), or None if absent/unreadable."""
        if not sheet.is_file():
            return None
        return collect_sheet(sheet, ProblemCollector(log))

    # -- validation: the workflow's own code -------------------------------------------------

    def check(self, sheet: Path, data: bytes) -> list[Problem]:
        """Every problem the workflow finds in ``data`` as the sheet ``sheet`` (none: valid)."""
        try:
            table = parse_tsv(data, self.store.relative(sheet))
        except ReviewError as error:
            return [Problem.of(error)]
        return self.check_table(sheet, table)

    def check_table(self, sheet: Path, table: Table) -> list[Problem]:
        """The workflow's problems with a sheet held in memory: its own rules and its study's
        (new, and included at full text); each names the sheet's file, line and field."""
        baseline = load_baseline_study_ids(self.project.baseline_studies)
        included = {r.get("study_id", "").strip() for r in self.last_run.included_reports()}
        return sheet_problems(self.store.relative(sheet), table, baseline, included - {""})

    def check_rows(self, sheet: Path, rows: list[FormRow]) -> list[Problem]:
        """The workflow's problems with the sheet these form rows would make (nothing saved)."""
        columns = sheet_columns(rows)
        cells = [{c: clean_cell(row[c]) for c in columns} for row in rows]
        table = Table(
            list(columns), [{**row, "__line__": str(line)} for line, row in enumerate(cells, 2)]
        )
        return self.check_table(sheet, table)

    # -- writing ------------------------------------------------------------------------------

    def _save(
        self, sheet: Path, study: str, rows: list[FormRow], version: str, journal: dict[str, str]
    ) -> SheetEdit:
        """Write ``rows`` as the whole sheet, if the sheet on disk is still ``version``."""
        columns = sheet_columns(rows)
        body = [{c: row[c] for c in columns} for row in rows]
        after = [filled(row) for row in body]

        def editor(document: TsvDocument) -> SheetEdit:
            on_disk = None if document.source_key is None else document.text().encode("utf-8")
            if version_of(on_disk) != version:
                raise StaleChange(
                    f"{self.store.relative(sheet)} has changed since this form was shown (edited "
                    "by hand, in another tab or by someone else); nothing was saved. Reload the "
                    "page to see the sheet as it is now"
                )
            before = None
            if on_disk is not None:
                before = [
                    filled({k: v.strip() for k, v in cells.items()}) for _, cells in document.rows()
                ]
            if before == after:
                return SheetEdit(study, before, before)
            document.rewrite(columns, body)
            return SheetEdit(study, before, after)

        def validate(path: Path, data: bytes, document: TsvDocument) -> None:
            problems = self.check(path, data)
            if problems:
                raise SheetProblems(problems)

        return self.store.edit(sheet, columns, editor, validate, {**journal, "study": study})

    def save(self, study: str, person_id: str, rows: list[FormRow], version: str) -> SheetEdit:
        """Save an extractor's own sheet of a study still open for extraction.

        Raises:
            NotAllowed: not an extractor, or the last run accepted the study.
            SheetProblems: the workflow would refuse the sheet (every problem, its messages).
            StaleChange: the sheet changed since the form was shown.
        """
        study = self.study(study)
        sheet = self.extractor_sheet(study, person_id)
        if not self.is_open(study):
            raise NotAllowed(
                f"the extraction of {study} was accepted by the last run and can no longer be "
                "changed here; ask the review lead if it must be corrected"
            )
        action = "change" if sheet.is_file() else "extract"
        journal = {"who": person_id, "role": EXTRACTOR, "action": action}
        return self._save(sheet, study, rows, version, journal)

    # -- blinding -----------------------------------------------------------------------------

    def others(self, study: str, person_id: str) -> list[OtherSheet]:
        """The other extractors' sheets of the study, each visible only where both saved.

        "Other extractors" are the config's extractors and anyone else whose sheet sits in the
        study's folder (a sheet typed by hand).  Nothing of another sheet is read unless the
        viewer's own sheet exists too.
        """
        mine_path = self.extractor_sheet(study, person_id)
        names = [p for p in self.project.people.values() if p.has(EXTRACTOR) and p.id != person_id]
        others = dict.fromkeys([p.id for p in names] + self.sheet_names(study))
        others.pop(person_id, None)
        mine = self.parsed(mine_path) if mine_path.is_file() else None
        result = []
        for name in others:
            path = self.folder(study) / f"{name}.tsv"
            if not path.is_file():
                result.append(OtherSheet(name, False, None))
                continue
            theirs = self.parsed(path) if mine is not None else None
            differences = compare_sheets(mine, theirs) if mine and theirs else None
            result.append(OtherSheet(name, True, differences))
        return result

    # -- adjudication -------------------------------------------------------------------------

    def adjudicable(self, study: str) -> bool:
        """Open at the last run and with at least two extractors' sheets to compare."""
        return self.is_open(study) and len(self.sheet_names(study)) >= 2

    def adjudicate(
        self, study: str, person_id: str, rows: list[FormRow], version: str
    ) -> SheetEdit:
        """Save the agreed sheet (``adjudicated.tsv``) of a study whose extractors differ.

        Raises:
            NotAllowed: not an adjudicator.  NotFound: nothing to adjudicate at this study.
            SheetProblems / StaleChange: as :meth:`save`.
        """
        study = self.study(study)
        self._adjudicator(person_id)
        if not self.adjudicable(study):
            raise NotFound(
                f"{study} has nothing to adjudicate: it needs two extractors' sheets and must "
                "not be accepted by the last run"
            )
        journal = {"who": person_id, "role": ADJUDICATOR, "action": "adjudicate"}
        return self._save(self.adjudicated_sheet(study), study, rows, version, journal)

    def withdraw(self, study: str, person_id: str, version: str) -> SheetEdit:
        """Remove a pending ``adjudicated.tsv`` (journalled as ``undo``) before a run uses it."""
        study = self.study(study)
        self._adjudicator(person_id)
        if not self.is_open(study):
            raise NotAllowed(f"the extraction of {study} was accepted by the last run")
        sheet = self.adjudicated_sheet(study)

        def check(document: TsvDocument) -> SheetEdit:
            if version_of(document.text().encode("utf-8")) != version:
                raise StaleChange(
                    f"{self.store.relative(sheet)} has changed since the page was shown; "
                    "nothing was removed. Reload the page"
                )
            rows = [filled({k: v.strip() for k, v in c.items()}) for _, c in document.rows()]
            return SheetEdit(study, rows, None)

        if not sheet.is_file():
            raise NotFound(f"{study} has no adjudicated sheet to withdraw")
        journal = {"who": person_id, "role": ADJUDICATOR, "action": "undo", "study": study}
        return self.store.delete(sheet, check, journal)

    def _adjudicator(self, person_id: str) -> None:
        person = self.project.people.get(person_id)
        if person is None or not person.has(ADJUDICATOR):
            raise NotAllowed(f"{person_id!r} is not an adjudicator in the config")
