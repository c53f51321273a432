"""Cox models beyond the baseline comparison (issue 16): cause-specific hazards, local therapy
as a time-dependent exposure, piecewise treatment hazard ratios. All fitted by the one engine
(``coxph_arrays`` / ``fit_cox``); this module only builds the data each question needs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import schema
from ..competing import COMPETING_ENDPOINTS, EVENT, EVENT_NAMES, competing_status
from ..errors import CohortError
from ..finegray import _design
from ..timedep import split_at_local_start
from .arrays import coxph_arrays
from .results import CoxResult, _z, fit_cox, wald

__all__ = [
    "TimeDependentCoxResult",
    "PiecewiseResult",
    "fit_cause_specific_cox",
    "fit_time_dependent_cox",
    "piecewise_hr",
    "IMMORTAL_TIME_NOTE",
]

LOCAL_TERM = "local therapy (time-dependent)"
IMMORTAL_TIME_NOTE = (
    "A patient counted in the local+systemic group from month 0 had to live until the local "
    "therapy started; that guaranteed survival (immortal time) makes the naive comparison "
    "favour local therapy. The time-dependent model counts each patient as systemic-only "
    "until local therapy starts, which removes this bias."
)


def _table(terms: list[str], coef: np.ndarray, se: np.ndarray, z: float) -> pd.DataFrame:
    cols = wald(coef, se, z)
    del cols["robust_se"]  # model-based SEs only here
    return pd.DataFrame(cols, index=pd.Index(terms, name="term"))


# ---- cause-specific hazards ---------------------------------------------------------------------
def fit_cause_specific_cox(df: pd.DataFrame, endpoint: str, covariates, **kwargs) -> CoxResult:
    """Cause-specific Cox model of ``ttp`` or ``hcc_death``: competing events are censored.

    Keyword arguments go to :func:`hcc_core.fit_cox` (weights, strata, ties, ...).

    Notes
    -----
    R ``coxph(Surv(time, status == 1) ~ ...)``. The cause-specific HR describes the event rate
    among patients still free of both events; it does not translate into cumulative incidence
    (use the Fine-Gray model for that).
    """
    if endpoint not in COMPETING_ENDPOINTS:
        raise ValueError(f"Unknown competing-risk endpoint '{endpoint}'. Use 'ttp' or 'hcc_death'.")
    event_col = COMPETING_ENDPOINTS[endpoint][1]
    st = competing_status(df, endpoint)
    base = "pfs" if endpoint == "ttp" else "os"
    frame = df.loc[st.keep].copy()
    frame[event_col] = (st.status == EVENT).astype(int)
    fit = fit_cox(frame, base, covariates, **kwargs)
    event, competing = EVENT_NAMES[endpoint]
    return replace(
        fit,
        endpoint=endpoint,
        notes=tuple(st.notes) + tuple(fit.notes),
        n_excluded=fit.n_excluded + int((~st.keep).sum()),
        method=f"Cause-specific hazard of {event} ({competing} censored); " + fit.method,
    )


# ---- time-dependent local therapy ---------------------------------------------------------------
@dataclass(frozen=True)
class TimeDependentCoxResult:
    """Time-dependent Cox model of local therapy, beside the naive baseline comparison.

    ``table`` (time-dependent model) and ``naive_table`` (treatment group fixed at baseline)
    are indexed by term with ``coef, se, hr, hr_lower, hr_upper, p_value``; the local-therapy
    term is ``LOCAL_TERM`` in ``table`` and ``treatment_group[local+systemic]`` in ``naive_table``.
    """

    endpoint: str
    covariates: tuple[str, ...]
    table: pd.DataFrame
    naive_table: pd.DataFrame
    n: int
    n_rows: int
    events: int
    n_excluded: int
    notes: tuple[str, ...]
    method: str
    immortal_time_note: str = IMMORTAL_TIME_NOTE

    @property
    def local_hr(self) -> pd.Series:
        return self.table.loc[LOCAL_TERM]

    @property
    def naive_hr(self) -> pd.Series:
        return self.naive_table.loc[f"{schema.TREATMENT_GROUP}[{schema.LOCAL_SYSTEMIC}]"]


def fit_time_dependent_cox(
    df: pd.DataFrame, endpoint: str, covariates=(), conf_level: float = 0.95
) -> TimeDependentCoxResult:
    """Cox model with local therapy as a time-dependent covariate (0 before, 1 after its start).

    Parameters
    ----------
    df : canonical cohort frame with ``local_start_months``.
    endpoint : ``"os"`` or ``"pfs"``.
    covariates : baseline adjustment columns (numeric linearly, categorical vs first level).

    Notes
    -----
    R ``td <- tmerge(...); td <- tmerge(td, d, id, local = tdc(local_start_months))``;
    ``coxph(Surv(tstart, tstop, event) ~ local + ..., data = td)`` (Efron ties, model-based
    SE). The naive model is ``coxph(Surv(time, event) ~ treatment_group + ...)`` on the same
    patients. A separate function rather than a ``fit_cox(time_dependent_treatment=True)``
    flag: the result is a different shape (two models side by side), and a return shape that
    changes with a flag is what the style guide avoids.
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    z = _z(conf_level)
    td = split_at_local_start(df, endpoint)
    d = td.data
    notes = list(td.notes)
    if covs:
        Xc, terms, ok = _design(d, covs)
        if not ok.all():
            missing_ids = d.loc[~ok, schema.PATIENT_ID].nunique()
            notes.append(
                f"{missing_ids} patient(s) with a missing covariate were excluded (complete cases)."
            )
    else:
        Xc, terms, ok = np.zeros((len(d), 0)), [], np.ones(len(d), dtype=bool)
    d = d.loc[ok]
    X = np.column_stack([d["local"].to_numpy(float), Xc[ok]])
    if d["local"].nunique() < 2:
        raise CohortError(
            "Nobody (or everybody) received local therapy during follow-up here, so its "
            "time-dependent effect cannot be estimated. Relax the filters."
        )
    fit = coxph_arrays(d["tstart"], d["tstop"], d["event"], X)
    table = _table([LOCAL_TERM, *terms], fit.coef, fit.se, z)
    patients = d[schema.PATIENT_ID].unique()
    base = df[df[schema.PATIENT_ID].isin(patients)]
    naive = fit_cox(base, endpoint, [schema.TREATMENT_GROUP, *covs], conf_level=conf_level)
    naive_table = naive.table[["coef", "se", "hr", "hr_lower", "hr_upper", "p_value"]]
    method = (
        "Cox model with local therapy as a time-dependent covariate (R tmerge + tdc, "
        "coxph(Surv(tstart, tstop, event) ~ local + ...), Efron ties, model-based SE); naive "
        f"model with treatment group fixed at baseline beside it; Wald {conf_level:.0%} CIs"
    )
    return TimeDependentCoxResult(
        endpoint,
        tuple(covs),
        table,
        naive_table,
        int(patients.size),
        int(len(d)),
        int(d["event"].sum()),
        int(len(df) - patients.size),
        tuple(notes),
        method,
    )


