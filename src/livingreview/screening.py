"""Screening: reviewer decision sheets -> status, conflicts, queues and study links.

Consumes

* ``results/records/unique.tsv`` (dedup stage): one row per publication with a stable
  ``publication_id``, its ``member_record_ids`` and the canonical record's columns;
* the human decision sheets ``<decisions_dir>/<stage>/<reviewer>.tsv`` (stage
  ``title_abstract`` or ``full_text``; columns :data:`DECISION_COLUMNS`, full text adds
  ``study_id``) and ``<decisions_dir>/<stage>/adjudication.tsv`` (adds ``adjudicator``).
  They are read only: nothing here ever writes them;
* the baseline study table (``resources/baseline/studies.tsv``) to flag new study ids.

Produces (as tables returned by :func:`screen`; the workflow script writes them)

* ``status.tsv``: the resolved status of every publication (:data:`STATUSES`), with the
  exclusion reason, study id, who decided and when (PRISMA counts every box from it);
* ``conflicts.tsv``: every disagreement between reviewers, open or adjudicated;
* ``included_reports.tsv``: full-text inclusions linked to their ``study_id``;
* ``queue/<stage>/<reviewer>.tsv``: what each reviewer still has to decide, likely
  inclusions first, with eligibility hints (which never decide anything);
* ``ranking_weights.tsv`` and ``ranking_evaluation.tsv``: the transparent ranking score;
* a one-line summary of who has what to do.

A decision may name the ``publication_id`` or any member ``record_id`` of a publication, so a
record that joins a cluster later inherits the cluster's screening state and is never queued
again.  Every sheet is validated before anything is returned; a bad cell raises
:class:`~livingreview.errors.ValidationError` naming the file, line, field, value and what is
allowed (all problems are logged, the first is raised).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, InputFileError, ProblemCollector, ValidationError
from .io import read_tsv
from .records import MULTI_VALUE_SEPARATOR
from .text import ISO_DATE, fold_for_terms

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- vocabulary

TITLE_ABSTRACT = "title_abstract"
FULL_TEXT = "full_text"
STAGES: tuple[str, ...] = (TITLE_ABSTRACT, FULL_TEXT)
STAGE_LABELS = {TITLE_ABSTRACT: "title/abstract", FULL_TEXT: "full text"}

DECISIONS: dict[str, tuple[str, ...]] = {
    TITLE_ABSTRACT: ("include", "exclude", "maybe"),
    FULL_TEXT: ("include", "exclude", "maybe", "not_retrieved"),
}
#: Columns of a reviewer's sheet, in this order; full-text sheets add ``study_id``.
DECISION_COLUMNS: tuple[str, ...] = ("record_id", "decision", "reason", "note", "decided_on")
ADJUDICATION_FILE = "adjudication.tsv"

AWAITING_TITLE_ABSTRACT = "awaiting_title_abstract"
EXCLUDED_TITLE_ABSTRACT = "excluded_title_abstract"
AWAITING_FULL_TEXT = "awaiting_full_text"
FULL_TEXT_NOT_RETRIEVED = "full_text_not_retrieved"
EXCLUDED_FULL_TEXT = "excluded_full_text"
INCLUDED = "included"
STATUSES: tuple[str, ...] = (
    AWAITING_TITLE_ABSTRACT,
    EXCLUDED_TITLE_ABSTRACT,
    AWAITING_FULL_TEXT,
    FULL_TEXT_NOT_RETRIEVED,
    EXCLUDED_FULL_TEXT,
    INCLUDED,
)

STATUS_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "first_run",
    "sources",
    "member_record_ids",
    "status",
    "exclusion_reason",
    "exclusion_reason_label",
    "study_id",
    "decided_by",
    "decided_on",
    "title_abstract_decision",
    "title_abstract_decided_by",
    "title_abstract_decided_on",
    "open_conflict",
    "awaiting_reviewers",
    "title",
)
CONFLICT_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "stage",
    "kind",
    "state",
    "decisions",
    "adjudication",
    "title",
)
INCLUDED_COLUMNS: tuple[str, ...] = (
    "publication_id",
    "record_ids",
    "pmid",
    "doi",
    "study_id",
    "new_study",
    "decided_by",
    "decided_on",
    "first_author",
    "year",
    "title",
)
QUEUE_COLUMNS: tuple[str, ...] = (
    "record_id",
    "rank",
    "score",
    "score_terms",
    "hints",
    "title",
    "authors",
    "journal",
    "year",
    "publication_types",
    "language",
    "pubmed_url",
    "doi_url",
    "first_run",
    "member_record_ids",
    "abstract",
)
#: Extra queue column when screening is not blinded.
OTHER_DECISIONS_COLUMN = "other_decisions"
WEIGHT_COLUMNS: tuple[str, ...] = ("term", "n_included", "n_excluded", "weight")
EVALUATION_COLUMNS: tuple[str, ...] = ("metric", "value", "meaning")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_STUDY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RECORD_ID = re.compile(r"^[a-z][a-z0-9_]*:\S+$")


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RankingSettings:
    """Options of the transparent ranking score (see :func:`learn_weights`)."""

    enabled: bool = True
    shrinkage: float = 10.0
    min_document_frequency: int = 2
    folds: int = 5
    terms_shown: int = 5


@dataclass(frozen=True)
class ScreeningSettings:
    """The ``screening:`` config section, checked beyond what the schema can say."""

    reviewers: tuple[str, ...]
    dual: bool
    blinded: bool
    baseline_reviewer: str
    exclusion_reasons: Mapping[str, str]
    run_date: dt.date
    ranking: RankingSettings = field(default_factory=RankingSettings)

    @property
    def decisions_needed(self) -> int:
        """Independent decisions a publication needs at each stage (2 when dual)."""
        return 2 if self.dual else 1

    @classmethod
    def from_params(cls, params: Mapping[str, object], run_date: str) -> ScreeningSettings:
        """Build from the config section; raise ConfigError on what the schema cannot check."""
        reviewers = tuple(str(r) for r in params.get("reviewers", ()))  # type: ignore[union-attr]
        baseline = str(params.get("baseline_reviewer", ""))
        if not reviewers:
            raise ConfigError(
                "screening.reviewers", "no reviewer listed", "at least one reviewer id"
            )
        for key, ident in [
            *(("screening.reviewers", r) for r in reviewers),
            ("screening.baseline_reviewer", baseline),
        ]:
            if not _ID.match(ident) or ident == Path(ADJUDICATION_FILE).stem:
                raise ConfigError(
                    key,
                    f"id {ident!r} is not usable as a sheet name",
                    "lower-case letters, digits, '-' and '_' (and not 'adjudication')",
                )
        duplicates = sorted(r for r, n in Counter(reviewers).items() if n > 1)
        if duplicates:
            raise ConfigError(
                "screening.reviewers", f"listed twice: {', '.join(duplicates)}", "each id once"
            )
        if baseline in reviewers:
            raise ConfigError(
                "screening.baseline_reviewer",
                f"{baseline!r} is also an active reviewer; the baseline reviewer stands for the "
                "published review's decisions and gets no queue",
                "an id not in screening.reviewers",
            )
        dual = bool(params.get("dual", True))
        if dual and len(reviewers) < 2:
            raise ConfigError(
                "screening.dual",
                "dual screening needs at least two reviewers",
                "list two reviewers or set dual: false",
            )
        reasons: dict[str, str] = {}
        for item in params.get("exclusion_reasons", ()):  # type: ignore[union-attr]
            ident, label = str(item["id"]), str(item["label"])  # type: ignore[index]
            if ident in reasons:
                raise ConfigError(
                    "screening.exclusion_reasons", f"reason id {ident!r} listed twice", "unique ids"
                )
            reasons[ident] = label
        if not reasons:
            raise ConfigError(
                "screening.exclusion_reasons",
                "no exclusion reason listed",
                "at least one {id, label}",
            )
        ranking_params = dict(params.get("ranking", {}) or {})  # type: ignore[arg-type]
        ranking = RankingSettings(**ranking_params)
        try:
            date = dt.date.fromisoformat(run_date)
        except ValueError:
            raise ConfigError("run_date", f"{run_date!r} is not a date", "YYYY-MM-DD") from None
        return cls(
            reviewers=reviewers,
            dual=dual,
            blinded=bool(params.get("blinded", True)),
            baseline_reviewer=baseline,
            exclusion_reasons=reasons,
            run_date=date,
            ranking=ranking,
        )


def sheet_paths(decisions_dir: str | Path) -> list[str]:
    """Every decision and adjudication sheet present under ``decisions_dir`` (sorted).

    The workflow lists them as inputs, so adding or editing a sheet reruns screening.
    """
    root = Path(decisions_dir)
    return sorted(str(p) for stage in STAGES for p in (root / stage).glob("*.tsv"))


def queue_paths(results_dir: str, reviewers: Iterable[str]) -> list[str]:
    """The queue files of every active reviewer and stage."""
    return [
        f"{results_dir}/queue/{stage}/{reviewer}.tsv" for stage in STAGES for reviewer in reviewers
    ]


# --------------------------------------------------------------------------- publications


@dataclass(frozen=True)
class PublicationIndex:
    """Publications of ``unique.tsv`` and the map from every member record_id to them."""

    rows: Mapping[str, Mapping[str, str]]
    by_record: Mapping[str, str]

    def resolve(self, record_id: str) -> str | None:
        return self.by_record.get(record_id)


def split_multi(value: str) -> list[str]:
    """Split a ``"; "``-joined cell.

    >>> split_multi("pubmed:1; embase:L2 ;")
    ['pubmed:1', 'embase:L2']
    """
    return [part.strip() for part in value.split(";") if part.strip()]


def load_publications(path: str | Path) -> PublicationIndex:
    """Read ``unique.tsv`` and index every member record_id (a record in two clusters is an error)."""
    rows = read_tsv(path, required=("publication_id", "member_record_ids", "first_run", "title"))
    publications: dict[str, dict[str, str]] = {}
    by_record: dict[str, str] = {}
    for row in rows:
        line = int(row["__line__"])
        pid = row["publication_id"].strip()
        if not pid:
            raise InputFileError(path, "empty publication_id", line=line, field="publication_id")
        if pid in publications:
            raise InputFileError(
                path, "publication_id appears twice", line=line, field="publication_id", value=pid
            )
        publications[pid] = row
        members = split_multi(row["member_record_ids"]) or [pid]
        for ident in dict.fromkeys([pid, row.get("canonical_record_id", "").strip(), *members]):
            if not ident:
                continue
            other = by_record.get(ident)
            if other is not None and other != pid:
                raise InputFileError(
                    path,
                    f"record {ident} belongs to two publications ({other} and {pid}); rerun deduplication",
                    line=line,
                    field="member_record_ids",
                    value=ident,
                )
            by_record[ident] = pid
    return PublicationIndex(publications, by_record)


def load_baseline_study_ids(path: str | Path | None) -> set[str]:
    """Study ids of the published review (``studies.tsv``), to tell new studies apart."""
    if not path:
        return set()
    return {
        row["study_id"].strip()
        for row in read_tsv(path, required=("study_id",))
        if row["study_id"].strip()
    }


# --------------------------------------------------------------------------- sheets


@dataclass(frozen=True)
class Decision:
    """One validated row of a reviewer's (or the adjudication) sheet."""

    publication_id: str
    record_id: str
    stage: str
    reviewer: str
    decision: str
    reason: str
    note: str
    decided_on: str
    study_id: str
    path: str
    line: int
    adjudicated: bool = False

    def describe(self) -> str:
        """``reviewer=decision(reason)[study]`` as shown in conflicts.tsv."""
        text = f"{self.reviewer}={self.decision}"
        if self.reason:
            text += f"({self.reason})"
        if self.study_id:
            text += f"[{self.study_id}]"
        return text


