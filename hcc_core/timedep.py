"""Local therapy as a time-dependent exposure: (start, stop] data and Simon-Makuch curves.

A patient who receives local therapy only at month 4 had to survive 4 months to be counted in
the local+systemic group. Comparing the groups as if everyone were in their group from day 0
credits that "immortal" time to local therapy (immortal-time bias). Here each patient counts
as systemic-only until ``local_start_months`` and as locally treated afterwards, as R
``tmerge(..., tdc(local_start_months))`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .errors import CohortError
from .i18n import N_, _
from .survival import _KM, KMResult, _check_conf_type, _confint, _median_with_ci, _z

__all__ = [
    "LOCAL_STATES",
    "TimeDependentData",
    "split_at_local_start",
    "simon_makuch",
]

START, STOP, EVENT, LOCAL = "tstart", "tstop", "event", "local"
LOCAL_STATES = ("systemic only", "local therapy")  # the current state: before / after the start


@dataclass(frozen=True, eq=False)
class TimeDependentData:
    """Counting-process rows: ``patient_id, tstart, tstop, event, local`` + the original columns."""

    endpoint: str
    data: pd.DataFrame
    n_patients: int
    n_excluded: int
    notes: tuple[str, ...]


def split_at_local_start(df: pd.DataFrame, endpoint: str) -> TimeDependentData:
    """One row per patient and exposure period, split at the start of local therapy.

    Returns
    -------
    TimeDependentData
        ``local`` is 0 on (0, local_start] and 1 on (local_start, end]; a start at month 0
        gives one row with ``local = 1``. The event sits on the last row.

    Raises
    ------
    CohortError if ``local_start_months`` is missing or nobody remains.

    Notes
    -----
    R: ``td <- tmerge(d, d, id = patient_id, event = event(time, status))``;
    ``td <- tmerge(td, d, id = patient_id, local = tdc(local_start_months))``. Local+systemic
    patients without a start time cannot be placed in time and are excluded (counted).
    """
    time_col, event_col = schema.endpoint_columns(endpoint)
    schema.require_columns(
        df,
        [time_col, event_col, schema.TREATMENT_GROUP, schema.LOCAL_START_MONTHS],
        N_("time-dependent local therapy analysis"),
    )
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    event = pd.to_numeric(df[event_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    start = pd.to_numeric(df[schema.LOCAL_START_MONTHS], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    local_arm = (df[schema.TREATMENT_GROUP] == schema.LOCAL_SYSTEMIC).to_numpy(dtype=bool)
    no_time = np.isnan(time) | np.isnan(event)
    no_start = ~no_time & local_arm & np.isnan(start)
    keep = ~(no_time | no_start)
    notes = []
    if no_time.any():
        notes.append(
            _("{n} patient(s) without '{time}' or '{event}' were excluded.").format(
                n=int(no_time.sum()), time=time_col, event=event_col
            )
        )
    if no_start.any():
        notes.append(
            _(
                "{n} local+systemic patient(s) without 'local_start_months' were excluded: "
                "without a start time they cannot be placed in time."
            ).format(n=int(no_start.sum()))
        )
    if not keep.any():
        raise CohortError(
            _(
                "No patient has both a survival time and, if treated locally, a local therapy "
                "start time, so the time-dependent analysis is impossible."
            )
        )
    base = df.loc[keep].reset_index(drop=True)
    t, e, ls = time[keep], event[keep], np.where(local_arm[keep], start[keep], np.nan)
    # a start after follow-up is rejected at upload; a start at or after the end adds no row
    split = ~np.isnan(ls) & (ls > 0) & (ls < t)
    from_zero = ~np.isnan(ls) & (ls <= 0)
    first = pd.DataFrame(
        {
            START: 0.0,
            STOP: np.where(split, ls, t),
            EVENT: np.where(split, 0, e).astype(int),
            LOCAL: from_zero.astype(int),
        }
    )
    idx = np.flatnonzero(split)
    second = pd.DataFrame({START: ls[idx], STOP: t[idx], EVENT: e[idx].astype(int), LOCAL: 1})
    rows = pd.concat(
        [first.assign(_row=np.arange(len(base)), _k=0), second.assign(_row=idx, _k=1)],
        ignore_index=True,
    ).sort_values(["_row", "_k"], kind="stable")
    data = pd.concat(
        [
            base.drop(columns=[time_col, event_col]).iloc[rows["_row"]].reset_index(drop=True),
            rows[[START, STOP, EVENT, LOCAL]].reset_index(drop=True),
        ],
        axis=1,
    )
    return TimeDependentData(endpoint, data, int(keep.sum()), int((~keep).sum()), tuple(notes))


def _km_counting(start: np.ndarray, stop: np.ndarray, event: np.ndarray) -> _KM:
    """Kaplan-Meier with delayed entry: at risk at t = rows with start < t <= stop."""
    ut = np.unique(stop)
    d = np.bincount(np.searchsorted(ut, stop), weights=event, minlength=ut.size)
    leaving = np.bincount(np.searchsorted(ut, stop), minlength=ut.size).astype(float)
    entered = np.searchsorted(np.sort(start), ut, side="left")  # start < t
    left_before = np.concatenate(([0.0], np.cumsum(leaving)[:-1]))  # stop < t
    n = entered - left_before
    surv = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
    return _KM(ut, n, d, leaving - d, surv, np.sqrt(np.cumsum(term)))


def simon_makuch(
    df: pd.DataFrame, endpoint: str, conf_type: str = "log-log", conf_level: float = 0.95
) -> KMResult:
    """Simon-Makuch curves: survival by current local-therapy status (a time-dependent group).

    Returns
    -------
    KMResult with groups ``LOCAL_STATES``; ``at_risk`` counts the patients in each state at
    each time (patients move from the first curve to the second when local therapy starts, so
    it can rise).

    Notes
    -----
    R ``survfit(Surv(tstart, tstop, event) ~ local, data = td, conf.type = ...)`` on the
    ``tmerge`` data of :func:`split_at_local_start` (Simon and Makuch 1984; the "extended
    Kaplan-Meier"). The curves are descriptive: no patient follows either curve from 0.
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    td = split_at_local_start(df, endpoint)
    d = td.data
    parts, summary = [], []
    for j, label in enumerate(LOCAL_STATES):
        sel = (d[LOCAL] == j).to_numpy()
        if not sel.any():
            continue
        km = _km_counting(
            d[START].to_numpy(float)[sel],
            d[STOP].to_numpy(float)[sel],
            d[EVENT].to_numpy(float)[sel],
        )
        lower, upper = _confint(km.surv, km.std_err, conf_type, z)
        med = _median_with_ci(km, lower, upper)
        parts.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": np.concatenate(([0.0], km.time)),
                    "survival": np.concatenate(([1.0], km.surv)),
                    "lower": np.concatenate(([1.0], lower)),
                    "upper": np.concatenate(([1.0], upper)),
                    # as R's summary(fit, times = 0): at risk at the first time >= 0
                    "at_risk": np.concatenate((km.n_risk[:1], km.n_risk)).astype(int),
                    "events": np.concatenate(([0], km.n_event)).astype(int),
                    "censored": np.concatenate(([0], km.n_censor)).astype(int),
                }
            )
        )
        summary.append(
            {
                "group": label,
                "n": int(d.loc[sel, schema.PATIENT_ID].nunique()),
                "events": int(km.n_event.sum()),
                "median": med[0],
                "median_lower": med[1],
                "median_upper": med[2],
            }
        )
    method = _(
        "Simon-Makuch (extended Kaplan-Meier) curves by current local-therapy status, R "
        "survfit(Surv(tstart, tstop, event) ~ local) on tmerge data; Greenwood variance; "
        "{level} pointwise CI on the {conf_type} scale"
    ).format(level=f"{conf_level:.0%}", conf_type=conf_type)
    return KMResult(
        endpoint,
        LOCAL,
        conf_type,
        conf_level,
        pd.DataFrame(summary),
        pd.concat(parts, ignore_index=True),
        td.n_excluded,
        td.notes,
        method,
    )
