"""How far the two reviewers agreed before adjudication: Cohen's κ and proportionate
agreement per screening stage (``results/screening/agreement.tsv``).

Computed from the reviewers' decisions as the screening stage reads them from the sheets,
adjudications left aside (they settle disagreements; they are not a reviewer's judgement).
Each stage is reduced to two categories, as Covidence reports it:

- title/abstract: *include* (include or maybe: both pass the publication on) vs *exclude*;
- full text: *include* vs *exclude*. A publication on which either reviewer answered
  ``not_retrieved`` (no judgement of eligibility) or ``maybe`` is left out and counted apart.

Which decisions count:

- only the active reviewers' (``screening.reviewers``): the baseline reviewer's decisions stand
  for the published review's consensus, not for an independent judgement;
- a publication counts once, when two reviewers decided it; one decided by a single reviewer
  so far is counted apart (``awaiting_second_decision``);
- when more than two reviewers decided a publication, the **first two to decide** are compared
  (by ``decided_on``, ties by their order in ``screening.reviewers``); such publications are
  counted in ``more_than_two_reviewers``. Reviewer 1 of a pair is the one listed first in
  ``screening.reviewers``; κ does not depend on which reviewer is called 1.

κ = (p_o − p_e) / (1 − p_e), with p_o the proportion of publications on which the two agreed
(proportionate agreement) and p_e the agreement expected by chance from each reviewer's own
proportions. When p_e is 1 (both reviewers put every publication in the same single category)
κ is undefined and the table says so instead of dividing by zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .sheets import Decision
from .vocabulary import FULL_TEXT, STAGE_LABELS, STAGES, TITLE_ABSTRACT

INCLUDE = "include"
EXCLUDE = "exclude"

#: What each stage's two categories are, in words (the table's ``compared`` column).
COMPARED = {
    TITLE_ABSTRACT: "include or maybe vs exclude",
    FULL_TEXT: "include vs exclude (not retrieved and maybe left out)",
}

AGREEMENT_COLUMNS: tuple[str, ...] = (
    "stage",
    "compared",
    "reviewers",
    "publications_compared",
    "both_include",
    "r1_include_r2_exclude",
    "r1_exclude_r2_include",
    "both_exclude",
    "proportionate_agreement",
    "expected_agreement",
    "kappa",
    "note",
    "not_retrieved_left_out",
    "maybe_left_out",
    "awaiting_second_decision",
    "more_than_two_reviewers",
)

NO_PAIRS = "no publication decided by two reviewers yet"
KAPPA_UNDEFINED = (
    "kappa undefined: expected agreement is 1 (both reviewers put every publication in one "
    "category)"
)


@dataclass(frozen=True)
class TwoByTwo:
    """Counts of the two reviewers' categories: reviewer 1's decision first."""

    include_include: int = 0
    include_exclude: int = 0
    exclude_include: int = 0
    exclude_exclude: int = 0

    @property
    def n(self) -> int:
        return (
            self.include_include
            + self.include_exclude
            + self.exclude_include
            + self.exclude_exclude
        )

    def observed(self) -> Fraction | None:
        """Proportionate agreement p_o (None without any publication)."""
        if self.n == 0:
            return None
        return Fraction(self.include_include + self.exclude_exclude, self.n)

    def expected(self) -> Fraction | None:
        """Chance agreement p_e from each reviewer's marginal proportions (None if n is 0)."""
        n = self.n
        if n == 0:
            return None
        r1_include = self.include_include + self.include_exclude
        r2_include = self.include_include + self.exclude_include
        return Fraction(r1_include * r2_include + (n - r1_include) * (n - r2_include), n * n)

    def kappa(self) -> Fraction | None:
        """Cohen's κ, or None when it is undefined (no publication, or p_e = 1).

        >>> TwoByTwo(20, 5, 10, 15).kappa()
        Fraction(2, 5)
        >>> TwoByTwo(7, 0, 0, 0).kappa() is None
        True
        """
        observed, expected = self.observed(), self.expected()
        if observed is None or expected is None or expected == 1:
            return None
        return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class StageAgreement:
    """One stage's row of ``agreement.tsv``."""

    stage: str
    table: TwoByTwo
    not_retrieved_left_out: int = 0
    maybe_left_out: int = 0
    awaiting_second_decision: int = 0
    more_than_two_reviewers: int = 0
    #: ids of the reviewers whose decisions were compared, in config order
    reviewers: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        if self.table.n == 0:
            return NO_PAIRS
        if self.table.kappa() is None:
            return KAPPA_UNDEFINED
        return ""

    def row(self) -> dict[str, object]:
        t = self.table
        return {
            "stage": self.stage,
            "compared": COMPARED[self.stage],
            "reviewers": "; ".join(self.reviewers),
            "publications_compared": t.n,
            "both_include": t.include_include,
            "r1_include_r2_exclude": t.include_exclude,
            "r1_exclude_r2_include": t.exclude_include,
            "both_exclude": t.exclude_exclude,
            "proportionate_agreement": _decimal(t.observed()),
            "expected_agreement": _decimal(t.expected()),
            "kappa": _decimal(t.kappa()),
            "note": self.note,
            "not_retrieved_left_out": self.not_retrieved_left_out,
            "maybe_left_out": self.maybe_left_out,
            "awaiting_second_decision": self.awaiting_second_decision,
            "more_than_two_reviewers": self.more_than_two_reviewers,
        }


