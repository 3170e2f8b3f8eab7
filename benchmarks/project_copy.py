"""Shared by the benchmarks: a copy of this project to run the workflow in, and the machine's
load to print beside every figure (a figure measured on a busy machine says so)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What a run of the workflow needs (the virtual environment is used from this checkout).
WORKFLOW_PARTS = ("Snakefile", "config.yaml", "workflow", "src", "resources", "profiles")


def copy_project(
    destination: Path, parts: Sequence[str] = WORKFLOW_PARTS, skip: Sequence[str] = ()
) -> Path:
    """Copy ``parts`` of this project into the new folder ``destination`` (no caches, nor
    the names in ``skip``)."""
    destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", *skip)
    for part in parts:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=ignore)
        else:
            shutil.copy2(source, destination / part)
    return destination


def load_text(load: Sequence[float] | None = None) -> str:
    """The load average (1, 5, 15 minutes) as ``load 0.52 0.61 0.70``."""
    values = os.getloadavg() if load is None else load
    return "load " + " ".join(f"{value:.2f}" for value in values)
