"""Normalisers for matching bibliographic records: titles, authors, journals, pages, years.

Consumed by :mod:`livingreview.dedup.keys`. Every function takes the raw text one source gives
(PubMed, Embase/Ovid RIS, Web of Science, BibTeX-like CSV exports) and returns a plain
comparable value; none of them raises on odd input, because a record with a strange page
field must still be compared on everything else. DOI and PMID normalisers live in
:mod:`livingreview.records`, correction notices in :mod:`livingreview.dedup.notices`.
"""

from __future__ import annotations

import html
import re

from ..bibliographic import LANGUAGE_CODES, MONTH_ABBREVIATIONS, is_author_initials
from ..text import fold_for_match

#: Values exports use for "no value".
_MISSING = {"", "na", "n/a", "nan", "none", "null", "unknown", "[no title]", "no title"}

_TAGS = re.compile(r"<[^>]{1,40}>")
_TRAILING_NOTE = re.compile(r"\s*[\[(]([^\[\]()]{1,40})[\])]\s*[.,;]?\s*$")
_EDITORIAL_NOTE = re.compile(
    r"(?i)\s*\[(?:erratum|comment|retraction|update|summary for patients)\b.*$"
)
_NOTE_WORDS = re.compile(
    r"(?i)^(?:article\s+in\s+|in\s+)?(?:review|\d+\s+refs?|english\s+abstract|abstract|letter|"
    r"comment|editorial|[a-z]+)(?:\s+with\s+english\s+abstract)?$"
)
#: Words a bracketed title note may end with to be a language tag (``[Chinese]``,
#: ``[Article in German]``), or ``abstract`` (``[English Abstract]``).
_LANGUAGE_NOTES = frozenset(LANGUAGE_CODES) | {"abstract"}


def is_missing(raw: str | None) -> bool:
    """True for empty cells and the placeholders exports write instead of nothing.

    >>> is_missing(" NA "), is_missing("UNKNOWN"), is_missing("12")
    (True, True, False)
    """
    return raw is None or raw.strip().lower() in _MISSING


def normalise_title(raw: str | None) -> str:
    """Comparable title: markup and entities removed, translation tags and brackets dropped.

    MEDLINE puts translated titles in square brackets and Embase appends the language
    (``[Chinese]``); both forms of one paper must compare equal.

    >>> normalise_title("Efficacy of batroxobin for cognitive impairment. [Chinese]")
    'efficacy of batroxobin for cognitive impairment'
    >>> normalise_title("[A study on the use of vaccine in tuberculous pleurisy].")
    'a study on the use of vaccine in tuberculous pleurisy'
    >>> normalise_title('"Corticosteroids in <i>tuberculous</i> pleurisy."')
    'corticosteroids in tuberculous pleurisy'
    >>> normalise_title("Management of the cervix. [Review] [43 refs]")
    'management of the cervix'
    >>> normalise_title("Anti-factor H in AIH.[Erratum appears in Am J Transplant. 2009;9(9):2205]")
    'anti factor h in aih'
    >>> normalise_title("Outcomes in AIH (ALTS)")
    'outcomes in aih alts'
    >>> normalise_title("NA")
    ''
    """
    if is_missing(raw):
        return ""
    text = strip_title_notes(raw or "")
    while True:
        match = _TRAILING_NOTE.search(text)
        if not match or not _is_note(match.group(1)) or match.start() == 0:
            break
        text = text[: match.start()]
    return fold_for_match(text)


def strip_title_notes(raw: str) -> str:
    """Title without markup, entities and MEDLINE's ``[Erratum appears in ...]`` notes.

    >>> strip_title_notes("Anti-factor H in <i>AIH</i>.[Erratum appears in X. 2009].[Erratum")
    'Anti-factor H in AIH.'
    """
    text = html.unescape(_TAGS.sub("", raw)).strip()
    return _EDITORIAL_NOTE.sub("", text)


def _is_note(inner: str) -> bool:
    """Database annotations appended to titles: ``[Review]``, ``[43 refs]``, ``[Chinese]``."""
    inner = inner.strip()
    if not _NOTE_WORDS.match(inner):
        return False
    last = fold_for_match(inner).split(" ")[-1] if fold_for_match(inner) else ""
    return last in _LANGUAGE_NOTES or last in {
        "review",
        "refs",
        "ref",
        "abstract",
        "letter",
        "comment",
        "editorial",
    }


_ASYSD_SPLIT = re.compile(r"(?<=\.)(?=[A-Z\u00C0-\u024F][^\s.,])")


