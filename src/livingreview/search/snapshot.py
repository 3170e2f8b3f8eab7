"""Dated, immutable PubMed snapshots: taken once, verified on every later run, published.

Consumes: named PubMed queries, the run date, the baseline date, earlier snapshots on disk and
an :class:`~livingreview.search.entrez.EntrezClient` (live HTTP or replayed recordings).

Produces: ``<root>/<run_date>/`` holding

* ``raw/`` every esearch and efetch answer, byte for byte as received;
* ``records.tsv`` the parsed records (:data:`~livingreview.records.RECORD_COLUMNS`) of the
  PMIDs no earlier snapshot holds;
* ``provenance.json`` queries, PubMed's QueryTranslation, Count and IDs per date slice, the
  window and date type, request count, timestamps, software versions, the PMIDs returned and
  which are new, and the SHA-256 of every other file in the snapshot;
* ``sealed/records.tsv`` a second name (hard link) of records.tsv, see :func:`restore_records`.

and, through :func:`publish_snapshot`, the workflow's declared copies of its table and its
provenance (the receipt) outside the snapshot.

Immutability: a snapshot is built in a hidden sibling folder and renamed into place only when
complete (an interrupted or failed run leaves no snapshot); an existing snapshot is verified
against its checksums and never rewritten.  Snapshots are the review's audit trail.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import Bio

from ..errors import ConfigError, ConsistencyError, ValidationError
from ..io import atomic_open, read_tsv, sha256_file, write_text, write_tsv
from ..records import RECORD_COLUMNS
from .entrez import ESEARCH_MAX_IDS, EntrezClient
from .retrieve import Slice, fetch_new, search_slices
from .windows import PROVENANCE, Window, discover_snapshots, run_window

log = logging.getLogger(__name__)

RECORDS = "records.tsv"
RAW = "raw"
#: second name of records.tsv inside the snapshot (see :func:`_seal`)
SEALED = "sealed/records.tsv"
PROVENANCE_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def snapshot_files(folder: Path) -> list[str]:
    """Relative paths of every file in a snapshot except the provenance file."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != PROVENANCE
    )


def verify_snapshot(folder: str | Path) -> dict:
    """Check a snapshot against the checksums in its provenance; return the provenance.

    Raises:
        ValidationError: a file is missing, added or changed since the snapshot was taken.
    """
    folder = Path(folder)
    provenance_path = folder / PROVENANCE
    try:
        provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(
            provenance_path, "snapshot has no provenance file", allowed="a complete snapshot"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(provenance_path, f"is not valid JSON ({exc})") from None
    recorded: Mapping[str, str] = provenance.get("files", {})
    present = snapshot_files(folder)
    advice = (
        "Snapshots are the review's audit trail and are never rewritten: restore this folder from "
        "your backup (or version control); only if it cannot be restored, move it aside and rerun "
        "to take a new snapshot."
    )
    if sorted(recorded) != present:
        changed = sorted(set(recorded) ^ set(present))
        raise ValidationError(
            folder, f"files differ from the provenance record: {changed}. {advice}"
        )
    for name, digest in recorded.items():
        if sha256_file(folder / name) != digest:
            raise ValidationError(
                folder / name, f"checksum differs from {PROVENANCE}. {advice}", field="sha256"
            )
    return provenance


def known_pmids(root: Path, dates: Iterable[str]) -> set[str]:
    """PMIDs held by the (verified) snapshots of ``dates``."""
    pmids: set[str] = set()
    for day in dates:
        folder = root / day
        restore_records(folder)
        verify_snapshot(folder)
        pmids.update(r["pmid"] for r in read_tsv(folder / RECORDS, required=["pmid"]) if r["pmid"])
    return pmids


def keep_existing_snapshot(root: str | Path, run_date: str, queries: Mapping[str, str]) -> bool:
    """If ``run_date`` already has a complete snapshot, verify it, put ``records.tsv`` back and
    say so; never rewrite it. Needs no network (called before the client is built).

    A configured query that differs from the one the snapshot was taken with is logged as a
    warning: the snapshot keeps what it saw; move its folder aside to take it again.
    """
    target = Path(root) / run_date
    if not (target / PROVENANCE).exists():
        return False
    restore_records(target)
    provenance = verify_snapshot(target)
    log.info(
        "snapshot %s already complete (%d new records, checksums verified): left as it is",
        target,
        len(provenance.get("pmids_new", [])),
    )
    taken_with = {name: q.get("query") for name, q in provenance.get("queries", {}).items()}
    if taken_with and taken_with != {name: str(term) for name, term in queries.items()}:
        log.warning(
            "snapshot %s was taken with other queries than search.queries now holds; it keeps what "
            "it saw (provenance.json). Later update runs use the new queries; to search this "
            "window again with them, move the folder aside and rerun",
            target,
        )
    return True


def check_queries(queries: Mapping[str, str]) -> None:
    """At least one query, each with a plain name (it names raw files) and a non-empty text."""
    if not queries:
        raise ConfigError(
            "search.queries", "no query configured", "at least one name: PubMed query"
        )
    for name, term in queries.items():
        if not _NAME.match(name) or not str(term).strip():
            raise ConfigError(
                f"search.queries.{name}",
                f"bad query name or empty query {term!r}",
                "name [A-Za-z0-9_-]+, non-empty query",
            )


def _clear_the_way(root: Path, run_date: str) -> None:
    """Make room for a new snapshot of ``run_date``: drop an empty folder and the temporaries
    of interrupted runs; refuse to touch anything else standing in the way."""
    target = root / run_date
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()  # Snakemake creates the output's folder before the job starts
    elif target.exists():
        raise ValidationError(
            target,
            "exists but is not a complete snapshot (no provenance.json)",
            allowed="move it aside (it is not part of the audit trail) and rerun",
        )
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f".tmp-{run_date}-*"):
        log.warning("removing %s left by an interrupted run (never a snapshot)", stale)
        shutil.rmtree(stale, ignore_errors=True)


