"""Signing in and out, and where each person lands.

A sign-in link (``/signin?token=...``) is exchanged for a server-side session (:mod:`..sessions`)
whose random id goes into an HttpOnly, SameSite=Strict cookie, and the browser is redirected
to a page without the token.  That page continues to the person's home by a same-site
navigation: a Strict cookie is not sent on a redirect chain that a link in another site (a
webmail) started.

A link followed from another site (``Sec-Fetch-Site: cross-site``), or by a browser that does
not say where the navigation came from, does not sign in at once: another site could make a
browser open a link with *someone else's* token (login CSRF), and the victim would then work,
unknowingly, as that person.  Such a sign-in waits on a confirmation page ("Continue as
reviewer-2?") whose same-origin POST, with a CSRF token bound to a nonce that only this
browser holds, completes it.  Pasting the link (``none``) or following it from the desk's own
pages (``same-origin``, ``same-site``) signs in at once.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..people import Person
from ..sessions import (
    COOKIE,
    PENDING_COOKIE,
    PENDING_SECONDS,
    SESSION_SECONDS,
    Session,
    derived_token,
)
from ..web import FormEncodingError, check_form_body, csrf_token_problem, desk_of, page

log = logging.getLogger("livingreview.desk")
MAX_TOKEN = 200
#: Sec-Fetch-Site values of a navigation that signs in at once: the link pasted or typed
#: (``none``) or followed from this site.  Anything else, or no header, asks first.
DIRECT = ("none", "same-origin", "same-site")
_CONFIRM = "signin-confirm"


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here only for proxies
    named by ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else "unknown"


def _start_session(request: Request, person_id: str) -> Response:
    """A new session for ``person_id`` (ending the one this browser had), and off to /welcome."""
    desk = desk_of(request)
    now = desk.clock().timestamp()
    previous = request.cookies.get(COOKIE)
    if previous:
        old = desk.sessions.lookup(previous, now)
        if old is not None:
            desk.sessions.end(old.key)
    session_id, _ = desk.sessions.create(person_id, now)
    response = RedirectResponse("/welcome", status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=desk.secure_cookies(request),
        path="/",
    )
    log.info("signed in: %s from %s", person_id, client_address(request))
    return response


async def signin(request: Request) -> Response:
    """Exchange a sign-in token for a session (or a confirmation when it came from elsewhere).

    A valid token is never throttled; failures are, per address (:class:`SignInThrottle`).
    """
    desk = desk_of(request)
    token = request.query_params.get("token", "")
    if not token:
        problem = "signed_out" if request.query_params.get("signed_out") else ""
        return desk.render(request, "signin.html", {"problem": problem})
    address = client_address(request)
    person_id = None
    if len(token) <= MAX_TOKEN:
        person_id = desk.tokens.person_for(token, desk.project.people)
    if person_id is None:
        wait = desk.throttle.retry_after(address)
        if wait:
            log.warning(
                "sign-in refused for %s: too many failed attempts (wait %ds)", address, wait
            )
            return desk.render(
                request,
                "signin.html",
                {"problem": "throttled", "wait": wait},
                429,
                headers={"retry-after": str(wait)},
            )
        desk.throttle.failed(address)
        log.warning("sign-in with an unknown token from %s", address)
        return desk.render(request, "signin.html", {"problem": "bad_token"}, 403)
    fetch_site = request.headers.get("sec-fetch-site", "")
    if fetch_site in DIRECT:
        return _start_session(request, person_id)
    nonce = desk.pending.add(person_id, desk.tokens.fingerprint_of(person_id) or "")
    response = RedirectResponse("/signin/confirm", status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        nonce,
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",  # sent on the redirect that follows a cross-site navigation
        secure=desk.secure_cookies(request),
        path="/signin",
    )
    log.info(
        "sign-in as %s from %s came from %s: asking to confirm",
        person_id,
        address,
        fetch_site or "a browser that does not say where (no Sec-Fetch-Site)",
    )
    return response


async def confirm_page(request: Request) -> Response:
    """Ask "Continue as ...?" for a sign-in that came from another site."""
    desk = desk_of(request)
    nonce = request.cookies.get(PENDING_COOKIE, "")
    pending = desk.pending.get(nonce)
    if pending is None:
        return desk.render(request, "signin.html", {"problem": "confirm_expired"}, 400)
    who = desk.authenticate(request)
    return desk.render(
        request,
        "signin_confirm.html",
        {
            "candidate": pending.person,
            "current": who[0].id if who else "",
            "confirm_csrf": derived_token(desk.tokens.signing_key(), _CONFIRM, nonce),
        },
    )


async def confirm(request: Request) -> Response:
    """Complete a confirmed sign-in: same-origin POST, CSRF token bound to this browser's nonce."""
    desk = desk_of(request)
    try:
        await check_form_body(request)
    except FormEncodingError as error:
        return desk.error(request, error.http_status, f"Refused: {error}.")
    nonce = request.cookies.get(PENDING_COOKIE, "")
    if desk.pending.get(nonce) is None:
        return desk.render(request, "signin.html", {"problem": "confirm_expired"}, 400)
    expected = derived_token(desk.tokens.signing_key(), _CONFIRM, nonce)
    problem = await csrf_token_problem(request, expected)
    if problem:
        log.warning("refused a sign-in confirmation from %s: %s", client_address(request), problem)
        return desk.error(request, 403, f"Refused: {problem}.")
    pending = desk.pending.take(nonce)
    if pending is None or desk.tokens.fingerprint_of(pending.person) != pending.token_fingerprint:
        return desk.render(request, "signin.html", {"problem": "bad_token"}, 403)
    response = _start_session(request, pending.person)
    response.delete_cookie(PENDING_COOKIE, path="/signin", httponly=True, samesite="lax")
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
    """End the session on the server (its cookie opens nothing any more, wherever a copy is);
    the sign-in link stays valid until rotated."""
    desk = desk_of(request)
    desk.sessions.end(session.key)
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    response.delete_cookie(
        COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=desk.secure_cookies(request),
    )
    log.info("signed out: %s", person.id)
    return response


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/signin", signin, methods=["GET"]),
    Route("/signin/confirm", confirm_page, methods=["GET"]),
    Route("/signin/confirm", confirm, methods=["POST"]),
    Route("/welcome", welcome, methods=["GET"]),
    Route("/signout", signout, methods=["POST"]),
]
