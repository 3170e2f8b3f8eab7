"""Import other databases' export files into the normalised record table.

Consumes the export files declared under ``imports:`` in ``config.yaml`` (files kept in
``resources/imports/<database>/``):

* RIS in three dialects, parsed with :mod:`rispy`: ``embase`` (Embase via Ovid or
  embase.com: ``T1``/``A1``/``Y1``/``N2``/``JF``/``JA``, Embase PUI in ``U2``, MEDLINE PMID
  in ``C5``), ``wos`` (Web of Science "other reference software": ``TI``/``AU``/``PY``/``T2``,
  ``AN  - WOS:...``) and ``cochrane_central`` (Cochrane Library CENTRAL: ``CN-`` accession in
  ``AN`` or ``ID``, PubMed ID quoted as ``PUBMED 12345678``);
* PubMed MEDLINE/NBIB text, parsed with :func:`Bio.Medline.parse`;
* CSV/TSV exports with a column mapping given in the config (``columns: {title: "Title",...}``).

Produces, per declared export, rows with exactly :data:`livingreview.records.RECORD_COLUMNS`:
``record_id = <database>:<accession>`` (the database's own accession number when the export
has one, else ``<database>:h<16 hex>``, a hash of the normalised title, year and first
author; see :func:`stable_local_id`), ``source = <database>``, ``run = <search date>``.

Nothing is skipped silently: every line of a RIS or MEDLINE file is checked before the
parser sees it (rispy and Bio.Medline both accept malformed input without complaint), and a
bad byte, an unknown tag, a record without a title, a truncated record, a CSV without a
mapped column or an unknown format raises :class:`~livingreview.errors.InputFileError`
naming the file, line and field. Parsing happens before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rispy
from Bio import Medline

from .errors import ConfigError, InputFileError
from .io import sha256_file, write_text, write_tsv
from .records import (
    MULTI_VALUE_SEPARATOR,
    RECORD_COLUMNS,
    empty_record,
    normalise_doi,
    normalise_pmid,
)
from .text import ISO_DATE, fold_for_hash

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("ris", "medline", "csv", "tsv")
DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
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


# --------------------------------------------------------------------------------------
# Small normalisers
# --------------------------------------------------------------------------------------

_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,5}$")


def normalise_author(raw: str) -> str:
    """One author name as ``Last FM`` (the MEDLINE ``AU`` form) where it can be parsed.

    Names that are neither ``Last, Given`` nor ``Last I.N.`` (group authors) are kept.

    >>> normalise_author("Pape S.")
    'Pape S'
    >>> normalise_author("Tjwa E.T.T.L.")
    'Tjwa ETTL'
    >>> normalise_author("Asampong, Emmanuel")
    'Asampong E'
    >>> normalise_author("Gyeke, MDP")
    'Gyeke MDP'
    >>> normalise_author("Lafontaine, Jean-Luc")
    'Lafontaine JL'
    >>> normalise_author("Baven-Pronk, Martine A. M. C.")
    'Baven-Pronk MAMC'
    >>> normalise_author("van den Berg A.P.")
    'van den Berg AP'
    >>> normalise_author("Drenth JPH")
    'Drenth JPH'
    >>> normalise_author("Korean Association for the Study of the Liver")
    'Korean Association for the Study of the Liver'
    """
    name = " ".join(raw.replace("\u00a0", " ").split()).strip().rstrip(",;")
    if not name:
        return ""
    if "," in name:
        last, _, given = name.partition(",")
        last, given = last.strip(), given.strip()
        initials = "".join(
            part if re.fullmatch(r"[A-Z]{1,5}", part) else part[0].upper()
            for part in re.split(r"[\s.\-]+", given)
            if part and part[0].isalpha()
        )
        return f"{last} {initials}".strip()
    parts = name.split(" ")
    if len(parts) >= 2 and _INITIALS.match(parts[-1]):
        initials = re.sub(r"[^A-Z]", "", parts[-1])
        return f"{' '.join(parts[:-1])} {initials}"
    return name


def surname(author: str) -> str:
    """Surname part of a ``Last FM`` author (the whole name for group authors).

    >>> surname("van den Berg AP")
    'van den Berg'
    >>> surname("Chinese Society of Hepatology")
    'Chinese Society of Hepatology'
    """
    parts = author.split(" ")
    if len(parts) >= 2 and re.fullmatch(r"[A-Z]{1,5}", parts[-1]):
        return " ".join(parts[:-1])
    return author


def extract_year(raw: str) -> str:
    """First plausible four-digit year in a date-like value, or ``''``.

    >>> extract_year("2020//")
    '2020'
    >>> extract_year("1999 Jan")
    '1999'
    >>> extract_year("vol 46")
    ''
    """
    match = re.search(r"(?<!\d)(1[5-9]\d{2}|20\d{2})(?!\d)", raw or "")
    return match.group(1) if match else ""


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def normalise_date(raw: str) -> str:
    """A RIS / MEDLINE date as ``YYYY[-MM[-DD]]`` (as precise as the value is), or ``''``.

    >>> normalise_date("2020/06/01/")
    '2020-06-01'
    >>> normalise_date("2020//")
    '2020'
    >>> normalise_date("2002 Sep-Oct")
    '2002-09'
    >>> normalise_date("20121008")
    '2012-10-08'
    >>> normalise_date("2002/09/17 10:00")
    '2002-09-17'
    >>> normalise_date("JAN 2018")
    '2018-01'
    """
    text = (raw or "").strip()
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    year = extract_year(text)
    if not year:
        return ""
    numeric = re.match(r"^\s*(\d{4})[/-](\d{1,2})?(?:[/-](\d{1,2}))?", text)
    if numeric and numeric.group(1) == year:
        month, day = numeric.group(2), numeric.group(3)
        if month and 1 <= int(month) <= 12:
            if day and 1 <= int(day) <= 31:
                return f"{year}-{int(month):02d}-{int(day):02d}"
            return f"{year}-{int(month):02d}"
        return year
    for word in re.findall(r"[A-Za-z]+", text):
        if word.casefold() in _MONTHS:
            return f"{year}-{_MONTHS[word.casefold()]:02d}"
    return year


_LANGUAGES = {
    "english": "eng",
    "french": "fre",
    "german": "ger",
    "spanish": "spa",
    "italian": "ita",
    "dutch": "dut",
    "portuguese": "por",
    "chinese": "chi",
    "japanese": "jpn",
    "korean": "kor",
    "russian": "rus",
    "polish": "pol",
    "turkish": "tur",
    "persian": "per",
    "swedish": "swe",
    "danish": "dan",
    "norwegian": "nor",
    "czech": "cze",
    "hungarian": "hun",
    "greek": "gre",
}


def normalise_language(raw: str) -> str:
    """A language name as its ISO 639-2 code when known (``English`` -> ``eng``), else as given.

    >>> normalise_language("English")
    'eng'
    >>> normalise_language("eng")
    'eng'
    """
    text = raw.strip()
    return _LANGUAGES.get(text.casefold(), text)


def join_pages(start: str, end: str) -> str:
    """``SP``/``EP`` as one range; a start page that already holds a range is kept.

    >>> join_pages("727", "732")
    '727-732'
    >>> join_pages("1321-7", "")
    '1321-7'
    >>> join_pages("", "")
    ''
    """
    start, end = start.strip(), end.strip()
    if start and end and end != start and "-" not in start:
        return f"{start}-{end}"
    return start or end


def stable_local_id(title: str, year: str, first_author: str, extra: Sequence[str] = ()) -> str:
    """Local id for a record without an accession number: ``h`` + 16 hex of a SHA-1.

    The hash covers the folded title, the year and the folded first-author surname, so it
    does not change when the same export is re-imported or its records are re-ordered.
    ``extra`` fields are added only to tell apart records of one file that share all three.

    >>> stable_local_id("Reply.", "2020", "Smith")
    'hd689e5f166dc9d0e'
    >>> stable_local_id("REPLY", "2020", "smith") == stable_local_id("Reply.", "2020", "Smith")
    True
    """
    key = "|".join(
        [
            fold_for_hash(title),
            year.strip(),
            fold_for_hash(first_author),
            *map(fold_for_hash, extra),
        ]
    )
    return "h" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Reading text without guessing
# --------------------------------------------------------------------------------------


def read_export_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The file's text in ``encoding`` (a UTF-8 BOM is dropped), or an error at the bad byte.

    Raises:
        InputFileError: the file is missing, empty, not valid text in ``encoding``, or holds
            NUL bytes (a binary or UTF-16 file).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(
            path,
            "export file not found",
            field="files",
            allowed="an existing file; check imports[].files in config.yaml",
        ) from None
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path,
            f"is not valid {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            line=line,
            field="encoding",
            allowed=f"{encoding}; re-export the file as UTF-8 or set imports[].encoding",
        ) from None
    except LookupError:
        raise ConfigError(
            "imports[].encoding",
            f"unknown text encoding {encoding!r}",
            "a Python codec name such as utf-8, latin-1, cp1252",
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputFileError(
            path,
            "holds NUL bytes (binary or UTF-16 file?)",
            line=line,
            field="encoding",
            allowed=f"{encoding} text",
        )
    if not text.strip():
        raise InputFileError(path, "is empty", line=1, allowed="at least one record")
    return text


# --------------------------------------------------------------------------------------
# RIS
# --------------------------------------------------------------------------------------

#: Tags of the RIS specification (and rispy's mapping) accepted in every dialect.
_RIS_STANDARD_TAGS = frozenset(rispy.TAG_KEY_MAPPING) - {"UK"} | {
    "PY",
    "J2",
    "DA",
    "ET",
    "LB",
    "M1",
    "M2",
    "M3",
    "N1",
    "N2",
    "OP",
    "RI",
    "RN",
    "SE",
    "ST",
    "TA",
    "TT",
    "Y1",
    "Y2",
    "AN",
    "CN",
    "DB",
    "DP",
    "ID",
    "JA",
    "JF",
    "JO",
    "L1",
    "L2",
    "L3",
    "L4",
    "LA",
    "C1",
    "C2",
    "C3",
    "C4",
    "C5",
    "C6",
    "C7",
    "C8",
    "U1",
    "U2",
    "U3",
    "U4",
    "U5",
    "SN",
    "CY",
    "PB",
    "AD",
    "KW",
    "UR",
    "AB",
    "AU",
    "A1",
    "A2",
    "A3",
    "A4",
    "TI",
    "T1",
    "T2",
    "T3",
    "VL",
    "IS",
    "SP",
    "EP",
    "DO",
    "TY",
    "ER",
    "NV",
    "CA",
    "CT",
    "BT",
    "ED",
    "RP",
    "H1",
    "H2",
}
_RIS_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_LOOKS_LIKE_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,3} {0,3}- ")
_PUBMED_IN_TEXT = re.compile(r"\b(?:PUBMED|PMID)\b[:\s]*(\d{1,9})\b", re.IGNORECASE)


@dataclass(frozen=True)
class RisDialect:
    """Which RIS tags hold which record field, in order of preference, for one vendor."""

    name: str
    title: tuple[str, ...]
    authors: tuple[str, ...]
    year: tuple[str, ...]
    date: tuple[str, ...]
    abstract: tuple[str, ...]
    journal: tuple[str, ...]
    journal_abbrev: tuple[str, ...]
    doi: tuple[str, ...]
    #: tags whose whole value is a PMID
    pmid: tuple[str, ...]
    #: tags searched for ``PUBMED 123`` / ``PMID: 123`` inside free text
    pmid_in_text: tuple[str, ...]
    #: (tag, pattern) in order; the first value matching the pattern is the accession
    accession: tuple[tuple[str, str], ...]
    publication_types: tuple[str, ...]
    extra_tags: frozenset[str] = frozenset()

    @property
    def known_tags(self) -> frozenset[str]:
        return _RIS_STANDARD_TAGS | self.extra_tags


RIS_DIALECTS: dict[str, RisDialect] = {
    # Embase (Ovid RIS and embase.com RIS). embase.com puts the Embase PUI in U2
    # ("L2003893612") and the MEDLINE PMID in C5; Ovid also gives its accession in AN.
    "embase": RisDialect(
        name="embase",
        title=("T1", "TI"),
        authors=("A1", "AU"),
        year=("Y1", "PY"),
        date=("Y1", "PY", "DA"),
        abstract=("N2", "AB"),
        journal=("JF", "T2"),
        journal_abbrev=("JA", "JO", "J2"),
        doi=("DO", "L2"),
        pmid=("C5",),
        pmid_in_text=(),
        accession=(("U2", r"L?\d{6,12}"), ("AN", r"L?\d{6,12}")),
        publication_types=("M3",),
    ),
    # Web of Science "other reference software" RIS: WOS accession in AN ("WOS:000...").
    "wos": RisDialect(
        name="wos",
        title=("TI", "T1"),
        authors=("AU", "A1"),
        year=("PY", "Y1"),
        date=("DA", "PY", "Y1"),
        abstract=("AB", "N2"),
        journal=("T2", "JF", "JO"),
        journal_abbrev=("J2", "JA"),
        doi=("DO",),
        pmid=(),
        pmid_in_text=(),
        accession=(("AN", r"WOS:[0-9A-Z]{15}"), ("UT", r"WOS:[0-9A-Z]{15}")),
        publication_types=("M3",),
        extra_tags=frozenset({"UT", "J9", "JI"}),
    ),
    # Cochrane Library (CENTRAL) RIS: "CN-01234567" in AN or ID; the PubMed / Embase
    # accession of the source record is quoted in free text ("PUBMED 31658173").
    "cochrane_central": RisDialect(
        name="cochrane_central",
        title=("TI", "T1"),
        authors=("AU", "A1"),
        year=("PY", "Y1"),
        date=("Y1", "PY", "DA"),
        abstract=("AB", "N2"),
        journal=("JO", "T2", "JF"),
        journal_abbrev=("J2", "JA"),
        doi=("DO",),
        pmid=(),
        pmid_in_text=("AN", "N1", "U1", "U2", "C1", "C2", "C3", "M1"),
        accession=(("AN", r"CN-\d{8}"), ("ID", r"CN-\d{8}")),
        publication_types=("M3",),
    ),
}


@dataclass(frozen=True)
class _RisChunk:
    start_line: int
    lines: list[str]
    tag_lines: dict[str, int]  # first line of each tag in the record


def _scan_ris(path: Path, text: str, dialect: RisDialect) -> list[_RisChunk]:
    """Split RIS text into records, checking every line (rispy drops what it cannot place)."""
    chunks: list[_RisChunk] = []
    current: _RisChunk | None = None
    last_tag: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.rstrip()
        match = _RIS_TAG_LINE.match(stripped)
        if match is None and stripped and _RIS_LOOKS_LIKE_TAG.match(stripped):
            raise InputFileError(
                path,
                "malformed RIS tag line",
                line=number,
                field=re.match(r"[A-Za-z0-9]+", stripped).group(0),
                value=stripped[:40],
                allowed="'XX  - value' (two characters, two spaces, '- ')",
            )
        if current is None:
            if not stripped:
                continue
            if match is None or match.group(1) != "TY":
                raise InputFileError(
                    path,
                    "text outside a RIS record (every record starts with 'TY  - ')",
                    line=number,
                    field=match.group(1) if match else None,
                    value=stripped[:60],
                    allowed="a 'TY  - ' line, or a blank line between records",
                )
            current = _RisChunk(number, [stripped], {"TY": number})
            last_tag = "TY"
            ty_value = (match.group(2) or "").strip()
            if ty_value not in rispy.TYPE_OF_REFERENCE_MAPPING:
                raise InputFileError(
                    path,
                    "unknown RIS reference type",
                    line=number,
                    field="TY",
                    value=ty_value,
                    allowed=", ".join(sorted(rispy.TYPE_OF_REFERENCE_MAPPING)),
                )
            continue
        if match is not None:
            tag = match.group(1)
            if tag not in dialect.known_tags:
                raise InputFileError(
                    path,
                    f"unknown tag for the '{dialect.name}' RIS dialect",
                    line=number,
                    field=tag,
                    value=stripped[:60],
                    allowed="standard RIS tags (is this file really RIS, and the dialect right?)",
                )
            if tag == "TY":
                raise InputFileError(
                    path,
                    "record starts before the previous one ended (missing 'ER  - ')",
                    line=number,
                    field="ER",
                    allowed="'ER  - ' closing each record",
                )
            if tag == "ER":
                current.lines.append(stripped)
                chunks.append(current)
                current, last_tag = None, None
                continue
            current.tag_lines.setdefault(tag, number)
            current.lines.append(stripped)
            last_tag = tag
        elif stripped:
            if last_tag == "TY":
                raise InputFileError(
                    path,
                    "continuation line after 'TY'",
                    line=number,
                    field="TY",
                    value=stripped[:60],
                )
            current.lines.append(stripped)
        else:
            current.lines.append("")
    if current is not None:
        raise InputFileError(
            path,
            "file ends inside a record (truncated export? no closing 'ER  - ')",
            line=current.start_line,
            field="ER",
            allowed="'ER  - ' closing each record",
        )
    if not chunks:
        raise InputFileError(path, "holds no RIS record", line=1, field="TY")
    return chunks


def _values(entry: Mapping[str, Any], tag: str) -> list[str]:
    value = entry.get(tag)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def _first(entry: Mapping[str, Any], tags: Iterable[str]) -> str:
    for tag in tags:
        values = _values(entry, tag)
        if values:
            return values[0]
    return ""


def _all(entry: Mapping[str, Any], tags: Iterable[str]) -> list[str]:
    for tag in tags:
        values = _values(entry, tag)
        if values:
            return values
    return []


def _ris_doi(path: Path, chunk: _RisChunk, entry: Mapping[str, Any], dialect: RisDialect) -> str:
    """DOI from the dialect's main DOI tag (must be a DOI), else from a fallback link tag."""
    main, *fallbacks = dialect.doi
    raw = _first(entry, (main,))
    if raw:
        doi = normalise_doi(raw)
        if not doi:
            raise InputFileError(
                path,
                "DOI field does not hold a DOI",
                line=chunk.tag_lines.get(main),
                field=main,
                value=raw,
                allowed="10.NNNN/suffix, with or without a doi.org prefix",
            )
        return doi
    for tag in fallbacks:
        for value in _values(entry, tag):
            doi = normalise_doi(value)
            if doi:
                return doi
    return ""


