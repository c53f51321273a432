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
Primary suppression of counts, as in most registry rules (e.g. SEER's "counts of 1-15 are
suppressed" style), plus what would give a hidden count straight back: a proportion's CI, a
difference of proportions between groups of known size (:func:`withheld_cell`) and charts drawn
from the counts (response bars, the propensity-score histogram: :func:`reveals`,
:func:`chart_withheld_note`). Totals and complementary cells are not suppressed, so a determined
reader may recover a cell from a row total, and test statistics and p-values are shown; say so
when sharing.
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
    "shown",
    "footnote",
    "reveals",
    "withheld_cell",
    "chart_withheld_note",
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


def shown(n):
    """A count as a sentence shows it: "<5" when hidden, else the count itself.

    For the counts in sentences, answer boxes, captions and chart labels ("n = 12, 7 events"),
    which tables' formatting does not reach.
    """
    if (hidden := count_text(n)) is not None:
        return hidden
    try:  # numpy and float counts print as integers; anything else (a weighted sum) as given
        return int(n) if float(n).is_integer() else n
    except (TypeError, ValueError, OverflowError):
        return n


def footnote() -> str | None:
    """ "Counts below 5 shown as <5." while suppression is on, else None."""
    k = _k.get()
    return None if k is None else _("Counts below {k} shown as <{k}.").format(k=k)


def reveals(counts) -> bool:
    """True when any of ``counts`` is hidden by the current setting.

    A chart or statistic drawn from such counts would give them back (a stacked bar of 2 of 9
    patients is 22%; a difference of two proportions with known denominators is the count), so
    it is withheld with :func:`chart_withheld_note` or :func:`withheld_cell`.
    """
    return _k.get() is not None and any(hides(n) for n in counts)


def withheld_cell() -> str:
    """Text of a table cell (e.g. a difference of proportions) that would give a hidden count
    back: "not shown (<5)"."""
    return _("not shown (<{k})").format(k=_k.get())


def chart_withheld_note() -> str:
    """The sentence shown instead of a chart whose counts include hidden ones."""
    return _(
        "Chart not shown: it would give away counts below {k} (small-cell suppression is on)."
    ).format(k=_k.get())


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
