"""Reproduce a past run: rebuild it in a fresh copy of the project and compare its outputs.

A run's entry lists the human inputs it used by path and SHA-256, whose bytes are in the
archive (:mod:`.archive`); its manifest records the effective config (secrets left out), the
checksums of its code and of every output, including the files of the search snapshots it
used. :func:`reproduce_run` copies the project's code into a new folder, restores the human
inputs from the archive (nothing else under ``resources/``), copies the snapshots the run
used (snapshots are immutable; each file is checked against the manifest), writes the
recorded config to ``reproduce-config.yaml`` and runs the workflow there with it. It then
compares the digests of the outputs with those the run's manifest recorded.

The code is today's: where it differs from the code the run recorded, the result says which
files differ (check out the commit of the run to rebuild it with its own code).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..io import sha256_file
from .archive import INPUTS_ARCHIVE, restore_inputs
from .manifest import REDACTED, compare_files
from .register import BY_DATE_DIR
from .registry import RUN_ID_ENV, RUN_TRIGGER_ENV, RUNS_DIR, new_run_id, read_run, run_folder

#: What a copy of the project needs besides the human inputs (the code and its settings).
CODE_PARTS = ("Snakefile", "config.yaml", "workflow", "src", "profiles")
#: The config file the reproduction runs with.
CONFIG_NAME = "reproduce-config.yaml"


class ReproduceError(RuntimeError):
    """The run cannot be rebuilt (not recorded, no record, missing archived inputs...)."""


@dataclass
class Reproduction:
    """What a reproduction found: outputs that differ from the run's manifest, code that
    differs from the run's, and the folder it ran in."""

    run_id: str
    directory: Path
    outputs_compared: int = 0
    differing_outputs: dict[str, Any] = field(default_factory=dict)
    differing_code: dict[str, Any] = field(default_factory=dict)
    snakemake_exit: int = 0

    @property
    def matches(self) -> bool:
        return self.snakemake_exit == 0 and not self.differing_outputs


def _without_secrets(value: Any) -> Any:
    """The recorded config with the redacted secrets emptied (a reproduction never searches:
    the snapshots are restored)."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return "" if value == REDACTED else value


def _copy_code(root: Path, directory: Path) -> None:
    for part in CODE_PARTS:
        source = root / part
        if source.is_dir():
            shutil.copytree(source, directory / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, directory / part)


def _copy_snapshots(
    root: Path, directory: Path, outputs: dict[str, Any], snapshot_root: str
) -> None:
    for path, entry in outputs.items():
        if not path.startswith(snapshot_root.rstrip("/") + "/"):
            continue
        source = root / path
        if not source.is_file() or sha256_file(source) != entry["sha256"]:
            raise ReproduceError(
                f"{source}: this snapshot file is missing or differs from the run's manifest "
                "(snapshots are immutable: restore it from a backup)"
            )
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def prepare(root: Path, run_id: str, directory: Path) -> tuple[dict[str, Any], Path]:
    """Build the fresh copy of the project for ``run_id`` in ``directory``; return the run's
    manifest and the config file written."""
    entry = read_run(run_id, root / RUNS_DIR)
    if entry is None:
        raise ReproduceError(f"no run {run_id} is recorded in {root / RUNS_DIR}")
    manifest_path = run_folder(run_id, root / RUNS_DIR) / "manifest.json"
    inputs = entry.details.get("inputs")
    if entry.status != "succeeded" or not manifest_path.is_file() or inputs is None:
        raise ReproduceError(
            f"run {run_id} ({entry.status}) has no record of its own to reproduce "
            "(only a run that built the whole review has one)"
        )
    if directory.exists() and any(directory.iterdir()):
        raise ReproduceError(f"{directory} is not empty: give a new or empty folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    directory.mkdir(parents=True, exist_ok=True)
    _copy_code(root, directory)
    restore_inputs(inputs, directory, root / INPUTS_ARCHIVE)
    _copy_snapshots(root, directory, manifest["outputs"], "results/search/pubmed")
    config_file = directory / CONFIG_NAME
    config_file.write_text(
        yaml.safe_dump(_without_secrets(manifest["config"]), sort_keys=False),
        encoding="utf-8",
    )
    return manifest, config_file


def reproduce_run(
    root: str | Path, run_id: str, directory: str | Path, cores: int = 2
) -> Reproduction:
    """Rebuild run ``run_id`` of the project at ``root`` in ``directory`` (new or empty) and
    compare its outputs with the run's manifest."""
    root, directory = Path(root).resolve(), Path(directory).resolve()
    manifest, config_file = prepare(root, run_id, directory)
    env = {
        **os.environ,
        RUN_ID_ENV: new_run_id("manual"),
        RUN_TRIGGER_ENV: "manual",
        "PYTHONPATH": str(directory / "src"),
    }
    snakemake = Path(sys.executable).with_name("snakemake")
    completed = subprocess.run(
        [str(snakemake), "--cores", str(cores), "--configfile", str(config_file)],
        cwd=directory,
        env=env,
        check=False,
    )
    result = Reproduction(run_id=run_id, directory=directory, snakemake_exit=completed.returncode)
    rebuilt = directory / BY_DATE_DIR / str(manifest["run_date"]) / "manifest.json"
    if completed.returncode != 0 or not rebuilt.is_file():
        return result
    new = json.loads(rebuilt.read_text(encoding="utf-8"))
    result.outputs_compared = len(manifest["outputs"])
    result.differing_outputs = _nonempty(compare_files(new["outputs"], manifest["outputs"]))
    result.differing_code = _nonempty(compare_files(new["code"], manifest["code"]))
    return result


def _nonempty(changes: dict[str, list[str]]) -> dict[str, list[str]]:
    return {kind: paths for kind, paths in changes.items() if paths}


def report_lines(result: Reproduction) -> list[str]:
    """What a person reads after ``python -m livingreview.runs reproduce``."""
    lines = [f"reproduced run {result.run_id} in {result.directory}"]
    if result.snakemake_exit != 0:
        lines.append(f"the workflow failed there (exit {result.snakemake_exit}): see above")
        return lines
    changes = result.differing_outputs
    if changes:
        lines.append(f"outputs that differ from the run's manifest: {json.dumps(changes)}")
    else:
        lines.append(
            f"all {result.outputs_compared} outputs have the digests the run's manifest recorded"
        )
    if result.differing_code:
        lines.append(
            "note: today's code differs from the run's (check out the run's commit to rebuild "
            f"it with its own code): {json.dumps(result.differing_code)}"
        )
    return lines
