"""Cox proportional-hazards regression (Efron ties), PH check and subgroup forest.

Our own Newton-Raphson, a transcription of R ``survival``'s ``coxfit6`` iteration (start at 0,
step-halving, stop when the relative change in log-likelihood is <= 1e-9, at most 20 iterations),
vectorised over time-sorted rows: reverse cumulative sums for the risk sets, ``np.add.reduceat``
over tied deaths, and the information matrix as one weighted ``X'WX`` product. About 1 ms at
n = 95. Checked against R ``coxph``/``cox.zph`` and lifelines in ``tests/test_cox.py``. Models
whose covariates are functions of a few cells (the subgroup forest's) are fitted from risk-set
counts per cell instead of per-row sums (``_cell_efron``, ``_treatment_fits``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from . import schema
from .errors import CohortError
from .survival import _survival_data
from .tables import LEVEL_LABELS, label_of

__all__ = [
    "CoxResult",
    "BCLC_AB_VS_C",
    "LOG10_AFP",
    "AFP_400",
    "DERIVED_COVARIATES",
    "PAPER_COX_COVARIATES",
    "fit_cox",
    "cox_univariable",
    "subgroup_forest",
    "term_label",
]

# Derived covariates (computed from canonical columns when named in ``covariates``)
BCLC_AB_VS_C = (
    "bclc_ab_vs_c"  # levels "A/B" (reference; BCLC 0 counted here) and "C" (D counted here)
)
LOG10_AFP = "log10_afp"  # log10 of AFP in ng/mL, AFP below 1 ng/mL floored at 1
AFP_400 = "afp_400"  # levels "< 400" (reference) and ">= 400" ng/mL, the usual HCC cut-off
DERIVED_COVARIATES: dict[str, str] = {
    BCLC_AB_VS_C: "BCLC stage C (or D) vs A/B (or 0), from bclc_stage",
    LOG10_AFP: "log10 AFP (ng/mL; values below 1 set to 1), from afp_ng_ml",
    AFP_400: "AFP >= 400 vs < 400 ng/mL, from afp_ng_ml",
}
_DERIVED_LEVELS = {BCLC_AB_VS_C: ("A/B", "C"), AFP_400: ("< 400", ">= 400")}

# The paper's multivariable model (Methods): treatment + age, sex, Child-Pugh (A vs B),
# BCLC (A/B vs C), maximum diameter, tumour number, log AFP, ALBI score.
PAPER_COX_COVARIATES: tuple[str, ...] = (
    schema.TREATMENT_GROUP,
    schema.AGE,
    schema.SEX,
    schema.CHILD_PUGH_CLASS,
    BCLC_AB_VS_C,
    schema.MAX_DIAMETER,
    schema.TUMOR_NUMBER,
    LOG10_AFP,
    schema.ALBI_SCORE,
)

_EPS = 1e-9  # coxph.control eps
_MAX_ITER = 20  # coxph.control iter.max
_TOLER_INF = np.sqrt(_EPS)  # coxph.control toler.inf
_COLLINEAR_TOL = 1e-9
# From this many rows on, products over patients use numpy sums instead of BLAS (see _gram).
_NUMPY_ROWS = 8192
_TABLE_COLUMNS = ["coef", "se", "hr", "hr_lower", "hr_upper", "p_value"]
_METHOD = (
    "Cox proportional hazards, Efron ties (R coxph default); Wald CIs and p-values; "
    "PH test: cox.zph, transform = 'km'"
)


# ---- design matrix ------------------------------------------------------------------------------
def _values(df: pd.DataFrame, name: str) -> pd.Series:
    if name == BCLC_AB_VS_C:
        schema.require_columns(df, [schema.BCLC_STAGE], "Cox model")
        stage = df[schema.BCLC_STAGE].astype("object")
        out = stage.map({"0": "A/B", "A": "A/B", "B": "A/B", "C": "C", "D": "C"})
        return out.where(stage.notna())
    if name == AFP_400:
        schema.require_columns(df, [schema.AFP], "Cox model")
        afp = pd.to_numeric(df[schema.AFP], errors="coerce")
        return pd.Series(
            np.where(afp >= 400, ">= 400", "< 400"), index=df.index, dtype=object
        ).where(afp.notna())
    if name == LOG10_AFP:
        schema.require_columns(df, [schema.AFP], "Cox model")
        afp = pd.to_numeric(df[schema.AFP], errors="coerce")
        return np.log10(afp.clip(lower=1.0))
    schema.require_columns(df, [name], "Cox model")
    return df[name]


def term_label(term: str) -> str:
    """Human label of a model term: 'sex[F]' -> 'Sex: Female vs Male', 'age' -> 'Age (years)'.

    A categorical term ``column[level]`` is named against the column's reference level (its
    first level in schema order, or the derived covariate's first level).
    """
    if not term.endswith("]") or "[" not in term:
        return label_of(term)
    column, level = term[:-1].split("[", 1)
    names = LEVEL_LABELS.get(column, {})
    levels = _DERIVED_LEVELS.get(column) or schema.LEVELS.get(column, ())
    ref = f" vs {names.get(levels[0], levels[0])}" if levels and str(levels[0]) != level else ""
    return f"{label_of(column)}: {names.get(level, level)}{ref}"


def _is_categorical(name: str, s: pd.Series) -> bool:
    return (
        name in schema.CATEGORICAL
        or name in _DERIVED_LEVELS
        or not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
    )


def _order_levels(name: str, present: list) -> list:
    """Levels in schema order (unknown extras sorted after), as ``schema.levels_of``."""
    known = _DERIVED_LEVELS.get(name, schema.LEVELS.get(name, ()))
    first = [lv for lv in known if lv in set(present)]
    return first + sorted((v for v in present if v not in set(first)), key=str)


@dataclass(frozen=True)
class _Design:
    X: np.ndarray  # (n, p) float, complete cases only
    terms: list[str]
    assign: dict[str, list[int]]  # covariate -> its columns in X
    keep: np.ndarray  # bool over the endpoint-valid rows
    notes: tuple[str, ...]


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing (plain float columns without pandas coercion)."""
    s = df[column]
    if s.dtype == np.float64:
        return s.to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _encode(frame: pd.DataFrame, c: str) -> tuple:
    """One covariate as arrays: (is_categorical, codes or values, categories, missing mask)."""
    if c == LOG10_AFP:  # as _values, without building a Series
        schema.require_columns(frame, [schema.AFP], "Cox model")
        x = np.log10(np.clip(_numeric(frame, schema.AFP), 1.0, None))
        return False, x, None, np.isnan(x)
    if c not in _DERIVED_LEVELS:
        schema.require_columns(frame, [c], "Cox model")
        if not _is_categorical(c, frame[c]):
            x = _numeric(frame, c)
            return False, x, None, np.isnan(x)
    v = _values(frame, c)
    if _is_categorical(c, v):
        codes, uniques = pd.factorize(v)
        return True, codes.astype(np.int64), list(uniques), codes < 0
    x = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return False, x, None, np.isnan(x)


def _take(enc: tuple, rows: np.ndarray) -> tuple:
    """An encoded covariate restricted to ``rows`` (a boolean mask or an index array)."""
    is_cat, data, cats, miss = enc
    return is_cat, data[rows], cats, miss[rows]


def _design(encoded: dict[str, tuple], n_rows: int) -> _Design:
    """Model matrix (treatment-coded factors against their first level), complete cases.

    ``encoded`` maps each covariate to its ``_encode`` arrays over the same ``n_rows`` rows.
    """
    keep = np.ones(n_rows, dtype=bool)
    missing = {}
    for c, (_, _, _, miss) in encoded.items():
        if miss.any():
            missing[c] = int(miss.sum())
            keep &= ~miss
    notes = []
    if missing:
        detail = ", ".join(f"{c}: {k}" for c, k in missing.items())
        notes.append(
            f"{int((~keep).sum())} patient(s) with a missing covariate were excluded "
            f"(complete-case analysis; missing values by column: {detail})."
        )
    cols, terms, owner = [], [], []
    for c, (is_cat, data, cats, _) in encoded.items():
        data = data[keep]
        if is_cat:
            used = (
                np.bincount(data, minlength=len(cats)) > 0
                if data.size
                else np.zeros(len(cats), bool)
            )
            present = [cats[i] for i in np.flatnonzero(used)]
            lv = _order_levels(c, present)
            if len(lv) < 2:
                notes.append(
                    f"'{c}' takes a single value in these patients and was dropped from the model."
                )
                continue
            code_of = {cat: i for i, cat in enumerate(cats)}
            for level in lv[1:]:
                cols.append((data == code_of[level]).astype(float))
                terms.append(f"{c}[{level}]")
                owner.append(c)
        else:
            if data.size and np.ptp(data) == 0:
                notes.append(f"'{c}' is constant in these patients and was dropped from the model.")
                continue
            cols.append(data)
            terms.append(c)
            owner.append(c)
    X = np.column_stack(cols) if cols else np.empty((int(keep.sum()), 0))
    X, terms, owner, dropped = _drop_collinear(X, terms, owner)
    if dropped:
        notes.append(
            f"Term(s) {', '.join(dropped)} are linear combinations of other terms in these "
            "patients and were dropped (R would report NA)."
        )
    assign: dict[str, list[int]] = {}
    for j, c in enumerate(owner):
        assign.setdefault(c, []).append(j)
    return _Design(X, terms, assign, keep, tuple(notes))


