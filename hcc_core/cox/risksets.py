"""Risk-set bookkeeping of the Cox engine: rows sorted once, and where every death time's risk
set, deaths and Efron terms lie (R: the sorting in coxph.fit/agreg.fit and the loops of
coxfit6/agfit4 that walk the sorted rows)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NUMPY_ROWS", "RiskSets", "prepare", "take_groups"]

# From this many rows on, products over rows use numpy sums instead of BLAS: for tall, thin
# products OpenBLAS's threaded gemm stalls for milliseconds per call when the other cores are busy
# (shared 2-core machine: 8 ms for a 100,000 x 1 product that takes 0.02 ms single-threaded).
NUMPY_ROWS = 8192


@dataclass(frozen=True)
class RiskSets:
    """Fixed bookkeeping of one or more Cox fits (see ``prepare``); ``G`` groups of ``L`` rows."""

    XT: np.ndarray  # (G, p, L) covariates, centred per group, rows sorted by (stratum, stop)
    w: np.ndarray  # (G, L) case weight x multiplicity (0 on padding rows)
    wcase: np.ndarray  # (G, L) case weight of one row (for residuals)
    event: np.ndarray  # (G, L) bool
    pos: np.ndarray  # (G, L) input row of each sorted row (-1 on padding)
    # death times k: distinct (group, stratum, stop) with an event, group-major and ascending
    kg: np.ndarray  # group of each death time
    kfirst: np.ndarray  # flat index into (G, L + 1) suffix sums: first row with stop >= t
    kend: np.ndarray | None  # ... one past the stratum's last row (None: one stratum)
    kstart: np.ndarray | None  # ... first row (start order) with start >= t ((start, stop] only)
    start_order: np.ndarray | None  # (G, L) rows in (stratum, start) order
    kgstart: np.ndarray  # first death time of each group
    dg: np.ndarray  # group of each death row, death rows grouped by death time
    dc: np.ndarray  # column (position in its group) of each death row
    klocal: np.ndarray  # index of each death time within its group
    dseg: np.ndarray  # first death row of each death time
    dk: np.ndarray  # death time of each death row
    frac: np.ndarray  # Efron fraction m/d of each term (0 for Breslow)
    tstart: np.ndarray  # first term of each death time
    meanwt: np.ndarray  # per death time: death weights / number of deaths (Breslow: total)
    ndead: np.ndarray  # per death time: number of deaths
    wx_dead: np.ndarray  # (G, p) sum of weight * x over deaths
    wdead: np.ndarray  # (G,) sum of death weights
    lo: np.ndarray  # (G, L) risk-set range of each row in its group's death times: [lo, hi)
    hi: np.ndarray
    kmax: int
    padded: bool  # some rows are padding (weight 0)
    kA: np.ndarray  # (K, p) flat indices into (G, p, L + 1) suffix sums of each kfirst
    eA: np.ndarray | None  # ... of each kend
    sA: np.ndarray | None  # ... of each kstart
    kdend: np.ndarray  # flat index into (G, L + 1): one past each death time's death rows
    dA: np.ndarray  # ... into (G, p, L + 1)
    lo_f: np.ndarray  # flat indices of lo, hi into (G, kmax + 1) cumulative sums
    hi_f: np.ndarray
    kcs: np.ndarray  # flat index of each death time into (G, kmax + 1): its group's row, klocal + 1
    kpad: np.ndarray  # ... into (G, kmax): its group's row, klocal
    counting: bool  # (start, stop] data: agfit4's rules
    ties: str


def _group_sum(a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of contiguous segments along axis 0 (each summed on its own: no cancellation)."""
    return np.add.reduceat(a, starts, axis=0) if a.shape[0] else np.zeros((0, *a.shape[1:]))


def _flat_p(k: np.ndarray | None, L: int, p: int) -> np.ndarray | None:
    """(K,) flat indices into (G, L + 1) -> (K, p) flat indices into (G, p, L + 1)."""
    if k is None:
        return None
    g, c = np.divmod(k, L + 1)
    return (g * p * (L + 1) + c)[:, None] + np.arange(p) * (L + 1)


