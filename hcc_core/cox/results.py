"""``fit_cox`` and ``cox_univariable``: Cox models on a cohort frame, as tidy results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .. import schema
from ..cohort import pfs_death_notes
from ..errors import CohortError
from ..i18n import N_, _
from ..survival import _survival_data
from . import engine
from .arrays import fit_arrays
from .batch import Part, fit_parts
from .concordance import concordance
from .design import _Design, _design, _encode, _take, term_label
from .zph import zph

__all__ = ["CoxResult", "cox_univariable", "fit_cox"]

TABLE_COLUMNS = ["coef", "se", "robust_se", "hr", "hr_lower", "hr_upper", "p_value"]
UNIVARIABLE_COLUMNS = [c for c in TABLE_COLUMNS if c != "robust_se"]


def _method(ties: str, robust: bool, strata, weights, cluster, conf_level: float) -> str:
    parts = [
        _("Cox proportional hazards, {ties} ties (R coxph default)").format(ties=ties.capitalize())
        if ties == "efron"
        else _("Cox proportional hazards, {ties} ties").format(ties=ties.capitalize())
    ]
    if strata:
        parts.append(_("stratified by {strata}").format(strata=", ".join(strata)))
    if weights:
        parts.append(_("case weights '{weights}'").format(weights=weights))
    level = f"{conf_level:.0%}"
    if not robust:
        parts.append(_("Wald {level} CIs and p-values").format(level=level))
    elif cluster:
        parts.append(
            _(
                "Wald {level} CIs and p-values from the robust (sandwich) SE clustered on "
                "'{cluster}'"
            ).format(level=level, cluster=cluster)
        )
    else:
        parts.append(
            _("Wald {level} CIs and p-values from the robust (sandwich) SE").format(level=level)
        )
    parts.append(_("PH test: cox.zph, transform = 'km'"))
    return _("; ").join(parts)


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model.

    ``table`` is indexed by term (``age``, ``sex[F]``, ``treatment_group[local+systemic]``) with
    ``coef, se, robust_se, hr, hr_lower, hr_upper, p_value`` (``robust_se`` NaN unless robust;
    when robust the CI and p use it, as R ``summary.coxph``); ``ph_test`` by covariate plus
    ``GLOBAL`` with ``chisq, df, p_value``.
    """

    endpoint: str
    covariates: tuple[str, ...]
    table: pd.DataFrame
    n: int
    events: int
    concordance: float
    ph_test: pd.DataFrame
    notes: tuple[str, ...]
    loglik: tuple[float, float]  # (null model, fitted) as R's fit$loglik
    iterations: int
    converged: bool
    n_excluded: int
    vcov: pd.DataFrame  # model-based (R fit$naive.var when robust)
    conf_level: float
    method: str = ""
    robust_vcov: pd.DataFrame | None = None  # sandwich (R fit$var when robust)
    robust: bool = False
    ties: str = "efron"
    strata: tuple[str, ...] = ()
    weights: str | None = None
    cluster: str | None = None
    score_test: float = field(default=float("nan"))
    # fit_cox(..., time_dependent_treatment=True): the model with treatment fixed at baseline on
    # the same patients (the naive comparison), and the number of (start, stop] rows
    naive: CoxResult | None = None
    n_periods: int | None = None

    @property
    def lr_test(self) -> tuple[float, int, float]:
        """Likelihood-ratio test of the whole model: (statistic, df, p)."""
        stat = 2 * (self.loglik[1] - self.loglik[0])
        df = len(self.table)
        return stat, df, float(special.chdtrc(df, stat)) if df else float("nan")


def _as_list(covariates) -> list[str]:
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise CohortError(
            _("A Cox model needs at least one covariate; choose one or more columns.")
        )
    return list(dict.fromkeys(covs))


def _z(conf_level: float) -> float:
    return float(special.ndtri(1 - (1 - conf_level) / 2))


def wald(beta, se, z: float, robust_se=None) -> dict[str, np.ndarray]:
    """The table columns from coefficients and SEs (CI and p from ``robust_se`` when given)."""
    se = np.where(se > 0, se, np.nan)
    use = se if robust_se is None else robust_se
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return {
            "coef": beta,
            "se": se,
            "robust_se": np.full(beta.shape, np.nan) if robust_se is None else robust_se,
            "hr": np.exp(beta),
            "hr_lower": np.exp(beta - z * use),
            "hr_upper": np.exp(beta + z * use),
            "p_value": 2 * special.ndtr(-np.abs(beta / use)),
        }