def sheet_columns(stage: str, adjudication: bool = False) -> tuple[str, ...]:
    """Exact columns of a sheet of ``stage`` (reviewer or adjudication)."""
    columns = DECISION_COLUMNS
    if stage == FULL_TEXT:
        columns += ("study_id",)
    if adjudication:
        columns += ("adjudicator",)
    return columns


def classify_sheet(path: str | Path, settings: ScreeningSettings) -> tuple[str, str | None]:
    """``(stage, reviewer)`` of a sheet path; reviewer ``None`` for the adjudication sheet."""
    p = Path(path)
    stage = p.parent.name
    if stage not in STAGES:
        raise ValidationError(
            path, "sheet is not in a stage folder", value=stage, allowed=", ".join(STAGES)
        )
    if p.name == ADJUDICATION_FILE:
        return stage, None
    reviewer = p.stem
    known = (*settings.reviewers, settings.baseline_reviewer)
    if reviewer not in known:
        raise ValidationError(
            path,
            f"sheet of unknown reviewer {reviewer!r}: add the id to screening.reviewers in config.yaml "
            "or rename the file",
            value=reviewer,
            allowed=", ".join(known),
        )
    return stage, reviewer


def _check_date(value: str, settings: ScreeningSettings, not_after_run: bool = True) -> str | None:
    """Problem with a ``decided_on`` cell, or None.

    A decision dated after the run date cannot have been known to the run (a typo, or a run
    date set in the past); the baseline reviewer's dates are exempt, because reproducing the
    baseline run (dated at the end of the published search) must accept the published
    review's later decisions.
    """
    if not ISO_DATE.match(value):
        return "decided_on is not an ISO date"
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return "decided_on is not a calendar date"
    if not_after_run and date > settings.run_date:
        return f"decided_on is after the run date {settings.run_date.isoformat()}"
    if date.year < 1990:
        return "decided_on is before 1990"
    return None


