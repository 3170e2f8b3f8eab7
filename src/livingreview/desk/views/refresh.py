"""Refreshing the review from the desk: its state for every page, and "refresh now".

``GET /refresh/status`` answers every signed-in person's page script (JSON, polled): the
version of the results the pages show, whether the review is updating, and, for the people
who can fix it, why the last update failed.  ``POST /refresh`` (adjudicators and data
managers) starts a run at once instead of after the quiet period.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..people import ADJUDICATOR, DATA_MANAGER, Person
from ..sessions import Session
from ..web import desk_of, page


@page()
async def status(request: Request, person: Person, session: Session) -> Response:
    """The refresh state as this person may see it."""
    return JSONResponse(desk_of(request).refresh_status(person))


def _local_path(value: object) -> str:
    """A path on this site to go back to ('/' for anything else)."""
    if not isinstance(value, str):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or value.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@page()
async def refresh_now(request: Request, person: Person, session: Session) -> Response:
    """Start a refresh now (adjudicators and data managers)."""
    desk = desk_of(request)
    if not (person.has(ADJUDICATOR) or person.has(DATA_MANAGER)):
        return desk.error(
            request, 403, "refreshing on demand is for adjudicators and data managers"
        )
    if desk.refresher is None:
        return desk.error(request, 409, "this desk was started without refreshing (--no-refresh)")
    desk.refresher.refresh_now()
    if request.headers.get("x-csrf-token"):
        return JSONResponse(desk.refresh_status(person), status_code=202)
    form = await request.form()
    return RedirectResponse(_local_path(form.get("back", "/")), status_code=303)


ROUTES = [
    Route("/refresh/status", status, methods=["GET"]),
    Route("/refresh", refresh_now, methods=["POST"]),
]
