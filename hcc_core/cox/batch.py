"""Many small Cox fits at once through the engine (univariable screen, subgroup forest).

Each fit is one group of the engine's (groups, rows) layout, so it keeps its own start, step
halving and stopping rule and gets the numbers it would get alone. Fits whose covariates take
a few distinct values (factors, arms) are first collapsed to one row per (time, event,
covariate pattern) with a count, which R's likelihood treats exactly as that many rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine

__all__ = ["Part", "fit_parts"]


@dataclass(frozen=True)
class Part:
    """One fit on rows already sorted by time: ``rows`` index the shared ``time``/``event``
    arrays, ``X`` holds the covariates of those rows, ``cell`` (optional) a small integer per
    row that determines its covariates (rows of a cell have equal ``X``)."""

    rows: np.ndarray
    X: np.ndarray
    cell: np.ndarray | None = None


def _collapse(block: np.ndarray, event: np.ndarray, cell: np.ndarray):
    """Rows with equal (time block, event, cell): one representative row each and the count.
    ``block`` is non-decreasing (rows sorted by time), so no sort is needed."""
    return _collapse_parts(block, event, [np.arange(cell.size)], [cell])[0]


def _collapse_parts(block, event, rows: list[np.ndarray], cells: list[np.ndarray]):
    """``_collapse`` of several parts (``block[rows[j]]``, ``event[rows[j]]``, ``cells[j]``) in
    one pass, each part in its own range of keys: the same keys, counts and first rows (as
    positions in ``rows[j]``) as one pass per part. Large parts go one at a time (a pass over
    all of them at once runs out of cache: 2x slower at 100,000 patients)."""
    sizes = np.array([r.size for r in rows])
    if len(rows) > 1 and sizes.sum() > ONE_RUN_ROWS:
        return [
            _collapse_parts(block, event, [r], [c])[0] for r, c in zip(rows, cells, strict=True)
        ]
    one = len(rows) == 1
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    r = rows[0] if one else np.concatenate(rows)
    cell = (cells[0] if one else np.concatenate(cells)).astype(np.int64, copy=False)
    nc = cell.max() + 1 if one else np.repeat(np.maximum.reduceat(cell, starts) + 1, sizes)
    key = (block[r] * 2 + 1 - event[r].astype(np.int64)) * nc + cell  # deaths first among ties
    if not one:  # parts one after the other
        off = np.concatenate(([0], np.cumsum(np.maximum.reduceat(key, starts) + 1)[:-1]))
        key += np.repeat(off, sizes)
    counts = np.bincount(key)
    keys = np.flatnonzero(counts)
    first = np.full(counts.size, -1, dtype=np.int64)
    first[key[::-1]] = np.arange(key.size)[::-1]  # first row of each key
    if one:
        return [(first[keys], counts[keys].astype(float))]
    owner = np.searchsorted(off, keys, side="right") - 1
    bounds = np.searchsorted(owner, np.arange(len(rows) + 1))
    keep, cnt = first[keys] - starts[owner], counts[keys].astype(float)
    return [(keep[a:b], cnt[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


# Up to this many padded rows in all, every part goes into one engine run (models of different
# sizes too, padded with zero columns): below it an engine run costs its fixed per-call work,
# not its rows, so padding is cheaper than another run.
ONE_RUN_ROWS = 16384


def _layout(parts_rows: list[np.ndarray], ncols: list[int]) -> list[list[int]]:
    """Parts in batches of one size of model and similar numbers of rows (each at least half
    the batch's largest), so that padding every part of a batch to its largest costs at most
    as much as the rows themselves; small problems in one batch."""
    order = sorted(range(len(parts_rows)), key=lambda j: -parts_rows[j].size)
    if order and len(order) * parts_rows[order[0]].size <= ONE_RUN_ROWS:
        return [order]
    batches: list[list[int]] = []
    for p in sorted(set(ncols)):
        first = len(batches)
        for j in (j for j in order if ncols[j] == p):
            if len(batches) > first and 2 * parts_rows[j].size >= parts_rows[batches[-1][0]].size:
                batches[-1].append(j)
            else:
                batches.append([j])
    return batches


def _padded(a: np.ndarray, p: int) -> np.ndarray:
    """``a`` (G, q, ...) with its covariate axes (all but the first) zero-padded to ``p``."""
    if a.ndim == 1 or a.shape[1] == p:
        return a
    out = np.zeros((a.shape[0],) + (p,) * (a.ndim - 1), dtype=a.dtype)
    out[(slice(None),) + tuple(slice(0, a.shape[1]) for _ in range(a.ndim - 1))] = a
    return out


def _stack(Xs: list[np.ndarray], p: int) -> np.ndarray:
    """The parts' covariates one under the other, zero-padded to ``p`` columns."""
    out = np.zeros((sum(X.shape[0] for X in Xs), p))
    at = 0
    for X in Xs:
        out[at : at + X.shape[0], : X.shape[1]] = X
        at += X.shape[0]
    return out


def fit_parts(time: np.ndarray, event: np.ndarray, parts: list[Part]) -> engine.Newton:
    """Fit every part in as few engine runs as padding allows; each part is one group of its
    run, and parts may have different numbers of covariates.

    ``time`` is ascending, deaths first among tied times. Every part needs at least one event.
    Returns the engine's per-group ``Newton`` (group j = ``parts[j]``), with the covariate axes
    of every part padded with zeros to the largest part's number of covariates.
    """
    new = np.ones(time.size, dtype=bool)
    new[1:] = time[1:] != time[:-1]
    block = np.cumsum(new) - 1
    rows, Xs, counts = [], [], []
    cells = [part for part in parts if part.cell is not None]
    collapsed = iter(
        _collapse_parts(block, event, [p.rows for p in cells], [p.cell for p in cells])
        if cells
        else ()
    )
    for part in parts:
        r, X = part.rows, part.X
        if part.cell is not None:
            keep, cnt = next(collapsed)
            r, X = r[keep], X[keep]
        else:
            cnt = np.ones(r.size)
        rows.append(r)
        Xs.append(X)
        counts.append(cnt)
    ncols = [X.shape[1] for X in Xs]
    pmax = max(ncols)
    out: dict[str, list] = {}
    index = []
    for batch in _layout(rows, ncols):
        p = max(ncols[j] for j in batch)
        ncol = np.array([ncols[j] for j in batch])
        rs = engine.prepare(
            np.concatenate([time[rows[j]] for j in batch]),
            np.concatenate([event[rows[j]] for j in batch]),
            _stack([Xs[j] for j in batch], p),
            group=np.repeat(np.arange(len(batch)), [rows[j].size for j in batch]),
            counts=np.concatenate([counts[j] for j in batch]),
            presorted=True,  # group by group, each in time order
        )
        res = engine.newton(rs, None if (ncol == p).all() else ncol)
        for name, value in vars(res).items():
            out.setdefault(name, []).append(_padded(value, pmax))
        index.extend(batch)
    back = np.argsort(index)
    return engine.Newton(**{k: np.concatenate(v)[back] for k, v in out.items()})
