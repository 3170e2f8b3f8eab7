"""PubMed MEDLINE/NBIB text exports, read with :func:`Bio.Medline.parse` after a line check.

Bio.Medline accepts malformed input without complaint, so every line is checked first: a
line that is neither a tag nor a continuation, an unknown tag, a record not starting with
``PMID`` or two PMIDs in one record raises
:class:`~livingreview.errors.InputFileError` naming file and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from Bio import Medline

from ..errors import InputFileError
from ..records import normalise_doi, normalise_pmid
from .encoding import read_export_text
from .fields import extract_year, normalise_date

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
