"""The manifest of a run: effective config without secrets, software, and file checksums.

Consumes the files the run record's rule declares: the inputs people keep (``resources/`` and
every existing path named in the config, listed at parse time by :func:`input_files`), the
code (``Snakefile``, ``workflow/``, ``src/livingreview/``, listed by :func:`code_files`), every
output the run's stages declare under ``results/``, and the search receipts, whose recorded
checksums stand for the files of the immutable snapshots (which no rule declares).

Produces the ``manifest.json`` of ``results/runs/by-date/<run_date>/`` (built here, written by
:func:`livingreview.runs.record.write_run_record`) and the comparison of two manifests.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from ..io import sha256_file

#: Distributions whose versions go into the manifest.
SOFTWARE = (
    "livingreview",
    "snakemake",
    "biopython",
    "rapidfuzz",
    "pandas",
    "numpy",
    "scipy",
    "rispy",
    "matplotlib",
    "PyYAML",
    "jsonschema",
)
#: Where the inputs people keep live, besides the paths the config names.
INPUT_DIRS = ("resources",)
#: The workflow's code, relative to its folder.
CODE_ENTRIES = ("Snakefile", "workflow", "src/livingreview")
#: Outputs of the workflow; never counted as inputs.
RESULTS = "results"

_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api_key$|apikey$|credential)", re.IGNORECASE
)
#: Config keys whose values may carry credentials (a webhook URL) and are never recorded.
_PRIVATE_KEYS = {"notify_command"}
REDACTED = "<set; not recorded>"


class FileEntry(TypedDict):
    """One file of the manifest. Snapshot files carry the receipt their checksum comes from
    instead of a size (the run record does not read the snapshots themselves)."""

    sha256: str
    bytes: NotRequired[int]
    recorded_in: NotRequired[str]


def public_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without secrets: keys that look like credentials, and the notify command.

    ``api_key_env`` (the *name* of an environment variable) is kept; a key named ``api_key``
    is not.

    >>> public_config({"entrez": {"api_key_env": "NCBI_API_KEY", "api_key": "abc"},
    ...                "runs": {"notify_command": "curl https://hook/T0/secret", "x": 1}})
    {'entrez': {'api_key_env': 'NCBI_API_KEY', 'api_key': '<set; not recorded>'}, 'runs': {'notify_command': '<set; not recorded>', 'x': 1}}
    """

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, Mapping):
            return {str(k): clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if key and (key in _PRIVATE_KEYS or _SECRET_KEY.search(key)) and value not in ("", None):
            return REDACTED
        return value

    return clean(dict(config))


def private_words(config: Mapping[str, Any]) -> set[str]:
    """Every word of the values :func:`public_config` leaves out (a file named there, e.g. in
    the notify command, may hold a credential: its bytes are never archived).

    >>> sorted(private_words({"runs": {"notify_command": "bin/notify --to team"}, "x": "y"}))
    ['--to', 'bin/notify', 'team']
    """
    found: set[str] = set()

    def walk(value: Any, key: str = "", private: bool = False) -> None:
        private = private or bool(key and (key in _PRIVATE_KEYS or _SECRET_KEY.search(key)))
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k), private)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key, private)
        elif private and isinstance(value, str):
            found.update(value.split())

    walk(config)
    return found


def software_versions(names: Iterable[str] = SOFTWARE) -> dict[str, str]:
    """Installed versions of the packages the workflow runs on, plus Python and the OS."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def config_paths(config: Mapping[str, Any], base: Path) -> list[str]:
    """Relative paths named anywhere in the config that exist under ``base`` (files or folders)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value and "\n" not in value and len(value) < 500:
            candidate = Path(value)
            if candidate.is_absolute() or ".." in candidate.parts or "://" in value:
                return
            try:
                exists = (base / candidate).exists()
            except OSError:  # not a path (a query text, a command line)
                return
            if exists and candidate.parts and candidate.parts[0] != ".":
                found.append(candidate.as_posix())

    walk(config)
    return sorted(set(found))


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def list_files(base: str | Path, entries: Iterable[str], exclude: Sequence[str] = ()) -> list[str]:
    """Relative paths of every file under ``entries`` (files or folders relative to ``base``).

    Hidden files and folders (temporaries, caches) and ``__pycache__`` are skipped, as is
    anything under an ``exclude`` prefix.
    """
    base = Path(base)
    excluded = [Path(e) for e in exclude]
    found: set[str] = set()
    for entry in entries:
        start = base / entry
        paths = (
            [start]
            if start.is_file()
            else [p for p in start.rglob("*") if p.is_file()]
            if start.is_dir()
            else []
        )
        for path in paths:
            relative = path.relative_to(base)
            if _is_hidden(relative) or "__pycache__" in relative.parts:
                continue
            if any(relative == e or e in relative.parents for e in excluded):
                continue
            found.add(relative.as_posix())
    return sorted(found)


def input_files(config: Mapping[str, Any], base: str | Path = ".") -> list[str]:
    """The inputs the manifest records: files under ``resources/`` and under every existing
    path the config names, outside ``results/`` (the run record's rule declares them)."""
    base = Path(base)
    return list_files(base, sorted({*INPUT_DIRS, *config_paths(config, base)}), [RESULTS])


def code_files(workflow_dir: str | Path) -> list[str]:
    """The workflow's code files (paths under ``workflow_dir``), as the manifest records them."""
    return [str(Path(workflow_dir) / p) for p in list_files(workflow_dir, CODE_ENTRIES)]


def checksum_files(
    paths: Iterable[str | Path], base: str | Path | None = None
) -> dict[str, FileEntry]:
    """``{path: {"sha256", "bytes"}}`` for the given files, keyed relative to ``base`` when
    they lie under it (else as given), sorted."""
    files: dict[str, FileEntry] = {}
    root = Path(base).resolve() if base is not None else None
    for given in paths:
        path = Path(given)
        key = path.as_posix()
        if root is not None and path.resolve().is_relative_to(root):
            key = path.resolve().relative_to(root).as_posix()
        files[key] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return dict(sorted(files.items()))


def snapshot_checksums(
    receipts: Mapping[str, Mapping[str, Any]], snapshot_root: str
) -> dict[str, FileEntry]:
    """The files of each snapshot with the checksums its receipt (provenance) records.

    ``receipts`` maps each receipt's path to its content. The provenance file is not in its own
    list: the receipt is its byte-identical copy, so it has the receipt's checksum.
    """
    files: dict[str, FileEntry] = {}
    for receipt, provenance in receipts.items():
        folder = f"{snapshot_root}/{provenance.get('run_date', '')}"
        files[f"{folder}/provenance.json"] = {
            "sha256": sha256_file(receipt),
            "recorded_in": receipt,
        }
        for name, digest in provenance.get("files", {}).items():
            files[f"{folder}/{name}"] = {"sha256": str(digest), "recorded_in": receipt}
    return dict(sorted(files.items()))


def compare_files(
    current: Mapping[str, Mapping[str, Any]], previous: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Files added, removed and changed between two manifests' file tables.

    >>> compare_files({"a": {"sha256": "1"}, "b": {"sha256": "2"}},
    ...               {"b": {"sha256": "3"}, "c": {"sha256": "4"}})
    {'added': ['a'], 'removed': ['c'], 'changed': ['b']}
    """
    return {
        "added": sorted(set(current) - set(previous)),
        "removed": sorted(set(previous) - set(current)),
        "changed": sorted(
            p for p in set(current) & set(previous) if current[p]["sha256"] != previous[p]["sha256"]
        ),
    }
