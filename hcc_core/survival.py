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
from scipy import special

from . import schema
from .cohort import pfs_death_notes
from .errors import CohortError
from .i18n import N_, _
from .memo import IdentityMemo, factorize

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

# Shown in the language of the run: LogRankResult(..., method=_(LOGRANK_METHOD)).
LOGRANK_METHOD = N_("Log-rank test (R survdiff, rho = 0), chi-square with k-1 df")
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


def _as_float(col: pd.Series) -> np.ndarray:
    """``pd.to_numeric(col, errors="coerce")`` as float64 with NaN; numeric columns skip the parse."""
    if not pd.api.types.is_numeric_dtype(col.dtype):
        col = pd.to_numeric(col, errors="coerce")
    return col.to_numpy(dtype=float, na_value=np.nan)


def _survival_data(df: pd.DataFrame, endpoint: str, analysis: str) -> _SurvData:
    """Time/event arrays for ``endpoint``; rows with a missing time or event are dropped.

    Computed once per frame and endpoint (``hcc_core.memo``): one refresh runs a dozen analyses
    on the same filtered frame. The arrays are read-only, so no caller can change another
    analysis's numbers.
    """
    time_col, event_col = schema.endpoint_columns(endpoint)
    schema.require_columns(df, [time_col, event_col], analysis)
    return _SURV_DATA.get(df, endpoint)


def _survival_data_now(df: pd.DataFrame, endpoint: str) -> _SurvData:
    """``_survival_data`` computed afresh (columns known to be present)."""
    time_col, event_col = schema.endpoint_columns(endpoint)
    time = _as_float(df[time_col])
    event = _as_float(df[event_col])
    keep = ~(np.isnan(time) | np.isnan(event))
    bad = keep & (event != 0.0) & (event != 1.0)
    if bad.any():
        found = ", ".join(str(v) for v in sorted(set(event[bad].tolist()))[:5])
        raise CohortError(
            _(
                "The column '{column}' must be 1 (event) or 0 (censored); found {found}. Recode "
                "it before running the analysis."
            ).format(column=event_col, found=found)
        )
    time, event = time[keep], event[keep]  # copies: never views of the caller's frame
    if (time < 0).any():
        raise CohortError(
            _(
                "The column '{column}' has negative times. Survival times count from the start "
                "of therapy and cannot be negative; correct those rows."
            ).format(column=time_col)
        )
    for a in (time, event, keep):
        a.flags.writeable = False
    return _SurvData(time, event, keep, int(keep.size - time.size))


_SURV_DATA = IdentityMemo(_survival_data_now)


def _group_codes(
    df: pd.DataFrame, by: str | None, keep: np.ndarray
) -> tuple[np.ndarray, list, int]:
    """Integer group codes (schema order) for the kept rows, dropping rows with a missing group."""
    if by is None:
        return np.zeros(int(keep.sum()), dtype=np.int64), [ALL_PATIENTS], 0
    schema.require_columns(df, [by], N_("survival comparison"))
    raw, uniques = _factorize(df[by])
    raw = raw[keep]
    # schema.levels_of on the kept rows, from the codes (no copies of the column's values)
    present = [
        uniques[i] for i in np.flatnonzero(np.bincount(raw[raw >= 0], minlength=len(uniques)))
    ]
    levels = [lv for lv in schema.LEVELS.get(by, ()) if lv in set(present)]
    levels += sorted((v for v in present if v not in set(levels)), key=str)
    pos = {lv: i for i, lv in enumerate(levels)}
    codes = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)[raw]
    return codes, levels, int((codes < 0).sum())


def _factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """``pd.factorize`` of a column, once per column object (``hcc_core.memo.factorize``)."""
    return factorize(s)


