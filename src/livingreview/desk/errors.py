"""Errors of the reviewers' desk, each with a message a reviewer or an operator can act on.

They derive from :class:`livingreview.errors.ReviewError` so that the command line reports them
like the workflow's own errors (exit code 3 for bad human input or config, 1 otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Problem, ReviewError


class DeskError(ReviewError):
    """Base class of every error the desk raises on purpose."""

    #: HTTP status the web pages answer with.
    http_status = 400


class SheetRefused(DeskError):
    """A change would leave a sheet the workflow refuses; nothing was written.

    ``message`` is the workflow's own message (file, line, field, value, what is allowed).
    """

    exit_code = 3
    http_status = 422


class NotAllowed(DeskError):
    """The signed-in person may not do this (wrong role, not their queue, already settled)."""

    http_status = 403


class NotFound(DeskError):
    """An id from the address or the form names nothing this person may see."""

    http_status = 404


class SheetsBusy(DeskError):
    """Another desk process held the sheets' lock for too long; nothing was written."""

    http_status = 503


class StaleChange(DeskError):
    """The sheet changed (by hand or in another tab) since the page was shown; nothing written."""

    http_status = 409


class StateFileError(DeskError):
    """The desk's secret state (tokens, signing key) is missing, unreadable or too open."""

    exit_code = 3


class SheetProblems(SheetRefused):
    """A change would make a sheet the workflow refuses; nothing was written.

    ``problems`` holds every problem the workflow's validator found (it collects them all in
    one pass) as data (:class:`livingreview.errors.Problem`: the sheet's file and line, the
    field, the value, what is allowed), so that a page can mark each field; the message is
    the first problem and how many there are.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "the sheet is not valid"
        more = f" [first of {len(self.problems)} problems]" if len(self.problems) > 1 else ""
        super().__init__(first + more)


def form_row(problem: Problem) -> int | None:
    """The form row (0-based) of the sheet line a problem is on (None: the header or the
    sheet as a whole): a form shows a sheet's rows in order, the header being line 1."""
    return problem.line - 2 if problem.line is not None and problem.line >= 2 else None
