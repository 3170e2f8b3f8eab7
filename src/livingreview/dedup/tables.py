"""The dedup stage's tables: record tables in; ``unique``, ``duplicates``, ``maybe`` and
``runs`` out (their columns: ``docs/data-contracts.md``).

:func:`deduplicate` goes in four named steps: cluster the records (human verdicts first),
then build the publications with every merge explained, the uncertain pairs, and the
per-run counts that PRISMA's "duplicates removed" box reports.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from ..errors import InputFileError, Problem, ProblemCollector, ValidationError
from ..io import Table, read_table, read_tsv, write_tsv
from ..records import RECORD_COLUMNS, UNIQUE_COLUMNS, Publication, Record, as_record, source_rank
from ..text import ISO_DATE
from ..todo import DECIDE_PAIRS, WAITING_FOR_RECORDS, TodoRow, write_todo
from .cluster import Clustering, Edge, VerdictContradiction, cluster_records
from .keys import features_of
from .settings import MatchSettings
from .verdicts import Verdict, load_verdicts, pair_key, split_by_records, table_verdicts

log = logging.getLogger(__name__)


class DuplicateRow(TypedDict):
    """One row of ``duplicates.tsv``: a record merged into a publication, and why."""

    record_id: str
    duplicate_of: str  # the publication_id it joined
    matched_record_id: str  # the record it matched
    rule: str
    score: float
    run: str
    source: str


class MaybePair(TypedDict):
    """One row of ``maybe.tsv``: an uncertain pair, side by side, for a human verdict."""

    record_id_a: str
    record_id_b: str
    publication_id_a: str
    publication_id_b: str
    rule: str
    score: float
    title_a: str
    title_b: str
    year_a: str
    year_b: str
    journal_a: str
    journal_b: str
    doi_a: str
    doi_b: str


class RunCounts(TypedDict):
    """One row of ``runs.tsv``: what one run found in one source (or ``all``)."""

    run: str
    source: str
    records_identified: int
    previously_retrieved: int
    duplicates_of_earlier_runs: int
    duplicates_within_run: int
    new_publications: int
    duplicates_removed: int  # = records_identified - new_publications


DUPLICATE_COLUMNS: tuple[str, ...] = tuple(DuplicateRow.__annotations__)
MAYBE_COLUMNS: tuple[str, ...] = tuple(MaybePair.__annotations__)
#: Columns of ``results/records/runs.tsv`` (the run record and PRISMA read it).
RUN_COLUMNS: tuple[str, ...] = tuple(RunCounts.__annotations__)
#: The counted columns of ``runs.tsv``: all but ``run`` and ``source``.
RUN_COUNT_COLUMNS: tuple[str, ...] = RUN_COLUMNS[2:]


# --------------------------------------------------------------------------- record tables


@dataclass
class RecordSet:
    """Every distinct record (first-seen version) plus how often each run re-retrieved one."""

    records: list[Record]
    retrieved: dict[tuple[str, str], int] = field(default_factory=dict)
    previously_retrieved: dict[tuple[str, str], int] = field(default_factory=dict)


def load_record_tables(paths: Sequence[str | Path]) -> RecordSet:
    """Read record tables (RECORD_COLUMNS exactly) in any order; keep each record_id once.

    A record_id retrieved again by a later run (the same PubMed record in every snapshot, a
    re-imported export) keeps its first-seen version and run, so later runs never change
    what earlier runs matched; the repeat is counted as ``previously_retrieved`` of that run.

    Raises:
        InputFileError: a table is unreadable or has other columns.
        ValidationError: an empty record_id, source or run, a run that is not an ISO date,
            or one record_id twice in one table.
    """
    rows = [row for path in paths for row in _record_rows(path)]
    rows.sort(key=lambda item: (item[0], item[2], item[1]))
    first_seen: dict[str, tuple[str, str, int]] = {}
    result = RecordSet(records=[])
    for run, line, path, row in rows:
        key = (run, row["source"])
        result.retrieved[key] = result.retrieved.get(key, 0) + 1
        seen = first_seen.get(row["record_id"])
        if seen is None:
            first_seen[row["record_id"]] = (run, path, line)
            result.records.append(row)
            continue
        if seen[0] == run:
            if seen[1] == path:
                raise ValidationError(
                    path,
                    "record_id occurs twice in one table",
                    line=line,
                    field="record_id",
                    value=row["record_id"],
                    allowed=f"unique ids (first at line {seen[2]})",
                )
            log.warning(
                "%s line %d: %s already read from %s for run %s; counted once",
                path,
                line,
                row["record_id"],
                seen[1],
                run,
            )
            result.retrieved[key] -= 1
            continue
        result.previously_retrieved[key] = result.previously_retrieved.get(key, 0) + 1
    log.info("read %d distinct records from %d tables", len(result.records), len(paths))
    return result


def _record_rows(path: str | Path) -> list[tuple[str, int, str, Record]]:
    """(run, line, path, record) of every row of one record table, checked."""
    rows: list[tuple[str, int, str, Record]] = []
    for row in read_tsv(path, required=RECORD_COLUMNS, allowed=RECORD_COLUMNS):
        line = int(row.pop("__line__"))
        for column in ("record_id", "source", "run"):
            if not row[column].strip():
                raise ValidationError(
                    path,
                    "empty cell",
                    line=line,
                    field=column,
                    allowed="every record needs record_id, source and run",
                )
        if not ISO_DATE.match(row["run"]):
            raise ValidationError(
                path,
                "run is not an ISO date",
                line=line,
                field="run",
                value=row["run"],
                allowed="YYYY-MM-DD",
            )
        rows.append((row["run"], line, str(path), as_record(row)))
    return rows


# --------------------------------------------------------------------------- the four tables


@dataclass
class DedupOutcome:
    """The four output tables of one deduplication, as rows."""

    unique: list[Publication]
    duplicates: list[DuplicateRow]
    maybe: list[MaybePair]
    runs: list[RunCounts]


def _richness(record: Record) -> int:
    """How much metadata a record carries (an abstract counts extra): the canonical record
    of a publication is its richest of the preferred source."""
    filled = sum(1 for column in RECORD_COLUMNS if str(record.get(column, "")).strip())
    return filled + (3 if record["abstract"].strip() else 0)


def deduplicate(
    record_set: RecordSet,
    verdicts: Sequence[Verdict] = (),
    settings: MatchSettings | None = None,
    verdicts_path: str | Path = "verdicts",
) -> DedupOutcome:
    """Cluster every record into publications and build the four output tables."""
    settings = settings or MatchSettings()
    records = record_set.records
    runs = sorted({r["run"] for r in records} | {run for run, _ in record_set.retrieved})
    clustering = _cluster(records, runs, verdicts, settings, verdicts_path)
    unique, duplicates, publication_of = _publications(records, clustering, settings)
    maybe = _maybe_pairs(records, clustering.maybe, publication_of)
    first_run_of = {str(row["publication_id"]): str(row["first_run"]) for row in unique}
    run_rows = _run_counts(record_set, runs, publication_of, first_run_of, settings)
    log.info(
        "%d records -> %d publications; %d merged, %d pairs for a human (maybe.tsv)",
        len(records),
        len(unique),
        len(duplicates),
        len(maybe),
    )
    return DedupOutcome(unique=unique, duplicates=duplicates, maybe=maybe, runs=run_rows)


def _cluster(
    records: Sequence[Record],
    runs: Sequence[str],
    verdicts: Sequence[Verdict],
    settings: MatchSettings,
    verdicts_path: str | Path,
) -> Clustering:
    """Cluster the records run by run, human verdicts first; a contradiction between
    verdicts is reported against the verdicts sheet."""
    run_rank = {run: index for index, run in enumerate(runs)}
    index_of = {r["record_id"]: i for i, r in enumerate(records)}

    def pairs(kind: str) -> list[tuple[int, int]]:
        return [
            (index_of[v.record_id_a], index_of[v.record_id_b])
            for v in verdicts
            if v.verdict == kind
        ]

    try:
        return cluster_records(
            [features_of(r) for r in records],
            settings,
            order=[run_rank[r["run"]] for r in records],
            verdict_same=pairs("same"),
            verdict_different=pairs("different"),
        )
    except VerdictContradiction as exc:
        key = pair_key(*exc.record_ids)
        line = next((v.line for v in verdicts if v.verdict == "same" and v.pair == key), None)
        raise ValidationError(
            verdicts_path,
            exc.problem,
            line=line,
            field=exc.field,
            value=exc.value,
            allowed=exc.allowed,
        ) from None


def _publications(
    records: Sequence[Record], clustering: Clustering, settings: MatchSettings
) -> tuple[list[Publication], list[DuplicateRow], dict[int, str]]:
    """One publication per cluster (id: its first record; shown: its canonical record), each
    other member as a duplicate explained by the merge that reached it, and every record
    index's publication_id."""
    priority = settings.source_priority

    def first_key(i: int) -> tuple[str, tuple[int, str], str]:
        r = records[i]
        return (r["run"], source_rank(r["source"], priority), r["record_id"])

    def canonical_key(i: int) -> tuple[tuple[int, str], int, str, str]:
        r = records[i]
        return (source_rank(r["source"], priority), -_richness(r), r["run"], r["record_id"])

    neighbours: dict[int, list[Edge]] = defaultdict(list)
    for edge in clustering.tree:
        neighbours[edge.i].append(edge)
        neighbours[edge.j].append(edge)
    unique: list[Publication] = []
    duplicates: list[DuplicateRow] = []
    publication_of: dict[int, str] = {}
    for members in clustering.groups().values():
        members.sort(key=first_key)
        root = members[0]
        canonical = records[min(members, key=canonical_key)]
        publication_id = records[root]["record_id"]
        for i in members:
            publication_of[i] = publication_id
        unique.append(
            Publication(
                publication_id=publication_id,
                canonical_record_id=canonical["record_id"],
                member_record_ids="; ".join(records[i]["record_id"] for i in members),
                sources="; ".join(dict.fromkeys(records[i]["source"] for i in members)),
                first_run=records[root]["run"],
                n_records=str(len(members)),
                **canonical,
            )
        )
        duplicates.extend(_explained_members(records, root, neighbours, publication_id))
    unique.sort(key=lambda r: (r["first_run"], r["publication_id"]))
    duplicates.sort(key=lambda r: (r["run"], r["duplicate_of"], r["record_id"]))
    return unique, duplicates, publication_of


