"""An extractor's pages: the studies awaiting extraction, and one form per study.

Blinded by construction: these pages read the extractor's own sheet, the study's reports
(bibliographic data) and the last run's status; another extractor's sheet is read only once
both have saved theirs, and then shown only where the two differ (:meth:`ExtractionDesk.others`).

The form posts every cell (``r<i>.<column>``) and what to do (``op``): ``save``, ``add-arm``,
``add-subgroup`` or ``remove-<i>``.  Adding and removing rows only redraws the form (nothing is
written); saving writes the extractor's sheet, refused with the workflow's messages when the
workflow would refuse it.  ``/check`` answers the same validation as JSON while the extractor
types (``static/extraction.js``); the messages are the workflow's own either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ...baseline import CNIS, CROSSTAB_GROUPS
from ...errors import Problem
from ..errors import NotFound, SheetProblems, form_row
from ..extractionform import (
    CHOICES,
    GROUPS,
    KEY_FIELDS,
    LINE_DEFINITIONS,
    MAX_ROWS,
    OUTCOME_DEFINITIONS,
    FormRow,
    blank_row,
    row_label,
    rows_from_form,
    visible_groups,
)
from ..people import EXTRACTOR, Person
from ..sessions import Session
from ..web import Desk, desk_of, page
from .records import record_view
from .screening import form_value

#: Where a problem goes on a form: its row (0-based; None: the sheet as a whole).
RowOf = Callable[[Problem], int | None]


def problem_marks(problems: list[Problem], row_of: RowOf = form_row) -> dict[str, Any]:
    """Problems by form row (None: the sheet as a whole) and the cells to mark."""
    by_row: dict[int | None, list[str]] = {}
    cells = set()
    for problem in problems:
        row = row_of(problem)
        by_row.setdefault(row, []).append(str(problem))
        if row is not None and problem.field:
            cells.add(f"r{row}.{problem.field}")
    return {"problems_by_row": by_row, "marked": cells}


def study_list(desk: Desk, person: Person) -> list[dict[str, Any]]:
    """Every new study of the last run with where the extractor's own sheet stands."""
    extraction = desk.extraction
    index = desk.last_run.index()
    studies = []
    for study, status in sorted(desk.last_run.extraction_status().items()):
        sheet = extraction.extractor_sheet(study, person.id)
        reports = extraction.reports(study)
        studies.append(
            {
                "id": study,
                "status": status.get("status", ""),
                "detail": status.get("detail", ""),
                "open": extraction.is_open(study),
                "saved": sheet.is_file(),
                "titles": [
                    (index.rows.get(pid, {}).get("title") or pid).strip() for pid in reports
                ],
            }
        )
    return studies


def form_context(
    desk: Desk,
    person: Person,
    study: str,
    rows: list[FormRow] | None = None,
    version: str | None = None,
    problems: list[Problem] | None = None,
    flash: str = "",
    error: str = "",
) -> dict[str, Any]:
    """Everything the study's form shows (the extractor's own sheet, or the rows posted)."""
    extraction = desk.extraction
    sheet = extraction.extractor_sheet(study, person.id)
    on_disk = extraction.read(sheet)
    shown = on_disk.rows if rows is None else rows
    index = desk.last_run.index()
    return {
        "study": study,
        "status": extraction.status(study),
        "open": extraction.is_open(study),
        "reports": [
            record_view(desk, pid) for pid in extraction.reports(study) if pid in index.rows
        ],
        "rows": shown,
        "labels": [row_label(row) for row in shown],
        "visible": [visible_groups(row) for row in shown],
        "version": on_disk.version if version is None else version,
        "saved": on_disk.exists,
        "sheet": extraction.store.relative(sheet),
        "sheet_problems": on_disk.problems if rows is None else [],
        "problems": problems or [],
        **problem_marks(problems or []),
        "others": extraction.others(study, person.id),
        "groups": GROUPS,
        "key_fields": KEY_FIELDS,
        "choices": CHOICES,
        "cnis": CNIS,
        "default_cni": next((r["cni"] for r in reversed(shown) if r["cni"] in CNIS), CNIS[0]),
        "subgroups": [(g, group) for g, groups in CROSSTAB_GROUPS.items() for group in groups],
        "max_rows": MAX_ROWS,
        "definitions": OUTCOME_DEFINITIONS,
        "line_definitions": LINE_DEFINITIONS,
        "flash": flash,
        "error": error,
        "action": f"/extract/{study}",
        "today": extraction.today(),
        "config_run_date": desk.project.run_date.isoformat(),
    }


