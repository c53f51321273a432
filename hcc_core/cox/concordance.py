"""Harrell's concordance of a Cox model's linear predictor, as R ``coxph``'s ``fit$concordance``
(``concordancefit``: strata, case weights and (start, stop] data)."""

from __future__ import annotations

import numpy as np

__all__ = ["concordance"]

_SMALL = 2_000_000  # events x patients up to which pairs are compared directly


def _prefix_less(rank: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """For each position i: the sum of ``w[j]`` over j < i with ``rank[j] < rank[i]``.

    Wavelet-style counting by binary digits, most significant first: at each level the sequence
    is kept stably sorted by the higher digits, and an element with digit 1 adds the weights of
    the digit-0 elements before it in its group. Each level is O(n) numpy work (no sorting).
    ``w`` None: unit weights, counted in integers.
    """
    n = rank.size
    if n == 0:
        return np.zeros(0)
    it = np.int32 if n < 2**31 - 1 else np.int64
    rank = rank.astype(it)
    idx = np.arange(n, dtype=it)
    order = idx.copy()
    sums_o = np.zeros(n, dtype=it if w is None else float)  # aligned with the current order
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
        if w is None:
            sums_o += np.where(zero, 0, zeros_before)
        else:  # exclusive prefix sums of the zeros' weights
            cw0 = np.concatenate(([0.0], np.cumsum(np.where(zero, w[order], 0.0))))
            sums_o += np.where(zero, 0.0, cw0[idx] - cw0[gstart])
        last = np.empty(n, dtype=bool)
        last[-1] = True
        last[:-1] = first[1:]
        gend = np.minimum.accumulate(np.where(last, idx, n - 1)[::-1])[::-1]
        nz = cz[gend] + zero[gend] - cz[gstart]
        newpos = np.where(zero, gstart + zeros_before, gstart + nz + (idx - gstart - zeros_before))
        new_order = np.empty(n, dtype=it)
        new_order[newpos] = order
        new_sums = np.empty(n, dtype=sums_o.dtype)
        new_sums[newpos] = sums_o
        order, sums_o = new_order, new_sums
    out = np.empty(n)
    out[order] = sums_o
    return out


def _less_equal(rk: np.ndarray, w: np.ndarray, unit: bool = False):
    """For each position: weights of earlier positions with a smaller and with an equal rank
    (``unit``: every weight is 1, counted in integers)."""
    less = _prefix_less(rk, None if unit else w)
    o = np.argsort(rk, kind="stable")  # each rank's positions in sequence order
    ws, ro = w[o], rk[o]
    cw = np.cumsum(ws) - ws
    first = np.ones(ro.size, dtype=bool)
    first[1:] = ro[1:] != ro[:-1]
    gstart = np.maximum.accumulate(np.where(first, np.arange(ro.size), 0))
    equal = np.empty(ro.size)
    equal[o] = cw - cw[gstart]
    return less, equal


def _starts(new: np.ndarray) -> np.ndarray:
    """Index of the first position of each position's run (``new`` marks run starts)."""
    return np.maximum.accumulate(np.where(new, np.arange(new.size), 0))


def _stop_counts(stop, event, rank, w, s, nr, unit=False):
    """Per event: weights of its stratum's patients at risk (stop > t, or censored at t) with a
    smaller, an equal, and any rank. One pass over the rows sorted by stratum (descending: ranks
    are offset by stratum, so other strata never count as smaller or equal), time descending,
    censored before events, rank ascending; an event's comparable rows are those before its
    (stratum, time, event) block."""
    o = np.lexsort((rank, event, -stop, -s))
    t, e, r, so, wo = stop[o], event[o], rank[o], s[o], w[o]
    less, equal = _less_equal(so * nr + r, wo, unit)
    n = t.size
    snew, bnew = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    snew[1:] = so[1:] != so[:-1]
    bnew[1:] = snew[1:] | (t[1:] != t[:-1]) | (e[1:] != e[:-1])
    tnew = bnew.copy()
    tnew[1:] |= r[1:] != r[:-1]
    cw = np.cumsum(wo) - wo
    pos, bs, ts = np.arange(n), _starts(bnew), _starts(tnew)
    # earlier members of the event's own block are not comparable (tied event times)
    less = less - (cw[ts] - cw[bs])
    equal = equal - (cw[pos] - cw[ts])
    before = cw[bs] - cw[_starts(snew)]
    back = np.empty(n, dtype=np.int64)
    back[o] = pos
    keep = back[np.flatnonzero(event)]
    return less[keep], equal[keep], before[keep]


def _start_counts(start, rank, w, s, q_t, q_rank, q_s, nr):
    """Per query (event time, rank, stratum): weights of its stratum's rows not yet entered
    (start >= t) with a smaller, an equal, and any rank."""
    ni, nq = start.size, q_t.size
    t = np.concatenate((start, q_t))
    tie = np.concatenate((np.zeros(ni, dtype=np.int64), np.ones(nq, dtype=np.int64)))
    ss = np.concatenate((s, q_s))
    ww = np.concatenate((w, np.zeros(nq)))
    rk = np.concatenate((rank, q_rank)) + ss * nr
    o = np.lexsort((tie, -t, -ss))
    is_q = o >= ni
    less, equal = _less_equal(rk[o], ww[o])
    so = ss[o]
    snew = np.ones(o.size, dtype=bool)
    snew[1:] = so[1:] != so[:-1]
    cw = np.cumsum(ww[o]) - ww[o]
    before = cw - cw[_starts(snew)]
    back = np.empty(nq, dtype=np.int64)
    back[o[is_q] - ni] = np.arange(nq)
    return less[is_q][back], equal[is_q][back], before[is_q][back]


def concordance(stop, event, lp, *, start=None, weights=None, strata=None) -> float:
    """Harrell's C of ``lp`` (higher = shorter survival), as R ``coxph``'s ``concordance``.

    A pair is comparable when the earlier time is an event and the other patient is at risk
    then (a censoring at the event's time counts as longer; tied event times are excluded);
    ties in ``lp`` count 1/2. Pairs are weighted by the product of their case weights and
    formed within strata only.
    """
    event = np.asarray(event) == 1
    if not event.any():
        return float("nan")
    n = stop.size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    _, rank = np.unique(lp, return_inverse=True)
    rank = rank.astype(np.int64).reshape(-1)
    nr = int(rank.max()) + 1
    ev = np.flatnonzero(event)
    if ev.size * n <= _SMALL:
        less, leq, before = _pairs(stop, event, rank, w, s, ev, start)
        we = w[ev]
        return _c_index(we @ less, we @ (leq - less), we @ (before - leq))
    less, equal, before = _stop_counts(stop, event, rank, w, s, nr, weights is None)
    if start is not None:  # minus those not yet entered (start >= t)
        l2, e2, b2 = _start_counts(start, rank, w, s, stop[ev], rank[ev], s[ev], nr)
        less, equal, before = less - l2, equal - e2, before - b2
    we = w[ev]
    return _c_index(we @ less, we @ equal, we @ (before - less - equal))


def _c_index(concordant: float, tied: float, discordant: float) -> float:
    denom = concordant + discordant + tied
    return float((concordant + tied / 2) / denom) if denom > 0 else float("nan")


def _pairs(stop, event, rank, w, s, ev, start):
    """``_at_risk_counts`` for few patients: the (events x patients) comparison at once."""
    t = stop[ev][:, None]
    at_risk = ((stop > t) | ((stop == t) & ~event)) & (s == s[ev][:, None])
    if start is not None:
        at_risk &= start < t
    aw = at_risk * w
    r = rank[ev][:, None]
    return (aw * (rank < r)).sum(axis=1), (aw * (rank <= r)).sum(axis=1), aw.sum(axis=1)
