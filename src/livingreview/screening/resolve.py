"""From decisions to where each publication stands: agreement, conflicts, adjudication, and
who still has to decide.

At each stage a publication is ``pending`` (decisions missing), ``final`` (agreed, adjudicated,
or decided by the baseline reviewer) or in ``conflict``. Title/abstract comes first: a
full-text decision on a publication that has not passed title/abstract is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..errors import ProblemCollector
from ..records import MULTI_VALUE_SEPARATOR
from .publications import PublicationIndex
from .settings import ScreeningSettings
from .sheets import Decision, SheetDecisions
from .vocabulary import FULL_TEXT, TITLE_ABSTRACT


@dataclass(frozen=True)
class StageOutcome:
    """Where one publication stands at one stage."""

    state: str  # "pending", "final" or "conflict"
    decision: str = ""
    reason: str = ""
    study_id: str = ""
    decided_by: str = ""
    decided_on: str = ""
    conflict_kind: str = ""
    decisions: tuple[Decision, ...] = ()
    adjudication: Decision | None = None


def _agreement_key(decision: Decision) -> tuple[str, ...]:
    """What two reviewers must share to agree (include and maybe both pass title/abstract)."""
    if decision.stage == TITLE_ABSTRACT:
        return ("exclude",) if decision.decision == "exclude" else ("pass",)
    return (decision.decision, decision.reason, decision.study_id)


def _conflict_kind(decisions: Sequence[Decision]) -> str:
    if any(d.decision == "maybe" for d in decisions if d.stage == FULL_TEXT):
        return "maybe"
    if len({d.decision for d in decisions}) > 1:
        return "decision"
    if len({d.reason for d in decisions}) > 1:
        return "reason"
    return "study_id"


def _final(decisions: Sequence[Decision]) -> StageOutcome:
    first = decisions[0]
    decision = first.decision
    if (
        first.stage == TITLE_ABSTRACT
        and decision == "maybe"
        and any(d.decision == "include" for d in decisions)
    ):
        decision = "include"
    reasons = list(dict.fromkeys(d.reason for d in decisions if d.reason))
    return StageOutcome(
        state="final",
        decision=decision,
        reason=MULTI_VALUE_SEPARATOR.join(reasons),
        study_id=first.study_id,
        decided_by=MULTI_VALUE_SEPARATOR.join(sorted({d.reviewer for d in decisions})),
        decided_on=max(d.decided_on for d in decisions),
        decisions=tuple(decisions),
    )


def _full_text_maybe(decisions: Iterable[Decision]) -> bool:
    return any(d.decision == "maybe" and d.stage == FULL_TEXT for d in decisions)


def resolve_stage(
    decisions: Sequence[Decision], adjudication: Decision | None, settings: ScreeningSettings
) -> StageOutcome:
    """Combine one publication's decisions at one stage.

    An adjudication is final; so is the baseline reviewer's decision (it stands for the
    published review's consensus).  Otherwise the publication needs ``decisions_needed``
    decisions; when they all agree the result is final, else it is a conflict.  At full text a
    ``maybe`` is always a conflict once everyone needed has decided: someone must settle it.
    """
    reviewers_decisions = tuple(sorted(decisions, key=lambda d: d.reviewer))
    if adjudication is not None:
        disagreed = len({_agreement_key(d) for d in reviewers_decisions}) > 1 or _full_text_maybe(
            reviewers_decisions
        )
        return replace(
            _final([adjudication]),
            decisions=reviewers_decisions,
            adjudication=adjudication,
            conflict_kind=_conflict_kind(reviewers_decisions) if disagreed else "",
        )
    baseline = [d for d in reviewers_decisions if d.reviewer == settings.baseline_reviewer]
    if baseline:
        return _final(baseline)
    if len(reviewers_decisions) < settings.decisions_needed:
        return StageOutcome(state="pending", decisions=reviewers_decisions)
    keys = {_agreement_key(d) for d in reviewers_decisions}
    if len(keys) == 1 and not _full_text_maybe(reviewers_decisions):
        return _final(reviewers_decisions)
    return StageOutcome(
        state="conflict",
        decisions=reviewers_decisions,
        conflict_kind=_conflict_kind(reviewers_decisions),
    )


def assigned_reviewers(
    publication_id: str, decided: Iterable[str], settings: ScreeningSettings
) -> list[str]:
    """Active reviewers who must decide this publication at a stage, deciders included.

    Reviewers who already decided count; the remaining places go to the reviewers ranked first
    by ``sha256(publication_id + reviewer)`` (rendezvous hashing: stable across runs, and adding
    a reviewer moves only the share of work that falls to the newcomer).  With two reviewers
    and dual screening both get everything.
    """
    decided_active = [r for r in settings.reviewers if r in set(decided)]
    needed = max(settings.decisions_needed - len(decided_active), 0)
    others = sorted(
        (r for r in settings.reviewers if r not in decided_active),
        key=lambda r: hashlib.sha256(f"{publication_id}\t{r}".encode()).hexdigest(),
    )
    chosen = {*decided_active, *others[:needed]}
    return [r for r in settings.reviewers if r in chosen]


@dataclass(frozen=True)
class Resolution:
    """Every publication's outcome at title/abstract, and at full text for those that passed
    title/abstract (the others have no full-text outcome)."""

    title_abstract: dict[str, StageOutcome]
    full_text: dict[str, StageOutcome]

    def at(self, stage: str) -> dict[str, StageOutcome]:
        return self.title_abstract if stage == TITLE_ABSTRACT else self.full_text


def passed_title_abstract(outcome: StageOutcome) -> bool:
    """Final at title/abstract and not excluded (include, or maybe agreed on)."""
    return outcome.state == "final" and outcome.decision != "exclude"


def _title_abstract_state(outcome: StageOutcome) -> str:
    """Why a publication has not passed title/abstract, in words for an error message."""
    if outcome.state == "final":
        return "excluded" if outcome.decision == "exclude" else outcome.state
    if outcome.state == "pending" and outcome.decisions:
        return "awaiting the second reviewer"
    if outcome.state == "conflict":
        return "in conflict"
    return "not screened"


def _full_text_before_title_abstract(
    decisions: SheetDecisions,
    title_abstract: Mapping[str, StageOutcome],
    problems: ProblemCollector,
) -> None:
    """Full-text rows on publications that have not passed title/abstract: each a problem."""
    full_text = decisions.by_stage[FULL_TEXT]
    for pid in sorted(set(full_text) | set(decisions.adjudications[FULL_TEXT])):
        outcome = title_abstract[pid]
        if passed_title_abstract(outcome):
            continue
        state = _title_abstract_state(outcome)
        reviewers, adjudication = decisions.of(FULL_TEXT, pid)
        for d in [*reviewers, *filter(None, [adjudication])]:
            problems.add(
                d.path,
                f"full-text decision on publication {pid}, which is not included at title/abstract "
                f"({state}); decide title/abstract first or remove this row",
                line=d.line,
                field="record_id",
                value=d.record_id,
            )


def resolve_publications(
    index: PublicationIndex,
    decisions: SheetDecisions,
    settings: ScreeningSettings,
    problems: ProblemCollector,
) -> Resolution:
    """Resolve title/abstract for every publication, then full text for those that passed.

    Raises:
        ValidationError: a full-text decision on a publication not passed at title/abstract
            (every such row is logged, the first raised).
    """
    title_abstract = {
        pid: resolve_stage(*decisions.of(TITLE_ABSTRACT, pid), settings) for pid in index.rows
    }
    _full_text_before_title_abstract(decisions, title_abstract, problems)
    problems.raise_any()
    full_text = {
        pid: resolve_stage(*decisions.of(FULL_TEXT, pid), settings)
        for pid, outcome in title_abstract.items()
        if passed_title_abstract(outcome)
    }
    return Resolution(title_abstract, full_text)