def read_sheet(
    path: str | Path,
    settings: ScreeningSettings,
    index: PublicationIndex,
    problems: ProblemCollector | None = None,
) -> list[Decision]:
    """Validate one decision or adjudication sheet and return its rows as decisions.

    Problems are collected in ``problems`` (or raised at once when it is None).
    """
    own = problems is None
    problems = problems or ProblemCollector(log)
    stage, reviewer = classify_sheet(path, settings)
    adjudication = reviewer is None
    columns = sheet_columns(stage, adjudication)
    rows = read_tsv(path, required=columns, allowed=columns)
    allowed_decisions = DECISIONS[stage]
    if adjudication:
        allowed_decisions = tuple(d for d in allowed_decisions if d != "maybe")
    reasons = settings.exclusion_reasons
    seen: dict[str, tuple[int, str, tuple[str, str, str]]] = {}
    decisions: list[Decision] = []
    for row in rows:
        line = int(row["__line__"])
        before = problems.count
        record_id = row["record_id"].strip()
        decision = row["decision"].strip().lower()
        reason = row["reason"].strip().lower()
        study_id = row.get("study_id", "").strip()
        decided_on = row["decided_on"].strip()
        pid = None
        if not record_id:
            problems.add(
                path,
                "record_id is empty",
                line=line,
                field="record_id",
                allowed="a record_id of results/records/unique.tsv",
            )
        elif not _RECORD_ID.match(record_id):
            problems.add(
                path,
                "record_id is not of the form <source>:<id>",
                line=line,
                field="record_id",
                value=record_id,
                allowed="e.g. pubmed:31658173 or embase:L2005412345",
            )
        else:
            pid = index.resolve(record_id)
            if pid is None:
                problems.add(
                    path,
                    "unknown record_id: no publication of results/records/unique.tsv has it",
                    line=line,
                    field="record_id",
                    value=record_id,
                    allowed="a publication_id or member record_id of results/records/unique.tsv (check for typos)",
                )
            elif pid in seen:
                first_line, first_id, first_key = seen[pid]
                if first_id != record_id and first_key == (decision, reason, study_id):
                    # Two records decided alike and merged later by deduplication: harmless.
                    log.warning(
                        "%s, line %d: %s and %s (line %d) are now one publication %s, decided alike; "
                        "the row on line %d is redundant",
                        path,
                        line,
                        record_id,
                        first_id,
                        first_line,
                        pid,
                        line,
                    )
                    continue
                problems.add(
                    path,
                    f"second decision on publication {pid} in this sheet (first on line {first_line}, "
                    f"{first_id}); keep one row",
                    line=line,
                    field="record_id",
                    value=record_id,
                )
            else:
                seen[pid] = (line, record_id, (decision, reason, study_id))
        if decision not in allowed_decisions:
            problems.add(
                path,
                "decision not allowed",
                line=line,
                field="decision",
                value=row["decision"],
                allowed=", ".join(allowed_decisions),
            )
        if decision == "exclude":
            if reason and reason not in reasons:
                problems.add(
                    path,
                    "exclusion reason not listed in config",
                    line=line,
                    field="reason",
                    value=row["reason"],
                    allowed=", ".join(reasons),
                )
            elif not reason and stage == FULL_TEXT:
                problems.add(
                    path,
                    "a full-text exclusion needs a reason",
                    line=line,
                    field="reason",
                    value="",
                    allowed=", ".join(reasons),
                )
        elif reason and decision in allowed_decisions:
            problems.add(
                path,
                f"a reason is only for exclusions, not for '{decision}' (put remarks in 'note')",
                line=line,
                field="reason",
                value=row["reason"],
            )
        if stage == FULL_TEXT:
            if decision == "include":
                if not study_id:
                    problems.add(
                        path,
                        "a full-text inclusion needs the study_id it reports on",
                        line=line,
                        field="study_id",
                        value="",
                        allowed="an id of resources/baseline/studies.tsv or a new id like smith-2024",
                    )
                elif not _STUDY_ID.match(study_id):
                    problems.add(
                        path,
                        "study_id is malformed",
                        line=line,
                        field="study_id",
                        value=study_id,
                        allowed="lower-case words joined by '-', e.g. pape-2019",
                    )
            elif study_id:
                problems.add(
                    path,
                    f"study_id is only for inclusions, not for '{decision}'",
                    line=line,
                    field="study_id",
                    value=study_id,
                )
        date_problem = _check_date(
            decided_on, settings, not_after_run=reviewer != settings.baseline_reviewer
        )
        if date_problem:
            problems.add(
                path,
                date_problem,
                line=line,
                field="decided_on",
                value=decided_on,
                allowed="YYYY-MM-DD, not after the run date",
            )
        decider = reviewer
        if adjudication:
            decider = row["adjudicator"].strip()
            if not _ID.match(decider):
                problems.add(
                    path,
                    "adjudicator is empty or malformed",
                    line=line,
                    field="adjudicator",
                    value=decider,
                    allowed="a reviewer id (lower-case letters, digits, '-', '_')",
                )
        if problems.count == before and pid is not None:
            decisions.append(
                Decision(
                    publication_id=pid,
                    record_id=record_id,
                    stage=stage,
                    reviewer=str(decider),
                    decision=decision,
                    reason=reason,
                    note=row["note"].strip(),
                    decided_on=decided_on,
                    study_id=study_id,
                    path=str(path),
                    line=line,
                    adjudicated=adjudication,
                )
            )
    if own:
        problems.raise_any()
    return decisions


