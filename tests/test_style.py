"""Code style is checked, not hoped for: formatters, lints and the house rules of the layout."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent
CODE = ["src", "workflow/scripts", "tests", "benchmarks", "resources"]
RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
PACKAGE = ROOT / "src" / "livingreview"


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_code_is_formatted():
    result = run(str(BIN / "ruff"), "format", "--check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_undefined_names_unused_or_unsorted_imports():
    result = run(str(BIN / "ruff"), "check", "--output-format", "concise", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_are_formatted_with_snakefmt():
    result = run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def _rules(path: Path) -> list[tuple[str, str]]:
    blocks = re.split(r"(?m)^(?=(?:rule|checkpoint) \w+:)", path.read_text())
    return [
        (re.match(r"(?:rule|checkpoint) (\w+):", b).group(1), b)
        for b in blocks
        if b.startswith(("rule ", "checkpoint "))
    ]


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_has_log_benchmark_environment_and_code_inputs(path):
    for name, block in _rules(path):
        for directive in ("log:", "benchmark:", "conda:"):
            assert f"\n    {directive}" in block, f"rule {name} in {path.name} lacks {directive}"
        if "\n    script:" in block:
            assert 'code=script_code("' in block, f"rule {name}: declare its code inputs"


def _function_level_package_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (
                    inner.level or (inner.module or "").startswith("livingreview")
                ):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return found


def test_package_imports_sit_at_module_level():
    """Rule inputs are derived from module-level imports (livingreview.dependencies): an
    import hidden in a function would let a code change skip the rerun it needs."""
    hidden = [
        hit for path in PACKAGE.rglob("*.py") for hit in _function_level_package_imports(path)
    ]
    assert hidden == []


def test_package_never_imports_snakemake():
    offenders = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+snakemake\b", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_package_is_type_checked_clean():
    """Rows crossing stages are TypedDicts and dataclasses; mypy holds the package to them."""
    result = run(str(BIN / "mypy"), "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr
