"""Signing in and out, and where each person lands.

A sign-in link (``/signin?token=...``) is exchanged once for a signed, HttpOnly,
SameSite=Strict session cookie, and the browser is redirected to a page without the token.
That page continues to the person's home by a same-site navigation: a Strict cookie is not
sent on a redirect chain that a link in another site (a webmail) started.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..people import Person
from ..sessions import COOKIE, SESSION_SECONDS, Session, sign
from ..web import desk_of, page

log = logging.getLogger("livingreview.desk")
MAX_TOKEN = 200


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when trusted)."""
    return request.client.host if request.client else "unknown"


async def signin(request: Request) -> Response:
    """Exchange a sign-in token for a session cookie; slow down repeated failures."""
    desk = desk_of(request)
    token = request.query_params.get("token", "")
    if not token:
        return desk.render(request, "signin.html", {"problem": ""})
    address = client_address(request)
    wait = desk.throttle.retry_after(address)
    if wait:
        log.warning("sign-in refused for %s: too many failed attempts (wait %ds)", address, wait)
        return desk.render(
            request,
            "signin.html",
            {"problem": "throttled", "wait": wait},
            429,
            headers={"retry-after": str(wait)},
        )
    person_id = None
    if len(token) <= MAX_TOKEN:
        person_id = desk.tokens.person_for(token, desk.project.people)
    if person_id is None:
        desk.throttle.failed(address)
        log.warning("sign-in with an unknown token from %s", address)
        return desk.render(request, "signin.html", {"problem": "bad_token"}, 403)
    desk.throttle.succeeded(address)
    fingerprint = desk.tokens.fingerprint_of(person_id) or ""
    session = Session.new(person_id, fingerprint, desk.clock().timestamp())
    response = RedirectResponse("/welcome", status_code=303)
    response.set_cookie(
        COOKIE,
        sign(session, desk.tokens.signing_key()),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    log.info("signed in: %s from %s", person_id, address)
    return response


async def welcome(request: Request) -> Response:
    """The token-free page a sign-in lands on; it moves on to ``/`` by a same-site navigation."""
    return desk_of(request).render(request, "welcome.html", {})


@page()
async def home(request: Request, person: Person, session: Session) -> Response:
    """Everyone's start: their first role's pages."""
    return RedirectResponse(person.home, status_code=303)


@page()
async def signout(request: Request, person: Person, session: Session) -> Response:
    """End the session in this browser (the sign-in link stays valid until rotated)."""
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    log.info("signed out: %s", person.id)
    return response


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/signin", signin, methods=["GET"]),
    Route("/welcome", welcome, methods=["GET"]),
    Route("/signout", signout, methods=["POST"]),
]
