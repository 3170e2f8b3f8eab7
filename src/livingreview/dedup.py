"""Deduplication across sources and runs: every record collapses to one publication.

Consumes the normalised record tables of every PubMed snapshot and every imported export
(columns :data:`livingreview.records.RECORD_COLUMNS`) plus the human verdicts sheet
``resources/dedup/verdicts.tsv``; produces

* ``unique.tsv``: one row per publication with a ``publication_id`` that never moves
  (the record seen first, by run date, then source priority, then record_id), the
  canonical record shown to screeners (PubMed first, then the richest metadata), every
  member record and source, and the canonical record's columns;
* ``duplicates.tsv``: every other member record with the publication it joined, the
  record it matched, the rule and the score (each merge explained);
* ``maybe.tsv``: uncertain pairs for a human to decide in ``verdicts.tsv``;
* ``runs.tsv``: per run and source, records identified, duplicates removed and new
  publications (the PRISMA "duplicates removed" box of each update).

Matching is explicit, rule by rule, so each merge can be explained:

1. human verdicts (``same`` merges, ``different`` forbids a merge, on every run);
2. exact keys, never blindly: one PMID merges, two different PMIDs forbid a merge; one DOI
   merges only when the titles agree too (conference supplements share one DOI);
3. fuzzy matching with rapidfuzz on the normalised title, checked against authors, year,
   volume, pages and journal; short or generic titles ("Editorial introduction", "Reply")
   need agreeing pages, volume or DOI, never the title alone;
4. correction notices (``Erratum: X``, ``X (vol 85, pg 553, 2010)``) join the article
   they correct only inside its volume, when they repeat its exact title and byline or
   the article's MEDLINE note names the notice's page; anything weaker goes to a human.

Export debris that would otherwise block a merge is recognised explicitly: a volume cell
holding the year or the other record's supplement number, a first page one typo off with
the same last page, a title exported without its subtitle or in translation, one article
cited at two places with an identical title, byline and page count.

Candidate pairs come from blocking (DOI, PMID, title prefix and suffix, year+volume+page),
so cost grows near-linearly with the number of records. Clusters are built by merging the
strongest pairs first, and a merge is refused when any two records of the two clusters
conflict (different DOIs, PMIDs, years, pages or a human ``different``), so transitive
chains never join unrelated records. Across runs, pairs are merged in run order and a new
record may join one earlier publication but never fuse two earlier publications (that
pair goes to ``maybe.tsv``), so a publication_id that screening decisions are keyed to
never disappears because new records arrived.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from rapidfuzz import fuzz

from .errors import ConfigError, InputFileError, ValidationError
from .io import read_tsv, write_tsv
from .normalise import (
    author_surnames,
    correction_notice,
    erratum_notes,
    journal_tokens,
    journals_compatible,
    normalise_issue,
    normalise_title,
    normalise_volume,
    normalise_year,
    page_range,
    strip_title_notes,
    title_language,
)
from .records import RECORD_COLUMNS, UNIQUE_COLUMNS, normalise_doi, normalise_pmid
from .text import ISO_DATE, fold_for_match

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds of the matching rules (all similarities on rapidfuzz's 0-100 scale).

    Defaults are the values tuned on the shared benchmark sets; config.yaml ``dedup:``
    carries the same values and their descriptions.
    """

    title_same: float = 90.0
    title_maybe: float = 75.0
    doi_title_min: float = 60.0
    author_min: float = 75.0
    short_title_words: int = 5
    max_block: int = 1000
    source_priority: tuple[str, ...] = ("pubmed",)

    def __post_init__(self) -> None:
        for name in ("title_same", "title_maybe", "doi_title_min", "author_min"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ConfigError(f"dedup.{name}", f"{value!r} is outside 0-100", "0 to 100")
        if self.title_maybe > self.title_same:
            raise ConfigError(
                "dedup.title_maybe",
                f"{self.title_maybe} is above dedup.title_same ({self.title_same})",
                "a value not above title_same",
            )
        if self.max_block < 2:
            raise ConfigError(
                "dedup.max_block", f"{self.max_block!r} is below 2", "an integer >= 2"
            )

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> MatchSettings:
        """Build from the ``dedup:`` config section (as passed through ``params:``)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"dedup.{unknown[0]}", "is not a known setting", ", ".join(sorted(known))
            )
        values = dict(params)
        if "source_priority" in values:
            values["source_priority"] = tuple(values["source_priority"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


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


def features_of(record: Mapping[str, str]) -> Features:
    """Normalise one record (RECORD_COLUMNS names; ``authors`` holds the author list).

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


# ----------------------------------------------------------------------- comparison

SAME, MAYBE, NONE = "same", "maybe", "none"


@dataclass(slots=True)
class PairResult:
    decision: str
    rule: str
    score: float


def conflict(a: Features, b: Features) -> str:
    """Why two records cannot be one publication ('' when nothing conflicts).

    Hard conflicts only: two PMIDs, two DOIs, years more than one apart, or both the
    first page and the volume disagreeing (:func:`pages_differ`, :func:`volumes_differ`).
    Two DOIs are expected, not conflicting, between a correction notice and an article,
    an article and the erratum its note names, and one article cited at two places
    (:func:`republished`, which also excuses its other page and volume). Used to reject a
    pair and to stop a cluster merge from chaining unrelated records. A lone page or
    volume mismatch is left to :func:`compare`, because exports garble these fields (``1)`` for a volume,
    ``i428`` for ``1428``).

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

    >>> r = {"record_id": "x", "title": "T", "pages": "2141-2147"}
    >>> pages_differ(features_of(r), features_of({**r, "pages": "2142-2147"}))
    False
    >>> pages_differ(features_of(r), features_of({**r, "pages": "2142-2149"}))
    True
    """
    return bool(a.page and b.page and a.page != b.page and not _same_end_garbled_start(a, b))


def _same_end_garbled_start(a: Features, b: Features) -> bool:
    return bool(
        a.last_page
        and a.last_page == b.last_page
        and a.last_page not in (a.page, b.page)
        and _garbled_page(a.page, b.page)
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
    recognised by its title and handled by :func:`correction_link` instead.

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


def _names_erratum(original: Features, other: Features) -> bool:
    """The original's MEDLINE note names the other record's volume and first page."""
    named = (other.volume, other.page)
    return bool(original.errata and other.volume and other.page and named in original.errata)


def _own_doi_expected(a: Features, b: Features) -> bool:
    """Pairs whose different DOIs prove nothing: a correction notice and an article (each
    notice has a DOI of its own), an erratum named by the article, a reprinted article."""
    return a.notice != b.notice or _names_erratum(a, b) or _names_erratum(b, a) or republished(a, b)


def author_score(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Similarity (0-100) of two bylines: first author and the set of surnames.

    None when either byline is missing (exports without authors are common).
    """
    if not a or not b:
        return None
    first = fuzz.ratio(a[0], b[0])
    if len(a) == 1 or len(b) == 1:
        return first
    overall = fuzz.token_set_ratio(" ".join(a[:12]), " ".join(b[:12]))
    return min(100.0, max(first, overall) if first >= 60 else (first + overall) / 2)


def _substantive_change(a: str, b: str) -> bool:
    """True when each title has a word the other lacks and the two are not spelling variants.

    ``pediatric`` / ``adult`` is a different trial; ``environment`` / ``environments`` or
    ``multi center`` / ``multicenter`` is the same paper.

    >>> _substantive_change("trial in pediatric patients", "trial in adult patients")
    True
    >>> _substantive_change("telehealth environment", "telehealth environments")
    False
    """
    words_a, words_b = set(a.split()), set(b.split())
    only_a, only_b = words_a - words_b, words_b - words_a
    if not only_a or not only_b:
        return False
    joined_a, joined_b = "".join(sorted(only_a)), "".join(sorted(only_b))
    if fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")) >= 98:
        return False
    for word in only_a:
        if len(word) < 3:
            continue
        if not any(fuzz.ratio(word, other) >= 80 for other in only_b) and word not in joined_b:
            return True
    for word in only_b:
        if len(word) < 3:
            continue
        if not any(fuzz.ratio(word, other) >= 80 for other in only_a) and word not in joined_a:
            return True
    return False


def _garbled_page(a: str, b: str) -> bool:
    """Two first pages one typo or one dropped prefix apart (``1428``/``428``), unlike
    an erratum's own page (``703``/``1107``).

    >>> _garbled_page("1428", "428"), _garbled_page("703", "1107"), _garbled_page("893", "839")
    (True, False, True)
    """
    return (
        a.endswith(b)
        or b.endswith(a)
        or (len(a) == len(b) and sorted(a) == sorted(b))
        or (len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1)
    )


def _title_prefix(a: str, b: str) -> bool:
    """One title is the other without its subtitle (at least four words kept).

    >>> _title_prefix("anxiety about electronic data hacking", "anxiety about electronic data hacking predictors")
    True
    >>> _title_prefix("editorial", "editorial introduction")
    False
    """
    if not a or not b or a == b:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return len(short.split()) >= 4 and long_.startswith(short + " ")


_RESPONSE_START = re.compile(
    r"^(?:reply|response|comment|commentary|letter|re|in reply|authors reply)\b"
)


def correction_link(a: Features, b: Features, s: MatchSettings) -> PairResult | None:
    """Pairs involving a correction notice or an article whose note names its erratum.

    * two copies of one notice: the corrected title agrees and so do the notice's own
      page and volume (or the article both cite);
    * a notice and the article it corrects, in the same volume: the notice names it by
      its exact (or truncated) title and repeats its byline of two or more authors; a
      notice that only cites the article's volume and page goes to a human; notices in
      another volume stay records of their own;
    * an article whose MEDLINE note ``[Erratum appears in J. 2009;9(9):2205]`` names the
      other record's volume and page, under the same title.

    None lets the ordinary rules decide (pairs of notices that are not copies); a notice
    and an article it is not linked to never fall through, because their different DOIs
    and pages were excused only for this rule.
    """
    for original, other in ((a, b), (b, a)):
        if not original.notice and _names_erratum(original, other) and not other.core_generic:
            score = fuzz.ratio(original.core, other.core) if original.core and other.core else 0.0
            if score >= s.title_same:
                return PairResult(SAME, "erratum_named", round(score, 1))
    if not (a.notice or b.notice):
        return None
    same_page = bool(a.page) and a.page == b.page
    same_volume = bool(a.volume) and a.volume == b.volume
    years_close = a.year is None or b.year is None or abs(a.year - b.year) <= 1
    if a.notice and b.notice:
        score = fuzz.ratio(a.core, b.core) if a.core and b.core else 0.0
        same_citation = bool(a.cites[0] and a.cites[1]) and a.cites == b.cites
        if (
            score >= s.title_same
            and not (a.core_generic or b.core_generic)
            and years_close
            and ((same_page and same_volume) or (same_citation and a.year == b.year))
        ):
            return PairResult(SAME, "notice_copy", round(score, 1))
        return None
    notice, article = (a, b) if a.notice else (b, a)
    score = fuzz.ratio(notice.core, article.title) if notice.core and article.title else 0.0
    if notice.core_generic or _RESPONSE_START.match(notice.core):
        return PairResult(NONE, "notice_title", round(score, 1))
    if score >= s.title_same and same_page and same_volume:
        # The same notice exported without its "Erratum:" or citation.
        return PairResult(SAME, "notice_copy", round(score, 1))
    if not same_volume:
        return PairResult(NONE, "notice_in_other_volume", round(score, 1))
    authors = author_score(notice.surnames, article.surnames)
    names_article = notice.core == article.title or _title_prefix(notice.core, article.title)
    full_byline = min(len(notice.surnames), len(article.surnames)) >= 2 and (authors or 0) >= 90
    if (
        names_article
        and years_close
        and full_byline
        and journals_compatible(notice.journal, article.journal)
    ):
        return PairResult(SAME, "erratum_of", round(score, 1))
    cites_article = bool(
        (notice.cites[0] and notice.cites == (article.volume, article.page))
        or (notice.cites_doi and notice.cites_doi == article.doi)
    )
    if score >= s.title_same and cites_article:
        # Evidence as strong as the rules above, but the reference labels disagree about
        # it (resources/dedup/README.md): a human decides.
        return PairResult(MAYBE, "notice_cites_article", round(score, 1))
    if score >= s.title_maybe:
        return PairResult(MAYBE, "notice_of_article", round(score, 1))
    return PairResult(NONE, "title", round(score, 1))


def compare(a: Features, b: Features, s: MatchSettings) -> PairResult:
    """Decide one candidate pair: ``same`` (merge), ``maybe`` (ask a human) or ``none``."""
    if a.pmid and a.pmid == b.pmid:
        return PairResult(SAME, "pmid", 100.0)
    why_not = conflict(a, b)
    title = fuzz.ratio(a.title, b.title) if a.title and b.title else None
    prefix = _title_prefix(a.title, b.title)
    if a.doi and a.doi == b.doi and not why_not:
        if title is None or title >= s.doi_title_min or prefix:
            return PairResult(SAME, "doi", 100.0 if title is None else round(title, 1))
        # One DOI, different titles: a conference supplement or a misassigned DOI.
        return PairResult(MAYBE, "doi_title_differs", round(title, 1))
    if not why_not and (a.notice or b.notice or a.errata or b.errata):
        linked = correction_link(a, b, s)
        if linked is not None:
            return linked
    if why_not:
        return PairResult(NONE, why_not, 0.0)
    if republished(a, b):
        return PairResult(SAME, "identical_title_byline", round(title or 0.0, 1))
    mismatch = soft_conflict(a, b)

    same_year = a.year is not None and a.year == b.year
    adjacent_years = a.year is not None and b.year is not None and abs(a.year - b.year) <= 1
    pages_agree = bool(a.page) and (a.page == b.page or _same_end_garbled_start(a, b))
    range_agrees = (
        pages_agree and bool(a.last_page) and a.last_page == b.last_page and a.last_page != a.page
    )
    volume_agree = bool(a.volume) and a.volume == b.volume
    issues_differ = bool(a.issue and b.issue and a.issue != b.issue)
    authors = author_score(a.surnames, b.surnames)
    first_author_same = bool(a.surnames and b.surnames) and a.surnames[0] == b.surnames[0]
    same_issue = (
        same_year and range_agrees and volume_agree and journals_compatible(a.journal, b.journal)
    )
    if title is None:
        if same_issue and first_author_same and not (a.generic or b.generic):
            return PairResult(MAYBE, "no_title_same_issue", 0.0)
        return PairResult(NONE, "no_title", 0.0)
    if (
        prefix
        and (range_agrees or (pages_agree and volume_agree))
        and same_year
        and authors is not None
        and authors >= s.author_min
    ):
        # A title exported without its subtitle or section tag, in the same pages.
        return PairResult(SAME, "title_prefix_same_pages", round(title, 1))
    if title < s.title_maybe:
        # Translated titles: the same pages of the same volume by the same first author.
        if same_issue and first_author_same and not (a.generic or b.generic) and a.journal:
            full_byline = min(len(a.surnames), len(b.surnames)) >= 2 and (authors or 0) >= 90
            languages = (title_language(a.title), title_language(b.title))
            translated = all(languages) and languages[0] != languages[1]
            if full_byline or (translated and (authors or 0) >= 90):
                # A sole author's pages count only when one title is the other's translation.
                return PairResult(SAME, "same_issue_pages", round(title, 1))
            return PairResult(MAYBE, "same_issue_pages", round(title, 1))
        return PairResult(NONE, "title", round(title, 1))

    corroborated = pages_agree or volume_agree
    short = a.generic or b.generic or min(a.words, b.words) < s.short_title_words
    if short and mismatch:
        return PairResult(NONE, mismatch, round(title, 1))
    if short:
        # A short or generic title proves little: ask for the issue to agree too.
        if (
            title >= s.title_same
            and same_year
            and pages_agree
            and (volume_agree or not (a.volume and b.volume))
        ):
            if authors is None or authors >= s.author_min:
                return PairResult(SAME, "fuzzy_short_title", round(title, 1))
        if a.generic or b.generic:
            return PairResult(NONE, "generic_title", round(title, 1))
        journal_ok = journals_compatible(a.journal, b.journal)
        if authors is not None and authors >= s.author_min and journal_ok and volume_agree:
            if range_agrees and adjacent_years:
                # Dated by online publication in one database, by print in the other.
                return PairResult(SAME, "short_title_same_issue", round(title, 1))
            if (
                a.title == b.title
                and min(a.words, b.words) >= 3
                and same_year
                and authors >= 90
                and not (a.page and b.page)
                and not issues_differ
            ):
                # A meeting's abstract book or an abstract listed without pages: the
                # same title, byline, year and volume.
                return PairResult(SAME, "short_title_same_volume", round(title, 1))
        return PairResult(MAYBE, "short_title", round(title, 1))

    if title < s.title_same:
        if same_issue and authors is not None and authors >= s.author_min:
            return PairResult(SAME, "fuzzy_same_issue", round(title, 1))
        return PairResult(MAYBE, "title_similar", round(title, 1))
    if mismatch:
        # Same long title, same byline, same year: a garbled page or volume cell, unless
        # the byline or year leaves room for doubt.
        if (
            title >= 97
            and same_year
            and authors is not None
            and authors >= 90
            and a.words >= 8
            and journals_compatible(a.journal, b.journal)
            and (mismatch == "volume" or _garbled_page(a.page, b.page))
        ):
            return PairResult(SAME, f"fuzzy_despite_{mismatch}", round(title, 1))
        return PairResult(MAYBE, f"{mismatch}_differ", round(title, 1))
    if same_issue:
        # Same title in the same pages of the same volume and year: bylines are often
        # garbled (swapped names, group authors), the issue is not.
        return PairResult(SAME, "fuzzy_same_issue", round(title, 1))
    if authors is not None and authors < s.author_min:
        # Given names exported as surnames ("Andrea, C." for "Carignani, Andrea").
        if title >= 95 and fuzz.token_set_ratio(a.name_tokens, b.name_tokens) >= 95 and same_year:
            authors = 90.0
        else:
            return PairResult(MAYBE, "authors_differ", round(title, 1))
    full_byline = min(len(a.surnames), len(b.surnames)) >= 2 and (authors or 0) >= 90
    if not same_year and not corroborated:
        # Conference papers dated by meeting in one database and by proceedings in another.
        if not (
            title >= 97
            and full_byline
            and not a.volume
            and not b.volume
            and journals_compatible(a.journal, b.journal)
        ):
            rule = "year_differs" if a.year and b.year else "year_missing"
            return PairResult(MAYBE, rule, round(title, 1))
    if not journals_compatible(a.journal, b.journal) and not pages_agree and not full_byline:
        return PairResult(MAYBE, "journal_differs", round(title, 1))
    if not corroborated and (authors is None or _substantive_change(a.title, b.title)):
        return PairResult(MAYBE, "uncorroborated", round(title, 1))
    return PairResult(SAME, "fuzzy", round(title, 1))


# ----------------------------------------------------------------------- clustering


@dataclass
class Edge:
    i: int
    j: int
    rule: str
    score: float


@dataclass
class Clustering:
    """Clusters of record indices plus the edges that explain them and the open pairs."""

    cluster_of: list[int]
    tree: list[Edge]
    maybe: list[Edge]

    def groups(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for index, root in enumerate(self.cluster_of):
            groups[root].append(index)
        return groups


_RULE_STRENGTH = {
    "verdict": 0,
    "pmid": 1,
    "doi": 2,
    "fuzzy_same_issue": 3,
    "fuzzy": 4,
    "fuzzy_short_title": 5,
    "fuzzy_despite_pages": 6,
    "fuzzy_despite_volume": 6,
    "short_title_same_issue": 7,
    "title_prefix_same_pages": 7,
    "same_issue_pages": 8,
    "notice_copy": 5,
    "identical_title_byline": 8,
    "short_title_same_volume": 8,
    "erratum_named": 9,
    "erratum_of": 9,
}


def cluster_records(
    features: Sequence[Features],
    settings: MatchSettings,
    *,
    order: Sequence[int] | None = None,
    verdict_same: Iterable[tuple[int, int]] = (),
    verdict_different: Iterable[tuple[int, int]] = (),
) -> Clustering:
    """Group records into publications.

    ``order`` gives each record's run rank (0 = earliest run); pairs are merged run by run,
    and a merge that would fuse two clusters both already holding records from runs before
    the pair's run is refused (sent to ``maybe``), so earlier publications stay as they were.
    Human ``same`` verdicts always merge; ``different`` verdicts always block.
    """
    n = len(features)
    rank = list(order) if order is not None else [0] * n
    forbidden: dict[int, set[int]] = defaultdict(set)
    for i, j in verdict_different:
        forbidden[i].add(j)
        forbidden[j].add(i)
    same_pairs = {(min(i, j), max(i, j)) for i, j in verdict_same}

    edges: list[Edge] = []
    maybe: list[Edge] = []
    for i, j in candidate_pairs(features, settings.max_block):
        if (i, j) in same_pairs or j in forbidden.get(i, ()):
            continue
        result = compare(features[i], features[j], settings)
        if result.decision == SAME:
            edges.append(Edge(i, j, result.rule, result.score))
        elif result.decision == MAYBE:
            maybe.append(Edge(i, j, result.rule, result.score))
    edges.extend(Edge(i, j, "verdict", 100.0) for i, j in same_pairs)
    edges.sort(
        key=lambda e: (
            e.rule != "verdict",
            max(rank[e.i], rank[e.j]),
            _RULE_STRENGTH.get(e.rule, 9),
            -e.score,
            features[e.i].record_id,
            features[e.j].record_id,
        )
    )

    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    earliest: list[int] = list(rank)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tree: list[Edge] = []
    for edge in edges:
        ri, rj = find(edge.i), find(edge.j)
        if ri == rj:
            continue
        if edge.rule != "verdict":
            reason = _merge_blocker(members[ri], members[rj], features, forbidden)
            pair_rank = max(rank[edge.i], rank[edge.j])
            if not reason and earliest[ri] < pair_rank and earliest[rj] < pair_rank:
                reason = "would_fuse_earlier_publications"
            if reason:
                maybe.append(Edge(edge.i, edge.j, f"{edge.rule}_blocked_by_{reason}", edge.score))
                continue
        elif _forbidden_between(members[ri], members[rj], forbidden):
            raise ValidationError(
                "verdicts",
                "a 'same' verdict joins records that another verdict marks 'different'",
                field="verdict",
                value=f"{features[edge.i].record_id} / {features[edge.j].record_id}",
                allowed="consistent verdicts; change one of them",
            )
        if len(members[ri]) < len(members[rj]):
            ri, rj = rj, ri
        parent[rj] = ri
        members[ri].extend(members.pop(rj))
        earliest[ri] = min(earliest[ri], earliest[rj])
        tree.append(edge)

    cluster_of = [find(i) for i in range(n)]
    open_pairs = [e for e in maybe if cluster_of[e.i] != cluster_of[e.j]]
    return Clustering(cluster_of=cluster_of, tree=tree, maybe=open_pairs)


def _forbidden_between(
    left: list[int], right: list[int], forbidden: Mapping[int, set[int]]
) -> bool:
    right_set = set(right)
    return any(forbidden.get(i, set()) & right_set for i in left)


def _merge_blocker(
    left: list[int],
    right: list[int],
    features: Sequence[Features],
    forbidden: Mapping[int, set[int]],
) -> str:
    if _forbidden_between(left, right, forbidden):
        return "verdict_different"
    if len(left) * len(right) > 400:
        return "cluster_too_large"
    for i in left:
        for j in right:
            reason = conflict(features[i], features[j])
            if reason:
                return reason
    return ""


# ----------------------------------------------------------------------- benchmark layout

BENCHMARK_COLUMNS = ("ID", "title", "author", "year", "journal", "volume", "number", "pages", "doi")


def records_from_benchmark(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Map rows in the benchmark CSV layout (ID, title, author, year, journal, volume,
    number, pages, doi; missing columns allowed) to record dicts."""
    records = []
    for line, row in enumerate(rows, start=2):
        if not (row.get("ID") or "").strip():
            raise InputFileError(
                "<records CSV>",
                "row has no ID",
                line=line,
                field="ID",
                allowed="a unique, non-empty ID column (ID, title, author, year, ...)",
            )
        records.append(
            {
                "record_id": row["ID"],
                "title": row.get("title") or "",
                "authors": row.get("author") or "",
                "year": row.get("year") or "",
                "journal": row.get("journal") or row.get("booktitle") or "",
                "volume": row.get("volume") or "",
                "issue": row.get("number") or "",
                "pages": row.get("pages") or "",
                "doi": row.get("doi") or "",
                "pmid": "",
            }
        )
    return records


def duplicate_groups(
    records: Sequence[Mapping[str, str]], settings: MatchSettings | None = None
) -> list[list[str]]:
    """Record IDs of every group of two or more records judged to be one publication."""
    settings = settings or MatchSettings()
    features = [features_of(r) for r in records]
    clustering = cluster_records(features, settings)
    groups = [
        sorted(features[i].record_id for i in members)
        for members in clustering.groups().values()
        if len(members) > 1
    ]
    return sorted(groups)


# ----------------------------------------------------------------------- workflow layer

DUPLICATE_COLUMNS = (
    "record_id",
    "duplicate_of",
    "matched_record_id",
    "rule",
    "score",
    "run",
    "source",
)
MAYBE_COLUMNS = (
    "record_id_a",
    "record_id_b",
    "publication_id_a",
    "publication_id_b",
    "rule",
    "score",
    "title_a",
    "title_b",
    "year_a",
    "year_b",
    "journal_a",
    "journal_b",
    "doi_a",
    "doi_b",
)
RUN_COLUMNS = (
    "run",
    "source",
    "records_identified",
    "previously_retrieved",
    "duplicates_of_earlier_runs",
    "duplicates_within_run",
    "new_publications",
    "duplicates_removed",
)
VERDICT_COLUMNS = ("record_id_a", "record_id_b", "verdict", "reviewer", "decided_on", "note")
VERDICT_VALUES = ("same", "different")


@dataclass
class RecordSet:
    """Every distinct record (first-seen version) plus how often each run re-retrieved one."""

    records: list[dict[str, str]]
    retrieved: dict[tuple[str, str], int] = field(default_factory=dict)
    previously_retrieved: dict[tuple[str, str], int] = field(default_factory=dict)


def load_record_tables(paths: Sequence[str | Path]) -> RecordSet:
    """Read record tables (RECORD_COLUMNS exactly) in any order; keep each record_id once.

    A record_id retrieved again by a later run (the same PubMed record in every snapshot, a
    re-imported export) keeps its first-seen version and run, so later runs never change
    what earlier runs matched; the repeat is counted as ``previously_retrieved`` of that run.

    Raises:
        InputFileError: a table is unreadable or has other columns.
        ValidationError: an empty record_id, source or run, a run that is not an ISO date,
            or one record_id twice in one table.
    """
    rows: list[tuple[str, int, str, dict[str, str]]] = []
    for path in paths:
        for row in read_tsv(path, required=RECORD_COLUMNS, allowed=RECORD_COLUMNS):
            line = int(row.pop("__line__"))
            for column in ("record_id", "source", "run"):
                if not row[column].strip():
                    raise ValidationError(
                        path,
                        "empty cell",
                        line=line,
                        field=column,
                        allowed="every record needs record_id, source and run",
                    )
            if not ISO_DATE.match(row["run"]):
                raise ValidationError(
                    path,
                    "run is not an ISO date",
                    line=line,
                    field="run",
                    value=row["run"],
                    allowed="YYYY-MM-DD",
                )
            rows.append((row["run"], line, str(path), row))
    rows.sort(key=lambda item: (item[0], item[2], item[1]))
    first_seen: dict[str, tuple[str, str, int]] = {}
    result = RecordSet(records=[])
    for run, line, path, row in rows:
        key = (run, row["source"])
        result.retrieved[key] = result.retrieved.get(key, 0) + 1
        seen = first_seen.get(row["record_id"])
        if seen is None:
            first_seen[row["record_id"]] = (run, path, line)
            result.records.append(row)
            continue
        if seen[0] == run:
            if seen[1] == path:
                raise ValidationError(
                    path,
                    "record_id occurs twice in one table",
                    line=line,
                    field="record_id",
                    value=row["record_id"],
                    allowed=f"unique ids (first at line {seen[2]})",
                )
            log.warning(
                "%s line %d: %s already read from %s for run %s; counted once",
                path,
                line,
                row["record_id"],
                seen[1],
                run,
            )
            result.retrieved[key] -= 1
            continue
        result.previously_retrieved[key] = result.previously_retrieved.get(key, 0) + 1
    log.info("read %d distinct records from %d tables", len(result.records), len(paths))
    return result


@dataclass(frozen=True)
class Verdict:
    record_id_a: str
    record_id_b: str
    verdict: str
    line: int


def load_verdicts(path: str | Path, known_ids: Iterable[str]) -> list[Verdict]:
    """Read and check the human verdicts sheet (read-only for the workflow).

    Raises:
        InputFileError: wrong columns or encoding.
        ValidationError: unknown verdict, empty or unknown record_id, a record paired with
            itself, a malformed ``decided_on`` or two lines disagreeing about one pair.
    """
    known = set(known_ids)
    verdicts: list[Verdict] = []
    by_pair: dict[tuple[str, str], Verdict] = {}
    for row in read_tsv(path, required=VERDICT_COLUMNS[:5], allowed=VERDICT_COLUMNS):
        line = int(row["__line__"])
        a, b = row["record_id_a"].strip(), row["record_id_b"].strip()
        verdict = row["verdict"].strip().lower()
        for column, value in (("record_id_a", a), ("record_id_b", b)):
            if not value:
                raise ValidationError(
                    path,
                    "empty record id",
                    line=line,
                    field=column,
                    allowed="a record_id from results/records/maybe.tsv",
                )
            if value not in known:
                raise ValidationError(
                    path,
                    "record_id is not in any record table of this run",
                    line=line,
                    field=column,
                    value=value,
                    allowed="record ids as written in results/records/maybe.tsv; fix the typo "
                    "or delete the line if the record's source was removed from config.yaml",
                )
        if a == b:
            raise ValidationError(
                path,
                "a record is paired with itself",
                line=line,
                field="record_id_b",
                value=b,
                allowed="two different records",
            )
        if verdict not in VERDICT_VALUES:
            raise ValidationError(
                path,
                "unknown verdict",
                line=line,
                field="verdict",
                value=row["verdict"],
                allowed=", ".join(VERDICT_VALUES),
            )
        if not row["reviewer"].strip():
            raise ValidationError(
                path,
                "empty reviewer",
                line=line,
                field="reviewer",
                allowed="the initials of the person who decided",
            )
        if not ISO_DATE.match(row["decided_on"].strip()):
            raise ValidationError(
                path,
                "decided_on is not an ISO date",
                line=line,
                field="decided_on",
                value=row["decided_on"],
                allowed="YYYY-MM-DD",
            )
        item = Verdict(a, b, verdict, line)
        pair = (min(a, b), max(a, b))
        earlier = by_pair.get(pair)
        if earlier and earlier.verdict != verdict:
            raise ValidationError(
                path,
                f"contradicts line {earlier.line} about the same pair",
                line=line,
                field="verdict",
                value=verdict,
                allowed="one verdict per pair; delete one line",
            )
        by_pair[pair] = item
        verdicts.append(item)
    return verdicts


@dataclass
class DedupOutcome:
    unique: list[dict[str, object]]
    duplicates: list[dict[str, object]]
    maybe: list[dict[str, object]]
    runs: list[dict[str, object]]


def _source_rank(source: str, priority: Sequence[str]) -> tuple[int, str]:
    return (priority.index(source), "") if source in priority else (len(priority), source)


def _richness(record: Mapping[str, str]) -> int:
    filled = sum(1 for column in RECORD_COLUMNS if record.get(column, "").strip())
    return filled + (3 if record.get("abstract", "").strip() else 0)


def deduplicate(
    record_set: RecordSet,
    verdicts: Sequence[Verdict] = (),
    settings: MatchSettings | None = None,
    verdicts_path: str | Path = "verdicts",
) -> DedupOutcome:
    """Cluster every record into publications and build the four output tables."""
    settings = settings or MatchSettings()
    records = record_set.records
    priority = settings.source_priority
    runs = sorted({r["run"] for r in records} | {run for run, _ in record_set.retrieved})
    run_rank = {run: index for index, run in enumerate(runs)}
    features = [features_of(r) for r in records]
    index_of = {r["record_id"]: i for i, r in enumerate(records)}
    same = [
        (index_of[v.record_id_a], index_of[v.record_id_b]) for v in verdicts if v.verdict == "same"
    ]
    different = [
        (index_of[v.record_id_a], index_of[v.record_id_b])
        for v in verdicts
        if v.verdict == "different"
    ]
    try:
        clustering = cluster_records(
            features,
            settings,
            order=[run_rank[r["run"]] for r in records],
            verdict_same=same,
            verdict_different=different,
        )
    except ValidationError as exc:
        raise ValidationError(
            verdicts_path, exc.problem, field=exc.field, value=exc.value, allowed=exc.allowed
        ) from None

    def first_key(i: int) -> tuple:
        r = records[i]
        return (r["run"], _source_rank(r["source"], priority), r["record_id"])

    def canonical_key(i: int) -> tuple:
        r = records[i]
        return (_source_rank(r["source"], priority), -_richness(r), r["run"], r["record_id"])

    neighbours: dict[int, list[Edge]] = defaultdict(list)
    for edge in clustering.tree:
        neighbours[edge.i].append(edge)
        neighbours[edge.j].append(edge)

    unique: list[dict[str, object]] = []
    duplicates: list[dict[str, object]] = []
    publication_of: dict[int, str] = {}
    first_run_of: dict[str, str] = {}
    for members in clustering.groups().values():
        members.sort(key=first_key)
        root = members[0]
        publication_id = records[root]["record_id"]
        canonical = min(members, key=canonical_key)
        for i in members:
            publication_of[i] = publication_id
        first_run_of[publication_id] = records[root]["run"]
        row: dict[str, object] = dict(records[canonical])
        row.update(
            publication_id=publication_id,
            canonical_record_id=records[canonical]["record_id"],
            member_record_ids="; ".join(records[i]["record_id"] for i in members),
            sources="; ".join(dict.fromkeys(records[i]["source"] for i in members)),
            first_run=records[root]["run"],
            n_records=len(members),
        )
        unique.append(row)
        # Walk the merge tree from the publication's first record: each member is
        # explained by the edge that reached it.
        seen = {root}
        queue = [root]
        while queue:
            current = queue.pop(0)
            for edge in sorted(neighbours.get(current, []), key=lambda e: (e.rule, e.i, e.j)):
                other = edge.j if edge.i == current else edge.i
                if other in seen:
                    continue
                seen.add(other)
                queue.append(other)
                duplicates.append(
                    {
                        "record_id": records[other]["record_id"],
                        "duplicate_of": publication_id,
                        "matched_record_id": records[current]["record_id"],
                        "rule": edge.rule,
                        "score": edge.score,
                        "run": records[other]["run"],
                        "source": records[other]["source"],
                    }
                )
    unique.sort(key=lambda r: (str(r["first_run"]), str(r["publication_id"])))
    duplicates.sort(key=lambda r: (str(r["run"]), str(r["duplicate_of"]), str(r["record_id"])))

    maybe_rows: dict[tuple[str, str], dict[str, object]] = {}
    for edge in clustering.maybe:
        a, b = sorted((edge.i, edge.j), key=lambda i: records[i]["record_id"])
        key = (records[a]["record_id"], records[b]["record_id"])
        if key in maybe_rows:
            continue
        ra, rb = records[a], records[b]
        maybe_rows[key] = {
            "record_id_a": ra["record_id"],
            "record_id_b": rb["record_id"],
            "publication_id_a": publication_of[a],
            "publication_id_b": publication_of[b],
            "rule": edge.rule,
            "score": edge.score,
            "title_a": ra.get("title", ""),
            "title_b": rb.get("title", ""),
            "year_a": ra.get("year", ""),
            "year_b": rb.get("year", ""),
            "journal_a": ra.get("journal", ""),
            "journal_b": rb.get("journal", ""),
            "doi_a": ra.get("doi", ""),
            "doi_b": rb.get("doi", ""),
        }
    maybe = [maybe_rows[k] for k in sorted(maybe_rows)]

    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, record in enumerate(records):
        key = (record["run"], record["source"])
        publication_id = publication_of[i]
        if publication_id == record["record_id"]:
            counts[key]["new_publications"] += 1
        elif first_run_of[publication_id] < record["run"]:
            counts[key]["duplicates_of_earlier_runs"] += 1
        else:
            counts[key]["duplicates_within_run"] += 1
    run_rows: list[dict[str, object]] = []
    for run in runs:
        total: dict[str, int] = defaultdict(int)
        sources = sorted(
            {s for r, s in record_set.retrieved if r == run},
            key=lambda s: _source_rank(s, priority),
        )
        for source in sources:
            c = counts[(run, source)]
            row = {
                "run": run,
                "source": source,
                "records_identified": record_set.retrieved.get((run, source), 0),
                "previously_retrieved": record_set.previously_retrieved.get((run, source), 0),
                "duplicates_of_earlier_runs": c["duplicates_of_earlier_runs"],
                "duplicates_within_run": c["duplicates_within_run"],
                "new_publications": c["new_publications"],
            }
            row["duplicates_removed"] = row["records_identified"] - row["new_publications"]
            if row["duplicates_removed"] != (
                row["previously_retrieved"]
                + row["duplicates_of_earlier_runs"]
                + row["duplicates_within_run"]
            ):
                raise AssertionError(f"PRISMA identity broken for {run}/{source}: {row}")
            for column in RUN_COLUMNS[2:]:
                total[column] += int(row[column])  # type: ignore[arg-type]
            run_rows.append(row)
        run_rows.append({"run": run, "source": "all", **total})
    log.info(
        "%d records -> %d publications; %d merged, %d pairs for a human (maybe.tsv)",
        len(records),
        len(unique),
        len(duplicates),
        len(maybe),
    )
    return DedupOutcome(unique=unique, duplicates=duplicates, maybe=maybe, runs=run_rows)


def deduplicate_files(
    record_tables: Sequence[str | Path],
    verdicts_path: str | Path,
    settings: Mapping[str, object],
    *,
    unique: str | Path,
    duplicates: str | Path,
    maybe: str | Path,
    runs: str | Path,
) -> DedupOutcome:
    """Read the tables and verdicts, deduplicate, write the four outputs (atomically).

    Nothing is written when any input is invalid.
    """
    match_settings = MatchSettings.from_params(settings)
    record_set = load_record_tables(record_tables)
    verdicts = load_verdicts(verdicts_path, (r["record_id"] for r in record_set.records))
    outcome = deduplicate(record_set, verdicts, match_settings, verdicts_path)
    write_tsv(unique, outcome.unique, UNIQUE_COLUMNS)
    write_tsv(duplicates, outcome.duplicates, DUPLICATE_COLUMNS)
    write_tsv(maybe, outcome.maybe, MAYBE_COLUMNS)
    write_tsv(runs, outcome.runs, RUN_COLUMNS)
    return outcome


def check_verdicts(
    record_tables: Sequence[str | Path], verdicts_path: str | Path, settings: Mapping[str, object]
) -> None:
    """Validate the verdicts sheet exactly as :func:`deduplicate_files` reads and applies it,
    writing nothing (the ``check_dedup_verdicts`` rule; see :mod:`livingreview.checks`)."""
    record_set = load_record_tables(record_tables)
    verdicts = load_verdicts(verdicts_path, (r["record_id"] for r in record_set.records))
    deduplicate(record_set, verdicts, MatchSettings.from_params(settings), verdicts_path)