def _check_estimable(time: np.ndarray, event: np.ndarray, des: _Design) -> None:
    n, events = int(time.size), int(event.sum())
    if n == 0 or events == 0:
        raise CohortError(
            _(
                "The Cox model has {n} patient(s) and {events} event(s) after excluding missing "
                "values; it needs events to estimate hazard ratios. Relax the filters or choose "
                "covariates with fewer missing values."
            ).format(n=n, events=events)
        )
    if not des.terms:
        raise CohortError(
            _(
                "None of the chosen covariates varies among these patients, so there is nothing "
                "to estimate. Choose other covariates or relax the filters."
            )
        )


def _not_fitted(column: str, err: Exception) -> str:
    return _("'{column}' was not fitted: {error}").format(column=column, error=err)


def infinite_note(terms: list[str]) -> str:
    return _(
        "The log-likelihood converged before the coefficient(s) of {terms}; they may be "
        "infinite (separation: a group with no events or all events). Do not interpret those "
        "hazard ratios."
    ).format(terms=", ".join(terms))


def fit_notes(terms: list[str], fit, ph: pd.DataFrame) -> list[str]:
    """Warnings every fitted model carries: events per coefficient, convergence, coefficients
    that may be infinite, and the proportional-hazards test."""
    notes = []
    events, p = fit.events, len(terms)
    if events < 10 * p:
        notes.append(
            _(
                "The model has {events} events for {p} coefficient(s) ({per} per coefficient, "
                "fewer than 10): estimates may be unstable and hazard ratios biased away from 1."
            ).format(events=events, p=p, per=f"{events / p:.1f}")
        )
    if not fit.converged:
        notes.append(
            _(
                "The fit did not converge in {n} iterations; the estimates are unreliable."
            ).format(n=engine.MAX_ITER)
        )
    if fit.infinite:
        notes.append(infinite_note([terms[j] for j in fit.infinite]))
    viol = ph.index[ph["p_value"].to_numpy() < 0.05].tolist()
    if viol:
        words = {"GLOBAL": _("Global test")}
        detail = ", ".join(f"{words.get(t) or term_label(t)} (p = {ph.loc[t, 'p_value']:.3g})"
                           for t in viol)
        notes.append(
            _(
                "The proportional-hazards assumption looks violated (cox.zph p < 0.05) for "
                "{detail}; the hazard ratio is then an average over follow-up."
            ).format(detail=detail)
        )
    return notes


def _extra_columns(df, sd, weights, strata, cluster):
    """Weights, strata and cluster of the endpoint rows, and which rows have all of them."""
    ok = np.ones(sd.time.size, dtype=bool)
    missing, out = {}, {}
    if weights is not None:
        schema.require_columns(df, [weights], N_("Cox model"))
        w = pd.to_numeric(df[weights], errors="coerce").to_numpy(float)[sd.keep]
        bad = np.isfinite(w) & (w <= 0)
        if bad.any():
            raise CohortError(
                _(
                    "The weights column '{column}' has {n} value(s) <= 0 (e.g. {value}); case "
                    "weights must be greater than 0. Drop those patients."
                ).format(column=weights, n=int(bad.sum()), value=f"{w[bad][0]:g}")
            )
        out["weights"] = w
        missing[weights] = ~np.isfinite(w)
    for name in list(strata) + ([cluster] if cluster is not None else []):
        schema.require_columns(df, [name], N_("Cox model"))
        v = df[name].to_numpy(dtype=object)[sd.keep]
        missing[name] = pd.isna(v)
        out[name] = v
    for m in missing.values():
        ok &= ~m
    counts = {k: int(m.sum()) for k, m in missing.items() if m.any()}
    return out, ok, counts


