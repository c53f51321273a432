"""Test of proportional hazards, R ``cox.zph(fit, transform = "km")`` (survival >= 3.0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from . import engine

__all__ = ["zph"]


def _km_transform(stop, event, start, *times) -> list[np.ndarray]:
    """1 - S(t-) of the pooled, unweighted Kaplan-Meier at each array of ``times`` (R:
    ``survfitKM`` of all rows, left-continuous, as ``cox.zph`` builds it whatever the strata and
    weights). One Kaplan-Meier for all the arrays: the sort of ``stop`` is the costly part."""
    ut, inv = np.unique(stop, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=ut.size)
    leaving = np.bincount(inv, minlength=ut.size).astype(float)
    n_risk = np.cumsum(leaving[::-1])[::-1]
    if start is not None:  # not yet entered: start >= t
        n_risk = n_risk - (start.size - np.searchsorted(np.sort(start), ut, side="left"))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(d > 0, 1.0 - d / n_risk, 1.0))
    left = np.concatenate(([1.0], surv))
    return [1.0 - left[np.searchsorted(ut, t, side="left")] for t in times]


def zph(rs: engine.RiskSets, beta, assign: dict[str, list[int]], stop, event, start=None):
    """Score test of g(t) x for each term and GLOBAL, with g the KM transform centred over the
    events. ``stop``, ``event``, ``start`` are the fit's rows (any order).

    Notes
    -----
    R ``cox.zph(fit, transform = "km")``: zph1/zph2 with the fit's strata and case weights.
    """
    # one value per death time of the risk sets (its time: the stop of its first death row)
    pos = rs.pos[0]
    tk = stop[pos[rs.dc[rs.dseg]]]
    g_row, g = _km_transform(stop, event, start, stop[event == 1], tk)
    g -= g_row.mean()
    _, _, imat, u2, i12, i22 = engine.loglik(rs, beta[None, :], g)
    i11 = imat[0]
    p = beta.size
    full = np.block([[i11, i12], [i12.T, i22]])
    tests = list(assign.items()) + [("GLOBAL", list(range(p)))]
    chisq = np.empty(len(tests))
    # the tests with the same number of columns: their matrices inverted as one stack
    for k in sorted({len(cols) for _, cols in tests}):
        which = [i for i, (_, cols) in enumerate(tests) if len(cols) == k]
        kk = np.array([list(range(p)) + [p + j for j in tests[i][1]] for i in which])
        uu = np.zeros((len(which), p + k))
        uu[:, p:] = u2[kk[:, p:] - p]
        inv = engine.pinv_stack(full[kk[:, :, None], kk[:, None, :]])
        chisq[which] = [u @ m @ u for u, m in zip(uu, inv, strict=True)]
    dof = np.array([len(cols) for _, cols in tests])
    return pd.DataFrame(
        {"chisq": chisq, "df": dof, "p_value": special.chdtrc(dof, chisq)},
        index=pd.Index([t for t, _ in tests], name="term"),
        copy=False,
    )
