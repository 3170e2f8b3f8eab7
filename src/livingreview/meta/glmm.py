"""The binomial-normal GLMM of single proportions, with lme4's adaptive Gauss-Hermite deviance.

The model ``x_i ~ Bin(n_i, ilogit(beta + u_i))``, ``u_i ~ N(0, tau2)``, fitted by maximum
likelihood as ``metafor::rma.glmm(xi, ni, measure = "PLO")`` does it:
``lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study), family = binomial, nAGQ = 7)``, i.e. the
likelihood is lme4's *adaptive* 7-point Gauss-Hermite approximation (nodes centred at each
study's conditional mode, scaled by the conditional standard deviation ``1/L_i``).  This
module evaluates exactly that deviance (checked against lme4's own deviance function),
maximises it over ``(theta = sqrt(tau2) >= 0, beta)`` (profile over a grid of theta from
0 to 8, then a joint Nelder-Mead polish; it usually ends slightly *closer* to the optimum
than lme4's own optimiser, hence agreement to ~1e-4 rather than 1e-10), snaps ``theta`` to 0
when it is within 1e-5 of the boundary and the deviance is no worse (lme4's ``boundary.tol``),
and takes ``se(beta)`` from the inverse of the central finite-difference Hessian of the
deviance in ``(theta, beta)`` with step 1e-4 (lme4's ``vcov()`` default), falling back to
the conditional variance ``1 / sum(w_i / (1 + tau2 w_i))`` when that Hessian is not
invertible (lme4's "falling back to var-cov estimated from RX").  ``i2`` uses the
``vt`` of the (0.5-corrected) logits as for DL/REML, the intervals are formed as for DL/REML,
and ``q``/``q_p`` are rma.glmm's likelihood-ratio test for heterogeneity (``QE.LRT``:
the deviance of the common-proportion binomial model, chi-square with k - 1 df; the
Wald-type ``QE.Wld`` is not reported because it is undefined when a study has 0 or n
events).  The raw counts are used; no 0.5 is added for the GLMM itself.

"Did not converge" (the GLMM row keeps ``k, n, events`` and leaves every statistic empty;
:class:`~livingreview.meta.results.Pooled` carries the reason) when: every study has 0 events
or every study has all events (no finite estimate; rma.glmm stops with "Cannot fit ML
model"); every study has n = 1 (tau2 is not identifiable from single Bernoulli outcomes); the
optimiser fails; or, away from the boundary (theta >= 1e-4), the deviance Hessian has a
negative or (|eigenvalue| < 1e-6) zero eigenvalue, which lme4 reports as "Model failed to
converge" / "Hessian is numerically singular: parameters are not uniquely determined".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, xlogy

from .intervals import random_effects_result
from .logit import logit_effects, typical_variance
from .results import Pooled

#: Number of adaptive Gauss-Hermite points rma.glmm asks lme4 for (nAGQ = 7).
N_AGQ = 7
#: lme4 glmerControl(boundary.tol): theta this close to 0 is set to 0 if no worse.
BOUNDARY_TOL = 1e-5
#: lme4 isSingular() tolerance: below it the Hessian check is skipped ("singular fit").
SINGULAR_TOL = 1e-4
#: lme4 check.conv.hess tolerance on Hessian eigenvalues.
HESSIAN_TOL = 1e-6
#: lme4 deriv12() finite-difference step.
FD_STEP = 1e-4


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
    i2 = 100.0 * tau2 / (typical_variance(vi) + tau2)
    return random_effects_result(
        "GLMM", events, n, beta, math.sqrt(variance), tau2, i2, lrt, q_p, level, message
    )
