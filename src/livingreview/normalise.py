"""Normalisers for matching bibliographic records: titles, authors, journals, pages, years.

Consumed by :mod:`livingreview.dedup`. Every function takes the raw text one source gives
(PubMed, Embase/Ovid RIS, Web of Science, BibTeX-like CSV exports) and returns a plain
comparable value; none of them raises on odd input, because a record with a strange page
field must still be compared on everything else. DOI and PMID normalisers live in
:mod:`livingreview.records`.
"""

from __future__ import annotations

import html
import re
import unicodedata

#: Values exports use for "no value".
_MISSING = {"", "na", "n/a", "nan", "none", "null", "unknown", "[no title]", "no title"}

_TAGS = re.compile(r"<[^>]{1,40}>")
_TRAILING_NOTE = re.compile(r"\s*[\[(]([^\[\]()]{1,40})[\])]\s*[.,;]?\s*$")
_EDITORIAL_NOTE = re.compile(r"(?i)\s*\[(?:erratum|comment|retraction|update|summary for patients)\b.*$")
_NOTE_WORDS = re.compile(
    r"(?i)^(?:article\s+in\s+|in\s+)?(?:review|\d+\s+refs?|english\s+abstract|abstract|letter|"
    r"comment|editorial|[a-z]+)(?:\s+with\s+english\s+abstract)?$"
)
_LANGUAGES = {
    "chinese", "japanese", "german", "french", "spanish", "italian", "russian", "korean",
    "portuguese", "polish", "dutch", "czech", "turkish", "hungarian", "danish", "swedish",
    "norwegian", "finnish", "greek", "hebrew", "persian", "arabic", "croatian", "serbian",
    "slovak", "slovenian", "romanian", "bulgarian", "ukrainian", "lithuanian", "estonian",
    "latvian", "english", "abstract",
}
_NON_WORD = re.compile(r"[^\w]+|_")


def is_missing(raw: str | None) -> bool:
    """True for empty cells and the placeholders exports write instead of nothing.

    >>> is_missing(" NA "), is_missing("UNKNOWN"), is_missing("12")
    (True, True, False)
    """
    return raw is None or raw.strip().lower() in _MISSING


def fold(text: str) -> str:
    """Lower-case, strip accents, turn every run of non-word characters into one space.

    Letters of other scripts (Cyrillic, Hangul, CJK) are kept.

    >>> fold("Léna, H. & Caër — Déjà-vu!")
    'lena h caer deja vu'
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


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
    return fold(text)


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
    last = fold(inner).split(" ")[-1] if fold(inner) else ""
    return last in _LANGUAGES or last in {"review", "refs", "ref", "abstract", "letter", "comment", "editorial"}


_ASYSD_SPLIT = re.compile(r"(?<=\.)(?=[A-Z\u00C0-\u024F][^\s.,])")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


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
        while len(tokens) > 1 and _INITIALS.match(tokens[-1]):
            tokens.pop()
        surname = " ".join(tokens)
    return fold(surname).replace(" ", "")


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
    return tuple(t for t in fold(raw or "").split() if t not in _JOURNAL_STOP)


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


_PAGE_RANGE = re.compile(r"^\s*([A-Za-z]{0,4})(\d+)([A-Za-z]?)\s*(?:-+|–|—|to)?\s*([A-Za-z]{0,4})(\d*)")
_MONTHS = re.compile(r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b")


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
    if is_missing(raw) or _MONTHS.search(raw or ""):
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


_VOLUME = re.compile(r"(?i)^(?:vol(?:ume)?\.?\s*)?0*(\d+)[a-z]?(?:\s*(?:\(?(?:suppl|supplement|pt|part|no|issue)\b.*))?$")


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
