"""An adjudicator's pages: screening conflicts and extraction discrepancies, and settling them.

The conflicts page also shows how far the reviewers agreed before adjudication (Cohen's κ and
proportionate agreement per stage, from the last run's ``agreement.tsv``).

Only people with the adjudicator role reach these pages (checked on every request).  Open
conflicts come from the last run's ``conflicts.tsv``; each reviewer's decision, reason and
note are read from their sheet as it is now (a reviewer may have changed it since the run,
which the page says).  Settling writes the documented ``adjudication.tsv`` row.

Extraction: every new study the last run left open with at least two extractors' sheets is
compared cell by cell (the workflow's comparison, :mod:`..comparison`); the adjudicator takes
one sheet's value per differing cell or types another, and saving writes the study's
``adjudicated.tsv``, validated by the workflow's code like an extractor's sheet.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...errors import Problem
from ...screening.agreement import agreement_sentence
from ...screening.vocabulary import DECISIONS, STAGES
from ..comparison import Composed, compare, compose, differing_cells
from ..decisions import Verdict, check_stage
from ..errors import NotFound, SheetProblems, SheetRefused, form_row
from ..extractionform import CHOICES, FIELDS, OUTCOME_DEFINITIONS
from ..people import ADJUDICATOR, Person
from ..sessions import Session
from ..web import Desk, desk_of, page
from .extraction import RowOf, problem_marks, problems_json
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


def agreement_list(desk: Desk) -> list[dict[str, Any]]:
    """The last run's agreement between reviewers per stage (``agreement.tsv``), each row
    with its sentence (:func:`~livingreview.screening.agreement.agreement_sentence`)."""
    return [{**row, "sentence": agreement_sentence(row)} for row in desk.last_run.agreement()]


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
    studies = await run_in_threadpool(extraction_list, desk)
    agreement = await run_in_threadpool(agreement_list, desk)
    return desk.render(
        request,
        "conflicts.html",
        {"stages": stages, "studies": studies, "agreement": agreement},
    )


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


def extraction_list(desk: Desk) -> list[dict[str, Any]]:
    """New studies of the last run still open, with their sheets and pending agreed sheet."""
    extraction = desk.extraction
    items = []
    for study, status in sorted(desk.last_run.extraction_status().items()):
        names = extraction.sheet_names(study)
        if not extraction.is_open(study) and not names:
            continue
        parsed = [extraction.parsed(extraction.folder(study) / f"{n}.tsv") for n in names]
        items.append(
            {
                "differing": len(differing_cells([s for s in parsed if s is not None])),
                "id": study,
                "status": status.get("status", ""),
                "detail": status.get("detail", ""),
                "sheets": names,
                "adjudicable": extraction.adjudicable(study),
                "pending": extraction.is_open(study)
                and extraction.adjudicated_sheet(study).is_file(),
                "open": extraction.is_open(study),
            }
        )
    return items


def comparison_context(
    desk: Desk,
    study: str,
    posted: Any = None,
    error: str = "",
    problems: list[Problem] | None = None,
    unchosen: list[str] | None = None,
    row_of: RowOf = form_row,
) -> dict[str, Any]:
    """The study's sheets compared cell by cell, prefilled (or as posted, after a refusal);
    ``row_of`` places a problem of the agreed sheet on its compared row."""
    extraction = desk.extraction
    names = extraction.sheet_names(study)
    sheets = [extraction.read(extraction.folder(study) / f"{name}.tsv") for name in names]
    parsed = [extraction.parsed(sheet.path) for sheet in sheets]
    agreed_path = extraction.adjudicated_sheet(study)
    agreed = extraction.read(agreed_path)
    compared = compare([s for s in parsed if s is not None], extraction.parsed(agreed_path))
    index = desk.last_run.index()
    return {
        "study": study,
        "status": extraction.status(study),
        "adjudicable": extraction.adjudicable(study),
        "names": [n for n, s in zip(names, parsed) if s is not None],
        "sheet_problems": {s.name: s.problems for s in sheets if s.problems},
        "compared": compared,
        "differing": sum(row.differing for row in compared),
        "fields": FIELDS,
        "choices": CHOICES,
        "posted": posted,
        "agreed": agreed,
        "agreed_sheet": extraction.store.relative(agreed_path),
        "reports": [record_view(desk, p) for p in extraction.reports(study) if p in index.rows],
        "definitions": OUTCOME_DEFINITIONS,
        "error": error,
        "problems": problems or [],
        **problem_marks(problems or [], row_of),
        "unchosen": unchosen or [],
        "today": extraction.today(),
        "config_run_date": desk.project.run_date.isoformat(),
    }


def on_compared_rows(composed: Composed) -> RowOf:
    """Where a problem of the agreed sheet goes: the compared row its line comes from (rows
    dropped by the adjudicator shift the agreed sheet's lines), so the page marks the right
    row; the problem itself keeps the sheet's own line."""
    return lambda problem: composed.compared_row(problem.line)


@page(ADJUDICATOR)
async def extraction_study(request: Request, person: Person, session: Session) -> Response:
    """A study's sheets cell by cell (GET), or the agreed sheet saved (POST)."""
    desk = desk_of(request)
    study = desk.extraction.study(request.path_params["study_id"])
    if request.method == "GET":
        context = await run_in_threadpool(comparison_context, desk, study)
        return desk.render(request, "extraction_adjudicate.html", context)
    form = await request.form()

    def save() -> Response:
        context = comparison_context(desk, study)
        composed = compose(context["compared"], form, context["names"])
        if composed.unchosen:
            message = f"{len(composed.unchosen)} choice(s) left to make"
            context = comparison_context(desk, study, form, message, unchosen=composed.unchosen)
            return desk.render(request, "extraction_adjudicate.html", context, 422)
        try:
            desk.extraction.adjudicate(study, person.id, composed.rows, form_value(form, "version"))
        except SheetProblems as refused:
            row_of = on_compared_rows(composed)
            context = comparison_context(
                desk, study, form, str(refused), refused.problems, row_of=row_of
            )
            return desk.render(request, "extraction_adjudicate.html", context, 422)
        return RedirectResponse(f"/adjudicate#extraction-{study}", status_code=303)

    return await run_in_threadpool(save)


@page(ADJUDICATOR)
async def extraction_check(request: Request, person: Person, session: Session) -> Response:
    """The workflow's verdict on the agreed sheet the choices posted would make (JSON)."""
    desk = desk_of(request)
    study = desk.extraction.study(request.path_params["study_id"])
    form = await request.form()

    def check() -> Response:
        context = comparison_context(desk, study)
        composed = compose(context["compared"], form, context["names"])
        sheet = desk.extraction.adjudicated_sheet(study)
        problems = desk.extraction.check_rows(sheet, composed.rows)
        return problems_json(problems, on_compared_rows(composed))

    return await run_in_threadpool(check)


@page(ADJUDICATOR)
async def extraction_withdraw(request: Request, person: Person, session: Session) -> Response:
    """Remove a pending agreed sheet (before a run has accepted the study)."""
    desk = desk_of(request)
    study = desk.extraction.study(request.path_params["study_id"])
    form = await request.form()
    await run_in_threadpool(desk.extraction.withdraw, study, person.id, form_value(form, "version"))
    return RedirectResponse(f"/adjudicate/extraction/{study}", status_code=303)


ROUTES = [
    Route("/adjudicate", conflicts, methods=["GET"]),
    Route("/adjudicate/extraction/{study_id}", extraction_study, methods=["GET", "POST"]),
    Route("/adjudicate/extraction/{study_id}/check", extraction_check, methods=["POST"]),
    Route("/adjudicate/extraction/{study_id}/withdraw", extraction_withdraw, methods=["POST"]),
    Route("/adjudicate/{stage}/record/{record_id}", conflict, methods=["GET", "POST"]),
    Route("/adjudicate/{stage}/record/{record_id}/withdraw", withdraw, methods=["POST"]),
]
