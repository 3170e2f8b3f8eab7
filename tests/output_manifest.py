"""Checksums of a run's results/, comparable across runs: the default run's recorded manifest.

A refactoring must not change what the workflow writes, and an intended change of outputs
should be a visible, reviewed change of ``tests/fixtures/default_run/results.sha256``.
Left out, because they differ between two runs of the same code by design: the run records
(``results/runs/``: timestamps, checksums of the code itself) and the moments of a search
(``started_at``/``finished_at`` in provenance files, removed before hashing). The synthesis
history's entries are named by run id (``synthesis/history/<run_id>/``, random per run): each
is listed under its ``run_date`` instead, without its ``version.json``.

    .venv/bin/python tests/output_manifest.py record RESULTS_DIR > tests/fixtures/default_run/results.sha256
    .venv/bin/python tests/output_manifest.py compare RESULTS_DIR tests/fixtures/default_run/results.sha256
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

SKIPPED_FOLDERS = ("runs/",)
MOMENT_KEYS = frozenset({"started_at", "finished_at", "generated_at"})


def _without_moments(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_moments(v) for k, v in value.items() if k not in MOMENT_KEYS}
    if isinstance(value, list):
        return [_without_moments(v) for v in value]
    return value


def file_digest(path: Path) -> str:
    """SHA-256 of the file; for JSON, of its content without the moments of the run."""
    data = path.read_bytes()
    if path.suffix == ".json":
        content = _without_moments(json.loads(data))
        data = json.dumps(content, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


HISTORY = "synthesis/history/"
HISTORY_NOTE = "version.json"


def _stable_name(results: Path, relative: str) -> str | None:
    """The name a file is listed under (``None``: not listed)."""
    if relative.startswith(SKIPPED_FOLDERS):
        return None
    if relative.startswith(HISTORY):
        entry, _, name = relative[len(HISTORY) :].partition("/")
        note = results / HISTORY / entry / HISTORY_NOTE
        if name == HISTORY_NOTE:
            return None
        if note.is_file():
            return f"{HISTORY}{json.loads(note.read_text())['run_date']}/{name}"
    return relative


def manifest(results: Path) -> dict[str, str]:
    """``relative path -> digest`` of every file under ``results`` but the skipped ones."""
    out = {}
    for path in sorted(results.rglob("*")):
        if not path.is_file():
            continue
        name = _stable_name(results, path.relative_to(results).as_posix())
        if name is not None:
            out[name] = file_digest(path)
    return out


def read_manifest(path: Path) -> dict[str, str]:
    rows = (line.split("  ", 1) for line in path.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in rows}


def differences(expected: dict[str, str], found: dict[str, str]) -> list[str]:
    """Human-readable differences, empty when the two manifests agree."""
    lines = [f"missing: {name}" for name in sorted(set(expected) - set(found))]
    lines += [f"unexpected: {name}" for name in sorted(set(found) - set(expected))]
    lines += [
        f"changed: {name}"
        for name in sorted(set(expected) & set(found))
        if expected[name] != found[name]
    ]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "record":
        for name, digest in manifest(Path(argv[1])).items():
            print(f"{digest}  {name}")
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        problems = differences(read_manifest(Path(argv[2])), manifest(Path(argv[1])))
        print("\n".join(problems) or "identical")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
