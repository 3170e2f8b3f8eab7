"""Checksums of a run's results/, comparable across runs: the default run's recorded manifest.

A refactoring must not change what the workflow writes, and an intended change of outputs
should be a visible, reviewed change of ``tests/fixtures/default_run/results.sha256``.
Left out, because they differ between two runs of the same code by design: the run records
(``results/runs/``: timestamps, checksums of the code itself) and the moments of a search
(``started_at``/``finished_at`` in provenance files, removed before hashing). The synthesis
history's entries are named by run id (``synthesis/history/<run_id>/``, random per run): each
is listed under its ``run_date`` instead, without its ``version.json``.

Floating-point results of an iterative fit (the GLMM's optimiser) differ in their last digits
between processors (numpy picks AVX-512 or AVX2 kernels for exp/log at run time: about 1e-8
relative on the pooled estimates). Such tables (:data:`NUMERIC`) are recorded as a digest of
their text with the decimal numbers masked *and* a copy beside the manifest
(``numeric/<path>``), whose numbers must agree to :data:`RELATIVE_TOLERANCE`; the forest
plots drawn from them (:data:`MASKED`) are compared with their numbers and clip-path ids
masked (their numbers come from those tables). Everything else is compared byte for byte.

    .venv/bin/python tests/output_manifest.py record RESULTS_DIR tests/fixtures/default_run/results.sha256
    .venv/bin/python tests/output_manifest.py compare RESULTS_DIR tests/fixtures/default_run/results.sha256
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import math
import re
import shutil
import sys
from pathlib import Path

SKIPPED_FOLDERS = ("runs/",)
MOMENT_KEYS = frozenset({"started_at", "finished_at", "generated_at"})
#: Tables holding estimates of an iterative fit: numbers compared with a tolerance.
NUMERIC = (
    "synthesis/meta_analysis.tsv",
    "synthesis/whats_new.tsv",
    "synthesis/history/*/meta_analysis.tsv",
)
#: Drawings of those numbers: compared with numbers (and the ids derived from them) masked.
MASKED = ("synthesis/forest_*.svg",)
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
_DECIMAL = re.compile(rb"-?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")
_CLIP_ID = re.compile(rb"\bp[0-9a-f]{10}\b")


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def _masked(data: bytes) -> bytes:
    return _CLIP_ID.sub(b"<id>", _DECIMAL.sub(b"<f>", data))


def _without_moments(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_moments(v) for k, v in value.items() if k not in MOMENT_KEYS}
    if isinstance(value, list):
        return [_without_moments(v) for v in value]
    return value


def file_digest(path: Path, relative: str = "") -> str:
    """SHA-256 of the file; for JSON, of its content without the moments of the run; for
    the tables and drawings of :data:`NUMERIC` and :data:`MASKED`, of the masked text,
    prefixed with ``numeric:`` or ``masked:``."""
    data = path.read_bytes()
    if path.suffix == ".json":
        content = _without_moments(json.loads(data))
        data = json.dumps(content, sort_keys=True).encode()
    for prefix, patterns in (("numeric:", NUMERIC), ("masked:", MASKED)):
        if _matches(relative, patterns):
            return prefix + hashlib.sha256(_masked(data)).hexdigest()
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
            out[name] = file_digest(path, name)
    return out


def listed_files(results: Path) -> dict[str, Path]:
    """``listed name -> file`` of every file :func:`manifest` lists."""
    out = {}
    for path in sorted(results.rglob("*")):
        if path.is_file():
            name = _stable_name(results, path.relative_to(results).as_posix())
            if name is not None:
                out[name] = path
    return out


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def _cells_agree(expected: str, found: str) -> bool:
    if expected == found:
        return True
    try:
        a, b = float(expected), float(found)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


def numeric_differences(expected: Path, found: Path) -> list[str]:
    """Cells of two tables that differ beyond the tolerance (``[]``: they agree)."""
    a, b = _rows(expected), _rows(found)
    if len(a) != len(b):
        return [f"{len(a)} lines recorded, {len(b)} found"]
    out = []
    for number, (row_a, row_b) in enumerate(zip(a, b), start=1):
        if len(row_a) != len(row_b):
            out.append(f"line {number}: {len(row_a)} cells recorded, {len(row_b)} found")
            continue
        for column, (cell_a, cell_b) in enumerate(zip(row_a, row_b)):
            if not _cells_agree(cell_a, cell_b):
                out.append(f"line {number}, column {a[0][column]}: {cell_a} -> {cell_b}")
    return out


def read_manifest(path: Path) -> dict[str, str]:
    rows = (line.split("  ", 1) for line in path.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in rows}


def differences(
    expected: dict[str, str],
    found: dict[str, str],
    recorded_copies: Path | None = None,
    results: Path | None = None,
) -> list[str]:
    """Human-readable differences, empty when the two manifests agree. With the folder of
    the recorded copies and the results folder, the numbers of :data:`NUMERIC` tables are
    compared too."""
    lines = [f"missing: {name}" for name in sorted(set(expected) - set(found))]
    lines += [f"unexpected: {name}" for name in sorted(set(found) - set(expected))]
    lines += [
        f"changed: {name}"
        for name in sorted(set(expected) & set(found))
        if expected[name] != found[name]
    ]
    if recorded_copies is not None and results is not None:
        for name in sorted(set(expected) & set(found)):
            if expected[name].startswith("numeric:") and expected[name] == found[name]:
                copy = recorded_copies / name
                if not copy.is_file():
                    lines.append(f"no recorded copy of {name} (re-record the manifest)")
                    continue
                found_file = listed_files(results)[name]
                lines += [f"changed: {name}, {d}" for d in numeric_differences(copy, found_file)]
    return lines


def record(results: Path, manifest_path: Path) -> None:
    """Write the manifest of ``results`` and the copies of its :data:`NUMERIC` tables."""
    digests = manifest(results)
    files = listed_files(results)
    copies = manifest_path.parent / "numeric"
    shutil.rmtree(copies, ignore_errors=True)
    for name, digest in digests.items():
        if digest.startswith("numeric:"):
            (copies / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[name], copies / name)
    manifest_path.write_text("".join(f"{d}  {n}\n" for n, d in digests.items()))


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "record":
        record(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        results, recorded = Path(argv[1]), Path(argv[2])
        problems = differences(
            read_manifest(recorded), manifest(results), recorded.parent / "numeric", results
        )
        print("\n".join(problems) or "identical")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
