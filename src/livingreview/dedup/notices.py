"""Correction notices: ``Erratum: X``, ``X (vol 85, pg 553, 2010)``, MEDLINE's
``[Erratum appears in ...]`` notes.

A notice is a record of its own with its own DOI and pages; :mod:`livingreview.dedup.match`
joins it to the article it corrects only on the evidence these functions extract (the
corrected title, the cited volume, first page and DOI).
"""

from __future__ import annotations

import re

from ..text import fold_for_match
from .normalise import is_missing, page_range, strip_title_notes

#: "Erratum: X", "Erratum to - X", "Correction to: X", "Corrigendum to "X"", "ERRATUM - X".
#: A bare word needs a colon, a dash or "to": "Correction of hallux valgus" is an article.
_NOTICE_PREFIX = re.compile(
    r"(?i)^\W*(?:erratum|errata|corrigendum|correction)(?:\s+notice)?\s*"
    r"(?:(?:to|for|on)\b\s*[:\-\u2013\u2014]?|[:\-\u2013\u2014])\s*"
)
#: Web of Science: "Title (vol 85, pg 553, 2010)".
_WOS_CITATION = re.compile(
    r"(?i)^\s*vol\.?\s*(\w+)\s*,\s*pg\.?\s*([A-Za-z]?\d+)\s*,\s*(?:1[89]|20)\d\d\s*$"
)
#: Embase: "Title (New England Journal of Medicine (2009) 360 (542-544))".
_EMBASE_CITATION = re.compile(
    r"^[^()]*[A-Za-z][^()]*\(\s*[^()]*(?:1[89]|20)\d\d[^()]*\)\s*(\d{1,5})\s*(?:\([^()]*\)\s*)?"
    r"\(\s*([A-Za-z]?\d+)"
)
#: Elsevier: 'Corrigendum to "Title" [J. Strategic Inf. Syst. 21(3) (2012) 182-200]'.
_ELSEVIER_CITATION = re.compile(
    r"^[^()\[\]]*[A-Za-z][^()\[\]]*?\s(\d{1,5})\s*(?:\(\s*[\w-]+\s*\))?"
    r"\s*\(\s*(?:1[89]|20)\d\d\s*\)\s*([A-Za-z]?\d+)"
)
_CITED_DOI = re.compile(r"10\.\d{4,9}/[^\s()\[\]]+")
#: MEDLINE/Ovid notes on the corrected article: "[Erratum appears in Am J Hematol. 2010 Nov;85(11):911]".
_ERRATUM_NOTE = re.compile(
    r"(?i)erratum\s+appears\s+in\s+[^\];]*;\s*(\d{1,5})\s*(?:\([^)]*\))?\s*:\s*([A-Za-z]?\d+)"
)


def _trailing_group(text: str) -> tuple[int, str, bool] | None:
    """Start, inside and completeness of the bracketed group that ends ``text``.

    An opening bracket never closed (a citation cut off by the export's field length)
    counts as a trailing group too, marked incomplete.

    >>> _trailing_group("Title (vol 85, pg 553, 2010)")
    (6, 'vol 85, pg 553, 2010', True)
    >>> _trailing_group("Title (ADAMTS 13) in children (The Journal of Pediatrics (M")
    (30, 'The Journal of Pediatrics (M', False)
    >>> _trailing_group("No group here") is None
    True
    """
    if "(" not in text and "[" not in text:
        return None
    stack: list[int] = []
    pairs = {")": "(", "]": "["}
    last_closed: tuple[int, int] | None = None
    for position, char in enumerate(text):
        if char in "([":
            stack.append(position)
        elif char in pairs and stack and text[stack[-1]] == pairs[char]:
            start = stack.pop()
            if not stack:
                last_closed = (start, position)
    if stack:
        start = stack[0]
        return start, text[start + 1 :], False
    stripped = text.rstrip(" .")
    if last_closed and last_closed[1] == len(stripped) - 1:
        start, end = last_closed
        return start, text[start + 1 : end], True
    return None


def correction_notice(raw: str | None) -> tuple[str, str, str, str] | None:
    """``(title of the corrected article, cited volume, cited first page, cited DOI)`` when
    the title is a correction notice, else None.

    A notice is recognised by a leading ``Erratum:``/``Correction to``/``Corrigendum to``
    or by a trailing citation of the corrected article (Web of Science's ``(vol 85, pg
    553, 2010)``, Embase's ``(Journal (2009) 360 (542-544))``, Elsevier's ``[J. X 21(3)
    (2012) 182-200]``). Retraction notices are deliberately not recognised: they must stay
    visible as records of their own. Unknown cited parts are ''.

    >>> correction_notice("Long-term effect of eculizumab (vol 85, pg 553, 2010)")
    ('Long-term effect of eculizumab', '85', '553', '')
    >>> correction_notice("Eculizumab for aHUS (New England Journal of Medicine (2009) 360 (542-544))")
    ('Eculizumab for aHUS', '360', '542', '')
    >>> correction_notice("Erratum: Gain-of-function mutations in factor B (Proceeding of the Nation")
    ('Gain-of-function mutations in factor B', '', '', '')
    >>> correction_notice('Corrigendum to "Joint planning" [J. Strategic Inf. Syst. 21(3) (2012) 182-200]')
    ('"Joint planning"', '21', '182', '')
    >>> correction_notice("Corrigendum to “Platforms” (TFSC (2017) 117 (119–130), (10.1016/j.tf.2016.12.011))")
    ('“Platforms”', '117', '119', '10.1016/j.tf.2016.12.011')
    >>> correction_notice("Erratum to - How do requirements evolve over time?")
    ('How do requirements evolve over time?', '', '', '')
    >>> correction_notice("Correction of hallux valgus (a review)") is None
    True
    >>> correction_notice("RETRACTED: Provider feedback and customer choice") is None
    True
    >>> correction_notice("Erratum") is None
    True
    """
    if is_missing(raw):
        return None
    text = strip_title_notes(raw or "").strip().strip('"').strip()
    prefix = _NOTICE_PREFIX.match(text)
    if prefix:
        text = text[prefix.end() :]
    volume = page = doi = ""
    group = _trailing_group(text)
    cited = False
    if group:
        start, inner, complete = group
        doi_match = _CITED_DOI.search(inner)
        for pattern in (_WOS_CITATION, _EMBASE_CITATION, _ELSEVIER_CITATION):
            match = pattern.match(inner) if complete else None
            if match:
                volume, page = match.group(1), page_range(match.group(2))[0]
                cited = True
                break
        if doi_match and complete and (prefix or cited):
            doi = doi_match.group(0).rstrip(".,;)")
        if cited or (prefix and (doi or not complete)):
            text = text[:start]
    if not (prefix or cited):
        return None
    text = text.strip(" .,;:-\u2013\u2014")
    if not fold_for_match(text):
        return None
    return (text, volume, page, doi.lower())


def erratum_notes(raw: str | None) -> tuple[tuple[str, str], ...]:
    """``(volume, first page)`` of every erratum a MEDLINE title note says was published.

    >>> erratum_notes("Anti-factor H.[Erratum appears in Am J Transplant. 2009 Sep;9(9):2205 Note: X]")
    (('9', '2205'),)
    >>> erratum_notes("Timing.[Erratum appears in Brain Inj. 2013;27(3):377]"), erratum_notes("Plain")
    ((('27', '377'),), ())
    """
    if not raw or "rratum" not in raw:
        return ()
    return tuple((volume, page_range(page)[0]) for volume, page in _ERRATUM_NOTE.findall(raw))