# ---- piecewise treatment hazard ratios ----------------------------------------------------------
@dataclass(frozen=True)
class PiecewiseResult:
    """Treatment hazard ratio per follow-up period.

    ``table``: one row per period with ``period, start, end, events, coef, se, hr, hr_lower,
    hr_upper, p_value``; ``model_table`` all terms of the model.
    """

    endpoint: str
    cuts: tuple[float, ...]
    covariates: tuple[str, ...]
    table: pd.DataFrame
    model_table: pd.DataFrame
    n: int
    events: int
    n_excluded: int
    notes: tuple[str, ...]
    method: str


def _period_label(a: float, b: float) -> str:
    return f"{a:g}-{b:g} months" if np.isfinite(b) else f"after {a:g} months"


def piecewise_hr(
    df: pd.DataFrame, endpoint: str, covariates=(), cuts=(12.0,), conf_level: float = 0.95
) -> PiecewiseResult:
    """Treatment HR (local+systemic vs systemic) separately in each period between ``cuts``.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    covariates : baseline adjustment columns (one HR each, constant over time).
    cuts : months where the periods split, e.g. ``(6, 12)`` gives 0-6, 6-12, after 12.

    Notes
    -----
    R ``sp <- survSplit(Surv(time, event) ~ ., data, cut = cuts, episode = "period")``; one
    treatment term per period (``local * (period == k)``) in
    ``coxph(Surv(tstart, time, event) ~ local_p1 + local_p2 + ... + covariates, data = sp)``.
    Use when ``cox.zph`` flags the treatment (non-proportional hazards).
    """
    cuts_arr = np.unique(np.asarray(cuts, dtype=float))
    if cuts_arr.size == 0 or not np.isfinite(cuts_arr).all() or (cuts_arr <= 0).any():
        raise ValueError(f"cuts must be positive numbers of months (got {list(cuts)}).")
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    z = _z(conf_level)
    time_col, event_col = schema.endpoint_columns(endpoint)
    schema.require_columns(df, [time_col, event_col, schema.TREATMENT_GROUP], "piecewise model")
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    event = pd.to_numeric(df[event_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    group = df[schema.TREATMENT_GROUP]
    ok = ~(np.isnan(time) | np.isnan(event)) & group.notna().to_numpy()
    notes = []
    if (~ok).any():
        notes.append(
            f"{int((~ok).sum())} patient(s) without '{time_col}', '{event_col}' or a treatment "
            "group were excluded."
        )
    if covs:
        Xc, terms, cov_ok = _design(df, covs)
        if (ok & ~cov_ok).any():
            notes.append(
                f"{int((ok & ~cov_ok).sum())} patient(s) with a missing covariate were excluded "
                "(complete cases)."
            )
        ok &= cov_ok
    else:
        Xc, terms = np.zeros((len(df), 0)), []
    t, e, Xc = time[ok], event[ok], Xc[ok]
    local = (group[ok] == schema.LOCAL_SYSTEMIC).to_numpy(float)
    edges = np.concatenate(([0.0], cuts_arr, [np.inf]))
    k = edges.size - 1
    # survSplit: one row per period a patient enters (time > edge)
    rows, starts, stops, events, periods = [], [], [], [], []
    for p in range(k):
        a, b = edges[p], edges[p + 1]
        inside = t > a
        idx = np.flatnonzero(inside)
        rows.append(idx)
        starts.append(np.full(idx.size, a))
        stops.append(np.minimum(t[idx], b))
        events.append(np.where(t[idx] <= b, e[idx], 0.0))
        periods.append(np.full(idx.size, p))
    idx = np.concatenate(rows)
    period = np.concatenate(periods)
    X = np.column_stack([local[idx] * (period == p) for p in range(k)] + [Xc[idx]])
    ev = np.concatenate(events)
    fit = coxph_arrays(np.concatenate(starts), np.concatenate(stops), ev, X)
    labels = [_period_label(edges[p], edges[p + 1]) for p in range(k)]
    model = _table(
        [f"local+systemic vs systemic, {lab}" for lab in labels] + terms, fit.coef, fit.se, z
    )
    per = model.iloc[:k].reset_index(drop=True)
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "period": labels,
                    "start": edges[:-1],
                    "end": edges[1:],
                    "events": np.bincount(period, weights=ev, minlength=k).astype(int),
                }
            ),
            per,
        ],
        axis=1,
    )
    sparse = table[table["events"] < 10]
    if len(sparse):
        notes.append(
            "Few events in " + ", ".join(sparse["period"]) + ": those period HRs are imprecise."
        )
    method = (
        f"Piecewise Cox model: follow-up split at {', '.join(f'{c:g}' for c in cuts_arr)} months "
        "(R survSplit), one treatment term per period, Efron ties; Wald "
        f"{conf_level:.0%} CIs"
    )
    return PiecewiseResult(
        endpoint,
        tuple(float(c) for c in cuts_arr),
        tuple(covs),
        table,
        model,
        int(t.size),
        int(e.sum()),
        int(len(df) - t.size),
        tuple(notes),
        method,
    )
