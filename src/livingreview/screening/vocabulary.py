"""The words of the screening stage: stages, decisions, statuses, sheet names and id shapes.

Every other module of the stage (and the reviewers' desk) takes these names from here, so a
stage or status is spelt in one place.
"""

from __future__ import annotations

import re

from ..text import ADJUDICATION_SHEET

TITLE_ABSTRACT = "title_abstract"
FULL_TEXT = "full_text"
STAGES: tuple[str, ...] = (TITLE_ABSTRACT, FULL_TEXT)
STAGE_LABELS = {TITLE_ABSTRACT: "title/abstract", FULL_TEXT: "full text"}

DECISIONS: dict[str, tuple[str, ...]] = {
    TITLE_ABSTRACT: ("include", "exclude", "maybe"),
    FULL_TEXT: ("include", "exclude", "maybe", "not_retrieved"),
}
#: Columns of a reviewer's sheet, in this order; full-text sheets add ``study_id``.
DECISION_COLUMNS: tuple[str, ...] = ("record_id", "decision", "reason", "note", "decided_on")
ADJUDICATION_FILE = f"{ADJUDICATION_SHEET}.tsv"

AWAITING_TITLE_ABSTRACT = "awaiting_title_abstract"
EXCLUDED_TITLE_ABSTRACT = "excluded_title_abstract"
AWAITING_FULL_TEXT = "awaiting_full_text"
FULL_TEXT_NOT_RETRIEVED = "full_text_not_retrieved"
EXCLUDED_FULL_TEXT = "excluded_full_text"
INCLUDED = "included"
STATUSES: tuple[str, ...] = (
    AWAITING_TITLE_ABSTRACT,
    EXCLUDED_TITLE_ABSTRACT,
    AWAITING_FULL_TEXT,
    FULL_TEXT_NOT_RETRIEVED,
    EXCLUDED_FULL_TEXT,
    INCLUDED,
)
#: The status a final full-text decision gives a publication.
FULL_TEXT_STATUS = {
    "include": INCLUDED,
    "exclude": EXCLUDED_FULL_TEXT,
    "not_retrieved": FULL_TEXT_NOT_RETRIEVED,
}

#: A study id of a full-text inclusion, e.g. ``pape-2019``.
STUDY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: A record id of the record tables, ``<source>:<id>``.
RECORD_ID = re.compile(r"^[a-z][a-z0-9_]*:\S+$")


def split_multi(value: str) -> list[str]:
    """Split a ``"; "``-joined cell.

    >>> split_multi("pubmed:1; embase:L2 ;")
    ['pubmed:1', 'embase:L2']
    """
    return [part.strip() for part in value.split(";") if part.strip()]