def split_authors(raw: str | None) -> list[str]:
    """Author names as written, one per author, from any of the usual joined forms.

    Handles BibTeX ``Last, F and Last2, G``, this project's ``Last FM; Last2 G``, and the
    separator-less ``Last F. M.Last2 G.`` form some EndNote exports produce.

    >>> split_authors("Zuna, R E and Wang, S S")
    ['Zuna, R E', 'Wang, S S']
    >>> split_authors("Heneghan MA; Norris SM")
    ['Heneghan MA', 'Norris SM']
    >>> split_authors("Adeli K.Lewis G. F.")
    ['Adeli K.', 'Lewis G. F.']
    >>> split_authors("Smith J, Jones K"), split_authors("Durlauf, Maria")
    (['Smith J', 'Jones K'], ['Durlauf, Maria'])
    """
    if is_missing(raw):
        return []
    text = (raw or "").strip()
    if " and " in text:
        parts = re.split(r"\s+and\s+", text)
    elif ";" in text:
        parts = text.split(";")
    elif "," in text and all(len(part.split()) >= 2 for part in text.split(",")):
        parts = text.split(",")  # "Smith J, Jones K"; "Durlauf, Maria" is one name
    else:
        parts = _ASYSD_SPLIT.split(text)
    return [part.strip() for part in parts if part.strip() and not is_missing(part)]


def author_surname(name: str) -> str:
    """Folded surname without spaces from one written name.

    >>> author_surname("Le Quintrec, M.")
    'lequintrec'
    >>> author_surname("Heneghan MA")
    'heneghan'
    >>> author_surname("El Hachmane M.")
    'elhachmane'
    >>> author_surname("Wagner, Gerit")
    'wagner'
    """
    name = name.strip()
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        tokens = name.split()
        while len(tokens) > 1 and is_author_initials(tokens[-1]):
            tokens.pop()
        surname = " ".join(tokens)
    return fold_for_match(surname).replace(" ", "")


def author_surnames(raw: str | None) -> tuple[str, ...]:
    """Folded surnames in byline order.

    >>> author_surnames("Zipfel, P. F. and Skerka, C.")
    ('zipfel', 'skerka')
    """
    return tuple(s for s in (author_surname(n) for n in split_authors(raw)) if s)


_JOURNAL_STOP = {"the", "of", "and", "in", "for", "on", "de", "la", "le", "der", "und", "et", "a"}


def journal_tokens(raw: str | None) -> tuple[str, ...]:
    """Folded journal words without stop words (``&`` and ``and`` both vanish).

    >>> journal_tokens("Seminars in Thrombosis & Hemostasis")
    ('seminars', 'thrombosis', 'hemostasis')
    >>> journal_tokens('"Lung cancer (Amsterdam, Netherlands)"')
    ('lung', 'cancer', 'amsterdam', 'netherlands')
    """
    if is_missing(raw):
        return ()
    return tuple(t for t in fold_for_match(raw or "").split() if t not in _JOURNAL_STOP)


