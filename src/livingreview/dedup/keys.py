"""The comparable form of a record (:class:`Features`) and the blocking keys that choose
which pairs are compared at all (:func:`candidate_pairs`).

Features are computed once per record from the matching normalisers of
:mod:`livingreview.dedup.normalise` and :mod:`livingreview.dedup.notices`; blocking keeps
the number of compared pairs near-linear in the number of records.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from ..records import Record, normalise_doi, normalise_pmid
from ..text import fold_for_match
from .normalise import (
    author_surnames,
    journal_tokens,
    normalise_issue,
    normalise_title,
    normalise_volume,
    normalise_year,
    page_range,
    strip_title_notes,
)
from .notices import correction_notice, erratum_notes

log = logging.getLogger(__name__)

# Titles that name a kind of item rather than an item: equal titles prove nothing.
GENERIC_TITLES = frozenset(
    {
        "editorial",
        "editorial introduction",
        "editorial notes",
        "editors comments",
        "editor s comments",
        "guest editorial",
        "introduction",
        "preface",
        "foreword",
        "reply",
        "response",
        "authors reply",
        "author s reply",
        "reply to letter",
        "letter",
        "letter to the editor",
        "comment",
        "commentary",
        "correspondence",
        "erratum",
        "correction",
        "corrigendum",
        "retraction",
        "errata",
        "news",
        "in this issue",
        "abstracts",
        "index",
        "contents",
        "book review",
        "book reviews",
        "announcement",
        "acknowledgement",
        "acknowledgment",
        "reviewers",
        "obituary",
        "meeting abstracts",
        "conference abstracts",
        "poster abstracts",
        "oral abstracts",
        "poster session",
        "poster presentations",
        "oral presentations",
        "addendum",
    }
)

_SEGMENTS = re.compile(r"\s*(?:[-:.;()\[\]]|--)\s*")


def is_generic_title(raw: str) -> bool:
    """True when the title, or one of its ``-``/``:``-separated parts, names a kind of item.

    >>> is_generic_title("Remarks from MIS Quarterly Editor - Editor's Comments")
    True
    >>> is_generic_title("Reply")
    True
    >>> is_generic_title("Tacrolimus in autoimmune hepatitis: a reply to critics")
    False
    """
    if normalise_title(raw) in GENERIC_TITLES:
        return True
    parts = _SEGMENTS.split(strip_title_notes(raw))
    return any(fold_for_match(part) in GENERIC_TITLES for part in parts if part.strip())


# ----------------------------------------------------------------------- features


@dataclass(slots=True)
class Features:
    """The comparable form of one record (computed once, compared many times)."""

    record_id: str
    title: str
    words: int
    surnames: tuple[str, ...]
    year: int | None
    page: str
    last_page: str
    volume: str
    doi: str
    pmid: str
    journal: tuple[str, ...]
    generic: bool
    name_tokens: str
    issue: str = ""
    #: A correction notice (``Erratum: X``, ``X (vol 85, pg 553, 2010)``): ``core`` is then
    #: the corrected article's title, ``cites`` its (volume, first page), ``cites_doi`` its DOI.
    notice: bool = False
    core: str = ""
    core_generic: bool = False
    cites: tuple[str, str] = ("", "")
    cites_doi: str = ""
    #: (volume, first page) of errata a MEDLINE title note names (``[Erratum appears in ...]``).
    errata: tuple[tuple[str, str], ...] = ()


def features_of(record: Record | Mapping[str, str]) -> Features:
    """Normalise one record (RECORD_COLUMNS names, all or some; ``authors`` holds the
    author list).

    A volume cell equal to the year (``2016`` for volume 94 of 2016) is export debris and
    counts as missing.
    """
    raw_title = record.get("title") or ""
    title = normalise_title(raw_title)
    first, last = page_range(record.get("pages"))
    journal = record.get("journal") or record.get("journal_abbrev") or ""
    words = len(title.split())
    year = normalise_year(record.get("year"))
    volume = normalise_volume(record.get("volume"))
    if year is not None and volume == str(year):
        volume = ""
    notice = correction_notice(raw_title)
    core = normalise_title(notice[0]) if notice else title
    return Features(
        record_id=record["record_id"],
        title=title,
        words=words,
        surnames=author_surnames(record.get("authors")),
        year=year,
        page=first,
        last_page=last,
        volume=volume,
        doi=normalise_doi(unquote(record.get("doi") or "")),
        pmid=normalise_pmid(record.get("pmid")),
        journal=journal_tokens(journal),
        generic=is_generic_title(raw_title),
        name_tokens=" ".join(
            sorted(
                {
                    t
                    for t in fold_for_match(record.get("authors") or "").split()
                    if len(t) > 1 and t != "and"
                }
            )
        ),
        issue=normalise_issue(record.get("issue")),
        notice=notice is not None,
        core=core,
        core_generic=(is_generic_title(notice[0]) or len(core.split()) < 3) if notice else False,
        cites=(notice[1], notice[2]) if notice else ("", ""),
        cites_doi=notice[3] if notice else "",
        errata=erratum_notes(raw_title),
    )


# ----------------------------------------------------------------------- blocking


def _block_keys(f: Features) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if f.doi:
        keys.append(("doi", f.doi))
    if f.pmid:
        keys.append(("pmid", f.pmid))
    compact = f.title.replace(" ", "")
    if len(compact) >= 12:
        keys.append(("t<", compact[:28]))
        keys.append(("t>", compact[-28:]))
    elif compact:
        keys.append(("t=", compact + "|" + (f.surnames[0] if f.surnames else "")))
    core = f.core.replace(" ", "")
    if f.notice and len(core) >= 12:
        # A correction notice also meets the article it corrects.
        keys.append(("t<", core[:28]))
        keys.append(("t>", core[-28:]))
    if f.page and f.year and (f.volume or f.surnames):
        keys.append(("yvp", f"{f.year}|{f.volume}|{f.page}"))
        if f.surnames:
            keys.append(("ap", f"{f.surnames[0]}|{f.page}"))
    return keys


def candidate_pairs(features: Sequence[Features], max_block: int) -> set[tuple[int, int]]:
    """Index pairs sharing at least one blocking key (i < j).

    Blocks larger than ``max_block`` are compared only between neighbours in title order,
    which keeps the cost near-linear even for "Editorial" floods.
    """
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, f in enumerate(features):
        for key in _block_keys(f):
            blocks[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        if len(members) > max_block:
            log.warning(
                "blocking key %s=%r holds %d records (> max_block %d): comparing neighbours only",
                key[0],
                key[1],
                len(members),
                max_block,
            )
            ordered = sorted(members, key=lambda i: (features[i].title, features[i].record_id))
            window = 20
            for offset, i in enumerate(ordered):
                for j in ordered[offset + 1 : offset + 1 + window]:
                    pairs.add((i, j) if i < j else (j, i))
            continue
        for offset, i in enumerate(members):
            for j in members[offset + 1 :]:
                pairs.add((i, j) if i < j else (j, i))
    return pairs