# --------------------------------------------------------------------------- resolution


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
        outcome = _final([adjudication])
        disagreed = len({_agreement_key(d) for d in reviewers_decisions}) > 1 or any(
            d.decision == "maybe" and d.stage == FULL_TEXT for d in reviewers_decisions
        )
        return StageOutcome(
            **{
                **outcome.__dict__,
                "decisions": reviewers_decisions,
                "adjudication": adjudication,
                "conflict_kind": _conflict_kind(reviewers_decisions) if disagreed else "",
            }
        )
    baseline = [d for d in reviewers_decisions if d.reviewer == settings.baseline_reviewer]
    if baseline:
        return _final(baseline)
    if len(reviewers_decisions) < settings.decisions_needed:
        return StageOutcome(state="pending", decisions=reviewers_decisions)
    keys = {_agreement_key(d) for d in reviewers_decisions}
    has_maybe = any(d.decision == "maybe" and d.stage == FULL_TEXT for d in reviewers_decisions)
    if len(keys) == 1 and not has_maybe:
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


# --------------------------------------------------------------------------- hints

_ALLOWED_LANGUAGES = {
    "eng",
    "dut",
    "nld",
    "ger",
    "deu",
    "fre",
    "fra",
    "en",
    "nl",
    "de",
    "fr",
    "english",
    "dutch",
    "german",
    "french",
}
_PT_HINTS = (
    (re.compile(r"congress|conference|meeting|abstract", re.I), "congress/meeting abstract"),
    (re.compile(r"guideline|consensus|position", re.I), "guideline"),
    (re.compile(r"review|meta-analysis", re.I), "review"),
    (re.compile(r"editorial|comment|letter|note\b", re.I), "editorial/letter/comment"),
)
_WORDING_HINTS = (
    (
        re.compile(
            r"\b(child|children|childhood|paediatric|pediatric|infant\w*|adolescen\w*|juvenile|kids?|kinder\w*|enfants?|p[ée]diatri\w*|jugendlich\w*)\b",
            re.I,
        ),
        "paediatric wording",
    ),
    (
        re.compile(
            r"\b(liver transplant\w*|after transplant\w*|post-?transplant\w*|allograft|de novo autoimmune hepatitis|recurrent autoimmune hepatitis|recurrence)\b",
            re.I,
        ),
        "transplant wording",
    ),
    (
        re.compile(r"\b(overlap|variant syndrome|primary biliary|primary sclerosing|PBC|PSC)\b"),
        "PBC/PSC/overlap wording",
    ),
    (re.compile(r"\b(mice|mouse|murine|rats?|rodent|canine|dogs?)\b", re.I), "animal wording"),
)
_CNI = re.compile(
    r"cyclosporin|ciclosporin|tacrolimus|calcineurin|\bfk[- ]?506\b|neoral|prograf|advagraf|sandimmun",
    re.I,
)
_AIH = re.compile(
    r"autoimmune hepatitis|auto-immune hepatitis|chronic active hepatitis|\bAIH\b|hepatitis, autoimmune",
    re.I,
)
_MEETING_TITLE = re.compile(r"^\s*[A-Z]{1,5}-?\d{1,4}\b")


