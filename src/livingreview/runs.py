"""The record of one scheduled run, and the scheduler's helpers.

Consumes, after every other stage has finished (each one optional, reported when missing):

- ``results/search/pubmed/<run_date>/provenance.json``: what this run's PubMed search returned;
- ``results/records/{unique,duplicates,maybe,runs}.tsv``: deduplication (per-run PRISMA counts);
- ``results/screening/status.tsv`` (``awaiting_reviewers``), ``conflicts.tsv`` and
  ``queue/<stage>/<reviewer>.tsv``: who has publications waiting;
- ``results/extraction/studies.tsv``: studies in the synthesis (``version`` baseline or update);
- ``results/synthesis/{outcomes,tests,meta_analysis}.tsv``: the pooled estimates;
- the record of the latest *earlier* run (``results/runs/<earlier date>/``), to say what changed.

Produces ``results/runs/<run_date>/``:

- ``summary.json`` / ``summary.md``: new records found, duplicates, publications awaiting each
  reviewer, studies added, whether the pooled estimates changed since the previous run record;
- ``manifest.json``: the effective config (secrets removed), software versions, and the SHA-256
  of every input (``resources/`` and every existing path named in the config), every code file
  (``Snakefile``, ``workflow/``, ``src/livingreview/``) and every output under ``results/``
  (except the run records themselves and hidden temporary files);
- ``notification.json`` when ``runs.notify_command`` is set (:func:`notify`).

The scheduler side (``bin/scheduled-update``) uses :func:`classify_failure` to turn a failed
run's output into one of the documented exit codes, and :func:`clean_stale_temporaries` to
remove what a killed run left behind. ``python -m livingreview.runs --help`` lists both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import errors
from .errors import ConfigError, InputFileError, ReviewError
from .io import read_rows, sha256_file, write_text
from .logs import ERROR_MARKER
from .text import ISO_DATE
from .updates import latest_history

log = logging.getLogger(__name__)

RECORD_VERSION = 1

# ----------------------------------------------------------------------------- exit codes

#: Exit codes of ``bin/scheduled-update`` (documented in docs/scheduling.md).
EXIT_OK = 0
EXIT_FAILURE = 1  # anything else: a bug, a full disk, a missing file, a failed notification
EXIT_USAGE = 2  # bad arguments to bin/scheduled-update itself
EXIT_INPUT = errors.InputFileError.exit_code  # 3: invalid human input or config
EXIT_NETWORK = errors.NetworkError.exit_code  # 4: NCBI unreachable after all retries
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the project; nothing was touched

_MARKER = re.compile(
    rf"{ERROR_MARKER} (?P<name>[A-Za-z_][A-Za-z0-9_]*) exit_code=(?P<code>\d+)(?: run=(?P<run>\S+))?"
)
# Snakemake reports an exception raised while parsing the Snakefile (e.g. ConfigError from
# the config validation in common.smk) as "<Class> in file "<path>", line N:".
_PARSE_ERROR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*) in (?:file|line) ", re.MULTILINE)
_LOCKED = re.compile(r"\bLockException\b|Directory cannot be locked")
# A job that never reached the cluster: the SLURM executor plugin reports sbatch's own
# message ("SLURM sbatch failed. The error message was '...'", possibly over several lines)
# or an exception raised while it built the submission (an invalid account...).
_SUBMISSION = (
    re.compile(
        r"SLURM sbatch failed\b[^\n]*?The error message was '(?P<message>.*?)'\.?$", re.S | re.M
    ),
    re.compile(
        r"(?:Array j|J)ob submission failed with exception: (?P<message>.+?)"
        r"(?=For further error details|\n    \S|\n\s*\n|\Z)",
        re.S,
    ),
    re.compile(r"Error submitting jobscript[^\n]*\n(?P<message>[^\n]*)"),
)
#: The reason given for a job that could not be submitted to the cluster (exit code 1).
SUBMISSION_FAILED = "SubmissionFailed"
# Snakemake without the SLURM executor plugin rejects `executor: slurm` while reading options.
_NO_SLURM_PLUGIN = re.compile(r"argument --executor/-e: invalid choice: 'slurm'")
#: The reason given when a profile asks for SLURM but the plugin is not installed (exit 1).
PLUGIN_MISSING = "SlurmPluginMissing"
# Most specific first: a person must act on invalid input, the network heals itself.
_PRIORITY = (EXIT_INPUT, EXIT_NETWORK, EXIT_BUSY)


def exit_code_of_class(name: str) -> int | None:
    """Exit code of a :mod:`livingreview.errors` class by name, ``None`` if it is not one.

    >>> exit_code_of_class("ValidationError"), exit_code_of_class("NetworkError")
    (3, 4)
    >>> exit_code_of_class("KeyError") is None
    True
    """
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ReviewError):
        return int(cls.exit_code)
    return None


@dataclass(frozen=True)
class Failure:
    """Why a run failed: the exit code, a short reason and, if any, the message to show last."""

    code: int
    reason: str
    detail: str = ""


def submission_failure(text: str) -> str | None:
    """The scheduler's message for a job that could not be submitted, ``None`` if none was.

    >>> submission_failure("message: SLURM sbatch failed. The error message was "
    ...     "'sbatch: error: invalid partition specified: x\\nsbatch: error: Batch job "
    ...     "submission failed: Invalid partition name specified'.\\n    sbatch call:")
    'sbatch: error: invalid partition specified: x; sbatch: error: Batch job submission failed: Invalid partition name specified'
    >>> submission_failure("Error in rule dedup:") is None
    True
    """
    for pattern in _SUBMISSION:
        match = pattern.search(text)
        if match:
            message = ""
            for line in match["message"].strip().splitlines():
                if line.strip():
                    glue = "" if not message else " " if message.endswith(":") else "; "
                    message += glue + line.strip()
            return message or "job submission failed"
    return None


def classify_run(text: str, run_id: str | None = None) -> Failure:
    """Exit code, reason and message for a failed Snakemake run, from this run's output.

    Markers written by :func:`livingreview.logs.error_marker` in a job's output win. With
    ``run_id`` (what ``bin/scheduled-update`` passes), only markers naming that run count:
    Snakemake prints a failed job's log file even when the job never ran in this run (its
    submission failed), and that file may still hold an earlier run's marker. Then errors
    raised while the Snakefile was parsed (config validation); then Snakemake's lock error
    (another run is active); then a job the cluster refused (exit 1, with the scheduler's
    message) or a SLURM profile without the plugin installed (exit 1, saying how to install
    it). Anything else is :data:`EXIT_FAILURE`.

    >>> classify_run("LIVINGREVIEW-ERROR ValidationError exit_code=3 run=old\\n", run_id="new")
    Failure(code=1, reason='other failure', detail='')
    >>> classify_run("LIVINGREVIEW-ERROR ValidationError exit_code=3 run=new\\n", run_id="new")
    Failure(code=3, reason='ValidationError', detail='')
    """
    found: dict[int, str] = {}
    for match in _MARKER.finditer(text):
        if run_id is not None and match["run"] != run_id:
            continue  # written by another run (an old log printed again)
        found.setdefault(int(match["code"]), match["name"])
    for match in _PARSE_ERROR.finditer(text):
        code = exit_code_of_class(match["name"])
        if code is not None:
            found.setdefault(code, match["name"])
    if _LOCKED.search(text):
        found.setdefault(EXIT_BUSY, "LockException")
    for code in _PRIORITY:
        if code in found:
            return Failure(code, found[code])
    message = submission_failure(text)
    if message is not None:
        return Failure(EXIT_FAILURE, SUBMISSION_FAILED, message)
    if _NO_SLURM_PLUGIN.search(text):
        return Failure(
            EXIT_FAILURE,
            PLUGIN_MISSING,
            "snakemake says \"invalid choice: 'slurm'\": the SLURM executor plugin is not "
            "installed in this project's .venv; run bin/bootstrap --cluster",
        )
    for code, name in sorted(found.items()):
        if code != EXIT_OK:
            return Failure(EXIT_FAILURE, name)
    return Failure(EXIT_FAILURE, "other failure")


def classify_failure(text: str, run_id: str | None = None) -> tuple[int, str]:
    """Exit code and reason for a failed Snakemake run (:func:`classify_run` without detail).

    >>> classify_failure("... LIVINGREVIEW-ERROR NetworkError exit_code=4 ...")
    (4, 'NetworkError')
    >>> classify_failure('ConfigError in file "/p/common.smk", line 13:')
    (3, 'ConfigError')
    >>> classify_failure("MissingInputException in rule dedup")
    (1, 'other failure')
    """
    failure = classify_run(text, run_id)
    return failure.code, failure.reason


def clean_stale_temporaries(results_dir: str | Path) -> list[Path]:
    """Remove the temporary files and folders a killed run left under ``results_dir``.

    Only the two shapes this project writes are touched: ``.<name>.<random>.tmp`` from
    :func:`livingreview.io.atomic_open` and ``.tmp-<date>-<pid>/`` snapshot folders from the
    search stage. Call it only while no other run is active (the scheduler holds the lock).
    """
    root = Path(results_dir)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in sorted(root.rglob(".*"), key=lambda p: len(p.parts), reverse=True):
        name = path.name
        if path.is_dir() and name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and name.endswith(".tmp") and name.count(".") >= 3:
            path.unlink(missing_ok=True)
        else:
            continue
        removed.append(path)
    return removed


# ----------------------------------------------------------------------------- manifest

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
_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api_key$|apikey$|credential)", re.IGNORECASE
)
#: Config keys whose values may carry credentials (a webhook URL) and are never recorded.
_PRIVATE_KEYS = {"notify_command"}
REDACTED = "<set; not recorded>"


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


def checksum_tree(
    base: Path, entries: Iterable[str], exclude: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """``{relative path: {"sha256", "bytes"}}`` for every file under ``entries`` (relative to ``base``).

    Hidden files and folders (temporaries, caches) and ``__pycache__`` are skipped, as is
    anything under an ``exclude`` prefix.
    """
    files: dict[str, dict[str, Any]] = {}
    excluded = [Path(e) for e in exclude]
    for entry in entries:
        start = base / entry
        paths = (
            [start]
            if start.is_file()
            else sorted(p for p in start.rglob("*") if p.is_file())
            if start.is_dir()
            else []
        )
        for path in paths:
            relative = path.relative_to(base)
            if _is_hidden(relative) or "__pycache__" in relative.parts:
                continue
            if any(relative == e or e in relative.parents for e in excluded):
                continue
            files[relative.as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return dict(sorted(files.items()))


# ----------------------------------------------------------------------------- summary


@dataclass
class RunPaths:
    """Where the other stages put what the run record reads (relative to the working dir)."""

    results: str = "results"
    search_root: str = "results/search/pubmed"
    records: str = "results/records"
    screening: str = "results/screening"
    extraction_studies: str = "results/extraction/studies.tsv"
    synthesis: str = "results/synthesis"
    runs: str = "results/runs"
    input_dirs: list[str] = field(default_factory=lambda: ["resources"])
    code: list[str] = field(default_factory=lambda: ["Snakefile", "workflow", "src/livingreview"])

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> RunPaths:
        params = dict(params or {})
        unknown = set(params) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                "runs paths",
                f"unknown entries {sorted(unknown)}",
                ", ".join(cls.__dataclass_fields__),
            )
        return cls(**params)


#: Pooled-estimate tables and the columns that identify one row in each.
ESTIMATE_TABLES: dict[str, tuple[str, ...]] = {
    "outcomes.tsv": ("grouping", "group"),
    "tests.tsv": ("test",),
    "meta_analysis.tsv": ("analysis", "subgroup"),
}


def _int(value: str | None) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def _missing(*paths: Path) -> dict[str, Any]:
    return {"available": False, "missing": [p.as_posix() for p in paths]}


def search_section(paths: RunPaths, run_date: str, base: Path) -> dict[str, Any]:
    provenance_path = base / paths.search_root / run_date / "provenance.json"
    if not provenance_path.is_file():
        return _missing(Path(paths.search_root) / run_date / "provenance.json")
    try:
        provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            provenance_path, f"is not valid JSON ({exc.msg})", line=exc.lineno
        ) from None
    return {
        "available": True,
        "snapshot": (Path(paths.search_root) / run_date).as_posix(),
        "kind": provenance.get("kind"),
        "mode": provenance.get("mode"),
        "window": provenance.get("window"),
        "pmids_returned": len(provenance.get("pmids_returned", [])),
        "pmids_new": len(provenance.get("pmids_new", [])),
        "pmids_already_held": len(provenance.get("pmids_already_held", [])),
        "requests": provenance.get("request_count"),
    }


def records_section(paths: RunPaths, run_date: str, base: Path) -> dict[str, Any]:
    folder = base / paths.records
    names = ("unique.tsv", "duplicates.tsv", "maybe.tsv", "runs.tsv")
    missing = [Path(paths.records) / n for n in names if not (folder / n).is_file()]
    if missing:
        return _missing(*missing)
    run_rows = [r for r in read_rows(folder / "runs.tsv") if r.get("run") == run_date]
    counted = (
        "records_identified",
        "previously_retrieved",
        "duplicates_of_earlier_runs",
        "duplicates_within_run",
        "new_publications",
        "duplicates_removed",
    )
    total = next((r for r in run_rows if r.get("source") == "all"), None)
    this_run = {c: _int(total.get(c)) for c in counted} if total else {c: 0 for c in counted}
    return {
        "available": True,
        "this_run": this_run,
        "this_run_by_source": {
            r["source"]: {c: _int(r.get(c)) for c in counted}
            for r in run_rows
            if r.get("source") != "all"
        },
        "publications_total": len(read_rows(folder / "unique.tsv")),
        "duplicate_records_total": len(read_rows(folder / "duplicates.tsv")),
        "uncertain_pairs_awaiting_verdict": len(read_rows(folder / "maybe.tsv")),
    }


def screening_section(paths: RunPaths, base: Path) -> dict[str, Any]:
    """Publications awaiting each reviewer (``status.tsv`` column ``awaiting_reviewers``,
    ``; ``-joined), the queue lengths (``queue/<stage>/<reviewer>.tsv``) and open conflicts."""
    folder = base / paths.screening
    status = folder / "status.tsv"
    if not status.is_file():
        return _missing(Path(paths.screening) / "status.tsv")
    rows = read_rows(status)
    awaiting: dict[str, Counter[str]] = {}
    for row in rows:
        for reviewer in (r.strip() for r in row.get("awaiting_reviewers", "").split(";")):
            if reviewer:
                awaiting.setdefault(reviewer, Counter())[row.get("status", "")] += 1
    section: dict[str, Any] = {
        "available": True,
        "awaiting_by_reviewer": {
            reviewer: {"total": sum(by_status.values()), **dict(sorted(by_status.items()))}
            for reviewer, by_status in sorted(awaiting.items())
        },
        "status_counts": dict(sorted(Counter(r.get("status", "") for r in rows).items())),
    }
    queue_root = folder / "queue"
    if queue_root.is_dir():
        section["queues"] = {
            stage.name: {q.stem: len(read_rows(q)) for q in sorted(stage.glob("*.tsv"))}
            for stage in sorted(p for p in queue_root.iterdir() if p.is_dir())
        }
    conflicts = folder / "conflicts.tsv"
    if conflicts.is_file():
        section["conflicts_awaiting_adjudication"] = len(read_rows(conflicts))
    return section


def studies_added(rows: Sequence[Mapping[str, str]], history_dir: Path, run_date: str) -> set[str]:
    """New studies (not in the published review) absent from the previous archived run.

    The same comparison as whats_new (``livingreview.updates``): against the latest run
    archived before ``run_date``, or, before any, against the published review.
    """
    new = {r["study_id"] for r in rows if r.get("study_id") and r.get("version") != "baseline"}
    previous = latest_history(history_dir, run_date)
    if previous is None:
        return new
    return new - {r.get("study_id", "") for r in read_rows(previous / "studies.tsv")}


def extraction_section(paths: RunPaths, run_date: str, base: Path) -> dict[str, Any]:
    path = base / paths.extraction_studies
    if not path.is_file():
        return _missing(Path(paths.extraction_studies))
    rows = read_rows(path)
    studies = sorted({r.get("study_id", "") for r in rows if r.get("study_id")})
    added = sorted(studies_added(rows, base / paths.synthesis / "history", run_date))
    return {
        "available": True,
        "studies_total": len(studies),
        "arms_total": len(rows),
        "patients_total": sum(_int(r.get("n")) for r in rows),
        "studies_added_this_run": added,
        "studies_by_version": dict(sorted(Counter(r.get("version", "") for r in rows).items())),
    }


def read_estimate_tables(paths: RunPaths, base: Path) -> dict[str, list[dict[str, str]]]:
    """The pooled-estimate tables that exist, as rows (small tables; kept in summary.json)."""
    tables = {}
    for name in ESTIMATE_TABLES:
        path = base / paths.synthesis / name
        if path.is_file():
            tables[(Path(paths.synthesis) / name).as_posix()] = read_rows(path)
    return tables


def _keyed(name: str, rows: Sequence[Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    columns = ESTIMATE_TABLES.get(Path(name).name, ())
    keyed: dict[str, Mapping[str, str]] = {}
    seen: Counter[str] = Counter()
    for row in rows:
        key = " / ".join(row.get(c, "") for c in columns) or "row"
        seen[key] += 1
        keyed[f"{key} #{seen[key]}" if seen[key] > 1 else key] = row
    return keyed


def compare_estimates(
    current: Mapping[str, Sequence[Mapping[str, str]]],
    previous: Mapping[str, Sequence[Mapping[str, str]]],
) -> list[str]:
    """Human-readable differences between two sets of estimate tables (empty: unchanged).

    >>> old = {"tests.tsv": [{"test": "fisher", "p_value": "0.116"}]}
    >>> compare_estimates(old, old)
    []
    >>> compare_estimates({"tests.tsv": [{"test": "fisher", "p_value": "0.2"}]}, old)
    ['tests.tsv: row fisher: p_value 0.116 -> 0.2']
    """
    differences: list[str] = []
    for name in sorted(set(current) | set(previous)):
        if name not in previous:
            differences.append(f"{name}: new table")
            continue
        if name not in current:
            differences.append(f"{name}: table no longer produced")
            continue
        now, before = _keyed(name, current[name]), _keyed(name, previous[name])
        for key in [*before, *(k for k in now if k not in before)]:
            if key not in now:
                differences.append(f"{name}: row {key} removed")
            elif key not in before:
                differences.append(f"{name}: row {key} added")
            else:
                for column in [*before[key], *(c for c in now[key] if c not in before[key])]:
                    old, new = before[key].get(column), now[key].get(column)
                    if old != new:
                        differences.append(f"{name}: row {key}: {column} {old} -> {new}")
    return differences


def compare_files(
    current: Mapping[str, Mapping[str, Any]], previous: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Files added, removed and changed between two manifests' file tables."""
    return {
        "added": sorted(set(current) - set(previous)),
        "removed": sorted(set(previous) - set(current)),
        "changed": sorted(
            p for p in set(current) & set(previous) if current[p]["sha256"] != previous[p]["sha256"]
        ),
    }