def _exclusion_notes(n_missing: int, n_no_group: int, endpoint: str, by: str | None) -> tuple:
    notes = []
    if n_missing:
        time_col, event_col = schema.endpoint_columns(endpoint)
        notes.append(
            _("{n} patient(s) without '{time}' or '{event}' were excluded.").format(
                n=n_missing, time=time_col, event=event_col
            )
        )
    if n_no_group:
        notes.append(
            _("{n} patient(s) with a missing '{column}' were excluded.").format(
                n=n_no_group, column=by
            )
        )
    return tuple(notes)


def _case_weights(df: pd.DataFrame, weights: str, keep: np.ndarray) -> np.ndarray:
    """The weight column for the rows in ``keep`` (NaN = missing); bad values raise."""
    schema.require_columns(df, [weights], N_("weighted Kaplan-Meier analysis"))
    col = df[weights]
    w = _as_float(col)
    bad = ~np.isnan(w) & ~(np.isfinite(w) & (w > 0))
    bad |= np.isnan(w) & col.notna().to_numpy()  # text that is not a number
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(str(r + 2) for r in rows[:5])  # file rows: header is row 1
        values = ", ".join(repr(v) for v in col.iloc[rows[:5]].tolist())
        raise CohortError(
            _(
                "The weight column '{column}' must hold positive finite numbers; rows {rows} "
                "have {values}. Correct or remove those weights before the weighted analysis."
            ).format(column=weights, rows=shown, values=values)
        )
    return w[keep]


def _prepare(
    df: pd.DataFrame, endpoint: str, by: str | None, analysis: str, weights: str | None = None
):
    """Time, event, group codes, levels, n excluded and notes (+ case weights when asked)."""
    sd = _survival_data(df, endpoint, analysis)
    codes, levels, n_no_group = _group_codes(df, by, sd.keep)
    ok = codes >= 0
    w, n_no_weight = None, 0
    if weights is not None:
        w = _case_weights(df, weights, sd.keep)
        n_no_weight = int((ok & np.isnan(w)).sum())
        ok &= ~np.isnan(w)
    used = sd.keep
    if not ok.all():
        used = sd.keep.copy()
        used[used] = ok
        time, event, codes = sd.time[ok], sd.event[ok], codes[ok]
        w = None if w is None else w[ok]
    else:
        time, event = sd.time, sd.event
    notes = _exclusion_notes(sd.n_missing, n_no_group, endpoint, by)
    if n_no_weight:
        notes += (
            _("{n} patient(s) with a missing '{column}' weight were excluded.").format(
                n=n_no_weight, column=weights
            ),
        )
    notes += pfs_death_notes(df, endpoint, used)
    n_excl = sd.n_missing + n_no_group + n_no_weight
    if weights is None:
        return time, event, codes, levels, n_excl, notes
    return time, event, codes, levels, n_excl, notes, w


# ---- Kaplan-Meier core --------------------------------------------------------------------------
@dataclass(frozen=True)
class _KM:
    time: np.ndarray  # distinct times (events and censorings)
    n_risk: np.ndarray  # (weighted) number at risk
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray  # SE of log S (R's survfit std.err on the log scale)