def edit_rows(rows: list[FormRow], op: str, form: Any) -> list[FormRow]:
    """The rows after adding or removing one (``op``); the choices come from the form."""
    rows = list(rows)
    if op == "add-arm":
        cni = form_value(form, "new_cni")
        if cni not in CNIS:
            raise NotFound(f"no CNI {cni!r}; choose {', '.join(CNIS)}")
        rows.append(blank_row("arm", cni))
    elif op == "add-subgroup":
        cni = form_value(form, "new_cni")
        grouping, _, group = form_value(form, "new_subgroup").partition(":")
        if cni not in CNIS or group not in CROSSTAB_GROUPS.get(grouping, ()):
            raise NotFound("choose a CNI and a subgroup from the lists")
        rows.append(blank_row("subgroup", cni, grouping, group))
    elif op.startswith("remove-") and op[7:].isdigit() and int(op[7:]) < len(rows):
        del rows[int(op[7:])]
    else:
        raise NotFound(f"unknown form action {op!r}")
    if len(rows) > MAX_ROWS:
        raise NotFound(f"a sheet holds at most {MAX_ROWS} rows here")
    return rows


@page(EXTRACTOR)
async def studies(request: Request, person: Person, session: Session) -> Response:
    """The new studies of the last run: awaiting extraction, with discrepancies, accepted."""
    desk = desk_of(request)
    items = await run_in_threadpool(study_list, desk, person)
    return desk.render(request, "extraction_list.html", {"studies": items})


@page(EXTRACTOR)
async def study_form(request: Request, person: Person, session: Session) -> Response:
    """The study's form (GET), or a row added/removed or the sheet saved (POST)."""
    desk = desk_of(request)
    study = desk.extraction.study(request.path_params["study_id"])
    if request.method == "GET":
        flash = "saved" if request.query_params.get("saved") else ""
        context = await run_in_threadpool(
            form_context, desk, person, study, None, None, None, flash
        )
        return desk.render(request, "extraction_form.html", context)
    form = await request.form()
    rows = rows_from_form(form)
    version = form_value(form, "version")
    op = form_value(form, "op") or "save"

    def act() -> Response:
        if op != "save":
            context = form_context(desk, person, study, edit_rows(rows, op, form), version)
            return desk.render(request, "extraction_form.html", context)
        try:
            desk.extraction.save(study, person.id, rows, version)
        except SheetProblems as refused:
            context = form_context(
                desk, person, study, rows, version, refused.problems, error=str(refused)
            )
            return desk.render(request, "extraction_form.html", context, refused.http_status)
        return RedirectResponse(f"/extract/{study}?saved=1", status_code=303)

    return await run_in_threadpool(act)


@page(EXTRACTOR)
async def check(request: Request, person: Person, session: Session) -> Response:
    """The workflow's verdict on the sheet the posted form would make, as JSON (no write)."""
    desk = desk_of(request)
    study = desk.extraction.study(request.path_params["study_id"])
    rows = rows_from_form(await request.form())
    sheet = desk.extraction.extractor_sheet(study, person.id)
    problems = await run_in_threadpool(desk.extraction.check_rows, sheet, rows)
    return problems_json(problems)


def problems_json(problems: list[Problem], row_of: RowOf = form_row) -> JSONResponse:
    """The problems as the page's script shows them: each beside its row and field, with
    the sheet's file and line, what is allowed, and the workflow's whole message."""
    return JSONResponse(
        {
            "ok": not problems,
            "problems": [
                {
                    "row": row_of(p),
                    "line": p.line,
                    "field": p.field,
                    "allowed": p.allowed,
                    "file": p.file,
                    "message": str(p),
                }
                for p in problems
            ],
        }
    )


ROUTES = [
    Route("/extract", studies, methods=["GET"]),
    Route("/extract/{study_id}", study_form, methods=["GET", "POST"]),
    Route("/extract/{study_id}/check", check, methods=["POST"]),
]
