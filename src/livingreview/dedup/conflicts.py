"""Why two records cannot be one publication, and the export debris that only looks like it.

Hard conflicts (two PMIDs, two DOIs, distant years, both page and volume differing) stop a
pair and a cluster merge (:func:`conflict`); a lone page or volume mismatch is left to
:func:`~livingreview.dedup.match.compare`. Export debris is recognised explicitly: a volume
cell holding the other record's supplement number, a first page one typo off, one article
cited at two places (:func:`republished`), an erratum named by the article's note.
"""

from __future__ import annotations

from .keys import Features
from .normalise import journals_compatible


def conflict(a: Features, b: Features) -> str:
    """Why two records cannot be one publication ('' when nothing conflicts).

    Hard conflicts only: two PMIDs, two DOIs, years more than one apart, or both the
    first page and the volume disagreeing (:func:`pages_differ`, :func:`volumes_differ`).
    Two DOIs are expected, not conflicting, between a correction notice and an article,
    an article and the erratum its note names, and one article cited at two places
    (:func:`republished`, which also excuses its other page and volume). Used to reject a
    pair and to stop a cluster merge from chaining unrelated records. A lone page or
    volume mismatch is left to :func:`~livingreview.dedup.match.compare`, because exports
    garble these fields (``1)`` for a volume, ``i428`` for ``1428``).

    >>> from livingreview.dedup.keys import features_of
    >>> r = {"record_id": "x", "title": "T", "year": "2019", "pages": "221-8", "doi": ""}
    >>> conflict(features_of(r), features_of({**r, "record_id": "y", "pages": "221-228"}))
    ''
    >>> conflict(features_of(r), features_of({**r, "record_id": "y", "year": "2016"}))
    'year'
    """
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return "pmid"
    if a.doi and b.doi and a.doi != b.doi and not _own_doi_expected(a, b):
        return "doi"
    if a.year and b.year and abs(a.year - b.year) > 1:
        return "year"
    if pages_differ(a, b) and volumes_differ(a, b) and not republished(a, b):
        return "pages_and_volume"
    return ""


def soft_conflict(a: Features, b: Features) -> str:
    """A single page or volume mismatch: decisive unless everything else is identical."""
    if pages_differ(a, b):
        return "pages"
    if volumes_differ(a, b):
        return "volume"
    return ""


def volumes_differ(a: Features, b: Features) -> bool:
    """Two volumes that disagree, unless one is the other record's issue or supplement
    number shifted into the volume cell (``3`` for ``30 (Suppl 3)``) of the same journal
    (the same abstract in two journals' supplements stays two records).

    >>> from livingreview.dedup.keys import features_of
    >>> r = {"record_id": "x", "title": "T", "year": "2014", "volume": "30", "issue": "SUPPL. 3",
    ...      "journal": "Diabetes Metab Res Rev"}
    >>> volumes_differ(features_of(r), features_of({**r, "volume": "3", "issue": ""}))
    False
    >>> volumes_differ(features_of(r), features_of({**r, "volume": "31", "issue": ""}))
    True
    """
    if not (a.volume and b.volume and a.volume != b.volume):
        return False
    shifted = (a.volume == b.issue or b.volume == a.issue) and bool(a.journal and b.journal)
    return not (shifted and journals_compatible(a.journal, b.journal))


def pages_differ(a: Features, b: Features) -> bool:
    """Two first pages that disagree, unless the ranges end on the same page and the first
    pages are one typo apart (``2297-2108`` / ``2097-2108``).

    >>> from livingreview.dedup.keys import features_of
    >>> r = {"record_id": "x", "title": "T", "pages": "2141-2147"}
    >>> pages_differ(features_of(r), features_of({**r, "pages": "2142-2147"}))
    False
    >>> pages_differ(features_of(r), features_of({**r, "pages": "2142-2149"}))
    True
    """
    return bool(a.page and b.page and a.page != b.page and not same_end_garbled_start(a, b))


def same_end_garbled_start(a: Features, b: Features) -> bool:
    return bool(
        a.last_page
        and a.last_page == b.last_page
        and a.last_page not in (a.page, b.page)
        and garbled_page(a.page, b.page)
    )


def _page_span(f: Features) -> int | None:
    if f.page.isdigit() and f.last_page.isdigit() and int(f.last_page) > int(f.page):
        return int(f.last_page) - int(f.page)
    return None


def republished(a: Features, b: Features) -> bool:
    """One article cited at two places: printed twice by its journal under two DOIs, or
    its volume or pages mis-keyed in one export. The same long title, the same byline of
    two or more authors, the same journal, years at most one apart and page ranges of the
    same length, starting on different pages.

    A conference abstract and the full paper differ in length; a correction notice is
    recognised by its title and handled by
    :func:`~livingreview.dedup.match.correction_link` instead.

    >>> from livingreview.dedup.keys import features_of
    >>> r = {"record_id": "x", "title": "Sponsorship and vendor management of IT projects",
    ...      "authors": "Liu, L and Yetton, P", "journal": "J Inf Technol", "year": "2009",
    ...      "volume": "24", "pages": "46-54", "doi": "10.5555/a"}
    >>> later = {**r, "year": "2010", "volume": "25", "pages": "56-64", "doi": "10.5555/b"}
    >>> republished(features_of(r), features_of(later))
    True
    >>> republished(features_of(r), features_of({**later, "pages": "56"}))
    False
    """
    span = _page_span(a)
    return bool(
        a.page != b.page
        and a.title
        and a.title == b.title
        and a.words >= 6
        and not (a.generic or b.generic)
        and not (a.notice or b.notice)
        and len(a.surnames) >= 2
        and a.surnames == b.surnames
        and a.journal
        and b.journal
        and journals_compatible(a.journal, b.journal)
        and a.year
        and b.year
        and abs(a.year - b.year) <= 1
        and span is not None
        and span == _page_span(b)
    )


def names_erratum(original: Features, other: Features) -> bool:
    """The original's MEDLINE note names the other record's volume and first page."""
    named = (other.volume, other.page)
    return bool(original.errata and other.volume and other.page and named in original.errata)


def _own_doi_expected(a: Features, b: Features) -> bool:
    """Pairs whose different DOIs prove nothing: a correction notice and an article (each
    notice has a DOI of its own), an erratum named by the article, a reprinted article."""
    return a.notice != b.notice or names_erratum(a, b) or names_erratum(b, a) or republished(a, b)


def garbled_page(a: str, b: str) -> bool:
    """Two first pages one typo or one dropped prefix apart (``1428``/``428``), unlike
    an erratum's own page (``703``/``1107``).

    >>> garbled_page("1428", "428"), garbled_page("703", "1107"), garbled_page("893", "839")
    (True, False, True)
    """
    return (
        a.endswith(b)
        or b.endswith(a)
        or (len(a) == len(b) and sorted(a) == sorted(b))
        or (len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1)
    )