def _explained_members(
    records: Sequence[Record],
    root: int,
    neighbours: Mapping[int, list[Edge]],
    publication_id: str,
) -> list[DuplicateRow]:
    """Walk the merge tree from the publication's first record: each member is explained by
    the edge that reached it."""
    rows: list[DuplicateRow] = []
    seen = {root}
    queue = [root]
    while queue:
        current = queue.pop(0)
        for edge in sorted(neighbours.get(current, []), key=lambda e: (e.rule, e.i, e.j)):
            other = edge.j if edge.i == current else edge.i
            if other in seen:
                continue
            seen.add(other)
            queue.append(other)
            rows.append(
                DuplicateRow(
                    record_id=records[other]["record_id"],
                    duplicate_of=publication_id,
                    matched_record_id=records[current]["record_id"],
                    rule=edge.rule,
                    score=edge.score,
                    run=records[other]["run"],
                    source=records[other]["source"],
                )
            )
    return rows


def _maybe_pairs(
    records: Sequence[Record], open_pairs: Sequence[Edge], publication_of: Mapping[int, str]
) -> list[MaybePair]:
    """Each uncertain pair once, records in id order, sorted by their ids."""
    pairs: dict[tuple[str, str], MaybePair] = {}
    for edge in open_pairs:
        a, b = sorted((edge.i, edge.j), key=lambda i: records[i]["record_id"])
        ra, rb = records[a], records[b]
        key = (ra["record_id"], rb["record_id"])
        if key in pairs:
            continue
        pairs[key] = MaybePair(
            record_id_a=ra["record_id"],
            record_id_b=rb["record_id"],
            publication_id_a=publication_of[a],
            publication_id_b=publication_of[b],
            rule=edge.rule,
            score=edge.score,
            title_a=ra.get("title", ""),
            title_b=rb.get("title", ""),
            year_a=ra.get("year", ""),
            year_b=rb.get("year", ""),
            journal_a=ra.get("journal", ""),
            journal_b=rb.get("journal", ""),
            doi_a=ra.get("doi", ""),
            doi_b=rb.get("doi", ""),
        )
    return [pairs[key] for key in sorted(pairs)]


