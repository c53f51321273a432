"""Kaplan-Meier curves, log-rank tests, restricted mean survival time and median follow-up.

Every number here is checked against R's ``survival`` package (``survfit``, ``quantile.survfit``,
``survdiff``, ``print.survfit(rmean = tau)``); see ``tests/reference/make_reference.R``.
All computations are vectorised over distinct times (``np.unique`` / ``bincount`` / cumulative
sums); the only Python loops are over groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from . import schema
from .errors import CohortError

__all__ = [
    "CONF_TYPES",
    "ALL_PATIENTS",
    "KMResult",
    "LogRankResult",
    "FollowUpResult",
    "fit_km",
    "logrank_test",
    "pairwise_logrank",
    "rmst",
    "median_follow_up",
    "adjust_p_values",
]

CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")
ALL_PATIENTS = "all"  # group label when ``by`` is None
# quantile.survfit's tolerance for "the curve is exactly at the target probability"
_TOL = float(np.sqrt(np.finfo(float).eps))
_CURVE_COLUMNS = ["group", "time", "survival", "lower", "upper", "at_risk", "events", "censored"]


# ---- shared data preparation --------------------------------------------------------------------
@dataclass(frozen=True)
class _SurvData:
    time: np.ndarray  # float64, rows usable for the endpoint
    event: np.ndarray  # float64 0/1
    keep: np.ndarray  # bool mask over the input rows
    n_missing: int  # rows dropped because time or event is missing


def _survival_data(df: pd.DataFrame, endpoint: str, analysis: str) -> _SurvData:
    """Time/event arrays for ``endpoint``; rows with a missing time or event are dropped."""
    time_col, event_col = schema.endpoint_columns(endpoint)
    schema.require_columns(df, [time_col, event_col], analysis)
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    event = pd.to_numeric(df[event_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = ~(np.isnan(time) | np.isnan(event))
    bad = keep & ~np.isin(event, (0.0, 1.0))
    if bad.any():
        found = ", ".join(str(v) for v in sorted(set(event[bad].tolist()))[:5])
        raise CohortError(
            f"The column '{event_col}' must be 1 (event) or 0 (censored); found {found}. "
            "Recode it before running the analysis."
        )
    if (time[keep] < 0).any():
        raise CohortError(
            f"The column '{time_col}' has negative times. Survival times count from the start "
            "of therapy and cannot be negative; correct those rows."
        )
    return _SurvData(time[keep], event[keep], keep, int((~keep).sum()))


def _group_codes(
    df: pd.DataFrame, by: str | None, keep: np.ndarray
) -> tuple[np.ndarray, list, int]:
    """Integer group codes (schema order) for the kept rows, dropping rows with a missing group."""
    if by is None:
        return np.zeros(int(keep.sum()), dtype=np.int64), [ALL_PATIENTS], 0
    schema.require_columns(df, [by], "survival comparison")
    values = df.loc[keep, by]
    levels = schema.levels_of(df.loc[keep], by)
    codes = pd.Categorical(values, categories=levels).codes.astype(np.int64)
    return codes, levels, int((codes < 0).sum())


def _exclusion_notes(n_missing: int, n_no_group: int, endpoint: str, by: str | None) -> tuple:
    notes = []
    if n_missing:
        time_col, event_col = schema.endpoint_columns(endpoint)
        notes.append(f"{n_missing} patient(s) without '{time_col}' or '{event_col}' were excluded.")
    if n_no_group:
        notes.append(f"{n_no_group} patient(s) with a missing '{by}' were excluded.")
    return tuple(notes)


def _prepare(df: pd.DataFrame, endpoint: str, by: str | None, analysis: str):
    sd = _survival_data(df, endpoint, analysis)
    codes, levels, n_no_group = _group_codes(df, by, sd.keep)
    ok = codes >= 0
    notes = _exclusion_notes(sd.n_missing, n_no_group, endpoint, by)
    return sd.time[ok], sd.event[ok], codes[ok], levels, sd.n_missing + n_no_group, notes


# ---- Kaplan-Meier core --------------------------------------------------------------------------
@dataclass(frozen=True)
class _KM:
    time: np.ndarray  # distinct times (events and censorings)
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray  # Greenwood SE of -log S (R's survfit std.err)


def _km(time: np.ndarray, event: np.ndarray) -> _KM:
    ut, inv = np.unique(time, return_inverse=True)
    total = np.bincount(inv, minlength=ut.size).astype(float)
    d = np.bincount(inv, weights=event, minlength=ut.size)
    n = np.cumsum(total[::-1])[::-1]
    surv = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood; a step where everyone at risk dies has infinite variance, as in R
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
    return _KM(ut, n, d, total - d, surv, np.sqrt(np.cumsum(term)))


def _confint(surv: np.ndarray, se: np.ndarray, conf_type: str, z: float):
    """Pointwise CI as R's ``survfit_confint``; where S = 1 the interval is [1, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se * surv
            lower, upper = np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        else:  # log-log
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    # R returns NA for log-log at S = 1 (log(1) = 0); the limit of the interval there is [1, 1].
    one = surv == 1
    lower, upper = np.where(one, 1.0, lower), np.where(one, 1.0, upper)
    return lower, upper


