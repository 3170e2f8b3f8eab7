"""PubMed efetch XML -> rows of the shared record table (:data:`livingreview.records.RECORD_COLUMNS`).

Consumes: the bytes of a PubMed ``efetch`` answer (``PubmedArticleSet``), live or replayed.
Produces: one dict per ``PubmedArticle`` / ``PubmedBookArticle`` with every record column.

Parsing uses Bio.Entrez's validating parser with ``escape=True``: character data arrives
HTML-escaped while inline markup (``<i>``, ``<sub>``, MathML) stays as tags, so markup can be
stripped without confusing it with a literal ``<`` in the text (``p &lt; 0.01``).

DTD fallback: Bio.Entrez validates against the DTD the document names and, when that DTD is
not bundled, downloads it.  A new PubMed DTD (NCBI publishes one most years) would then make
an offline run fail or stall, so :func:`parse_pubmed_xml` first rewrites the DOCTYPE of an
unknown ``pubmed_YYMMDD.dtd`` to the newest bundled PubMed DTD and parses without
validation (unknown new elements are skipped, not fatal); the substitution is logged.
The parser never touches the network.
"""

from __future__ import annotations

import html
import io
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from Bio import Entrez
from Bio.Entrez import Parser as EntrezParser

from ..bibliographic import MONTH_NUMBERS as _MONTHS
from ..errors import InputFileError
from ..records import MULTI_VALUE_SEPARATOR, empty_record, normalise_doi, normalise_pmid

log = logging.getLogger(__name__)

_DOCTYPE = re.compile(rb'<!DOCTYPE\s+(\w+)\s+PUBLIC\s+"([^"]*)"\s+"([^"]*)"\s*>')


# --------------------------------------------------------------------------- DTD fallback


def _bundled_dtds() -> set[str]:
    names = set(os.listdir(EntrezParser.DataHandler.global_dtd_dir))
    local = EntrezParser.DataHandler.local_dtd_dir
    if local and os.path.isdir(local):
        names.update(os.listdir(local))
    return names


def newest_bundled_pubmed_dtd() -> str:
    """File name of the newest ``pubmed_YYMMDD.dtd`` Biopython ships (e.g. ``pubmed_250101.dtd``)."""
    dated = sorted(
        n
        for n in os.listdir(EntrezParser.DataHandler.global_dtd_dir)
        if re.fullmatch(r"pubmed_\d{6}\.dtd", n)
    )
    if not dated:  # pragma: no cover - every Biopython release ships some
        raise RuntimeError("Biopython bundles no PubMed DTD")
    return dated[-1]


#: Root element -> the bundled DTD to parse it with when the named one is unknown offline.
FALLBACK_DTDS = {
    "PubmedArticleSet": newest_bundled_pubmed_dtd,
    "eSearchResult": lambda: "esearch.dtd",
}


def with_known_dtd(body: bytes) -> tuple[bytes, str | None]:
    """Point the DOCTYPE at a bundled DTD when the named one is not available offline.

    Returns the (possibly rewritten) document and the name of the DTD that was replaced, or
    ``None`` when nothing changed.
    """
    match = _DOCTYPE.search(body[:2000])
    if not match:
        return body, None
    system_id = match.group(3).decode("ascii", "replace")
    filename = system_id.rsplit("/", 1)[-1]
    if filename in _bundled_dtds():
        return body, None
    fallback = FALLBACK_DTDS.get(match.group(1).decode("ascii", "replace"))
    if fallback is None:
        return body, None
    replacement = fallback()
    new_system = (
        system_id.rsplit("/", 1)[0] + "/" + replacement if "/" in system_id else replacement
    )
    doctype = b'<!DOCTYPE %s PUBLIC "%s" "%s">' % (
        match.group(1),
        match.group(2),
        new_system.encode("ascii"),
    )
    return body[: match.start()] + doctype + body[match.end() :], filename


