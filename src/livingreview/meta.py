"""Random-effects meta-analysis of single proportions (the review's remission rate).

Consumes study-level counts (rows with ``study, subgroup, n, events``; from a TSV such as
``bin/pool STUDIES.tsv`` or a pandas DataFrame built by the synthesis rule) and produces one
block of rows per subgroup in the ``meta_analysis.tsv`` layout (:data:`COLUMNS`), one row per
method:

``DL``, ``REML``
    Inverse-variance random-effects model on the logit scale, as R's
    ``metafor::rma(xi, ni, measure = "PLO", method = "DL" | "REML")`` (metafor 3.8) computes it:

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
    * 95% CI ``beta +/- z * se`` and 95% prediction interval
      ``beta +/- z * sqrt(se^2 + tau2)`` with the *normal* quantile ``z = 1.959964`` (metafor's
      default ``test = "z"``; no t quantile), then back-transformed with the inverse logit.

``GLMM``
    The binomial-normal model ``x_i ~ Bin(n_i, ilogit(beta + u_i))``, ``u_i ~ N(0, tau2)``,
    fitted by maximum likelihood as ``metafor::rma.glmm(xi, ni, measure = "PLO")`` does it:
    ``lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study), family = binomial, nAGQ = 7)``, i.e. the
    likelihood is lme4's *adaptive* 7-point Gauss-Hermite approximation (nodes centred at each
    study's conditional mode, scaled by the conditional standard deviation ``1/L_i``).  This
    module evaluates exactly that deviance (checked against lme4's own deviance function),
    maximises it over ``(theta = sqrt(tau2) >= 0, beta)`` (profile over a grid of theta from
    0 to 8, then a joint Nelder-Mead polish; it usually ends slightly *closer* to the optimum
    than lme4's own optimiser, hence agreement to ~1e-4 rather than 1e-10), snaps ``theta`` to 0 when it is
    within 1e-5 of the boundary and the deviance is no worse (lme4's ``boundary.tol``), and
    takes ``se(beta)`` from the inverse of the central finite-difference Hessian of the
    deviance in ``(theta, beta)`` with step 1e-4 (lme4's ``vcov()`` default), falling back to
    the conditional variance ``1 / sum(w_i / (1 + tau2 w_i))`` when that Hessian is not
    invertible (lme4's "falling back to var-cov estimated from RX").  ``i2`` uses the
    ``vt`` of the (0.5-corrected) logits as above, the intervals are formed as for DL/REML,
    and ``q``/``q_p`` are rma.glmm's likelihood-ratio test for heterogeneity (``QE.LRT``:
    the deviance of the common-proportion binomial model, chi-square with k - 1 df; the
    Wald-type ``QE.Wld`` is not reported because it is undefined when a study has 0 or n
    events).  The raw counts are used; no 0.5 is added for the GLMM itself.

    "Did not converge" (the GLMM row keeps ``k, n, events`` and leaves every statistic empty;
    :class:`Pooled` carries the reason) when: every study has 0 events or every study has all
    events (no finite estimate; rma.glmm stops with "Cannot fit ML model"); every study has
    n = 1 (tau2 is not identifiable from single Bernoulli outcomes); the optimiser fails; or,
    away from the boundary (theta >= 1e-4), the deviance Hessian has a negative or
    (|eigenvalue| < 1e-6) zero eigenvalue, which lme4 reports as "Model failed to converge" /
    "Hessian is numerically singular: parameters are not uniquely determined".

Validation (:func:`validate_rows`): ``n`` is an integer >= 1, ``events`` an integer in
``0..n``, ``study`` is not empty and not repeated within a subgroup, and every subgroup has
at least 2 studies; each error names the file, line, field and value.

Reference values computed with R (metafor 3.8-1, lme4 1.1-31) are in
``tests/fixtures/metafor/`` together with the R script that made them.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, xlogy

from .errors import InputFileError, ReviewError, ValidationError
from .io import read_tsv, write_tsv

log = logging.getLogger(__name__)

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

#: metafor's continuity correction for measure="PLO" (add = 1/2, to = "only0").
CONTINUITY = 0.5
#: Number of adaptive Gauss-Hermite points rma.glmm asks lme4 for (nAGQ = 7).
N_AGQ = 7
#: lme4 glmerControl(boundary.tol): theta this close to 0 is set to 0 if no worse.
BOUNDARY_TOL = 1e-5
#: lme4 isSingular() tolerance: below it the Hessian check is skipped ("singular fit").
SINGULAR_TOL = 1e-4
#: lme4 check.conv.hess tolerance on Hessian eigenvalues.
HESSIAN_TOL = 1e-6
#: metafor's tolerance (.Machine$double.eps^0.25) for its REML "ll0check".
LL0_TOL = 2.0**-13
#: lme4 deriv12() finite-difference step.
FD_STEP = 1e-4


@dataclass(frozen=True)
class StudyCount:
    """One validated input row."""

    study: str
    subgroup: str
    n: int
    events: int
    line: int | None = None


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

    def as_row(self, analysis: str, subgroup: str) -> dict[str, Any]:
        """The result as a ``meta_analysis.tsv`` row (keys in :data:`COLUMNS` order)."""
        row: dict[str, Any] = {"analysis": analysis, "subgroup": subgroup}
        for column in COLUMNS[2:]:
            row[column] = getattr(self, column)
        return row


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def ilogit(x: float) -> float:
    """Inverse logit, stable for large |x|.

    >>> ilogit(0.0)
    0.5
    >>> round(ilogit(2.0), 6)
    0.880797
    """
    return float(expit(x))


def z_quantile(level: float = 0.95) -> float:
    """Two-sided normal critical value (1.959964 for 95%)."""
    return float(stats.norm.ppf(1 - (1 - level) / 2))


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


def _vt(vi: np.ndarray) -> float:
    """metafor's 'typical' within-study variance (k - 1) / tr(P) used for I^2."""
    w = 1.0 / vi
    return (len(vi) - 1) / (w.sum() - (w**2).sum() / w.sum())