def _findq(x: np.ndarray, y: np.ndarray, p: float = 0.5) -> float:
    """R's ``survival:::findq``: time where the cumulative failure curve ``y`` reaches ``p``.

    ``x`` and ``y`` start with the origin (time 0, failure 0). Exactly-flat stretches at ``p``
    (within sqrt(machine eps)) give the midpoint of the plateau.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return float("nan")
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # R's !duplicated(y); NaNs collapse like R's
    first = np.sort(first)
    x, y = x[first], y[first]
    ok = ~np.isnan(y)
    idx = np.flatnonzero(ok)
    order = np.argsort(y[ok], kind="stable")
    ys, ids = y[ok][order], idx[order]

    def approx_right(shift: float) -> int | None:  # approx(method = "constant", f = 1, rule = 1)
        v = ys + shift
        if p < v[0] or p > v[-1]:
            return None
        return int(ids[np.searchsorted(v, p, side="left")])

    i1, i2 = approx_right(_TOL), approx_right(-_TOL)
    q = (x[i1] + x[i2]) / 2 if i1 is not None and i2 is not None else float("nan")
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL:
        q = (x[i1] + xmax) / 2 if i1 is not None else float("nan")
    return float(q)


def _median_with_ci(km: _KM, lower: np.ndarray, upper: np.ndarray) -> tuple[float, float, float]:
    x = np.concatenate(([0.0], km.time))
    med = _findq(x, np.concatenate(([0.0], 1.0 - km.surv)))
    lo = _findq(x, np.concatenate(([0.0], 1.0 - lower)))
    hi = _findq(x, np.concatenate(([0.0], 1.0 - upper)))
    return med, lo, hi


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1 (got {conf_level}), e.g. 0.95.")
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(
            f"Unknown conf_type '{conf_type}'. Use one of {', '.join(CONF_TYPES)} "
            "(R survfit's conf.type)."
        )


def _km_method(conf_type: str, conf_level: float) -> str:
    default = "; note R's default is 'log'" if conf_type != "log" else ", R's default"
    return (
        f"Kaplan-Meier estimate; Greenwood variance; {conf_level:.0%} pointwise CI on the "
        f"{conf_type} scale (R survfit conf.type = '{conf_type}'{default}); median and its CI "
        "as R quantile.survfit"
    )


# ---- public results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier fit, one curve per group.

    Attributes
    ----------
    summary : DataFrame ``group, n, events, median, median_lower, median_upper`` (NaN = not reached).
    curve : DataFrame ``group, time, survival, lower, upper, at_risk, events, censored``;
        one row per distinct time plus a time-0 row per group.
    """

    endpoint: str
    by: str | None
    conf_type: str
    conf_level: float
    summary: pd.DataFrame
    curve: pd.DataFrame
    n_excluded: int
    notes: tuple[str, ...]
    method: str

    @property
    def groups(self) -> list:
        """Group labels in display (schema) order."""
        return self.summary["group"].tolist()

    def at(self, times) -> pd.DataFrame:
        """Survival with CI at ``times`` (e.g. ``[12, 24]`` months), per group.

        Times after a group's last follow-up give NaN (R's ``summary(fit, times)`` omits them).
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        out = []
        for _, cur in self.curve.groupby("group", sort=False):
            p = np.searchsorted(cur["time"].to_numpy(), t, side="right") - 1
            frame = cur.iloc[p][["group", "survival", "lower", "upper"]].reset_index(drop=True)
            frame.insert(1, "time", t)
            frame.loc[t > cur["time"].iloc[-1], ["survival", "lower", "upper"]] = np.nan
            out.append(frame)
        return pd.concat(out, ignore_index=True)

    def risk_table(self, times) -> pd.DataFrame:
        """Numbers at risk (time >= t) and cumulative events/censorings up to ``t``, per group."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        out = []
        for g, cur in self.curve.groupby("group", sort=False):
            ct = cur["time"].to_numpy()
            first = np.searchsorted(ct, t, side="left")
            at_risk = np.append(cur["at_risk"].to_numpy(), 0)[first]
            upto = np.searchsorted(ct, t, side="right")
            ev = np.concatenate(([0], np.cumsum(cur["events"].to_numpy())))[upto]
            ce = np.concatenate(([0], np.cumsum(cur["censored"].to_numpy())))[upto]
            out.append(
                pd.DataFrame(
                    {
                        "group": [g] * t.size,
                        "time": t,
                        "at_risk": at_risk.astype(int),
                        "cumulative_events": ev.astype(int),
                        "cumulative_censored": ce.astype(int),
                    }
                )
            )
        return pd.concat(out, ignore_index=True)


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test across groups; ``table`` has ``group, n, observed, expected``."""

    endpoint: str
    by: str
    statistic: float
    dof: int
    p_value: float
    table: pd.DataFrame
    n_excluded: int
    notes: tuple[str, ...]
    method: str = "Log-rank test (R survdiff, rho = 0), chi-square with k-1 df"

    @property
    def observed(self) -> dict:
        return dict(zip(self.table["group"], self.table["observed"], strict=True))

    @property
    def expected(self) -> dict:
        return dict(zip(self.table["group"], self.table["expected"], strict=True))


@dataclass(frozen=True)
class FollowUpResult:
    """Median follow-up by the reverse Kaplan-Meier method."""

    endpoint: str
    median: float
    lower: float
    upper: float
    n: int
    conf_type: str
    conf_level: float
    n_excluded: int
    method: str = field(default="")


# ---- public functions ---------------------------------------------------------------------------
def fit_km(
    df: pd.DataFrame,
    endpoint: str,
    by: str | None = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> KMResult:
    """Kaplan-Meier survival curves, overall or per group.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    by : categorical column to stratify by (groups in schema order), or None for the whole cohort.
    conf_type : ``"log-log"`` (default), ``"log"`` or ``"plain"``, as R survfit's ``conf.type``.
    conf_level : confidence level of the pointwise intervals.

    Returns
    -------
    KMResult

    Raises
    ------
    CohortError if no patient has the endpoint.

    Notes
    -----
    Kaplan-Meier with Greenwood variance; R ``survfit(Surv(time, event) ~ by, conf.type = ...)``.
    Median and CI as ``quantile.survfit`` (first time S(t) <= 0.5, midpoint of an exact plateau,
    CI where the pointwise band crosses 0.5). Where S = 1 the interval is [1, 1] (R gives NA for
    log-log there).
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    time, event, codes, levels, n_excl, notes = _prepare(df, endpoint, by, "Kaplan-Meier analysis")
    if time.size == 0:
        raise CohortError(
            f"No patient has both a time and an event status for '{endpoint}', so no survival "
            "curve can be drawn. Check the endpoint columns or relax the filters."
        )
    summary_rows, curves = [], []
    for k, g in enumerate(levels):
        sel = codes == k
        km = _km(time[sel], event[sel])
        lower, upper = _confint(km.surv, km.std_err, conf_type, z)
        med, lo, hi = _median_with_ci(km, lower, upper)
        summary_rows.append((g, int(sel.sum()), int(km.n_event.sum()), med, lo, hi))
        m = km.time.size + 1
        curves.append(
            pd.DataFrame(
                {
                    "group": [g] * m,
                    "time": np.concatenate(([0.0], km.time)),
                    "survival": np.concatenate(([1.0], km.surv)),
                    "lower": np.concatenate(([1.0], lower)),
                    "upper": np.concatenate(([1.0], upper)),
                    "at_risk": np.concatenate(([sel.sum()], km.n_risk)).astype(int),
                    "events": np.concatenate(([0.0], km.n_event)).astype(int),
                    "censored": np.concatenate(([0.0], km.n_censor)).astype(int),
                }
            )
        )
    summary = pd.DataFrame(
        summary_rows, columns=["group", "n", "events", "median", "median_lower", "median_upper"]
    )
    curve = pd.concat(curves, ignore_index=True)[_CURVE_COLUMNS]
    return KMResult(
        endpoint,
        by,
        conf_type,
        conf_level,
        summary,
        curve,
        n_excl,
        notes,
        _km_method(conf_type, conf_level),
    )


