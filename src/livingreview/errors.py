"""Exception classes whose messages say where the problem is and what to do next.

Every error raised on bad input names the file, the line (1-based, counting the header as
line 1), the field, the value found and what is allowed, so a reviewer can fix a sheet
without reading code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path


class ReviewError(Exception):
    """Base class for all errors this package raises on purpose."""

    #: Exit code used by ``bin/scheduled-update`` for this family of errors.
    exit_code = 1


class ConfigError(ReviewError):
    """``config.yaml`` (or a ``--config`` override) does not match the schema."""

    exit_code = 3

    def __init__(self, key: str, problem: str, allowed: str | None = None, source: str = "config"):
        self.key = key
        self.problem = problem
        self.allowed = allowed
        message = f"{source}: key '{key}': {problem}"
        if allowed:
            message += f"; allowed: {allowed}"
        message += ". Fix config.yaml or pass --config KEY=VALUE."
        super().__init__(message)


@dataclass(frozen=True)
class Problem:
    """One problem with an input, as data: where it is and what is wrong.

    Validators return these (built by :class:`ProblemCollector`); the workflow renders one as
    its error message (:meth:`__str__`, the text of :class:`InputFileError`) and the reviewers'
    desk shows the parts next to the field they concern, so a reworded message never moves a
    line number: the line is data, never parsed back out of the text.

    >>> str(Problem("a.tsv", "decision not allowed", line=3, field="decision", value="yes",
    ...             allowed="include, exclude"))
    "a.tsv, line 3, field 'decision': decision not allowed (found 'yes'); allowed: include, exclude"
    """

    #: The file the problem is in, as the workflow names it ('' when not about one file).
    file: str
    #: What is wrong, without the location.
    message: str
    #: 1-based line of the file (the header is line 1); None: the file as a whole.
    line: int | None = None
    #: The column (field) concerned, if one.
    field: str | None = None
    #: The value found (None: not shown).
    value: object = None
    #: What is allowed instead, in words.
    allowed: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not None:
            text += f" (found {self.value!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text

    @classmethod
    def of(cls, error: BaseException) -> Problem:
        """The problem an exception reports (an :class:`InputFileError` keeps its parts)."""
        if isinstance(error, InputFileError):
            return cls(
                error.path, error.problem, error.line, error.field, error.value, error.allowed
            )
        return cls("", str(error))


class InputFileError(ReviewError):
    """A human-owned or recorded input file is malformed.

    Carries the file, line and field so that the message points at the exact cell.
    """

    exit_code = 3

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ):
        self.path = str(path)
        self.line = line
        self.field = field
        self.value = value
        self.allowed = allowed
        self.problem = problem
        super().__init__(str(Problem(self.path, problem, line, field, value, allowed)))


class ValidationError(InputFileError):
    """A value is well-formed but breaks a rule of the review (sums, allowed sets...)."""


class ConsistencyError(ReviewError):
    """Derived numbers disagree with each other (e.g. PRISMA identities, published totals)."""

    exit_code = 1


class NetworkError(ReviewError):
    """NCBI (or another remote service) kept failing after all retries."""

    exit_code = 4


class ProblemCollector:
    """Collects every problem one pass over the input finds; logs them all, raises the first.

    A reviewer who fixes one cell and reruns should not meet the next mistake only then: every
    stage that validates a file adds each problem here and calls :meth:`raise_any` at the end.

    >>> problems = ProblemCollector()
    >>> problems.add("a.tsv", "decision not allowed", line=3, field="decision", value="yes")
    >>> problems.add("a.tsv", "date missing", line=4, field="decided_on")
    >>> problems.count
    2
    >>> try:
    ...     problems.raise_any()
    ... except ValidationError as error:
    ...     print(error)
    a.tsv, line 3, field 'decision': decision not allowed (found 'yes') [first of 2 problems; the log lists all]
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        #: Every problem found, in the order found.
        self.problems: list[Problem] = []
        #: problem index -> the exception a reader raised for it (re-raised as it was)
        self._raised: dict[int, ReviewError] = {}
        self._log = logger or logging.getLogger("livingreview")

    def add(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        """Record a problem at ``path`` (line, field, value, allowed)."""
        self.problems.append(Problem(str(path), problem, line, field, value, allowed))

    def add_error(self, error: ReviewError) -> None:
        """Record an error raised by a reader (e.g. a file that is not UTF-8)."""
        self._raised[len(self.problems)] = error
        self.problems.append(Problem.of(error))

    @property
    def errors(self) -> list[ReviewError]:
        """Every problem as the exception the workflow raises for it."""
        return [self._raised.get(i) or _as_error(p) for i, p in enumerate(self.problems)]

    @property
    def count(self) -> int:
        """How many problems were found so far."""
        return len(self.problems)

    def raise_any(self) -> None:
        """Log every problem, then raise the first (its message says how many there were)."""
        if not self.problems:
            return
        errors = self.errors
        for error in errors:
            self._log.error("%s", error)
        first = errors[0]
        if len(errors) > 1:
            first.args = (f"{first.args[0]} [first of {len(errors)} problems; the log lists all]",)
        raise first

    def raise_all(self, heading: str, advice: str) -> None:
        """Log every problem, then raise one :class:`ConsistencyError` whose message lists all.

        For numbers derived from other stages' outputs that disagree (e.g. the PRISMA
        identities): one stale output breaks several identities at once, each naming ids of
        other boxes, and they are understood and fixed together, so every one is in the message.

        >>> problems = ProblemCollector()
        >>> problems.add_error(ConsistencyError("[baseline] a = b: a = 2 but b = 1"))
        >>> try:
        ...     problems.raise_all("identity violation(s)", "Rerun the stage that wrote b.")
        ... except ConsistencyError as error:
        ...     print(error)
        1 identity violation(s):
          [baseline] a = b: a = 2 but b = 1
        Rerun the stage that wrote b.
        """
        if not self.problems:
            return
        errors = self.errors
        for error in errors:
            self._log.error("%s", error)
        raise ConsistencyError(
            f"{len(errors)} {heading}:\n  "
            + "\n  ".join(str(error) for error in errors)
            + "\n"
            + advice
        )


def _as_error(problem: Problem) -> ValidationError:
    """The exception the workflow raises for a problem a validator recorded."""
    return ValidationError(
        problem.file,
        problem.message,
        line=problem.line,
        field=problem.field,
        value=problem.value,
        allowed=problem.allowed,
    )
