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
from ..schema import schema_defaults
from ..text import PERSON_ID_RULE, usable_person_id
from .vocabulary import STAGES

#: The schema's defaults of ``screening.ranking``: the only place they are set.
_RANKING = schema_defaults()["screening"]["ranking"]


@dataclass(frozen=True)
class RankingSettings:
    """Options of the transparent ranking score (see :func:`~.ranking.learn_weights`);
    defaults are the schema's."""

    enabled: bool = _RANKING["enabled"]
    shrinkage: float = _RANKING["shrinkage"]
    min_document_frequency: int = _RANKING["min_document_frequency"]
    folds: int = _RANKING["folds"]
    terms_shown: int = _RANKING["terms_shown"]


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
        """Build from :func:`screening_params` (and the ``run_date`` and ``clock_date`` keys;
        an empty clock date means no clock check); raise ConfigError on what the schema
        cannot check. Every key must be there: defaults come from the schema alone."""
        reviewers = tuple(str(r) for r in params["reviewers"])
        baseline = str(params["baseline_reviewer"])
        _check_people(reviewers, baseline)
        dual = bool(params["dual"])
        if dual and len(reviewers) < 2:
            raise ConfigError(
                "screening.dual",
                "dual screening needs at least two reviewers",
                "list two reviewers or set dual: false",
            )
        return cls(
            reviewers=reviewers,
            dual=dual,
            blinded=bool(params["blinded"]),
            baseline_reviewer=baseline,
            exclusion_reasons=_exclusion_reasons(params["exclusion_reasons"]),
            run_date=_iso_date("run_date", run_date),
            ranking=RankingSettings(**dict(params["ranking"])),
            clock_date=_iso_date("clock_date", clock_date) if clock_date else None,
        )


#: The keys of the ``screening:`` section that make the stage's settings (the others name
#: folders, or people and words only the reviewers' desk uses).
SETTINGS_KEYS: tuple[str, ...] = (
    "reviewers",
    "dual",
    "blinded",
    "baseline_reviewer",
    "exclusion_reasons",
    "ranking",
)


def screening_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """The screening stage's settings as its rules pass them (``params.settings``), taken
    from the validated config, whose schema defaults :func:`livingreview.config.validate_config`
    filled in: the one place that says which keys they are, for every rule and the desk."""
    section = config["screening"]
    return {key: section[key] for key in SETTINGS_KEYS}


def screening_settings(config: Mapping[str, Any]) -> ScreeningSettings:
    """The checked settings of the validated config (its ``run_date``; no clock check)."""
    return ScreeningSettings.from_params(screening_params(config), str(config["run_date"]))


def _check_people(reviewers: tuple[str, ...], baseline: str) -> None:
    """Reviewer ids name sheet files: usable, unique, and not the baseline reviewer's."""
    if not reviewers:
        raise ConfigError("screening.reviewers", "no reviewer listed", "at least one reviewer id")
    for key, ident in [
        *(("screening.reviewers", r) for r in reviewers),
        ("screening.baseline_reviewer", baseline),
    ]:
        if not usable_person_id(ident):
            raise ConfigError(key, f"id {ident!r} is not usable as a sheet name", PERSON_ID_RULE)
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