def _gram(at: np.ndarray, w: np.ndarray | None = None, bt: np.ndarray | None = None):
    """``at @ diag(w) @ bt.T`` (``bt`` defaults to ``at``) for C-ordered (p, n) arrays, by
    numpy's own (pairwise) sums.

    For tall, thin products OpenBLAS's threaded gemm/gemv stall for milliseconds per call when
    the other cores are busy (shared 2-core bench machine: 8 ms for a 100,000 x 1 product that
    takes 0.02 ms single-threaded), and the Newton iterations make hundreds of such calls.
    numpy's reductions never start threads and are as fast as gemm for p <= 9 at n = 100,000.
    """
    p, n = at.shape
    sym = bt is None
    bt = at if sym else bt
    out = np.empty((p, p))
    # two reused n-vectors: fresh n-sized temporaries per product cost more in page faults
    # (0.7 ms per 800 kB here) than the arithmetic
    aw, prod = np.empty(n), np.empty(n)
    for i in range(p):
        if w is None:
            aw[:] = at[i]
        else:
            np.multiply(at[i], w, out=aw)
        for j in range(i if sym else 0, p):
            out[i, j] = np.multiply(aw, bt[j], out=prod).sum()
            if sym:
                out[j, i] = out[i, j]
    return out


def _drop_collinear(X, terms, owner, weights=None):
    """Drop columns that add no rank, in order (like coxph's singular-column check).

    ``weights``: each row of ``X`` stands for that many rows (e.g. cells of ``_cell_counts``).
    """
    if X.shape[1] == 0:
        return X, terms, owner, []
    if weights is not None:
        Xc = X - (weights @ X) / weights.sum()
        G = (Xc.T * weights) @ Xc
    else:
        Xc = X - X.mean(axis=0)
        G = Xc.T @ Xc if X.shape[0] < _NUMPY_ROWS else _gram(np.ascontiguousarray(Xc.T))
    kept: list[int] = []
    for j in range(X.shape[1]):
        gjj = G[j, j]
        if kept:
            Gs = G[np.ix_(kept, kept)]
            gj = G[kept, j]
            gjj = gjj - gj @ np.linalg.lstsq(Gs, gj, rcond=None)[0]
        if gjj > _COLLINEAR_TOL * max(G[j, j], 1e-300) and G[j, j] > 0:
            kept.append(j)
    dropped = [terms[j] for j in range(X.shape[1]) if j not in kept]
    return X[:, kept], [terms[j] for j in kept], [owner[j] for j in kept], dropped


# ---- Efron partial likelihood -------------------------------------------------------------------
@dataclass(frozen=True)
class _Sorted:
    X: np.ndarray  # centred, time-ascending
    time: np.ndarray
    event: np.ndarray
    start: np.ndarray  # first row of each distinct time
    inv: np.ndarray  # distinct-time index of each row
    dt: np.ndarray  # distinct-time indices with deaths
    death_rows: np.ndarray
    death_k: np.ndarray  # for each death row (and each Efron term): index into dt
    dstarts: np.ndarray  # first death row of each death time (for reduceat)
    frac: np.ndarray  # Efron fraction m/d for each term
    n_times: int
    xd_sum: np.ndarray  # sum of X over deaths (constant in beta)
    first: np.ndarray  # first row of each death time's risk set
    before: np.ndarray  # the row before it (0 where first == 0, see first0)
    first0: np.ndarray  # bool: the risk set starts at row 0
    order: np.ndarray | None  # the sort applied to the input rows (None if presorted)
    XT: np.ndarray | None  # X transposed, C-ordered, from _NUMPY_ROWS rows on (else None)

    def lp(self, beta: np.ndarray) -> np.ndarray:
        """Linear predictor X @ beta (centred X, sorted rows)."""
        return self.X @ beta if self.XT is None else (self.XT * beta[:, None]).sum(axis=0)


def _sort(time: np.ndarray, event: np.ndarray, X: np.ndarray, presorted: bool = False) -> _Sorted:
    """Risk-set bookkeeping over time-ascending rows (``presorted``: the rows already are,
    e.g. a boolean subset of time-sorted arrays, which keeps their order)."""
    o = None
    if not presorted:
        o = np.argsort(time, kind="stable")
        time, event, X = time[o], event[o], X[o]
    else:  # X[o] is C-ordered; keep that layout so the column means sum in the same order
        X = np.ascontiguousarray(X)
    X = X - X.mean(axis=0)
    # distinct times of sorted data in O(n), the same start/inverse as np.unique's
    new = np.empty(time.size, dtype=bool)
    new[:1] = True
    np.not_equal(time[1:], time[:-1], out=new[1:])
    start = np.flatnonzero(new)
    inv = np.cumsum(new) - 1
    n_times = start.size
    d = np.bincount(inv, weights=event, minlength=n_times)
    dt = np.flatnonzero(d > 0)
    dk = d[dt].astype(np.int64)
    death_k = np.repeat(np.arange(dt.size), dk)
    dstarts = np.concatenate(([0], np.cumsum(dk)[:-1])).astype(np.int64)
    frac = (np.arange(death_k.size) - np.repeat(dstarts, dk)) / np.repeat(dk, dk)
    death_rows = np.flatnonzero(event == 1)
    return _Sorted(
        X,
        time,
        event,
        start,
        inv,
        dt,
        death_rows,
        death_k,
        dstarts,
        frac,
        n_times,
        X[death_rows].sum(axis=0),
        start[dt],
        np.maximum(start[dt] - 1, 0),
        start[dt] == 0,
        o,
        np.ascontiguousarray(X.T) if time.size >= _NUMPY_ROWS else None,
    )


def _efron(beta: np.ndarray, s: _Sorted, g: np.ndarray | None = None):
    """Log-likelihood, score and information at ``beta`` (R coxfit6_iter, Efron ties).

    With ``g`` (one value per death time) also returns the cox.zph pieces (R zph1): the score
    of g(t) * X and the information blocks weighted by g and g^2.
    """
    eta = s.lp(beta)
    c = eta.max() if eta.size else 0.0
    r = np.exp(eta - c)  # the shift cancels exactly (one log-term per death)
    rX = r[:, None] * s.X
    # sums over the risk set {time >= t}: total minus everything before t's first row
    first = s.first
    cr = np.concatenate(([0.0], np.cumsum(r)))
    R_all = cr[-1] - cr[first]
    cA = np.cumsum(rX, axis=0)
    before = cA[s.before]
    before[s.first0] = 0.0
    A_all = cA[-1] - before
    D = np.add.reduceat(r[s.death_rows], s.dstarts)
    A2 = np.add.reduceat(rX[s.death_rows], s.dstarts, axis=0)
    k, f = s.death_k, s.frac
    den = R_all[k] - f * D[k]
    loglik = float(s.xd_sum @ beta - c * k.size - np.log(den).sum())
    s1 = np.bincount(k, weights=1.0 / den, minlength=s.dt.size)
    s2 = np.bincount(k, weights=f / den, minlength=s.dt.size)
    if s.XT is not None:
        return _efron_by_time(s, r, A_all, A2, den, s1, s2, loglik, g)
    B = (A_all[k] - f[:, None] * A2[k]) / den[:, None]
    u = s.xd_sum - B.sum(axis=0)

    def info(weight_t: np.ndarray | None):
        w1 = s1 if weight_t is None else s1 * weight_t
        w2 = s2 if weight_t is None else s2 * weight_t
        w = _row_weights(s, r, w1, w2)
        bw = B if weight_t is None else B * weight_t[k][:, None]
        return (s.X * w[:, None]).T @ s.X - bw.T @ B

    imat = info(None)
    if g is None:
        return loglik, u, imat
    u2 = g[k] @ s.X[s.death_rows] - g[k] @ B
    return loglik, u, imat, u2, info(g), info(g * g)