def eligibility_hints(record: Mapping[str, str]) -> list[str]:
    """Reasons a screener may want to look twice; they never decide anything.

    >>> eligibility_hints({"title": "Tacrolimus in children with autoimmune hepatitis",
    ...                    "abstract": "", "language": "eng", "publication_types": "Journal Article"})
    ['paediatric wording', 'no abstract']
    >>> eligibility_hints({"title": "PTH-084 Tacrolimus in AIH", "abstract": "x",
    ...                    "language": "chi", "publication_types": "Conference Abstract"})
    ['language chi (not English/Dutch/German/French)', 'publication type: congress/meeting abstract', 'title numbered like a meeting abstract']
    """
    hints: list[str] = []
    languages = [code.strip().lower() for code in split_multi(record.get("language", ""))]
    if languages and not any(code in _ALLOWED_LANGUAGES for code in languages):
        hints.append(f"language {'/'.join(languages)} (not English/Dutch/German/French)")
    types = record.get("publication_types", "")
    for pattern, label in _PT_HINTS:
        if pattern.search(types):
            hints.append(f"publication type: {label}")
    title = record.get("title", "")
    if _MEETING_TITLE.match(title):
        hints.append("title numbered like a meeting abstract")
    text = f"{title} {record.get('abstract', '')}"
    for pattern, label in _WORDING_HINTS:
        if pattern.search(text):
            hints.append(label)
    topical = f"{text} {record.get('mesh_terms', '')}"
    if not _CNI.search(topical):
        hints.append("no CNI term")
    if not _AIH.search(topical):
        hints.append("no AIH term")
    if not record.get("abstract", "").strip():
        hints.append("no abstract")
    return hints


# --------------------------------------------------------------------------- ranking

_STOPWORDS = frozenset(
    """a about after again all also an and any are as at be been before being between both but by can
    could did do does during each for from had has have having he her here his how i if in into is it its
    more most no nor not of off on once only or other our out over own same she should so some such than
    that the their them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your using used use may were vs versus
    patient patients study studies case cases report reported results result conclusion conclusions
    background methods method aim aims objective objectives""".split()
)
_TOKEN = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")


def ranking_terms(record: Mapping[str, str]) -> set[str]:
    """Distinct terms the ranking score looks at: words of title and abstract, publication
    types (``pt:``), MeSH terms (``mesh:``) and eligibility hints (``hint:``).

    >>> sorted(ranking_terms({"title": "Tacrolimus for AIH", "abstract": "",
    ...                       "publication_types": "Review", "mesh_terms": ""}))
    ['aih', 'hint:no abstract', 'hint:publication type: review', 'pt:review', 'tacrolimus']
    """
    text = fold_for_terms(f"{record.get('title', '')} {record.get('abstract', '')}")
    terms = {t for t in _TOKEN.findall(text) if len(t) >= 3 and t not in _STOPWORDS}
    terms |= {f"pt:{fold_for_terms(p)}" for p in split_multi(record.get("publication_types", ""))}
    terms |= {f"mesh:{fold_for_terms(m)}" for m in split_multi(record.get("mesh_terms", ""))}
    terms |= {f"hint:{h}" for h in eligibility_hints(record) if not h.startswith("language ")}
    return terms


@dataclass(frozen=True)
class TermWeight:
    term: str
    n_included: int
    n_excluded: int
    weight: float


def learn_weights(
    positives: Sequence[set[str]], negatives: Sequence[set[str]], settings: RankingSettings
) -> dict[str, TermWeight]:
    """Log-likelihood ratio of each term between included and excluded publications.

    ``weight = ln(p_inc / p_exc)`` with ``p_inc = (n_inc + s*r) / (N_inc + s)`` and
    ``p_exc = (n_exc + s*r) / (N_exc + s)``, where ``r`` is the term's share of all labelled
    publications and ``s`` the shrinkage (pseudo-publications at that share), so a term seen
    once moves the score little.  Only terms in at least ``min_document_frequency`` labelled
    publications get a weight.  Empty when either class is empty.
    """
    if not positives or not negatives:
        return {}
    n_pos, n_neg = len(positives), len(negatives)
    pos_counts = Counter(t for terms in positives for t in terms)
    neg_counts = Counter(t for terms in negatives for t in terms)
    s = settings.shrinkage
    weights: dict[str, TermWeight] = {}
    for term in set(pos_counts) | set(neg_counts):
        a, b = pos_counts[term], neg_counts[term]
        if a + b < settings.min_document_frequency:
            continue
        r = (a + b) / (n_pos + n_neg)
        p_inc = (a + s * r) / (n_pos + s)
        p_exc = (b + s * r) / (n_neg + s)
        weights[term] = TermWeight(term, a, b, math.log(p_inc / p_exc))
    return weights


def score_terms(terms: Iterable[str], weights: Mapping[str, TermWeight]) -> float:
    """Sum of the weights of the terms present (0 when nothing was learnt)."""
    return sum(weights[t].weight for t in terms if t in weights)


def top_terms(terms: Iterable[str], weights: Mapping[str, TermWeight], n: int) -> str:
    """The ``n`` terms that move this score most, with their signed weights."""
    present = sorted(
        (weights[t] for t in terms if t in weights), key=lambda w: (-abs(w.weight), w.term)
    )
    return "; ".join(f"{w.term} {w.weight:+.2f}" for w in present[:n])


