"""A reviewer's pages: their queue one publication at a time, their decisions, undo.

Blinded by construction: these pages read only the reviewer's own queue and sheet and the
publications' bibliographic data; nothing here shows another reviewer's sheet, queue or the
conflicts table (with ``screening.blinded: false`` the queue's ``other_decisions`` column,
which the workflow writes only then, is shown).  The one thing read from the other sheets is
whether a decision is locked (:meth:`~..decisions.ScreeningDesk.locked`): both reviewers have
decided, shown the same way whether they agree or not, before and after a run.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...screening.vocabulary import DECISIONS, FULL_TEXT, STAGES
from ..decisions import CHANGEABLE, UNDECIDED, SheetRow, Verdict, check_stage
from ..errors import NotFound, SheetRefused
from ..humanfiles import within_limit
from ..lastrun import Queue
from ..people import REVIEWER, Person
from ..sessions import Session
from ..web import Desk, desk_of, page
from .records import duplicates_of, record_view


def next_undecided(queue: Queue, mine: dict[str, SheetRow], after: str | None = None) -> str | None:
    """First publication of the queue without a decision, after ``after`` (wrapping round)."""
    ids = [row["record_id"] for row in queue.rows]
    start = queue.position[after] + 1 if after in queue.position else 0
    for pid in ids[start:] + ids[:start]:
        if pid not in mine:
            return pid
    return None


def progress(queue: Queue, mine: dict[str, SheetRow]) -> dict[str, int]:
    decided = sum(1 for row in queue.rows if row["record_id"] in mine)
    return {"decided": decided, "queued": len(queue)}


def form_value(form: Any, name: str) -> str:
    """A posted field's text; longer than a cell may hold, the save is refused (nothing is
    written) rather than the text cut."""
    value = form.get(name, "") if form is not None else ""
    return within_limit(value, name.replace("_", " ")) if isinstance(value, str) else ""


def undo_of(desk: Desk, stage: str, person: Person) -> dict[str, Any]:
    """The undo button: the reviewer's last decision on the desk, and whether it may be undone
    (not when locked: both reviewers have decided it)."""
    entry = desk.screening.last_undoable(stage, person.id)
    return {
        "entry": entry,
        "allowed": entry is not None
        and not desk.screening.is_locked(stage, person.id, str(entry.get("record"))),
    }


def screen_context(
    desk: Desk,
    stage: str,
    person: Person,
    pid: str,
    form: dict[str, str] | None = None,
    error: str = "",
    flash: str = "",
) -> dict[str, Any]:
    """Everything the publication page shows (the reviewer's own data only)."""
    screening = desk.screening
    queue = desk.last_run.queue(stage, person.id)
    sheet = screening.reviewer_sheet(stage, person.id)
    mine = screening.rows(sheet)
    # Their own decision stays readable whatever happened since (locked or settled alike).
    if pid not in mine and not screening.may_screen(stage, person.id, pid):
        raise NotFound(f"{pid} is not in your {stage} queue")
    state = screening.state(stage, person.id, pid)
    position = queue.position.get(pid)
    rows = queue.rows
    current = mine.get(pid)
    queue_row = queue.row(pid) if pid in queue else None
    own_studies = sorted({r.get("study_id") for r in mine.values() if r.get("study_id")})
    chosen = form or (current.cells if current else {})
    return {
        "stage": stage,
        "record": record_view(desk, pid, queue_row),
        "duplicates": duplicates_of(desk, pid),
        "other_decisions": (queue_row or {}).get("other_decisions", "")
        if not desk.project.settings.blinded
        else "",
        "position": (position + 1) if position is not None else None,
        "previous": rows[position - 1]["record_id"] if position else None,
        "next": rows[position + 1]["record_id"]
        if position is not None and position + 1 < len(rows)
        else None,
        "progress": progress(queue, mine),
        "current": current,
        "state": state,
        "changeable": state == UNDECIDED or state in CHANGEABLE,
        "who_settles": screening.who_settles(),
        "chosen": {k: (v or "").strip() for k, v in chosen.items()},
        "decisions": DECISIONS[stage],
        "reasons": list(desk.project.settings.exclusion_reasons.items()),
        "criteria": desk.project.criteria,
        "study_ids": sorted(set(desk.last_run.study_ids()) | set(own_studies)),
        "undo": undo_of(desk, stage, person),
        "sheet_problem": screening.sheet_problem(sheet, stage),
        "error": error,
        "flash": flash,
        "flash_locked": flash.startswith("saved:")
        and screening.is_locked(stage, person.id, flash.removeprefix("saved:")),
        "today": screening.today().isoformat(),
        "config_run_date": desk.project.run_date.isoformat(),
    }


@page(REVIEWER)
async def screen_home(request: Request, person: Person, session: Session) -> Response:
    """Land on the first stage with something left to decide."""
    desk = desk_of(request)

    def choose() -> str:
        for stage in STAGES:
            queue = desk.last_run.queue(stage, person.id)
            mine = desk.screening.rows(desk.screening.reviewer_sheet(stage, person.id))
            if next_undecided(queue, mine) is not None:
                return stage
        return STAGES[0]

    stage = await run_in_threadpool(choose)
    return RedirectResponse(f"/screen/{stage}", status_code=303)


@page(REVIEWER)
async def stage_next(request: Request, person: Person, session: Session) -> Response:
    """The reviewer's next undecided publication at a stage, or the 'all done' page."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])

    def build() -> Response:
        queue = desk.last_run.queue(stage, person.id)
        sheet = desk.screening.reviewer_sheet(stage, person.id)
        mine = desk.screening.rows(sheet)
        pid = next_undecided(queue, mine)
        undone = desk.last_run.index().resolve(request.query_params.get("undone", "")) or ""
        if pid is not None:
            carried = f"?undone={undone}" if undone else ""
            return RedirectResponse(f"/screen/{stage}/record/{pid}{carried}", status_code=303)
        return desk.render(
            request,
            "done.html",
            {
                "stage": stage,
                "progress": progress(queue, mine),
                "undo": undo_of(desk, stage, person),
                "sheet_problem": desk.screening.sheet_problem(sheet, stage),
                "undone": undone,
                "who_settles": desk.screening.who_settles(),
            },
        )

    return await run_in_threadpool(build)


@page(REVIEWER)
async def publication(request: Request, person: Person, session: Session) -> Response:
    """Show one publication (GET) or record the reviewer's decision on it (POST)."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])
    pid = desk.screening.publication(request.path_params["record_id"])
    if request.method == "GET":
        undone = request.query_params.get("undone", "")
        flash = "undone" if undone == "1" else ""
        if undone and undone != "1" and desk.last_run.index().resolve(undone):
            flash = f"undone:{desk.last_run.index().resolve(undone)}"
        saved = request.query_params.get("saved", "")
        if saved and desk.last_run.index().resolve(saved):
            flash = f"saved:{desk.last_run.index().resolve(saved)}"
        context = await run_in_threadpool(screen_context, desk, stage, person, pid, None, "", flash)
        return desk.render(request, "screen.html", context)
    form = await request.form()
    fields = {k: form_value(form, k) for k in ("decision", "reason", "note", "study_id")}
    verdict = Verdict(**fields)

    def save() -> Response:
        try:
            desk.screening.decide(stage, person.id, pid, verdict)
        except SheetRefused as error:  # show the page again with the workflow's message
            context = screen_context(desk, stage, person, pid, fields, str(error))
            return desk.render(request, "screen.html", context, error.http_status)
        queue = desk.last_run.queue(stage, person.id)
        mine = desk.screening.rows(desk.screening.reviewer_sheet(stage, person.id))
        following = next_undecided(queue, mine, pid)
        target = f"/screen/{stage}/record/{following}" if following else f"/screen/{stage}"
        return RedirectResponse(f"{target}?saved={pid}", status_code=303)

    return await run_in_threadpool(save)


@page(REVIEWER)
async def undo(request: Request, person: Person, session: Session) -> Response:
    """Undo the reviewer's last decision at this stage; show that publication again."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])
    change = await run_in_threadpool(desk.screening.undo, stage, person.id)
    if change.key not in desk.last_run.queue(stage, person.id):
        # A refresh since the decision took the publication out of the queue; the next one
        # puts it back (the undo is in the sheet already).
        return RedirectResponse(f"/screen/{stage}?undone={change.key}", status_code=303)
    return RedirectResponse(f"/screen/{stage}/record/{change.key}?undone=1", status_code=303)


@page(REVIEWER)
async def my_decisions(request: Request, person: Person, session: Session) -> Response:
    """The reviewer's own sheet at a stage, each row changeable while the stage is open."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])

    def build() -> Response:
        queue = desk.last_run.queue(stage, person.id)
        sheet = desk.screening.reviewer_sheet(stage, person.id)
        mine = desk.screening.rows(sheet)
        index = desk.last_run.index()
        locked = desk.screening.locked(stage, person.id)
        rows = []
        for pid, row in mine.items():
            state = desk.screening.state(stage, person.id, pid, locked)
            rows.append(
                {
                    "id": pid,
                    "title": (index.rows.get(pid, {}).get("title") or "").strip(),
                    "row": row,
                    "state": state,
                    "changeable": state in CHANGEABLE,
                }
            )
        return desk.render(
            request,
            "decisions.html",
            {
                "stage": stage,
                "rows": rows,
                "progress": progress(queue, mine),
                "sheet": desk.screening.store.relative(sheet),
                "sheet_problem": desk.screening.sheet_problem(sheet, stage),
                "reasons": desk.project.settings.exclusion_reasons,
                "full_text": stage == FULL_TEXT,
                "who_settles": desk.screening.who_settles(),
                "blinding_locks": desk.screening.blinding_locks(),
            },
        )

    return await run_in_threadpool(build)


ROUTES = [
    Route("/screen", screen_home, methods=["GET"]),
    Route("/screen/{stage}", stage_next, methods=["GET"]),
    Route("/screen/{stage}/decisions", my_decisions, methods=["GET"]),
    Route("/screen/{stage}/undo", undo, methods=["POST"]),
    Route("/screen/{stage}/record/{record_id}", publication, methods=["GET", "POST"]),
]
