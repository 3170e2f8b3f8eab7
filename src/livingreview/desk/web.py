"""The web layer shared by every role's pages: sessions, CSRF, headers, rendering, logging.

Every page is wrapped by :func:`page`, which checks on the server, for every request, that a
live server-side session (:mod:`.sessions`) names a person from the config, that the person
has the page's role, and for every POST that the body is UTF-8 form data, that the form
carries the session's CSRF token and that a browser's ``Origin`` names this site.  Hiding a
button is never what protects anything.
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .decisions import ScreeningDesk
from .duplicates import DuplicateDesk
from .errors import DeskError
from .extraction import ExtractionDesk
from .highlight import Highlighter
from .humanfiles import MAX_CELL_TEXT
from .lastrun import LastRun
from .people import ROLES, Person
from .project import Clock, Project
from .refresh import FAILED, NEEDS_SEARCH, PENDING, RUNNING, WAITING, Refresher, RefreshState
from .sessions import COOKIE, PendingSignIns, Session, SessionTable, SignInThrottle
from .tokens import TokenStore

log = logging.getLogger("livingreview.desk")
HERE = Path(__file__).parent

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # browsers send Origin: null under no-referrer
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class Desk:
    """Everything the pages share, built once by the app factory."""

    project: Project
    tokens: TokenStore
    last_run: LastRun
    screening: ScreeningDesk
    extraction: ExtractionDesk
    duplicates: DuplicateDesk
    highlighter: Highlighter
    throttle: SignInThrottle
    clock: Clock
    templates: Jinja2Templates
    #: The live sessions (a file next to the tokens).
    sessions: SessionTable
    #: Sign-ins from another site waiting for the person's confirmation.
    pending: PendingSignIns
    #: Runs the workflow after saves (None: this desk does not refresh, e.g. in tests).
    refresher: Refresher | None = None
    #: Where people reach the desk (``--public-url``); https makes every cookie Secure.
    public_url: str = ""

    def authenticate(self, request: Request) -> tuple[Person, Session] | None:
        """The signed-in person, or None (no cookie, unknown, ended, expired or rotated)."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        session = self.sessions.lookup(value, self.clock().timestamp())
        if session is None:
            return None
        person = self.project.people.get(session.person)
        if person is None or self.tokens.fingerprint_of(session.person) is None:
            return None
        return person, session

    def secure_cookies(self, request: Request) -> bool:
        """Whether cookies get ``Secure``: always behind an https public URL, whatever the
        proxy says, and whenever the request itself came over https."""
        return self.public_url.startswith("https://") or request.url.scheme == "https"

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A page; ``person``/``csrf`` come from the request's session when signed in."""
        base = {
            "person": request.scope.get("desk.person_obj"),
            "csrf": request.scope.get("desk.csrf", ""),
            "roles": ROLES,
            "run_label": self._run_label(),
            "results_version": request.scope.get("desk.version") or self.results_version(),
            "refreshing": self.refresher is not None,
            "stage_labels": {"title_abstract": "Title/abstract", "full_text": "Full text"},
        }
        return self.templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status, headers=headers
        )

    def results_version(self) -> str:
        """Version of the results the pages show (changes whenever a run writes them)."""
        return self.last_run.version()

    def refresh_status(self, person: Person) -> dict[str, Any]:
        """What ``person``'s pages say about refreshing (the ``/refresh/status`` answer)."""
        can_refresh = person.has("adjudicator") or person.has("data_manager")
        status: dict[str, Any] = {
            "version": self.results_version(),
            "refreshing": self.refresher is not None,
            "can_refresh": can_refresh and self.refresher is not None,
            "phase": "idle",
            "message": "",
            "error": "",
        }
        if self.refresher is None:
            return status
        state = self.refresher.state()
        status["phase"] = state.phase
        if state.queued and state.phase not in (RUNNING, WAITING):
            status["phase"] = PENDING
        status["message"] = refresh_message(state, status["phase"])
        if state.phase in (FAILED, NEEDS_SEARCH) and may_see_error(person, state):
            status["error"] = state.error
        return status

    def _run_label(self) -> str:
        try:
            return self.last_run.latest_run()
        except OSError:
            return ""

    def error(self, request: Request, status: int, message: str) -> Response:
        return self.render(request, "error.html", {"status": status, "message": message}, status)


def refresh_message(state: RefreshState, phase: str) -> str:
    """The sentence everyone signed in reads about refreshing (no one's decisions in it)."""
    if phase == RUNNING:
        more = " Newer saves follow in one more update." if state.queued else ""
        return "The review is updating with the latest saves; pages follow by themselves." + more
    if phase == WAITING:
        return (
            f"The review will update as soon as the {state.waiting_for or 'other'} run that "
            "holds the project ends; the desk is waiting for it."
        )
    if phase == PENDING:
        return "New saves are waiting; the review updates after a few quiet seconds."
    if phase == FAILED:
        return "The last update of the review failed; the review shows the run before it."
    return ""


def may_see_error(person: Person, state: RefreshState) -> bool:
    """Who sees a failed refresh's error: the people who can fix it.

    The person whose sheet it names; adjudicators and data managers, unless they also screen
    or extract (a message about another person's sheet may quote a decision, and blinding
    must hold); when no one's sheet is named, every adjudicator and data manager.
    """
    if person.id in state.error_names:
        return True
    if not (person.has("adjudicator") or person.has("data_manager")):
        return False
    if not state.error_names:
        return True
    return not (person.has("reviewer") or person.has("extractor"))


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def make_templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template, and undefined names as errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["max_cell_text"] = MAX_CELL_TEXT  # every text field's maxlength
    return Jinja2Templates(env=env)