def _earlier_snapshots(root: Path, run_date: str, kind: str, baseline_until: str) -> list[str]:
    """Dates of the snapshots before ``run_date``; an update needs the baseline among them."""
    earlier = [d for d in discover_snapshots(root) if d < run_date]
    if kind == "update" and baseline_until not in earlier:
        raise ConfigError(
            "search.baseline_until",
            f"no baseline snapshot {root / baseline_until} to update from",
            "take the baseline first (snakemake does this when run_date is after the baseline)",
        )
    return earlier


@dataclass
class QueryResults:
    """What the esearches of every query returned: provenance per query, slices, PMIDs."""

    per_query: dict[str, dict[str, Any]] = field(default_factory=dict)
    slices: list[Slice] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def _log_what_pubmed_said(name: str, piece: Slice) -> None:
    where = (name, piece.window.start, piece.window.end)
    for message in piece.result.warnings + piece.result.errors:
        log.warning("query %s, %s..%s: PubMed says %s", *where, message)
    if piece.result.count == 0:
        log.warning("query %s found no records in %s..%s", *where)


def _query_provenance(term: str, slices: Sequence[Slice]) -> dict[str, Any]:
    return {
        "query": term,
        "query_translation": slices[0].result.query_translation,
        "count": sum(p.result.count for p in slices),
        "slices": [
            {
                **p.window.as_dict(),
                "count": p.result.count,
                "ids": p.result.ids,
                "warnings": p.result.warnings,
                "errors": p.result.errors,
                "raw_file": p.raw_file,
            }
            for p in slices
        ],
    }


def search_queries(
    client: EntrezClient,
    queries: Mapping[str, str],
    window: Window,
    folder: Path,
    *,
    db: str,
    max_ids: int,
) -> QueryResults:
    """esearch every query over ``window`` (split into slices as needed), keeping each raw
    answer under ``folder/raw/``; PMIDs returned in order of first appearance."""
    results = QueryResults()
    for name, term in queries.items():
        slices = search_slices(client, term, window, db=db, max_ids=max_ids)
        for number, piece in enumerate(slices, start=1):
            piece.raw_file = f"{RAW}/esearch_{name}_{number:03d}.xml"
            _write_bytes(folder / piece.raw_file, piece.result.raw)
            _log_what_pubmed_said(name, piece)
        ids = [i for piece in slices for i in piece.result.ids]
        if len(set(ids)) != len(ids):
            raise ConsistencyError(
                f"query {name}: date slices overlap (a PMID is in two slices); report this bug"
            )
        results.per_query[name] = _query_provenance(term, slices)
        results.slices.extend(slices)
        results.returned.extend(i for i in ids if i not in results.returned)
    return results


def _fetch_and_write_records(
    client: EntrezClient,
    searched: QueryResults,
    new: set[str],
    folder: Path,
    *,
    run_date: str,
    batch_size: int,
    db: str,
) -> None:
    """efetch the new PMIDs; keep the raw answers, the record table and its sealed name."""
    rows, bodies = fetch_new(
        client, searched.slices, new, run=run_date, batch_size=batch_size, db=db
    )
    for number, body in enumerate(bodies, start=1):
        _write_bytes(folder / RAW / f"efetch_{number:03d}.xml", body)
    write_tsv(folder / RECORDS, rows, RECORD_COLUMNS)
    _seal(folder)


@dataclass(frozen=True)
class SnapshotRequest:
    """What one snapshot is of: the run, its kind and window, where PubMed was asked."""

    run_date: str
    kind: str
    window: Window
    datetype: str
    mode: str
    db: str