def _km(time: np.ndarray, event: np.ndarray, weights: np.ndarray | None = None) -> _KM:
    """Kaplan-Meier as R's survfitkm.c, with optional case weights.

    Variance: Greenwood, with weighted counts when weights are given (R's choice for integer
    weights); with non-integer weights R's default is ``robust = TRUE``, the infinitesimal
    jackknife with each patient its own cluster, computed here in closed form.
    """
    ut, inv = np.unique(time, return_inverse=True)
    w = np.ones(time.size) if weights is None else weights
    total = np.bincount(inv, weights=w, minlength=ut.size)
    d = np.bincount(inv, weights=w * event, minlength=ut.size)
    cens = np.bincount(inv, weights=w * (1.0 - event), minlength=ut.size)
    n = np.cumsum(total[::-1])[::-1]
    # survivors past each time: the number at risk at the next time plus those censored now
    # (exactly 0 when everyone at risk dies, whatever the rounding of weighted sums)
    left = np.append(n[1:], 0.0) + cens
    surv = np.cumprod(np.where(d > 0, left / n, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood; a step where everyone at risk dies has infinite variance, as in R
        term = np.where(d > 0, d / (n * left), 0.0)
        if weights is not None and np.any(weights != np.floor(weights)):
            var = _ij_log_variance(inv, event, w, n, d, left)
        else:
            var = np.cumsum(term)
    return _KM(ut, n, d, cens, surv, np.sqrt(var))


def _ij_log_variance(inv, event, w, n, d, left) -> np.ndarray:
    """Infinitesimal-jackknife variance of log S per distinct time (R survfitkm.c, robust).

    Patient k's influence on S(t_i) is S(t_i) w_k c_k(i) with c_k(i) = sum over event times
    t_j <= min(t_i, t_k) of d_j / (n_j (n_j - d_j)), minus 1 / (n_j - d_j) at the patient's
    own death; the variance of log S is sum_k w_k^2 c_k(i)^2. Where S reaches 0 R's influence
    is 0 (the interval there is undefined anyway).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ca = np.cumsum(np.where(d > 0, d / (n * left), 0.0))
        own = np.where(d > 0, 1.0 / left, 0.0)  # the death term at each time
    w2 = w * w
    m = n.size
    w2_dead = np.bincount(inv, weights=w2 * event, minlength=m)
    w2_cens = np.bincount(inv, weights=w2 * (1 - event), minlength=m)
    w2_all = w2_dead + w2_cens
    after = np.append(np.cumsum(w2_all[::-1])[::-1][1:], 0.0)  # still at risk after t_i
    with np.errstate(invalid="ignore"):
        done = np.cumsum(w2_cens * ca**2 + np.where(w2_dead > 0, w2_dead * (ca - own) ** 2, 0))
        var = ca**2 * after + done
    return np.where(np.isfinite(var), var, 0.0)


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
    return float(special.ndtri(1 - (1 - conf_level) / 2))  # = scipy.stats.norm.ppf


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(
            f"Unknown conf_type '{conf_type}'. Use one of {', '.join(CONF_TYPES)} "
            "(R survfit's conf.type)."
        )


def _km_method(conf_type: str, conf_level: float, weights: str | None = None, ij=False) -> str:
    default = _("; note R's default is 'log'") if conf_type != "log" else _(", R's default")
    if weights is None:
        head = _("Kaplan-Meier estimate; Greenwood variance")
    elif ij:
        head = _(
            "Weighted Kaplan-Meier estimate (case weights '{weights}', R survfit weights = ); "
            "numbers at risk, events and censorings are weighted sums; robust "
            "infinitesimal-jackknife variance (R's default for non-integer weights)"
        ).format(weights=weights)
    else:
        head = _(
            "Weighted Kaplan-Meier estimate (case weights '{weights}', R survfit weights = ); "
            "numbers at risk, events and censorings are weighted sums; Greenwood variance "
            "from the weighted counts (R's default for whole-number weights)"
        ).format(weights=weights)
    return _(
        "{head}; {level} pointwise CI on the {conf_type} scale (R survfit conf.type = "
        "'{conf_type}'{default}); median and its CI as R quantile.survfit"
    ).format(head=head, level=f"{conf_level:.0%}", conf_type=conf_type, default=default)


# ---- public results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier fit, one curve per group.

    Attributes
    ----------
    summary : DataFrame ``group, n, events, median, median_lower, median_upper`` (NaN = not reached).
    curve : DataFrame ``group, time, survival, lower, upper, at_risk, events, censored``;
        one row per distinct time plus a time-0 row per group (counts are weighted sums when
        ``weights`` names a case-weight column).
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

    # first row of each group's curve (set by fit_km); derived from ``curve`` when None
    _starts: np.ndarray | None = field(default=None, repr=False, compare=False)
    weights: str | None = None  # case-weight column (counts in curve are weighted sums)

    @property
    def groups(self) -> list:
        """Group labels in display (schema) order."""
        return self.summary["group"].tolist()

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end (exclusive) row of each group's block of ``curve``."""
        n = len(self.curve)
        starts = self._starts
        if starts is None:
            g = self.curve["group"].to_numpy()
            starts = np.flatnonzero(np.concatenate(([n > 0], g[1:] != g[:-1])))
        return starts, np.append(starts[1:], n).astype(np.int64)

    def _rows_at(self, t: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Per group (group-major), the searchsorted position of ``t`` in that group's times."""
        ct = self.curve["time"].to_numpy()
        starts, ends = self._bounds()
        pos = [np.searchsorted(ct[a:b], t, side=side) for a, b in zip(starts, ends, strict=True)]
        return np.concatenate(pos) if pos else np.zeros(0, dtype=np.int64), starts, ends

    def at(self, times) -> pd.DataFrame:
        """Survival with CI at ``times`` (e.g. ``[12, 24]`` months), per group.

        Before a group's first time (including t < 0) S = 1 with CI [1, 1]. Past a group's last
        time, when the curve has reached 0 there (everyone still at risk died) S = 0 with the CI
        of that last step, as R ``summary(fit, times, extend = TRUE)``. Past a last *censored*
        time the curve is unknown and we give NaN (R ``extend = TRUE`` carries it flat; without
        ``extend`` R omits those times).
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        pos, starts, ends = self._rows_at(t, "right")
        a, b = np.repeat(starts, t.size), np.repeat(ends, t.size)
        rows = a + np.maximum(pos - 1, 0)  # t before time 0: the group's origin row (S = 1)
        ct = self.curve["time"].to_numpy()
        tt = np.tile(t, starts.size)
        last_surv = self.curve["survival"].to_numpy()[b - 1]
        unknown = (tt > ct[b - 1]) & (last_surv > 0)
        out = {"group": self.curve["group"].to_numpy()[rows], "time": tt}
        for c in ("survival", "lower", "upper"):
            out[c] = np.where(unknown, np.nan, self.curve[c].to_numpy()[rows])
        return pd.DataFrame(out, copy=False)  # fresh arrays: no second copy

    def risk_table(self, times) -> pd.DataFrame:
        """Numbers at risk (time >= t) and cumulative events/censorings up to ``t``, per group.

        Weighted fits give weighted sums (floats), as R ``summary(fit, times)$n.risk``.
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        first, starts, ends = self._rows_at(t, "left")
        upto, _, _ = self._rows_at(t, "right")
        a, b = np.repeat(starts, t.size), np.repeat(ends, t.size)
        at_risk = np.where(
            first < b - a, self.curve["at_risk"].to_numpy()[np.minimum(a + first, b - 1)], 0
        )

        def cumulative(column: str) -> np.ndarray:
            c = np.concatenate(([0], np.cumsum(self.curve[column].to_numpy())))
            return c[a + upto] - c[a]  # sum over rows a .. a + upto - 1

        count = (lambda a: a) if self.weights is not None else (lambda a: a.astype(int))
        return pd.DataFrame(
            {
                "group": self.curve["group"].to_numpy()[a],
                "time": np.tile(t, starts.size),
                "at_risk": count(at_risk),
                "cumulative_events": count(cumulative("events")),
                "cumulative_censored": count(cumulative("censored")),
            },
            copy=False,
        )


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
    method: str = LOGRANK_METHOD

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
    weights: str | None = None,
) -> KMResult:
    """Kaplan-Meier survival curves, overall or per group.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    by : categorical column to stratify by (groups in schema order), or None for the whole cohort.
    conf_type : ``"log-log"`` (default), ``"log"`` or ``"plain"``, as R survfit's ``conf.type``.
    conf_level : confidence level of the pointwise intervals.
    weights : column of ``df`` with positive case weights (e.g. inverse-probability weights),
        or None. Patients with a missing weight are excluded with a note.

    Returns
    -------
    KMResult. With weights, ``curve``'s ``at_risk``, ``events`` and ``censored`` are weighted
    sums (floats); ``summary``'s ``n`` and ``events`` still count patients.

    Raises
    ------
    CohortError if no patient has the endpoint, or a weight is not a positive number.

    Notes
    -----
    Kaplan-Meier with Greenwood variance; R ``survfit(Surv(time, event) ~ by, conf.type = ...)``.
    Median and CI as ``quantile.survfit`` (first time S(t) <= 0.5, midpoint of an exact plateau,
    CI where the pointwise band crosses 0.5). Where S = 1 the interval is [1, 1] (R gives NA for
    log-log there).

    Weighted: R ``survfit(Surv(time, event) ~ by, weights = w)``, whose variance (survfitKM)
    depends on the weights: whole-number weights give Greenwood's formula on the weighted
    counts; any non-integer weight makes R's default ``robust = TRUE``, the infinitesimal
    jackknife with each patient its own cluster. ``result.method`` says which was used.
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    prepared = _prepare(df, endpoint, by, N_("Kaplan-Meier analysis"), weights)
    time, event, codes, levels, n_excl, notes = prepared[:6]
    w = prepared[6] if weights is not None else None
    if time.size == 0:
        raise CohortError(
            _(
                "No patient has both a time and an event status for '{endpoint}', so no survival "
                "curve can be drawn. Check the endpoint columns or relax the filters."
            ).format(endpoint=endpoint)
        )
    k = len(levels)
    n_by = np.bincount(codes, minlength=k)
    ij = w is not None and bool(np.any(w != np.floor(w)))
    events_by, med_ci, parts = np.zeros(k, dtype=np.int64), np.empty((k, 3)), []
    for j in range(k):
        sel = codes == j
        km = _km(time[sel], event[sel], None if w is None else w[sel])
        lower, upper = _confint(km.surv, km.std_err, conf_type, z)
        med_ci[j] = _median_with_ci(km, lower, upper)
        events_by[j] = int(event[sel].sum())
        parts.append((km, lower, upper))
    # One frame from concatenated arrays; each group's curve starts with a time-0 row.
    sizes = np.array([km.time.size + 1 for km, _, _ in parts])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))

    def stack(origin: float, column) -> np.ndarray:
        return np.concatenate([a for part in parts for a in ([origin], column(*part))])

    counts = (lambda a: a.astype(int)) if w is None else (lambda a: a)
    at_risk = counts(stack(0.0, lambda km, lo, up: km.n_risk))
    at_risk[starts] = n_by if w is None else [km.n_risk[0] for km, _, _ in parts]
    curve = pd.DataFrame(
        {
            "group": pd.Series(levels).take(np.repeat(np.arange(k), sizes)).to_numpy(),
            "time": stack(0.0, lambda km, lo, up: km.time),
            "survival": stack(1.0, lambda km, lo, up: km.surv),
            "lower": stack(1.0, lambda km, lo, up: lo),
            "upper": stack(1.0, lambda km, lo, up: up),
            "at_risk": at_risk,
            "events": counts(stack(0.0, lambda km, lo, up: km.n_event)),
            "censored": counts(stack(0.0, lambda km, lo, up: km.n_censor)),
        },
        copy=False,  # every column is a new array: no second copy
    )
    summary = pd.DataFrame(
        {
            "group": levels,
            "n": n_by.astype(int),
            "events": events_by,
            "median": med_ci[:, 0],
            "median_lower": med_ci[:, 1],
            "median_upper": med_ci[:, 2],
        },
        copy=False,
    )
    return KMResult(
        endpoint,
        by,
        conf_type,
        conf_level,
        summary,
        curve,
        n_excl,
        notes,
        _km_method(conf_type, conf_level, weights, ij),
        starts,
        weights,
    )


def _logrank_arrays(time, event, codes, k, distinct=None):
    """Observed, expected and variance matrix of survdiff (rho = 0) for groups 0..k-1.

    ``distinct`` = ``(n_times, inv)`` from ``np.unique(all_times, return_inverse=True)`` of a
    superset of these rows may be passed to skip the sort; times with nobody at risk in this
    subset add exact zeros and are then dropped with the other event-free times.
    """
    if distinct is None:
        ut, inv = np.unique(time, return_inverse=True)
        distinct = (ut.size, inv)
    m, inv = distinct
    cell = inv * k + codes
    tot = np.bincount(cell, minlength=m * k).reshape(m, k).astype(float)
    dead = np.bincount(cell, weights=event, minlength=m * k).reshape(m, k)
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


def _chi2_sf(stat: float, dof: int) -> float:
    """``scipy.stats.chi2.sf(stat, dof)`` (NaN when dof = 0) without the distribution overhead."""
    if dof <= 0:
        return float("nan")
    return 1.0 if stat < 0 else float(special.chdtrc(dof, stat))


def _prepare_groups(df: pd.DataFrame, endpoint: str, by: str | None):
    """``_prepare`` for a log-rank comparison: at least two non-empty groups, else a clear error."""
    if by is None:
        raise CohortError(_("A log-rank test compares groups: choose a column to compare by."))
    prepared = _prepare(df, endpoint, by, N_("log-rank test"))
    codes, levels = prepared[2], prepared[3]
    n_groups = int((np.bincount(codes, minlength=len(levels)) > 0).sum())
    if n_groups < 2:
        raise CohortError(
            _(
                "The log-rank test needs at least two groups with patients, but '{column}' has "
                "{n} non-empty group(s) here. Relax the filters or compare by another column."
            ).format(column=by, n=n_groups)
        )
    return prepared


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
    time, event, codes, levels, n_excl, notes = _prepare_groups(df, endpoint, by)
    counts = np.bincount(codes, minlength=len(levels))
    if event.sum() == 0:
        raise CohortError(
            _(
                "There are no events for '{endpoint}' in these patients, so the log-rank test is "
                "undefined. Relax the filters or choose another endpoint."
            ).format(endpoint=endpoint)
        )
    observed, expected, var = _logrank_arrays(time, event, codes, len(levels))
    stat, dof = _chisq(observed, expected, var)
    table = pd.DataFrame(
        {"group": levels, "n": counts.astype(int), "observed": observed, "expected": expected},
        copy=False,
    )
    p = _chi2_sf(stat, dof)
    return LogRankResult(endpoint, by, stat, dof, p, table, n_excl, notes, _(LOGRANK_METHOD))


_ADJUST = ("holm", "bonferroni", "BH", "none")


def adjust_p_values(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values as R ``p.adjust`` (holm, bonferroni, BH, none).

    NaN entries stay NaN and are not counted in the number of tests m, as R (``holm`` on
    ``[0.01, NaN, 0.03]`` gives ``[0.02, NaN, 0.03]``).
    """
    p = np.asarray(p, dtype=float)
    if method not in _ADJUST:
        raise ValueError(f"Unknown adjustment '{method}'. Use one of {', '.join(_ADJUST)}.")
    out = p.copy()
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if method == "none" or m == 0:
        return out
    if method == "bonferroni":
        adj = np.minimum(q * m, 1.0)
    elif method == "holm":
        o = np.argsort(q, kind="stable")
        adj = np.empty(m)
        adj[o] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * q[o]), 1.0)
    else:  # BH
        o = np.argsort(q, kind="stable")[::-1]
        adj = np.empty(m)
        adj[o] = np.minimum(np.minimum.accumulate(m / np.arange(m, 0, -1) * q[o]), 1.0)
    out[ok] = adj
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
    survminer's ``pairwise_survdiff``). Pairs without events get NaN and are not counted in
    the adjustment.

    Raises
    ------
    CohortError if fewer than two groups have patients (the same message as ``logrank_test``).
    """
    time, event, codes, levels = _prepare_groups(df, endpoint, by)[:4]
    ut, inv = np.unique(time, return_inverse=True)
    pairs = list(combinations(range(len(levels)), 2))
    stat, p = np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    for i, (a, b) in enumerate(pairs):
        in_a, in_b = codes == a, codes == b
        sel = in_a | in_b
        if in_a.any() and in_b.any() and event[sel].sum() > 0:
            o, e, v = _logrank_arrays(
                time[sel], event[sel], in_b[sel].astype(np.int64), 2, (ut.size, inv[sel])
            )
            stat[i], dof = _chisq(o, e, v)
            p[i] = _chi2_sf(stat[i], dof)
    out = pd.DataFrame(
        {
            "group_a": [levels[a] for a, _ in pairs],
            "group_b": [levels[b] for _, b in pairs],
            "statistic": stat,
            "p_value": p,
            "p_adjusted": adjust_p_values(p, adjust),
        },
        copy=False,
    )
    out.attrs["method"] = _(
        "Pairwise log-rank tests (R survdiff, rho = 0, 1 df each); p-values adjusted by "
        "'{adjust}' (R p.adjust)"
    ).format(adjust=adjust)
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
    time, event, codes, levels, _excl, notes = _prepare(
        df, endpoint, by, N_("restricted mean survival")
    )
    k, notes = len(levels), list(notes)
    est = np.empty((k, 2))
    for j, g in enumerate(levels):
        sel = codes == j
        km = _km(time[sel], event[sel])
        est[j] = _rmst_one(km, tau)
        if km.time[-1] < tau:
            notes.append(
                _(
                    "Follow-up in group '{group}' ends at {end} months, before tau = {tau}; its "
                    "curve is carried flat to tau, so its RMST is partly extrapolated."
                ).format(group=g, end=f"{km.time[-1]:.1f}", tau=f"{tau:g}")
            )
    mean, se = est[:, 0], est[:, 1]
    diff = mean - mean[0]
    dse = np.sqrt(se**2 + se[0] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * special.ndtr(-np.abs(diff / dse))  # = 2 * scipy.stats.norm.sf(|z|)
    is_ref = np.arange(k) == 0
    out = pd.DataFrame(
        {
            "group": levels,
            "n": np.bincount(codes, minlength=k).astype(int),
            "events": np.bincount(codes, weights=event, minlength=k).astype(int),
            "tau": np.full(k, float(tau)),
            "rmst": mean,
            "se": se,
            "lower": mean - z * se,
            "upper": mean + z * se,
            "versus": np.where(is_ref, None, levels[0]),
            "difference": np.where(is_ref, np.nan, diff),
            "difference_lower": np.where(is_ref, np.nan, diff - z * dse),
            "difference_upper": np.where(is_ref, np.nan, diff + z * dse),
            "p_value": np.where(is_ref | (dse == 0), np.nan, p),
        },
        copy=False,
    )
    out.attrs["method"] = _(
        "Restricted mean survival time to {tau} months (area under the Kaplan-Meier curve; "
        "SE as R print.survfit rmean); differences vs the first group with Wald {level} CI "
        "and z-test"
    ).format(tau=f"{tau:g}", level=f"{conf_level:.0%}")
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
    sd = _survival_data(df, endpoint, N_("median follow-up"))
    if sd.time.size == 0:
        raise CohortError(
            _(
                "No patient has a follow-up time for '{endpoint}', so median follow-up is "
                "undefined."
            ).format(endpoint=endpoint)
        )
    km = _km(sd.time, 1.0 - sd.event)
    lower, upper = _confint(km.surv, km.std_err, conf_type, z)
    med, lo, hi = _median_with_ci(km, lower, upper)
    method = _(
        "Median follow-up by the reverse Kaplan-Meier method (R survfit(Surv(time, 1 - status) "
        "~ 1)); {level} CI on the {conf_type} scale"
    ).format(level=f"{conf_level:.0%}", conf_type=conf_type)
    return FollowUpResult(
        endpoint, med, lo, hi, int(sd.time.size), conf_type, conf_level, sd.n_missing, method
    )