def _run_counts(
    record_set: RecordSet,
    runs: Sequence[str],
    publication_of: Mapping[int, str],
    first_run_of: Mapping[str, str],
    settings: MatchSettings,
) -> list[RunCounts]:
    """Per run and source (then ``all``), records identified, new publications and
    duplicates removed, split by why (the PRISMA identity is checked on every row)."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, record in enumerate(record_set.records):
        key = (record["run"], record["source"])
        publication_id = publication_of[i]
        if publication_id == record["record_id"]:
            counts[key]["new_publications"] += 1
        elif first_run_of[publication_id] < record["run"]:
            counts[key]["duplicates_of_earlier_runs"] += 1
        else:
            counts[key]["duplicates_within_run"] += 1
    rows: list[RunCounts] = []
    for run in runs:
        sources = sorted(
            {s for r, s in record_set.retrieved if r == run},
            key=lambda s: source_rank(s, settings.source_priority),
        )
        per_source = [_source_counts(record_set, run, s, counts[(run, s)]) for s in sources]
        rows.extend(per_source)
        rows.append(_all_sources(run, per_source))
    return rows


def _all_sources(run: str, per_source: Sequence[RunCounts]) -> RunCounts:
    """The ``all`` row of one run: every count summed over its sources."""
    return RunCounts(
        run=run,
        source="all",
        records_identified=sum(r["records_identified"] for r in per_source),
        previously_retrieved=sum(r["previously_retrieved"] for r in per_source),
        duplicates_of_earlier_runs=sum(r["duplicates_of_earlier_runs"] for r in per_source),
        duplicates_within_run=sum(r["duplicates_within_run"] for r in per_source),
        new_publications=sum(r["new_publications"] for r in per_source),
        duplicates_removed=sum(r["duplicates_removed"] for r in per_source),
    )


def _source_counts(
    record_set: RecordSet, run: str, source: str, counted: Mapping[str, int]
) -> RunCounts:
    row = RunCounts(
        run=run,
        source=source,
        records_identified=record_set.retrieved.get((run, source), 0),
        previously_retrieved=record_set.previously_retrieved.get((run, source), 0),
        duplicates_of_earlier_runs=counted.get("duplicates_of_earlier_runs", 0),
        duplicates_within_run=counted.get("duplicates_within_run", 0),
        new_publications=counted.get("new_publications", 0),
        duplicates_removed=0,
    )
    row["duplicates_removed"] = row["records_identified"] - row["new_publications"]
    if row["duplicates_removed"] != (
        row["previously_retrieved"]
        + row["duplicates_of_earlier_runs"]
        + row["duplicates_within_run"]
    ):
        raise AssertionError(f"PRISMA identity broken for {run}/{source}: {row}")
    return row


# --------------------------------------------------------------------------- the stage


def deduplicate_files(
    record_tables: Sequence[str | Path],
    verdicts_path: str | Path,
    settings: Mapping[str, object],
    *,
    unique: str | Path,
    duplicates: str | Path,
    maybe: str | Path,
    runs: str | Path,
    todo: str | Path | None = None,
    run_date: str | None = None,
) -> DedupOutcome:
    """Read the tables and verdicts, deduplicate, write the four outputs (atomically), and
    the stage's to-do table when ``todo`` is given (:func:`todo_rows`).

    Every verdict counts, whatever its date; one on records this run does not have (from a
    search after ``run_date``) waits for them (:func:`~.verdicts.split_by_records`).
    Nothing is written when any input is invalid.
    """
    match_settings = MatchSettings.from_params(settings)
    record_set = load_record_tables(record_tables)
    ids = [r["record_id"] for r in record_set.records]
    applied, later = split_by_records(load_verdicts(verdicts_path, ids, run_date), ids)
    if later:
        log.info(
            "%d verdict(s) of %s on records of a search after %s: applied once a run includes them",
            len(later),
            verdicts_path,
            run_date,
        )
    outcome = deduplicate(record_set, applied, match_settings, verdicts_path)
    write_tsv(unique, outcome.unique, UNIQUE_COLUMNS)
    write_tsv(duplicates, outcome.duplicates, DUPLICATE_COLUMNS)
    write_tsv(maybe, outcome.maybe, MAYBE_COLUMNS)
    write_tsv(runs, outcome.runs, RUN_COLUMNS)
    if todo is not None:
        write_todo(todo, todo_rows(outcome.maybe, applied, maybe, verdicts_path, later))
    return outcome


def pairs_awaiting_verdict(maybe: Sequence[MaybePair], verdicts: Sequence[Verdict]) -> int:
    """How many uncertain pairs have no verdict yet (the data manager's queue).

    >>> pair = {"record_id_a": "embase:1", "record_id_b": "pubmed:2"}
    >>> decided = Verdict("pubmed:2", "embase:1", "different", line=2)
    >>> pairs_awaiting_verdict([pair, {"record_id_a": "a:1", "record_id_b": "b:2"}], [decided])
    1
    """
    decided = {verdict.pair for verdict in verdicts}
    return sum(
        1 for row in maybe if pair_key(row["record_id_a"], row["record_id_b"]) not in decided
    )


def todo_rows(
    maybe: Sequence[MaybePair],
    verdicts: Sequence[Verdict],
    maybe_path: str | Path,
    verdicts_path: str | Path,
    later: Sequence[Verdict] = (),
) -> list[TodoRow]:
    """The dedup stage's to-do: the uncertain pairs of ``maybe.tsv`` awaiting a verdict in
    the verdicts sheet, and the verdicts on records of a later search, which a later run applies
    (the run record's to-do block shows these counts; rows with a count of 0 are dropped
    when written)."""
    return [
        TodoRow(
            role="data_manager",
            person="",
            stage="dedup",
            task=DECIDE_PAIRS,
            count=pairs_awaiting_verdict(maybe, verdicts),
            items_in=str(maybe_path),
            act_in=str(verdicts_path),
        ),
        TodoRow(
            role="data_manager",
            person="",
            stage="dedup",
            task=WAITING_FOR_RECORDS,
            count=len(later),
            items_in=str(verdicts_path),
            act_in=str(verdicts_path),
        ),
    ]


def check_verdicts(
    record_tables: Sequence[str | Path],
    verdicts_path: str | Path,
    settings: Mapping[str, object],
    run_date: str | None = None,
    today: str | None = None,
) -> None:
    """Validate the verdicts sheet exactly as :func:`deduplicate_files` reads and applies it,
    writing nothing (the ``check_dedup_verdicts`` rule; see :mod:`livingreview.checks`).
    ``today`` (read by the check job when it runs): a verdict dated after it is an error.

    Raises:
        InputFileError: the first problem (the log lists every one).
    """
    record_set = load_record_tables(record_tables)
    problems = ProblemCollector(log)
    table = read_table(verdicts_path)
    _check_verdict_table(record_set, verdicts_path, table, settings, run_date, problems, today)
    problems.raise_any()


def verdict_problems(
    record_set: RecordSet,
    verdicts_path: str | Path,
    table: Table,
    settings: Mapping[str, object],
    run_date: str | None = None,
    today: str | None = None,
) -> list[Problem]:
    """Every problem the dedup stage finds in a verdicts sheet held in memory (empty: valid),
    each with its file, line, field, value and what is allowed: each line's own checks, then
    the clustering that refuses a ``same`` verdict joining records another line keeps apart.

    ``record_set`` is what :func:`load_record_tables` read from the run's record tables.
    """
    problems = ProblemCollector(log)
    _check_verdict_table(record_set, verdicts_path, table, settings, run_date, problems, today)
    return problems.problems


def _check_verdict_table(
    record_set: RecordSet,
    verdicts_path: str | Path,
    table: Table,
    settings: Mapping[str, object],
    run_date: str | None,
    problems: ProblemCollector,
    today: str | None = None,
) -> None:
    ids = [r["record_id"] for r in record_set.records]
    try:
        verdicts = table_verdicts(verdicts_path, table, ids, problems, run_date, today)
    except InputFileError as error:
        problems.add_error(error)
        return
    if problems.count:  # clustering needs every line valid
        return
    applied, _later = split_by_records(verdicts, ids)
    try:
        deduplicate(record_set, applied, MatchSettings.from_params(settings), verdicts_path)
    except ValidationError as error:
        problems.add_error(error)