def _row_weights(s: _Sorted, r: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Per-row weight of the X'WX part of the information (see ``_efron``'s ``info``)."""
    full = np.zeros(s.n_times)
    full[s.dt] = w1
    w = r * np.cumsum(full)[s.inv]
    w[s.death_rows] -= r[s.death_rows] * w2[s.death_k]
    return w


def _efron_by_time(s, r, A_all, A2, den, s1, s2, loglik, g):
    """``_efron``'s score and information for many rows, summed per death time in closed form.

    Each Efron term m of a death time contributes B_m = (A - f_m A2) / den_m, so the sums over
    terms are A * sum(1/den) - A2 * sum(f/den) for the score and, for B'B, A A' sum(1/den^2)
    - (A A2' + A2 A') sum(f/den^2) + A2 A2' sum(f^2/den^2): no (deaths x p) array of B rows.
    Same quantities as the per-term code up to rounding; used from _NUMPY_ROWS rows on.
    """
    k, f, nt = s.death_k, s.frac, s.dt.size
    At, A2t = np.ascontiguousarray(A_all.T), np.ascontiguousarray(A2.T)
    c11 = np.bincount(k, weights=1.0 / den**2, minlength=nt)
    c12 = np.bincount(k, weights=f / den**2, minlength=nt)
    c22 = np.bincount(k, weights=f * f / den**2, minlength=nt)

    def b_sum(wt):  # sum over terms of wt[k] * B (numpy sums, not BLAS gemv: see _gram)
        v1, v2 = (s1, s2) if wt is None else (s1 * wt, s2 * wt)
        return (At * v1).sum(axis=1) - (A2t * v2).sum(axis=1)

    def info(wt):
        w1, w2 = (s1, s2) if wt is None else (s1 * wt, s2 * wt)
        d11, d12, d22 = (c11, c12, c22) if wt is None else (c11 * wt, c12 * wt, c22 * wt)
        cross = _gram(At, d12, A2t)
        btb = _gram(At, d11) - cross - cross.T + _gram(A2t, d22)
        return _gram(s.XT, _row_weights(s, r, w1, w2)) - btb

    u = s.xd_sum - b_sum(None)
    imat = info(None)
    if g is None:
        return loglik, u, imat
    u2 = (s.XT[:, s.death_rows] * g[k]).sum(axis=1) - b_sum(g)
    return loglik, u, imat, u2, info(g), info(g * g)


def _pinv_pd(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix on its numerically positive-definite part.

    Like R's cholesky2/chinv2 (which zero a non-positive pivot), directions where the
    information is not numerically positive get zero, so Newton steps never go uphill there.
    """
    if a.shape == (1, 1) and 0.0 < a[0, 0] < np.inf:
        # the 1 x 1 case of the lines below without LAPACK calls (same floating-point result)
        ci = 1.0 / np.sqrt(a[0, 0])
        return np.array([[ci * ci]])
    try:
        c = np.linalg.cholesky(a)
        ci = np.linalg.inv(c)
        return ci.T @ ci
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh((a + a.T) / 2)
        ok = w > 1e-9 * max(w.max(initial=0.0), 1e-300)
        return (v[:, ok] / w[ok]) @ v[:, ok].T


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _pinv_pd(a) @ b


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    var: np.ndarray
    u: np.ndarray
    loglik0: float
    loglik: float
    iterations: int
    converged: bool
    infinite: tuple[int, ...]  # columns whose coefficient may be infinite (separation)


def _newton(s, p: int, efron=None) -> _Fit:
    """coxfit6's Newton-Raphson with step-halving, from beta = 0 (``efron``: ``_efron`` for
    a ``_Sorted``, ``_cell_efron`` for ``_Cells``)."""
    efron = _efron if efron is None else efron
    beta = np.zeros(p)
    ll0, u, imat = efron(beta, s)
    best = ll0
    newbeta = beta + _solve(imat, u)
    halving, it, converged = 0, 0, False
    for it in range(1, _MAX_ITER + 1):  # noqa: B007
        # A trial step can overflow exp(X beta); it is then non-finite and halved below, as
        # in coxfit6, so numpy's warnings about it carry no information for the log.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newlk, u, imat = efron(newbeta, s)
        finite = np.isfinite(newlk) and np.isfinite(u).all() and np.isfinite(imat).all()
        rel = abs(1 - best / newlk) if newlk != 0 else abs(best - newlk)
        if finite and rel <= _EPS:
            best, beta, converged = newlk, newbeta, True
            break
        if not finite or newlk < best:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            beta, newbeta = newbeta, newbeta + _solve(imat, u)
    if not converged:
        best, u, imat = efron(beta, s)
    var = _pinv_pd(imat) if p else np.empty((0, 0))
    infs = np.abs(u @ var) if p else np.empty(0)
    flagged = tuple(np.flatnonzero((infs > _EPS) & (infs > _TOLER_INF * np.abs(beta))).tolist())
    return _Fit(beta, var, u, ll0, best, it, converged, flagged if converged else ())


# ---- Cox models whose covariates are functions of a few cells (subgroup interaction tests) ----
@dataclass(frozen=True)
class _CellCounts:
    """Risk sets of time-ascending rows counted per cell (e.g. arm x subgroup level): the
    covariates of every row in a cell are equal, so the Efron sums need only these counts."""

    first: np.ndarray  # first row of each cell (where its covariate values are read)
    size: np.ndarray  # rows per cell
    N: np.ndarray  # (death times, cells) at risk
    D: np.ndarray  # (death times, cells) deaths
    death_k: np.ndarray  # death time of each Efron term
    dstarts: np.ndarray  # first Efron term of each death time (terms are grouped by time)
    frac: np.ndarray  # Efron fraction of each term


@dataclass(frozen=True)
class _Cells:
    counts: _CellCounts
    X: np.ndarray  # (cells, p) centred covariate values
    xd_sum: np.ndarray  # sum of X over deaths


def _cell_counts(time: np.ndarray, event: np.ndarray, cell: np.ndarray) -> _CellCounts:
    """``_CellCounts`` of time-ascending rows; ``cell`` holds small integers >= 0."""
    _, first, cid = np.unique(cell, return_index=True, return_inverse=True)
    nc = first.size
    new = np.empty(time.size, dtype=bool)
    new[:1] = True
    np.not_equal(time[1:], time[:-1], out=new[1:])
    inv = np.cumsum(new) - 1
    key = inv * nc + cid
    size = int(inv[-1]) + 1 if inv.size else 0
    at_time = np.bincount(key, minlength=size * nc).reshape(size, nc)
    deaths = np.bincount(key, weights=event, minlength=size * nc).reshape(size, nc)
    dt = np.flatnonzero(deaths.sum(axis=1) > 0)
    at_risk = np.cumsum(at_time[::-1], axis=0)[::-1]
    deaths = deaths[dt]
    dk = deaths.sum(axis=1).astype(np.int64)
    death_k = np.repeat(np.arange(dt.size), dk)
    dstarts = np.concatenate(([0], np.cumsum(dk)[:-1])).astype(np.int64)
    frac = (np.arange(death_k.size) - np.repeat(dstarts, dk)) / np.repeat(dk, dk)
    return _CellCounts(
        first, at_time.sum(axis=0), at_risk[dt].astype(float), deaths, death_k, dstarts, frac
    )


def _cell_model(cc: _CellCounts, xcell: np.ndarray) -> _Cells:
    """The model whose design has row ``xcell[c]`` for every row of cell ``c`` (cells as
    numbered by ``_cell_counts``), centred over rows as in ``_sort``."""
    xc = xcell - (cc.size @ xcell) / cc.size.sum()
    return _Cells(cc, xc, cc.D.sum(axis=0) @ xc)


