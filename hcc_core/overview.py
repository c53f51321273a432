"""Cohort overview: group sizes, event counts, enrolment dates and missing data."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import schema as S

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


def _event_sum(df: pd.DataFrame, column: str) -> int:
    return int(pd.to_numeric(df[column], errors="coerce").fillna(0).sum()) if column in df else 0


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
    headline = {"Patients": len(df)}
    if S.OS_EVENT in df:
        headline["Deaths"] = _event_sum(df, S.OS_EVENT)
    if S.PFS_EVENT in df:
        headline["Progressions or deaths"] = _event_sum(df, S.PFS_EVENT)
    keys = [c for c in (S.TREATMENT_GROUP, S.LOCAL_MODALITY) if c in df]
    rows = []
    if keys:
        for key, g in df.groupby(keys, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            row = dict(zip(keys, key, strict=True))
            row["patients"] = len(g)
            if S.OS_EVENT in g:
                row["deaths"] = _event_sum(g, S.OS_EVENT)
            if S.PFS_EVENT in g:
                row["pfs_events"] = _event_sum(g, S.PFS_EVENT)
            rows.append(row)
    by_group = pd.DataFrame(rows)
    if len(by_group):
        order = {c: {lv: i for i, lv in enumerate(S.LEVELS.get(c, ()))} for c in keys}
        by_group = by_group.sort_values(
            keys, key=lambda s: s.map(order[s.name]).fillna(len(order[s.name]))
        ).reset_index(drop=True)
    present = [c.name for c in S.COLUMNS if c.name in df] + [
        c for c in S.ae_columns(df) if c not in S.COLUMN_BY_NAME
    ]
    n_missing = [int(df[c].isna().sum()) for c in present]
    missing = pd.DataFrame({
        "column": present,
        "missing": n_missing,
        "missing_percent": [100.0 * m / len(df) if len(df) else 0.0 for m in n_missing],
    })
    date_range = ""
    if S.TREATMENT_START_DATE in df and df[S.TREATMENT_START_DATE].notna().any():
        start = pd.to_datetime(df[S.TREATMENT_START_DATE])
        date_range = (f"Treatment started between {start.min():%Y-%m-%d} and "
                      f"{start.max():%Y-%m-%d}.")
        if S.LAST_FOLLOWUP_DATE in df and df[S.LAST_FOLLOWUP_DATE].notna().any():
            date_range += (" Last follow-up: "
                           f"{pd.to_datetime(df[S.LAST_FOLLOWUP_DATE]).max():%Y-%m-%d}.")
    return OverviewResult(headline, by_group, missing, date_range)
