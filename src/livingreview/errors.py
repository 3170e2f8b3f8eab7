"""Exception classes whose messages say where the problem is and what to do next.

Every error raised on bad input names the file, the line (1-based, counting the header as
line 1), the field, the value found and what is allowed, so a reviewer can fix a sheet
without reading code.
"""

from __future__ import annotations

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