def prepare(
    stop,
    event,
    X,
    *,
    start=None,
    weights=None,
    strata=None,
    group=None,
    counts=None,
    ties: str = "efron",
    presorted: bool = False,
) -> RiskSets:
    """Sort the rows and locate every death time's risk set (R: the sort in coxph.fit/agreg.fit).

    ``strata`` and ``group`` are integer codes >= 0 per row (``group``: independent fits, each
    with its own coefficients); ``counts`` the multiplicity of each row (identical rows collapsed
    into one); ``presorted``: rows already sorted by (group, stratum, stop). Every group needs at
    least one death.
    """
    stop = np.asarray(stop, dtype=float)
    n, p = stop.size, X.shape[1]
    event = np.asarray(event, dtype=bool)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    cnt = np.ones(n) if counts is None else np.asarray(counts, dtype=float)
    grp = np.zeros(n, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    st = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    G = int(grp.max()) + 1
    key = grp * (int(st.max()) + 1) + st  # (group, stratum) id, group-major
    # deaths first among tied times, so each death time's deaths are the first rows of its
    # risk set and their sums come from the same suffix sums as the risk set's
    if presorted:
        order = np.arange(n)
    elif strata is None and group is None:
        order = np.lexsort((~event, stop))
    else:
        order = np.lexsort((~event, stop, key))
    sizes = np.bincount(grp, minlength=G)
    L = int(sizes.max())
    og = grp if presorted else grp[order]
    gstart = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    col = np.arange(n) - gstart[og]
    wc = w * cnt if presorted else (w * cnt)[order]
    Xs = X if presorted else X[order]
    if G == 1:

        def lay(values, dtype=float):
            return np.asarray(values, dtype=dtype).reshape(1, n)

        m = (wc @ Xs) / wc.sum() if n < NUMPY_ROWS else (wc[:, None] * Xs).sum(axis=0) / wc.sum()
        XT = np.ascontiguousarray((Xs - m).T)[None]  # centred by the weighted mean, as coxfit6
    else:  # each group's rows are contiguous in sorted order: scatter them into their row

        def lay(values, dtype=float):
            out = np.zeros((G, L), dtype=dtype)
            out[og, col] = values
            return out

        # centred per group by its weighted mean (sums per group, no BLAS: see NUMPY_ROWS)
        wsum = np.add.reduceat(wc, gstart)
        m = np.add.reduceat(wc[:, None] * Xs, gstart, axis=0) / wsum[:, None]
        XT = np.zeros((G, p, L))
        XT.transpose(0, 2, 1)[og, col] = Xs - m[og]
    pos = lay(order, np.int64)
    es = event if presorted else event[order]
    wl, wt, ev = lay(w if presorted else w[order]), lay(wc), lay(es, bool)
    # blocks of equal (group, stratum, stop), numbered in sorted order; death times are the
    # blocks with a death
    ks, ts = (key, stop) if presorted else (key[order], stop[order])
    new = np.ones(n, dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (ks[1:] != ks[:-1])
    block = np.cumsum(new) - 1
    snew = np.ones(n, dtype=bool)
    snew[1:] = ks[1:] != ks[:-1]
    sfirst = np.flatnonzero(snew)
    sid = np.cumsum(snew) - 1
    if presorted and (es[1:] & ~es[:-1] & ~new[1:]).any():
        raise ValueError("presorted rows must list the deaths first among tied times")
    dead_rows = np.flatnonzero(es)
    db = block[dead_rows]  # non-decreasing
    dnew = np.ones(db.size, dtype=bool)
    dnew[1:] = db[1:] != db[:-1]
    dseg = np.flatnonzero(dnew)
    kb = db[dseg]
    K = kb.size
    dk = np.repeat(np.arange(K), np.diff(np.append(dseg, dead_rows.size)))
    first_row = np.flatnonzero(new)[kb]
    kg = og[first_row]
    kcount = np.bincount(kg, minlength=G)
    kgstart = np.concatenate(([0], np.cumsum(kcount)[:-1]))
    kfirst = kg * (L + 1) + col[first_row]
    kdend = kfirst + np.diff(np.append(dseg, dead_rows.size))  # one past the time's deaths
    send = np.append(sfirst[1:], n)[sid]  # one past the last row of each row's stratum
    kend = None if strata is None else kg * (L + 1) + (send[first_row] - gstart[kg])
    dcnt = np.add.reduceat((cnt if presorted else cnt[order])[dead_rows], dseg)
    dwt = np.add.reduceat(wc[dead_rows], dseg)
    nd = np.rint(dcnt).astype(np.int64)
    if ties == "efron":
        tstart = np.concatenate(([0], np.cumsum(nd)[:-1])).astype(np.int64)
        frac = (np.arange(int(nd.sum())) - np.repeat(tstart, nd)) / np.repeat(nd, nd)
        meanwt = dwt / nd
    else:  # Breslow: one term per death time with the total death weight
        tstart, frac, meanwt = np.arange(K), np.zeros(K), dwt
    dg, dc = og[dead_rows], col[dead_rows]
    wxd = XT[dg, :, dc] * wc[dead_rows][:, None]
    wdx = _group_sum(wxd, np.concatenate(([0], np.cumsum(np.bincount(dg, minlength=G))[:-1])))
    wdead = np.bincount(dg, weights=wc[dead_rows], minlength=G)
    # each row's death times: those of its group and stratum with start < t <= stop
    is_k = np.zeros(int(block[-1]) + 1, dtype=np.int64)
    is_k[kb] = 1
    k_upto = np.cumsum(is_k)  # death times among blocks 0 .. b
    hi_g = k_upto[block]
    kstart = start_order = None
    if start is None:
        fb = block[sfirst][sid]  # first block of each row's stratum
        lo_g = k_upto[fb] - is_k[fb]
    else:
        # (stratum, time) as one integer key, start and stop times ranked together
        _, rank = np.unique(
            np.concatenate((ts, np.asarray(start, float)[order])), return_inverse=True
        )
        nt = int(rank.max()) + 2
        stop_key, start_key = ks * nt + rank[:n], ks * nt + rank[n:]
        kkey = stop_key[first_row]
        lo_g = np.searchsorted(kkey, start_key, side="right")
        so = np.lexsort((start_key,))  # R's sort.start: (stratum, start), sorted-row indices
        start_order = np.tile(np.arange(L), (G, 1))  # padding rows stay in place (weight 0)
        start_order[og[so], np.arange(n) - gstart[og[so]]] = col[so]
        kstart = kg * (L + 1) + (np.searchsorted(start_key[so], kkey, side="left") - gstart[kg])
    lo, hi = lay(lo_g - kgstart[og], np.int64), lay(hi_g - kgstart[og], np.int64)
    klocal = np.arange(K) - kgstart[kg]
    kmax = int(kcount.max())

    def flat_p(k):
        return _flat_p(k, L, p)

    goff = np.arange(G)[:, None] * (kmax + 1)
    return RiskSets(
        XT=XT,
        w=wt,
        wcase=wl,
        event=ev,
        pos=pos,
        kg=kg,
        kfirst=kfirst,
        kend=kend,
        kstart=kstart,
        start_order=start_order,
        kgstart=kgstart,
        dg=dg,
        dc=dc,
        klocal=klocal,
        dseg=dseg,
        dk=dk,
        frac=frac,
        tstart=tstart,
        meanwt=meanwt,
        ndead=nd,
        wx_dead=wdx,
        wdead=wdead,
        lo=lo,
        hi=hi,
        kmax=kmax,
        padded=bool((sizes < L).any()),
        kA=flat_p(kfirst),
        eA=flat_p(kend),
        sA=flat_p(kstart),
        kdend=kdend,
        dA=flat_p(kdend),
        lo_f=(lo + goff).reshape(-1),
        hi_f=(hi + goff).reshape(-1),
        kcs=kg * (kmax + 1) + klocal + 1,
        kpad=kg * kmax + klocal,
        counting=start is not None,
        ties=ties,
    )


def take_groups(rs: RiskSets, sel: np.ndarray) -> RiskSets:
    """The bookkeeping of the groups ``sel`` (ascending) alone, as ``prepare`` would lay them
    out (same rows per group, same order): the engine's sums of a group never touch another
    group's numbers, so its results are the same as in the full set."""
    G, p, L = rs.XT.shape
    newid = np.full(G, -1, dtype=np.int64)
    newid[sel] = np.arange(sel.size)
    kmask = newid[rs.kg] >= 0
    kg = newid[rs.kg[kmask]]

    def regroup(k):  # flat index into (G, L + 1) -> into (G', L + 1)
        return None if k is None else kg * (L + 1) + k[kmask] % (L + 1)

    kcount = np.bincount(kg, minlength=sel.size)
    nd = rs.ndead[kmask]
    if rs.ties == "efron":
        frac = rs.frac[np.repeat(kmask, rs.ndead)]
        tstart = np.concatenate(([0], np.cumsum(nd)[:-1])).astype(np.int64)
    else:
        frac, tstart = rs.frac[kmask], np.arange(int(kmask.sum()))
    dmask = newid[rs.dg] >= 0
    kmap = np.cumsum(kmask) - 1
    dk = kmap[rs.dk[dmask]]
    dnew = np.ones(dk.size, dtype=bool)
    dnew[1:] = dk[1:] != dk[:-1]
    kmax = int(kcount.max())
    goff = np.arange(sel.size)[:, None] * (kmax + 1)
    lo, hi = rs.lo[sel], rs.hi[sel]
    kfirst, kend, kstart, kdend = (regroup(k) for k in (rs.kfirst, rs.kend, rs.kstart, rs.kdend))
    klocal = rs.klocal[kmask]
    return RiskSets(
        XT=rs.XT[sel],
        w=rs.w[sel],
        wcase=rs.wcase[sel],
        event=rs.event[sel],
        pos=rs.pos[sel],
        kg=kg,
        kfirst=kfirst,
        kend=kend,
        kstart=kstart,
        start_order=None if rs.start_order is None else rs.start_order[sel],
        kgstart=np.concatenate(([0], np.cumsum(kcount)[:-1])),
        dg=newid[rs.dg[dmask]],
        dc=rs.dc[dmask],
        klocal=klocal,
        dseg=np.flatnonzero(dnew),
        dk=dk,
        frac=frac,
        tstart=tstart,
        meanwt=rs.meanwt[kmask],
        ndead=nd,
        wx_dead=rs.wx_dead[sel],
        wdead=rs.wdead[sel],
        lo=lo,
        hi=hi,
        kmax=kmax,
        padded=rs.padded,
        kA=_flat_p(kfirst, L, p),
        eA=_flat_p(kend, L, p),
        sA=_flat_p(kstart, L, p),
        kdend=kdend,
        dA=_flat_p(kdend, L, p),
        lo_f=(lo + goff).reshape(-1),
        hi_f=(hi + goff).reshape(-1),
        kcs=kg * (kmax + 1) + klocal + 1,
        kpad=kg * kmax + klocal,
        counting=rs.counting,
        ties=rs.ties,
    )
