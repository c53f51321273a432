"""The Cox partial likelihood and its Newton-Raphson: the one kernel every Cox model here runs.

A transcription of R ``survival``'s ``coxfit6`` (right-censored data) and ``agfit4`` ((start,
stop] data): Efron or Breslow ties, case weights, strata, centred covariates, Newton-Raphson from
beta = 0 with step halving, stopping when the relative change in log-likelihood is <= 1e-9
(at most 20 iterations), and R's "coefficient may be infinite" check. Where R loops over rows in
C, this module works on whole arrays: rows sorted once by (stratum, stop), risk-set sums as
suffix sums, the Efron terms of tied deaths summed per death time in closed form, and the
information's ``X'WX`` part as one weighted product over rows.

Several independent fits can run at once ("groups": e.g. one model per covariate in the
univariable screen, one per subgroup level in the forest). Each group is laid out in its own row
of (groups, rows) arrays, padded with rows of weight 0, so a group's sums never touch another
group's numbers and each keeps its own start, step halving and stopping rule: the same code, and
the same iterations, as the group fitted alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .risksets import NUMPY_ROWS, RiskSets, _group_sum, prepare, take_groups

__all__ = [
    "EPS",
    "MAX_ITER",
    "TOLER_INF",
    "Newton",
    "RiskSets",
    "linear_predictor",
    "loglik",
    "newton",
    "pinv_pd",
    "pinv_stack",
    "prepare",
    "score_residuals",
]

EPS = 1e-9  # coxph.control eps
MAX_ITER = 20  # coxph.control iter.max
TOLER_INF = np.sqrt(EPS)  # coxph.control toler.inf


def _suffix(v: np.ndarray) -> np.ndarray:
    """Suffix sums along the last axis with a trailing 0: out[..., i] = v[..., i:].sum()."""
    out = np.empty((*v.shape[:-1], v.shape[-1] + 1))
    out[..., -1] = 0.0
    np.cumsum(v[..., ::-1], axis=-1, out=out[..., -2::-1])
    return out


def _risk_sums(rs: RiskSets, r: np.ndarray, rXT: np.ndarray):
    """Sums of ``r`` and ``r x`` over each death time's risk set, R (K,) and A (K, p), and over
    its deaths, D and A2."""
    sr, sa = _suffix(r).reshape(-1), _suffix(rXT).reshape(-1)
    R, A = sr[rs.kfirst], sa[rs.kA]
    D, A2 = R - sr[rs.kdend], A - sa[rs.dA]  # the death rows: the first rows of the risk set
    if rs.kend is not None:
        R, A = R - sr[rs.kend], A - sa[rs.eA]
    if rs.start_order is not None:  # minus the rows not yet entered (start >= t)
        so = rs.start_order
        rso = np.take_along_axis(r, so, axis=1)
        aso = np.take_along_axis(rXT, so[:, None, :], axis=2)
        ssr, ssa = _suffix(rso).reshape(-1), _suffix(aso).reshape(-1)
        R, A = R - ssr[rs.kstart], A - ssa[rs.sA]
        if rs.kend is not None:
            R, A = R + ssr[rs.kend], A + ssa[rs.eA]
    return R, A, D, A2


def _per_row(rs: RiskSets, per_k: np.ndarray, own: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``per_k`` (one value per death time) over each row's risk-set death times; minus,
    for a death row, ``own`` at its own death time."""
    G, L = rs.w.shape
    cs = np.zeros(G * (rs.kmax + 1))
    cs[rs.kcs] = per_k
    cs = np.cumsum(cs.reshape(G, rs.kmax + 1), axis=1).reshape(-1)
    out = cs[rs.hi_f] - cs[rs.lo_f]
    if own is not None:  # a death row's own time is the last death time up to its stop
        last = np.zeros(G * (rs.kmax + 1))
        last[rs.kcs] = own
        out -= last[rs.hi_f] * rs.event.reshape(-1)
    return out.reshape(G, L)


def _gram(XT: np.ndarray, rw: np.ndarray, YT: np.ndarray | None = None) -> np.ndarray:
    """Per group ``X' diag(rw) Y``: (G, p, L) x (G, L) x (G, q, L) -> (G, p, q)."""
    G, p, L = XT.shape
    sym = YT is None
    YT = XT if sym else YT
    if L < NUMPY_ROWS:
        return np.matmul(XT * rw[:, None, :], YT.transpose(0, 2, 1))
    q = YT.shape[1]
    out = np.empty((G, p, q))
    aw, prod = np.empty((G, L)), np.empty((G, L))
    for i in range(p):
        np.multiply(XT[:, i], rw, out=aw)
        for j in range(i if sym else 0, q):
            out[:, i, j] = np.multiply(aw, YT[:, j], out=prod).sum(axis=1)
            if sym:
                out[:, j, i] = out[:, i, j]
    return out