def fit_cox(
    df: pd.DataFrame,
    endpoint: str,
    covariates,
    *,
    weights: str | None = None,
    strata=None,
    cluster: str | None = None,
    robust: bool = False,
    ties: str = "efron",
    conf_level: float = 0.95,
    time_dependent_treatment: bool = False,
) -> CoxResult:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``; ``"ttp"`` or ``"hcc_death"`` give the cause-specific
        model (competing events censored; ``hcc_core.cox.time_to_event``).
    covariates : column names (continuous columns enter linearly; categorical ones as
        ``column[level]`` against their first level in schema order), and/or the derived names
        ``bclc_ab_vs_c``, ``log10_afp`` and ``afp_400``. See ``PAPER_COX_COVARIATES``.
    weights : column of case weights (> 0), e.g. inverse-probability weights.
    strata : column(s); each stratum gets its own baseline hazard.
    cluster : column of cluster labels (e.g. patient or centre id) for the robust variance.
    robust : sandwich variance; implied by ``cluster`` or non-integer weights, as in R.
    ties : ``"efron"`` (R's default) or ``"breslow"``.
    conf_level : level of the Wald hazard-ratio intervals.
    time_dependent_treatment : count each patient as systemic-only until
        ``local_start_months`` and as locally treated afterwards (R ``tmerge(..., tdc())`` and
        ``coxph(Surv(tstart, tstop, event) ~ ...)``). The treatment term is then
        ``LOCAL_TERM`` ("local therapy (time-dependent)"), ``treatment_group`` in
        ``covariates`` is replaced by it, and ``.naive`` holds the model with the treatment
        group fixed at baseline on the same patients (to show beside it; immortal-time bias).
        Not combined with weights, strata or cluster.

    Returns
    -------
    CoxResult

    Raises
    ------
    CohortError when no patients or no events remain, no covariate varies, or a weight is <= 0.

    Notes
    -----
    R ``coxph(Surv(time, event) ~ ... + strata(s), weights = w, cluster = id, ties)``; CIs and
    p as ``summary.coxph`` (robust SE when robust); PH test ``cox.zph(fit, transform = "km")``;
    concordance as ``fit$concordance``. Rows with a missing covariate, weight, stratum or
    cluster are excluded (complete cases) and counted in ``notes``.
    """
    if time_dependent_treatment:
        from .time_to_event import fit_time_dependent  # it calls fit_cox back

        if weights is not None or strata or cluster is not None or robust:
            raise ValueError(
                "time_dependent_treatment=True is not combined with weights, strata, cluster "
                "or robust in this version."
            )
        return fit_time_dependent(df, endpoint, covariates, ties=ties, conf_level=conf_level)
    if endpoint in ("ttp", "hcc_death"):
        from .time_to_event import fit_cause_specific_cox  # it calls fit_cox back

        return fit_cause_specific_cox(
            df,
            endpoint,
            covariates,
            weights=weights,
            strata=strata,
            cluster=cluster,
            robust=robust,
            ties=ties,
            conf_level=conf_level,
        )
    covs = _as_list(covariates)
    strata = [strata] if isinstance(strata, str) else list(strata or ())
    z = _z(conf_level)
    sd = _survival_data(df, endpoint, N_("Cox model"))
    extra, ok, extra_missing = _extra_columns(df, sd, weights, strata, cluster)
    des = _design({c: _take(_encode(df, c), sd.keep) for c in covs}, sd.time.size, ok)
    keep = des.keep
    time, event = sd.time[keep], sd.event[keep]
    _check_estimable(time, event, des)
    w = extra["weights"][keep] if weights is not None else None
    st = None
    if strata:  # one code per combination of the strata columns
        st = np.zeros(time.size, dtype=np.int64)
        for s in strata:
            codes, uniques = pd.factorize(pd.Series(extra[s][keep]))
            st = st * len(uniques) + codes
        st = pd.factorize(st)[0]
    cl = extra[cluster][keep] if cluster is not None else None
    fit, rs = fit_arrays(
        None,
        time,
        event,
        des.X,
        weights=w,
        strata=st,
        cluster=cl,
        ties=ties,
        robust=True if robust else None,
    )
    is_robust = fit.robust_vcov is not None
    cols = wald(fit.coef, fit.se, z, fit.robust_se if is_robust else None)
    # one float block (every column is float64): cheaper than a frame from a dict of columns
    terms = pd.Index(des.terms)
    table = pd.DataFrame(
        np.column_stack([cols[k] for k in TABLE_COLUMNS]),
        index=terms.rename("term"),
        columns=TABLE_COLUMNS,
    )
    conc = concordance(time, event, fit.linear_predictors, weights=w, strata=st)
    ph = zph(rs, fit.coef, des.assign, time, event)
    notes = (
        [_("{n} patient(s) without the endpoint were excluded.").format(n=sd.n_missing)]
        if sd.n_missing
        else []
    )
    if extra_missing:
        detail = ", ".join(f"{c}: {k}" for c, k in extra_missing.items())
        notes.append(
            _("Patients with a missing weight, stratum or cluster were excluded ({detail}).").format(
                detail=detail
            )
        )
    notes += list(des.notes)
    used = sd.keep.copy()
    used[used] = keep
    notes += pfs_death_notes(df, endpoint, used)
    n, events = int(time.size), int(event.sum())
    notes += fit_notes(des.terms, fit, ph)
    frame = lambda m: pd.DataFrame(m, index=terms, columns=terms)  # noqa: E731
    return CoxResult(
        endpoint,
        tuple(covs),
        table,
        n,
        events,
        conc,
        ph,
        tuple(notes),
        fit.loglik,
        fit.iterations,
        fit.converged,
        int(len(df) - n),
        frame(fit.vcov),
        conf_level,
        _method(ties, is_robust, strata, weights, cluster, conf_level),
        frame(fit.robust_vcov) if is_robust else None,
        is_robust,
        ties,
        tuple(strata),
        weights,
        cluster,
        fit.score_test,
    )


def _cells(des: _Design, X: np.ndarray) -> np.ndarray | None:
    """A small code per row determining its covariates, when the design is categorical."""
    if X.shape[1] == 0 or X.shape[1] > 16 or not des.categorical:
        return None
    return (X @ (2.0 ** np.arange(X.shape[1]))).astype(np.int64)  # 0/1 dummies as bits


def cox_univariable(
    df: pd.DataFrame, endpoint: str, covariates, conf_level: float = 0.95
) -> pd.DataFrame:
    """One Cox model per covariate (each on its own complete cases).

    Returns
    -------
    DataFrame indexed by term with ``covariate, coef, se, hr, hr_lower, hr_upper, p_value, n,
    events``; covariates that cannot be fitted are left out and explained in
    ``attrs["notes"]``, as are coefficients that may be infinite or fits that did not converge.

    Notes
    -----
    R ``coxph(Surv(time, event) ~ x)`` for each x, Efron ties, Wald CIs. The models run
    together (``batch.fit_parts``: one engine call when small, else one per number of
    coefficients), each with R's start, step halving and stopping rule.
    """
    z = _z(conf_level)
    covs = _as_list(covariates)
    notes: list[str] = []
    try:
        sd = _survival_data(df, endpoint, N_("Cox model"))
    except CohortError as err:
        sd, notes = None, [_not_fitted(c, err) for c in covs]
    if sd is not None:
        notes += pfs_death_notes(df, endpoint, sd.keep)
    fits: list[tuple[str, list[str], Part, int, int]] = []
    if sd is not None:
        # Sort by time once; each covariate's complete cases are a boolean subset of the sorted
        # rows, which keeps the order.
        order = np.lexsort((-sd.event, sd.time))  # deaths first among ties
        rows = np.flatnonzero(sd.keep)[order]
        time_all, event_all = sd.time[order], sd.event[order]
        for c in covs:
            try:
                des = _design({c: _take(_encode(df, c), rows)}, rows.size)
                time, event = time_all[des.keep], event_all[des.keep]
                _check_estimable(time, event, des)
            except CohortError as err:
                notes.append(_not_fitted(c, err))
                continue
            part = Part(np.flatnonzero(des.keep), des.X, _cells(des, des.X))
            fits.append((c, des.terms, part, int(time.size), int(event.sum())))
    res = fit_parts(time_all, event_all, [f[2] for f in fits]) if fits else None
    for p in sorted({len(f[1]) for f in fits}):  # notes in the order of model size
        for j in (i for i, f in enumerate(fits) if len(f[1]) == p):
            c, terms = fits[j][0], fits[j][1]
            if not res.converged[j]:
                notes.append(
                    _(
                        "'{column}': the fit did not converge in {n} iterations; the estimate is "
                        "unreliable."
                    ).format(column=c, n=engine.MAX_ITER)
                )
            elif res.infinite[j].any():
                notes.append(
                    f"'{c}': " + infinite_note([terms[k] for k in np.flatnonzero(res.infinite[j])])
                )
    if fits:
        k = [len(f[1]) for f in fits]
        cols = {"covariate": np.repeat(np.array([f[0] for f in fits], dtype=object), k)}
        # every model's terms in one wald call (elementwise: the numbers of one call per model)
        beta = np.concatenate([res.beta[j, :p] for j, p in enumerate(k)])
        se = np.concatenate([np.sqrt(np.diag(res.var[j])[:p]) for j, p in enumerate(k)])
        table = wald(beta, se, z)
        for name in UNIVARIABLE_COLUMNS:
            cols[name] = table[name]
        cols["n"] = np.repeat(np.array([f[3] for f in fits], dtype=np.int64), k)
        cols["events"] = np.repeat(np.array([f[4] for f in fits], dtype=np.int64), k)
        terms = [t for f in fits for t in f[1]]
        out = pd.DataFrame(cols, index=pd.Index(terms, name="term"), copy=False)
    else:
        out = pd.DataFrame(columns=["covariate", *UNIVARIABLE_COLUMNS, "n", "events"])
    out.attrs["method"] = (
        "Univariable Cox models, one per covariate; Efron ties (R coxph default); Wald CIs"
    )
    out.attrs["notes"] = tuple(notes)
    return out