def cochran_q(yi: np.ndarray, vi: np.ndarray) -> tuple[float, float]:
    """Cochran's Q with fixed-effect weights and its chi-square(k-1) upper-tail p-value."""
    w = 1.0 / vi
    mean = (w * yi).sum() / w.sum()
    q = float((w * (yi - mean) ** 2).sum())
    return q, float(stats.chi2.sf(q, len(yi) - 1))


# --------------------------------------------------------------------------------------
# DL and REML
# --------------------------------------------------------------------------------------


def tau2_dl(yi: np.ndarray, vi: np.ndarray) -> float:
    """DerSimonian-Laird between-study variance, truncated at 0."""
    w = 1.0 / vi
    q, _ = cochran_q(yi, vi)
    return max(0.0, (q - (len(yi) - 1)) / (w.sum() - (w**2).sum() / w.sum()))


def _reml_loglik(tau2: float, yi: np.ndarray, vi: np.ndarray) -> float:
    w = 1.0 / (vi + tau2)
    mean = (w * yi).sum() / w.sum()
    return float(
        -0.5 * (len(yi) - 1) * math.log(2 * math.pi)
        - 0.5 * np.log(vi + tau2).sum()
        - 0.5 * math.log(w.sum())
        - 0.5 * (w * (yi - mean) ** 2).sum()
    )


def tau2_reml(yi: np.ndarray, vi: np.ndarray, label: str = "") -> float:
    """REML between-study variance by metafor's Fisher scoring (see module docstring)."""
    k = len(yi)
    threshold, max_iter = 1e-5, 100
    centred = yi - yi.mean()
    hedges = ((centred**2).sum() - (k - 1) / k * vi.sum()) / (k - 1)
    tau2 = max(0.0, hedges)
    converged = False
    for _ in range(max_iter):
        old = tau2
        w = 1.0 / (vi + tau2)
        sw = w.sum()
        py = w * (yi - (w * yi).sum() / sw)  # P y
        tr_p = sw - (w**2).sum() / sw
        tr_pp = (w**2).sum() - 2 * (w**3).sum() / sw + ((w**2).sum() / sw) ** 2
        adj = ((py**2).sum() - tr_p) / tr_pp
        if not math.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        if abs(old - tau2) <= threshold:
            converged = True
            break
    if not converged:
        log.warning(
            "%sREML Fisher scoring did not converge in %d steps (metafor would stop here); "
            "maximising the restricted likelihood directly",
            label,
            max_iter,
        )
        upper = max(10.0, 10 * float(np.var(yi)) + 10 * float(vi.max()))
        found = optimize.minimize_scalar(
            lambda t: -_reml_loglik(t, yi, vi),
            bounds=(0.0, upper),
            method="bounded",
            options={"xatol": 1e-10},
        )
        tau2 = float(found.x)
        if _reml_loglik(0.0, yi, vi) >= _reml_loglik(tau2, yi, vi):
            tau2 = 0.0
        return tau2
    # metafor's ll0check: scoring may stop at a local maximum above a better tau2 = 0.
    if tau2 > threshold and _reml_loglik(0.0, yi, vi) - _reml_loglik(tau2, yi, vi) > LL0_TOL:
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
    vt = _vt(vi)
    return _finish(method, events, n, beta, se, tau2, 100.0 * tau2 / (vt + tau2), q, q_p, level)


