"""Nearest-neighbour matching on a distance (the logit of the propensity score), as MatchIt.

A transcription of MatchIt 4.5's ``nn_matchC_vec`` with the caliper fix of 4.5.4 (#163):
treated units in decreasing distance; for each the nearest unmatched control on either side in
the sorted distances, the left one on a tie; a side whose nearest control lies beyond the
caliper offers none. Without replacement; ``ratio`` rounds. Subclasses and weights as MatchIt's
``mm2subclass`` and ``weights.matrix``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_match", "match_columns"]


class _Available:
    """Sorted positions still available, with nearest-left/right lookup (union-find jumps)."""

    def __init__(self, avail: np.ndarray) -> None:
        n = avail.size
        self.right = np.where(avail, np.arange(n), np.arange(n) + 1).tolist() + [n]
        # left[q + 1] stands for position q (left[0] for "none")
        self.left = [0] + np.where(avail, np.arange(n) + 1, np.arange(n)).tolist()

    def _find(self, parent: list, p: int) -> int:
        root = p
        while parent[root] != root:
            root = parent[root]
        while parent[p] != root:
            parent[p], p = root, parent[p]
        return root

    def right_of(self, p: int) -> int:  # first available position > p (n if none)
        return self._find(self.right, p + 1)

    def left_of(self, p: int) -> int:  # last available position < p (-1 if none)
        return self._find(self.left, p) - 1

    def remove(self, p: int) -> None:
        self.right[p] = p + 1
        self.left[p + 1] = p


def nearest_match(distance: np.ndarray, z: np.ndarray, ratio: int, caliper: float) -> list:
    """Matched control rows per treated row (treated in data order), as MatchIt 4.5.

    Treated units in decreasing distance, for each round ``r < ratio``: the nearest still
    unmatched control on the left and on the right in the sorted distances (R ``sort.list``, a
    stable sort); a side whose nearest control lies beyond the caliper has none; the left one
    wins ties. Without replacement.
    """
    order = np.argsort(distance, kind="stable")
    pos = np.empty_like(order)
    pos[order] = np.arange(order.size)
    d = distance[order].tolist()
    treated = np.flatnonzero(z == 1)
    first = np.argsort(-distance[treated], kind="stable")
    avail = _Available(z[order] == 0)
    n_left = int((z == 0).sum())
    matches: list[list[int]] = [[] for _ in treated]
    for _ in range(ratio):
        for i in first.tolist():
            if n_left == 0:
                return matches
            ii = int(pos[treated[i]])
            di = d[ii]
            kl, kr = avail.left_of(ii), avail.right_of(ii)
            dl = abs(d[kl] - di) if kl >= 0 else np.inf
            dr = abs(d[kr] - di) if kr < len(d) else np.inf
            dl = np.inf if dl > caliper else dl
            dr = np.inf if dr > caliper else dr
            if dl == np.inf and dr == np.inf:
                continue
            k = kl if dl <= dr else kr
            matches[i].append(int(order[k]))
            avail.remove(k)
            n_left -= 1
    return matches


def match_columns(matches: list, treated: np.ndarray, n: int):
    """MatchIt's subclass (numbered by treated unit in data order) and weights (weights.matrix)."""
    subclass = np.zeros(n, dtype=np.int64)
    weight = np.zeros(n)
    k = 0
    for t, row in zip(treated.tolist(), matches, strict=True):
        if not row:
            continue
        k += 1
        subclass[t] = k
        subclass[row] = k
        weight[t] = 1.0
        weight[row] += 1.0 / len(row)
    ctrl = np.ones(n, dtype=bool)
    ctrl[treated] = False
    cw = weight[ctrl]
    if cw.sum() > 0:
        weight[ctrl] = cw * (cw > 0).sum() / cw.sum()
    return subclass, weight