def _outer_sums(rs: RiskSets, A, A2, d11, d12, d22) -> np.ndarray:
    """Per group sum over death times of d11 A A' - d12 (A A2' + A2 A') + d22 A2 A2'
    ((K, p) and (K,) -> (G, p, p)): the Efron part of the information."""
    if rs.kgstart.size == 1:
        a, b, at = A, A2, A.T
        cross = (at * d12) @ b
        return (at * d11) @ a - cross - cross.T + (b.T * d22) @ b
    # each group's death times in its own row of a (G, kmax, p) layout (zeros after them), so
    # the sums over death times are one batched matrix product per term
    G, p = rs.w.shape[0], A.shape[1]
    a, b = np.zeros((G * rs.kmax, p)), np.zeros((G * rs.kmax, p))
    a[rs.kpad], b[rs.kpad] = A, A2
    a, b = a.reshape(G, rs.kmax, p), b.reshape(G, rs.kmax, p)
    d = np.zeros((3, G * rs.kmax))
    d[:, rs.kpad] = d11, d12, d22
    d = d.reshape(3, G, rs.kmax, 1)
    at = a.transpose(0, 2, 1)
    cross = np.matmul(at, b * d[1])
    return (
        np.matmul(at, a * d[0])
        - cross
        - cross.transpose(0, 2, 1)
        + np.matmul(b.transpose(0, 2, 1), b * d[2])
    )


def linear_predictor(rs: RiskSets, beta: np.ndarray) -> np.ndarray:
    """(G, L) centred linear predictor X beta of each group's rows."""
    G, p, L = rs.XT.shape
    if G == 1 and L < NUMPY_ROWS:
        return (beta[0] @ rs.XT[0])[None]
    return np.einsum("gpl,gp->gl", rs.XT, beta)


def _term_sums(rs: RiskSets, R, D):
    """The Efron sums of ``_efron_sums`` before the death weights, term by term."""
    f, starts = rs.frac, rs.tstart
    if rs.ties == "efron":  # each Efron term's denominator (repeat: faster than a gather)
        den = np.repeat(R, rs.ndead)
        den -= f * np.repeat(D, rs.ndead)
    else:
        den = R - f * D
    w = np.empty((6, f.size))
    np.log(den, out=w[0])
    np.divide(1.0, den, out=w[1])
    np.multiply(f, w[1], out=w[2])
    np.multiply(w[1], w[1], out=w[3])
    np.multiply(f, w[3], out=w[4])
    np.multiply(f, w[4], out=w[5])
    return np.add.reduceat(w, starts, axis=1) if f.size > starts.size else w


def _efron_sums(rs: RiskSets, R, D):
    """Per death time, over its Efron terms m = 0 .. d-1 (f = m/d, den = R - f D), times the
    mean death weight: sum log(den), 1/den, f/den, 1/den^2, f/den^2, f^2/den^2 (Breslow: one
    term with f = 0)."""
    return _term_sums(rs, R, D) * rs.meanwt


def loglik(rs: RiskSets, beta: np.ndarray, g: np.ndarray | None = None):
    """Log-likelihood (G,), score (G, p) and information (G, p, p) at ``beta`` (G, p).

    R ``coxfit6_iter``/``agfit4`` with Efron or Breslow ties. With ``g`` (one value per death
    time, one group) also the ``cox.zph`` pieces of R ``zph1``/``zph2``: the score of g(t) x and
    the information blocks weighted by g and g^2.
    """
    eta = linear_predictor(rs, beta)
    # shift by the largest eta of each group (cancels exactly below)
    cmax = np.where(rs.w > 0, eta, -np.inf).max(axis=1) if rs.padded else eta.max(axis=1)
    r = np.exp(eta - cmax[:, None]) * rs.w
    rXT = rs.XT * r[:, None, :]
    R, A, D, A2 = _risk_sums(rs, r, rXT)
    logs, s1, s2, c11, c12, c22 = _efron_sums(rs, R, D)
    ll = (rs.wx_dead * beta).sum(axis=1) - cmax * rs.wdead - _group_sum(logs, rs.kgstart)

    def parts(gk):
        w1, w2 = (s1, s2) if gk is None else (s1 * gk, s2 * gk)
        d11, d12, d22 = (c11, c12, c22) if gk is None else (c11 * gk, c12 * gk, c22 * gk)
        rw = _per_row(rs, w1, w2)
        rw *= r
        return _gram(rs.XT, rw) - _outer_sums(rs, A, A2, d11, d12, d22)

    u = rs.wx_dead - _group_sum(s1[:, None] * A - s2[:, None] * A2, rs.kgstart)
    imat = parts(None)
    if g is None:
        return ll, u, imat
    xd = rs.XT[rs.dg, :, rs.dc]
    u2 = (g[rs.dk] * rs.w[rs.dg, rs.dc]) @ xd - (g * s1) @ A + (g * s2) @ A2
    return ll, u, imat, u2, parts(g)[0], parts(g * g)[0]


