"""Intervals: exact ones for a single proportion, normal ones back-transformed from logits.

- :func:`clopper_pearson`: the exact binomial interval of one study arm, as R's
  ``binom.test`` gives it (the squares of the forest plots, ``study_proportions.tsv``).
- :func:`random_effects_result`: a pooled logit with its standard error and tau^2 turned into
  the estimate, 95% CI ``beta +/- z * se`` and 95% prediction interval
  ``beta +/- z * sqrt(se^2 + tau2)`` on the proportion scale, with the *normal* quantile
  ``z = 1.959964`` (metafor's default ``test = "z"``; no t quantile).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats
from scipy.special import expit

from .results import Pooled


def ilogit(x: float) -> float:
    """Inverse logit, stable for large |x|.

    >>> ilogit(0.0)
    0.5
    >>> round(ilogit(2.0), 6)
    0.880797
    """
    return float(expit(x))


def z_quantile(level: float = 0.95) -> float:
    """Two-sided normal critical value (1.959964 for 95%).

    >>> round(z_quantile(), 6)
    1.959964
    """
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def clopper_pearson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for ``events`` out of ``n``, as R's ``binom.test``.

    >>> clopper_pearson(0, 1)
    (0.0, 0.975)
    >>> [round(v, 6) for v in clopper_pearson(4, 10)]
    [0.121552, 0.737622]
    """
    if n < 1 or not 0 <= events <= n:
        raise ValueError(f"need 0 <= events <= n and n >= 1, got events={events}, n={n}")
    alpha = 1 - level
    low = 0.0 if events == 0 else float(stats.beta.ppf(alpha / 2, events, n - events + 1))
    high = 1.0 if events == n else float(stats.beta.ppf(1 - alpha / 2, events + 1, n - events))
    return low, high


def random_effects_result(
    method: str,
    events: Sequence[int],
    n: Sequence[int],
    beta: float,
    se: float,
    tau2: float,
    i2: float,
    q: float,
    q_p: float,
    level: float,
    message: str = "",
) -> Pooled:
    """A fitted random-effects logit model as a :class:`Pooled` on the proportion scale."""
    z = z_quantile(level)
    half_pi = z * math.sqrt(se**2 + tau2)
    return Pooled(
        method=method,
        k=len(n),
        n=int(sum(n)),
        events=int(sum(events)),
        estimate=ilogit(beta),
        ci_low=ilogit(beta - z * se),
        ci_high=ilogit(beta + z * se),
        pi_low=ilogit(beta - half_pi),
        pi_high=ilogit(beta + half_pi),
        tau2=float(tau2),
        i2=float(i2),
        q=float(q),
        q_p=float(q_p),
        message=message,
    )