def evaluate_ranking(
    positives: Sequence[set[str]], negatives: Sequence[set[str]], settings: RankingSettings
) -> list[dict[str, object]]:
    """Cross-validated quality of the score on publications already decided.

    Stratified ``folds``-fold cross-validation (fold = position modulo k in the given order):
    each fold is scored by weights learnt on the others, then the pooled out-of-fold ranking
    is summarised.  Ties are broken against the included publications (pessimistic).
    """
    k = min(settings.folds, len(positives), len(negatives))
    if k < 2:
        return [
            {
                "metric": "labelled",
                "value": f"{len(positives)} included / {len(negatives)} excluded",
                "meaning": "too few decisions to evaluate the ranking (needs >= 2 of each)",
            }
        ]
    scored: list[tuple[float, int]] = []
    for fold in range(k):
        train_pos = [t for i, t in enumerate(positives) if i % k != fold]
        train_neg = [t for i, t in enumerate(negatives) if i % k != fold]
        weights = learn_weights(train_pos, train_neg, settings)
        scored += [(score_terms(t, weights), 1) for i, t in enumerate(positives) if i % k == fold]
        scored += [(score_terms(t, weights), 0) for i, t in enumerate(negatives) if i % k == fold]
    order = sorted(scored, key=lambda item: (-item[0], item[1]))
    n_pos, n = len(positives), len(order)
    ranks = [i + 1 for i, (_, label) in enumerate(order) if label == 1]
    precision_sum = sum((j + 1) / rank for j, rank in enumerate(ranks))
    wins = sum(
        1.0 if ps > ns else 0.5 if ps == ns else 0.0
        for ps, pl in scored
        if pl == 1
        for ns, nl in scored
        if nl == 0
    )
    auc = wins / (n_pos * len(negatives))
    need95 = ranks[math.ceil(0.95 * n_pos) - 1]
    return [
        {
            "metric": "labelled",
            "value": f"{n_pos} included / {len(negatives)} excluded",
            "meaning": "publications with a final decision used for training",
        },
        {"metric": "folds", "value": k, "meaning": "stratified cross-validation folds"},
        {
            "metric": "roc_auc",
            "value": f"{auc:.3f}",
            "meaning": "chance that an included publication outranks an excluded one (0.5 = random)",
        },
        {
            "metric": "average_precision",
            "value": f"{precision_sum / n_pos:.3f}",
            "meaning": f"mean precision at each included publication's rank (random ~ {n_pos / n:.3f})",
        },
        {
            "metric": "screened_to_find_all",
            "value": f"{ranks[-1]}/{n}",
            "meaning": "publications read in rank order until the last included one",
        },
        {
            "metric": "screened_to_find_95pct",
            "value": f"{need95}/{n}",
            "meaning": "publications read in rank order until 95% of included ones were found",
        },
        {
            "metric": "included_ranks",
            "value": ", ".join(map(str, ranks)),
            "meaning": "rank of every included publication in the pooled out-of-fold order",
        },
    ]


# --------------------------------------------------------------------------- the stage


@dataclass
class ScreeningResult:
    """Every table the screening stage writes, plus the one-line summary."""

    status: list[dict[str, object]]
    conflicts: list[dict[str, object]]
    included: list[dict[str, object]]
    queues: dict[tuple[str, str], list[dict[str, object]]]
    weights: list[dict[str, object]]
    evaluation: list[dict[str, object]]
    summary: str
    queue_columns: tuple[str, ...] = QUEUE_COLUMNS


def _links(row: Mapping[str, str]) -> tuple[str, str]:
    pmid, doi = row.get("pmid", "").strip(), row.get("doi", "").strip()
    return (
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
        f"https://doi.org/{doi}" if doi else "",
    )


def possible_duplicate_hints(maybe_path: str | Path | None) -> dict[str, list[str]]:
    """publication_id -> hints naming the other publication of each uncertain dedup pair."""
    hints: dict[str, list[str]] = {}
    if not maybe_path or not Path(maybe_path).is_file():
        return hints
    for row in read_tsv(maybe_path, required=("publication_id_a", "publication_id_b")):
        a, b = row["publication_id_a"], row["publication_id_b"]
        if a and b and a != b:
            hints.setdefault(a, []).append(f"possible duplicate of {b} (results/records/maybe.tsv)")
            hints.setdefault(b, []).append(f"possible duplicate of {a} (results/records/maybe.tsv)")
    return hints


