"""esearch by date slices and efetch of the new PMIDs, with every answer checked.

Consumes an :class:`~livingreview.search.entrez.EntrezClient`, a query and a
:class:`~livingreview.search.windows.Window`. Produces the esearch answer of every date slice
(each under the 9,999-ID cap of esearch) and the parsed records of the PMIDs no earlier
snapshot holds, plus the raw efetch answers for the snapshot. An efetch batch that does not
parse or lacks a PMID asked for is retried by the client; a PMID still missing at the end is a
:class:`~livingreview.errors.ConsistencyError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ConsistencyError
from .entrez import ESEARCH_MAX_IDS, EntrezClient, EsearchResult, TransientError
from .pubmed import parse_pubmed_xml
from .windows import Window, entrez_date

log = logging.getLogger(__name__)


@dataclass
class Slice:
    """One esearch that fitted under the 9,999-ID cap."""

    window: Window
    result: EsearchResult
    raw_file: str = ""


def search_slices(
    client: EntrezClient,
    term: str,
    window: Window,
    *,
    db: str = "pubmed",
    max_ids: int = ESEARCH_MAX_IDS,
) -> list[Slice]:
    """esearch ``window``; while a slice has more than ``max_ids`` hits, split it by date.

    Raises:
        ConsistencyError: a single day still has more than ``max_ids`` hits (narrow the query).
    """
    result = client.esearch(
        term,
        db=db,
        mindate=entrez_date(window.start),
        maxdate=entrez_date(window.end),
        datetype=window.datetype,
        retmax=max_ids,
    )
    if result.count <= max_ids:
        return [Slice(window, result)]
    if window.start >= window.end:
        raise ConsistencyError(
            f"PubMed reports {result.count} hits on the single day {window.start} ({window.datetype}), "
            f"more than esearch can list ({max_ids}); narrow the query."
        )
    log.info(
        "%d hits in %s..%s exceed %d: splitting the window",
        result.count,
        window.start,
        window.end,
        max_ids,
    )
    first, second = window.split()
    return search_slices(client, term, first, db=db, max_ids=max_ids) + search_slices(
        client, term, second, db=db, max_ids=max_ids
    )


def _batch_checker(expected: Sequence[str], run: str) -> Callable[[bytes], list[dict[str, str]]]:
    """A check for one efetch batch: parses, and holds exactly the PMIDs asked for."""

    def check(body: bytes) -> list[dict[str, str]]:
        try:
            rows = parse_pubmed_xml(body, run)
        except Exception as exc:
            raise TransientError(f"efetch answer unreadable: {exc}") from None
        got = [r["pmid"] for r in rows]
        if sorted(got) != sorted(expected):
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            raise TransientError(
                f"efetch returned {len(got)} records for {len(expected)} PMIDs (missing {missing}, unexpected {extra})"
            )
        return rows

    return check


def fetch_new(
    client: EntrezClient,
    slices: Sequence[Slice],
    new_pmids: set[str],
    *,
    run: str,
    batch_size: int,
    db: str = "pubmed",
) -> tuple[list[dict[str, str]], list[bytes]]:
    """efetch the ``new_pmids`` found in ``slices``; rows in PMID order plus every raw batch.

    A slice whose IDs are all new is fetched through the history server (WebEnv/query_key,
    retstart/retmax); otherwise only its new IDs are fetched by ID list.
    """
    rows: dict[str, dict[str, str]] = {}
    bodies: list[bytes] = []
    for piece in slices:
        wanted = [i for i in piece.result.ids if i in new_pmids and i not in rows]
        if not wanted:
            continue
        use_history = (
            len(wanted) == len(piece.result.ids) and piece.result.webenv and piece.result.query_key
        )
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            if use_history:
                body, parsed = client.efetch(
                    db=db,
                    webenv=piece.result.webenv,
                    query_key=piece.result.query_key,
                    retstart=start,
                    retmax=batch_size,
                    check=_batch_checker(batch, run),
                )
            else:
                body, parsed = client.efetch(db=db, ids=batch, check=_batch_checker(batch, run))
            bodies.append(body)
            for row in parsed or []:  # a missing batch is caught below
                rows[row["pmid"]] = row
    if set(rows) != new_pmids:
        missing = sorted(new_pmids - set(rows))[:10]
        raise ConsistencyError(
            f"efetch did not return every new PMID; missing e.g. {missing}. Rerun the search."
        )
    return [rows[p] for p in sorted(rows, key=int)], bodies
