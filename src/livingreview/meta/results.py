"""What the meta-analysis takes and gives: validated study counts and pooled estimates.

:class:`Pooled` is one method's result for one group; :class:`PooledRow` is the same as a row
of ``meta_analysis.tsv`` (and of ``bin/pool``'s output), in the column order :data:`COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

#: Column order of ``meta_analysis.tsv`` and of ``bin/pool``'s output.
COLUMNS: tuple[str, ...] = (
    "analysis",
    "subgroup",
    "method",
    "k",
    "n",
    "events",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "tau2",
    "i2",
    "q",
    "q_p",
)
#: Methods in output order.
METHODS: tuple[str, ...] = ("DL", "REML", "GLMM")
#: Columns an input table must have.
INPUT_COLUMNS: tuple[str, ...] = ("study", "subgroup", "n", "events")


@dataclass(frozen=True)
class StudyCount:
    """One validated input row."""

    study: str
    subgroup: str
    n: int
    events: int
    line: int | None = None


class PooledRow(TypedDict):
    """One row of ``meta_analysis.tsv``: one method's pooled proportion for one group.

    Proportions are back-transformed from the logit scale; ``tau2`` is on the logit scale,
    ``i2`` in percent. Every statistic is ``None`` for a GLMM that did not converge.
    """

    analysis: str
    subgroup: str
    method: str
    k: int
    n: int
    events: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_p: float | None


@dataclass(frozen=True)
class Pooled:
    """One method's pooled result for one group; statistics are ``None`` when not available."""

    method: str
    k: int
    n: int
    events: int
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    tau2: float | None = None
    i2: float | None = None
    q: float | None = None
    q_p: float | None = None
    converged: bool = True
    message: str = ""

    def as_row(self, analysis: str, subgroup: str) -> PooledRow:
        """The result as a ``meta_analysis.tsv`` row (keys in :data:`COLUMNS` order)."""
        return PooledRow(
            analysis=analysis,
            subgroup=subgroup,
            method=self.method,
            k=self.k,
            n=self.n,
            events=self.events,
            estimate=self.estimate,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            pi_low=self.pi_low,
            pi_high=self.pi_high,
            tau2=self.tau2,
            i2=self.i2,
            q=self.q,
            q_p=self.q_p,
        )
