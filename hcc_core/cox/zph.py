"""Test of proportional hazards, R ``cox.zph(fit, transform = "km")`` (survival >= 3.0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from . import engine

__all__ = ["zph"]


def _km_transform(stop, event, start, times) -> np.ndarray:
    """1 - S(t-) of the pooled, unweighted Kaplan-Meier at ``times`` (R: ``survfitKM`` of all
    rows, left-continuous, as ``cox.zph`` builds it whatever the strata and weights)."""
    ut, inv = np.unique(stop, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=ut.size)
    leaving = np.bincount(inv, minlength=ut.size).astype(float)
    n_risk = np.cumsum(leaving[::-1])[::-1]
    if start is not None:  # not yet entered: start >= t
        n_risk = n_risk - (start.size - np.searchsorted(np.sort(start), ut, side="left"))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(d > 0, 1.0 - d / n_risk, 1.0))
    left = np.concatenate(([1.0], surv))[np.searchsorted(ut, times, side="left")]
    return 1.0 - left


def zph(rs: engine.RiskSets, beta, assign: dict[str, list[int]], stop, event, start=None):
    """Score test of g(t) x for each term and GLOBAL, with g the KM transform centred over the
    events. ``stop``, ``event``, ``start`` are the fit's rows (any order).

    Notes
    -----
    R ``cox.zph(fit, transform = "km")``: zph1/zph2 with the fit's strata and case weights.
    """
    g_row = _km_transform(stop, event, start, stop[event == 1])
    g_mean = g_row.mean()
    # one value per death time of the risk sets (its time: the stop of its first death row)
    pos = rs.pos[0]
    tk = stop[pos[rs.dc[rs.dseg]]]
    g = _km_transform(stop, event, start, tk) - g_mean
    _, _, imat, u2, i12, i22 = engine.loglik(rs, beta[None, :], g)
    i11 = imat[0]
    p = beta.size
    full = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for term, cols in list(assign.items()) + [("GLOBAL", list(range(p)))]:
        kk = list(range(p)) + [p + j for j in cols]
        uu = np.concatenate((np.zeros(p), u2[cols]))
        chisq = float(uu @ engine.pinv_pd(full[np.ix_(kk, kk)]) @ uu)
        rows.append((term, chisq, len(cols), float(special.chdtrc(len(cols), chisq))))
    terms, chisq, dof, p_value = zip(*rows, strict=True)
    return pd.DataFrame(
        {"chisq": chisq, "df": dof, "p_value": p_value}, index=pd.Index(terms, name="term")
    )
