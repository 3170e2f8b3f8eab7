"""A data manager's pages: the uncertain duplicate pairs, side by side, and their verdicts.

Only bibliographic records are shown (the record tables the dedup stage read), never anyone's
screening decisions or extractions, so any person may also be a data manager.  Pairs are
named by their two record ids in the query string or the form (record ids may hold
characters an address path would not keep); they are checked against the last run's
``maybe.tsv`` and the verdicts sheet before anything is read or written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...dedup.verdicts import pair_key
from ..duplicates import Pair, side_by_side
from ..errors import SheetRefused
from ..people import DATA_MANAGER, Person
from ..sessions import Session
from ..web import Desk, desk_of, page
from .records import safe_links
from .screening import form_value


def pair_address(pair: Pair) -> str:
    """The pair's page (record ids in the query string, encoded)."""
    return "/duplicates/pair?" + urlencode({"a": pair.record_id_a, "b": pair.record_id_b})


def overview(desk: Desk) -> dict[str, Any]:
    """The open pairs of the last run and every verdict of the sheet."""
    duplicates = desk.duplicates
    open_pairs = duplicates.open_pairs()
    verdicts = duplicates.verdicts()
    baseline = duplicates.baseline_reviewer

    def title(record_id: str) -> str:
        return (duplicates.record(record_id).get("title") or "").strip()

    pairs = [
        {
            "pair": pair,
            "address": pair_address(pair),
            "anchor": anchor(pair),
            "title_a": title(pair.record_id_a),
            "title_b": title(pair.record_id_b),
            "verdict": verdicts.get(key),
        }
        for key, pair in sorted(open_pairs.items())
    ]
    past = [
        {
            "row": row,
            "address": pair_address(Pair(row["record_id_a"], row["record_id_b"])),
            "anchor": anchor(Pair(row["record_id_a"], row["record_id_b"])),
            "open": key in open_pairs,
            "changeable": row["reviewer"] != baseline,
        }
        for key, row in verdicts.items()
    ]
    return {
        "pairs": pairs,
        "past": past,
        "waiting": sum(1 for item in pairs if item["verdict"] is None),
        "sheet": duplicates.store.relative(duplicates.sheet),
        "sheet_problem": duplicates.sheet_problem(),
        "baseline_reviewer": baseline,
    }


def record_card(desk: Desk, record_id: str, publication_id: str) -> dict[str, Any]:
    row = desk.duplicates.record(record_id)
    pubmed, doi = safe_links(row)
    return {
        "id": record_id,
        "publication_id": publication_id,
        "source": (row.get("source") or "").strip(),
        "run": (row.get("run") or "").strip(),
        "publication_types": (row.get("publication_types") or "").strip(),
        "pubmed_url": pubmed,
        "doi_url": doi,
    }


def pair_context(desk: Desk, pair: Pair, error: str = "", chosen: str = "") -> dict[str, Any]:
    duplicates = desk.duplicates
    a, b = duplicates.record(pair.record_id_a), duplicates.record(pair.record_id_b)
    verdict = duplicates.verdicts().get(pair.key)
    return {
        "pair": pair,
        "a": record_card(desk, pair.record_id_a, pair.publication_id_a),
        "b": record_card(desk, pair.record_id_b, pair.publication_id_b),
        "fields": side_by_side(a, b),
        "verdict": verdict,
        "changeable": verdict is None or verdict["reviewer"] != duplicates.baseline_reviewer,
        "chosen": chosen or (verdict or {}).get("verdict", ""),
        "note": (verdict or {}).get("note", ""),
        "error": error,
        "sheet": duplicates.store.relative(duplicates.sheet),
        "today": duplicates.today(),
        "config_run_date": desk.project.run_date.isoformat(),
    }


@page(DATA_MANAGER)
async def pairs(request: Request, person: Person, session: Session) -> Response:
    """The uncertain pairs of the last run and the verdicts already written."""
    desk = desk_of(request)
    context = await run_in_threadpool(overview, desk)
    return desk.render(request, "duplicates.html", context)


@page(DATA_MANAGER)
async def pair(request: Request, person: Person, session: Session) -> Response:
    """One pair side by side (GET), or its verdict written (POST)."""
    desk = desk_of(request)
    source: Any = request.query_params
    if request.method == "POST":
        source = await request.form()
    found = await run_in_threadpool(
        desk.duplicates.pair, form_value(source, "a"), form_value(source, "b")
    )
    if request.method == "GET":
        context = await run_in_threadpool(pair_context, desk, found)
        return desk.render(request, "duplicate_pair.html", context)
    verdict, note = form_value(source, "verdict"), form_value(source, "note")

    def save() -> Response:
        try:
            desk.duplicates.decide(person.id, found, verdict, note)
        except SheetRefused as error:
            context = pair_context(desk, found, str(error), verdict)
            return desk.render(request, "duplicate_pair.html", context, error.http_status)
        return RedirectResponse(f"/duplicates#{anchor(found)}", status_code=303)

    return await run_in_threadpool(save)


@page(DATA_MANAGER)
async def withdraw(request: Request, person: Person, session: Session) -> Response:
    """Delete a verdict: the next run applies the matching rules to the pair again."""
    desk = desk_of(request)
    form = await request.form()
    found = await run_in_threadpool(
        desk.duplicates.pair, form_value(form, "a"), form_value(form, "b")
    )
    await run_in_threadpool(desk.duplicates.withdraw, person.id, found)
    return RedirectResponse(pair_address(found), status_code=303)


def anchor(found: Pair) -> str:
    """An element id for a pair (ids in the page are built the same way)."""
    a, b = pair_key(found.record_id_a, found.record_id_b)
    return "pair-" + "".join(ch if ch.isalnum() else "-" for ch in f"{a}-{b}")


ROUTES = [
    Route("/duplicates", pairs, methods=["GET"]),
    Route("/duplicates/pair", pair, methods=["GET", "POST"]),
    Route("/duplicates/withdraw", withdraw, methods=["POST"]),
]
