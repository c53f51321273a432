"""Cohort overview: group sizes, event counts, enrolment dates and missing data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from .i18n import _
from .memo import factorize

__all__ = ["OverviewResult", "cohort_overview"]


@dataclass(frozen=True)
class OverviewResult:
    """Counts describing a (filtered) cohort.

    ``headline`` maps a label to a count for metric tiles; ``by_group`` is a tidy table of
    patients, deaths and PFS events per treatment group and local modality; ``missing`` lists
    each canonical column with its number and share of missing values; ``date_range`` is a
    sentence (empty when the cohort has no treatment start dates).
    """

    headline: dict[str, int]
    by_group: pd.DataFrame
    missing: pd.DataFrame
    date_range: str


def _events(df: pd.DataFrame, column: str) -> np.ndarray:
    """``pd.to_numeric(df[column], errors="coerce").fillna(0)`` as a float64 array."""
    col = df[column]
    if not pd.api.types.is_numeric_dtype(col.dtype):
        col = pd.to_numeric(col, errors="coerce")
    values = col.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), 0.0, values)


def _by_group(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Patients and event counts per combination of ``keys`` (missing values form a group).

    As ``df.groupby(keys, sort=False, dropna=False)`` with one ``sum`` per group, from integer
    codes and ``bincount``; rows then sorted by schema level order (unknown levels and missing
    last, ties in order of first appearance).
    """
    if not len(df):
        return pd.DataFrame([])
    codes, uniques = [], []
    for c in keys:
        code, uniq = factorize(df[c])  # missing -> -1
        codes.append(np.where(code < 0, len(uniq), code))
        uniques.append(list(uniq) + [np.nan])
    combo = codes[0]
    for code, uniq in zip(codes[1:], uniques[1:], strict=True):
        combo = combo * len(uniq) + code
    # groups in order of first appearance, as groupby(sort=False)
    first, inv = np.unique(combo, return_index=True, return_inverse=True)[1:]
    appearance = np.argsort(first, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(appearance.size)
    group = rank[inv.ravel()]
    rows = first[appearance]  # one representative row per group
    out = {c: [u[i] for i in code[rows]] for c, code, u in zip(keys, codes, uniques, strict=True)}
    out["patients"] = np.bincount(group, minlength=rows.size).astype(np.int64)
    for column, name in ((S.OS_EVENT, "deaths"), (S.PFS_EVENT, "pfs_events")):
        if column in df:
            sums = np.bincount(group, weights=_events(df, column), minlength=rows.size)
            out[name] = sums.astype(np.int64)
    by_group = pd.DataFrame(out)
    ranks = []
    for c, code, u in zip(keys, codes, uniques, strict=True):
        # each group's schema rank, looked up once per distinct value (as by_group[c].map(order)
        # .fillna(len(order)): float when some value has no rank, else integer)
        order = {lv: i for i, lv in enumerate(S.LEVELS.get(c, ()))}
        found = [order.get(v) for v in u]
        lut = np.array([len(order) if f is None else f for f in found])
        known = np.array([f is not None for f in found])
        rank = lut[code[rows]]
        ranks.append(rank if known[code[rows]].all() else rank.astype(float))
    # as DataFrame.sort_values: quicksort for one key, a stable lexsort for several
    idx = np.argsort(ranks[0], kind="quicksort") if len(ranks) == 1 else np.lexsort(ranks[::-1])
    return by_group.take(idx).reset_index(drop=True)


def _dates(col: pd.Series) -> pd.Series:
    return col if pd.api.types.is_datetime64_any_dtype(col.dtype) else pd.to_datetime(col)


def cohort_overview(df: pd.DataFrame) -> OverviewResult:
    """Summarise the cohort for the Overview page.

    Parameters
    ----------
    df : DataFrame
        Canonical cohort (``hcc_core.load_cohort(...).data``, possibly filtered).

    Returns
    -------
    OverviewResult
    """
    headline = {_("Patients"): len(df)}
    if S.OS_EVENT in df:
        headline[_("Deaths")] = int(_events(df, S.OS_EVENT).sum())
    if S.PFS_EVENT in df:
        headline[_("Progressions or deaths")] = int(_events(df, S.PFS_EVENT).sum())
    keys = [c for c in (S.TREATMENT_GROUP, S.LOCAL_MODALITY) if c in df]
    by_group = _by_group(df, keys) if keys else pd.DataFrame([])
    present = [c.name for c in S.COLUMNS if c.name in df] + [
        c for c in S.ae_columns(df) if c not in S.COLUMN_BY_NAME
    ]
    n_missing = (
        df.isna().to_numpy().sum(axis=0)[df.columns.get_indexer(present)].astype(int).tolist()
        if present
        else []
    )
    missing = pd.DataFrame({
        "column": present,
        "missing": n_missing,
        "missing_percent": [100.0 * m / len(df) if len(df) else 0.0 for m in n_missing],
    })
    date_range = ""
    if S.TREATMENT_START_DATE in df and df[S.TREATMENT_START_DATE].notna().any():
        start = _dates(df[S.TREATMENT_START_DATE])
        date_range = _("Treatment started between {first} and {last}.").format(
            first=f"{start.min():%Y-%m-%d}", last=f"{start.max():%Y-%m-%d}"
        )
        if S.LAST_FOLLOWUP_DATE in df and df[S.LAST_FOLLOWUP_DATE].notna().any():
            date_range += _(" Last follow-up: {date}.").format(
                date=f"{_dates(df[S.LAST_FOLLOWUP_DATE]).max():%Y-%m-%d}"
            )
    return OverviewResult(headline, by_group, missing, date_range)
