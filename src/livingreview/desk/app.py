"""The app factory: one Starlette application serving the desk of one project."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .decisions import ScreeningDesk
from .duplicates import DuplicateDesk
from .extraction import ExtractionDesk
from .highlight import Highlighter
from .humanfiles import JOURNAL_NAME, file_access, open_stores
from .lastrun import LastRun
from .project import Clock, Project, utc_now
from .refresh import Refresher, RefreshSettings
from .sessions import PendingSignIns, SignInThrottle
from .tokens import TokenStore
from .views import routes
from .web import HERE, Desk, SecurityHeaders, make_templates

#: Largest request body accepted (forms are small; a note is at most 2,000 characters).
MAX_BODY = 64 * 1024
STATE_DIR = ".desk"


def build_desk(
    root: str | Path,
    configfiles: Sequence[str | Path] = (),
    clock: Clock = utc_now,
    state_dir: str | Path | None = None,
    throttle: SignInThrottle | None = None,
    before_replace: Callable[[Path], None] | None = None,
    refresh: bool = False,
    snakemake_program: str | None = None,
    public_url: str | None = None,
) -> Desk:
    """Load and validate the project and wire the desk's parts (no web server yet).

    ``refresh``: run the workflow after saves (``bin/desk`` does unless told not to, or the
    config's ``desk.refresh`` is false); ``snakemake_program`` replaces the project's
    ``.venv/bin/snakemake``; ``public_url``: where people reach the desk (https: every
    cookie is ``Secure``).
    """
    project = Project.load(root, configfiles)
    tokens = TokenStore(Path(state_dir) if state_dir else project.root / STATE_DIR)
    tokens.ensure(project.people)
    sessions = tokens.sessions()
    sessions.check()
    last_run = LastRun(project.results_dir, project.baseline_studies)
    # One store (lock, intent and journal) per folder of human files; a write a killed desk
    # left unfinished is settled and the files get the desk's mode before any page reads.
    stores = open_stores(
        {
            project.decisions_dir: (),
            project.extraction_dir: (),
            project.verdicts_sheet.parent: (project.verdicts_sheet.name,),
        },
        project.root,
        clock,
        file_access(project.config),
        before_replace,
    )
    refresher = None
    settings = RefreshSettings.from_config(project.config)
    if refresh and settings.enabled:
        journals = [folder / JOURNAL_NAME for folder in stores]
        refresher = Refresher(
            project.root,
            list(configfiles),
            settings,
            watched=lambda: journals,
            program=snakemake_program,
        )
    desk = Desk(
        project=project,
        tokens=tokens,
        last_run=last_run,
        screening=ScreeningDesk(project, last_run, stores[project.decisions_dir], clock),
        extraction=ExtractionDesk(project, last_run, stores[project.extraction_dir], clock),
        duplicates=DuplicateDesk(project, last_run, stores[project.verdicts_sheet.parent], clock),
        highlighter=Highlighter(project.highlight_terms),
        throttle=throttle or SignInThrottle(time.monotonic),
        clock=clock,
        templates=make_templates(),
        sessions=sessions,
        pending=PendingSignIns(lambda: clock().timestamp()),
        refresher=refresher,
        public_url=(public_url or "").rstrip("/"),
    )
    # A changed config counts without a restart: new people get a token, new terms marks.
    project.on_change(lambda changed: tokens.ensure(changed.people))
    project.on_change(
        lambda changed: setattr(desk, "highlighter", Highlighter(changed.highlight_terms))
    )
    return desk


async def not_found(request: Request, exc: Exception) -> Response:
    desk: Desk = request.app.state.desk
    return desk.error(request, 404, "There is no such page.")


def create_app(
    root: str | Path = ".",
    configfiles: Sequence[str | Path] = (),
    clock: Clock = utc_now,
    state_dir: str | Path | None = None,
    throttle: SignInThrottle | None = None,
    before_replace: Callable[[Path], None] | None = None,
    refresh: bool = False,
    snakemake_program: str | None = None,
    public_url: str | None = None,
    hsts_seconds: int = 0,
) -> Starlette:
    """The desk for the project at ``root``.

    ``clock`` (aware UTC datetimes) dates decisions (``decided_on``, in UTC) and journal
    entries and ages sessions; tests pin it.  ``state_dir`` holds tokens and the signing key
    (default ``<root>/.desk``).  ``before_replace`` is a test hook called just before a
    sheet's temporary file is renamed over it.  With ``refresh`` the desk runs the workflow
    after saves (:mod:`.refresh`), from the server's start to its stop, when the refresh
    run and its whole process group are ended.  ``public_url``: where people reach the desk
    (an https one makes every cookie ``Secure``, whatever a proxy's headers say);
    ``hsts_seconds`` > 0 sends ``Strict-Transport-Security`` for that long.

    Raises:
        ConfigError: the config is invalid (the workflow's own message), or a role is.
        StateFileError: the token or session files are readable by others or damaged.
    """
    desk = build_desk(
        root,
        configfiles,
        clock,
        state_dir,
        throttle,
        before_replace,
        refresh,
        snakemake_program,
        public_url,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if desk.refresher is not None:
            desk.refresher.start()
        try:
            yield
        finally:
            if desk.refresher is not None:
                desk.refresher.stop()

    app = Starlette(
        routes=[*routes(), Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        middleware=[Middleware(SecurityHeaders, hsts_seconds=hsts_seconds)],
        exception_handlers={404: not_found},
        max_body_size=MAX_BODY,
        lifespan=lifespan,
    )
    app.state.desk = desk
    return app