def journals_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when one journal name can be an abbreviation or a longer form of the other.

    Every word of the shorter name must be a prefix of a word of the longer one, in order.
    Unknown journals are compatible with anything.

    >>> journals_compatible(journal_tokens("Curr Opin Lipidol"),
    ...                     journal_tokens("Current Opinion in Lipidology"))
    True
    >>> journals_compatible(journal_tokens("Brain"), journal_tokens("Brain: A Journal of Neurology"))
    True
    >>> journals_compatible(journal_tokens("Hepatology"), journal_tokens("J Hepatol"))
    False
    >>> journals_compatible(journal_tokens("ICIS: Transforming Society"),
    ...                     journal_tokens("International Conference on Information Systems"))
    True
    """
    if not a or not b:
        return True
    initials_a, initials_b = "".join(w[0] for w in a), "".join(w[0] for w in b)
    if (len(initials_a) >= 3 and initials_a in b) or (len(initials_b) >= 3 and initials_b in a):
        return True  # an acronym: "ICIS" and "International Conference on Information Systems"
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    position = 0
    for word in short:
        while position < len(long_) and not long_[position].startswith(word):
            position += 1
        if position == len(long_):
            return False
        position += 1
    return True


_PAGE_RANGE = re.compile(
    r"^\s*([A-Za-z]{0,4})(\d+)([A-Za-z]?)\s*(?:-+|–|—|to)?\s*([A-Za-z]{0,4})(\d*)"
)
#: A month name in a page cell: a spreadsheet turned the range into a date (``Oct-17``).
_MONTH_IN_PAGES = re.compile(rf"(?i)\b(?:{'|'.join(MONTH_ABBREVIATIONS)})\b")


def page_range(raw: str | None) -> tuple[str, str]:
    """First and last page as digits, the last expanded; letter prefixes (``e``, ``S``,
    ``iii``) and leading zeros dropped, so ``e0137960`` and ``137960`` agree.

    Spreadsheet-mangled ranges (``Oct-17`` for 10-17) are unreadable and count as missing.

    >>> page_range("221-8")
    ('221', '228')
    >>> page_range("376 -- 383")
    ('376', '383')
    >>> page_range("e0137960")
    ('137960', '')
    >>> page_range("iii428-iii429")
    ('428', '429')
    >>> page_range("1321-7")
    ('1321', '1327')
    >>> page_range("Oct-17"), page_range("NA")
    (('', ''), ('', ''))
    """
    if is_missing(raw) or _MONTH_IN_PAGES.search(raw or ""):
        return ("", "")
    match = _PAGE_RANGE.match(raw or "")
    if not match:
        return ("", "")
    _, first, _, _, last = match.groups()
    first = first.lstrip("0") or "0"
    if not last:
        return (first, "")
    last = last.lstrip("0") or "0"
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return (first, last)


def normalise_year(raw: str | None) -> int | None:
    """The four-digit year in a date or year cell, or None.

    >>> normalise_year("2019 Dec"), normalise_year("2021-03-04"), normalise_year("n.d.")
    (2019, 2021, None)
    """
    match = re.search(r"(1[89]\d\d|20\d\d)", raw or "")
    return int(match.group(1)) if match else None


_VOLUME = re.compile(
    r"(?i)^(?:vol(?:ume)?\.?\s*)?0*(\d+)[a-z]?(?:\s*(?:\(?(?:suppl|supplement|pt|part|no|issue)\b.*))?$"
)


def normalise_volume(raw: str | None) -> str:
    """Volume number when the cell plainly holds one (``Vol. 38``, ``147 Suppl 1``), else ''.

    Cells such as ``1)`` or ``Korsakova. Part 2. 117`` are export debris, not volumes, and
    must not be mistaken for a conflicting volume.

    >>> normalise_volume("Vol. 38"), normalise_volume("147 Suppl 1"), normalise_volume("1)")
    ('38', '147', '')
    >>> normalise_volume("NA"), normalise_volume("Korsakova. Part 2. 117")
    ('', '')
    """
    if is_missing(raw):
        return ""
    match = _VOLUME.match((raw or "").strip())
    return match.group(1) if match else ""


_ISSUE = re.compile(r"(?i)^(?:no\.?|issue|suppl(?:ement)?\.?|s|pt\.?|part)?\s*0*(\d{1,4})\b")


def normalise_issue(raw: str | None) -> str:
    """Issue or supplement number as digits (``SUPPL. 3``, ``S3`` and ``3`` agree), else ''.

    Needed because some exports shift ``30 (Suppl 3)`` into the volume cell as ``3``.

    >>> normalise_issue("SUPPL. 3"), normalise_issue("S3"), normalise_issue("12"), normalise_issue("NA")
    ('3', '3', '12', '')
    >>> normalise_issue("Supplement 1"), normalise_issue("Spring")
    ('1', '')
    """
    if is_missing(raw):
        return ""
    match = _ISSUE.match((raw or "").strip())
    return match.group(1) if match else ""


# Function words that tell the languages of titles apart (words shared by two languages,
# such as "des", "de", "la", "in", "en", are left out).
_LANGUAGE_WORDS = {
    "en": {
        "the",
        "of",
        "and",
        "with",
        "for",
        "from",
        "between",
        "after",
        "during",
        "among",
        "its",
        "by",
        "on",
    },
    "de": {
        "der",
        "die",
        "das",
        "dem",
        "den",
        "und",
        "zum",
        "zur",
        "mit",
        "von",
        "bei",
        "einer",
        "eines",
        "uber",
        "fur",
        "nach",
        "zwischen",
        "im",
        "auf",
        "ist",
        "ein",
        "eine",
    },
    "fr": {"le", "les", "du", "et", "dans", "pour", "sur", "une", "aux", "chez", "avec", "au"},
    "es": {"el", "los", "las", "del", "y", "para", "por", "una", "sobre", "entre", "con"},
    "it": {"il", "gli", "della", "dei", "di", "per", "nel", "nella", "tra", "degli", "delle"},
    "nl": {"het", "een", "van", "voor", "bij", "naar", "ook", "op"},
}


def title_language(title: str) -> str:
    """Language of a normalised title from its function words, '' when unclear.

    >>> title_language("review artikel zum aktuellen stand des plattformkapitalismus")
    'de'
    >>> title_language("review article the current situation of platform capitalism")
    'en'
    >>> title_language("platform capitalism")
    ''
    """
    words = title.split()
    counts = sorted(
        (
            (sum(word in vocabulary for word in words), language)
            for language, vocabulary in _LANGUAGE_WORDS.items()
        ),
        reverse=True,
    )
    (best, language), (second, _) = counts[0], counts[1]
    return language if best > second else ""
