"""Each reviewer's queue: what they still have to decide, likely inclusions first.

``queue/<stage>/<reviewer>.tsv`` holds one :class:`QueueRow` per publication that reviewer
must still decide at that stage, ranked by the score of :mod:`.ranking` learnt for that very
queue (the stage's settled decisions plus the reviewer's own), with links, the record's
bibliographic fields and eligibility hints. When screening is blinded nothing in a queue shows
anyone else's decisions, not even through its order; otherwise ``other_decisions`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

from .hints import eligibility_hints
from .publications import PublicationIndex
from .ranking import Ranking
from .resolve import Resolution

QUEUE_COLUMNS: tuple[str, ...] = (
    "record_id",
    "rank",
    "score",
    "score_terms",
    "hints",
    "title",
    "authors",
    "journal",
    "year",
    "publication_types",
    "language",
    "pubmed_url",
    "doi_url",
    "first_run",
    "member_record_ids",
    "abstract",
)
#: Extra queue column when screening is not blinded.
OTHER_DECISIONS_COLUMN = "other_decisions"


class QueueRow(TypedDict):
    """One row of a reviewer's queue (columns :func:`queue_columns`)."""

    record_id: str
    rank: int
    score: str
    score_terms: str
    hints: str
    title: str
    authors: str
    journal: str
    year: str
    publication_types: str
    language: str
    pubmed_url: str
    doi_url: str
    first_run: str
    member_record_ids: str
    abstract: str
    other_decisions: NotRequired[str]


def queue_columns(blinded: bool) -> tuple[str, ...]:
    """The queue's columns: :data:`QUEUE_COLUMNS`, plus other decisions when not blinded."""
    if blinded:
        return QUEUE_COLUMNS
    return (*QUEUE_COLUMNS[:5], OTHER_DECISIONS_COLUMN, *QUEUE_COLUMNS[5:])


def _links(row: Mapping[str, str]) -> tuple[str, str]:
    pmid, doi = row.get("pmid", "").strip(), row.get("doi", "").strip()
    return (
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
        f"https://doi.org/{doi}" if doi else "",
    )


def queue_rows(
    stage: str,
    reviewer: str,
    publication_ids: Sequence[str],
    index: PublicationIndex,
    ranking: Ranking,
    resolution: Resolution,
    possible_duplicates: Mapping[str, list[str]],
    blinded: bool,
) -> list[QueueRow]:
    """One reviewer's queue at one stage: highest score first, then first run, then id.

    ``ranking``: the score of this queue (:meth:`.ranking.QueueRankings.of_queue`); each row's
    ``score_terms`` names the terms that moved its score most.
    """
    scored = sorted(
        ((ranking.score(p), p) for p in publication_ids),
        key=lambda item: (-item[0], index.rows[item[1]].get("first_run", ""), item[1]),
    )
    rows: list[QueueRow] = []
    for rank, (score, pid) in enumerate(scored, start=1):
        record = index.rows[pid]
        pubmed_url, doi_url = _links(record)
        row: QueueRow = {
            "record_id": pid,
            "rank": rank,
            "score": f"{score:.2f}",
            "score_terms": ranking.explain(pid),
            "hints": "; ".join([*eligibility_hints(record), *possible_duplicates.get(pid, [])]),
            "pubmed_url": pubmed_url,
            "doi_url": doi_url,
            "title": record.get("title", ""),
            "authors": record.get("authors", ""),
            "journal": record.get("journal", ""),
            "year": record.get("year", ""),
            "publication_types": record.get("publication_types", ""),
            "language": record.get("language", ""),
            "first_run": record.get("first_run", ""),
            "member_record_ids": record.get("member_record_ids", ""),
            "abstract": record.get("abstract", ""),
        }
        if not blinded:
            row["other_decisions"] = "; ".join(
                d.describe() for d in resolution.at(stage)[pid].decisions if d.reviewer != reviewer
            )
        rows.append(row)
    return rows
