"""``coxph_arrays``: R ``coxph`` on plain arrays (weights, strata, cluster-robust variance,
(start, stop] data), through the one kernel in ``engine``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import CohortError
from ..i18n import _
from . import engine

__all__ = ["CoxFit", "coxph_arrays"]

TIES = ("efron", "breslow")


@dataclass(frozen=True)
class CoxFit:
    """A Cox model fitted by ``coxph_arrays`` (names follow R's ``coxph`` object).

    ``vcov`` is the model-based variance (R ``fit$naive.var`` when robust, else ``fit$var``);
    ``robust_vcov`` the sandwich variance (R ``fit$var`` when robust), or None when not robust.
    ``infinite`` lists the columns whose coefficient may be infinite (R's warning).
    """

    coef: np.ndarray
    vcov: np.ndarray
    robust_vcov: np.ndarray | None
    loglik: tuple[float, float]  # (beta = 0, fitted), as R fit$loglik
    score_test: float  # R fit$score: score test of beta = 0
    iterations: int
    converged: bool
    infinite: tuple[int, ...]
    u: np.ndarray  # score at the estimate
    linear_predictors: np.ndarray  # input order, centred as R's fit$linear.predictors
    n: int
    events: int
    ties: str
    counting: bool  # (start, stop] data (R agreg.fit) rather than right-censored (coxph.fit)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    @property
    def robust_se(self) -> np.ndarray:
        """Sandwich standard errors (NaN when the fit is not robust)."""
        if self.robust_vcov is None:
            return np.full(self.coef.size, np.nan)
        return np.sqrt(np.diag(self.robust_vcov))


def _codes(values, name: str, n: int) -> np.ndarray:
    """Integer codes of labels (strata, cluster) in order of first appearance."""
    codes = pd.factorize(pd.Series(np.asarray(values, dtype=object)), use_na_sentinel=True)[0]
    if codes.size != n:
        raise CohortError(
            _("'{name}' has {size} values for {n} rows; give one per row.").format(
                name=name, size=codes.size, n=n
            )
        )
    if (codes < 0).any():
        raise CohortError(
            _("'{name}' is missing in {n} row(s); drop or fill those rows.").format(
                name=name, n=int((codes < 0).sum())
            )
        )
    return codes.astype(np.int64)


def _check(start, stop, event, X, weights, ties):
    stop = np.asarray(stop, dtype=float)
    n = stop.size
    X = np.asarray(X, dtype=float)
    X = X.reshape(n, -1) if X.ndim < 2 else X
    event = np.asarray(event, dtype=float)
    if X.shape[0] != n or event.size != n:
        raise CohortError(
            _(
                "stop has {n} rows, event {events} and X {x}; give one value per row."
            ).format(n=n, events=event.size, x=X.shape[0])
        )
    if ties not in TIES:
        raise CohortError(_("ties must be 'efron' or 'breslow', not '{ties}'.").format(ties=ties))
    bad = ~np.isin(event, (0.0, 1.0))
    if bad.any():
        raise CohortError(
            _("event must be 1 (event) or 0 (censored); {n} row(s) are not.").format(
                n=int(bad.sum())
            )
        )
    if not (np.isfinite(stop).all() and np.isfinite(X).all()):
        raise CohortError(
            _("stop and X must be finite numbers; remove rows with missing values.")
        )
    if start is not None:
        start = np.asarray(start, dtype=float)
        if start.size != n or not np.isfinite(start).all():
            raise CohortError(_("start must hold one finite number per row."))
        rows = np.flatnonzero(start >= stop)
        if rows.size:
            raise CohortError(
                _(
                    "Each row's start must be before its stop time; {n} row(s) are not (first: "
                    "row {row}, start {start}, stop {stop})."
                ).format(
                    n=rows.size,
                    row=rows[0],
                    start=f"{start[rows[0]]:g}",
                    stop=f"{stop[rows[0]]:g}",
                )
            )
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.size != n or not (np.isfinite(weights) & (weights > 0)).all():
            raise CohortError(
                _(
                    "Case weights must be finite and greater than 0 for every row (R: 'Invalid "
                    "weights, must be >0'); drop rows with weight 0."
                )
            )
    if event.sum() == 0:
        raise CohortError(_("There are no events, so a Cox model cannot be fitted."))
    return start, stop, event, X, weights


def coxph_arrays(
    start,
    stop,
    event,
    X,
    *,
    weights=None,
    strata=None,
    cluster=None,
    ties: str = "efron",
    robust: bool | None = None,
) -> CoxFit:
    """Fit a Cox model to arrays, as R ``coxph``.

    Parameters
    ----------
    start : entry times for (start, stop] data (left truncation, time-varying covariates), or
        None for right-censored data starting at 0.
    stop, event : exit time and 1 (event) / 0 (censored) per row.
    X : (n, p) covariate matrix (full column rank; drop collinear columns first).
    weights : case weights (> 0); non-integer weights imply a robust variance, as in R.
    strata : labels; each stratum has its own baseline hazard.
    cluster : labels of independent clusters (e.g. patient id); implies a robust variance.
    ties : ``"efron"`` (R's default) or ``"breslow"``.
    robust : sandwich variance; None means R's default (cluster given or non-integer weights).

    Returns
    -------
    CoxFit

    Raises
    ------
    CohortError for inconsistent input, no events, or robust=True on (start, stop] data
    without a cluster (R: "one of cluster or id is needed").

    Notes
    -----
    R ``coxph(Surv(stop, event) ~ X, weights, ties)`` (coxph.fit/coxfit6) or
    ``coxph(Surv(start, stop, event) ~ X + strata(s) + cluster(id))`` (agreg.fit/agfit4):
    Newton-Raphson from 0 with step halving, relative log-likelihood change <= 1e-9, at most 20
    iterations; robust variance ``crossprod(residuals(fit, "dfbeta", weighted = TRUE)``
    summed per cluster).
    """
    return fit_arrays(
        start,
        stop,
        event,
        X,
        weights=weights,
        strata=strata,
        cluster=cluster,
        ties=ties,
        robust=robust,
    )[0]


def fit_arrays(start, stop, event, X, *, weights, strata, cluster, ties, robust):
    """``coxph_arrays`` and the engine's ``RiskSets`` (for cox.zph)."""
    start, stop, event, X, weights = _check(start, stop, event, X, weights, ties)
    n = stop.size
    st = None if strata is None else _codes(strata, "strata", n)
    cl = None if cluster is None else _codes(cluster, "cluster", n)
    asked = robust
    if robust is None:
        robust = cl is not None or (weights is not None and (weights != np.floor(weights)).any())
    if robust and cl is None:
        if start is not None and asked:
            raise CohortError(
                _(
                    "A robust variance for (start, stop] data needs a cluster (the patient id "
                    "of each row), as R: 'one of cluster or id is needed'."
                )
            )
        cl = np.arange(n)
    rs = engine.prepare(stop, event, X, start=start, weights=weights, strata=st, ties=ties)
    fit = engine.newton(rs)
    beta, var = fit.beta[0], fit.var[0]
    rvar = None
    if robust:
        rvar = _robust_vcov(rs, beta, var, cl)
    w = np.ones(n) if weights is None else weights
    means = (w @ X) / w.sum() if start is None else X.mean(axis=0)
    out = CoxFit(
        beta,
        var,
        rvar,
        (float(fit.loglik0[0]), float(fit.loglik[0])),
        float(fit.score_test[0]),
        int(fit.iterations[0]),
        bool(fit.converged[0]),
        tuple(np.flatnonzero(fit.infinite[0]).tolist()),
        fit.u[0],
        X @ beta - means @ beta,
        n,
        int(event.sum()),
        ties,
        start is not None,
    )
    return out, rs


def _robust_vcov(rs: engine.RiskSets, beta, var, cluster: np.ndarray) -> np.ndarray:
    """R: ``crossprod(rowsum(residuals(fit, "dfbeta", weighted = TRUE), cluster))``."""
    res = engine.score_residuals(rs, beta[None, :])[0]  # sorted rows
    pos = rs.pos[0]
    dfbeta = (res * rs.wcase[0][:, None]) @ var
    ncl = int(cluster.max()) + 1
    summed = np.zeros((ncl, beta.size))
    np.add.at(summed, cluster[pos], dfbeta)
    return summed.T @ summed
