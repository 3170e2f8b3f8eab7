"""Thresholds and priorities of deduplication, as the config's ``dedup:`` section gives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..schema import schema_defaults

#: Keys of the ``dedup:`` section that are not matching settings: the verdicts sheet (an
#: input of the rules) and the people who write it on the reviewers' desk (no rule reads them).
NOT_MATCHING: tuple[str, ...] = ("verdicts", "data_managers")


def match_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """The dedup stage's matching settings as its rules pass them (``params.settings``), from
    the validated config (schema defaults filled in): one function for the rules and the desk."""
    return {key: value for key, value in config["dedup"].items() if key not in NOT_MATCHING}


#: The schema's defaults of the matching settings (``dedup:``): the only place they are set.
_DEFAULTS = match_params(schema_defaults())


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds of the matching rules (all similarities on rapidfuzz's 0-100 scale).

    Defaults are the schema's (``workflow/schemas/config.schema.yaml``, ``dedup:``): the values
    tuned on the shared benchmark sets.
    """

    title_same: float = _DEFAULTS["title_same"]
    title_maybe: float = _DEFAULTS["title_maybe"]
    doi_title_min: float = _DEFAULTS["doi_title_min"]
    author_min: float = _DEFAULTS["author_min"]
    short_title_words: int = _DEFAULTS["short_title_words"]
    max_block: int = _DEFAULTS["max_block"]
    source_priority: tuple[str, ...] = tuple(_DEFAULTS["source_priority"])

    def __post_init__(self) -> None:
        for name in ("title_same", "title_maybe", "doi_title_min", "author_min"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ConfigError(f"dedup.{name}", f"{value!r} is outside 0-100", "0 to 100")
        if self.title_maybe > self.title_same:
            raise ConfigError(
                "dedup.title_maybe",
                f"{self.title_maybe} is above dedup.title_same ({self.title_same})",
                "a value not above title_same",
            )
        if self.max_block < 2:
            raise ConfigError(
                "dedup.max_block", f"{self.max_block!r} is below 2", "an integer >= 2"
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MatchSettings:
        """The checked settings of the validated config's ``dedup:`` section."""
        return cls.from_params(match_params(config))

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> MatchSettings:
        """Build from the ``dedup:`` config section (as passed through ``params:``)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"dedup.{unknown[0]}", "is not a known setting", ", ".join(sorted(known))
            )
        values = dict(params)
        if "source_priority" in values:
            values["source_priority"] = tuple(values["source_priority"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]