def screen(
    unique_path: str | Path,
    sheet_files: Sequence[str | Path],
    settings: ScreeningSettings,
    baseline_studies: str | Path | None = None,
    maybe_path: str | Path | None = None,
) -> ScreeningResult:
    """Validate every sheet, resolve every publication and build the stage's tables.

    ``maybe_path`` (the dedup stage's uncertain pairs) adds a "possible duplicate of ..." hint
    to both publications of a pair, so a reviewer sees the pair before deciding either.

    Raises:
        ValidationError / InputFileError: on any bad sheet; nothing is returned then.
    """
    index = load_publications(unique_path)
    known_studies = load_baseline_study_ids(baseline_studies)
    problems = ProblemCollector(log)
    by_stage: dict[str, dict[str, list[Decision]]] = {s: defaultdict(list) for s in STAGES}
    adjudications: dict[str, dict[str, Decision]] = {s: {} for s in STAGES}
    for path in sorted(map(str, sheet_files)):
        try:
            rows = read_sheet(path, settings, index, problems)
        except InputFileError as error:  # whole-file problems: encoding, columns, unknown reviewer
            problems.add_error(error)
            continue
        for d in rows:
            if d.adjudicated:
                adjudications[d.stage][d.publication_id] = d
            else:
                by_stage[d.stage][d.publication_id].append(d)
    problems.raise_any()

    ta: dict[str, StageOutcome] = {}
    ft: dict[str, StageOutcome] = {}
    for pid in index.rows:
        ta[pid] = resolve_stage(
            by_stage[TITLE_ABSTRACT].get(pid, []), adjudications[TITLE_ABSTRACT].get(pid), settings
        )
    passed = {pid for pid, o in ta.items() if o.state == "final" and o.decision != "exclude"}
    for pid in sorted(set(by_stage[FULL_TEXT]) | set(adjudications[FULL_TEXT])):
        if pid in passed:
            continue
        outcome = ta[pid]
        state = (
            ("excluded" if outcome.decision == "exclude" else outcome.state)
            if outcome.state == "final"
            else (
                "awaiting the second reviewer"
                if outcome.state == "pending" and outcome.decisions
                else "in conflict"
                if outcome.state == "conflict"
                else "not screened"
            )
        )
        for d in [
            *by_stage[FULL_TEXT].get(pid, []),
            *filter(None, [adjudications[FULL_TEXT].get(pid)]),
        ]:
            problems.add(
                d.path,
                f"full-text decision on publication {pid}, which is not included at title/abstract "
                f"({state}); decide title/abstract first or remove this row",
                line=d.line,
                field="record_id",
                value=d.record_id,
            )
    problems.raise_any()
    for pid in passed:
        ft[pid] = resolve_stage(
            by_stage[FULL_TEXT].get(pid, []), adjudications[FULL_TEXT].get(pid), settings
        )

    status_rows: list[dict[str, object]] = []
    conflict_rows: list[dict[str, object]] = []
    included_rows: list[dict[str, object]] = []
    waiting: dict[tuple[str, str], list[str]] = {
        (s, r): [] for s in STAGES for r in settings.reviewers
    }
    reasons = settings.exclusion_reasons
    for pid, row in index.rows.items():
        t = ta[pid]
        f = ft.get(pid)
        status, final, open_conflict, awaiting = "", None, "", []
        if t.state != "final":
            status = AWAITING_TITLE_ABSTRACT
            stage_now, outcome_now = TITLE_ABSTRACT, t
        elif t.decision == "exclude":
            status, final = EXCLUDED_TITLE_ABSTRACT, t
            stage_now, outcome_now = "", None
        else:
            assert f is not None
            stage_now, outcome_now = (FULL_TEXT, f) if f.state != "final" else ("", None)
            if f.state != "final":
                status = AWAITING_FULL_TEXT
            else:
                final = f
                status = {
                    "include": INCLUDED,
                    "exclude": EXCLUDED_FULL_TEXT,
                    "not_retrieved": FULL_TEXT_NOT_RETRIEVED,
                }[f.decision]
        if outcome_now is not None:
            if outcome_now.state == "conflict":
                open_conflict = stage_now
            else:
                decided = [d.reviewer for d in outcome_now.decisions]
                awaiting = [
                    r for r in assigned_reviewers(pid, decided, settings) if r not in decided
                ]
                for reviewer in awaiting:
                    waiting[(stage_now, reviewer)].append(pid)
        for stage, outcome in ((TITLE_ABSTRACT, t), (FULL_TEXT, f)):
            if outcome is not None and outcome.conflict_kind:
                adj = outcome.adjudication
                conflict_rows.append(
                    {
                        "publication_id": pid,
                        "stage": stage,
                        "kind": outcome.conflict_kind,
                        "state": "adjudicated" if adj else "open",
                        "decisions": "; ".join(d.describe() for d in outcome.decisions),
                        "adjudication": f"{adj.describe()} on {adj.decided_on}" if adj else "",
                        "title": row.get("title", ""),
                    }
                )
        reason = final.reason if final is not None and final.decision == "exclude" else ""
        status_rows.append(
            {
                "publication_id": pid,
                "first_run": row.get("first_run", ""),
                "sources": row.get("sources", ""),
                "member_record_ids": row.get("member_record_ids", ""),
                "status": status,
                "exclusion_reason": reason,
                "exclusion_reason_label": "; ".join(reasons.get(r, r) for r in split_multi(reason)),
                "study_id": final.study_id if status == INCLUDED and final else "",
                "decided_by": final.decided_by if final else "",
                "decided_on": final.decided_on if final else "",
                "title_abstract_decision": t.decision if t.state == "final" else "",
                "title_abstract_decided_by": t.decided_by if t.state == "final" else "",
                "title_abstract_decided_on": t.decided_on if t.state == "final" else "",
                "open_conflict": open_conflict,
                "awaiting_reviewers": "; ".join(awaiting),
                "title": row.get("title", ""),
            }
        )
        if status == INCLUDED and final is not None:
            included_rows.append(
                {
                    "publication_id": pid,
                    "record_ids": row.get("member_record_ids", "") or pid,
                    "pmid": row.get("pmid", ""),
                    "doi": row.get("doi", ""),
                    "study_id": final.study_id,
                    "new_study": "no" if final.study_id in known_studies else "yes",
                    "decided_by": final.decided_by,
                    "decided_on": final.decided_on,
                    "first_author": row.get("first_author", ""),
                    "year": row.get("year", ""),
                    "title": row.get("title", ""),
                }
            )
    included_rows.sort(key=lambda r: (str(r["study_id"]), str(r["publication_id"])))

    # Ranking: learnt from every final decision (included vs excluded anywhere).
    terms = {pid: ranking_terms(row) for pid, row in index.rows.items()}
    labelled = sorted(
        pid
        for pid, s in ((r["publication_id"], r["status"]) for r in status_rows)
        if s in (INCLUDED, EXCLUDED_TITLE_ABSTRACT, EXCLUDED_FULL_TEXT)
    )
    status_of = {r["publication_id"]: r["status"] for r in status_rows}
    positives = [terms[p] for p in labelled if status_of[p] == INCLUDED]
    negatives = [terms[p] for p in labelled if status_of[p] != INCLUDED]
    weights = (
        learn_weights(positives, negatives, settings.ranking) if settings.ranking.enabled else {}
    )
    evaluation = (
        evaluate_ranking(positives, negatives, settings.ranking) if settings.ranking.enabled else []
    )
    weight_rows = [
        {
            "term": w.term,
            "n_included": w.n_included,
            "n_excluded": w.n_excluded,
            "weight": f"{w.weight:.4f}",
        }
        for w in sorted(weights.values(), key=lambda w: (-w.weight, w.term))
    ]

    possible_duplicates = possible_duplicate_hints(maybe_path)
    queue_columns = (
        QUEUE_COLUMNS
        if settings.blinded
        else (*QUEUE_COLUMNS[:5], OTHER_DECISIONS_COLUMN, *QUEUE_COLUMNS[5:])
    )
    outcomes = {TITLE_ABSTRACT: ta, FULL_TEXT: ft}
    queues: dict[tuple[str, str], list[dict[str, object]]] = {}
    for (stage, reviewer), pids in waiting.items():
        scored = sorted(
            ((score_terms(terms[p], weights), p) for p in pids),
            key=lambda item: (-item[0], index.rows[item[1]].get("first_run", ""), item[1]),
        )
        rows = []
        for rank, (score, pid) in enumerate(scored, start=1):
            rec = index.rows[pid]
            pubmed_url, doi_url = _links(rec)
            queue_row: dict[str, object] = {
                "record_id": pid,
                "rank": rank,
                "score": f"{score:.2f}",
                "score_terms": top_terms(terms[pid], weights, settings.ranking.terms_shown),
                "hints": "; ".join([*eligibility_hints(rec), *possible_duplicates.get(pid, [])]),
                "pubmed_url": pubmed_url,
                "doi_url": doi_url,
                **{
                    c: rec.get(c, "")
                    for c in (
                        "title",
                        "authors",
                        "journal",
                        "year",
                        "publication_types",
                        "language",
                        "first_run",
                        "member_record_ids",
                        "abstract",
                    )
                },
            }
            if not settings.blinded:
                queue_row[OTHER_DECISIONS_COLUMN] = "; ".join(
                    d.describe() for d in outcomes[stage][pid].decisions if d.reviewer != reviewer
                )
            rows.append(queue_row)
        queues[(stage, reviewer)] = rows

    run = settings.run_date.isoformat()
    new = [p for p, r in index.rows.items() if r.get("first_run", "") == run]
    counts = Counter(str(r["status"]) for r in status_rows)
    open_conflicts = sum(1 for c in conflict_rows if c["state"] == "open")
    parts = []
    for stage in STAGES:
        per = ", ".join(f"{r} {len(waiting[(stage, r)])}" for r in settings.reviewers)
        parts.append(f"{STAGE_LABELS[stage]}: {per}")
    new_waiting = Counter(r for (s, r), pids in waiting.items() for p in pids if p in set(new))
    new_text = ", ".join(f"{r} {new_waiting[r]}" for r in settings.reviewers)
    summary = (
        f"screening {run}: {len(new)} new publication(s) this run (waiting for {new_text}); "
        f"queued {'; '.join(parts)}; {open_conflicts} open conflict(s); "
        + ", ".join(f"{s} {counts.get(s, 0)}" for s in STATUSES)
    )
    return ScreeningResult(
        status=status_rows,
        conflicts=conflict_rows,
        included=included_rows,
        queues=queues,
        weights=weight_rows,
        evaluation=evaluation,
        summary=summary,
        queue_columns=queue_columns,
    )