def _fmt_estimate(value: object) -> str:
    return "-" if value in ("", None) else f"{float(value):.3f}"  # type: ignore[arg-type]


def versus_previous_version(whats_new: Path) -> dict[str, Any]:
    """Whether the pooled estimates differ from the previous version, from whats_new.tsv."""
    if not whats_new.is_file():
        return {
            "changed": None,
            "differences": [],
            "note": "no earlier run record and no whats_new.tsv",
        }
    rows = read_rows(whats_new)
    moved = [
        {
            key: row.get(key, "")
            for key in (
                "subgroup",
                "method",
                "previous_k",
                "k",
                "previous_estimate",
                "estimate",
                "change",
                "flag",
                "why",
            )
        }
        for row in rows
        if row.get("previous_k") != row.get("k")
        or (row.get("change") not in ("", None) and abs(float(row["change"])) > 1e-12)
    ]
    version = (
        rows[0].get("previous_version", "the previous version") if rows else "the previous version"
    )
    return {
        "changed": bool(moved),
        "differences": moved,
        "compared_with": version,
        "flagged": [f"{r['subgroup']} ({r['method']}): {r['why']}" for r in moved if r.get("flag")],
    }


def previous_run(runs_dir: Path, run_date: str) -> str | None:
    """The latest run date before ``run_date`` with a complete record (summary + manifest)."""
    if not runs_dir.is_dir():
        return None
    dates = [
        p.name
        for p in runs_dir.iterdir()
        if ISO_DATE.match(p.name)
        and p.name < run_date
        and (p / "summary.json").is_file()
        and (p / "manifest.json").is_file()
    ]
    return max(dates) if dates else None


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path,
            f"is not valid JSON ({exc.msg})",
            line=exc.lineno,
            allowed="a run record written by this workflow; delete the folder to drop it",
        ) from None


