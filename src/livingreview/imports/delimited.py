"""CSV and TSV exports, read through a column mapping given in the config.

``imports[].columns`` maps record fields (:data:`CSV_FIELDS`) to the export's column
headers (``{title: "Title", doi: "DOI", ...}``). Parsing goes in three checked steps:
the mapping (:func:`check_column_mapping`), the header (:func:`mapped_columns`) and each row
(:func:`delimited_row`); a short or long row, a missing title, a DOI, year, PMID or accession
cell that does not hold one raises :class:`~livingreview.errors.InputFileError` naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputFileError
from ..records import normalise_doi, normalise_pmid
from .encoding import read_export_text
from .fields import extract_year, normalise_author, normalise_date, normalise_language

#: Fields a CSV/TSV column mapping may fill (``accession`` feeds ``record_id``).
CSV_FIELDS: tuple[str, ...] = (
    "accession",
    "pmid",
    "doi",
    "title",
    "abstract",
    "authors",
    "journal",
    "journal_abbrev",
    "year",
    "volume",
    "issue",
    "pages",
    "publication_types",
    "language",
    "date_published",
)
_ACCESSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def parse_delimited(
    path: str | Path,
    columns: Mapping[str, str],
    delimiter: str,
    encoding: str = "utf-8",
    author_separator: str = ";",
) -> list[dict[str, Any]]:
    """Parse a CSV/TSV export whose columns are named by ``columns`` (record field -> header).

    Raises:
        ConfigError: the mapping names an unknown field or lacks ``title``.
        InputFileError: a mapped column is missing from the header, a row has more or fewer
            cells than the header, a row has no title, or a cell does not hold its kind of value.
    """
    path = Path(path)
    check_column_mapping(columns)
    text = read_export_text(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise InputFileError(path, "is empty; expected a header line", line=1) from None
    index = mapped_columns(path, header, columns)
    split = re.compile(re.escape(author_separator)) if author_separator else None
    rows: list[dict[str, Any]] = []
    previous_end = reader.line_num
    for cells in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputFileError(
                path,
                f"row has {len(cells)} cells but the header has {len(header)} columns",
                line=start,
                allowed="one cell per header column (quote cells holding the delimiter)",
            )
        rows.append(delimited_row(path, start, cells, index, columns, split))
    if not rows:
        raise InputFileError(path, "holds a header but no record", line=2)
    return rows


def check_column_mapping(columns: Mapping[str, str]) -> None:
    """The mapping fills known record fields and includes ``title``.

    >>> check_column_mapping({"title": "Title", "doi": "DOI"})
    >>> check_column_mapping({"name": "Title"})
    Traceback (most recent call last):
    ...
    livingreview.errors.ConfigError: config: key 'imports[].columns': unknown record field(s) name; ...
    """
    unknown = sorted(set(columns) - set(CSV_FIELDS))
    if unknown:
        raise ConfigError(
            "imports[].columns",
            f"unknown record field(s) {', '.join(unknown)}",
            ", ".join(CSV_FIELDS),
        )
    if "title" not in columns:
        raise ConfigError(
            "imports[].columns", "no column mapped to 'title'", "a mapping that includes title"
        )


def mapped_columns(path: Path, header: Sequence[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Record field -> position in the header, or an error listing every mapped column the
    header lacks.

    >>> mapped_columns(Path("x.csv"), ["Title", "DOI"], {"title": "Title", "doi": "DOI"})
    {'title': 0, 'doi': 1}
    """
    missing = [(field, column) for field, column in columns.items() if column not in header]
    if missing:
        field, column = missing[0]
        raise InputFileError(
            path,
            "header lacks the column(s) mapped in config: "
            + ", ".join(f"{f} <- {c!r}" for f, c in missing),
            line=1,
            field=field,
            value=column,
            allowed="the header's columns: "
            + ", ".join(repr(h) for h in header)
            + " (fix imports[].columns or re-export with these columns)",
        )
    return {field: list(header).index(column) for field, column in columns.items()}


def delimited_row(
    path: Path,
    line: int,
    cells: Sequence[str],
    index: Mapping[str, int],
    columns: Mapping[str, str],
    split: re.Pattern[str] | None,
) -> dict[str, Any]:
    """One raw record from a row's cells (whitespace runs folded to one space).

    >>> delimited_row(Path("x.csv"), 2, ["A  title", "Smith, J; Jones K", "10.1000/x"],
    ...               {"title": 0, "authors": 1, "doi": 2}, {"title": "Title"}, re.compile(";"))["authors"]
    ['Smith J', 'Jones K']
    """

    def cell(field: str) -> str:
        if field not in index or index[field] >= len(cells):
            return ""
        return " ".join(cells[index[field]].split())

    def multi(field: str) -> list[str]:
        value = cell(field)
        if not value:
            return []
        parts = split.split(value) if split else [value]
        return [part.strip() for part in parts if part.strip()]

    title = cell("title")
    if not title:
        raise InputFileError(
            path, "row has no title", line=line, field="title", value=columns["title"]
        )
    raw_doi, raw_year = cell("doi"), cell("year")
    _check_doi_and_year(path, line, raw_doi, raw_year)
    pmid = _pmid(path, line, cell("pmid"))
    accession = _accession(path, line, cell("accession"))
    return {
        "__line__": line,
        "accession": accession,
        "pmid": pmid,
        "doi": normalise_doi(raw_doi),
        "title": title,
        "abstract": cell("abstract"),
        "authors": [a for a in (normalise_author(n) for n in multi("authors")) if a],
        "journal": cell("journal"),
        "journal_abbrev": cell("journal_abbrev"),
        "year": extract_year(raw_year),
        "volume": cell("volume"),
        "issue": cell("issue"),
        "pages": cell("pages"),
        "publication_types": multi("publication_types"),
        "language": [normalise_language(v) for v in multi("language")],
        "mesh_terms": [],
        "date_published": normalise_date(cell("date_published")),
    }


def _check_doi_and_year(path: Path, line: int, raw_doi: str, raw_year: str) -> None:
    if raw_doi and not normalise_doi(raw_doi):
        raise InputFileError(
            path,
            "DOI cell does not hold a DOI",
            line=line,
            field="doi",
            value=raw_doi,
            allowed="10.NNNN/suffix, with or without a doi.org prefix",
        )
    if raw_year and not extract_year(raw_year):
        raise InputFileError(
            path,
            "year cell holds no four-digit year",
            line=line,
            field="year",
            value=raw_year,
            allowed="a year such as 2024 (a full date is fine)",
        )


def _pmid(path: Path, line: int, raw_pmid: str) -> str:
    pmid = normalise_pmid(raw_pmid)
    if raw_pmid and not pmid:
        raise InputFileError(
            path,
            "PMID cell is not a PubMed ID",
            line=line,
            field="pmid",
            value=raw_pmid,
            allowed="digits",
        )
    return pmid


def _accession(path: Path, line: int, raw: str) -> str:
    accession = raw.replace(" ", "")
    if accession and not _ACCESSION.match(accession):
        raise InputFileError(
            path,
            "accession number has characters not allowed in an id",
            line=line,
            field="accession",
            value=accession,
            allowed="letters, digits and . _ : / -",
        )
    return accession