def _cell_efron(beta: np.ndarray, s: _Cells, g: None = None):
    """``_efron``'s log-likelihood, score and information from the per-cell counts.

    Cell c has risk weight r_c at every row, so the risk-set sums at a death time are N r and
    N (r x), and the per-row weights of the information become per-cell ones; the sums over
    Efron terms are taken per death time in closed form as in ``_efron_by_time``.
    """
    cc = s.counts
    eta = s.X @ beta
    c = eta.max()
    r = np.exp(eta - c)
    k, f = cc.death_k, cc.frac
    den = (cc.N @ r)[k] - f * (cc.D @ r)[k]
    loglik = float(s.xd_sum @ beta - c * k.size - np.log(den).sum())
    # sums over each death time's terms (contiguous): reduceat, ~10x faster than bincount
    w = np.empty((5, k.size))
    np.divide(1.0, den, out=w[0])
    np.multiply(f, w[0], out=w[1])
    np.multiply(w[0], w[0], out=w[2])
    np.multiply(f, w[2], out=w[3])
    np.multiply(f, w[3], out=w[4])
    s1, s2, c11, c12, c22 = np.add.reduceat(w, cc.dstarts, axis=1)
    rx = r[:, None] * s.X
    A, A2 = cc.N @ rx, cc.D @ rx
    u = s.xd_sum - (s1 @ A - s2 @ A2)
    wc = r * (s1 @ cc.N - s2 @ cc.D)
    cross = (A.T * c12) @ A2
    imat = (s.X.T * wc) @ s.X - ((A.T * c11) @ A - cross - cross.T + (A2.T * c22) @ A2)
    return loglik, u, imat


def _cell_loglik(cc: _CellCounts, xcell: np.ndarray) -> float:
    """Maximised log-likelihood of the Cox model with per-cell design ``xcell`` (coxfit6's
    iteration)."""
    return _newton(_cell_model(cc, xcell), xcell.shape[1], _cell_efron).loglik


# ---- concordance --------------------------------------------------------------------------------
def _prefix_less(rank: np.ndarray) -> np.ndarray:
    """For each position i: #{j < i : rank[j] < rank[i]} (ranks are integers >= 0).

    Wavelet-style counting by binary digits, most significant first: at each level the
    sequence is kept stably sorted by the higher digits, and an element with digit 1 counts the
    digit-0 elements before it in its group. Each level is O(n) numpy work (no sorting).
    """
    n = rank.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    it = np.int32 if n < 2**31 - 1 else np.int64
    rank = rank.astype(it)
    idx = np.arange(n, dtype=it)
    order = idx.copy()
    counts_o = np.zeros(n, dtype=it)  # counts aligned with the current order
    for b in reversed(range(max(int(rank.max()).bit_length(), 1))):
        r_o = rank[order]
        key = r_o >> (b + 1)
        zero = ((r_o >> b) & 1) == 0
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        gstart = np.maximum.accumulate(np.where(first, idx, 0))
        cz = np.cumsum(zero, dtype=it)
        cz -= zero
        zeros_before = cz - cz[gstart]
        counts_o += np.where(zero, 0, zeros_before)
        # zeros in each group = zeros before the group's end; groups are contiguous
        last = np.empty(n, dtype=bool)
        last[-1] = True
        last[:-1] = first[1:]
        gend = np.minimum.accumulate(np.where(last, idx, n - 1)[::-1])[::-1]
        nz = cz[gend] + zero[gend] - cz[gstart]
        newpos = np.where(zero, gstart + zeros_before, gstart + nz + (idx - gstart - zeros_before))
        new_order = np.empty(n, dtype=it)
        new_order[newpos] = order
        new_counts = np.empty(n, dtype=it)
        new_counts[newpos] = counts_o
        order, counts_o = new_order, new_counts
    counts = np.empty(n, dtype=np.int64)
    counts[order] = counts_o
    return counts


def _concordance(time: np.ndarray, event: np.ndarray, lp: np.ndarray) -> float:
    """Harrell's C as R coxph's ``concordance``: ties in lp count 1/2, tied event times excluded.

    A pair is comparable when the earlier time is an event; a censoring at the same time as an
    event counts as the longer survivor.
    """
    if not event.any():
        return float("nan")
    _, rank = np.unique(lp, return_inverse=True)
    rank = rank.astype(np.int64)
    # Order: time descending, censored before events at a tied time, then lp ascending. An
    # event's comparable set is everyone placed before its (time, event) block.
    o = np.lexsort((rank, event, -time))
    t, e, r = time[o], event[o], rank[o]
    pos = np.arange(t.size)
    new_block = np.ones(t.size, dtype=bool)
    new_block[1:] = (t[1:] != t[:-1]) | (e[1:] != e[:-1])
    block_start = np.maximum.accumulate(np.where(new_block, pos, 0))
    new_tie = new_block.copy()
    new_tie[1:] |= r[1:] != r[:-1]
    tie_start = np.maximum.accumulate(np.where(new_tie, pos, 0))
    ev = e == 1
    # earlier members of the same event block are not comparable: remove them (they have
    # rank <= ours by the sort order, so they only affect the "less" count)
    within_less = (tie_start - block_start)[ev]
    less_all = _prefix_less(r)
    # earlier positions with an equal rank, from a stable sort by rank
    by_rank = np.argsort(r, kind="stable")
    rs = r[by_rank]
    grp_first = np.ones(rs.size, dtype=bool)
    grp_first[1:] = rs[1:] != rs[:-1]
    equal_before = np.empty(rs.size, dtype=np.int64)
    equal_before[by_rank] = pos - np.maximum.accumulate(np.where(grp_first, pos, 0))
    less = less_all[ev] - within_less
    greater = (pos - less_all - equal_before)[ev]
    lim = block_start[ev]
    concordant, discordant = less.sum(), greater.sum()
    tied = (lim - less - greater).sum()
    denom = concordant + discordant + tied
    return float((concordant + tied / 2) / denom) if denom else float("nan")


# ---- cox.zph ------------------------------------------------------------------------------------
def _zph(s: _Sorted, fit: _Fit, assign: dict[str, list[int]]) -> pd.DataFrame:
    """R ``cox.zph(fit, transform = "km")`` (survival >= 3.0): score test for g(t) * X."""
    # left-continuous pooled KM at each death time: 1 - S(t-)
    ut_n = s.n_times
    total = np.bincount(s.inv, minlength=ut_n).astype(float)
    d = np.bincount(s.inv, weights=s.event, minlength=ut_n)
    n_risk = np.cumsum(total[::-1])[::-1]
    surv = np.cumprod(1.0 - d / n_risk)
    km_left = np.concatenate(([1.0], surv[:-1]))
    g_t = 1.0 - km_left[s.dt]
    dcount = d[s.dt]
    g = g_t - (g_t * dcount).sum() / dcount.sum()
    _, _, i11, u2, i12, i22 = _efron(fit.beta, s, g)
    p = fit.beta.size
    imat = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for term, cols in list(assign.items()) + [("GLOBAL", list(range(p)))]:
        kk = list(range(p)) + [p + j for j in cols]
        uu = np.concatenate((np.zeros(p), u2[cols]))
        chisq = float(uu @ _solve(imat[np.ix_(kk, kk)], uu))
        rows.append((term, chisq, len(cols), float(special.chdtrc(len(cols), chisq))))
    terms, chisq, dof, p_value = zip(*rows, strict=True)
    return pd.DataFrame(
        {"chisq": chisq, "df": dof, "p_value": p_value}, index=pd.Index(terms, name="term")
    )


