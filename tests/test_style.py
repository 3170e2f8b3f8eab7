"""Code style is checked, not hoped for: ruff's formatter and its error-class lints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

RUFF = Path(sys.executable).with_name("ruff")
CODE = ["src", "workflow/scripts", "tests", "benchmarks"]


def test_code_is_formatted():
    result = subprocess.run(
        [str(RUFF), "format", "--check", *CODE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_undefined_names_or_unused_imports():
    result = subprocess.run(
        [str(RUFF), "check", "--select", "F,E9", "--output-format", "concise", *CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
