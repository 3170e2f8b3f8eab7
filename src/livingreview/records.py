"""The normalised record table shared by every source (PubMed snapshots, imported exports).

One row per bibliographic record as retrieved from one source in one run. Deduplication
later groups rows into publications; nothing upstream of it drops a row.

Columns (all text; multi-valued fields are joined with ``"; "``):

==================  ==========================================================================
record_id           ``<source>:<local id>``, e.g. ``pubmed:31658173`` or ``embase:L2005412345``;
                    unique across the project and stable across runs
source              database the record came from: ``pubmed``, ``embase``, ``wos``, ``cochrane``...
run                 the search run that retrieved it (ISO date of the snapshot / export)
pmid                PubMed ID, digits only, or empty
doi                 normalised DOI (lower case, no ``https://doi.org/`` prefix), or empty
title               article title, markup reduced to text
abstract            abstract text; structured abstracts keep their labels (``BACKGROUND: ...``)
authors             ``Last FM`` names, ``; ``-joined, in byline order
first_author        surname of the first author
journal             journal title as given by the source
journal_abbrev      abbreviated journal title (ISO / MEDLINE TA), if known
year                four-digit publication year, or empty
volume, issue       as given
pages               as given (``1321-7`` and ``1321-1327`` both occur)
publication_types   ``; ``-joined (``Journal Article; Review``; ``Congress``...)
language            ISO 639-2 codes, ``; ``-joined (``eng``)
mesh_terms          MeSH descriptor names, ``; ``-joined
date_created        PubMed creation date (YYYY-MM-DD), if known
date_entrez         PubMed Entrez date (YYYY-MM-DD), if known
date_published      electronic or print publication date as given (YYYY[-MM[-DD]])
==================  ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict, cast


class Record(TypedDict):
    """One row of the record table (every value text; see the module docstring)."""

    record_id: str
    source: str
    run: str
    pmid: str
    doi: str
    title: str
    abstract: str
    authors: str
    first_author: str
    journal: str
    journal_abbrev: str
    year: str
    volume: str
    issue: str
    pages: str
    publication_types: str
    language: str
    mesh_terms: str
    date_created: str
    date_entrez: str
    date_published: str


class PublicationKeys(TypedDict):
    """What the dedup stage adds to a publication's canonical record."""

    publication_id: str
    canonical_record_id: str
    member_record_ids: str
    sources: str
    first_run: str
    n_records: str


class Publication(PublicationKeys, Record):
    """One row of the publication table ``results/records/unique.tsv`` (written by the
    dedup stage, read by screening and PRISMA): the cluster's keys, then its canonical
    record."""


#: Columns of the record table, in order (the fields of :class:`Record`).
RECORD_COLUMNS: tuple[str, ...] = tuple(Record.__annotations__)

MULTI_VALUE_SEPARATOR = "; "

#: Columns of the publication table ``results/records/unique.tsv``: the cluster's keys, then
#: its canonical record's columns.
UNIQUE_COLUMNS: tuple[str, ...] = (*PublicationKeys.__annotations__, *RECORD_COLUMNS)

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")


def normalise_doi(raw: str | None) -> str:
    """Lower-case a DOI and strip URL/``doi:`` prefixes and trailing punctuation.

    Returns an empty string when the input does not look like a DOI.

    >>> normalise_doi("https://doi.org/10.1097/MEG.0000000000001580")
    '10.1097/meg.0000000000001580'
    >>> normalise_doi("http://dx.doi.org/10.1016/S0168-8278(05)80615-4.")
    '10.1016/s0168-8278(05)80615-4'
    >>> normalise_doi("doi: 10.1023/a:1010683817344")
    '10.1023/a:1010683817344'
    >>> normalise_doi("unknown")
    ''
    """
    if not raw:
        return ""
    doi = _DOI_PREFIX.sub("", raw.strip()).strip().rstrip(".,;")
    doi = doi.lower()
    return doi if _DOI_SHAPE.match(doi) else ""


def normalise_pmid(raw: str | None) -> str:
    """Digits of a PMID, or an empty string when absent.

    >>> normalise_pmid(" PMID: 31658173 ")
    '31658173'
    >>> normalise_pmid("unknown")
    ''
    """
    if not raw:
        return ""
    digits = re.sub(r"^\s*(?:PMID:?)\s*", "", raw.strip(), flags=re.IGNORECASE)
    return digits if digits.isdigit() else ""


def empty_record() -> dict[str, str]:
    """A record with every column present and empty, to be filled column by column (then
    typed with :func:`as_record`).

    >>> empty_record()["title"], len(empty_record()) == len(RECORD_COLUMNS)
    ('', True)
    """
    return {column: "" for column in RECORD_COLUMNS}


def as_record(row: dict[str, str]) -> Record:
    """``row`` typed as a :class:`Record`, once it holds exactly the record columns.

    Rows are built and read column by column (``row[column] = ...`` for each of
    RECORD_COLUMNS), which a TypedDict cannot check; this is the one place that says so.

    >>> as_record({"title": "x"})
    Traceback (most recent call last):
    ...
    ValueError: not a record row: lacks record_id, source, run, ...
    """
    missing = [column for column in RECORD_COLUMNS if column not in row]
    extra = [column for column in row if column not in RECORD_COLUMNS]
    if missing or extra:
        found = [f"lacks {', '.join(missing)}"] if missing else []
        found += [f"has {', '.join(extra)}"] if extra else []
        raise ValueError(f"not a record row: {'; '.join(found)}")
    return cast(Record, row)


def source_rank(source: str, priority: Sequence[str]) -> tuple[int, str]:
    """Where a source ranks (``dedup.source_priority``): listed sources first, in their order,
    the rest after them alphabetically. Within one run a publication's id comes from the
    member of the source ranked first.

    >>> sorted(["wos", "scopus", "pubmed", "cinahl"], key=lambda s: source_rank(s, ["pubmed", "wos"]))
    ['pubmed', 'wos', 'cinahl', 'scopus']
    """
    return (priority.index(source), "") if source in priority else (len(priority), source)