def same_origin_problem(request: Request) -> str:
    """Why a state-changing request does not come from this site's own pages ('' if it does)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return "the request came from another site"
    origin = request.headers.get("origin")
    if origin is None:
        return ""
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        return "the request's Origin is not this site"
    return ""


async def csrf_problem(request: Request, session: Session) -> str:
    """Why a POST fails the CSRF check ('' when the session's token is in the form/header)."""
    return await csrf_token_problem(request, session.csrf)


async def csrf_token_problem(request: Request, expected: str) -> str:
    """Why a POST does not carry ``expected`` as its CSRF token from this site ('' if it does)."""
    problem = same_origin_problem(request)
    if problem:
        return problem
    presented = request.headers.get("x-csrf-token", "")
    if not presented:
        form = await request.form()
        value = form.get("csrf", "")
        presented = value if isinstance(value, str) else ""
    if not presented or not hmac.compare_digest(
        presented.encode("utf-8", "replace"), expected.encode()
    ):
        return "the form's security token is missing or out of date; reload the page and try again"
    return ""


class FormEncodingError(DeskError):
    """A POST body the desk cannot read exactly as sent; nothing was written."""

    http_status = 400


class FormTypeError(FormEncodingError):
    """A POST body of another type than the desk's forms send; nothing was written."""

    http_status = 415


FORM_TYPE = "application/x-www-form-urlencoded"


async def check_form_body(request: Request) -> None:
    """Refuse a POST body that is not UTF-8 form data, before anything reads or writes.

    Starlette would decode such bytes with replacement characters or as Latin-1, and the
    desk would then save text nobody typed.  The desk's own pages always send UTF-8
    ``application/x-www-form-urlencoded`` (or nothing, with the CSRF token in a header).

    Raises:
        FormEncodingError: the body is not UTF-8 form data (HTTP 400; 415 for another type).
    """
    body = await request.body()  # kept by the request: request.form() reads it again
    if not body:
        return
    content_type = request.headers.get("content-type", "")
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != FORM_TYPE:
        raise FormTypeError(
            f"the desk accepts forms sent as {FORM_TYPE}, not {media_type.strip() or 'no type'}; "
            "nothing was saved. Use the desk's own pages to send changes"
        )
    charset = parameters.partition("charset=")[2].strip().strip('"').lower()
    if charset and charset not in ("utf-8", "utf8"):
        raise FormEncodingError(
            f"the form was sent as {charset}, not UTF-8; nothing was saved. Reload the page "
            "and send it again (the desk's pages always send UTF-8)"
        )
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise FormEncodingError(
            "the form's body holds raw bytes beyond ASCII (a form percent-encodes its text); "
            "nothing was saved. Use the desk's own pages to send changes"
        ) from None
    try:
        urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise FormEncodingError(
            "the form's text is not valid UTF-8 (the browser or program that sent it used "
            "another encoding); nothing was saved. Reload the page and type the text again"
        ) from None
    except ValueError as error:
        raise FormEncodingError(
            f"the form could not be read ({error}); nothing was saved"
        ) from None


Endpoint = Callable[[Request, Person, Session], Awaitable[Response]]


def page(role: str | None = None) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Wrap an endpoint: signed-in session, role, CSRF on POST, DeskError -> error page."""

    def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            desk = desk_of(request)
            who = desk.authenticate(request)
            if who is None:
                return desk.render(request, "signin.html", {"problem": "not_signed_in"}, 401)
            person, session = who
            request.scope["desk.person"] = person.id
            request.scope["desk.person_obj"] = person
            request.scope["desk.csrf"] = session.csrf
            # Read before the page reads the results: a run writing meanwhile shows as new.
            request.scope["desk.version"] = desk.results_version()
            if role is not None and not person.has(role):
                return desk.error(
                    request, 403, f"this page is for people with the role '{role}'; you are not"
                )
            if request.method == "POST":
                try:
                    await check_form_body(request)
                except FormEncodingError as error:
                    log.warning("refused %s %s: %s", request.method, request.url.path, error)
                    return desk.error(request, error.http_status, f"Refused: {error}.")
                problem = await csrf_problem(request, session)
                if problem:
                    log.warning(
                        "refused %s %s for %s: %s",
                        request.method,
                        request.url.path,
                        person.id,
                        problem,
                    )
                    return desk.error(request, 403, f"Refused: {problem}.")
            try:
                response = await endpoint(request, person, session)
            except DeskError as error:
                return desk.error(request, error.http_status, str(error))
            if request.method == "POST" and desk.refresher is not None:
                desk.refresher.poke()  # it looks at the journals now: a save starts the clock
            return response

        handler.__name__ = endpoint.__name__
        handler.__doc__ = endpoint.__doc__
        return handler

    return wrap


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, no-store on pages, and one
    log line per request naming the person (never the query string, which may hold a token).

    ``hsts_seconds`` > 0 adds ``Strict-Transport-Security`` (only for a desk behind an https
    public URL: it binds the whole host name, every port, for that long)."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0):
        self.app = app
        self.hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if self.hsts:
                    headers["strict-transport-security"] = self.hsts
                headers["cache-control"] = "private, max-age=300" if static else "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if not static:
            log.info(
                "%s %s %s %s",
                scope["method"],
                scope["path"],
                status["code"],
                scope.get("desk.person", "-"),
            )
