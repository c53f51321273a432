"""The one formatting layer: numbers become display strings here and nowhere else.

One rounding rule per kind of number (``DIGITS``). A value that does not exist is never
shown as "nan", "None" or "0.00 (0.00-inf)": it becomes ``NE`` (not estimable) or ``DASH``
(nothing to show), and the table that shows it carries a footnote saying why.
"""

from __future__ import annotations

import math

import pandas as pd

from . import suppression
from .i18n import N_, _

__all__ = [
    "DIGITS",
    "NE",
    "DASH",
    "INDENT",
    "SYMBOL_NOTES",
    "is_missing",
    "rows_of",
    "format_p",
    "format_number",
    "format_n_pct",
    "format_hr",
    "hr_estimable",
    "not_estimable_reason",
    "symbol_notes",
    "COLUMN_WORDS",
    "readable_columns",
    "format_hr_table",
    "format_ph_test",
    "format_subgroup_table",
]

NE = "NE"
DASH = "-"
# Indent of a level row ("Male" under "Sex"): em spaces, because Markdown renderers (st.table,
# slides) read four leading ASCII spaces as a code block, and Vega trims them.
INDENT = "\u2003\u2003"

# Digits after the decimal point, one rule per kind of number, on every page and export.
DIGITS: dict[str, int] = {
    "hr": 2,  # hazard ratios and their CI limits
    "p": 3,  # p-values ("< 0.001" below)
    "pct": 2,  # percentages, as the paper prints them ("35 (89.74)")
    "summary": 2,  # means, SDs, medians, quartiles
    "statistic": 3,  # test statistics (t, Z, chi-square, F, H)
    "smd": 3,  # standardised mean differences
}

# Below this an HR prints as "< 0.01" (never "0.00"); above the upper bound as "> 100".
_HR_FLOOR, _HR_CEIL = 0.01, 100.0
# A 95% CI wider than a millionfold range: the coefficient is not identified (separation).
_MAX_CI_RATIO = 1e6

SYMBOL_NOTES: dict[str, str] = {
    NE: N_("not estimable"),
    DASH: N_("no value"),
}


def rows_of(table: pd.DataFrame) -> list[dict]:
    """The rows of ``table`` as dicts of Python values, as ``iterrows`` gives them for a
    table with a text column, without a Series per row: formatters run on every rerun."""
    columns = {c: table[c].tolist() for c in table.columns}
    return [dict(zip(columns, r, strict=True)) for r in zip(*columns.values(), strict=True)]


def is_missing(x) -> bool:
    """True for None, NaN, pandas NA and infinities: values that must not be printed."""
    if x is None or x is pd.NA:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def format_p(p) -> str:
    """P-value: "< 0.001", else three decimals; "-" when there is no test."""
    if is_missing(p):
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.{DIGITS['p']}f}"


def format_number(x, kind: str = "summary", missing: str = DASH) -> str:
    """A number with the digits of its ``kind`` (see ``DIGITS``); ``missing`` when absent."""
    if is_missing(x):
        return missing
    return f"{float(x):.{DIGITS[kind]}f}"


def format_n_pct(n, pct, digits: int | None = None) -> str:
    """ "35 (89.74)"; "-" without a count; the count alone when the percentage is undefined.

    With small-cell suppression on (:mod:`hcc_core.suppression`) a count below k is "<5",
    without its percentage (which would give the count back).
    """
    if is_missing(n):
        return DASH
    if (hidden := suppression.count_text(n)) is not None:
        return hidden
    if is_missing(pct):
        return f"{int(n)}"
    return f"{int(n)} ({pct:.{DIGITS['pct'] if digits is None else digits}f})"


def hr_estimable(hr, lower, upper) -> bool:
    """False when the hazard ratio or its CI is missing, 0, infinite or absurdly wide.

    A Cox coefficient under separation (a group with no events, or with all of them) runs
    off to infinity: R prints HR 0.00 (0.00-Inf). Such a row is "not estimable", not a number.
    """
    if any(is_missing(v) for v in (hr, lower, upper)):
        return False
    if hr <= 0 or lower <= 0:
        return False
    return upper / lower <= _MAX_CI_RATIO