def pinv_pd(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix on its numerically positive-definite part.

    Like R's cholesky2/chinv2 (which zero a non-positive pivot): directions where the
    information is not numerically positive get zero, so Newton never steps uphill there.
    """
    if a.shape == (1, 1):
        return np.array([[1.0 / a[0, 0]]]) if 0.0 < a[0, 0] < np.inf else np.zeros((1, 1))
    try:
        ci = np.linalg.inv(np.linalg.cholesky(a))
        return ci.T @ ci
    except np.linalg.LinAlgError:
        s, v = np.linalg.eigh((a + a.T) / 2)
        ok = s > 1e-9 * max(s.max(initial=0.0), 1e-300)
        return (v[:, ok] / s[ok]) @ v[:, ok].T


def pinv_stack(a: np.ndarray, ncol: np.ndarray | None = None) -> np.ndarray:
    """``pinv_pd`` of each matrix of a (G, p, p) stack, the common case in one LAPACK call.

    ``ncol`` (G,): only the first ``ncol[g]`` rows and columns of matrix g are the model's (the
    rest is padding, see ``newton``); the padding gets zeros.
    """
    G, p, _ = a.shape
    if p == 1:
        d = a[:, 0, 0]
        with np.errstate(divide="ignore"):
            return np.where((d > 0) & (d < np.inf), 1.0 / d, 0.0)[:, None, None]
    pad = None if ncol is None else np.arange(p) >= ncol[:, None]  # (G, p)
    if pad is not None:  # identity on the padding: the model's block is factorised as alone
        a = a.copy()
        a[pad[:, :, None] & np.eye(p, dtype=bool)] = 1.0
    try:  # (cholesky and inv set their own floating-point error state)
        ci = np.linalg.inv(np.linalg.cholesky(a))
        out = np.matmul(ci.transpose(0, 2, 1), ci)
    except np.linalg.LinAlgError:  # one of them is not positive definite
        out = np.zeros((G, p, p))
        for g in range(G):
            k = p if ncol is None else int(ncol[g])
            out[g, :k, :k] = pinv_pd(a[g, :k, :k])
        return out
    if pad is not None:
        out[pad[:, :, None] | pad[:, None, :]] = 0.0
    return out


@dataclass(frozen=True)
class Newton:
    """Per group: R's coef, var (inverse information), u, loglik (init, final), score test,
    iterations, converged and the columns whose coefficient may be infinite."""

    beta: np.ndarray  # (G, p)
    var: np.ndarray  # (G, p, p)
    u: np.ndarray  # (G, p)
    loglik0: np.ndarray
    loglik: np.ndarray
    score_test: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    infinite: np.ndarray  # (G, p) bool


def newton(rs: RiskSets, ncol: np.ndarray | None = None) -> Newton:
    """coxfit6's (or, for (start, stop] data, agfit4's) Newton-Raphson per group, from beta = 0.

    ``ncol`` (G,): groups with fewer covariates than columns (models of different sizes in one
    run) have zeros in their last columns; those add exactly nothing to the log-likelihood,
    score and information, and are left out of every inverse, so such a group's fit is the fit
    of its own columns (its coefficients, variance and score are zero on the padding).

    coxfit6 stops when the relative change in log-likelihood is <= eps; agfit4 also requires
    that the step was not halved. A step that lowers the log-likelihood (or overflows) is
    halved towards the best beta. Out of iterations, coxfit6 reports the best beta (and
    iter.max + 1 iterations), agfit4 the last one unless it was worse. Every group is evaluated
    in one ``loglik`` call per iteration; the decisions are taken per group, as R does per fit.
    Once at most half of the groups still iterate, only those are evaluated.
    """
    G, p = rs.XT.shape[0], rs.XT.shape[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        beta = np.zeros((G, p))
        ll0, u, imat = loglik(rs, beta)
        step = np.einsum("gij,gj->gi", pinv_stack(imat, ncol), u)
        sctest = (u * step).sum(axis=1)
        best = ll0.copy()
        newbeta = beta + step
        # each group's last evaluation (agfit4 may report it)
        last_ll, last_u, last_i, last_b = ll0.copy(), u.copy(), imat.copy(), beta.copy()
        halving = np.zeros(G, dtype=np.int64)
        iters = np.zeros(G, dtype=np.int64)
        conv = np.zeros(G, dtype=bool)
        active = np.ones(G, dtype=bool)
        cur, rs_cur = np.arange(G), rs  # the groups evaluated (fewer once most have converged)
        newlk, un, imn = np.full(G, np.nan), np.zeros((G, p)), np.zeros((G, p, p))
        for it in range(1, MAX_ITER + 1):
            if not active.any():
                break
            newlk[cur], un[cur], imn[cur] = loglik(rs_cur, newbeta[cur])
            # the decisions R takes per fit, taken for every active group at once
            iters[active] = it
            if rs.counting:  # only agfit4 may report the last evaluation
                last_ll[active], last_u[active] = newlk[active], un[active]
                last_i[active], last_b[active] = imn[active], newbeta[active]
            finite = (
                np.isfinite(newlk) & np.isfinite(un).all(axis=1) & np.isfinite(imn).all(axis=(1, 2))
            )
            rel = np.where(newlk != 0, np.abs(1 - best / newlk), np.abs(best - newlk))
            done = active & finite & (rel <= EPS)
            if rs.counting:
                done &= halving == 0
            # converged, or a step up: take the new beta
            take = done | (active & ~done & finite & ~(newlk < best))
            best[take], beta[take], u[take], imat[take] = (
                newlk[take],
                newbeta[take],
                un[take],
                imn[take],
            )
            conv |= done
            active &= ~done
            if 0 < active.sum() <= cur.size // 2:  # stop evaluating the converged groups
                cur = np.flatnonzero(active)
                rs_cur = take_groups(rs, cur)
            halve = active & ~take  # not converging: halve towards the best
            if halve.any():
                halving[halve] += 1
                h = halving[halve][:, None].astype(float)
                newbeta[halve] = (newbeta[halve] + h * beta[halve]) / (h + 1.0)
            up = active & take
            if up.any():
                halving[up] = 0
                inv = pinv_stack(imn[up], None if ncol is None else ncol[up])
                newbeta[up] = newbeta[up] + np.einsum("gij,gj->gi", inv, un[up])
        redo = []
        for g in np.flatnonzero(active).tolist():  # out of iterations
            if rs.counting and not (last_ll[g] - best[g]) / abs(best[g]) < -EPS:
                best[g], u[g], imat[g], beta[g] = last_ll[g], last_u[g], last_i[g], last_b[g]
            else:
                redo.append(g)
                if not rs.counting:
                    iters[g] = MAX_ITER + 1
        if redo:
            rl, ru, ri = loglik(rs, beta)
            best[redo], u[redo], imat[redo] = rl[redo], ru[redo], ri[redo]
        var = pinv_stack(imat, ncol)
        infs = np.abs(np.einsum("gj,gji->gi", u, var))
        if rs.counting:
            flag = ~np.isfinite(u) | (infs > TOLER_INF * (1 + np.abs(beta)))
        else:
            flag = ~np.isfinite(u) | ((infs > EPS) & (infs > TOLER_INF * np.abs(beta)))
    flag &= conv[:, None]
    return Newton(beta, var, u, ll0, best, sctest, iters, conv, flag)


def score_residuals(rs: RiskSets, beta: np.ndarray) -> np.ndarray:
    """(G, L, p) score residuals of each row (unweighted), R ``coxscore2``/``agscore3``."""
    eta = linear_predictor(rs, beta)
    cmax = np.where(rs.w > 0, eta, -np.inf).max(axis=1)
    score = np.exp(eta - cmax[:, None])
    r = score * rs.w
    rXT = rs.XT * r[:, None, :]
    R, A, D, A2 = _risk_sums(rs, r, rXT)
    p = rs.XT.shape[1]
    # coxscore2/agscore3's per-time pieces from the Efron sums (h_m = meanwt / den_m, xbar_m =
    # (A - f_m A2) / den_m): H = sum h, XH = sum xbar h, mh1 = sum f h, mh2 = sum f xbar h,
    # mh3 = mean of xbar
    _, s1, s2, c11, c12, c22 = _efron_sums(rs, R, D)
    H, mh1 = s1, s2
    XH = A * c11[:, None] - A2 * c12[:, None]
    mh2 = A * c12[:, None] - A2 * c22[:, None]
    nterm = rs.ndead if rs.ties == "efron" else 1  # Breslow: one term per death time
    mh3 = (A * s1[:, None] - A2 * s2[:, None]) / (rs.meanwt * nterm)[:, None]
    X = rs.XT.transpose(0, 2, 1)  # (G, L, p)
    cumH = _per_row(rs, H)
    out = np.empty(X.shape)
    for j in range(p):
        out[:, :, j] = -score * (X[:, :, j] * cumH - _per_row(rs, XH[:, j]))
    xd = rs.XT[rs.dg, :, rs.dc]
    sd = score[rs.dg, rs.dc][:, None]
    kd = rs.dk
    out[rs.dg, rs.dc] += (xd - mh3[kd]) + sd * (xd * mh1[kd][:, None] - mh2[kd])
    return out
