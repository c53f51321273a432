"""Per-object memo of column encodings, so one refresh does not factorize a column again for
every analysis that groups by it (KM, log-rank, Cox, Table 1, response, adverse events).

Keyed on the identity of the frame or column (a pandas frame hands out the same Series for
``df[column]`` each time) through a weak reference: an entry goes with its object. Frames and
columns are never changed in place in ``hcc_core`` (functions return new ones), as Streamlit's
caches also assume; the codes handed out are read-only, so a caller that tried to write into
them would fail loudly rather than change another analysis's numbers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

__all__ = ["IdentityMemo", "factorize"]


class IdentityMemo:
    """``compute(obj, key)`` once per live ``obj`` (by identity) and ``key``.

    ``cache_clear``/``cache_info`` as a ``functools`` cache (bench/refresh.py clears every such
    cache of ``hcc_core`` between repetitions).
    """

    def __init__(self, compute: Callable[[object, Hashable], object]) -> None:
        self._compute = compute
        self._entries: dict[int, tuple[weakref.ref, dict]] = {}

    def get(self, obj, key: Hashable = None):
        ident = id(obj)
        entry = self._entries.get(ident)
        if entry is None or entry[0]() is not obj:
            entry = (weakref.ref(obj, lambda ref, i=ident: self._forget(i, ref)), {})
            self._entries[ident] = entry
        memo = entry[1]
        if key not in memo:
            memo[key] = self._compute(obj, key)
        return memo[key]

    def _forget(self, ident: int, ref: weakref.ref) -> None:
        if self._entries.get(ident, (None,))[0] is ref:
            del self._entries[ident]

    def cache_clear(self) -> None:
        self._entries.clear()

    def cache_info(self) -> int:
        return len(self._entries)


def _factorize_now(s: pd.Series, _key=None) -> tuple[np.ndarray, tuple]:
    codes, uniques = pd.factorize(s.to_numpy() if s.dtype == object else s)
    codes = codes.astype(np.int64)
    codes.flags.writeable = False
    return codes, tuple(uniques)


_FACTORIZED = IdentityMemo(_factorize_now)


def factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """``pd.factorize`` of a column (codes in order of first appearance, -1 for missing;
    read-only int64) and its distinct values, computed once per column object.

    An object column is factorized as its array, without the Series wrapper's overhead (other
    dtypes keep their own missing values and types, e.g. Int64 levels stay integers).
    """
    codes, uniques = _FACTORIZED.get(s)
    return codes, list(uniques)