def not_estimable_reason(hr, lower, upper) -> str:
    """Why :func:`hr_estimable` said no, in words for a footnote ("" when it is estimable)."""
    if hr_estimable(hr, lower, upper):
        return ""
    if is_missing(hr):
        return _("not estimated (too few patients or events in a group)")
    return _(
        "the coefficient may be infinite (separation: a group with no events or with all "
        "the events), so its confidence interval runs from 0 to infinity"
    )


def _hr_number(x: float) -> str:
    if x < _HR_FLOOR:
        return f"< {_HR_FLOOR:.2f}"
    if x > _HR_CEIL:
        return f"> {_HR_CEIL:.0f}"
    return f"{x:.{DIGITS['hr']}f}"


def format_hr(hr, lower, upper) -> str:
    """ "0.58 (0.34-0.98)"; "NE" when the HR is not estimable (see :func:`hr_estimable`)."""
    if not hr_estimable(hr, lower, upper):
        return NE
    return f"{_hr_number(hr)} ({_hr_number(lower)}-{_hr_number(upper)})"


def _shows(cells: list[str], symbol: str) -> bool:
    if symbol == DASH:
        return any(c.strip() == DASH for c in cells)
    return any(symbol in c.replace("(", " ").replace(")", " ").split() for c in cells)


def symbol_notes(table: pd.DataFrame, reasons: dict[str, str] | None = None) -> list[str]:
    """Footnotes for the placeholder symbols a display table shows ('"NE": not estimable.').

    The first column (row labels) is not scanned. ``reasons`` maps a symbol to why it
    appears in this table; a symbol gets a footnote only when some cell shows it, alone or
    as a part ("60.00 +/- NE").
    """
    reasons = reasons or {}
    cells = [str(c) for c in table.iloc[:, 1:].to_numpy().ravel()] if table.shape[1] > 1 else []
    notes = []
    for symbol, text in SYMBOL_NOTES.items():
        if _shows(cells, symbol):
            reason = reasons.get(symbol) or _(text)
            notes.append(_('"{symbol}": {reason}.').format(symbol=symbol, reason=reason))
    note, k = suppression.footnote(), suppression.current()
    if note is not None and any(f"<{k}" in c for c in [*cells, *map(str, table.columns)]):
        notes.append(note)
    return notes


# Words for the numeric result columns, for tables shown or exported as numbers.
COLUMN_WORDS: dict[str, str] = {
    "variable": N_("Variable"),
    "label": N_("Characteristic"),
    "level": N_("Level"),
    "kind": N_("Kind"),
    "summary": N_("Summary"),
    "category": N_("Category"),
    "term": N_("Term"),
    "band": N_("Grade band"),
    "category_label": N_("Category"),
    "covariate": N_("Covariate"),
    "n": "n",
    "pct": "%",
    "mean": N_("Mean"),
    "sd": N_("SD"),
    "median": N_("Median"),
    "q1": N_("Q1"),
    "q3": N_("Q3"),
    "missing": N_("Missing"),
    "ci_low": N_("95% CI lower (%)"),
    "ci_high": N_("95% CI upper (%)"),
    "diff": N_("Difference (percentage points)"),
    "diff_ci_low": N_("Difference 95% CI lower"),
    "diff_ci_high": N_("Difference 95% CI upper"),
    "test": N_("Test"),
    "statistic": N_("Statistic"),
    "df": N_("Degrees of freedom"),
    "p_value": "p",
    "min_expected": N_("Smallest expected count"),
    "low_expected": N_("Expected count < 5"),
    "fisher_p": N_("Fisher's exact p"),
    "fisher_method": N_("Fisher's test method"),
    "fisher_se": N_("Fisher's p Monte-Carlo SE"),
    "smd": N_("SMD"),
    "coef": N_("Coefficient (log HR)"),
    "se": N_("Standard error"),
    "hr": N_("HR"),
    "hr_lower": N_("HR 95% CI lower"),
    "hr_upper": N_("HR 95% CI upper"),
    "events": N_("Events"),
    "chisq": N_("Chi-square"),
    "note": N_("Note"),
}