def _provenance(
    request: SnapshotRequest,
    client: EntrezClient,
    searched: QueryResults,
    new: set[str],
    earlier: Sequence[str],
    started: str,
) -> dict[str, Any]:
    returned = searched.returned
    return {
        "provenance_version": PROVENANCE_VERSION,
        "source": "pubmed",
        "run_date": request.run_date,
        "kind": request.kind,
        "mode": request.mode,
        "window": request.window.as_dict(),
        "date_type": request.datetype,
        "database": request.db,
        "queries": searched.per_query,
        "pmids_returned": sorted(returned, key=int),
        "pmids_new": sorted(new, key=int),
        "pmids_already_held": sorted(set(returned) - new, key=int),
        "earlier_snapshots": list(earlier),
        "request_count": client.request_count,
        "requests": [_public_request(r) for r in client.requests],
        "base_url": client.base_url if request.mode == "live" else None,
        "api_key_used": client.has_api_key,
        "started_at": started,
        "finished_at": _utc_now(),
        "software": {
            "biopython": Bio.__version__,
            "python": platform.python_version(),
            "livingreview": _package_version(),
        },
    }


def take_snapshot(
    *,
    root: str | Path,
    run_date: str,
    baseline_until: str,
    baseline_from: str,
    datetype: str,
    queries: Mapping[str, str],
    client: EntrezClient,
    mode: str,
    batch_size: int = 200,
    max_ids: int = ESEARCH_MAX_IDS,
    db: str = "pubmed",
) -> tuple[Path, bool]:
    """Take (or verify) the snapshot of ``run_date``; return its folder and whether it is new.

    The snapshot is written to ``<root>/.tmp-<run_date>-<pid>/`` and renamed to
    ``<root>/<run_date>/`` at the end; on any error the temporary folder is removed.
    """
    root = Path(root)
    check_queries(queries)
    kind, window = run_window(run_date, baseline_until, baseline_from, datetype)
    target = root / run_date
    if keep_existing_snapshot(root, run_date, queries):
        return target, False
    _clear_the_way(root, run_date)
    earlier = _earlier_snapshots(root, run_date, kind, baseline_until)
    holdings = known_pmids(root, earlier)
    request = SnapshotRequest(run_date, kind, window, datetype, mode, db)

    tmp = root / f".tmp-{run_date}-{os.getpid()}"
    started = _utc_now()
    try:
        tmp.mkdir(parents=True)
        searched = search_queries(client, queries, window, tmp, db=db, max_ids=max_ids)
        new = {i for i in searched.returned if i not in holdings}
        _fetch_and_write_records(
            client, searched, new, tmp, run_date=run_date, batch_size=batch_size, db=db
        )
        provenance = _provenance(request, client, searched, new, earlier, started)
        provenance["files"] = {name: sha256_file(tmp / name) for name in snapshot_files(tmp)}
        write_text(tmp / PROVENANCE, json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "snapshot %s: %d PMIDs returned, %d new, %d requests",
        target,
        len(searched.returned),
        len(new),
        client.request_count,
    )
    return target, True


def _package_version() -> str:
    try:
        return importlib.metadata.version("livingreview")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _public_request(request: Mapping[str, str]) -> dict[str, str]:
    """A request as stored in provenance: no key (never held), ID lists reduced to a count."""
    shown = {k: v for k, v in request.items() if k not in ("api_key", "email")}
    if "id" in shown:
        shown["id"] = f"{shown['id'].count(',') + 1} IDs"
    return shown


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _seal(folder: Path) -> None:
    """Keep a second name (hard link, else a copy) for records.tsv under ``sealed/``.

    records.tsv is the Snakemake rule's declared output, and Snakemake deletes declared
    outputs before rerunning a job (after a code change or ``--forcerun``) and after a failed
    job.  The sealed name lets :func:`restore_records` put the very same bytes back.
    """
    sealed = folder / SEALED
    sealed.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(folder / RECORDS, sealed)
    except OSError:
        shutil.copy2(folder / RECORDS, sealed)


def restore_records(folder: Path) -> bool:
    """Put records.tsv back from its sealed copy if Snakemake deleted it; return whether it did.

    The restored file is byte-identical (checked against provenance) and gets a fresh
    modification time, so Snakemake sees its output as up to date.
    """
    records, sealed = folder / RECORDS, folder / SEALED
    restored = False
    if not records.exists():
        if not sealed.exists():
            return False  # verify_snapshot reports the missing file
        provenance = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
        if sha256_file(sealed) != provenance.get("files", {}).get(RECORDS):
            raise ValidationError(
                sealed, f"checksum differs from {PROVENANCE}; restore the snapshot from backup"
            )
        try:
            os.link(sealed, records)
        except OSError:
            shutil.copy2(sealed, records)
        log.info(
            "restored %s from %s (Snakemake had removed it before rerunning the job)",
            records,
            sealed,
        )
        os.utime(records)
        restored = True
    return restored


def publish_snapshot(
    root: str | Path, run_date: str, table_path: str | Path, receipt_path: str | Path
) -> dict:
    """Write the declared copies of a complete, verified snapshot, outside it.

    ``table_path`` gets the snapshot's records.tsv and ``receipt_path`` its provenance.json,
    byte for byte (atomic writes; copies, not links, so nothing written to them can reach the
    snapshot). Later stages read the table; the snapshot itself is never a workflow output.
    """
    folder = Path(root) / run_date
    provenance = verify_snapshot(folder)
    for source, target in ((folder / RECORDS, table_path), (folder / PROVENANCE, receipt_path)):
        with open(source, "rb") as src, atomic_open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return provenance
