"""PubMed search runs: date windows, slicing above 9,999 hits, immutable dated snapshots.

Consumes: named PubMed queries, the run date, the baseline date, earlier snapshots on disk and
an :class:`~livingreview.entrez.EntrezClient` (live HTTP or replayed recordings).

Produces: ``<root>/<run_date>/`` holding

* ``raw/`` every esearch and efetch answer, byte for byte as received;
* ``records.tsv`` the parsed records (:data:`~livingreview.records.RECORD_COLUMNS`) of the
  PMIDs no earlier snapshot holds;
* ``provenance.json`` queries, PubMed's QueryTranslation, Count and IDs per date slice, the
  window and date type, request count, timestamps, software versions, the PMIDs returned and
  which are new, and the SHA-256 of every other file in the snapshot.

Windows: the baseline snapshot (dated ``baseline_until``) covers ``baseline_from`` to
``baseline_until``; every update run covers ``baseline_until`` to ``run_date`` by creation date
(the whole update period each time, so records indexed late are still caught; the boundary day
is in both, which is harmless because only PMIDs no earlier snapshot holds are fetched).

* ``sealed/records.tsv`` a second name (hard link) of records.tsv, see :func:`restore_records`.

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
from dataclasses import dataclass
from pathlib import Path

import Bio

from .entrez import ESEARCH_MAX_IDS, EntrezClient, EsearchResult, TransientError
from .errors import ConfigError, ConsistencyError, ValidationError
from .io import atomic_open, read_tsv, sha256_file, write_text, write_tsv
from .pubmed import parse_pubmed_xml
from .records import RECORD_COLUMNS
from .text import ISO_DATE

log = logging.getLogger(__name__)

PROVENANCE = "provenance.json"
RECORDS = "records.tsv"
RAW = "raw"
#: second name of records.tsv inside the snapshot (see :func:`_seal`)
SEALED = "sealed/records.tsv"
PROVENANCE_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


# --------------------------------------------------------------------------- dates and windows


def parse_date(value: str, key: str = "run_date") -> dt.date:
    """ISO date string -> date, with an error that names the config key.

    >>> parse_date("2021-10-31")
    datetime.date(2021, 10, 31)
    """
    text = str(value).strip()
    try:
        if not ISO_DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(key, f"not an ISO date: {value!r}", "YYYY-MM-DD") from None


def entrez_date(day: dt.date) -> str:
    """E-utilities date format.

    >>> entrez_date(dt.date(2021, 10, 31))
    '2021/10/31'
    """
    return day.strftime("%Y/%m/%d")


@dataclass(frozen=True)
class Window:
    """An inclusive date range searched by one date type (``crdt``, ``edat``, ``pdat``...)."""

    start: dt.date
    end: dt.date
    datetype: str

    def split(self) -> tuple[Window, Window]:
        """Two halves that cover this window exactly, without overlap.

        >>> Window(dt.date(2020, 1, 1), dt.date(2020, 1, 4), "crdt").split()[1].start
        datetime.date(2020, 1, 3)
        """
        if self.start >= self.end:
            raise ValueError("a one-day window cannot be split")
        middle = self.start + (self.end - self.start) // 2
        return (
            Window(self.start, middle, self.datetype),
            Window(middle + dt.timedelta(days=1), self.end, self.datetype),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "mindate": self.start.isoformat(),
            "maxdate": self.end.isoformat(),
            "datetype": self.datetype,
        }


def run_window(
    run_date: str, baseline_until: str, baseline_from: str, datetype: str
) -> tuple[str, Window]:
    """The kind of run (``baseline`` or ``update``) and the window it searches.

    >>> run_window("2021-10-31", "2021-10-31", "1800-01-01", "crdt")[0]
    'baseline'
    >>> kind, window = run_window("2024-01-31", "2021-10-31", "1800-01-01", "crdt")
    >>> kind, window.start.isoformat(), window.end.isoformat()
    ('update', '2021-10-31', '2024-01-31')
    """
    run = parse_date(run_date, "run_date")
    baseline = parse_date(baseline_until, "search.baseline_until")
    earliest = parse_date(baseline_from, "search.baseline_from")
    if run < baseline:
        raise ConfigError(
            "run_date",
            f"{run_date} is before search.baseline_until ({baseline_until})",
            "a date on or after the baseline (the baseline snapshot is dated search.baseline_until)",
        )
    if earliest >= baseline:
        raise ConfigError(
            "search.baseline_from",
            f"{baseline_from} is not before {baseline_until}",
            "an earlier date",
        )
    if run == baseline:
        return "baseline", Window(earliest, baseline, datetype)
    return "update", Window(baseline, run, datetype)


def snapshot_dates(
    run_date: str,
    baseline_until: str,
    update_runs: Iterable[str] = (),
    existing: Iterable[str] = (),
) -> list[str]:
    """Ordered snapshot dates a run uses: baseline, then every update run up to ``run_date``.

    ``update_runs`` are extra dates to (re)produce; ``existing`` are dates of snapshots already
    on disk (a scheduled server keeps each run's snapshot; a later run must still see them).

    >>> snapshot_dates("2024-06-30", "2021-10-31", ["2023-01-31"], ["2022-05-01", "2025-01-01"])
    ['2021-10-31', '2022-05-01', '2023-01-31', '2024-06-30']
    """
    run = parse_date(run_date, "run_date").isoformat()
    baseline = parse_date(baseline_until, "search.baseline_until").isoformat()
    dates = {baseline, run}
    for value in [*update_runs]:
        dates.add(parse_date(value, "search.update_runs").isoformat())
    dates.update(d for d in existing if ISO_DATE.match(d))
    return sorted(d for d in dates if baseline <= d <= run)


def discover_snapshots(root: str | Path) -> list[str]:
    """Dates of the complete snapshots under ``root`` (folders with a provenance file)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and ISO_DATE.match(p.name) and (p / PROVENANCE).is_file()
    )