def _logrank_arrays(time, event, codes, k):
    """Observed, expected and variance matrix of survdiff (rho = 0) for groups 0..k-1."""
    ut, inv = np.unique(time, return_inverse=True)
    cell = inv * k + codes
    tot = np.bincount(cell, minlength=ut.size * k).reshape(ut.size, k).astype(float)
    dead = np.bincount(cell, weights=event, minlength=ut.size * k).reshape(ut.size, k)
    n_gt = np.cumsum(tot[::-1], axis=0)[::-1]
    d_t = dead.sum(axis=1)
    use = d_t > 0
    n_gt, d_t, dead = n_gt[use], d_t[use], dead[use]
    n_t = n_gt.sum(axis=1)
    share = n_gt / n_t[:, None]
    observed = dead.sum(axis=0)
    expected = (share * d_t[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1), 0.0)
    var = np.diag((share * c[:, None]).sum(axis=0)) - share.T @ (share * c[:, None])
    return observed, expected, var


def _chisq(observed, expected, var) -> tuple[float, int]:
    use = expected > 0
    diff = (observed - expected)[use][1:]
    vv = var[np.ix_(use, use)][1:, 1:]
    stat = float(diff @ np.linalg.lstsq(vv, diff, rcond=None)[0]) if diff.size else 0.0
    return stat, int(use.sum()) - 1


