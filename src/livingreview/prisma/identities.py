"""The arithmetic identities of the PRISMA diagram, checked on every run as set identities.

(identified - duplicates - removed - awaiting = screened, ...) is checked on the ids of the
ledger rows, not only on their numbers, so a violation names the boxes and the record ids
that break it (:class:`~livingreview.errors.ConsistencyError`). Every broken identity of
every flow is collected first (:class:`~livingreview.errors.ProblemCollector`): one stale
output breaks several at once, and they are read together.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..errors import ConsistencyError, ProblemCollector
from .inputs import BaselineStudy
from .ledger import BASELINE_FLOW, CUMULATIVE_FLOW, LedgerRow, flows_of
from .template import BOXES, OTHER_METHOD_BOXES

log = logging.getLogger(__name__)


class LedgerIndex:
    """The ledger's rows grouped by flow and box, built in one pass.

    Every identity reads a few boxes of one flow; scanning the whole ledger for each of them
    made the checks cost (number of identities) x (ledger rows), which dominated the PRISMA
    job on large searches. Rows keep their ledger order within and across boxes.
    """

    def __init__(self, ledger: Iterable[LedgerRow]):
        self.rows: dict[tuple[str, str], list[tuple[int, LedgerRow]]] = defaultdict(list)
        for position, row in enumerate(ledger):
            self.rows[(row["flow"], row["box"])].append((position, row))

    def ids(self, flow: str, *boxes: str, with_run: bool = False) -> list[str]:
        """Ids of the rows of ``boxes`` in ``flow`` (``id@run`` with ``with_run``), in ledger
        order."""
        groups = [self.rows.get((flow, box), []) for box in dict.fromkeys(boxes)]
        found = groups[0] if len(groups) == 1 else sorted(itertools.chain.from_iterable(groups))
        if with_run:
            return [f"{row['id']}@{row['run']}" for _, row in found]
        return [row["id"] for _, row in found]

    def rows_of(self, flow: str, box: str) -> list[LedgerRow]:
        return [row for _, row in self.rows.get((flow, box), [])]


def _ids(ledger: LedgerIndex, flow: str, *boxes: str, with_run: bool = False) -> list[str]:
    return ledger.ids(flow, *boxes, with_run=with_run)


def _show(ids: Iterable[str], limit: int = 12) -> str:
    """A sorted, shortened list of ids for a message.

    >>> _show(["b", "a", "c"], limit=2)
    'a, b (+1 more)'
    """
    items = sorted(set(ids))
    text = ", ".join(items[:limit])
    return text + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _strip_run(keys: Iterable[str]) -> list[str]:
    return [k.rsplit("@", 1)[0] for k in keys]


def _minus(left: Sequence[str], *subtract: Sequence[str]) -> list[str]:
    """Multiset difference, keeping the order of ``left``.

    >>> _minus(["a", "b", "a", "c"], ["a"], ["c"])
    ['b', 'a']
    """
    remove = Counter(i for s in subtract for i in s)
    out = []
    for item in left:
        if remove[item]:
            remove[item] -= 1
        else:
            out.append(item)
    return out


def expect_equal(
    problems: ProblemCollector,
    flow: str,
    identity: str,
    left_name: str,
    left: Iterable[str],
    right_name: str,
    right: Iterable[str],
) -> None:
    """Add a problem unless both sides hold the same ids, each once."""
    left_list, right_list = list(left), list(right)
    a, b = set(left_list), set(right_list)
    only_left, only_right = a - b, b - a
    repeats = [i for i, n in Counter(left_list).items() if n > 1] + [
        i for i, n in Counter(right_list).items() if n > 1
    ]
    if only_left or only_right or repeats or len(left_list) != len(right_list):
        parts = [
            f"[{flow}] {identity}: {left_name} = {len(left_list)} but {right_name} = {len(right_list)}"
        ]
        if only_left:
            parts.append(f"only in {left_name}: {_show(only_left)}")
        if only_right:
            parts.append(f"only in {right_name}: {_show(only_right)}")
        if repeats:
            parts.append(f"counted twice: {_show(repeats)}")
        problems.add_error(ConsistencyError("; ".join(parts)))


def expect_disjoint(
    problems: ProblemCollector, flow: str, identity: str, named: Mapping[str, Iterable[str]]
) -> None:
    """Add a problem for every id found in two of the named boxes."""
    seen: dict[str, str] = {}
    for name, ids in named.items():
        for ident in ids:
            if ident in seen and seen[ident] != name:
                problems.add_error(
                    ConsistencyError(
                        f"[{flow}] {identity}: {ident} is in both {seen[ident]} and {name}"
                    )
                )
            seen.setdefault(ident, name)


class _FlowCheck:
    """The identities of one flow: its ledger rows, and where broken identities are added."""

    def __init__(self, ledger: LedgerIndex, flow: str, problems: ProblemCollector):
        self.ledger, self.flow, self.problems = ledger, flow, problems

    def ids(self, *boxes: str, with_run: bool = False) -> list[str]:
        return _ids(self.ledger, self.flow, *boxes, with_run=with_run)

    def equal(
        self,
        identity: str,
        left_name: str,
        left: Iterable[str],
        right_name: str,
        right: Iterable[str],
    ) -> None:
        expect_equal(self.problems, self.flow, identity, left_name, left, right_name, right)

    def disjoint(self, identity: str, named: Mapping[str, Iterable[str]]) -> None:
        expect_disjoint(self.problems, self.flow, identity, named)


def _check_identification(c: _FlowCheck) -> None:
    """Identified records: per-source totals, duplicates, and what reaches screening."""
    identified = c.ids("database_results", "register_results", with_run=True)
    for total, specific in (
        ("database_results", "database_specific_results"),
        ("register_results", "register_specific_results"),
    ):
        c.equal(
            f"{total} = sum of {specific}",
            total,
            c.ids(total, with_run=True),
            specific,
            c.ids(specific, with_run=True),
        )
    duplicates = c.ids("duplicates", with_run=True)
    identified_set = set(identified)
    c.equal(
        "duplicates are identified records",
        "duplicates",
        duplicates,
        "duplicates also in database_results/register_results",
        [d for d in duplicates if d in identified_set],
    )
    removed = {
        box: c.ids(box)
        for box in (
            "excluded_automatic",
            "excluded_other",
            "awaiting_title_abstract",
            "records_screened",
        )
    }
    c.disjoint("a record reaches one box after deduplication", removed)
    c.equal(
        "identified - duplicates - excluded_automatic - excluded_other - awaiting_title_abstract = records_screened",
        "identified records not removed as duplicates",
        _strip_run(_minus(identified, duplicates)),
        "excluded_automatic + excluded_other + awaiting_title_abstract + records_screened",
        [i for box in removed.values() for i in box],
    )


def _check_screening(c: _FlowCheck) -> None:
    """Screened records to reports assessed (databases and registers)."""
    screened, excluded = c.ids("records_screened"), c.ids("records_excluded")
    screened_set = set(screened)
    c.equal(
        "records_screened - records_excluded = dbr_sought_reports",
        "records_screened - records_excluded",
        _minus(screened, excluded),
        "dbr_sought_reports",
        c.ids("dbr_sought_reports"),
    )
    c.equal(
        "records_excluded are screened records",
        "records_excluded",
        excluded,
        "records_excluded also in records_screened",
        [e for e in excluded if e in screened_set],
    )
    sought = c.ids("dbr_sought_reports")
    not_retrieved, waiting = c.ids("dbr_notretrieved_reports"), c.ids("awaiting_full_text")
    c.disjoint(
        "a sought report is not retrieved, awaiting or assessed",
        {
            "dbr_notretrieved_reports": not_retrieved,
            "awaiting_full_text": waiting,
            "dbr_assessed": c.ids("dbr_assessed"),
        },
    )
    c.equal(
        "dbr_sought_reports - dbr_notretrieved_reports - awaiting_full_text = dbr_assessed",
        "dbr_sought_reports - dbr_notretrieved_reports - awaiting_full_text",
        _minus(sought, not_retrieved, waiting),
        "dbr_assessed",
        c.ids("dbr_assessed"),
    )


def _check_reports(c: _FlowCheck) -> None:
    """Reports of other methods, and the assessed reports of both arms to new reports."""
    assessed, dbr_excluded = c.ids("dbr_assessed"), c.ids("dbr_excluded")
    assessed_set = set(assessed)
    other_identified = c.ids(*OTHER_METHOD_BOXES)
    other_identified_set = set(other_identified)
    other_sought, other_not = c.ids("other_sought_reports"), c.ids("other_notretrieved_reports")
    c.equal(
        "other_sought_reports come from records identified by other methods",
        "other_sought_reports",
        other_sought,
        "other_sought_reports also identified by other methods",
        [s for s in other_sought if s in other_identified_set],
    )
    c.equal(
        "other_sought_reports - other_notretrieved_reports = other_assessed",
        "other_sought_reports - other_notretrieved_reports",
        _minus(other_sought, other_not),
        "other_assessed",
        c.ids("other_assessed"),
    )
    c.equal(
        "dbr_assessed - dbr_excluded + other_assessed - other_excluded = new_reports",
        "dbr_assessed - dbr_excluded + other_assessed - other_excluded",
        _minus(assessed, dbr_excluded) + _minus(c.ids("other_assessed"), c.ids("other_excluded")),
        "new_reports",
        c.ids("new_reports"),
    )
    c.equal(
        "dbr_excluded are assessed reports",
        "dbr_excluded",
        dbr_excluded,
        "dbr_excluded also in dbr_assessed",
        [e for e in dbr_excluded if e in assessed_set],
    )


def _check_studies(c: _FlowCheck) -> None:
    """New studies, and the previous version plus new = total (studies and reports)."""
    previous_studies = c.ids("previous_studies")
    report_studies = {r["id"]: r["study_id"] for r in c.ledger.rows_of(c.flow, "new_reports")}
    c.equal(
        "new_studies = studies of new_reports not in previous_studies",
        "studies of new_reports not in previous_studies",
        sorted(set(report_studies.values()) - set(previous_studies)),
        "new_studies",
        c.ids("new_studies"),
    )
    c.equal(
        "known_study_reports = new_reports of a study in previous_studies",
        "new_reports of a study in previous_studies",
        [r for r, study in report_studies.items() if study in set(previous_studies)],
        "known_study_reports",
        c.ids("known_study_reports"),
    )
    c.disjoint(
        "a study is previous or new",
        {"previous_studies": previous_studies, "new_studies": c.ids("new_studies")},
    )
    c.equal(
        "previous_studies + new_studies = total_studies",
        "previous_studies + new_studies",
        previous_studies + c.ids("new_studies"),
        "total_studies",
        c.ids("total_studies"),
    )
    c.equal(
        "previous_reports + new_reports = total_reports",
        "previous_reports + new_reports",
        c.ids("previous_reports") + c.ids("new_reports"),
        "total_reports",
        c.ids("total_reports"),
    )


def _check_across_flows(
    ledger: LedgerIndex, flows: Sequence[str], problems: ProblemCollector
) -> None:
    """Each run's previous version is the total of the flow before it; the cumulative flow
    starts from the published review, ends where the last run ends, and adds up the runs."""
    if BASELINE_FLOW not in flows or CUMULATIVE_FLOW not in flows:
        return
    runs = [f for f in flows if f not in (BASELINE_FLOW, CUMULATIVE_FLOW)]
    chain = [BASELINE_FLOW, *runs]
    for before, after in zip(chain, chain[1:], strict=False):
        for kind in ("studies", "reports"):
            expect_equal(
                problems,
                after,
                f"previous version = total of {before}",
                f"total_{kind} of {before}",
                _ids(ledger, before, f"total_{kind}"),
                f"previous_{kind}",
                _ids(ledger, after, f"previous_{kind}"),
            )
    expect_equal(
        problems,
        CUMULATIVE_FLOW,
        "previous version = the published review (baseline total)",
        "total_studies of baseline",
        _ids(ledger, BASELINE_FLOW, "total_studies"),
        "previous_studies",
        _ids(ledger, CUMULATIVE_FLOW, "previous_studies"),
    )
    expect_equal(
        problems,
        CUMULATIVE_FLOW,
        "total = total of the last run",
        f"total_studies of {chain[-1]}",
        _ids(ledger, chain[-1], "total_studies"),
        "total_studies",
        _ids(ledger, CUMULATIVE_FLOW, "total_studies"),
    )
    # A further report of a study a run's previous version has may be of a study new to the
    # cumulative flow (included by an earlier update run): that box does not add up.
    additive = (b for b in BOXES if not b.startswith(("previous_", "total_", "known_study_")))
    for box in additive:
        expect_equal(
            problems,
            CUMULATIVE_FLOW,
            f"{box} = sum over update runs",
            f"{box} of the runs",
            [i for run in runs for i in _ids(ledger, run, box, with_run=True)],
            box,
            _ids(ledger, CUMULATIVE_FLOW, box, with_run=True),
        )


def _collect_identity_problems(ledger: Sequence[LedgerRow]) -> ProblemCollector:
    problems = ProblemCollector(log)
    flows = flows_of(ledger)
    index = LedgerIndex(ledger)
    for flow in flows:
        check = _FlowCheck(index, flow, problems)
        _check_identification(check)
        _check_screening(check)
        _check_reports(check)
        _check_studies(check)
    _check_across_flows(index, flows, problems)
    return problems


def check_identities(ledger: Sequence[LedgerRow]) -> None:
    """Raise ConsistencyError listing every broken identity (boxes and ids)."""
    _collect_identity_problems(ledger).raise_all(
        "PRISMA identity violation(s)",
        "The dedup and screening outputs disagree with the record tables: rerun those stages "
        "(snakemake --forcerun dedup) and check the ids above in results/records/unique.tsv and "
        "results/screening/status.tsv.",
    )


def check_baseline(ledger: Sequence[LedgerRow], studies: Sequence[BaselineStudy]) -> None:
    """The baseline flow must end in exactly the published review's studies.

    Raises:
        ConsistencyError: naming the studies of studies.tsv no baseline report is linked to,
            and the study ids included from baseline records that the published review lacks.
    """
    expected = {s.study_id for s in studies}
    found = {r["id"] for r in ledger if r["flow"] == BASELINE_FLOW and r["box"] == "total_studies"}
    missing, extra = sorted(expected - found), sorted(found - expected)
    if missing or extra:
        parts = []
        if missing:
            parts.append(
                f"published studies with no included baseline report: {_show(missing, 30)}"
            )
        if extra:
            parts.append(
                f"studies included from baseline records but absent from the published review: {_show(extra, 30)}"
            )
        raise ConsistencyError(
            "[baseline] total_studies differs from resources/baseline/studies.tsv: "
            + "; ".join(parts)
            + ". Record the published review's decisions for the baseline records (the baseline reviewer's "
            "full-text sheet: include with the study_id of studies.tsv) and rerun screening."
        )


def check_dedup_runs(
    ledger: Sequence[LedgerRow],
    runs_rows: Sequence[Mapping[str, str]],
    path: str | Path = "runs.tsv",
) -> None:
    """The ledger's per-run identification and duplicate counts must equal dedup's runs.tsv."""
    identified: Counter[tuple[str, str]] = Counter()
    duplicates: Counter[tuple[str, str]] = Counter()
    for row in ledger:
        if row["flow"] == CUMULATIVE_FLOW:
            continue  # every run's records are already in the baseline or in a run flow
        key = (row["run"], row["source"])
        if row["box"] in ("database_results", "register_results"):
            identified[key] += 1
            identified[(row["run"], "all")] += 1
        elif row["box"] == "duplicates":
            duplicates[key] += 1
            duplicates[(row["run"], "all")] += 1
    problems = ProblemCollector(log)
    for runs_row in runs_rows:
        key = (runs_row["run"].strip(), runs_row["source"].strip())
        for column, counter in (
            ("records_identified", identified),
            ("duplicates_removed", duplicates),
        ):
            value = runs_row.get(column, "").strip()
            if value and int(value) != counter[key]:
                problems.add_error(
                    ConsistencyError(
                        f"{path} line {runs_row.get('__line__', '?')}: {column} of run {key[0]} "
                        f"source {key[1]} is {value}, the ledger counts {counter[key]}"
                    )
                )
    problems.raise_all(
        "dedup count(s) disagree with the record-level ledger",
        "Rerun the dedup stage (snakemake --forcerun dedup).",
    )
