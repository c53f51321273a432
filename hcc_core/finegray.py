"""Fine-Gray subdistribution hazards regression, as R ``cmprsk::crr``.

The estimating equation, Newton-Raphson with backtracking, convergence rule and sandwich
variance are cmprsk's (Fortran ``crrfsv``, ``crrf``, ``crrvv``), rewritten with cumulative
sums over the sorted times instead of cmprsk's nested loops (O(n log n) instead of O(n^2)).
The censoring distribution is one Kaplan-Meier curve (no ``cengroup``) and all covariates are
fixed in time (no ``cov2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .competing import COMPETING, EVENT, EVENT_NAMES, competing_status
from .errors import CohortError
from .i18n import _

__all__ = ["FineGrayResult", "fit_finegray"]

_EPS = np.finfo(float).eps
_GTOL = 1e-6
_MAXITER = 10


# ---- design matrix -----------------------------------------------------------------------------
def _design(
    df: pd.DataFrame, covariates: list[str]
) -> tuple[np.ndarray, list[str], np.ndarray, tuple[str, ...]]:
    """Columns of X, term names, the complete-case mask and notes, from the Cox design.

    Same coding as ``fit_cox`` (``hcc_core.cox.design``): factors against their first level in
    schema order, the derived covariates (``log10_afp``, ``bclc_ab_vs_c``, ``afp_400``),
    constant and collinear terms dropped with a note. Rows outside the mask hold NaN.
    """
    from .cox.design import _design as design_matrix
    from .cox.design import _encode

    des = design_matrix({c: _encode(df, c) for c in covariates}, len(df))
    if not des.terms:
        raise CohortError(
            _("The model needs at least one covariate that varies; choose other covariates.")
        )
    X = np.full((len(df), len(des.terms)), np.nan)
    X[des.keep] = des.X
    return X, des.terms, des.keep, des.notes


# ---- cmprsk's censoring weights and risk-set sums ------------------------------------------------
@dataclass(frozen=True)
class _Data:
    time: np.ndarray  # sorted ascending
    status: np.ndarray  # 0 censored, 1 event of interest, 2 competing
    X: np.ndarray
    G: np.ndarray  # censoring KM at each row's time minus (cmprsk's uuu)
    fail_times: np.ndarray  # distinct event-of-interest times
    d: np.ndarray  # events of interest at each
    G_fail: np.ndarray  # G at each distinct failure time


def _censoring_km(time: np.ndarray, status: np.ndarray) -> np.ndarray:
    """cmprsk's ``uuu``: KM of the censoring distribution at ``time * (1 - 100 eps)``.

    R: ``approx(c(min(0, u$time) - 10 eps, u$time, max(u$time) * (1 + 10 eps)), c(1, u$surv,
    0), xout = ftime * (1 - 100 eps), method = "constant", f = 0, rule = 2)``.
    """
    ut, inv = np.unique(time, return_inverse=True)
    cens = np.bincount(inv, weights=status == 0, minlength=ut.size)
    total = np.bincount(inv, minlength=ut.size).astype(float)
    at_risk = np.cumsum(total[::-1])[::-1]
    surv = np.cumprod(1 - cens / at_risk)
    knots = np.concatenate(([min(0.0, ut[0]) - 10 * _EPS], ut, [ut[-1] * (1 + 10 * _EPS)]))
    values = np.concatenate(([1.0], surv, [0.0]))
    pos = np.searchsorted(knots, time * (1 - 100 * _EPS), side="right") - 1
    return values[np.clip(pos, 0, values.size - 1)]


def _prepare(time, status, X) -> _Data:
    order = np.argsort(time, kind="stable")  # R's order(): ties keep their input order
    time, status, X = time[order], status[order], X[order]
    G = _censoring_km(time, status)
    fail = status == EVENT
    fail_times, first = np.unique(time[fail], return_index=True)
    d = np.bincount(np.searchsorted(fail_times, time[fail]), minlength=fail_times.size)
    G_fail = G[np.flatnonzero(fail)[first]]
    return _Data(time, status, X, G, fail_times, d.astype(float), G_fail)


def _risk_sums(dat: _Data, beta: np.ndarray):
    """S0, S1, S2 of the Fine-Gray risk set at each distinct failure time.

    Risk set at t: everyone with time >= t (weight 1) and competing-event patients with time
    < t, weighted G(t-) / G(T_i-) (cmprsk ``crrfsv`` loop 15).
    """
    X = dat.X
    xb = X @ beta
    e = np.exp(xb)
    p = X.shape[1]
    n = dat.time.size
    ge = np.searchsorted(dat.time, dat.fail_times, side="left")  # first row with time >= t
    comp = (dat.status == COMPETING).astype(float)

    def suffix(a):  # sum over rows ge..n-1
        c = np.concatenate((np.cumsum(a[::-1], axis=0)[::-1], np.zeros((1,) + a.shape[1:])))
        return c[ge]

    def prefix(a):  # sum over rows 0..ge-1
        c = np.concatenate((np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)))
        return c[ge]

    xx = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    w_comp = comp * e / dat.G
    g = dat.G_fail
    S0 = suffix(e) + g * prefix(w_comp)
    S1 = suffix(e[:, None] * X) + g[:, None] * prefix(w_comp[:, None] * X)
    S2 = suffix(e[:, None] * xx) + g[:, None] * prefix(w_comp[:, None] * xx)
    return xb, e, S0, S1, S2.reshape(-1, p, p)


def _objective(dat: _Data, beta: np.ndarray):
    """Minus the log pseudo-likelihood, its gradient and Hessian (cmprsk ``crrfsv``)."""
    xb, _, S0, S1, S2 = _risk_sums(dat, beta)
    fail = dat.status == EVENT
    lik = -xb[fail].sum() + float(dat.d @ np.log(S0))
    score = -dat.X[fail].sum(axis=0) + (dat.d / S0) @ S1
    xbar = S1 / S0[:, None]
    info = np.einsum("k,kij->ij", dat.d / S0, S2) - np.einsum("k,ki,kj->ij", dat.d, xbar, xbar)
    return lik, score, info


def _newton(dat: _Data, p: int) -> tuple[np.ndarray, bool, int]:
    """cmprsk ``crr``'s Newton-Raphson: stop when max|s| x max(|b|, 1) < max(|lik|, 1) x gtol."""
    b = np.zeros(p)
    for it in range(_MAXITER + 1):
        lik, s, h = _objective(dat, b)
        if np.max(np.abs(s) * np.maximum(np.abs(b), 1)) < max(abs(lik), 1) * _GTOL:
            return b, True, it
        if it == _MAXITER:
            return b, False, it
        try:
            step = -np.linalg.solve(h, s)
        except np.linalg.LinAlgError:
            return b, False, it
        halvings = 0
        bn = b + step
        fbn = _objective(dat, bn)[0]
        while not np.isfinite(fbn) or fbn > lik + 1e-4 * float(step @ s):
            halvings += 1
            step = step * 0.5
            bn = b + step
            fbn = _objective(dat, bn)[0]
            if halvings > 20:
                return b, False, it
        b = bn
    return b, False, _MAXITER  # pragma: no cover - the loop always returns