# --------------------------------------------------------------------------- searching


@dataclass
class Slice:
    """One esearch that fitted under the 9,999-ID cap."""

    window: Window
    result: EsearchResult
    raw_file: str = ""


def search_slices(
    client: EntrezClient,
    term: str,
    window: Window,
    *,
    db: str = "pubmed",
    max_ids: int = ESEARCH_MAX_IDS,
) -> list[Slice]:
    """esearch ``window``; while a slice has more than ``max_ids`` hits, split it by date.

    Raises:
        ConsistencyError: a single day still has more than ``max_ids`` hits (narrow the query).
    """
    result = client.esearch(
        term,
        db=db,
        mindate=entrez_date(window.start),
        maxdate=entrez_date(window.end),
        datetype=window.datetype,
        retmax=max_ids,
    )
    if result.count <= max_ids:
        return [Slice(window, result)]
    if window.start >= window.end:
        raise ConsistencyError(
            f"PubMed reports {result.count} hits on the single day {window.start} ({window.datetype}), "
            f"more than esearch can list ({max_ids}); narrow the query."
        )
    log.info(
        "%d hits in %s..%s exceed %d: splitting the window",
        result.count,
        window.start,
        window.end,
        max_ids,
    )
    first, second = window.split()
    return search_slices(client, term, first, db=db, max_ids=max_ids) + search_slices(
        client, term, second, db=db, max_ids=max_ids
    )


def _batch_checker(expected: Sequence[str], run: str):
    """A check for one efetch batch: parses, and holds exactly the PMIDs asked for."""

    def check(body: bytes) -> list[dict[str, str]]:
        try:
            rows = parse_pubmed_xml(body, run)
        except Exception as exc:
            raise TransientError(f"efetch answer unreadable: {exc}") from None
        got = [r["pmid"] for r in rows]
        if sorted(got) != sorted(expected):
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            raise TransientError(
                f"efetch returned {len(got)} records for {len(expected)} PMIDs (missing {missing}, unexpected {extra})"
            )
        return rows

    return check


