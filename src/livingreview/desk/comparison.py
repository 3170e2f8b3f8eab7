"""The adjudicator's cell-by-cell comparison of a study's extraction sheets, and the agreed
sheet composed from the choices made on it.

Which cells differ is decided by the workflow's own comparison
(:func:`livingreview.extraction.compare_sheets`: counts as numbers, free text ignoring case and
spacing, ``notes`` not compared), pair by pair over every extractor's sheet, so the page
highlights exactly the cells ``results/extraction/discrepancies.tsv`` would list.

On the page each row of the comparison is one arm or subgroup (the sheets' key), each cell
shows every sheet's value; the agreed value is typed in ``r<i>.<column>`` (prefilled where the
sheets agree, or from a pending ``adjudicated.tsv``), a differing cell offers
``pick.r<i>.<column>`` = the index of the sheet whose value to take, or ``typed``; a row only
some sheets have offers ``keep.r<i>`` = ``yes`` / ``no``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..extraction.merge import compare_sheets
from ..extraction.sheets import SHEET_KEY_COLUMNS, Sheet
from .extractionform import FIELDS, FormRow, blank_row, row_label
from .humanfiles import MAX_CELL_TEXT, clean_cell

SheetKey = tuple[str, str, str, str]
#: Columns compared cell by cell (the key columns identify the row), in the form's order
#: (n and the outcomes first, then the groups the README describes together).
VALUE_COLUMNS: tuple[str, ...] = tuple(c for c in FIELDS if c not in SHEET_KEY_COLUMNS)


@dataclass(frozen=True)
class ComparedCell:
    """One column of one row across the sheets."""

    column: str
    #: Each sheet's value ('' when empty), None where the sheet lacks the row.
    values: tuple[str | None, ...]
    differs: bool
    #: What the agreed-value input starts with.
    value: str

    @property
    def filled(self) -> bool:
        return self.value != "" or any(v for v in self.values)


@dataclass(frozen=True)
class ComparedRow:
    """One arm or subgroup across the sheets."""

    key: SheetKey
    present: tuple[bool, ...]
    cells: tuple[ComparedCell, ...]
    #: Kept in the agreed sheet when the page opens (every sheet has it, or the pending
    #: agreed sheet does).
    keep: bool

    @property
    def presence_differs(self) -> bool:
        return len(set(self.present)) > 1

    @property
    def label(self) -> str:
        return row_label(dict(zip(SHEET_KEY_COLUMNS, self.key)))

    @property
    def differing(self) -> int:
        return sum(1 for cell in self.cells if cell.differs) + int(self.presence_differs)


def _text(value: int | str | None) -> str:
    return "" if value is None else str(value)


def differing_cells(sheets: Sequence[Sheet]) -> set[tuple[SheetKey, str]]:
    """(row key, column) of every cell any two sheets disagree on, as the workflow compares."""
    cells: set[tuple[SheetKey, str]] = set()
    for i, a in enumerate(sheets):
        for b in sheets[i + 1 :]:
            for d in compare_sheets(a, b):
                cells.add(((d["record_type"], d["cni"], d["grouping"], d["group"]), d["field"]))
    return cells


def compare(sheets: Sequence[Sheet], agreed: Sheet | None = None) -> list[ComparedRow]:
    """The comparison of ``sheets`` (every extractor's), prefilled from ``agreed`` if any."""
    differing = differing_cells(sheets)
    keyed = [sheet.keyed() for sheet in sheets]
    agreed_rows = agreed.keyed() if agreed is not None else {}
    keys = list(dict.fromkeys([k for rows in keyed for k in rows] + list(agreed_rows)))
    compared = []
    for key in keys:
        rows = [rows.get(key) for rows in keyed]
        settled = agreed_rows.get(key)
        cells = []
        for column in VALUE_COLUMNS:
            values = tuple(None if r is None else _text(r.cell(column)) for r in rows)
            differs = (key, column) in differing
            present = [v for v in values if v is not None]
            if settled is not None:
                value = _text(settled.cell(column))
            elif not differs and present:
                value = present[0]
            else:
                value = ""
            cells.append(ComparedCell(column, values, differs, value))
        present_in = tuple(r is not None for r in rows)
        keep = settled is not None if agreed is not None else all(present_in)
        compared.append(ComparedRow(key, present_in, tuple(cells), keep))
    return compared


@dataclass
class Composed:
    """The agreed sheet made from the choices posted."""

    rows: list[FormRow]
    #: For each row of ``rows``, the index of the compared row it came from (problems on a
    #: sheet line are shown on that compared row).
    kept: list[int]
    #: One line per choice not made yet.
    unchosen: list[str]

    def compared_row(self, line: int | None) -> int | None:
        """The compared row a sheet line comes from (None: the header or the whole sheet)."""
        if line is None or not 2 <= line < len(self.kept) + 2:
            return None
        return self.kept[line - 2]


def compose(
    compared: Sequence[ComparedRow], form: Mapping[str, object], names: Sequence[str]
) -> Composed:
    """The agreed sheet's rows from the choices posted, and what is still to choose.

    A differing cell takes the value of the sheet picked (``pick.r<i>.<column>`` = its index)
    or the value typed (``typed``); a cell that does not differ takes the typed value; a row
    only some sheets have is kept or dropped as ``keep.r<i>`` says.  ``names`` are the
    sheets' names (for the lines saying what is left to choose).
    """
    result = Composed([], [], [])
    rows, unchosen = result.rows, result.unchosen

    def posted(name: str) -> str:
        value = form.get(name, "")
        return clean_cell(value)[:MAX_CELL_TEXT] if isinstance(value, str) else ""

    for i, row in enumerate(compared):
        keep = posted(f"keep.r{i}")
        if row.presence_differs and keep not in ("yes", "no"):
            having = ", ".join(n for n, p in zip(names, row.present) if p)
            unchosen.append(f"{row.label}: keep or drop the row (only {having} has it)")
            continue
        if keep == "no":
            continue
        record_type, cni, grouping, group = row.key
        out = blank_row(record_type, cni, grouping, group)
        for cell in row.cells:
            typed = posted(f"r{i}.{cell.column}")
            pick = posted(f"pick.r{i}.{cell.column}")
            if not cell.differs:
                out[cell.column] = typed
            elif pick.isdigit() and int(pick) < len(cell.values):
                out[cell.column] = cell.values[int(pick)] or ""
            elif pick == "typed":
                out[cell.column] = typed
            else:
                unchosen.append(f"{row.label}, {cell.column}: take one sheet's value or type one")
        rows.append(out)
        result.kept.append(i)
    return result