# ---- public API ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model.

    ``table`` is indexed by term (``age``, ``sex[F]``, ``treatment_group[local+systemic]``) with
    ``coef, se, hr, hr_lower, hr_upper, p_value``; ``ph_test`` by covariate plus ``GLOBAL`` with
    ``chisq, df, p_value``.
    """

    endpoint: str
    covariates: tuple[str, ...]
    table: pd.DataFrame
    n: int
    events: int
    concordance: float
    ph_test: pd.DataFrame
    notes: tuple[str, ...]
    loglik: tuple[float, float]  # (null model, fitted) as R's fit$loglik
    iterations: int
    converged: bool
    n_excluded: int
    vcov: pd.DataFrame
    conf_level: float
    method: str = _METHOD

    @property
    def lr_test(self) -> tuple[float, int, float]:
        """Likelihood-ratio test of the whole model: (statistic, df, p)."""
        stat = 2 * (self.loglik[1] - self.loglik[0])
        df = len(self.table)
        return stat, df, float(stats.chi2.sf(stat, df)) if df else float("nan")


def _as_list(covariates) -> list[str]:
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise CohortError("A Cox model needs at least one covariate; choose one or more columns.")
    return list(dict.fromkeys(covs))


def _model_data(df: pd.DataFrame, endpoint: str, covariates: list[str]):
    sd = _survival_data(df, endpoint, "Cox model")
    # encode on the whole frame and subset the arrays: no copy of the frame's other columns
    des = _design({c: _take(_encode(df, c), sd.keep) for c in covariates}, sd.time.size)
    return sd, des, sd.time[des.keep], sd.event[des.keep]


def _wald(fit: _Fit, z: float) -> tuple[np.ndarray, ...]:
    """coef, se, hr, hr_lower, hr_upper, p_value (Wald) as arrays, in ``_TABLE_COLUMNS`` order."""
    return _wald_arrays(fit.beta, np.diag(fit.var), z)


def _wald_arrays(beta: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, ...]:
    """``_wald`` from coefficients and their variances."""
    se = np.sqrt(np.where(var > 0, var, np.nan))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (
            beta,
            se,
            np.exp(beta),
            np.exp(beta - z * se),
            np.exp(beta + z * se),
            2 * special.ndtr(-np.abs(beta / se)),
        )


def _table(fit: _Fit, terms: list[str], z: float) -> pd.DataFrame:
    return pd.DataFrame(
        dict(zip(_TABLE_COLUMNS, _wald(fit, z), strict=True)),
        index=pd.Index(terms, name="term"),
    )


def _fit_model(df: pd.DataFrame, endpoint: str, covs: list[str]):
    """Complete-case design and Newton-Raphson fit, without diagnostics (concordance, zph)."""
    sd, des, time, event = _model_data(df, endpoint, covs)
    _check_estimable(time, event, des)
    s = _sort(time, event, des.X)
    if len(des.terms) == 1:  # the same code (and bits) as cox_univariable's fits
        x = des.X[s.order, 0][None, :]
        one = _one_column(s.time, s.event, x, np.ones(x.shape, dtype=bool))
        beta, var, u, ll0, ll, iters, clean = (a[0] for a in one)
        if clean:
            b, v, g = np.array([beta]), np.array([[var]]), np.array([u])
            fit = _Fit(b, v, g, float(ll0), float(ll), int(iters), True, ())
            return sd, des, time, event, s, fit
    return sd, des, time, event, s, _newton(s, len(des.terms))


def _check_estimable(time: np.ndarray, event: np.ndarray, des: _Design) -> None:
    n, events = int(time.size), int(event.sum())
    if n == 0 or events == 0:
        raise CohortError(
            f"The Cox model has {n} patient(s) and {events} event(s) after excluding missing "
            "values; it needs events to estimate hazard ratios. Relax the filters or choose "
            "covariates with fewer missing values."
        )
    if not des.terms:
        raise CohortError(
            "None of the chosen covariates varies among these patients, so there is nothing to "
            "estimate. Choose other covariates or relax the filters."
        )


def fit_cox(df: pd.DataFrame, endpoint: str, covariates, conf_level: float = 0.95) -> CoxResult:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    covariates : column names (continuous columns enter linearly; categorical ones as
        ``column[level]`` against their first level in schema order), and/or the derived names
        ``bclc_ab_vs_c`` and ``log10_afp``. See ``PAPER_COX_COVARIATES`` for the paper's model.
    conf_level : level of the Wald hazard-ratio intervals.

    Returns
    -------
    CoxResult

    Raises
    ------
    CohortError when no patients or no events remain, or no covariate varies.

    Notes
    -----
    R ``coxph(Surv(time, event) ~ ..., ties = "efron")``; PH test R ``cox.zph(fit, transform =
    "km")`` (score test of survival >= 3.0); concordance as ``fit$concordance``. Rows with a
    missing covariate are excluded (complete cases) and counted in ``notes``.
    """
    covs = _as_list(covariates)
    z = float(special.ndtri(1 - (1 - conf_level) / 2))
    sd, des, time, event, s, fit = _fit_model(df, endpoint, covs)
    n, events = int(time.size), int(event.sum())
    table = _table(fit, des.terms, z)
    lp = np.empty(n)
    lp[s.order] = s.lp(fit.beta)
    conc = _concordance(time, event, lp)
    ph = _zph(s, fit, des.assign)
    notes = (
        [f"{sd.n_missing} patient(s) without the endpoint were excluded."] if sd.n_missing else []
    )
    notes += list(des.notes)
    p = len(des.terms)
    if events < 10 * p:
        notes.append(
            f"The model has {events} events for {p} coefficient(s) ({events / p:.1f} per "
            "coefficient, fewer than 10): estimates may be unstable and hazard ratios biased "
            "away from 1."
        )
    if not fit.converged:
        notes.append(
            f"The fit did not converge in {_MAX_ITER} iterations; the estimates are unreliable."
        )
    if fit.infinite:
        bad = ", ".join(des.terms[j] for j in fit.infinite)
        notes.append(
            f"The log-likelihood converged before the coefficient(s) of {bad}; they may be "
            "infinite (separation: a group with no events or all events). Do not interpret "
            "those hazard ratios."
        )
    viol = ph.index[(ph["p_value"] < 0.05)].tolist()
    if viol:
        detail = ", ".join(f"{t} (p = {ph.loc[t, 'p_value']:.3g})" for t in viol)
        notes.append(
            f"The proportional-hazards assumption looks violated (cox.zph p < 0.05) for {detail}; "
            "the hazard ratio is then an average over follow-up."
        )
    vcov = pd.DataFrame(fit.var, index=des.terms, columns=des.terms)
    return CoxResult(
        endpoint,
        tuple(covs),
        table,
        n,
        events,
        conc,
        ph,
        tuple(notes),
        (fit.loglik0, fit.loglik),
        fit.iterations,
        fit.converged,
        int(len(df) - n),
        vcov,
        conf_level,
    )


def cox_univariable(
    df: pd.DataFrame, endpoint: str, covariates, conf_level: float = 0.95
) -> pd.DataFrame:
    """One Cox model per covariate (each on its own complete cases).

    Returns
    -------
    DataFrame indexed by term with ``covariate, coef, se, hr, hr_lower, hr_upper, p_value, n,
    events``; covariates that cannot be fitted are left out and explained in ``attrs["notes"]``.

    Notes
    -----
    R ``coxph(Surv(time, event) ~ x)`` for each x, Efron ties, Wald CIs. All one-coefficient
    models (continuous x, two-level factors) run as one Newton iteration vectorised across
    covariates (``_one_column``; each keeps R's start, step-halving and stopping rule, and
    ``fit_cox`` on that covariate alone gives the same bits); factors with 3+ levels, and any
    fit that does not converge or may be infinite, are fitted one by one as before.
    """
    z = float(special.ndtri(1 - (1 - conf_level) / 2))
    covs = _as_list(covariates)
    parts, notes = [], []
    try:
        sd = _survival_data(df, endpoint, "Cox model")
    except CohortError as err:
        sd, notes = None, [f"'{c}' was not fitted: {err}" for c in covs]
    if sd is not None:
        # Sort by time once; each covariate's complete cases are a boolean subset of the sorted
        # rows, which keeps the order (the same rows in the same order as fit_cox's own sort).
        order = np.argsort(sd.time, kind="stable")
        rows = np.flatnonzero(sd.keep)[order]  # positions in df, time-ascending
        time_all, event_all = sd.time[order], sd.event[order]
    one: list[tuple[int, np.ndarray, np.ndarray]] = []  # one-column fits: part, x, kept rows
    for c in covs if sd is not None else ():
        try:
            des = _design({c: _take(_encode(df, c), rows)}, rows.size)
            time, event = time_all[des.keep], event_all[des.keep]
            _check_estimable(time, event, des)
        except CohortError as err:
            notes.append(f"'{c}' was not fitted: {err}")
            continue
        if len(des.terms) == 1:  # fitted below, all at once
            x = np.zeros(rows.size)
            x[des.keep] = des.X[:, 0]
            one.append((len(parts), x, des.keep))
            parts.append((c, des.terms, None, int(time.size), int(event.sum())))
            continue
        fit = _newton(_sort(time, event, des.X, presorted=True), len(des.terms))
        parts.append((c, des.terms, _wald(fit, z), int(time.size), int(event.sum())))
    if one:
        X, M = np.array([x for _, x, _ in one]), np.array([m for *_, m in one])
        beta, var, _, _, _, _, clean = _one_column(time_all, event_all, X, M)
        wald = _wald_arrays(beta, var, z)
        for j, (i, _, m) in enumerate(one):
            if clean[j]:
                w = tuple(a[j : j + 1] for a in wald)
            else:  # not converged, separation, ...: R's per-fit code decides, as before
                x = X[j, m][:, None]
                fit = _newton(_sort(time_all[m], event_all[m], x, presorted=True), 1)
                w = _wald(fit, z)
            parts[i] = parts[i][:2] + (w,) + parts[i][3:]
    if parts:  # one DataFrame at the end rather than one per covariate and a concat
        k = [len(terms) for _, terms, _, _, _ in parts]
        cols = {"covariate": np.repeat(np.array([c for c, *_ in parts], dtype=object), k)}
        for j, name in enumerate(_TABLE_COLUMNS):
            cols[name] = np.concatenate([w[j] for _, _, w, _, _ in parts])
        cols["n"] = np.repeat(np.array([n for *_, n, _ in parts], dtype=np.int64), k)
        cols["events"] = np.repeat(np.array([e for *_, e in parts], dtype=np.int64), k)
        terms = [t for _, ts, _, _, _ in parts for t in ts]
        out = pd.DataFrame(cols, index=pd.Index(terms, name="term"))
    else:
        out = pd.DataFrame(columns=["covariate", *_TABLE_COLUMNS, "n", "events"])
    out.attrs["method"] = (
        "Univariable Cox models, one per covariate; Efron ties (R coxph default); Wald CIs"
    )
    out.attrs["notes"] = tuple(notes)
    return out