def screening_guide(criteria: str, settings: ScreeningSettings) -> str:
    """Markdown guide for reviewers: the criteria, the reason ids and how to record decisions."""
    lines = [
        "# Screening guide",
        "",
        "Generated from config.yaml (`screening:`); edit the config, not this file.",
        "",
        "## Eligibility criteria",
        "",
        criteria.strip(),
        "",
        "## Exclusion reasons (column `reason`)",
        "",
        "| id | meaning |",
        "|---|---|",
        *(f"| `{ident}` | {label} |" for ident, label in settings.exclusion_reasons.items()),
        "",
        "## Recording a decision",
        "",
        f"Add one row per publication to `resources/screening/<stage>/<your id>.tsv` (reviewers: "
        f"{', '.join(settings.reviewers)}). Columns: {', '.join(DECISION_COLUMNS)}; full text adds "
        "`study_id`. Decisions: title/abstract include, exclude, maybe; full text include (with "
        "study_id), exclude (with reason), maybe (goes to adjudication), not_retrieved. "
        f"Screening is {'dual' if settings.dual else 'single'} and {'blinded' if settings.blinded else 'not blinded'}.",
        "",
    ]
    return "\n".join(lines)


def check_sheets(
    unique_path: str | Path,
    sheets: Sequence[str | Path],
    settings_params: Mapping[str, object],
    run_date: str,
    baseline_studies: str | Path,
) -> None:
    """Validate every decision and adjudication sheet exactly as :func:`screen` does, writing
    nothing (the ``check_screening_sheets`` rule; see :mod:`livingreview.checks`)."""
    settings = ScreeningSettings.from_params(settings_params, run_date)
    screen(unique_path, list(sheets), settings, baseline_studies)
