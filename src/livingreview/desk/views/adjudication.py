"""An adjudicator's pages: open conflicts per stage, side by side, and settling them.

Only people with the adjudicator role reach these pages (checked on every request).  Open
conflicts come from the last run's ``conflicts.tsv``; each reviewer's decision, reason and
note are read from their sheet as it is now (a reviewer may have changed it since the run,
which the page says).  Settling writes the documented ``adjudication.tsv`` row.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...screening import DECISIONS, STAGES
from ..decisions import Verdict, check_stage
from ..errors import NotFound, SheetRefused
from ..people import ADJUDICATOR, Person
from ..sessions import Session
from ..web import Desk, desk_of, page
from .records import duplicates_of, record_view
from .screening import form_value


def parse_decisions(text: str) -> dict[str, str]:
    """``reviewer-1=include; reviewer-2=exclude(not_aih)`` -> {reviewer: what they said}."""
    out = {}
    for part in text.split(";"):
        if "=" in part:
            who, what = part.strip().split("=", 1)
            out[who.strip()] = what.strip()
    return out


def conflict_list(desk: Desk) -> list[dict[str, Any]]:
    """Open conflicts of the last run per stage, each marked pending when settled since."""
    stages = []
    for stage in STAGES:
        adjudicated = desk.screening.rows(desk.screening.adjudication_sheet(stage))
        items = [
            {
                "id": pid,
                "kind": conflict.get("kind", ""),
                "title": conflict.get("title", ""),
                "decisions": parse_decisions(conflict.get("decisions", "")),
                "pending": adjudicated.get(pid),
            }
            for pid, conflict in desk.screening.open_conflicts(stage).items()
        ]
        stages.append({"stage": stage, "items": items})
    return stages


def conflict_context(
    desk: Desk, stage: str, pid: str, form: dict[str, str] | None = None, error: str = ""
) -> dict[str, Any]:
    conflicts = desk.screening.open_conflicts(stage)
    if pid not in conflicts:
        raise NotFound(f"no open {stage} conflict on {pid} at the last run")
    at_run = parse_decisions(conflicts[pid].get("decisions", ""))
    sides = []
    for reviewer in dict.fromkeys([*at_run, *desk.project.settings.reviewers]):
        if reviewer not in desk.project.people:
            continue
        row = desk.screening.rows(desk.screening.reviewer_sheet(stage, reviewer)).get(pid)
        if row is None and reviewer not in at_run:
            continue
        sides.append({"reviewer": reviewer, "row": row, "at_run": at_run.get(reviewer, "")})
    pending = desk.screening.rows(desk.screening.adjudication_sheet(stage)).get(pid)
    chosen = form or (pending.cells if pending else {})
    return {
        "stage": stage,
        "conflict": conflicts[pid],
        "record": record_view(desk, pid),
        "duplicates": duplicates_of(desk, pid),
        "sides": sides,
        "pending": pending,
        "chosen": {k: (v or "").strip() for k, v in chosen.items()},
        "decisions": [d for d in DECISIONS[stage] if d != "maybe"],
        "reasons": list(desk.project.settings.exclusion_reasons.items()),
        "reason_labels": desk.project.settings.exclusion_reasons,
        "criteria": desk.project.criteria,
        "study_ids": desk.last_run.study_ids(),
        "error": error,
        "config_run_date": desk.project.run_date.isoformat(),
        "today": desk.screening.today().isoformat(),
    }


@page(ADJUDICATOR)
async def conflicts(request: Request, person: Person, session: Session) -> Response:
    """Every open conflict of the last run, per stage."""
    desk = desk_of(request)
    stages = await run_in_threadpool(conflict_list, desk)
    return desk.render(request, "conflicts.html", {"stages": stages})


@page(ADJUDICATOR)
async def conflict(request: Request, person: Person, session: Session) -> Response:
    """One conflict side by side (GET), or settle it (POST; ``take`` copies a reviewer's)."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])
    pid = desk.screening.publication(request.path_params["record_id"])
    if request.method == "GET":
        context = await run_in_threadpool(conflict_context, desk, stage, pid)
        return desk.render(request, "conflict.html", context)
    form = await request.form()
    fields = {k: form_value(form, k) for k in ("decision", "reason", "note", "study_id")}
    take = form_value(form, "take")

    def save() -> Response:
        values = dict(fields)
        if take:
            if take not in desk.project.settings.reviewers:
                raise NotFound(f"no reviewer {take!r}")
            row = desk.screening.rows(desk.screening.reviewer_sheet(stage, take)).get(pid)
            if row is None:
                raise NotFound(f"{take} has no {stage} decision on {pid}")
            values.update({k: row.get(k) for k in ("decision", "reason", "study_id")})
        try:
            desk.screening.adjudicate(stage, person.id, pid, Verdict(**values))
        except SheetRefused as error:  # show the page again with the workflow's message
            context = conflict_context(desk, stage, pid, values, str(error))
            return desk.render(request, "conflict.html", context, error.http_status)
        return RedirectResponse(f"/adjudicate#{stage}-{pid}", status_code=303)

    return await run_in_threadpool(save)


@page(ADJUDICATOR)
async def withdraw(request: Request, person: Person, session: Session) -> Response:
    """Remove a pending adjudication (made since the last run)."""
    desk = desk_of(request)
    stage = check_stage(request.path_params["stage"])
    pid = desk.screening.publication(request.path_params["record_id"])
    await run_in_threadpool(desk.screening.withdraw_adjudication, stage, person.id, pid)
    return RedirectResponse(f"/adjudicate/{stage}/record/{pid}", status_code=303)


ROUTES = [
    Route("/adjudicate", conflicts, methods=["GET"]),
    Route("/adjudicate/{stage}/record/{record_id}", conflict, methods=["GET", "POST"]),
    Route("/adjudicate/{stage}/record/{record_id}/withdraw", withdraw, methods=["POST"]),
]