def _fit_terms(time, event, X) -> _Fit:
    """Fit on rows already sorted by time (boolean subsets of the sorted endpoint arrays)."""
    return _newton(_sort(time, event, X, presorted=True), X.shape[1])


def _treatment_fits(time, event, trt, masks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treatment-only Cox fits (``_fit_terms(time[m], event[m], trt[m][:, None])``) on each
    row subset ``m`` of ``masks`` at once: coxfit6's Newton-Raphson run per subset, vectorised
    across subsets.

    With one binary covariate the centred covariate takes two values per subset, so the Efron
    sums reduce to counts at risk and deaths per arm at each death time (exact integers,
    computed once): an iteration costs O(deaths), not O(rows), and a stratified model
    ``coxph(~ trt:level + strata(level))`` would give the same per-level estimates (the partial
    likelihood factorises over strata). Each subset keeps its own start (0), step-halving and
    relative log-likelihood criterion, so it takes the same iterations as its own fit and
    agrees with it to rounding. Every subset must contain both arms.

    Returns ``beta``, ``var`` and ``clean``: False where the fit did not converge, the
    coefficient may be infinite, or the information was not positive at some step; the caller
    refits those subsets with ``_fit_terms`` (same notes as before, by construction).
    """
    sizes = np.array([int(m.sum()) for m in masks], dtype=np.int64)
    idx = np.concatenate([np.flatnonzero(m) for m in masks])
    beta, var, _, _, _, _, clean = _binary_fits(time[idx], event[idx], trt[idx], sizes)
    return beta, var, clean


def _vector_newton(efron, nb: int):
    """coxfit6's Newton-Raphson (``_newton``) for ``nb`` one-coefficient fits at once:
    ``efron(beta)`` returns each fit's log-likelihood, score and information at ``beta``.
    Each fit keeps its own start (0), step-halving and relative log-likelihood criterion.

    Returns ``beta, var, u, loglik0, loglik, iterations, clean``; ``clean`` is False where the
    fit did not converge, the coefficient may be infinite, or the information was not positive
    at some step (callers refit those with ``_newton``).
    """

    def inv(info):  # _pinv_pd's 1 x 1 case
        ci = 1.0 / np.sqrt(np.where(info > 0, info, np.nan))
        return ci * ci

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        beta = np.zeros(nb)
        best, u, info = efron(beta)
        ll0 = best
        bad = ~((info > 0) & (info < np.inf))
        newbeta = beta + u * inv(info)
        halving = np.zeros(nb)
        iters = np.zeros(nb, dtype=np.int64)
        active, conv = ~bad, np.zeros(nb, dtype=bool)
        for it in range(1, _MAX_ITER + 1):
            if not active.any():
                break
            newlk, u_n, info_n = efron(newbeta)
            finite = np.isfinite(newlk) & np.isfinite(u_n) & np.isfinite(info_n)
            rel = np.where(newlk != 0, np.abs(1 - best / newlk), np.abs(best - newlk))
            done = active & finite & (rel <= _EPS)
            half = active & ~done & (~finite | (newlk < best))
            step = active & ~done & ~half
            best = np.where(done | step, newlk, best)
            beta = np.where(done | step, newbeta, beta)
            u, info = np.where(done, u_n, u), np.where(done, info_n, info)
            halving = np.where(half, halving + 1, np.where(step, 0, halving))
            bad |= step & ~((info_n > 0) & (info_n < np.inf))
            newbeta = np.where(
                half,
                (newbeta + halving * beta) / (halving + 1.0),
                np.where(step, newbeta + u_n * inv(info_n), newbeta),
            )
            iters[done] = it
            conv |= done
            active &= ~done & ~bad
        var = inv(info)
        infs = np.abs(u * var)
        flagged = (infs > _EPS) & (infs > _TOLER_INF * np.abs(beta))
    clean = conv & ~bad & ~flagged & np.isfinite(var) & (var > 0)
    return beta, var, u, ll0, best, iters, clean


def _binary_fits(t, e, a, sizes):
    """``_treatment_fits`` on concatenated subsets: ``sizes[j]`` rows each (time-ascending
    within a subset), ``a`` the 0/1 covariate. Returns ``beta, var, u, loglik0, loglik,
    iterations, clean``."""
    nb = sizes.size
    blk = np.repeat(np.arange(nb), sizes)
    bend = np.cumsum(sizes)
    bstart = bend - sizes
    mean = np.add.reduceat(a, bstart) / sizes  # exact integer sums: as X.mean(axis=0) in _sort
    x0, x1 = 0.0 - mean, 1.0 - mean  # the centred covariate's two values, as in _sort
    # distinct times within each subset (rows are time-ascending within a subset)
    new = np.empty(t.size, dtype=bool)
    new[:1] = True
    new[1:] = (t[1:] != t[:-1]) | (blk[1:] != blk[:-1])
    gs = np.flatnonzero(new)
    d = np.add.reduceat(e, gs)
    d1 = np.add.reduceat(e * a, gs)
    dead = d > 0
    gs, d, d1 = gs[dead], d[dead], d1[dead]
    gb = blk[gs]
    ca = np.concatenate(([0.0], np.cumsum(a)))
    n_all = (bend[gb] - gs).astype(float)  # at risk: from the time's first row to the end
    n1 = ca[bend[gb]] - ca[gs]
    n0, d0 = n_all - n1, d - d1
    dk = d.astype(np.int64)
    tg = np.repeat(np.arange(dk.size), dk)  # death time of each Efron term
    dstarts = np.concatenate(([0], np.cumsum(dk)[:-1]))
    f = (np.arange(tg.size) - np.repeat(dstarts, dk)) / np.repeat(dk, dk)
    tb = gb[tg]  # subset of each term
    tstart = np.flatnonzero(np.diff(tb, prepend=-1))  # first term of each subset (all have deaths)
    w0, w1 = n0[tg] - f * d0[tg], n1[tg] - f * d1[tg]  # Efron-weighted counts per arm
    nd = np.bincount(gb, weights=d, minlength=nb)
    nd1 = np.bincount(gb, weights=d1, minlength=nb)
    xd_sum = nd1 * x1 + (nd - nd1) * x0
    x0t, x1t, spread = x0[tb], x1[tb], (x1 - x0) ** 2

    def efron(beta):
        eta0, eta1 = x0 * beta, x1 * beta
        c = np.maximum(eta0, eta1)  # as _efron's shift (both arms present)
        r0, r1 = np.exp(eta0 - c), np.exp(eta1 - c)
        v0, v1 = r0[tb] * w0, r1[tb] * w1
        den = v0 + v1
        w = np.empty((3, den.size))
        np.log(den, out=w[0])
        np.divide(x0t * v0 + x1t * v1, den, out=w[1])
        np.divide(v0 * v1, den**2, out=w[2])
        sums = np.add.reduceat(w, tstart, axis=1)  # per subset (terms are contiguous)
        return xd_sum * beta - c * nd - sums[0], xd_sum - sums[1], sums[2] * spread

    return _vector_newton(efron, nb)


def subgroup_forest(
    df: pd.DataFrame,
    endpoint: str,
    subgroups,
    treatment: str = schema.TREATMENT_GROUP,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Treatment hazard ratio within each level of each subgroup variable (forest plot data).

    Parameters
    ----------
    subgroups : categorical columns (or ``bclc_ab_vs_c``) to split by.
    treatment : two-arm column; its first level (schema order) is the reference arm.

    Returns
    -------
    DataFrame with one row per subgroup level (first an ``overall`` row): ``subgroup, level, n,
    events, n_reference, events_reference, n_comparator, events_comparator, hr, hr_lower,
    hr_upper, p_value, p_interaction, note``. Levels where the HR cannot be estimated (an arm
    empty or without events) get NaN and a ``note``. ``p_interaction`` (same on every row of a
    subgroup) is the likelihood-ratio test of treatment x subgroup. Patients with a missing
    subgroup value are left out of that subgroup's rows and its interaction test, and counted in
    those rows' ``note``. ``attrs`` hold ``method``, ``reference``, ``comparator`` and ``notes``.

    Notes
    -----
    Unadjusted Cox model ``coxph(Surv(t, e) ~ treatment)`` within each level (Efron ties, Wald
    CI); interaction: ``anova(coxph(~ treatment + sub), coxph(~ treatment * sub))``. Subgroup
    findings are exploratory: with many subgroups some interaction p < 0.05 arise by chance.
    Computed without one model per row: the per-level fits run as one Newton iteration
    vectorised across levels (``_treatment_fits``; the same estimates as R's per-level fits, or
    as ``coxph(~ treatment:level + strata(level))``), and the interaction models from risk-set
    counts per arm x level cell (``_cell_efron``).
    """
    subs = [subgroups] if isinstance(subgroups, str) else list(subgroups)
    z = float(special.ndtri(1 - (1 - conf_level) / 2))
    sd = _survival_data(df, endpoint, "subgroup analysis")
    schema.require_columns(df, [treatment], "subgroup analysis")
    # Sort by time once: every fit below is on a boolean subset of these arrays, which keeps
    # the order, so no fit sorts again (and each sees its rows in the same order as before).
    order = np.argsort(sd.time, kind="stable")
    rows_sorted = np.flatnonzero(sd.keep)[order]  # positions in df, time-ascending
    arm_code, arms = _coded(df[treatment], rows_sorted, treatment)
    if len(arms) != 2:
        raise CohortError(
            f"The subgroup forest compares two arms, but '{treatment}' has {len(arms)} level(s) "
            "among patients with the endpoint. Choose a two-level treatment column or filter the "
            "cohort to two arms."
        )
    time, event = sd.time[order], sd.event[order]
    ok_arm = arm_code >= 0
    trt = (arm_code == 1).astype(float)

    fits: list[tuple[dict, np.ndarray]] = []  # rows whose HR is estimable, and their rows
    extra: dict[int, list[str]] = {}  # notes added to a row after its fit's note

    def level_row(sub: str, level, sel: np.ndarray) -> dict:
        sel = sel & ok_arm
        ref, cmp_ = sel & (trt == 0), sel & (trt == 1)
        row = {
            "subgroup": sub,
            "level": level,
            "n": int(sel.sum()),
            "events": int(event[sel].sum()),
            "n_reference": int(ref.sum()),
            "events_reference": int(event[ref].sum()),
            "n_comparator": int(cmp_.sum()),
            "events_comparator": int(event[cmp_].sum()),
            "hr": np.nan,
            "hr_lower": np.nan,
            "hr_upper": np.nan,
            "p_value": np.nan,
            "p_interaction": np.nan,
            "note": "",
        }
        if row["n_reference"] == 0 or row["n_comparator"] == 0:
            empty = arms[0] if row["n_reference"] == 0 else arms[1]
            row["note"] = f"No patients in arm '{empty}'; HR not estimable."
        elif row["events_reference"] == 0 or row["events_comparator"] == 0:
            none = arms[0] if row["events_reference"] == 0 else arms[1]
            row["note"] = f"No events in arm '{none}'; HR not estimable."
        else:
            fits.append((row, sel))
        return row

    def add_note(r: dict, msg: str) -> None:
        extra.setdefault(id(r), []).append(msg)

    rows = [level_row("overall", "all", np.ones(time.size, dtype=bool))]
    notes = []
    for sub in subs:
        if sub == treatment:
            continue
        code, levels = _coded(_values(df, sub), rows_sorted, sub)
        if len(levels) > 12:
            raise CohortError(
                f"'{sub}' has {len(levels)} distinct values; subgroups need a categorical column "
                "(e.g. child_pugh_class, bclc_stage)."
            )
        known = ok_arm & (code >= 0)
        if sub == schema.LOCAL_MODALITY and treatment == schema.TREATMENT_GROUP:
            # Treatment is nested in modality, so "within a level" has no comparator: each
            # local modality is compared with all systemic-only patients instead, and the
            # p-value tests whether the modalities' effects differ (heterogeneity).
            local = [i for i, lv in enumerate(levels) if lv != schema.MODALITY_NONE]
            sub_rows = [
                level_row(sub, levels[i], known & ((code == i) | (trt == 0))) for i in local
            ]
            for r in sub_rows:
                add_note(r, "vs all systemic-only patients")
            p_int = _heterogeneity_p(time, event, trt, code, local, known)
        else:
            sub_rows = [level_row(sub, lv, code == i) for i, lv in enumerate(levels)]
            p_int = _interaction_p(time, event, trt, code, range(len(levels)), known)
        n_unknown = int((ok_arm & (code < 0)).sum())
        if n_unknown:
            msg = (
                f"{n_unknown} patient(s) with a missing '{sub}' were excluded from this "
                "subgroup and its interaction test."
            )
            notes.append(msg)
            for r in sub_rows:
                add_note(r, msg)
        for r in sub_rows:
            r["p_interaction"] = p_int
        rows.extend(sub_rows)
    if fits:
        # all estimable levels (and the overall row) in one vectorised Newton run
        beta, var, clean = _treatment_fits(time, event, trt, [sel for _, sel in fits])
        wald = _wald_arrays(beta, var, z)
        for j, (row, sel) in enumerate(fits):
            if clean[j]:
                _, _, hr, lower, upper, p = (float(a[j]) for a in wald)
            else:  # not converged, separation, ...: the single fit decides, as before
                fit = _fit_terms(time[sel], event[sel], trt[sel][:, None])
                _, se, hr, lower, upper, p = (float(a[0]) for a in _wald(fit, z))
                if not (fit.converged and not fit.infinite and np.isfinite(se) and se > 0):
                    row["note"] = (
                        "HR not estimable: the likelihood has no finite maximum (events in one "
                        "arm only while both arms are at risk)."
                    )
                    continue
            row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=p)
    for r in rows:
        for msg in extra.get(id(r), ()):
            r["note"] = (r["note"] + " " if r["note"] else "") + msg
    out = pd.DataFrame({k: [r[k] for r in rows] for k in rows[0]})
    out.attrs["method"] = (
        f"Cox model per subgroup level (treatment only, Efron ties; HR {arms[1]} vs {arms[0]}, "
        f"Wald {conf_level:.0%} CI); interaction: likelihood-ratio test of treatment x subgroup"
    )
    out.attrs["reference"], out.attrs["comparator"] = arms[0], arms[1]
    out.attrs["notes"] = tuple(notes)
    return out


