"""Normalisers of single export fields: authors, years, dates, languages, pages, local ids.

Each takes the text one export cell holds and returns the form of the record table
(:data:`livingreview.records.RECORD_COLUMNS`). Unlike the matching normalisers of
:mod:`livingreview.dedup.normalise`, these produce what is *stored*, so their output is part
of every imported table (and :func:`stable_local_id` of every hashed record id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from ..bibliographic import LANGUAGE_CODES, is_author_initials, month_number
from ..text import fold_for_hash

#: Initials as the ``Last FM`` form stores them: capitals only, no full stops.
_STORED_INITIALS = re.compile(r"[A-Z]{1,5}")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d{2}|20\d{2})(?!\d)")
_NUMERIC_DATE = re.compile(r"^\s*(\d{4})[/-](\d{1,2})?(?:[/-](\d{1,2}))?")
_EIGHT_DIGITS = re.compile(r"\d{8}")


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
            part if _STORED_INITIALS.fullmatch(part) else part[0].upper()
            for part in re.split(r"[\s.\-]+", given)
            if part and part[0].isalpha()
        )
        return f"{last} {initials}".strip()
    parts = name.split(" ")
    if len(parts) >= 2 and is_author_initials(parts[-1]):
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
    if len(parts) >= 2 and _STORED_INITIALS.fullmatch(parts[-1]):
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
    match = _YEAR.search(raw or "")
    return match.group(1) if match else ""


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
    if _EIGHT_DIGITS.fullmatch(text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    year = extract_year(text)
    if not year:
        return ""
    numeric = _NUMERIC_DATE.match(text)
    if numeric and numeric.group(1) == year:
        month, day = numeric.group(2), numeric.group(3)
        if month and 1 <= int(month) <= 12:
            if day and 1 <= int(day) <= 31:
                return f"{year}-{int(month):02d}-{int(day):02d}"
            return f"{year}-{int(month):02d}"
        return year
    for word in re.findall(r"[A-Za-z]+", text):
        number = month_number(word)
        if number is not None:
            return f"{year}-{number:02d}"
    return year


def normalise_language(raw: str) -> str:
    """A language name as its ISO 639-2 code when known (``English`` -> ``eng``), else as given.

    >>> normalise_language("English"), normalise_language("Finnish")
    ('eng', 'fin')
    >>> normalise_language("eng")
    'eng'
    """
    text = raw.strip()
    return LANGUAGE_CODES.get(text.casefold(), text)


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
    Frozen like :func:`~livingreview.text.fold_for_hash`: screening decisions key on it.

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
