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

RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "source",
    "run",
    "pmid",
    "doi",
    "title",
    "abstract",
    "authors",
    "first_author",
    "journal",
    "journal_abbrev",
    "year",
    "volume",
    "issue",
    "pages",
    "publication_types",
    "language",
    "mesh_terms",
    "date_created",
    "date_entrez",
    "date_published",
)

MULTI_VALUE_SEPARATOR = "; "

#: Columns of the publication table ``results/records/unique.tsv`` (written by the dedup
#: stage, read by screening and PRISMA): the cluster's keys, then its canonical record.
UNIQUE_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "canonical_record_id",
    "member_record_ids",
    "sources",
    "first_run",
    "n_records",
    *RECORD_COLUMNS,
)

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
    """A record with every column present and empty."""
    return {column: "" for column in RECORD_COLUMNS}