def _sandwich(dat: _Data, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Information ``I`` and the middle ``sum (eta_i + psi_i)(eta_i + psi_i)'`` of ``crrvv``.

    eta_i: the score residual of patient i (the d N_i part minus the d Lambda hat part);
    psi_i: the correction for estimating the censoring distribution (Fine and Gray 1999).
    """
    xb, e, S0, S1, _ = _risk_sums(dat, beta)
    _, _, info = _objective(dat, beta)
    X, t, st, G = dat.X, dat.time, dat.status, dat.G
    xbar = S1 / S0[:, None]
    d, gk = dat.d, dat.G_fail
    k_le = np.searchsorted(dat.fail_times, t, side="right")  # failure times <= t_i: [0, k_le)

    def upto(a):  # sum over failure times <= t_i
        c = np.concatenate((np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)))
        return c[k_le]

    def after(a):  # sum over failure times > t_i
        total = a.sum(axis=0)
        return total - upto(a)

    c0, c1 = upto(d / S0), upto((d / S0)[:, None] * xbar)
    eta = -(e[:, None] * (X * c0[:, None] - c1))
    comp = st == COMPETING
    w = d * gk / S0
    d0, d1 = after(w), after(w[:, None] * xbar)
    eta[comp] -= (e[comp] / G[comp])[:, None] * (X[comp] * d0[comp, None] - d1[comp])
    fail = st == EVENT
    k_own = np.searchsorted(dat.fail_times, t[fail])
    eta[fail] += X[fail] - xbar[k_own]
    # psi: censoring-martingale part, via q(u) at each distinct censoring time u
    ut, first = np.unique(t, return_index=True)
    at_risk = t.size - first  # rows with time >= u
    cens_rows = st == 0
    m_c = np.bincount(np.searchsorted(ut, t[cens_rows]), minlength=ut.size).astype(float)
    # competing-patient sums over time < u: E0 = sum e / G, E1 = sum e x / G
    wc = np.where(comp, e / G, 0.0)
    cum0 = np.concatenate(([0.0], np.cumsum(wc)))[first]
    cum1 = np.concatenate((np.zeros((1, X.shape[1])), np.cumsum(wc[:, None] * X, axis=0)))[first]
    k_ge = np.searchsorted(dat.fail_times, ut, side="left")  # failure times >= u: [k_ge, K)
    h0 = np.concatenate((np.cumsum(w[::-1])[::-1], [0.0]))[k_ge]
    h1 = np.concatenate(
        (np.cumsum((w[:, None] * xbar)[::-1], axis=0)[::-1], np.zeros((1, X.shape[1])))
    )[k_ge]
    q = cum1 * h0[:, None] - cum0[:, None] * h1
    ss2 = -np.cumsum((m_c / at_risk**2)[:, None] * q, axis=0)
    row_u = np.searchsorted(ut, t)
    psi = ss2[row_u]
    psi[cens_rows] += q[row_u[cens_rows]] / at_risk[row_u[cens_rows], None]
    u = eta + psi
    return info, u.T @ u


# ---- public API ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FineGrayResult:
    """Fine-Gray model of the subdistribution hazard.

    ``table``: ``term, coef, se, shr, shr_lower, shr_upper, p_value`` (shr = exp(coef), the
    subdistribution hazard ratio; Wald CI and z-test with crr's sandwich SE).
    """

    endpoint: str
    covariates: tuple[str, ...]
    table: pd.DataFrame
    n: int
    events: int
    competing_events: int
    converged: bool
    iterations: int
    n_excluded: int
    notes: tuple[str, ...]
    method: str


def fit_finegray(
    df: pd.DataFrame, endpoint: str, covariates, conf_level: float = 0.95
) -> FineGrayResult:
    """Fine-Gray proportional subdistribution hazards model for ``ttp`` or ``hcc_death``.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"ttp"`` or ``"hcc_death"``.
    covariates : column names; numeric columns enter linearly, categorical ones as
        ``column[level]`` against their first level in schema order.
    conf_level : level of the Wald intervals.

    Returns
    -------
    FineGrayResult

    Raises
    ------
    CohortError when no events of interest remain or a covariate is missing.

    Notes
    -----
    R ``cmprsk::crr(ftime, fstatus, cov1, failcode = 1, cencode = 0)``: coefficients, and
    standard errors from crr's sandwich variance (``sqrt(diag(fit$var))``), which accounts for
    estimating the censoring distribution. They are NOT the SEs of ``coxph`` on ``finegray()``
    data (whose coefficients also differ slightly: ties and censoring weights differ).
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    z = float(special.ndtri(1 - (1 - conf_level) / 2))
    st = competing_status(df, endpoint)
    rows = df.loc[st.keep]
    X, terms, ok, design_notes = _design(rows, covs)
    notes = list(st.notes) + list(design_notes)
    time, status, X = st.time[ok], st.status[ok], X[ok]
    varies = X.std(axis=0) > 0
    if not varies.all():
        dropped = [t for t, v in zip(terms, varies, strict=True) if not v]
        notes.append(
            _("Terms without variation were dropped: {terms}.").format(terms=", ".join(dropped))
        )
        X, terms = X[:, varies], [t for t, v in zip(terms, varies, strict=True) if v]
    events = int((status == EVENT).sum())
    if events == 0 or X.shape[1] == 0:
        raise CohortError(
            _(
                "The Fine-Gray model for '{endpoint}' needs at least one event of interest and "
                "one covariate that varies among the patients used; relax the filters or choose "
                "other covariates."
            ).format(endpoint=endpoint)
        )
    dat = _prepare(time, status, X)
    beta, converged, iterations = _newton(dat, X.shape[1])
    info, middle = _sandwich(dat, beta)
    inv = np.linalg.inv(info)
    var = inv @ middle @ inv
    se = np.sqrt(np.diag(var))
    with np.errstate(over="ignore"):
        table = pd.DataFrame(
            {
                "term": terms,
                "coef": beta,
                "se": se,
                "shr": np.exp(beta),
                "shr_lower": np.exp(beta - z * se),
                "shr_upper": np.exp(beta + z * se),
                "p_value": 2 * special.ndtr(-np.abs(beta / se)),
            }
        )
    if not converged:
        notes.append(_("The Fine-Gray fit did not converge in 10 iterations (cmprsk's limit)."))
    event, competing = EVENT_NAMES[endpoint]
    method = _(
        "Fine-Gray subdistribution hazards model of {event} ({competing} competes), R cmprsk "
        "crr: Breslow-type ties, censoring weights from one Kaplan-Meier curve; SE from crr's "
        "sandwich variance; Wald {level} CI and z-test"
    ).format(event=_(event), competing=_(competing), level=f"{conf_level:.0%}")
    return FineGrayResult(
        endpoint,
        tuple(covs),
        table,
        int(time.size),
        events,
        int((status == COMPETING).sum()),
        converged,
        iterations,
        int(len(df) - time.size),
        tuple(notes),
        method,
    )