def _decimal(value: Fraction | None) -> str:
    """Three decimals, or an empty cell when undefined."""
    return "" if value is None else f"{float(value):.3f}"


def category(decision: Decision) -> str | None:
    """The decision's category at its stage, or None when it is left out of κ.

    Title/abstract: include and maybe are *include*. Full text: include and exclude only.
    """
    if decision.decision == EXCLUDE:
        return EXCLUDE
    if decision.decision == INCLUDE or (
        decision.stage == TITLE_ABSTRACT and decision.decision == "maybe"
    ):
        return INCLUDE
    return None


def first_two(decisions: Sequence[Decision], reviewers: Sequence[str]) -> list[Decision]:
    """The first two decisions made (by date, ties by the reviewers' config order), returned
    with the reviewer listed first in ``reviewers`` first."""
    rank = {reviewer: i for i, reviewer in enumerate(reviewers)}
    earliest = sorted(decisions, key=lambda d: (d.decided_on, rank[d.reviewer]))[:2]
    return sorted(earliest, key=lambda d: rank[d.reviewer])


def stage_agreement(
    stage: str, by_publication: Mapping[str, Sequence[Decision]], reviewers: Sequence[str]
) -> StageAgreement:
    """Agreement at one stage over every publication's reviewers' decisions (adjudications
    and the baseline reviewer's decisions are not passed here or are ignored)."""
    active = set(reviewers)
    counts = {(a, b): 0 for a in (INCLUDE, EXCLUDE) for b in (INCLUDE, EXCLUDE)}
    not_retrieved = maybe = awaiting = more = 0
    compared: set[str] = set()
    for decisions in by_publication.values():
        own = [d for d in decisions if d.reviewer in active]
        if not own:
            continue
        if len(own) == 1:
            awaiting += 1
            continue
        if len(own) > 2:
            more += 1
        pair = first_two(own, reviewers)
        said = {d.decision for d in pair}
        if "not_retrieved" in said:
            not_retrieved += 1
            continue
        first, second = category(pair[0]), category(pair[1])
        if first is None or second is None:
            maybe += 1
            continue
        counts[(first, second)] += 1
        compared.update(d.reviewer for d in pair)
    table = TwoByTwo(
        counts[(INCLUDE, INCLUDE)],
        counts[(INCLUDE, EXCLUDE)],
        counts[(EXCLUDE, INCLUDE)],
        counts[(EXCLUDE, EXCLUDE)],
    )
    in_order = tuple(r for r in reviewers if r in compared)
    return StageAgreement(stage, table, not_retrieved, maybe, awaiting, more, in_order)


def agreement_rows(
    by_stage: Mapping[str, Mapping[str, Sequence[Decision]]], reviewers: Sequence[str]
) -> list[dict[str, object]]:
    """One row per stage (title/abstract, then full text) of ``agreement.tsv``."""
    return [stage_agreement(stage, by_stage.get(stage, {}), reviewers).row() for stage in STAGES]


def agreement_sentence(row: Mapping[str, object]) -> str:
    """One stage's agreement in words, for summaries and the desk.

    >>> agreement_sentence({"stage": "title_abstract", "publications_compared": "50",
    ...     "kappa": "0.400", "proportionate_agreement": "0.700", "note": ""})
    'title/abstract: κ = 0.400, proportionate agreement 0.700 (n = 50)'
    """
    stage = STAGE_LABELS.get(str(row.get("stage", "")), str(row.get("stage", "")))
    n = row.get("publications_compared", "")
    note = str(row.get("note") or "")
    if note == NO_PAIRS:
        return f"{stage}: {note}"
    kappa = row.get("kappa")
    kappa_text = f"κ = {kappa}" if kappa else "κ undefined (expected agreement is 1)"
    agreement = row.get("proportionate_agreement")
    return f"{stage}: {kappa_text}, proportionate agreement {agreement} (n = {n})"


def agreement_lines(rows: Iterable[Mapping[str, object]]) -> list[str]:
    """Every stage's sentence (:func:`agreement_sentence`)."""
    return [agreement_sentence(row) for row in rows]
