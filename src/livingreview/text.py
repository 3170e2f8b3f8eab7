"""Folding text for comparison: the package's three normalisations, each named for its use.

They differ on purpose, and none may be swapped for another:

* :func:`fold_for_hash` builds the keys of stable record ids (``h`` + SHA-1 of folded title,
  year and first author). **Frozen**: any change renames every hashed record of every
  earlier run, which orphans the screening decisions keyed on them.
* :func:`fold_for_match` compares titles, authors and journals in deduplication; it keeps
  letters of other scripts, so two Chinese titles are not both folded to nothing.
* :func:`fold_for_terms` prepares title and abstract for the screening queue's terms and
  hints; it keeps hyphens and punctuation, which the term and hint patterns read.

And the shared patterns: :data:`ISO_DATE`, the one pattern of a ``YYYY-MM-DD`` cell, and
:data:`PERSON_ID` with :data:`RESERVED_IDS`, what a person's id may be (the config schema's
``$defs/person_id`` says the same; a test ties the two).
"""

from __future__ import annotations

import re
import unicodedata

#: A ``YYYY-MM-DD`` value (the pattern only: callers that need a real calendar date also
#: parse it with :meth:`datetime.date.fromisoformat`).
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: A person's id (reviewer, adjudicator, extractor, data manager): it names their sheets.
PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: Names of the shared sheets, never a person's: ``<stage>/adjudication.tsv`` (screening)
#: and ``<study_id>/adjudicated.tsv`` (extraction).
ADJUDICATION_SHEET = "adjudication"
ADJUDICATED_SHEET = "adjudicated"
RESERVED_IDS = frozenset({ADJUDICATION_SHEET, ADJUDICATED_SHEET})
#: What a person's id may be, in words (for messages).
PERSON_ID_RULE = "lower-case letters, digits, '-' and '_' (not 'adjudication' or 'adjudicated')"


def usable_person_id(ident: str) -> bool:
    """Can ``ident`` be a person's id (and so name their sheets)?

    >>> [usable_person_id(i) for i in ("reviewer-1", "Ann", "adjudicated", "-x")]
    [True, False, False, False]
    """
    return bool(PERSON_ID.match(ident)) and ident not in RESERVED_IDS


_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_WORD = re.compile(r"[^\w]+|_")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_for_hash(text: str) -> str:
    """Lower case, accents removed, everything but ASCII letters and digits to one space.

    Frozen: the key of stable record ids (see the module docstring).

    >>> fold_for_hash("Profiling the patient: a Real-World-Experience.")
    'profiling the patient a real world experience'
    >>> fold_for_hash("Hübener")
    'hubener'
    """
    return " ".join(_NOT_ASCII_ALNUM.sub(" ", _strip_accents(text).casefold()).split())


def fold_for_match(text: str) -> str:
    """Lower case, accents removed, every run of non-word characters to one space.

    Letters of other scripts (Cyrillic, Hangul, CJK) are kept.

    >>> fold_for_match("Léna, H. & Caër — Déjà-vu!")
    'lena h caer deja vu'
    >>> fold_for_match("Гепатит, аутоиммунный")
    'гепатит аутоиммунныи'
    """
    return _NON_WORD.sub(" ", _strip_accents(text).lower()).strip()


def fold_for_terms(text: str) -> str:
    """Lower case ASCII with accents removed; other characters dropped, punctuation kept.

    >>> fold_for_terms("Ciclosporine-A in Hépatite auto-immune")
    'ciclosporine-a in hepatite auto-immune'
    """
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