# --------------------------------------------------------------------------- text helpers


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def markup_to_text(value: object) -> str:
    """Reduce an escaped Bio.Entrez string with inline HTML/MathML to plain text.

    >>> markup_to_text('OR<sub>Q3</sub>=4.15, p<sub>trend</sub> &lt;0.01')
    'ORQ3=4.15, ptrend <0.01'
    >>> markup_to_text('<math xmlns="x">\\n <mi>He</mi>\\n</math> MRI')
    'He MRI'
    >>> markup_to_text('A "<i>Blood Relationship"</i> Between')
    'A "Blood Relationship" Between'
    """
    if value is None:
        return ""
    text = _TAG.sub("", str(value))
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _date(node: Mapping[str, Any] | None) -> str:
    """``YYYY[-MM[-DD]]`` from a PubMed date element (``Year``/``Month``/``Day`` or ``MedlineDate``)."""
    if not node:
        return ""
    year = str(node.get("Year", "")).strip()
    if not year:
        medline = str(node.get("MedlineDate", ""))
        found = re.search(r"\b(1[89]\d\d|20\d\d)\b", medline)
        return found.group(1) if found else ""
    month = str(node.get("Month", "")).strip()
    if month and not month.isdigit():
        month = str(_MONTHS.get(month[:3].lower(), ""))
    if not month:
        return year
    out = f"{year}-{int(month):02d}"
    day = str(node.get("Day", "")).strip()
    return f"{out}-{int(day):02d}" if day.isdigit() else out


def _join(values: Iterable[str]) -> str:
    return MULTI_VALUE_SEPARATOR.join(v for v in values if v)


def _author_name(author: Mapping[str, Any]) -> tuple[str, str]:
    """(display name ``Last FM``, surname) of a PubMed ``Author``."""
    if "CollectiveName" in author:
        name = markup_to_text(author["CollectiveName"])
        return name, name
    last = markup_to_text(author.get("LastName", ""))
    initials = markup_to_text(author.get("Initials", "")) or "".join(
        part[0] for part in markup_to_text(author.get("ForeName", "")).split() if part
    )
    return (f"{last} {initials}".strip(), last)


def _abstract(node: Mapping[str, Any]) -> str:
    """The abstract of an article or book chapter, labelled sections as ``LABEL: text``."""
    sections = []
    for part in node.get("Abstract", {}).get("AbstractText", []):
        text = markup_to_text(part)
        label = getattr(part, "attributes", {}).get("Label", "")
        sections.append(f"{label}: {text}" if label and text else text)
    return " ".join(s for s in sections if s)


# --------------------------------------------------------------------------- record mapping


def article_to_record(article: Mapping[str, Any], run: str) -> dict[str, str]:
    """One ``PubmedArticle`` (as parsed by Bio.Entrez) -> one record-table row."""
    citation = article["MedlineCitation"]
    art = citation["Article"]
    pubmed_data = article.get("PubmedData", {})
    record = empty_record()
    pmid = normalise_pmid(str(citation["PMID"]))
    record.update(record_id=f"pubmed:{pmid}", source="pubmed", run=run, pmid=pmid)

    doi = ""
    for article_id in pubmed_data.get("ArticleIdList", []):
        if getattr(article_id, "attributes", {}).get("IdType") == "doi":
            doi = normalise_doi(str(article_id))
            break
    if not doi:
        for location in art.get("ELocationID", []):
            if getattr(location, "attributes", {}).get("EIdType") == "doi":
                doi = normalise_doi(str(location))
                break
    record["doi"] = doi

    title = markup_to_text(art.get("ArticleTitle", ""))
    if not title:
        title = markup_to_text(art.get("VernacularTitle", ""))
    record["title"] = title

    record["abstract"] = _abstract(art)

    names = [_author_name(a) for a in art.get("AuthorList", []) if a.get("ValidYN", "Y") != "N"]
    record["authors"] = _join(n for n, _ in names)
    record["first_author"] = names[0][1] if names else ""

    journal = art.get("Journal", {})
    record["journal"] = markup_to_text(journal.get("Title", ""))
    record["journal_abbrev"] = markup_to_text(
        journal.get("ISOAbbreviation", "")
        or citation.get("MedlineJournalInfo", {}).get("MedlineTA", "")
    )
    issue = journal.get("JournalIssue", {})
    record["volume"] = str(issue.get("Volume", ""))
    record["issue"] = str(issue.get("Issue", ""))
    pub_date = _date(issue.get("PubDate"))
    pagination = art.get("Pagination", {})
    pages = str(pagination.get("MedlinePgn", "")) if pagination else ""
    if not pages and pagination:
        start, end = str(pagination.get("StartPage", "")), str(pagination.get("EndPage", ""))
        pages = f"{start}-{end}" if start and end else start
    record["pages"] = pages

    electronic = ""
    for article_date in art.get("ArticleDate", []):
        electronic = _date(article_date)
        if electronic:
            break
    record["year"] = (pub_date or electronic)[:4]
    record["date_published"] = electronic or pub_date

    record["publication_types"] = _join(
        markup_to_text(p) for p in art.get("PublicationTypeList", [])
    )
    record["language"] = _join(str(lang) for lang in art.get("Language", []))
    record["mesh_terms"] = _join(
        markup_to_text(h["DescriptorName"]) for h in citation.get("MeshHeadingList", [])
    )
    for history_date in pubmed_data.get("History", []):
        status = getattr(history_date, "attributes", {}).get("PubStatus")
        if status == "pubmed" and not record["date_created"]:
            record["date_created"] = _date(history_date)
        elif status == "entrez" and not record["date_entrez"]:
            record["date_entrez"] = _date(history_date)
    return record


