"""Inverse-variance random-effects models on the logit scale: DerSimonian-Laird and REML.

As R's ``metafor::rma(xi, ni, measure = "PLO", method = "DL" | "REML")`` (metafor 3.8)
computes them:

* ``yi = log(x / (n - x))``, ``vi = 1/x + 1/(n - x)``; a study with 0 or n events gets 0.5
  added to both cells first (metafor's defaults ``add = 1/2, to = "only0"``); all other
  studies are left alone.
* ``q``: Cochran's Q with fixed-effect weights ``1/vi``, ``q_p`` its upper chi-square(k-1)
  tail. Q is the same for DL and REML.
* DL: ``tau2 = max(0, (Q - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))``.
* REML: metafor's own Fisher scoring, reproduced step by step (start at the Hedges
  estimate truncated at 0, step ``(y'PPy - tr P) / tr(PP)``, halve a step that would go
  below 0, stop when the change is below 1e-5, then metafor's check that the restricted
  likelihood at ``tau2 = 0`` is not higher), so ties and near-flat likelihoods resolve as
  in metafor.  If scoring does not converge in 100 steps (metafor stops with an error),
  the restricted likelihood is maximised directly instead and a warning is logged.
* ``i2 = 100 * tau2 / (vt + tau2)`` with ``vt = (k - 1) / (sum(w) - sum(w^2)/sum(w))``
  (metafor's definition, in percent); for DL it equals ``max(0, (Q - df) / Q)``.
* intervals: :func:`livingreview.meta.intervals.random_effects_result`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

from .intervals import random_effects_result
from .results import Pooled

log = logging.getLogger(__name__)

#: metafor's continuity correction for measure="PLO" (add = 1/2, to = "only0").
CONTINUITY = 0.5
#: metafor's tolerance (.Machine$double.eps^0.25) for its REML "ll0check".
LL0_TOL = 2.0**-13
#: metafor's Fisher scoring: stop when tau2 changes less than this...
REML_THRESHOLD = 1e-5
#: ...within this many steps.
REML_MAX_STEPS = 100


def logit_effects(events: Sequence[int], n: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Logit proportions and their variances, with metafor's 0.5 added only to 0 / n studies.

    >>> yi, vi = logit_effects([0, 2], [4, 4])
    >>> [round(float(v), 6) for v in yi], [round(float(v), 6) for v in vi]
    ([-2.197225, 0.0], [2.222222, 1.0])
    """
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float) - x
    extreme = (x == 0) | (m == 0)
    x = np.where(extreme, x + CONTINUITY, x)
    m = np.where(extreme, m + CONTINUITY, m)
    return np.log(x / m), 1.0 / x + 1.0 / m


def typical_variance(vi: np.ndarray) -> float:
    """metafor's 'typical' within-study variance (k - 1) / tr(P), the ``vt`` of I^2.

    >>> typical_variance(np.array([1.0, 1.0, 1.0]))
    1.0
    """
    w = 1.0 / vi
    return float((len(vi) - 1) / (w.sum() - (w**2).sum() / w.sum()))


def cochran_q(yi: np.ndarray, vi: np.ndarray) -> tuple[float, float]:
    """Cochran's Q with fixed-effect weights and its chi-square(k-1) upper-tail p-value."""
    w = 1.0 / vi
    mean = (w * yi).sum() / w.sum()
    q = float((w * (yi - mean) ** 2).sum())
    return q, float(stats.chi2.sf(q, len(yi) - 1))


def tau2_dl(yi: np.ndarray, vi: np.ndarray) -> float:
    """DerSimonian-Laird between-study variance, truncated at 0."""
    w = 1.0 / vi
    q, _ = cochran_q(yi, vi)
    return float(max(0.0, (q - (len(yi) - 1)) / (w.sum() - (w**2).sum() / w.sum())))


def reml_loglik(tau2: float, yi: np.ndarray, vi: np.ndarray) -> float:
    """The restricted log-likelihood of the random-effects model at ``tau2``."""
    w = 1.0 / (vi + tau2)
    mean = (w * yi).sum() / w.sum()
    return float(
        -0.5 * (len(yi) - 1) * math.log(2 * math.pi)
        - 0.5 * np.log(vi + tau2).sum()
        - 0.5 * math.log(w.sum())
        - 0.5 * (w * (yi - mean) ** 2).sum()
    )


def _fisher_scoring(yi: np.ndarray, vi: np.ndarray) -> float | None:
    """metafor's REML Fisher scoring from the truncated Hedges estimate; None if it does not
    converge within :data:`REML_MAX_STEPS` steps."""
    k = len(yi)
    centred = yi - yi.mean()
    hedges = ((centred**2).sum() - (k - 1) / k * vi.sum()) / (k - 1)
    tau2 = max(0.0, float(hedges))
    for _ in range(REML_MAX_STEPS):
        old = tau2
        w = 1.0 / (vi + tau2)
        sw = w.sum()
        py = w * (yi - (w * yi).sum() / sw)  # P y
        tr_p = sw - (w**2).sum() / sw
        tr_pp = (w**2).sum() - 2 * (w**3).sum() / sw + ((w**2).sum() / sw) ** 2
        adj = float(((py**2).sum() - tr_p) / tr_pp)
        if not math.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        if abs(old - tau2) <= REML_THRESHOLD:
            return tau2
    return None


def _maximise_reml(yi: np.ndarray, vi: np.ndarray) -> float:
    """tau2 maximising the restricted likelihood directly (when scoring fails)."""
    upper = max(10.0, 10 * float(np.var(yi)) + 10 * float(vi.max()))
    found = optimize.minimize_scalar(
        lambda t: -reml_loglik(t, yi, vi),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": 1e-10},
    )
    tau2 = float(found.x)
    if reml_loglik(0.0, yi, vi) >= reml_loglik(tau2, yi, vi):
        tau2 = 0.0
    return tau2


def tau2_reml(yi: np.ndarray, vi: np.ndarray, label: str = "") -> float:
    """REML between-study variance by metafor's Fisher scoring (see module docstring)."""
    tau2 = _fisher_scoring(yi, vi)
    if tau2 is None:
        log.warning(
            "%sREML Fisher scoring did not converge in %d steps (metafor would stop here); "
            "maximising the restricted likelihood directly",
            label,
            REML_MAX_STEPS,
        )
        return _maximise_reml(yi, vi)
    # metafor's ll0check: scoring may stop at a local maximum above a better tau2 = 0.
    if tau2 > REML_THRESHOLD and reml_loglik(0.0, yi, vi) - reml_loglik(tau2, yi, vi) > LL0_TOL:
        log.warning(
            "%sREML scoring stopped at a local maximum; setting tau2 = 0 as metafor does", label
        )
        tau2 = 0.0
    return tau2


def pool_inverse_variance(
    events: Sequence[int],
    n: Sequence[int],
    method: str = "REML",
    level: float = 0.95,
    label: str = "",
) -> Pooled:
    """Random-effects pooling on the logit scale with DL or REML tau^2 (metafor rma.uni)."""
    if method not in ("DL", "REML"):
        raise ValueError(f"method must be DL or REML, got {method!r}")
    yi, vi = logit_effects(events, n)
    q, q_p = cochran_q(yi, vi)
    tau2 = tau2_dl(yi, vi) if method == "DL" else tau2_reml(yi, vi, label)
    w = 1.0 / (vi + tau2)
    beta = float((w * yi).sum() / w.sum())
    se = math.sqrt(1.0 / w.sum())
    i2 = 100.0 * tau2 / (typical_variance(vi) + tau2)
    return random_effects_result(method, events, n, beta, se, tau2, i2, q, q_p, level)
