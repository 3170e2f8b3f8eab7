"""The ``screening:`` config section as checked settings, and where the stage's files live.

The config schema checks shapes and types; :meth:`ScreeningSettings.from_params` checks what
a schema cannot say (dual screening needs two reviewers, ids usable as file names, the
baseline reviewer is nobody's queue), before any job runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .vocabulary import ADJUDICATION_FILE, PERSON_ID, STAGES


@dataclass(frozen=True)
class RankingSettings:
    """Options of the transparent ranking score (see :func:`~.ranking.learn_weights`)."""

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
    #: Today's date, set only where a clock is legitimately read (the check job when it runs,
    #: the reviewers' desk). A decision dated after it is an error; None: no such check.
    #: (Every decision counts whatever its date: ``run_date`` only chooses the searches.)
    clock_date: dt.date | None = None

    @property
    def decisions_needed(self) -> int:
        """Independent decisions a publication needs at each stage (2 when dual)."""
        return 2 if self.dual else 1

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], run_date: str, clock_date: str = ""
    ) -> ScreeningSettings:
        """Build from the config section (and the ``run_date`` and ``clock_date`` keys; an
        empty clock date means no clock check); raise ConfigError on what the schema cannot
        check."""
        reviewers = tuple(str(r) for r in params.get("reviewers", ()))
        baseline = str(params.get("baseline_reviewer", ""))
        _check_people(reviewers, baseline)
        dual = bool(params.get("dual", True))
        if dual and len(reviewers) < 2:
            raise ConfigError(
                "screening.dual",
                "dual screening needs at least two reviewers",
                "list two reviewers or set dual: false",
            )
        return cls(
            reviewers=reviewers,
            dual=dual,
            blinded=bool(params.get("blinded", True)),
            baseline_reviewer=baseline,
            exclusion_reasons=_exclusion_reasons(params.get("exclusion_reasons", ())),
            run_date=_iso_date("run_date", run_date),
            ranking=RankingSettings(**dict(params.get("ranking", {}) or {})),
            clock_date=_iso_date("clock_date", clock_date) if clock_date else None,
        )


def _check_people(reviewers: tuple[str, ...], baseline: str) -> None:
    """Reviewer ids name sheet files: usable, unique, and not the baseline reviewer's."""
    if not reviewers:
        raise ConfigError("screening.reviewers", "no reviewer listed", "at least one reviewer id")
    for key, ident in [
        *(("screening.reviewers", r) for r in reviewers),
        ("screening.baseline_reviewer", baseline),
    ]:
        if not PERSON_ID.match(ident) or ident == Path(ADJUDICATION_FILE).stem:
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


def _exclusion_reasons(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{id: label}`` of ``screening.exclusion_reasons``, ids unique, at least one."""
    reasons: dict[str, str] = {}
    for item in items:
        ident, label = str(item["id"]), str(item["label"])
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
    return reasons


def _iso_date(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(key, f"{value!r} is not a date", "YYYY-MM-DD") from None


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