def logrank_test(df: pd.DataFrame, endpoint: str, by: str) -> LogRankResult:
    """Log-rank test of equal survival across the groups of ``by`` (any number of groups).

    Returns
    -------
    LogRankResult with ``statistic``, ``dof``, ``p_value`` and per-group ``table``.

    Raises
    ------
    CohortError if fewer than two groups have patients, or there are no events.

    Notes
    -----
    R ``survdiff(Surv(time, event) ~ by)`` (rho = 0): chi-square with (groups with expected > 0) - 1
    df. The log-rank test has maximum power when hazards are proportional; crossing curves can
    hide a real difference.
    """
    if by is None:
        raise CohortError("A log-rank test compares groups: choose a column to compare by.")
    time, event, codes, levels, n_excl, notes = _prepare(df, endpoint, by, "log-rank test")
    counts = np.bincount(codes, minlength=len(levels))
    if (counts > 0).sum() < 2:
        raise CohortError(
            f"The log-rank test needs at least two groups with patients, but '{by}' has "
            f"{int((counts > 0).sum())} non-empty group(s) here. Relax the filters or compare by "
            "another column."
        )
    if event.sum() == 0:
        raise CohortError(
            f"There are no events for '{endpoint}' in these patients, so the log-rank test is "
            "undefined. Relax the filters or choose another endpoint."
        )
    observed, expected, var = _logrank_arrays(time, event, codes, len(levels))
    stat, dof = _chisq(observed, expected, var)
    table = pd.DataFrame(
        {"group": levels, "n": counts.astype(int), "observed": observed, "expected": expected}
    )
    p = float(stats.chi2.sf(stat, dof)) if dof > 0 else float("nan")
    return LogRankResult(endpoint, by, stat, dof, p, table, n_excl, notes)


