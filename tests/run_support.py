"""What a dry run plans, for tests that check that nothing but the run's own registration
would run (every run registers itself, so a run never has literally nothing to do)."""

from __future__ import annotations

import re
import subprocess

_JOB = re.compile(r"^(?:local)?rule (?P<rule>\w+):$", re.MULTILINE)
#: The jobs every run has: its registration and the default target.
REGISTRATION_ONLY = {"register_run", "all"}


def planned_rules(result: subprocess.CompletedProcess) -> set[str]:
    """The rules of the jobs a ``--dry-run`` lists."""
    return {match["rule"] for match in _JOB.finditer(result.stdout + result.stderr)}


def only_registration(result: subprocess.CompletedProcess) -> bool:
    """Whether the dry run plans nothing but the run's registration."""
    return planned_rules(result) <= REGISTRATION_ONLY
