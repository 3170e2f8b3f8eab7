"""Deciding one candidate pair: ``same`` (merge), ``maybe`` (ask a human) or ``none``.

:func:`compare` applies the rules of the package docstring in order: exact keys, correction
notices (:func:`correction_link`), hard conflicts (:mod:`.conflicts`), then fuzzy matching
on the title checked against authors, year, volume, pages and journal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from .conflicts import (
    conflict,
    garbled_page,
    names_erratum,
    republished,
    same_end_garbled_start,
    soft_conflict,
)
from .keys import Features
from .normalise import journals_compatible, title_language
from .settings import MatchSettings

SAME, MAYBE, NONE = "same", "maybe", "none"


@dataclass(slots=True)
class PairResult:
    """The decision on one pair (SAME, MAYBE or NONE), the rule that made it and the title
    similarity it rests on (0-100)."""

    decision: str
    rule: str
    score: float


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


def _full_byline(a: Features, b: Features, authors: float | None) -> bool:
    """Two or more authors on each side, and bylines that agree (author score 90 or more)."""
    return min(len(a.surnames), len(b.surnames)) >= 2 and (authors or 0) >= 90


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
        if not original.notice and names_erratum(original, other) and not other.core_generic:
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
    full_byline = _full_byline(notice, article, authors)
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
    """Decide one candidate pair: ``same`` (merge), ``maybe`` (ask a human) or ``none``.

    The rules run in phases, the first that decides wins: identifiers, hard conflicts and
    correction notices (:func:`_by_identifiers`); then the other fields' evidence
    (:class:`PairEvidence`) weighed by the titles: no title, a title without its subtitle,
    dissimilar titles, short or generic titles, long titles.
    """
    title = fuzz.ratio(a.title, b.title) if a.title and b.title else None
    decided = _by_identifiers(a, b, s, title)
    if decided is not None:
        return decided
    e = PairEvidence.of(a, b)
    if title is None:
        if e.same_issue and e.first_author_same and not (a.generic or b.generic):
            return PairResult(MAYBE, "no_title_same_issue", 0.0)
        return PairResult(NONE, "no_title", 0.0)
    if (
        e.prefix
        and (e.range_agrees or (e.pages_agree and e.volume_agree))
        and e.same_year
        and e.authors is not None
        and e.authors >= s.author_min
    ):
        # A title exported without its subtitle or section tag, in the same pages.
        return PairResult(SAME, "title_prefix_same_pages", round(title, 1))
    if title < s.title_maybe:
        return _dissimilar_titles(a, b, e, title)
    if a.generic or b.generic or min(a.words, b.words) < s.short_title_words:
        return _short_titles(a, b, e, s, title)
    return _long_titles(a, b, e, s, title)


def _by_identifiers(
    a: Features, b: Features, s: MatchSettings, title: float | None
) -> PairResult | None:
    """PMID, DOI, hard conflicts, correction notices and reprints; None leaves the pair to
    the other fields."""
    if a.pmid and a.pmid == b.pmid:
        return PairResult(SAME, "pmid", 100.0)
    why_not = conflict(a, b)
    if a.doi and a.doi == b.doi and not why_not:
        if title is None or title >= s.doi_title_min or _title_prefix(a.title, b.title):
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
    return None


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """What the fields other than the title say about a pair without hard conflicts."""

    prefix: bool  # one title is the other without its subtitle
    mismatch: str  # a lone page or volume mismatch (soft_conflict), or ''
    same_year: bool
    adjacent_years: bool
    pages_agree: bool  # same first page, or one typo apart with the same last page
    range_agrees: bool  # ...and the same last page
    volume_agree: bool
    issues_differ: bool
    authors: float | None  # author_score, None when a byline is missing
    first_author_same: bool
    same_issue: bool  # same year, page range and volume in compatible journals

    @classmethod
    def of(cls, a: Features, b: Features) -> PairEvidence:
        same_year = a.year is not None and a.year == b.year
        pages_agree = bool(a.page) and (a.page == b.page or same_end_garbled_start(a, b))
        range_agrees = (
            pages_agree
            and bool(a.last_page)
            and a.last_page == b.last_page
            and a.last_page != a.page
        )
        volume_agree = bool(a.volume) and a.volume == b.volume
        return cls(
            prefix=_title_prefix(a.title, b.title),
            mismatch=soft_conflict(a, b),
            same_year=same_year,
            adjacent_years=a.year is not None and b.year is not None and abs(a.year - b.year) <= 1,
            pages_agree=pages_agree,
            range_agrees=range_agrees,
            volume_agree=volume_agree,
            issues_differ=bool(a.issue and b.issue and a.issue != b.issue),
            authors=author_score(a.surnames, b.surnames),
            first_author_same=bool(a.surnames and b.surnames) and a.surnames[0] == b.surnames[0],
            same_issue=same_year
            and range_agrees
            and volume_agree
            and journals_compatible(a.journal, b.journal),
        )


def _dissimilar_titles(a: Features, b: Features, e: PairEvidence, title: float) -> PairResult:
    """Titles below ``title_maybe``: only a translated title in the same pages of the same
    volume by the same first author is worth a look."""
    if e.same_issue and e.first_author_same and not (a.generic or b.generic) and a.journal:
        languages = (title_language(a.title), title_language(b.title))
        translated = all(languages) and languages[0] != languages[1]
        if _full_byline(a, b, e.authors) or (translated and (e.authors or 0) >= 90):
            # A sole author's pages count only when one title is the other's translation.
            return PairResult(SAME, "same_issue_pages", round(title, 1))
        return PairResult(MAYBE, "same_issue_pages", round(title, 1))
    return PairResult(NONE, "title", round(title, 1))


def _short_titles(
    a: Features, b: Features, e: PairEvidence, s: MatchSettings, title: float
) -> PairResult:
    """A short or generic title proves little: ask for the issue to agree too."""
    if e.mismatch:
        return PairResult(NONE, e.mismatch, round(title, 1))
    if (
        title >= s.title_same
        and e.same_year
        and e.pages_agree
        and (e.volume_agree or not (a.volume and b.volume))
    ):
        if e.authors is None or e.authors >= s.author_min:
            return PairResult(SAME, "fuzzy_short_title", round(title, 1))
    if a.generic or b.generic:
        return PairResult(NONE, "generic_title", round(title, 1))
    journal_ok = journals_compatible(a.journal, b.journal)
    if e.authors is not None and e.authors >= s.author_min and journal_ok and e.volume_agree:
        if e.range_agrees and e.adjacent_years:
            # Dated by online publication in one database, by print in the other.
            return PairResult(SAME, "short_title_same_issue", round(title, 1))
        if (
            a.title == b.title
            and min(a.words, b.words) >= 3
            and e.same_year
            and e.authors >= 90
            and not (a.page and b.page)
            and not e.issues_differ
        ):
            # A meeting's abstract book or an abstract listed without pages: the
            # same title, byline, year and volume.
            return PairResult(SAME, "short_title_same_volume", round(title, 1))
    return PairResult(MAYBE, "short_title", round(title, 1))


def _long_titles(
    a: Features, b: Features, e: PairEvidence, s: MatchSettings, title: float
) -> PairResult:
    """A long title at or above ``title_maybe``, checked against the other fields."""
    if title < s.title_same:
        if e.same_issue and e.authors is not None and e.authors >= s.author_min:
            return PairResult(SAME, "fuzzy_same_issue", round(title, 1))
        return PairResult(MAYBE, "title_similar", round(title, 1))
    if e.mismatch:
        # Same long title, same byline, same year: a garbled page or volume cell, unless
        # the byline or year leaves room for doubt.
        if (
            title >= 97
            and e.same_year
            and e.authors is not None
            and e.authors >= 90
            and a.words >= 8
            and journals_compatible(a.journal, b.journal)
            and (e.mismatch == "volume" or garbled_page(a.page, b.page))
        ):
            return PairResult(SAME, f"fuzzy_despite_{e.mismatch}", round(title, 1))
        return PairResult(MAYBE, f"{e.mismatch}_differ", round(title, 1))
    if e.same_issue:
        # Same title in the same pages of the same volume and year: bylines are often
        # garbled (swapped names, group authors), the issue is not.
        return PairResult(SAME, "fuzzy_same_issue", round(title, 1))
    authors = e.authors
    if authors is not None and authors < s.author_min:
        # Given names exported as surnames ("Andrea, C." for "Carignani, Andrea").
        if title >= 95 and fuzz.token_set_ratio(a.name_tokens, b.name_tokens) >= 95 and e.same_year:
            authors = 90.0
        else:
            return PairResult(MAYBE, "authors_differ", round(title, 1))
    full_byline = _full_byline(a, b, authors)
    corroborated = e.pages_agree or e.volume_agree
    if not e.same_year and not corroborated:
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
    if not journals_compatible(a.journal, b.journal) and not e.pages_agree and not full_byline:
        return PairResult(MAYBE, "journal_differs", round(title, 1))
    if not corroborated and (authors is None or _substantive_change(a.title, b.title)):
        return PairResult(MAYBE, "uncorroborated", round(title, 1))
    return PairResult(SAME, "fuzzy", round(title, 1))