def _coded(v: pd.Series, rows: np.ndarray, name: str) -> tuple[np.ndarray, list]:
    """Levels of ``v`` among ``rows`` in schema order (as ``_levels``), and each row's index
    into them (-1 if missing). Integer codes are NA-safe: comparing an object array holding
    pd.NA with a level raises "boolean value of NA is ambiguous"."""
    raw, uniques = pd.factorize(v)
    raw = raw[rows]
    used = np.bincount(raw[raw >= 0], minlength=len(uniques)) > 0
    levels = _order_levels(name, [uniques[i] for i in np.flatnonzero(used)])
    pos = {lv: i for i, lv in enumerate(levels)}
    lut = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lut[raw], levels


def _heterogeneity_p(time, event, trt, code, local_levels, sel) -> float:
    """LR test: one treatment effect vs one effect per local modality (R: anova(coxph(~ trt),
    coxph(~ modality))). ``code`` holds level indices, ``local_levels`` the local ones."""
    if event[sel].sum() == 0:
        return float("nan")
    cc, tc, kc = _arm_level_cells(time, event, trt, code, sel)
    present = [lv for lv in local_levels if (kc == lv).any()]
    if len(present) < 2:
        return float("nan")
    full = np.column_stack([(kc == lv).astype(float) for lv in present])
    ll_b = _cell_loglik(cc, tc)
    ll_f = _cell_loglik(cc, full)
    return float(special.chdtrc(len(present) - 1, max(2 * (ll_f - ll_b), 0.0)))


