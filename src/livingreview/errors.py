"""Exception classes whose messages say where the problem is and what to do next.

Every error raised on bad input names the file, the line (1-based, counting the header as
line 1), the field, the value found and what is allowed, so a reviewer can fix a sheet
without reading code.
"""

from __future__ import annotations

import logging
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
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        message = f"{where}: {problem}"
        if value is not None:
            message += f" (found {value!r})"
        if allowed:
            message += f"; allowed: {allowed}"
        super().__init__(message)


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
        self.errors: list[ReviewError] = []
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
        """Record a :class:`ValidationError` at ``path`` (line, field, value, allowed)."""
        self.errors.append(
            ValidationError(path, problem, line=line, field=field, value=value, allowed=allowed)
        )

    def add_error(self, error: ReviewError) -> None:
        """Record an error raised by a reader (e.g. a file that is not UTF-8)."""
        self.errors.append(error)

    @property
    def count(self) -> int:
        """How many problems were found so far."""
        return len(self.errors)

    def raise_any(self) -> None:
        """Log every problem, then raise the first (its message says how many there were)."""
        if not self.errors:
            return
        for error in self.errors:
            self._log.error("%s", error)
        first = self.errors[0]
        if len(self.errors) > 1:
            first.args = (
                f"{first.args[0]} [first of {len(self.errors)} problems; the log lists all]",
            )
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
        if not self.errors:
            return
        for error in self.errors:
            self._log.error("%s", error)
        raise ConsistencyError(
            f"{len(self.errors)} {heading}:\n  "
            + "\n  ".join(str(error) for error in self.errors)
            + "\n"
            + advice
        )
