"""Small-cell suppression: counts below k shown as "<k" wherever the app prints a count.

For sharing results beyond the care team (a tumour board of another hospital, a registry
report), a count of 1 to k - 1 patients can identify someone. With suppression on, the one
formatting layer writes such a count as "<5" (for k = 5): Table 1, response and adverse-event
cells (count and percentage together, since the percentage would give the count back), group
sizes in column headers, numbers at risk under Kaplan-Meier curves, count columns of exported
tables, and the stamp of every export ("Counts below 5 shown as <5"). Zero stays 0: an empty
cell identifies nobody. Off by default.

The setting is bound to the current run (a context variable, like the interface language):
``set_suppression`` at the start of each script run, ``suppressing`` around deferred work
(downloads built after the run) and in tests.

Notes
-----
Primary suppression only, as in most registry rules (e.g. SEER's "counts of 1-15 are
suppressed" style): totals and complementary cells are not suppressed, so a determined reader
may recover a cell from a row total; say so when sharing.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from .i18n import _

__all__ = [
    "DEFAULT_K",
    "set_suppression",
    "current",
    "suppressing",
    "hides",
    "count_text",
    "footnote",
    "suppress_counts",
    "COUNT_COLUMNS",
]

DEFAULT_K = 5
#: Column names (lower case) of exported/numeric tables that hold patient counts.
COUNT_COLUMNS = frozenset(
    {"n", "events", "at_risk", "at risk", "number at risk", "censored", "observed",
     "cumulative_events", "cumulative_censored", "n_events", "deaths"}
)

_k: contextvars.ContextVar[int | None] = contextvars.ContextVar("hcc_suppress_below", default=None)


def set_suppression(k: int | None) -> int | None:
    """Suppress counts below ``k`` in this run (``None`` or 0: off)."""
    k = int(k) if k else None
    _k.set(k)
    return k


def current() -> int | None:
    """The threshold of this run, or None when suppression is off."""
    return _k.get()


@contextmanager
def suppressing(k: int | None) -> Iterator[None]:
    """Run a block with suppression below ``k`` (None: off), restoring the setting after."""
    token = _k.set(int(k) if k else None)
    try:
        yield
    finally:
        _k.reset(token)


def hides(n) -> bool:
    """True when ``n`` is a count the current setting hides (0 < n < k)."""
    k = _k.get()
    if k is None or n is None or isinstance(n, bool | str):
        return False
    try:
        value = float(n)
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and 0 < value < k


def count_text(n) -> str | None:
    """ "<5" when ``n`` is hidden, else None (the caller formats the count as usual)."""
    return f"<{_k.get()}" if hides(n) else None


def footnote() -> str | None:
    """ "Counts below 5 shown as <5." while suppression is on, else None."""
    k = _k.get()
    return None if k is None else _("Counts below {k} shown as <{k}.").format(k=k)


def suppress_counts(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the hidden counts of its count columns (:data:`COUNT_COLUMNS`) as "<k".

    Columns are matched on their name, case-insensitively, also as the first word of a
    longer name ("n, Systemic", "Events (Systemic)"); other columns are untouched, and so is
    the table when suppression is off or nothing is hidden.
    """
    if _k.get() is None:
        return table
    out = None
    for column in table.columns:
        name = str(column).strip().lower()
        head = name.replace(",", " ").replace("(", " ").split(" ")[0] if name else ""
        if name not in COUNT_COLUMNS and head not in COUNT_COLUMNS:
            continue
        values = table[column]
        mask = values.map(hides)
        if mask.any():
            out = table.copy() if out is None else out
            out[column] = values.astype(object).where(~mask, f"<{_k.get()}")
    if out is None:
        return table
    out.attrs = dict(table.attrs)
    return out