def fetch_new(
    client: EntrezClient,
    slices: Sequence[Slice],
    new_pmids: set[str],
    *,
    run: str,
    batch_size: int,
    db: str = "pubmed",
) -> tuple[list[dict[str, str]], list[bytes]]:
    """efetch the ``new_pmids`` found in ``slices``; rows in PMID order plus every raw batch.

    A slice whose IDs are all new is fetched through the history server (WebEnv/query_key,
    retstart/retmax); otherwise only its new IDs are fetched by ID list.
    """
    rows: dict[str, dict[str, str]] = {}
    bodies: list[bytes] = []
    for piece in slices:
        wanted = [i for i in piece.result.ids if i in new_pmids and i not in rows]
        if not wanted:
            continue
        use_history = (
            len(wanted) == len(piece.result.ids) and piece.result.webenv and piece.result.query_key
        )
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            if use_history:
                body, parsed = client.efetch(
                    db=db,
                    webenv=piece.result.webenv,
                    query_key=piece.result.query_key,
                    retstart=start,
                    retmax=batch_size,
                    check=_batch_checker(batch, run),
                )
            else:
                body, parsed = client.efetch(db=db, ids=batch, check=_batch_checker(batch, run))
            bodies.append(body)
            for row in parsed:  # type: ignore[union-attr]
                rows[row["pmid"]] = row
    if set(rows) != new_pmids:
        missing = sorted(new_pmids - set(rows))[:10]
        raise ConsistencyError(
            f"efetch did not return every new PMID; missing e.g. {missing}. Rerun the search."
        )
    return [rows[p] for p in sorted(rows, key=int)], bodies


# --------------------------------------------------------------------------- snapshots


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
    kind, window = run_window(run_date, baseline_until, baseline_from, datetype)
    target = root / run_date
    if keep_existing_snapshot(root, run_date, queries):
        return target, False
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
    earlier = [d for d in discover_snapshots(root) if d < run_date]
    if kind == "update" and baseline_until not in earlier:
        raise ConfigError(
            "search.baseline_until",
            f"no baseline snapshot {root / baseline_until} to update from",
            "take the baseline first (snakemake does this when run_date is after the baseline)",
        )
    holdings = known_pmids(root, earlier)

    tmp = root / f".tmp-{run_date}-{os.getpid()}"
    started = _utc_now()
    try:
        tmp.mkdir(parents=True)
        per_query: dict[str, dict] = {}
        all_slices: list[Slice] = []
        returned: list[str] = []
        for name, term in queries.items():
            slices = search_slices(client, term, window, db=db, max_ids=max_ids)
            for number, piece in enumerate(slices, start=1):
                piece.raw_file = f"{RAW}/esearch_{name}_{number:03d}.xml"
                _write_bytes(tmp / piece.raw_file, piece.result.raw)
                for message in piece.result.warnings + piece.result.errors:
                    log.warning(
                        "query %s, %s..%s: PubMed says %s",
                        name,
                        piece.window.start,
                        piece.window.end,
                        message,
                    )
                if piece.result.count == 0:
                    log.warning(
                        "query %s found no records in %s..%s",
                        name,
                        piece.window.start,
                        piece.window.end,
                    )
            ids = [i for piece in slices for i in piece.result.ids]
            if len(set(ids)) != len(ids):
                raise ConsistencyError(
                    f"query {name}: date slices overlap (a PMID is in two slices); report this bug"
                )
            per_query[name] = {
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
            all_slices.extend(slices)
            returned.extend(i for i in ids if i not in returned)
        new = {i for i in returned if i not in holdings}
        rows, bodies = fetch_new(
            client, all_slices, new, run=run_date, batch_size=batch_size, db=db
        )
        for number, body in enumerate(bodies, start=1):
            _write_bytes(tmp / RAW / f"efetch_{number:03d}.xml", body)
        write_tsv(tmp / RECORDS, rows, RECORD_COLUMNS)
        _seal(tmp)
        provenance = {
            "provenance_version": PROVENANCE_VERSION,
            "source": "pubmed",
            "run_date": run_date,
            "kind": kind,
            "mode": mode,
            "window": window.as_dict(),
            "date_type": datetype,
            "database": db,
            "queries": per_query,
            "pmids_returned": sorted(returned, key=int),
            "pmids_new": sorted(new, key=int),
            "pmids_already_held": sorted(set(returned) - new, key=int),
            "earlier_snapshots": earlier,
            "request_count": client.request_count,
            "requests": [_public_request(r) for r in client.requests],
            "base_url": client.base_url if mode == "live" else None,
            "api_key_used": client.has_api_key,
            "started_at": started,
            "finished_at": _utc_now(),
            "software": {
                "biopython": Bio.__version__,
                "python": platform.python_version(),
                "livingreview": _package_version(),
            },
        }
        provenance["files"] = {name: sha256_file(tmp / name) for name in snapshot_files(tmp)}
        write_text(tmp / PROVENANCE, json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "snapshot %s: %d PMIDs returned, %d new, %d requests",
        target,
        len(returned),
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