def build_run_record(
    run_date: str,
    config: Mapping[str, Any],
    *,
    base: str | Path = ".",
    code_base: str | Path | None = None,
    paths: RunPaths | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Summary and manifest of the run ``run_date``, from what is on disk under ``base``
    (the working directory); code files are read under ``code_base`` (the workflow's
    folder; ``base`` when not given)."""
    base = Path(base)
    code_base = Path(code_base) if code_base is not None else base
    paths = paths or RunPaths()
    generated = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    runs_dir = base / paths.runs

    inputs = checksum_tree(
        base, sorted({*paths.input_dirs, *config_paths(config, base)}), exclude=[paths.results]
    )
    code = checksum_tree(code_base, paths.code)
    outputs = checksum_tree(base, [paths.results], exclude=[paths.runs])
    manifest = {
        "record_version": RECORD_VERSION,
        "run_date": run_date,
        "generated_at": generated,
        "config": public_config(config),
        "software": software_versions(),
        "inputs": inputs,
        "code": code,
        "outputs": outputs,
    }

    estimates = read_estimate_tables(paths, base)
    previous_date = previous_run(runs_dir, run_date)
    pooled: dict[str, Any] = {"tables": sorted(estimates), "compared_with": previous_date}
    file_changes: dict[str, Any] = {"compared_with": previous_date}
    if previous_date is None:
        # First run record: compare as whats_new does, with the previous version of the
        # review (the published one until an update has been archived).
        pooled.update(versus_previous_version(base / paths.synthesis / "whats_new.tsv"))
    else:
        previous_summary = _load_json(runs_dir / previous_date / "summary.json")
        previous_manifest = _load_json(runs_dir / previous_date / "manifest.json")
        differences = compare_estimates(estimates, previous_summary.get("estimates", {}))
        pooled.update(changed=bool(differences), differences=differences)
        for kind in ("inputs", "code", "outputs"):
            file_changes[kind] = compare_files(manifest[kind], previous_manifest.get(kind, {}))

    summary = {
        "record_version": RECORD_VERSION,
        "run_date": run_date,
        "generated_at": generated,
        "search": search_section(paths, run_date, base),
        "records": records_section(paths, run_date, base),
        "screening": screening_section(paths, base),
        "extraction": extraction_section(paths, run_date, base),
        "pooled_estimates": pooled,
        "file_changes": file_changes,
        "counts": {"inputs": len(inputs), "code": len(code), "outputs": len(outputs)},
        "estimates": estimates,
    }
    return summary, manifest


def render_summary(summary: Mapping[str, Any]) -> str:
    """summary.md: the same facts as summary.json, for a person."""
    lines = [
        f"# Run {summary['run_date']}",
        "",
        f"Record generated {summary['generated_at']} (UTC).",
        "",
    ]

    def unavailable(section: Mapping[str, Any]) -> str:
        return "not produced by this run (missing: " + ", ".join(section.get("missing", [])) + ")"

    search = summary["search"]
    lines.append("## PubMed search")
    if search.get("available"):
        lines.append(
            f"- snapshot `{search['snapshot']}` ({search['kind']}, {search['mode']}): "
            f"{search['pmids_returned']} PMIDs returned, {search['pmids_new']} new, "
            f"{search['pmids_already_held']} already held"
        )
    else:
        lines.append(f"- {unavailable(search)}")
    records = summary["records"]
    lines += ["", "## Records"]
    if records.get("available"):
        run = records["this_run"]
        lines += [
            f"- new records found in this run: {run['records_identified']} "
            f"({run['new_publications']} new publications, {run['duplicates_removed']} duplicates removed)",
            f"- publications in total: {records['publications_total']}; duplicate records merged in total: "
            f"{records['duplicate_records_total']}",
            f"- uncertain duplicate pairs awaiting a verdict: {records['uncertain_pairs_awaiting_verdict']}",
        ]
        for source, counts in records["this_run_by_source"].items():
            lines.append(
                f"  - {source}: {counts['records_identified']} records, {counts['new_publications']} new publications"
            )
    else:
        lines.append(f"- {unavailable(records)}")
    screening = summary["screening"]
    lines += ["", "## Screening"]
    if screening.get("available"):
        waiting = screening.get("awaiting_by_reviewer", {})
        if waiting:
            for reviewer, counts in waiting.items():
                detail = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "total")
                lines.append(f"- awaiting {reviewer}: {counts['total']} publications ({detail})")
        else:
            lines.append("- no publication awaits a reviewer")
        for stage, queues in screening.get("queues", {}).items():
            lines.append(f"- queue {stage}: " + ", ".join(f"{r} {n}" for r, n in queues.items()))
        if "conflicts_awaiting_adjudication" in screening:
            lines.append(
                f"- conflicts awaiting adjudication: {screening['conflicts_awaiting_adjudication']}"
            )
        for status, count in screening.get("status_counts", {}).items():
            lines.append(f"- status {status or '(empty)'}: {count}")
    else:
        lines.append(f"- {unavailable(screening)}")
    extraction = summary["extraction"]
    lines += ["", "## Studies"]
    if extraction.get("available"):
        added = extraction["studies_added_this_run"]
        lines += [
            f"- studies in the synthesis: {extraction['studies_total']} ({extraction['arms_total']} arms, "
            f"{extraction['patients_total']} patients)",
            f"- studies added in this run: {len(added)}"
            + (f" ({', '.join(added)})" if added else ""),
        ]
    else:
        lines.append(f"- {unavailable(extraction)}")
    pooled = summary["pooled_estimates"]
    lines += ["", "## Pooled estimates"]
    if pooled["changed"] is None:
        lines.append(f"- {pooled['note']}")
    elif "flagged" in pooled:  # first run record: compared with the previous version of the review
        if pooled["changed"]:
            lines.append(f"- **changed** compared with {pooled['compared_with']}:")
            lines += [
                f"  - {d['subgroup']} {d['method']}: {_fmt_estimate(d['previous_estimate'])} -> "
                f"{_fmt_estimate(d['estimate'])} (k {d['previous_k'] or '-'} -> {d['k']})"
                for d in pooled["differences"]
            ]
            lines += [f"  - **may change conclusions**: {f}" for f in pooled["flagged"]]
        else:
            lines.append(f"- unchanged compared with {pooled['compared_with']}")
    elif pooled["changed"]:
        lines.append(f"- **changed** since the run of {pooled['compared_with']}:")
        lines += [f"  - {d}" for d in pooled["differences"]]
    else:
        lines.append(f"- unchanged since the run of {pooled['compared_with']}")
    changes = summary["file_changes"]
    if changes.get("compared_with"):
        lines += ["", f"## Files changed since the run of {changes['compared_with']}"]
        for kind in ("inputs", "code", "outputs"):
            diff = changes[kind]
            lines.append(
                f"- {kind}: {len(diff['added'])} added, {len(diff['removed'])} removed, {len(diff['changed'])} changed"
            )
            for verb in ("added", "removed", "changed"):
                lines += [f"  - {verb}: `{p}`" for p in diff[verb][:50]]
                if len(diff[verb]) > 50:
                    lines.append(f"  - ... {len(diff[verb]) - 50} more {verb} (see manifest.json)")
    counts = summary["counts"]
    lines += [
        "",
        f"Checksums of {counts['inputs']} input, {counts['code']} code and {counts['outputs']} output files: `manifest.json`.",
        "",
    ]
    return "\n".join(lines)


def write_run_record(
    run_date: str,
    config: Mapping[str, Any],
    *,
    summary_json: str | Path,
    summary_md: str | Path,
    manifest_json: str | Path,
    base: str | Path = ".",
    code_base: str | Path | None = None,
    paths: RunPaths | None = None,
) -> dict[str, Any]:
    """Build and write the three record files (atomically); return the summary."""
    summary, manifest = build_run_record(
        run_date, config, base=base, code_base=code_base, paths=paths
    )
    write_text(manifest_json, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    write_text(summary_md, render_summary(summary))
    write_text(summary_json, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    log.info(
        "run %s: %s; pooled estimates %s",
        run_date,
        f"{summary['records']['this_run']['records_identified']} records found"
        if summary["records"].get("available")
        else "no dedup output",
        {None: "not compared", True: "changed", False: "unchanged"}[
            summary["pooled_estimates"]["changed"]
        ],
    )
    return summary


# ----------------------------------------------------------------------------- notification


def notify_argv(command: str | Sequence[str], summary_path: str | Path) -> list[str]:
    """The notification command as an argument list, with the summary path appended
    (or put where ``{summary}`` stands). No shell is involved.

    >>> notify_argv("mail-summary --to team", "results/runs/2026-11-23/summary.md")
    ['mail-summary', '--to', 'team', 'results/runs/2026-11-23/summary.md']
    >>> notify_argv(["post", "--file={summary}", "now"], "s.md")
    ['post', '--file=s.md', 'now']
    """
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if not argv:
        raise ConfigError(
            "runs.notify_command", "is empty", 'a command line, or "" for no notification'
        )
    if any("{summary}" in a for a in argv):
        return [a.replace("{summary}", str(summary_path)) for a in argv]
    return [*argv, str(summary_path)]


def notify(
    command: str | Sequence[str],
    *,
    summary_md: str | Path,
    summary_json: str | Path,
    run_date: str,
    timeout: float,
    receipt: str | Path,
) -> None:
    """Run the notification command with the summary path; write a receipt on success.

    The command also gets ``LIVINGREVIEW_SUMMARY_JSON`` and ``LIVINGREVIEW_RUN_DATE`` in its
    environment. Its output goes to the job log; it is never recorded in the manifest (it may
    hold a webhook token).
    """
    argv = notify_argv(command, summary_md)
    env = {
        **os.environ,
        "LIVINGREVIEW_SUMMARY_JSON": str(summary_json),
        "LIVINGREVIEW_RUN_DATE": run_date,
    }
    log.info("notifying: %s <summary>", shlex.quote(argv[0]))
    try:
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ConfigError(
            "runs.notify_command",
            f"program {argv[0]!r} not found",
            'an installed program (absolute path), or "" for no notification',
        ) from None
    except subprocess.TimeoutExpired:
        raise ReviewError(
            f"runs.notify_command did not finish within {timeout:g} s; the run record is complete "
            "in results/runs/ — fix the command or raise runs.notify_timeout_seconds, then rerun"
        ) from None
    for line in (result.stdout + result.stderr).splitlines():
        log.info("notify: %s", line)
    if result.returncode != 0:
        raise ReviewError(
            f"runs.notify_command exited with {result.returncode}; the run record is complete in "
            f"results/runs/{run_date}/ — fix the command (its output is in this log) and rerun"
        )
    write_text(
        receipt,
        json.dumps(
            {
                "run_date": run_date,
                "notified_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                "summary": str(summary_md),
                "exit_status": result.returncode,
            },
            indent=2,
        )
        + "\n",
    )


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Helpers for ``bin/scheduled-update`` (not needed by hand)."""
    parser = argparse.ArgumentParser(prog="python -m livingreview.runs", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    classify = sub.add_parser(
        "classify",
        help="print the exit code and reason for a failed run's output file (line 1) and "
        "the message to show last, if any (line 2)",
    )
    classify.add_argument("output", type=Path)
    classify.add_argument(
        "--run-id", help="count only error markers written by this run (LIVINGREVIEW_RUN_ID)"
    )
    clean = sub.add_parser(
        "clean-stale", help="remove temporaries left under RESULTS by a killed run"
    )
    clean.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    if args.command == "classify":
        text = (
            args.output.read_text(encoding="utf-8", errors="replace")
            if args.output.exists()
            else ""
        )
        failure = classify_run(text, args.run_id)
        print(f"{failure.code} {failure.reason}")
        if failure.detail:
            print(failure.detail)
        return 0
    for path in clean_stale_temporaries(args.results):
        print(f"removed {path} (left by an interrupted run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
