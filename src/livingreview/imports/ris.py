"""RIS exports (Embase, Web of Science, Cochrane CENTRAL), read with :mod:`rispy`.

Three dialects, one per vendor (:data:`RIS_DIALECTS`): ``embase`` (Embase via Ovid or
embase.com: ``T1``/``A1``/``Y1``/``N2``/``JF``/``JA``, Embase PUI in ``U2``, MEDLINE PMID
in ``C5``), ``wos`` (Web of Science "other reference software": ``TI``/``AU``/``PY``/``T2``,
``AN  - WOS:...``) and ``cochrane_central`` (Cochrane Library CENTRAL: ``CN-`` accession in
``AN`` or ``ID``, PubMed ID quoted as ``PUBMED 12345678``).

rispy drops what it cannot place, so every line is checked first (:func:`scan_ris`): text
outside a record, a malformed or unknown tag, an unknown reference type or a record without
its closing ``ER`` raises :class:`~livingreview.errors.InputFileError` naming file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rispy

from ..errors import ConfigError, InputFileError
from ..records import normalise_doi, normalise_pmid
from .encoding import read_export_text
from .fields import extract_year, join_pages, normalise_author, normalise_date, normalise_language

#: Tags of the RIS specification (and rispy's mapping) accepted in every dialect.
_RIS_STANDARD_TAGS = frozenset(rispy.TAG_KEY_MAPPING) - {"UK"} | frozenset(
    """PY J2 DA ET LB M1 M2 M3 N1 N2 OP RI RN SE ST TA TT Y1 Y2 AN CN DB DP ID JA JF JO L1 L2 L3
    L4 LA C1 C2 C3 C4 C5 C6 C7 C8 U1 U2 U3 U4 U5 SN CY PB AD KW UR AB AU A1 A2 A3 A4 TI T1 T2
    T3 VL IS SP EP DO TY ER NV CA CT BT ED RP H1 H2""".split()
)
_RIS_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_LOOKS_LIKE_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,3}) {0,3}- ")
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


# --------------------------------------------------------------------------- line checks


@dataclass(frozen=True)
class RisChunk:
    """The lines of one RIS record, as checked by :func:`scan_ris`."""

    start_line: int
    lines: list[str]
    tag_lines: dict[str, int]  # first line of each tag in the record


def scan_ris(path: Path, text: str, dialect: RisDialect) -> list[RisChunk]:
    """Split RIS text into records, checking every line (rispy drops what it cannot place).

    >>> text = "TY  - JOUR\\nTI  - A title\\n  wrapped\\nER  - \\n"
    >>> [(c.start_line, c.tag_lines) for c in scan_ris(Path("x.ris"), text, RIS_DIALECTS["wos"])]
    [(1, {'TY': 1, 'TI': 2})]
    """
    chunks: list[RisChunk] = []
    current: RisChunk | None = None
    last_tag: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.rstrip()
        match = _tag_line(path, number, stripped)
        if current is None:
            if stripped:
                current, last_tag = _start_record(path, number, stripped, match), "TY"
            continue
        if match is None:
            _check_continuation(path, number, stripped, last_tag)
            current.lines.append(stripped)
            continue
        tag = _checked_tag(path, number, stripped, match.group(1), dialect)
        current.lines.append(stripped)
        if tag == "ER":
            chunks.append(current)
            current, last_tag = None, None
        else:
            current.tag_lines.setdefault(tag, number)
            last_tag = tag
    _check_complete(path, current, chunks)
    return chunks


def _tag_line(path: Path, number: int, stripped: str) -> re.Match[str] | None:
    """The tag line's match; None for a continuation or blank line; an error for a line that
    looks like a tag but is malformed (``AB - x``, ``ab  - x``)."""
    match = _RIS_TAG_LINE.match(stripped)
    if match is None and stripped:
        malformed = _RIS_LOOKS_LIKE_TAG.match(stripped)
        if malformed is not None:
            raise InputFileError(
                path,
                "malformed RIS tag line",
                line=number,
                field=malformed.group(1),
                value=stripped[:40],
                allowed="'XX  - value' (two characters, two spaces, '- ')",
            )
    return match


def _start_record(path: Path, number: int, stripped: str, match: re.Match[str] | None) -> RisChunk:
    """A new record, which must open with a known ``TY`` reference type."""
    if match is None or match.group(1) != "TY":
        raise InputFileError(
            path,
            "text outside a RIS record (every record starts with 'TY  - ')",
            line=number,
            field=match.group(1) if match else None,
            value=stripped[:60],
            allowed="a 'TY  - ' line, or a blank line between records",
        )
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
    return RisChunk(number, [stripped], {"TY": number})


def _checked_tag(path: Path, number: int, stripped: str, tag: str, dialect: RisDialect) -> str:
    """A tag inside a record: known to the dialect, and not a second ``TY``."""
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
    return tag


def _check_continuation(path: Path, number: int, stripped: str, last_tag: str | None) -> None:
    """A wrapped value continues any tag but ``TY`` (rispy would glue it to the type)."""
    if stripped and last_tag == "TY":
        raise InputFileError(
            path,
            "continuation line after 'TY'",
            line=number,
            field="TY",
            value=stripped[:60],
        )


def _check_complete(path: Path, current: RisChunk | None, chunks: list[RisChunk]) -> None:
    """The file ends between records and holds at least one."""
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


# --------------------------------------------------------------------------- field values


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


def _ris_doi(path: Path, chunk: RisChunk, entry: Mapping[str, Any], dialect: RisDialect) -> str:
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


def _ris_pmid(path: Path, chunk: RisChunk, entry: Mapping[str, Any], dialect: RisDialect) -> str:
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


# --------------------------------------------------------------------------- records


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
    return [
        _ris_row(path, chunk, _ris_entry(path, chunk, spec), spec)
        for chunk in scan_ris(path, text, spec)
    ]


def _ris_entry(path: Path, chunk: RisChunk, spec: RisDialect) -> dict[str, Any]:
    """rispy's reading of one checked record, tag -> value(s)."""
    mapping = {tag: tag for tag in spec.known_tags}
    mapping["UK"] = "unknown_tag"
    parsed = rispy.loads(
        "\n".join(chunk.lines) + "\n",
        mapping=mapping,
        list_tags=[*spec.authors, "KW", "UR", "N1", *spec.publication_types, "LA"],
        enforce_list_tags=False,
        skip_unknown_tags=False,
    )
    if len(parsed) != 1 or "unknown_tag" in parsed[0]:
        raise InputFileError(path, "rispy could not read this record", line=chunk.start_line)
    return parsed[0]


def _ris_row(
    path: Path, chunk: RisChunk, entry: Mapping[str, Any], spec: RisDialect
) -> dict[str, Any]:
    """One raw record from rispy's entry, field by field as the dialect says."""
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
    return {
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
