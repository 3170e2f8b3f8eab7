"""Eligibility hints: reasons a screener may want to look twice at a record.

Hints are read off the record (language, publication type, wording of title and abstract,
missing CNI or AIH terms, missing abstract) and shown in the queue; they never decide
anything. The ranking score also uses them as terms (``hint:...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from .vocabulary import split_multi

_ALLOWED_LANGUAGES = {
    "eng",
    "dut",
    "nld",
    "ger",
    "deu",
    "fre",
    "fra",
    "en",
    "nl",
    "de",
    "fr",
    "english",
    "dutch",
    "german",
    "french",
}
_PT_HINTS = (
    (re.compile(r"congress|conference|meeting|abstract", re.I), "congress/meeting abstract"),
    (re.compile(r"guideline|consensus|position", re.I), "guideline"),
    (re.compile(r"review|meta-analysis", re.I), "review"),
    (re.compile(r"editorial|comment|letter|note\b", re.I), "editorial/letter/comment"),
)
_WORDING_HINTS = (
    (
        re.compile(
            r"\b(child|children|childhood|paediatric|pediatric|infant\w*|adolescen\w*|juvenile|kids?|kinder\w*|enfants?|p[ée]diatri\w*|jugendlich\w*)\b",
            re.I,
        ),
        "paediatric wording",
    ),
    (
        re.compile(
            r"\b(liver transplant\w*|after transplant\w*|post-?transplant\w*|allograft|de novo autoimmune hepatitis|recurrent autoimmune hepatitis|recurrence)\b",
            re.I,
        ),
        "transplant wording",
    ),
    (
        re.compile(r"\b(overlap|variant syndrome|primary biliary|primary sclerosing|PBC|PSC)\b"),
        "PBC/PSC/overlap wording",
    ),
    (re.compile(r"\b(mice|mouse|murine|rats?|rodent|canine|dogs?)\b", re.I), "animal wording"),
)
_CNI = re.compile(
    r"cyclosporin|ciclosporin|tacrolimus|calcineurin|\bfk[- ]?506\b|neoral|prograf|advagraf|sandimmun",
    re.I,
)
_AIH = re.compile(
    r"autoimmune hepatitis|auto-immune hepatitis|chronic active hepatitis|\bAIH\b|hepatitis, autoimmune",
    re.I,
)
_MEETING_TITLE = re.compile(r"^\s*[A-Z]{1,5}-?\d{1,4}\b")


def eligibility_hints(record: Mapping[str, str]) -> list[str]:
    """Reasons a screener may want to look twice; they never decide anything.

    >>> eligibility_hints({"title": "Tacrolimus in children with autoimmune hepatitis",
    ...                    "abstract": "", "language": "eng", "publication_types": "Journal Article"})
    ['paediatric wording', 'no abstract']
    >>> eligibility_hints({"title": "PTH-084 Tacrolimus in AIH", "abstract": "x",
    ...                    "language": "chi", "publication_types": "Conference Abstract"})
    ['language chi (not English/Dutch/German/French)', 'publication type: congress/meeting abstract', 'title numbered like a meeting abstract']
    """
    return list(
        _hints_of(
            record.get("language", ""),
            record.get("publication_types", ""),
            record.get("title", ""),
            record.get("abstract", ""),
            record.get("mesh_terms", ""),
        )
    )


@lru_cache(maxsize=1 << 17)
def _hints_of(
    language: str, types: str, title: str, abstract: str, mesh_terms: str
) -> tuple[str, ...]:
    """The hints of one record's fields, remembered: the screening stage asks for each
    publication's hints once for the ranking and once per reviewer queue, and the regular
    expressions are most of its time on large searches."""
    hints: list[str] = []
    languages = [code.strip().lower() for code in split_multi(language)]
    if languages and not any(code in _ALLOWED_LANGUAGES for code in languages):
        hints.append(f"language {'/'.join(languages)} (not English/Dutch/German/French)")
    for pattern, label in _PT_HINTS:
        if pattern.search(types):
            hints.append(f"publication type: {label}")
    if _MEETING_TITLE.match(title):
        hints.append("title numbered like a meeting abstract")
    text = f"{title} {abstract}"
    for pattern, label in _WORDING_HINTS:
        if pattern.search(text):
            hints.append(label)
    topical = f"{text} {mesh_terms}"
    if not _CNI.search(topical):
        hints.append("no CNI term")
    if not _AIH.search(topical):
        hints.append("no AIH term")
    if not abstract.strip():
        hints.append("no abstract")
    return tuple(hints)