def readable_columns(table: pd.DataFrame, level_names: dict | None = None) -> pd.DataFrame:
    """The same numbers under headers in words: ``p_value`` -> "p", ``n[systemic]`` ->
    "n, Systemic" (group names from ``level_names``). Values are not touched."""
    level_names = level_names or {}

    def words(col) -> str:
        col = str(col)
        if col.endswith("]") and "[" in col:
            stat, group = col[:-1].split("[", 1)
            return f"{_(COLUMN_WORDS.get(stat, stat))}, {level_names.get(group, group)}"
        return _(COLUMN_WORDS[col]) if col in COLUMN_WORDS else col.replace("_", " ").capitalize()

    return table.rename(columns=words)


def format_hr_table(
    table: pd.DataFrame, labels: dict | None = None, counts: bool = False
) -> pd.DataFrame:
    """A Cox model table for display: "Covariate", ("n", "Events"), "HR (95% CI)", "p".

    ``table`` is indexed by term with ``hr, hr_lower, hr_upper, p_value`` (``fit_cox(...).table``
    or ``cox_univariable``, whose ``n, events`` show with ``counts``); ``labels`` maps terms to
    words. A term that cannot be estimated reads "NE", its p "-", and ``attrs["notes"]`` says
    why, per term.
    """
    labels = labels or {}
    covariate, events, hr_ci = _("Covariate"), _("Events"), _("HR (95% CI)")
    rows, notes = [], []
    for term, r in zip(table.index, rows_of(table), strict=True):
        label = labels.get(term, str(term))
        ok = hr_estimable(r["hr"], r["hr_lower"], r["hr_upper"])
        row = {covariate: label}
        if counts:
            row["n"] = DASH if is_missing(r.get("n")) else str(int(r["n"]))
            row[events] = DASH if is_missing(r.get("events")) else str(int(r["events"]))
        row[hr_ci] = format_hr(r["hr"], r["hr_lower"], r["hr_upper"])
        row["p"] = format_p(r["p_value"]) if ok else DASH
        if not ok:
            reason = not_estimable_reason(r["hr"], r["hr_lower"], r["hr_upper"])
            notes.append(_('"NE" ({label}): {reason}.').format(label=label, reason=reason))
        rows.append(row)
    out = pd.DataFrame(rows, columns=[covariate, *(["n", events] if counts else []), hr_ci, "p"])
    out.attrs["notes"] = notes
    return out


def format_ph_test(ph: pd.DataFrame, labels: dict | None = None) -> pd.DataFrame:
    """The proportional-hazards test (``CoxResult.ph_test``) under headers in words."""
    labels = {"GLOBAL": _("Global test"), **(labels or {})}
    return pd.DataFrame({
        _("Covariate"): [labels.get(t, str(t)) for t in ph.index],
        _("Chi-square"): [format_number(x, "statistic") for x in ph["chisq"]],
        _("Degrees of freedom"): [DASH if is_missing(x) else f"{x:g}" for x in ph["df"]],
        "p": [format_p(x) for x in ph["p_value"]],
    })


def format_subgroup_table(forest: pd.DataFrame, arms: tuple[str, str]) -> pd.DataFrame:
    """``subgroup_forest`` for display: subgroup, level, events/n per arm, HR (95% CI), p,
    p for interaction, note. ``arms`` = (reference, comparator) labels."""
    ref, comp = arms
    events_n = _("{arm}, events/n")
    rows = []
    for r in rows_of(forest):
        rows.append({
            _("Subgroup"): str(r["subgroup"]),
            _("Level"): "" if str(r["level"]) == "all" else str(r["level"]),
            events_n.format(arm=comp): f"{int(r['events_comparator'])}/{int(r['n_comparator'])}",
            events_n.format(arm=ref): f"{int(r['events_reference'])}/{int(r['n_reference'])}",
            _("HR (95% CI)"): format_hr(r["hr"], r["hr_lower"], r["hr_upper"]),
            "p": format_p(r["p_value"]) if hr_estimable(r["hr"], r["hr_lower"], r["hr_upper"])
            else DASH,
            _("p for interaction"): format_p(r["p_interaction"]),
            _("Note"): str(r.get("note", "") or ""),
        })
    out = pd.DataFrame(rows)
    out.attrs["notes"] = symbol_notes(out, {
        NE: _("not estimable (an arm without patients or events in this subgroup; see Note)"),
        DASH: _("no test (the HR is not estimable, or the subgroup has one level)"),
    })
    return out