_ADJUST = ("holm", "bonferroni", "BH", "none")


def adjust_p_values(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values as R ``p.adjust`` (holm, bonferroni, BH, none)."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if method not in _ADJUST:
        raise ValueError(f"Unknown adjustment '{method}'. Use one of {', '.join(_ADJUST)}.")
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "holm":
        o = np.argsort(p, kind="stable")
        adj = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[o]), 1.0)
    else:  # BH
        o = np.argsort(p, kind="stable")[::-1]
        adj = np.minimum(np.minimum.accumulate(m / np.arange(m, 0, -1) * p[o]), 1.0)
    out = np.empty(m)
    out[o] = adj
    return out


def pairwise_logrank(
    df: pd.DataFrame, endpoint: str, by: str, adjust: str = "holm"
) -> pd.DataFrame:
    """Log-rank test for every pair of groups, with multiplicity-adjusted p-values.

    Returns
    -------
    DataFrame ``group_a, group_b, statistic, p_value, p_adjusted`` (``attrs["method"]`` says how).

    Notes
    -----
    Each pair is R ``survdiff`` on that pair's patients; adjustment as R ``p.adjust`` (as in
    survminer's ``pairwise_survdiff``). Pairs without events get NaN.
    """
    time, event, codes, levels, _, _ = _prepare(df, endpoint, by, "log-rank test")
    rows = []
    for a, b in combinations(range(len(levels)), 2):
        sel = (codes == a) | (codes == b)
        stat, p = float("nan"), float("nan")
        if (codes[sel] == a).any() and (codes[sel] == b).any() and event[sel].sum() > 0:
            o, e, v = _logrank_arrays(time[sel], event[sel], (codes[sel] == b).astype(np.int64), 2)
            stat, dof = _chisq(o, e, v)
            p = float(stats.chi2.sf(stat, dof)) if dof > 0 else float("nan")
        rows.append((levels[a], levels[b], stat, p))
    out = pd.DataFrame(rows, columns=["group_a", "group_b", "statistic", "p_value"])
    ok = out["p_value"].notna().to_numpy()
    adj = np.full(len(out), np.nan)
    adj[ok] = adjust_p_values(out["p_value"].to_numpy()[ok], adjust)
    out["p_adjusted"] = adj
    out.attrs["method"] = (
        f"Pairwise log-rank tests (R survdiff, rho = 0, 1 df each); p-values adjusted by "
        f"'{adjust}' (R p.adjust)"
    )
    return out


