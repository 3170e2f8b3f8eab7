"""Thresholds and priorities of deduplication, as the config's ``dedup:`` section gives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds of the matching rules (all similarities on rapidfuzz's 0-100 scale).

    Defaults are the values tuned on the shared benchmark sets; config.yaml ``dedup:``
    carries the same values and their descriptions.
    """

    title_same: float = 90.0
    title_maybe: float = 75.0
    doi_title_min: float = 60.0
    author_min: float = 75.0
    short_title_words: int = 5
    max_block: int = 1000
    source_priority: tuple[str, ...] = ("pubmed",)

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
