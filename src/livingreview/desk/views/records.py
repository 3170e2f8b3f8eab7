"""How a publication is shown: bibliographic fields, safe links, hints and marked terms.

Only bibliographic data of ``unique.tsv`` and the reviewer's own queue row are shown here,
never anyone's decisions.  Links are built from the PMID and DOI (never taken from a cell
as-is), so a ``javascript:`` or other odd value in the data cannot become a link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..web import Desk

_PMID = re.compile(r"^\d{1,9}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
DUPLICATE_HINT = "possible duplicate of"


def safe_links(row: Mapping[str, str]) -> tuple[str, str]:
    """PubMed and DOI addresses from a record's ``pmid`` and ``doi`` ('' when malformed)."""
    pmid = (row.get("pmid") or "").strip()
    doi = (row.get("doi") or "").strip()
    pubmed = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if _PMID.match(pmid) else ""
    doi_url = f"https://doi.org/{quote(doi, safe='/:;()._-')}" if _DOI.match(doi) else ""
    return pubmed, doi_url


def suggest_study_id(row: Mapping[str, str]) -> str:
    """A new study id by the documented rule (first author's surname and year, ``smith-2025``)."""
    author = (row.get("first_author") or row.get("authors", "").split(";")[0]).strip()
    surname = author.split(",")[0].split(" ")[0] if author else "study"
    ascii_name = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower()) or ["study"]
    year = (row.get("year") or "").strip()
    return "-".join([*words, *([year] if re.fullmatch(r"\d{4}", year) else [])])


def record_view(desk: Desk, pid: str, queue_row: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything a page shows about one publication (text escaped, terms marked)."""
    base = desk.last_run.index().rows.get(pid, {})
    row = {**base, **{k: v for k, v in (queue_row or {}).items() if v}}
    mark = desk.highlighter.mark
    pubmed, doi_url = safe_links(base)
    hints = [
        h.strip()
        for h in (row.get("hints") or "").split(";")
        if h.strip() and not h.strip().startswith(DUPLICATE_HINT)
    ]
    return {
        "id": pid,
        "title": mark((row.get("title") or "").strip() or "(no title)"),
        "abstract": mark((row.get("abstract") or "").strip()),
        "authors": (row.get("authors") or "").strip(),
        "journal": (row.get("journal") or "").strip(),
        "year": (row.get("year") or "").strip(),
        "publication_types": (row.get("publication_types") or "").strip(),
        "language": (row.get("language") or "").strip(),
        "pmid": (base.get("pmid") or "").strip(),
        "doi": (base.get("doi") or "").strip(),
        "pubmed_url": pubmed,
        "doi_url": doi_url,
        "hints": hints,
        "rank": (row.get("rank") or "").strip() if queue_row else "",
        "score": (row.get("score") or "").strip() if queue_row else "",
        "score_terms": (row.get("score_terms") or "").strip() if queue_row else "",
        "members": (row.get("member_record_ids") or "").strip(),
        "first_run": (row.get("first_run") or "").strip(),
        "suggested_study": suggest_study_id(row),
    }


def duplicates_of(desk: Desk, pid: str) -> list[dict[str, Any]]:
    """The other publication of each uncertain dedup pair naming ``pid`` (maybe.tsv)."""
    index = desk.last_run.index()
    others = desk.last_run.possible_duplicates().get(pid, [])
    return [record_view(desk, other) for other in dict.fromkeys(others) if other in index.rows]