def _rmst_one(km: _KM, tau: float) -> tuple[float, float]:
    """Restricted mean and its SE exactly as R's ``survmean`` (print.survfit, rmean = tau)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(
            km.n_risk - km.n_event == 0, 0.0, km.n_event / (km.n_risk * (km.n_risk - km.n_event))
        )
    keep = km.time <= tau
    temptime = np.append(km.time[keep], tau)
    tempsurv = np.append(km.surv[keep], km.surv[keep][-1] if keep.any() else 1.0)
    hh = np.append(hh[keep], 0.0)
    delta = np.diff(np.concatenate(([0.0], temptime)))
    rect = delta * np.concatenate(([1.0], tempsurv[:-1]))
    # area from each time to tau, paired with that time's hazard term
    tail = np.cumsum(rect[1:][::-1])
    var = float(np.sum(tail**2 * hh[::-1][1:]))
    return float(rect.sum()), float(np.sqrt(var))


def rmst(
    df: pd.DataFrame,
    endpoint: str,
    by: str | None,
    tau: float,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Restricted mean survival time up to ``tau`` per group, and differences to the reference.

    Returns
    -------
    DataFrame ``group, n, events, tau, rmst, se, lower, upper, versus, difference,
    difference_lower, difference_upper, p_value``. The first group is the reference: its
    difference columns are NaN; other rows compare with it (Wald z-test, independent groups).
    ``attrs["method"]`` and ``attrs["notes"]`` describe the method and caveats.

    Notes
    -----
    Area under the Kaplan-Meier curve on [0, tau]; SE as R ``print(survfit(...), rmean = tau)``
    (``rmean``, ``se(rmean)``). If tau is past a group's last follow-up the curve is carried
    flat to tau, as R does, and a note says so.
    """
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau must be a positive number of months (got {tau}).")
    z = _z(conf_level)
    time, event, codes, levels, _, notes = _prepare(df, endpoint, by, "restricted mean survival")
    rows, notes = [], list(notes)
    for k, g in enumerate(levels):
        sel = codes == k
        km = _km(time[sel], event[sel])
        mean, se = _rmst_one(km, tau)
        if km.time[-1] < tau:
            notes.append(
                f"Follow-up in group '{g}' ends at {km.time[-1]:.1f} months, before tau = {tau:g}; "
                "its curve is carried flat to tau, so its RMST is partly extrapolated."
            )
        rows.append((g, int(sel.sum()), int(event[sel].sum()), float(tau), mean, se))
    out = pd.DataFrame(rows, columns=["group", "n", "events", "tau", "rmst", "se"])
    out["lower"] = out["rmst"] - z * out["se"]
    out["upper"] = out["rmst"] + z * out["se"]
    ref = out.iloc[0]
    diff = out["rmst"] - ref["rmst"]
    dse = np.sqrt(out["se"] ** 2 + ref["se"] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(diff / dse))
    is_ref = np.arange(len(out)) == 0
    out["versus"] = np.where(is_ref, None, ref["group"])
    out["difference"] = np.where(is_ref, np.nan, diff)
    out["difference_lower"] = np.where(is_ref, np.nan, diff - z * dse)
    out["difference_upper"] = np.where(is_ref, np.nan, diff + z * dse)
    out["p_value"] = np.where(is_ref | (dse == 0), np.nan, p)
    out.attrs["method"] = (
        f"Restricted mean survival time to {tau:g} months (area under the Kaplan-Meier curve; "
        "SE as R print.survfit rmean); differences vs the first group with Wald "
        f"{conf_level:.0%} CI and z-test"
    )
    out.attrs["notes"] = tuple(notes)
    return out


def median_follow_up(
    df: pd.DataFrame, endpoint: str = "os", conf_type: str = "log-log", conf_level: float = 0.95
) -> FollowUpResult:
    """Median follow-up by the reverse Kaplan-Meier method (event indicator flipped).

    Raises
    ------
    CohortError if no patient has the endpoint.

    Notes
    -----
    R ``quantile(survfit(Surv(time, 1 - event) ~ 1, conf.type = ...), 0.5)``: deaths count as
    censored follow-up and censorings as "events" of ending follow-up. Default interval is
    log-log like ``fit_km`` (R's default is 'log').
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    sd = _survival_data(df, endpoint, "median follow-up")
    if sd.time.size == 0:
        raise CohortError(
            f"No patient has a follow-up time for '{endpoint}', so median follow-up is undefined."
        )
    km = _km(sd.time, 1.0 - sd.event)
    lower, upper = _confint(km.surv, km.std_err, conf_type, z)
    med, lo, hi = _median_with_ci(km, lower, upper)
    method = (
        "Median follow-up by the reverse Kaplan-Meier method (R survfit(Surv(time, 1 - status) "
        f"~ 1)); {conf_level:.0%} CI on the {conf_type} scale"
    )
    return FollowUpResult(
        endpoint, med, lo, hi, int(sd.time.size), conf_type, conf_level, sd.n_missing, method
    )
