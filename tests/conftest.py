"""Shared test helpers: the project root and a disposable copy of the workflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
WORKFLOW_PARTS = ("Snakefile", "config.yaml", "workflow", "src", "resources", "profiles")


def copy_project(destination: Path) -> Path:
    """Copy what a workflow run needs into ``destination`` (never run in the real tree)."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(
                source, destination / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with the project's Snakemake."""
    command = [str(SNAKEMAKE), "--cores", "2", "--directory", str(workdir), *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """One complete run of the default workflow, shared by the read-only workflow tests."""
    workdir = copy_project(tmp_path_factory.mktemp("default_run"))
    run_snakemake(workdir)
    return workdir


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A fresh copy of the project for tests that change inputs."""
    return copy_project(tmp_path / "project")
