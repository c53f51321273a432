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
from ..i18n import N_, _
from ..timedep import EVENT as TD_EVENT
from ..timedep import LOCAL, START, STOP, split_at_local_start
from .arrays import coxph_arrays, fit_arrays
from .concordance import concordance
from .design import _design as _design_matrix
from .design import _encode, _take
from .results import TABLE_COLUMNS, CoxResult, _check_estimable, _z, fit_cox, fit_notes, wald
from .zph import zph

__all__ = [
    "TimeDependentCoxResult",
    "PiecewiseResult",
    "fit_cause_specific_cox",
    "fit_time_dependent",
    "fit_time_dependent_cox",
    "piecewise_hr",
    "IMMORTAL_TIME_NOTE",
]

LOCAL_TERM = "local therapy (time-dependent)"
IMMORTAL_TIME_NOTE = N_(
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
        method=_("Cause-specific hazard of {event} ({competing} censored); {method}").format(
            event=_(event), competing=_(competing), method=fit.method
        ),
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


def fit_time_dependent(
    df: pd.DataFrame, endpoint: str, covariates=(), *, ties: str = "efron", conf_level: float = 0.95
) -> CoxResult:
    """``fit_cox(..., time_dependent_treatment=True)``: local therapy as a time-dependent term.

    Each patient counts as systemic-only until ``local_start_months`` and as locally treated
    afterwards (``split_at_local_start``); ``treatment_group`` (and ``local_modality``) in
    ``covariates`` are replaced by the time-dependent term ``LOCAL_TERM``, the other
    covariates (derived ones such as ``log10_afp`` included) enter as in ``fit_cox``.

    Notes
    -----
    R ``td <- tmerge(d, d, id, event = event(time, status))``;
    ``td <- tmerge(td, d, id, local = tdc(local_start_months))``;
    ``coxph(Surv(tstart, tstop, event) ~ local + ..., data = td)`` (model-based SE, as R
    without ``cluster``); ``cox.zph`` and the concordance of that fit. ``.naive`` is
    ``coxph(Surv(time, event) ~ treatment_group + ...)`` on the same patients.
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    adjust = list(
        dict.fromkeys(c for c in covs if c not in (schema.TREATMENT_GROUP, schema.LOCAL_MODALITY))
    )
    z = _z(conf_level)
    td = split_at_local_start(df, endpoint)
    d = td.data
    notes = list(td.notes)
    encoded = {c: _encode(d, c) for c in adjust}
    complete = np.ones(len(d), dtype=bool)
    for *_parts, miss in encoded.values():
        complete &= ~miss
    if not complete.all():
        ids = d.loc[~complete, schema.PATIENT_ID].nunique()
        detail = ", ".join(
            f"{c}: {d.loc[enc[3], schema.PATIENT_ID].nunique()}"
            for c, enc in encoded.items()
            if enc[3].any()
        )
        notes.append(
            _(
                "{n} patient(s) with a missing covariate were excluded (complete-case analysis; "
                "missing values by column: {detail})."
            ).format(n=ids, detail=detail)
        )
    d = d.loc[complete].reset_index(drop=True)
    local = d[LOCAL].to_numpy(float)
    if local.size == 0 or np.ptp(local) == 0:
        raise CohortError(
            _(
                "Nobody (or everybody) received local therapy during follow-up here, so its "
                "time-dependent effect cannot be estimated. Relax the filters."
            )
        )
    terms_in = {LOCAL_TERM: (False, local, None, np.zeros(local.size, dtype=bool))}
    terms_in.update({c: _take(enc, complete) for c, enc in encoded.items()})
    des = _design_matrix(terms_in, len(d))
    if LOCAL_TERM not in des.terms:
        raise CohortError(
            _(
                "Local therapy is a linear combination of the other covariates in these "
                "patients, so its time-dependent effect cannot be estimated. Remove covariates "
                "or relax the filters."
            )
        )
    notes += list(des.notes)
    start, stop = d[START].to_numpy(float), d[STOP].to_numpy(float)
    event = d[TD_EVENT].to_numpy(float)
    _check_estimable(stop, event, des)
    fit, rs = fit_arrays(
        start, stop, event, des.X, weights=None, strata=None, cluster=None, ties=ties, robust=None
    )
    cols = wald(fit.coef, fit.se, z)
    table = pd.DataFrame(cols, index=pd.Index(des.terms, name="term"))[TABLE_COLUMNS]
    ph = zph(rs, fit.coef, des.assign, stop, event, start=start)
    conc = concordance(stop, event, fit.linear_predictors, start=start)
    patients = d[schema.PATIENT_ID].unique()
    naive = fit_cox(
        df[df[schema.PATIENT_ID].isin(patients)],
        endpoint,
        [schema.TREATMENT_GROUP, *adjust],
        ties=ties,
        conf_level=conf_level,
    )
    notes += fit_notes(des.terms, fit, ph)
    notes.append(_(IMMORTAL_TIME_NOTE))
    frame = lambda m: pd.DataFrame(m, index=des.terms, columns=des.terms)  # noqa: E731
    method = _(
        "Cox model with local therapy as a time-dependent covariate (R tmerge + tdc, "
        "coxph(Surv(tstart, tstop, event) ~ local + ...), {ties} ties, model-based SE); Wald "
        "{level} CIs; PH test: cox.zph, transform = 'km'; the naive model (treatment group "
        "fixed at baseline) beside it"
    ).format(ties=ties.capitalize(), level=f"{conf_level:.0%}")
    return CoxResult(
        endpoint,
        tuple(covs),
        table,
        int(patients.size),
        int(event.sum()),
        conc,
        ph,
        tuple(notes),
        fit.loglik,
        fit.iterations,
        fit.converged,
        int(len(df) - patients.size),
        frame(fit.vcov),
        conf_level,
        method,
        ties=ties,
        score_test=fit.score_test,
        naive=naive,
        n_periods=int(len(d)),
    )


def fit_time_dependent_cox(
    df: pd.DataFrame, endpoint: str, covariates=(), conf_level: float = 0.95
) -> TimeDependentCoxResult:
    """The time-dependent model and the naive one side by side, as the Cox page shows them.

    A view of ``fit_cox(df, endpoint, covariates, time_dependent_treatment=True)`` (see
    :func:`fit_time_dependent`): ``table`` and ``naive_table`` hold ``coef, se, hr, hr_lower,
    hr_upper, p_value``.
    """
    res = fit_time_dependent(df, endpoint, covariates, conf_level=conf_level)
    shown = ["coef", "se", "hr", "hr_lower", "hr_upper", "p_value"]
    return TimeDependentCoxResult(
        endpoint,
        res.covariates,
        res.table[shown],
        res.naive.table[shown],
        res.n,
        res.n_periods,
        res.events,
        res.n_excluded,
        tuple(n for n in res.notes if n not in (IMMORTAL_TIME_NOTE, _(IMMORTAL_TIME_NOTE))),
        res.method,
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


def _period_label(a: float, b: float, translate=_) -> str:
    """"0-12 months", "after 12 months" (``translate=str``: in English, for term names)."""
    text = N_("{start}-{end} months") if np.isfinite(b) else N_("after {start} months")
    return translate(text).format(start=f"{a:g}", end=f"{b:g}")


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
    schema.require_columns(df, [time_col, event_col, schema.TREATMENT_GROUP], N_("piecewise model"))
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    event = pd.to_numeric(df[event_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    group = df[schema.TREATMENT_GROUP]
    ok = ~(np.isnan(time) | np.isnan(event)) & group.notna().to_numpy()
    notes = []
    if (~ok).any():
        notes.append(
            _(
                "{n} patient(s) without '{time}', '{event}' or a treatment group were excluded."
            ).format(n=int((~ok).sum()), time=time_col, event=event_col)
        )
    if covs:
        Xc, terms, cov_ok, design_notes = _design(df.loc[ok], covs)
        notes += list(design_notes)
        ok[ok] = cov_ok
        Xc = Xc[cov_ok]
    else:
        Xc, terms = np.zeros((int(ok.sum()), 0)), []
    t, e = time[ok], event[ok]
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
    # the model's term names stay English (code reads them); the period column is shown
    english = [_period_label(edges[p], edges[p + 1], str) for p in range(k)]
    model = _table(
        [f"local+systemic vs systemic, {lab}" for lab in english] + terms, fit.coef, fit.se, z
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
            _("Few events in {periods}: those period HRs are imprecise.").format(
                periods=", ".join(sparse["period"])
            )
        )
    method = _(
        "Piecewise Cox model: follow-up split at {cuts} months (R survSplit), one treatment "
        "term per period, Efron ties; Wald {level} CIs"
    ).format(cuts=", ".join(f"{c:g}" for c in cuts_arr), level=f"{conf_level:.0%}")
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
