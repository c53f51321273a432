"""Adverse events (CTCAE v5): patients with any grade, grade 1-2 and grade >= 3 by group.

``ae_table`` returns numbers; ``format_ae_table`` makes the display strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from .errors import CohortError, MissingColumnsError
from .formatting import DASH, INDENT, format_n_pct, format_p, rows_of, symbol_notes
from .i18n import N_, _
from .stats_tests import CONTINGENCY_COLUMNS, contingency_test, fisher_note
from .tables import (
    ANY_AE,
    FISHER_HEAD,
    OVERALL,
    P_HEAD,
    _Footnoted,
    _frame,
    _group_header,
    _group_index,
    _group_notes,
    group_column,
    label_of,
)

__all__ = ["ANY_AE", "AE_CATEGORY_LABELS", "AE_BANDS", "AEResult", "ae_table", "format_ae_table"]

AE_CATEGORY_LABELS: dict[str, str] = {
    "any": N_("Any adverse event"),
    "local": N_("Local treatment-related"),
    "systemic": N_("Systemic treatment-related"),
    "laboratory": N_("Laboratory abnormalities"),
    "other": N_("Other"),
}
# band name -> (lowest grade, highest grade); bands "any", "1-2", ">=3" are always shown,
# "5" (fatal) only where a grade-5 event occurred.
AE_BANDS: dict[str, tuple[int, int]] = {"any": (1, 5), "1-2": (1, 2), ">=3": (3, 5), "5": (5, 5)}


@dataclass(frozen=True)
class AEResult(_Footnoted):
    """Adverse-event table as numbers.

    ``table`` has one row per (``term``, ``band``) with ``label, category,
    category_label``, per group ``n[g], pct[g], missing[g]`` (patients whose worst grade is
    in the band; percent of patients with a known grade), then ``statistic, df, p_value,
    min_expected, low_expected, fisher_p, fisher_method, missing``. The first rows
    (``term == "ae_any"``) use each patient's worst grade over all terms. ``grade5`` lists
    every grade-5 (fatal) event: ``patient_id`` (when present), group, term, label. With
    ``overall`` the ``n, pct, missing`` columns also exist for ``OVERALL`` (every patient
    with a group), first; tests compare the groups only.
    """

    table: pd.DataFrame
    grade5: pd.DataFrame
    by: str
    groups: tuple
    group_n: dict
    terms: tuple[str, ...]
    n_group_missing: int
    method: str
    notes: tuple[str, ...]
    overall: bool = False


def _grades(df: pd.DataFrame, columns: list[str], analysis: str) -> np.ndarray:
    try:
        grades = np.column_stack(
            [
                (df[c] if pd.api.types.is_numeric_dtype(df[c]) else pd.to_numeric(df[c])).to_numpy(
                    dtype=float, na_value=np.nan
                )
                for c in columns
            ]
        )
    except (ValueError, TypeError):
        raise CohortError(
            _(
                "The {analysis} needs CTCAE grades (whole numbers 0-5) in the ae_* columns, "
                "but some hold text. Correct them or leave the cells empty."
            ).format(analysis=_(analysis))
        ) from None
    bad = ~np.isnan(grades) & ((grades < 0) | (grades > 5) | (grades != np.round(grades)))
    if bad.any():
        cols = sorted({columns[j] for j in np.nonzero(bad)[1]})
        raise CohortError(
            _(
                "The {analysis} needs CTCAE grades as whole numbers 0-5 (0 = none); the "
                "column(s) {columns} hold other values. Correct them or leave the cells empty."
            ).format(analysis=_(analysis), columns=", ".join(map(repr, cols)))
        )
    return grades


def _worst(grades: np.ndarray) -> np.ndarray:
    known = ~np.isnan(grades)
    worst = np.where(known, grades, -1).max(axis=1)
    return np.where(known.any(axis=1), worst, np.nan)


def _count_grades(codes: np.ndarray, n_groups: int, matrix: np.ndarray) -> np.ndarray:
    """Patients per group, term and grade ((groups, terms, 7) floats; grade 6: missing) from
    ``matrix`` (patients x terms, whole grades 0-5 or NaN); patients without a group (code -1)
    are not counted. One bincount instead of a product per band over every patient."""
    rows = codes >= 0
    grade = np.where(np.isnan(matrix[rows]), 6, matrix[rows]).astype(np.int64)
    terms = matrix.shape[1]
    key = (codes[rows][:, None] * terms + np.arange(terms)) * 7 + grade
    counts = np.bincount(key.reshape(-1), minlength=n_groups * terms * 7)
    return counts.reshape(n_groups, terms, 7).astype(float)


def ae_table(df: pd.DataFrame, by: str = S.TREATMENT_GROUP, overall: bool = False) -> AEResult:
    """Patients with adverse events by term, grade band and group, with tests.

    Parameters
    ----------
    df : one row per patient; ``ae_<term>`` columns hold the worst CTCAE v5 grade (0-5).
    by : grouping column; levels in schema order.
    overall : add an ``OVERALL`` column (every patient with a group).

    Returns
    -------
    AEResult : numeric table, grade-5 listing, footnote text (``method``) and notes.

    Raises
    ------
    MissingColumnsError : ``by`` is absent or there is no ``ae_*`` column.
    CohortError : a grade is not a whole number from 0 to 5.

    Notes
    -----
    Pearson chi-square without continuity correction as in the paper (R
    ``chisq.test(correct = FALSE)``), with Fisher's exact p (R ``fisher.test``) where an
    expected count is < 5.
    """
    analysis = N_("adverse-event table")
    columns = S.ae_columns(df)
    if not columns:
        S.require_columns(df, [by], analysis)
        raise MissingColumnsError(analysis, [f"{S.AE_PREFIX}<term>"])
    grp = _group_index(df, by, analysis)
    grades = _grades(df, columns, analysis)
    terms = [ANY_AE, *sorted(columns, key=_category_order)]
    matrix = np.column_stack([_worst(grades), grades[:, [columns.index(c) for c in terms[1:]]]])
    by_grade = _count_grades(grp.codes, len(grp.levels), matrix)  # groups x terms x grade
    known = by_grade[:, :, :6].sum(axis=2)  # groups x terms
    missing = by_grade[:, :, 6]
    events = {band: by_grade[:, :, lo : hi + 1].sum(axis=2) for band, (lo, hi) in AE_BANDS.items()}
    any_grade5 = bool(events["5"].any())
    rows = [
        _row(term, band, events[band][:, j], known[:, j], missing[:, j], grp.levels, overall)
        for j, term in enumerate(terms)
        for band in AE_BANDS
        if band != "5" or events["5"][:, j].any()
    ]
    table = _frame(
        rows,
        (OVERALL, *grp.levels) if overall else grp.levels,
        ("n", "pct", "missing"),
        lead=("term", "label", "category", "category_label", "band"),
        tail=(
            *CONTINGENCY_COLUMNS,
            "missing",
        ),
    )
    notes = _group_notes(grp, by)
    n_missing = int(np.isnan(matrix[:, 1:]).sum())
    if n_missing:
        notes.append(
            _(
                "{n} missing grade(s) across the ae_* columns: those patients are left out of "
                "that term's denominator."
            ).format(n=n_missing)
        )
    return AEResult(
        table=table,
        grade5=_grade5(df, grades, columns, by),
        by=by,
        groups=grp.levels,
        group_n={g: int(n) for g, n in zip(grp.levels, grp.sizes, strict=True)},
        terms=tuple(terms[1:]),
        n_group_missing=grp.n_missing,
        method=_method(len(grp.levels), any_grade5),
        notes=tuple(notes),
        overall=overall,
    )


def _category_order(column: str) -> int:
    return list(AE_CATEGORY_LABELS).index(S.AE_CATEGORY.get(column, "other"))


def _row(term, band, events, known, missing, levels, overall: bool = False) -> dict:
    category = "any" if term == ANY_AE else S.AE_CATEGORY.get(term, "other")
    row = {
        "term": term,
        "label": label_of(term),
        "category": category,
        "category_label": AE_CATEGORY_LABELS[category],
        "band": band,
        "missing": int(missing.sum()),
    }
    for i, g in enumerate(levels):
        row[group_column("n", g)] = int(events[i])
        row[group_column("pct", g)] = 100.0 * events[i] / known[i] if known[i] else np.nan
        row[group_column("missing", g)] = int(missing[i])
    if overall:
        k, n = events.sum(), known.sum()
        row[group_column("n", OVERALL)] = int(k)
        row[group_column("pct", OVERALL)] = 100.0 * k / n if n else np.nan
        row[group_column("missing", OVERALL)] = int(missing.sum())
    if (known > 0).sum() >= 2:
        ct = contingency_test(np.column_stack([events, known - events]))
        row.update(**ct.as_dict())
    return row


def _grade5(df: pd.DataFrame, grades: np.ndarray, columns: list[str], by: str) -> pd.DataFrame:
    r, c = np.nonzero(grades == 5)
    out = pd.DataFrame(
        {
            S.PATIENT_ID: (
                df[S.PATIENT_ID].to_numpy()[r]
                if S.PATIENT_ID in df
                else pd.Series([None] * len(r), dtype=object)
            ),
            by: df[by].to_numpy()[r],
            "term": [columns[j] for j in c],
            "label": [label_of(columns[j]) for j in c],
        }
    )
    return out.reset_index(drop=True)


def _method(n_groups: int, any_grade5: bool) -> str:
    fisher = fisher_note(n_groups > 2)
    return _(
        "Adverse events graded by CTCAE v5.0; each ae_* column holds a patient's worst grade "
        "for that term. n (%) = patients whose worst grade falls in the band, of the patients "
        "in the group with a known grade for that term. 'Any adverse event' uses each "
        "patient's worst grade over all terms. Tests: Pearson chi-square without continuity "
        "correction (as in the paper); where any expected count is < 5 (marked '*') Fisher's "
        "exact p ({fisher}) is given alongside and is the one to read."
    ).format(fisher=fisher) + " " + (
        _("Grade 5 (fatal) events are listed separately.")
        if any_grade5
        else _("No grade 5 (fatal) event was recorded.")
    )


_BAND_LABEL = {
    "any": N_("Any grade"),
    "1-2": N_("Grade 1-2"),
    ">=3": N_("Grade >= 3"),
    "5": N_("Grade 5"),
}


AE_SYMBOLS = {
    DASH: N_(
        "no test is possible (fewer than two groups with a known grade), or no patient "
        "of the group has a known grade"
    ),
}


def format_ae_table(result: AEResult, digits: int | None = None) -> pd.DataFrame:
    """Display strings for the adverse-event table, like the paper's Table 3.

    Category header rows, then per term "Pain" (any grade) with n (%), p and Fisher's
    exact p, followed by its "Grade 1-2", "Grade >= 3" (and "Grade 5") rows; an
    "Overall (N = ...)" column first with ``result.overall``. ``attrs["notes"]`` explains
    any "-"; footnote: ``result.method``.
    """
    cols, n = result.columns, result.column_n
    heads = [_group_header(result.by, g, n[g]) for g in cols]
    out, category = [], None
    ae_head, fisher_head = _("Adverse event"), _(FISHER_HEAD)
    blank = dict.fromkeys([*heads, P_HEAD, fisher_head], "")
    for row in rows_of(result.table):
        if row["category"] != category:
            category = row["category"]
            if category != "any":
                out.append({ae_head: _(AE_CATEGORY_LABELS[category]), **blank})
        name = (
            label_of(row["term"])
            if row["band"] == "any"
            else f"{INDENT}{_(_BAND_LABEL[row['band']])}"
        )
        cells = {
            h: (
                format_n_pct(row[group_column("n", g)], row[group_column("pct", g)], digits)
                if np.isfinite(row[group_column("pct", g)])
                else DASH
            )
            for g, h in zip(cols, heads, strict=True)
        }
        cells[P_HEAD] = format_p(row["p_value"]) + (" *" if row["low_expected"] else "")
        cells[fisher_head] = format_p(row["fisher_p"]) if row["low_expected"] else ""
        out.append({ae_head: name, **cells})
    table = pd.DataFrame(out, columns=[ae_head, *heads, P_HEAD, fisher_head])
    table.attrs["notes"] = symbol_notes(table, {k: _(v) for k, v in AE_SYMBOLS.items()})
    return table