def _ris_accession(entry: Mapping[str, Any], dialect: RisDialect) -> str:
    for tag, pattern in dialect.accession:
        for value in _values(entry, tag):
            compact = value.replace(" ", "")
            if re.fullmatch(pattern, compact):
                return compact
    return ""


def _ris_pmid(path: Path, chunk: _RisChunk, entry: Mapping[str, Any], dialect: RisDialect) -> str:
    for tag in dialect.pmid:
        for value in _values(entry, tag):
            pmid = normalise_pmid(value)
            if not pmid:
                raise InputFileError(
                    path,
                    "PMID field is not a PubMed ID",
                    line=chunk.tag_lines.get(tag),
                    field=tag,
                    value=value,
                    allowed="digits, optionally after 'PMID:'",
                )
            return pmid
    for tag in dialect.pmid_in_text:
        for value in _values(entry, tag):
            match = _PUBMED_IN_TEXT.search(value)
            if match:
                return match.group(1)
    return ""


def parse_ris(path: str | Path, dialect: str, encoding: str = "utf-8") -> list[dict[str, Any]]:
    """Parse one RIS export into raw record dicts (record fields plus ``accession``, ``__line__``).

    Raises:
        InputFileError: bad bytes, text outside records, a malformed or unknown tag, an unknown
            reference type, a truncated record, a record without a title, a bad PMID.
        ConfigError: ``dialect`` is not one of :data:`RIS_DIALECTS`.
    """
    path = Path(path)
    if dialect not in RIS_DIALECTS:
        raise ConfigError(
            "imports[].dialect", f"unknown RIS dialect {dialect!r}", ", ".join(RIS_DIALECTS)
        )
    spec = RIS_DIALECTS[dialect]
    text = read_export_text(path, encoding)
    chunks = _scan_ris(path, text, spec)
    mapping = {tag: tag for tag in spec.known_tags}
    mapping["UK"] = "unknown_tag"
    rows: list[dict[str, Any]] = []
    for chunk in chunks:
        parsed = rispy.loads(
            "\n".join(chunk.lines) + "\n",
            mapping=mapping,
            list_tags=[*spec.authors, "KW", "UR", "N1", *spec.publication_types, "LA"],
            enforce_list_tags=False,
            skip_unknown_tags=False,
        )
        if len(parsed) != 1 or "unknown_tag" in parsed[0]:
            raise InputFileError(path, "rispy could not read this record", line=chunk.start_line)
        entry = parsed[0]
        title = _first(entry, spec.title)
        if not title:
            raise InputFileError(
                path,
                "record has no title",
                line=chunk.start_line,
                field="/".join(spec.title),
                allowed="every record needs a title; fix or remove the record in the export",
            )
        authors = [normalise_author(name) for name in _all(entry, spec.authors)]
        authors = [name for name in authors if name]
        doi = _ris_doi(path, chunk, entry, spec)
        rows.append(
            {
                "__line__": chunk.start_line,
                "accession": _ris_accession(entry, spec),
                "pmid": _ris_pmid(path, chunk, entry, spec),
                "doi": doi,
                "title": title,
                "abstract": _first(entry, spec.abstract),
                "authors": authors,
                "journal": _first(entry, spec.journal),
                "journal_abbrev": _first(entry, spec.journal_abbrev),
                "year": extract_year(_first(entry, spec.year)),
                "volume": _first(entry, ("VL",)),
                "issue": _first(entry, ("IS",)),
                "pages": join_pages(_first(entry, ("SP",)), _first(entry, ("EP",))),
                "publication_types": _all(entry, spec.publication_types),
                "language": [normalise_language(v) for v in _all(entry, ("LA",))],
                "mesh_terms": [],
                # WoS splits the date (DA "JAN", PY "2018"): read the date tags together.
                "date_published": normalise_date(
                    " ".join(v for v in (_first(entry, (tag,)) for tag in spec.date) if v)
                ),
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# MEDLINE / NBIB
# --------------------------------------------------------------------------------------

#: MEDLINE/PubMed display tags (NLM "MEDLINE/PubMed Data Element (Field) Descriptions").
MEDLINE_TAGS = frozenset(
    """AB AD AID AU AUID BTI CI CIN CN COI COIS CON CP CRDT CRF CRI CTI DA DCOM DDIN DEP
    DP DRIN DRRI EA ECF ECI ED EDAT EFR EIN EN FAU FED FIR FPS GN GR GS IP IR IRAD IS ISBN
    JC JID JT LA LID LR MH MHDA MID NI NM OAB OABL OCI OID ORI OT OTO OWN PB PG PHST PL
    PMC PMCR PMID PS PST PT PUBM RF RIN RN ROF RPF RPI RRF RRI SB SFM SI SO SPIN STAT TA
    TI TT UIN UOF VI VTI YR""".split()
)
_MEDLINE_TAG_LINE = re.compile(r"^([A-Z]{2,4}) {0,2}-(?: |$)")


def _scan_medline(path: Path, text: str) -> list[tuple[int, str]]:
    """Check every line; return (first line, PMID) per record, in file order."""
    records: list[tuple[int, str]] = []
    in_record = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            in_record = False
            continue
        if line.startswith("      "):
            if not in_record:
                raise InputFileError(
                    path,
                    "continuation line outside a record",
                    line=number,
                    value=line.strip()[:60],
                )
            continue
        match = _MEDLINE_TAG_LINE.match(line)
        if match is None or line[4:5] != "-":
            raise InputFileError(
                path,
                "not a MEDLINE tag line",
                line=number,
                value=line[:60],
                allowed="'TAG - value' with the tag padded to 4 characters, or a continuation "
                "line indented by 6 spaces (is this file really MEDLINE/NBIB?)",
            )
        tag = match.group(1)
        if tag not in MEDLINE_TAGS:
            raise InputFileError(
                path,
                "unknown MEDLINE tag",
                line=number,
                field=tag,
                value=line[:60],
                allowed="the tags of NLM's MEDLINE/PubMed field descriptions",
            )
        if not in_record:
            if tag != "PMID":
                raise InputFileError(
                    path,
                    "record does not start with PMID",
                    line=number,
                    field=tag,
                    allowed="'PMID- ' as the first line of each record",
                )
            pmid = normalise_pmid(line[6:])
            if not pmid:
                raise InputFileError(
                    path, "PMID is not a number", line=number, field="PMID", value=line[6:].strip()
                )
            records.append((number, pmid))
            in_record = True
        elif tag == "PMID":
            raise InputFileError(
                path,
                "second PMID inside one record (missing blank line between records?)",
                line=number,
                field="PMID",
            )
    if not records:
        raise InputFileError(path, "holds no MEDLINE record", line=1, field="PMID")
    return records


def _medline_list(record: Mapping[str, Any], tag: str) -> list[str]:
    value = record.get(tag, [])
    items = value if isinstance(value, list) else [value]
    return [" ".join(item.split()) for item in items if item and item.strip()]


def _medline_text(record: Mapping[str, Any], tag: str) -> str:
    values = _medline_list(record, tag)
    return " ".join(values)


def _mesh_descriptor(heading: str) -> str:
    return heading.split("/")[0].lstrip("*").strip()


def parse_medline(path: str | Path, encoding: str = "utf-8") -> list[dict[str, Any]]:
    """Parse a PubMed MEDLINE/NBIB export with Bio.Medline, after checking every line.

    Raises:
        InputFileError: bad bytes, a line that is neither a tag nor a continuation, an unknown
            tag, a record not starting with PMID, a record without a title, or a record count
            that differs from what Bio.Medline returned.
    """
    path = Path(path)
    text = read_export_text(path, encoding)
    scanned = _scan_medline(path, text)
    parsed = list(Medline.parse(io.StringIO(text)))
    if len(parsed) != len(scanned):
        raise InputFileError(
            path,
            f"Bio.Medline read {len(parsed)} records where the file has {len(scanned)}",
            line=1,
        )
    rows: list[dict[str, Any]] = []
    for (line, pmid), record in zip(scanned, parsed):
        if normalise_pmid(record.get("PMID", "")) != pmid:
            raise InputFileError(path, "record order mismatch", line=line, field="PMID")
        title = _medline_text(record, "TI") or _medline_text(record, "BTI")
        if not title:
            raise InputFileError(
                path, "record has no title", line=line, field="TI", value=f"PMID {pmid}"
            )
        doi = ""
        for value in _medline_list(record, "LID") + _medline_list(record, "AID"):
            if value.endswith("[doi]"):
                doi = normalise_doi(value[: -len("[doi]")])
                if doi:
                    break
        authors = _medline_list(record, "AU")
        date_created = _medline_text(record, "DA") or _medline_text(record, "CRDT")
        rows.append(
            {
                "__line__": line,
                "accession": pmid,
                "pmid": pmid,
                "doi": doi,
                "title": title,
                "abstract": _medline_text(record, "AB"),
                "authors": authors,
                "journal": _medline_text(record, "JT"),
                "journal_abbrev": _medline_text(record, "TA"),
                "year": extract_year(_medline_text(record, "DP")),
                "volume": _medline_text(record, "VI"),
                "issue": _medline_text(record, "IP"),
                "pages": _medline_text(record, "PG"),
                "publication_types": _medline_list(record, "PT"),
                "language": _medline_list(record, "LA"),
                "mesh_terms": list(
                    dict.fromkeys(_mesh_descriptor(h) for h in _medline_list(record, "MH"))
                ),
                "date_created": normalise_date(date_created),
                "date_entrez": normalise_date(_medline_text(record, "EDAT")),
                "date_published": normalise_date(_medline_text(record, "DP")),
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# CSV / TSV
# --------------------------------------------------------------------------------------


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
        InputFileError: a mapped column is missing from the header, a row has more cells than
            the header, or a row has no title.
    """
    path = Path(path)
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
    text = read_export_text(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise InputFileError(path, "is empty; expected a header line", line=1) from None
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
    index = {field: header.index(column) for field, column in columns.items()}
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

        def cell(field: str) -> str:
            if field not in index or index[field] >= len(cells):
                return ""
            return " ".join(cells[index[field]].split())

        title = cell("title")
        if not title:
            raise InputFileError(
                path, "row has no title", line=start, field="title", value=columns["title"]
            )
        raw_doi = cell("doi")
        if raw_doi and not normalise_doi(raw_doi):
            raise InputFileError(
                path,
                "DOI cell does not hold a DOI",
                line=start,
                field="doi",
                value=raw_doi,
                allowed="10.NNNN/suffix, with or without a doi.org prefix",
            )
        raw_year = cell("year")
        if raw_year and not extract_year(raw_year):
            raise InputFileError(
                path,
                "year cell holds no four-digit year",
                line=start,
                field="year",
                value=raw_year,
                allowed="a year such as 2024 (a full date is fine)",
            )
        raw_pmid = cell("pmid")
        pmid = normalise_pmid(raw_pmid)
        if raw_pmid and not pmid:
            raise InputFileError(
                path,
                "PMID cell is not a PubMed ID",
                line=start,
                field="pmid",
                value=raw_pmid,
                allowed="digits",
            )
        accession = cell("accession").replace(" ", "")
        if accession and not _ACCESSION.match(accession):
            raise InputFileError(
                path,
                "accession number has characters not allowed in an id",
                line=start,
                field="accession",
                value=accession,
                allowed="letters, digits and . _ : / -",
            )
        split = re.compile(re.escape(author_separator)) if author_separator else None

        def multi(field: str) -> list[str]:
            value = cell(field)
            if not value:
                return []
            parts = split.split(value) if split else [value]
            return [part.strip() for part in parts if part.strip()]

        rows.append(
            {
                "__line__": start,
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
        )
    if not rows:
        raise InputFileError(path, "holds a header but no record", line=2)
    return rows


# --------------------------------------------------------------------------------------
# One declared export -> record table
# --------------------------------------------------------------------------------------


def check_import_specs(specs: Sequence[Mapping[str, Any]]) -> None:
    """Checks the config schema cannot express: unique (database, search_date) pairs and
    format-specific keys. Raises ConfigError."""
    seen: set[tuple[str, str]] = set()
    for number, spec in enumerate(specs):
        key = f"imports[{number}]"
        database, date = spec.get("database", ""), spec.get("search_date", "")
        if not DATABASE_NAME.match(str(database)):
            raise ConfigError(
                f"{key}.database",
                f"{database!r} is not a usable name",
                "lower-case letters, digits and _ (e.g. embase, wos)",
            )
        if not ISO_DATE.match(str(date)):
            raise ConfigError(f"{key}.search_date", f"{date!r} is not an ISO date", "YYYY-MM-DD")
        if (database, date) in seen:
            raise ConfigError(
                key,
                f"a second export for {database} on {date}",
                "one entry per database and date; list several files under that entry's files",
            )
        seen.add((database, date))
        fmt = spec.get("format")
        if fmt not in FORMATS:
            raise ConfigError(f"{key}.format", f"unknown format {fmt!r}", ", ".join(FORMATS))
        if fmt == "ris" and spec.get("dialect") not in RIS_DIALECTS:
            raise ConfigError(
                f"{key}.dialect",
                f"RIS needs a dialect, got {spec.get('dialect')!r}",
                ", ".join(RIS_DIALECTS),
            )
        if fmt in ("csv", "tsv") and "title" not in (spec.get("columns") or {}):
            raise ConfigError(
                f"{key}.columns",
                "CSV/TSV exports need a column mapping with title",
                ", ".join(CSV_FIELDS),
            )


def check_import_files(specs: Sequence[Mapping[str, Any]], base: str | Path = ".") -> None:
    """Every declared export file must exist before the workflow runs.

    Otherwise Snakemake would keep using an earlier import's output (its job is not rerun for
    a missing input) and the run would silently rest on data no longer declared.
    """
    for number, spec in enumerate(specs):
        for position, file in enumerate(spec.get("files") or []):
            if not (Path(base) / file).is_file():
                raise ConfigError(
                    f"imports[{number}].files[{position}]",
                    f"declared export file {file} does not exist",
                    "an existing file, e.g. under resources/imports/<database>/ (fix the path or remove the entry)",
                )


def parse_export_file(path: str | Path, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parse one file of a declared export according to its ``format`` (and dialect/mapping)."""
    fmt = spec.get("format")
    encoding = spec.get("encoding") or "utf-8"
    if fmt == "ris":
        return parse_ris(path, spec.get("dialect") or "", encoding)
    if fmt == "medline":
        return parse_medline(path, encoding)
    if fmt in ("csv", "tsv"):
        return parse_delimited(
            path,
            spec.get("columns") or {},
            "," if fmt == "csv" else "\t",
            encoding,
            spec.get("author_separator", ";"),
        )
    raise InputFileError(
        path, "unknown export format", field="format", value=fmt, allowed=", ".join(FORMATS)
    )


def to_record(
    raw: Mapping[str, Any], database: str, search_date: str, local_id: str
) -> dict[str, str]:
    """A parsed raw record as one row of RECORD_COLUMNS."""
    record = empty_record()
    for column in RECORD_COLUMNS:
        value = raw.get(column)
        if isinstance(value, list):
            record[column] = MULTI_VALUE_SEPARATOR.join(value)
        elif value is not None:
            record[column] = str(value)
    record["record_id"] = f"{database}:{local_id}"
    record["source"] = database
    record["run"] = search_date
    authors = raw.get("authors") or []
    record["first_author"] = surname(authors[0]) if authors else ""
    return record


def build_records(
    raws: Sequence[tuple[Path, dict[str, Any]]], database: str, search_date: str
) -> list[dict[str, str]]:
    """Give each raw record its stable id and turn it into a record row.

    Ids come from the accession number, else from :func:`stable_local_id`. Two records of one
    export that end up with one id (the same accession twice, or hash twins even after adding
    journal, volume, pages, DOI and abstract) keep both rows; the later ones get ``~2``,
    ``~3``... in file order, and a warning is logged, since deduplication merges them later.
    """
    records: list[dict[str, str]] = []
    base_ids: list[str] = []
    for _path, raw in raws:
        if raw.get("accession"):
            base_ids.append(str(raw["accession"]))
            continue
        first = surname(raw["authors"][0]) if raw.get("authors") else ""
        base_ids.append(stable_local_id(raw["title"], raw.get("year", ""), first))
    counts: dict[str, int] = {}
    for base in base_ids:
        counts[base] = counts.get(base, 0) + 1
    used: dict[str, int] = {}
    for (path, raw), base in zip(raws, base_ids):
        local = base
        if counts[base] > 1 and not raw.get("accession"):
            first = surname(raw["authors"][0]) if raw.get("authors") else ""
            local = stable_local_id(
                raw["title"],
                raw.get("year", ""),
                first,
                extra=[
                    raw.get(k, "")
                    for k in ("journal", "volume", "issue", "pages", "doi", "abstract")
                ],
            )
        used[local] = used.get(local, 0) + 1
        if used[local] > 1:
            log.warning(
                "%s, line %s: same id %s as an earlier record of this export; kept as %s~%d",
                path,
                raw.get("__line__"),
                local,
                local,
                used[local],
            )
            local = f"{local}~{used[local]}"
        records.append(to_record(raw, database, search_date, local))
    return records


def import_export(spec: Mapping[str, Any]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Parse every file of one declared export; return (record rows, summary). Writes nothing."""
    check_import_specs([spec])
    database, date = spec["database"], spec["search_date"]
    raws: list[tuple[Path, dict[str, Any]]] = []
    files_summary = []
    for name in spec.get("files") or []:
        path = Path(name)
        parsed = parse_export_file(path, spec)
        raws.extend((path, raw) for raw in parsed)
        files_summary.append({"path": str(name), "records": len(parsed)})
        log.info("%s: %d records (%s)", path, len(parsed), spec.get("format"))
    if not raws:
        raise ConfigError(
            f"imports[{database}/{date}].files", "no export file declared", "at least one file"
        )
    records = build_records(raws, database, date)
    for entry in files_summary:
        entry["sha256"] = sha256_file(entry["path"])
    summary = {
        "database": database,
        "search_date": date,
        "format": spec.get("format"),
        "dialect": spec.get("dialect"),
        "files": files_summary,
        "records": len(records),
        "with_pmid": sum(1 for r in records if r["pmid"]),
        "with_doi": sum(1 for r in records if r["doi"]),
        "hashed_ids": sum(1 for r in records if r["record_id"].split(":", 1)[1].startswith("h")),
    }
    return records, summary


def write_import(
    spec: Mapping[str, Any], records_path: str | Path, summary_path: str | Path
) -> dict[str, Any]:
    """Import one export and write its record table and summary (atomically, after parsing)."""
    records, summary = import_export(spec)
    write_tsv(records_path, records, RECORD_COLUMNS)
    write_text(summary_path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def import_table_path(spec: Mapping[str, Any], name: str = "records.tsv") -> str:
    """Where the record table of one declared export is written."""
    return f"results/imports/{spec['database']}/{spec['search_date']}/{name}"


def find_spec(
    specs: Sequence[Mapping[str, Any]], database: str, search_date: str
) -> Mapping[str, Any]:
    """The declared export for a (database, search_date) pair, or a ConfigError."""
    for spec in specs:
        if spec.get("database") == database and spec.get("search_date") == search_date:
            return spec
    declared = ", ".join(f"{s.get('database')}/{s.get('search_date')}" for s in specs) or "none"
    raise ConfigError(
        "imports", f"no export declared for {database} on {search_date}", f"declared: {declared}"
    )