def book_to_record(book_article: Mapping[str, Any], run: str) -> dict[str, str]:
    """A ``PubmedBookArticle`` (NCBI Bookshelf chapter) -> record row, so none is dropped."""
    document = book_article["BookDocument"]
    book = document.get("Book", {})
    record = empty_record()
    pmid = normalise_pmid(str(document["PMID"]))
    record.update(record_id=f"pubmed:{pmid}", source="pubmed", run=run, pmid=pmid)
    record["title"] = markup_to_text(document.get("ArticleTitle", "")) or markup_to_text(
        book.get("BookTitle", "")
    )
    record["journal"] = markup_to_text(book.get("BookTitle", ""))
    record["abstract"] = _abstract(document)
    authors: list[tuple[str, str]] = []
    for author_list in document.get("AuthorList", []) or book.get("AuthorList", []):
        authors.extend(_author_name(a) for a in author_list)
    record["authors"] = _join(n for n, _ in authors)
    record["first_author"] = authors[0][1] if authors else ""
    record["date_published"] = _date(book.get("PubDate"))
    record["year"] = record["date_published"][:4]
    record["publication_types"] = (
        _join(markup_to_text(p) for p in document.get("PublicationType", [])) or "Book"
    )
    record["language"] = _join(str(lang) for lang in document.get("Language", []))
    return record


def parse_pubmed_xml(
    body: bytes, run: str, origin: str | Path = "<efetch answer>"
) -> list[dict[str, str]]:
    """Parse one PubMed efetch document into record rows, in document order.

    Raises:
        InputFileError: the document is not PubMed XML or is malformed (names ``origin``).
    """
    patched, replaced = with_known_dtd(body)
    validate = replaced is None
    if replaced:
        log.warning(
            "%s names %s, which Biopython does not bundle; parsing with %s without validation "
            "(update biopython to parse it fully)",
            origin,
            replaced,
            newest_bundled_pubmed_dtd(),
        )
    try:
        document = Entrez.read(io.BytesIO(patched), validate=validate, escape=True)
    except Exception as exc:  # CorruptedXMLError, NotXMLError, ValidationError, RuntimeError
        raise InputFileError(
            origin,
            f"is not readable PubMed XML: {type(exc).__name__}: {exc}",
            allowed="a complete PubmedArticleSet document from efetch (retmode=xml)",
        ) from None
    if not isinstance(document, Mapping) or not (
        {"PubmedArticle", "PubmedBookArticle"} & set(document)
    ):
        raise InputFileError(
            origin, "holds no PubmedArticleSet", allowed="efetch db=pubmed retmode=xml output"
        )
    rows = [article_to_record(a, run) for a in document.get("PubmedArticle", [])]
    rows += [book_to_record(b, run) for b in document.get("PubmedBookArticle", [])]
    return rows