def _arm_level_cells(time, event, trt, code, sel):
    """Risk-set counts of the rows ``sel`` per arm x level cell, and each cell's treatment
    (a column) and level index: both interaction tests' designs are functions of these."""
    ts, ks = trt[sel], code[sel]
    cc = _cell_counts(time[sel], event[sel], ks * 2 + ts.astype(np.int64))
    return cc, ts[cc.first][:, None], ks[cc.first]


def _interaction_p(time, event, trt, code, levels, sel) -> float:
    """LR test: treatment + subgroup vs treatment * subgroup, on patients with the subgroup known.

    ``code`` holds level indices; ``levels`` the indices to test, first = reference. The models
    are fitted from counts per arm x level cell (``_cell_efron``), the designs built per cell."""
    if event[sel].sum() == 0:
        return float("nan")
    cc, t, kc = _arm_level_cells(time, event, trt, code, sel)
    present = [lv for lv in levels if (kc == lv).any()]
    if len(present) < 2:
        return float("nan")
    dummies = np.column_stack([(kc == lv).astype(float) for lv in present[1:]])
    base = np.hstack((t, dummies))
    full = np.hstack((base, t * dummies))
    names = [f"c{j}" for j in range(full.shape[1])]
    nb = base.shape[1]
    base, names_b, _, _ = _drop_collinear(base, names[:nb], names[:nb], cc.size)
    full, names_f, _, _ = _drop_collinear(full, names, names, cc.size)
    dof = len(names_f) - len(names_b)
    if dof <= 0:
        return float("nan")
    ll_b = _cell_loglik(cc, base)
    ll_f = _cell_loglik(cc, full)
    return float(special.chdtrc(dof, max(2 * (ll_f - ll_b), 0.0)))


# ---- one-column models, many at once (univariable fits) -----------------------------------------
def _one_column(time, event, X, M):
    """Cox fits with one covariate each (``X[j]`` on the rows where ``M[j]``; shared
    time-ascending rows), all at once: 0/1 covariates from risk-set counts per arm
    (``_binary_fits``), others from per-row sums (``_one_column_fits``). ``fit_cox`` on a
    one-column design and ``cox_univariable`` both fit through here, so they agree bit for bit.
    Returns ``beta, var, u, loglik0, loglik, iterations, clean`` (see ``_one_column_fits``).
    """
    binary = ((X == 0) | (X == 1) | ~M).all(axis=1)
    out = [np.empty(X.shape[0]) for _ in range(5)]
    out += [np.zeros(X.shape[0], dtype=np.int64), np.zeros(X.shape[0], dtype=bool)]
    if binary.any():
        Mb = M[binary]
        _, ii = np.nonzero(Mb)
        res = _binary_fits(time[ii], event[ii], X[binary][Mb], Mb.sum(axis=1))
        for o, r in zip(out, res, strict=True):
            o[binary] = r
    if not binary.all():
        res = _one_column_fits(time, event, X[~binary], M[~binary])
        for o, r in zip(out, res, strict=True):
            o[~binary] = r
    return tuple(out)


def _one_column_fits(time, event, X, M):
    """Cox fits with one covariate each, on shared time-ascending rows: fit j uses covariate
    row ``X[j]`` on the rows where ``M[j]`` is True (its complete cases). coxfit6's
    Newton-Raphson (start at 0, step-halving, relative log-likelihood change <= 1e-9) runs per
    fit, vectorised across fits.

    Excluded rows get zero risk weight and no deaths, so the risk-set sums are cumulative sums
    along each fit's row of a (fits, rows) array (sequential sums: the zeros of excluded rows
    change no bit), and every other sum runs over one fit's own kept deaths or Efron terms
    (``np.add.reduceat`` over contiguous segments). So a fit's arithmetic does not depend on the
    other fits: ``fit_cox`` on a one-column design runs this with one fit and gets the same bits.
    Every fit needs at least one kept row and one kept death.

    Returns ``beta``, ``var``, ``u``, ``loglik0``, ``loglik``, ``iterations`` and ``clean``:
    False where the fit did not converge, the coefficient may be infinite, or the information
    was not positive at some step; the caller refits those with ``_newton`` (R's per-fit code).
    """
    k, n = X.shape
    jj, ii = np.nonzero(M)  # kept rows per fit, fit-major, time-ascending within a fit
    sizes = np.bincount(jj, minlength=k)
    mean = np.add.reduceat(X[jj, ii], np.cumsum(sizes) - sizes) / sizes
    Xc = np.where(M, X - mean[:, None], 0.0)
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(time[1:], time[:-1], out=new[1:])
    start = np.flatnonzero(new)
    tgroup = np.cumsum(new) - 1
    # kept deaths, grouped by (fit, death time); segments are contiguous in nonzero's order
    dj, di = np.nonzero(M & (event == 1)[None, :])
    key = dj * n + tgroup[di]
    seg = np.flatnonzero(np.diff(key, prepend=-1))
    dk = np.diff(np.append(seg, key.size))
    sj, sfirst = dj[seg], start[tgroup[di[seg]]]  # fit and first row of each death time
    tj = np.repeat(np.arange(seg.size), dk)  # death time of each Efron term
    f = (np.arange(tj.size) - np.repeat(seg, dk)) / np.repeat(dk, dk)
    fstart = np.flatnonzero(np.diff(sj[tj], prepend=-1))  # first term of each fit
    dstart = np.flatnonzero(np.diff(dj, prepend=-1))  # first kept death of each fit
    xd = Xc[dj, di]
    xd_sum = np.add.reduceat(xd, dstart)
    nd = np.diff(np.append(fstart, tj.size)).astype(float)
    # flat positions in (fits, rows) arrays: each kept death, and the rows whose cumulative
    # sums give each death time's risk set (the fit's last row minus the row before the time)
    dflat = dj * n + di
    last = sj * n + (n - 1)
    prev = np.where(sfirst > 0, sj * n + sfirst - 1, 0)
    at0 = sfirst == 0
    # max of x * beta over a fit's kept rows, exactly (rounded products are monotone in x)
    xmax = np.where(M, Xc, -np.inf).max(axis=1)
    xmin = np.where(M, Xc, np.inf).min(axis=1)
    Mf = M.astype(float)
    bufs = np.empty((3, k, n))

    def efron(beta):
        c = np.maximum(beta * xmax, beta * xmin)
        r, rx, rxx = bufs
        np.multiply(Xc, beta[:, None], out=r)
        r -= c[:, None]
        np.exp(r, out=r)
        r *= Mf  # excluded rows: no risk weight
        np.multiply(r, Xc, out=rx)
        np.multiply(rx, Xc, out=rxx)
        flat = bufs.reshape(3, -1)
        D, A2, C2 = np.add.reduceat(flat[:, dflat], seg, axis=1)
        np.cumsum(bufs, axis=2, out=bufs)  # sequential: the zeros of excluded rows are exact
        b = flat[:, prev]
        b[:, at0] = 0.0
        R, A, C = flat[:, last] - b
        den = R[tj] - f * D[tj]
        bt = (A[tj] - f * A2[tj]) / den
        w = np.empty((3, tj.size))
        np.log(den, out=w[0])
        w[1] = bt
        w[2] = (C[tj] - f * C2[tj]) / den - bt * bt
        sums = np.add.reduceat(w, fstart, axis=1)
        return xd_sum * beta - c * nd - sums[0], xd_sum - sums[1], sums[2]

    return _vector_newton(efron, k)