def _finish(
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


# --------------------------------------------------------------------------------------
# Binomial-normal GLMM (lme4's adaptive Gauss-Hermite deviance)
# --------------------------------------------------------------------------------------


def _gh_rule(order: int = N_AGQ) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for the standard normal (lme4's GHrule)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / math.sqrt(2 * math.pi)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


class BinomialNormalModel:
    """lme4's nAGQ deviance for ``cbind(x, n - x) ~ 1 + (1 | study)``, binomial logit.

    The deviance is relative to the saturated model (lme4's convention), so that
    ``-deviance / 2`` differs from the log-likelihood by a constant.
    """

    def __init__(self, events: Sequence[int], n: Sequence[int], n_agq: int = N_AGQ):
        self.x = np.asarray(events, dtype=float)
        self.n = np.asarray(n, dtype=float)
        self.m = self.n - self.x
        y = self.x / self.n
        # Saturated part of the binomial deviance residuals (0 log 0 = 0).
        self._sat = xlogy(self.x, y) + xlogy(self.m, 1 - y)
        self._u = np.zeros_like(self.x)  # last conditional modes: warm start for the next call
        self.nodes, self.weights = _gh_rule(n_agq)

    def _dev_resid(self, eta: np.ndarray) -> np.ndarray:
        # 2 * [x log(y/mu) + (n - x) log((1 - y)/(1 - mu))], with log mu = -softplus(-eta)
        return 2 * (self._sat + self.x * _softplus(-eta) + self.m * _softplus(eta))

    def _modes(self, theta: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """Conditional modes u_i of dev_resid + u^2 and the curvature factors L_i."""
        u = self._u.copy()
        for _ in range(200):
            eta = beta + theta * u
            mu = expit(eta)
            grad = -2 * theta * (self.x - self.n * mu) + 2 * u
            hess = 2 * theta**2 * self.n * mu * (1 - mu) + 2
            step = grad / hess
            # g is strictly convex in u: a full Newton step never needs more than halving
            objective = self._dev_resid(eta) + u**2
            new_u = u - step
            new_obj = self._dev_resid(beta + theta * new_u) + new_u**2
            for _ in range(60):
                worse = new_obj > objective + 1e-12 * (1 + np.abs(objective))
                if not worse.any():
                    break
                step = np.where(worse, step / 2, step)
                new_u = u - step
                new_obj = self._dev_resid(beta + theta * new_u) + new_u**2
            u = new_u
            if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(u))):
                break
        if np.isfinite(u).all():
            self._u = u
        mu = expit(beta + theta * u)
        return u, np.sqrt(theta**2 * self.n * mu * (1 - mu) + 1)

    def deviance(self, theta: float, beta: float) -> float:
        """lme4's adaptive Gauss-Hermite deviance at (theta, beta); even in theta."""
        theta = abs(theta)
        u0, chol = self._modes(theta, beta)
        dev0 = self._dev_resid(beta + theta * u0) + u0**2
        sd = 1.0 / chol
        mult = np.zeros_like(u0)
        for z, weight in zip(self.nodes, self.weights):
            if z == 0:
                mult += weight
                continue
            u = u0 + z * sd
            dev = self._dev_resid(beta + theta * u) + u**2
            mult += weight * np.exp(0.5 * z**2 - 0.5 * (dev - dev0))
        return float(dev0.sum() + 2 * np.log(chol).sum() - 2 * np.log(mult).sum())

    def conditional_variance(self, theta: float, beta: float) -> float:
        """Var(beta | theta) from the penalised IRLS system (lme4's RX fallback)."""
        u, _ = self._modes(theta, beta)
        mu = expit(beta + theta * u)
        w = self.n * mu * (1 - mu)
        return float(1.0 / (w / (1 + theta**2 * w)).sum())

    def profile_beta(self, theta: float, start: float, tol: float = 1e-10) -> tuple[float, float]:
        """Beta minimising the deviance at fixed theta, and that deviance."""
        found = optimize.minimize_scalar(
            lambda b: self.deviance(theta, b),
            bracket=(start - 0.5, start + 0.5),
            tol=tol,
        )
        return float(found.x), float(found.fun)

    def hessian(self, theta: float, beta: float, step: float = FD_STEP) -> np.ndarray:
        """Central finite-difference Hessian in (theta, beta), as lme4's deriv12()."""
        point = np.array([theta, beta])
        f0 = self.deviance(theta, beta)
        h = np.zeros((2, 2))
        for j in range(2):
            up, down = point.copy(), point.copy()
            up[j] += step
            down[j] -= step
            h[j, j] = (self.deviance(*up) - 2 * f0 + self.deviance(*down)) / step**2
        aa, ass, sa, ss = (point + np.array(d) * step for d in ((1, 1), (1, -1), (-1, 1), (-1, -1)))
        cross = (
            self.deviance(*aa) - self.deviance(*ass) - self.deviance(*sa) + self.deviance(*ss)
        ) / (2 * step) ** 2
        h[0, 1] = h[1, 0] = cross
        return h


def _glmm_not_converged(events: Sequence[int], n: Sequence[int], reason: str) -> Pooled:
    return Pooled(
        method="GLMM",
        k=len(n),
        n=int(sum(n)),
        events=int(sum(events)),
        converged=False,
        message=f"GLMM did not converge: {reason}",
    )


def pool_glmm(events: Sequence[int], n: Sequence[int], level: float = 0.95) -> Pooled:
    """Binomial-normal GLMM estimate as rma.glmm(measure="PLO") (see module docstring)."""
    x = np.asarray(events, dtype=float)
    size = np.asarray(n, dtype=float)
    if x.sum() == 0 or x.sum() == size.sum():
        which = "0 events" if x.sum() == 0 else "all events"
        return _glmm_not_converged(
            events, n, f"every study has {which}, so the pooled logit has no finite estimate"
        )
    if (size == 1).all():
        return _glmm_not_converged(
            events, n, "every study has n = 1, so tau2 cannot be identified from the data"
        )
    model = BinomialNormalModel(events, n)
    start = math.log(x.sum() / (size.sum() - x.sum()))
    # Profile the deviance over a grid of theta (coarse in beta), then polish jointly.
    grid = np.concatenate(([0.0], np.geomspace(0.03, 8.0, 20)))
    profile = []
    beta = start
    for theta in grid:
        beta, dev = model.profile_beta(theta, beta, tol=1e-6)
        profile.append((dev, float(theta), beta))
    best = min(range(len(grid)), key=lambda i: profile[i][0])
    if best == len(grid) - 1:
        return _glmm_not_converged(events, n, "tau2 diverges (theta beyond 8 on the logit scale)")
    dev, theta, beta = profile[best]
    try:
        step = max(0.01, 0.25 * theta)
        polish = optimize.minimize(
            lambda p: model.deviance(abs(p[0]), p[1]),
            x0=np.array([theta, beta]),
            method="Nelder-Mead",
            options={
                "xatol": 1e-9,
                "fatol": 1e-12,
                "maxiter": 4000,
                "initial_simplex": np.array(
                    [[theta, beta], [theta + step, beta], [theta, beta + 0.1]]
                ),
            },
        )
    except (ArithmeticError, ValueError, RuntimeError) as exc:
        return _glmm_not_converged(events, n, f"the optimiser failed ({exc})")
    if not polish.success and polish.fun > dev:
        return _glmm_not_converged(events, n, f"the optimiser failed ({polish.message})")
    if polish.fun <= dev:
        theta, beta, dev = abs(float(polish.x[0])), float(polish.x[1]), float(polish.fun)
    if 0 < theta < BOUNDARY_TOL:
        beta0, dev0 = model.profile_beta(0.0, beta)
        if dev0 <= dev:
            theta, beta, dev = 0.0, beta0, dev0
    if not (math.isfinite(theta) and math.isfinite(beta) and math.isfinite(dev)):
        return _glmm_not_converged(events, n, "the deviance is not finite at the optimum")
    hessian = model.hessian(theta, beta)
    if theta >= SINGULAR_TOL:
        eigen = np.linalg.eigvalsh(hessian) if np.isfinite(hessian).all() else None
        if eigen is None:
            return _glmm_not_converged(events, n, "the Hessian has infinite or missing values")
        if (eigen < -HESSIAN_TOL).any():
            return _glmm_not_converged(events, n, "degenerate Hessian with negative eigenvalues")
        if (np.abs(eigen) < HESSIAN_TOL).any():
            return _glmm_not_converged(
                events,
                n,
                "the Hessian is numerically singular: parameters are not uniquely determined",
            )
    variance = None
    try:
        inverse = np.linalg.inv(hessian)
        candidate = 2 * inverse[1, 1]
        if math.isfinite(candidate) and candidate > 0:
            variance = candidate
    except np.linalg.LinAlgError:
        pass
    message = ""
    if variance is None:
        variance = model.conditional_variance(theta, beta)
        message = (
            "se from the conditional variance (Hessian not invertible), as lme4 falls back to RX"
        )
    tau2 = theta**2
    yi, vi = logit_effects(events, n)
    lrt = max(0.0, model.deviance(0.0, math.log(x.sum() / (size.sum() - x.sum()))))
    q_p = float(stats.chi2.sf(lrt, len(n) - 1))
    i2 = 100.0 * tau2 / (_vt(vi) + tau2)
    return _finish("GLMM", events, n, beta, math.sqrt(variance), tau2, i2, lrt, q_p, level, message)


# --------------------------------------------------------------------------------------
# Tables in, tables out
# --------------------------------------------------------------------------------------

_INTEGER = re.compile(r"^\s*\d+\s*$")


def _as_count(value: object) -> int | None:
    """A non-negative integer from a cell, or None when it is not one.

    >>> _as_count("12"), _as_count(3.0), _as_count("3.5"), _as_count("-1"), _as_count(True)
    (12, 3, None, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if value >= 0 else None
    if isinstance(value, (float, np.floating)):
        return (
            int(value)
            if math.isfinite(value) and float(value).is_integer() and value >= 0
            else None
        )
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


def _records(rows: Any) -> list[dict[str, Any]]:
    """Rows as dicts with a ``__line__`` (header = line 1) from a DataFrame or mappings."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        missing = [c for c in INPUT_COLUMNS if c not in rows.columns]
        if missing:
            raise InputFileError(
                "<table>",
                f"missing column(s) {', '.join(missing)}",
                line=1,
                allowed=", ".join(INPUT_COLUMNS),
            )
        records = rows.to_dict(orient="records")
    else:
        records = [dict(row) for row in rows]
    out = []
    for position, record in enumerate(records, start=2):
        record.setdefault("__line__", position)
        out.append(record)
    return out


def validate_rows(rows: Any, source: str | Path = "<table>") -> dict[str, list[StudyCount]]:
    """Check input rows and group them by subgroup (in order of first appearance).

    Raises:
        ValidationError: a count is not a non-negative integer, events > n, n = 0, a study
            name is empty or repeated within its subgroup, or a subgroup has < 2 studies.
    """
    groups: dict[str, list[StudyCount]] = {}
    seen: dict[tuple[str, str], int | None] = {}
    for record in _records(rows):
        line = int(record["__line__"]) if record.get("__line__") not in (None, "") else None
        for column in INPUT_COLUMNS:
            if column not in record:
                raise InputFileError(
                    source,
                    f"missing column '{column}'",
                    line=line,
                    field=column,
                    allowed=", ".join(INPUT_COLUMNS),
                )
        study = "" if record["study"] is None else str(record["study"]).strip()
        subgroup_value = record["subgroup"]
        if subgroup_value is None or (
            isinstance(subgroup_value, float) and math.isnan(subgroup_value)
        ):
            subgroup_value = ""
        subgroup = str(subgroup_value).strip()
        if not study or study.lower() == "nan":
            raise ValidationError(
                source,
                "study name is empty",
                line=line,
                field="study",
                value=record["study"],
                allowed="a non-empty study label",
            )
        counts = {}
        for column in ("n", "events"):
            value = _as_count(record[column])
            if value is None:
                raise ValidationError(
                    source,
                    "is not a non-negative integer",
                    line=line,
                    field=column,
                    value=record[column],
                    allowed="whole numbers 0, 1, 2, ... (n at least 1)",
                )
            counts[column] = value
        if counts["n"] == 0:
            raise ValidationError(
                source,
                "a study with n = 0 has no patients to pool",
                line=line,
                field="n",
                value=record["n"],
                allowed="n >= 1; drop the row",
            )
        if counts["events"] > counts["n"]:
            raise ValidationError(
                source,
                f"events exceed n = {counts['n']}",
                line=line,
                field="events",
                value=record["events"],
                allowed=f"0..{counts['n']}",
            )
        key = (subgroup, study)
        if key in seen:
            raise ValidationError(
                source,
                f"study '{study}' appears twice in subgroup '{subgroup}' (also line {seen[key]})",
                line=line,
                field="study",
                value=study,
                allowed="one row per study and subgroup; merge or rename the rows",
            )
        seen[key] = line
        groups.setdefault(subgroup, []).append(
            StudyCount(study, subgroup, counts["n"], counts["events"], line)
        )
    if not groups:
        raise ValidationError(
            source, "has no study rows", line=1, allowed="at least 2 studies per subgroup"
        )
    for subgroup, studies in groups.items():
        if len(studies) < 2:
            label = f"subgroup '{subgroup}'" if subgroup else "the table (no subgroup)"
            raise ValidationError(
                source,
                f"{label} has only {len(studies)} study; pooling needs at least 2",
                line=studies[0].line,
                field="subgroup",
                value=subgroup,
                allowed="2 or more studies per subgroup; add studies or remove the subgroup",
            )
    return groups


def pool_group(
    studies: Sequence[StudyCount], methods: Sequence[str] = METHODS, level: float = 0.95
) -> list[Pooled]:
    """All requested methods for one group of validated studies."""
    events = [s.events for s in studies]
    n = [s.n for s in studies]
    label = f"subgroup {studies[0].subgroup or '(all studies)'}: "
    results = []
    for method in methods:
        if method == "GLMM":
            result = pool_glmm(events, n, level)
            if not result.converged:
                log.warning("%s%s", label, result.message)
        else:
            result = pool_inverse_variance(events, n, method, level, label)
        results.append(result)
    return results


def pool(
    rows: Any,
    analysis: str = "",
    source: str | Path = "<table>",
    methods: Sequence[str] = METHODS,
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """Pool every subgroup of ``rows`` (DataFrame or mappings with study, subgroup, n, events).

    Returns rows in the ``meta_analysis.tsv`` layout (:data:`COLUMNS`): per subgroup, in
    order of first appearance, one row per method (DL, REML, GLMM). Statistics are floats;
    a GLMM that did not converge has ``None`` in every statistic.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; allowed: {', '.join(METHODS)}")
    out = []
    for subgroup, studies in validate_rows(rows, source).items():
        for result in pool_group(studies, methods, level):
            out.append(result.as_row(analysis, subgroup))
    return out


def read_studies(path: str | Path) -> list[dict[str, str]]:
    """Read a ``study, subgroup, n, events`` TSV (other columns are allowed and ignored)."""
    return read_tsv(path, required=INPUT_COLUMNS)


def pool_file(studies_path: str | Path, out_path: str | Path) -> list[dict[str, Any]]:
    """``bin/pool``: pool a studies TSV and write the result atomically (analysis = stem)."""
    studies_path = Path(studies_path)
    rows = pool(read_studies(studies_path), analysis=studies_path.stem, source=studies_path)
    write_tsv(out_path, rows, COLUMNS)
    return rows


USAGE = """usage: bin/pool STUDIES.tsv OUT.tsv

Random-effects meta-analysis of proportions (logit; DL, REML and binomial-normal GLMM, as
R's metafor computes them) for every subgroup of STUDIES.tsv.

STUDIES.tsv  tab-separated with columns study, subgroup, n, events (subgroup may be empty)
OUT.tsv      written in the meta_analysis.tsv layout, one block of rows per subgroup
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``bin/pool``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE, end="")
        return 0
    if len(args) != 2:
        print(USAGE, end="", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="pool: %(levelname)s: %(message)s")
    try:
        rows = pool_file(args[0], args[1])
    except ReviewError as exc:
        print(f"pool: error: {exc}", file=sys.stderr)
        return exc.exit_code
    groups = len({row["subgroup"] for row in rows})
    print(f"pool: wrote {len(rows)} rows for {groups} subgroup(s) to {args[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
