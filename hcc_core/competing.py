"""Competing risks: cumulative incidence (Aalen-Johansen) with Gray's variance, and Gray's test.

Two competing-risk endpoints are defined on the canonical cohort:

- ``ttp`` (time to progression): ``pfs_months``; the event is radiological progression
  (``pfs_event = 1`` and ``progression_event = 1``); death without progression
  (``progression_event = 0``) competes.
- ``hcc_death``: ``os_months``; the event is an HCC-related death (``death_cause = hcc``);
  deaths from other causes compete.

Every number equals R's ``cmprsk`` (``cuminc``, ``timepoints``; Fortran ``cinc`` and ``crstm``
ported line by line and vectorised over event times); see ``tests/reference/make_reference_tte.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from . import schema
from .errors import CohortError
from .i18n import N_, _

__all__ = [
    "COMPETING_ENDPOINTS",
    "CIFResult",
    "GrayTestResult",
    "competing_status",
    "cumulative_incidence",
    "gray_test",
]

# endpoint -> (time column, event column, column telling event from competing event, label)
COMPETING_ENDPOINTS: dict[str, tuple[str, str, str, str]] = {
    "ttp": (
        schema.PFS_MONTHS, schema.PFS_EVENT, schema.PROGRESSION_EVENT, N_("time to progression")
    ),
    "hcc_death": (schema.OS_MONTHS, schema.OS_EVENT, schema.DEATH_CAUSE, N_("HCC-related death")),
}
# English msgids: shown as _(name).
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "ttp": (N_("progression"), N_("death without progression")),
    "hcc_death": (N_("HCC-related death"), N_("death from other causes")),
}
GRAY_METHOD = N_("Gray's test (R cmprsk cuminc, rho = 0), chi-square with k-1 df")
ALL_PATIENTS = "all"
CENSORED, EVENT, COMPETING = 0, 1, 2


@dataclass(frozen=True)
class _Status:
    time: np.ndarray  # float64
    status: np.ndarray  # int: 0 censored, 1 event of interest, 2 competing event
    keep: np.ndarray  # bool mask over the input rows
    notes: tuple[str, ...]


def _check_endpoint(endpoint: str) -> tuple[str, str, str, str]:
    try:
        return COMPETING_ENDPOINTS[endpoint]
    except KeyError:
        raise ValueError(
            f"Unknown competing-risk endpoint '{endpoint}'. Use 'ttp' (progression; death "
            "without progression competes) or 'hcc_death' (HCC-related death; other deaths "
            "compete)."
        ) from None


def competing_status(df: pd.DataFrame, endpoint: str) -> _Status:
    """Time and status (0 censored, 1 event, 2 competing event) of the usable rows.

    Rows without a time or event status, or with an event whose type is unknown, are excluded
    and counted in ``notes``.
    """
    time_col, event_col, type_col, label = _check_endpoint(endpoint)
    schema.require_columns(
        df,
        [time_col, event_col, type_col],
        _("the {label} analysis").format(label=_(label)),
    )
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    event = pd.to_numeric(df[event_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    kind = df[type_col]
    if endpoint == "ttp":
        code = pd.to_numeric(kind, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        is_event, is_competing = code == 1, code == 0
    else:
        is_event = (kind == "hcc").fillna(False).to_numpy(dtype=bool)
        is_competing = (kind == "other").fillna(False).to_numpy(dtype=bool)
    status = np.where(
        event == 1, np.where(is_event, EVENT, np.where(is_competing, COMPETING, -1)), 0
    )
    no_time = np.isnan(time) | np.isnan(event)
    unknown = ~no_time & (status < 0)
    keep = ~(no_time | unknown)
    notes = []
    if no_time.any():
        notes.append(
            _("{n} patient(s) without '{time}' or '{event}' were excluded.").format(
                n=int(no_time.sum()), time=time_col, event=event_col
            )
        )
    if unknown.any():
        what = _("progression or death") if endpoint == "ttp" else _("cause of death")
        notes.append(
            _(
                "{n} patient(s) with an event but no '{column}' ({what} unknown) were excluded."
            ).format(n=int(unknown.sum()), column=type_col, what=what)
        )
    if (time[keep] < 0).any():
        raise CohortError(
            _(
                "The column '{column}' has negative times. Times count from the start of "
                "therapy and cannot be negative; correct those rows."
            ).format(column=time_col)
        )
    return _Status(time[keep], status[keep].astype(np.int64), keep, tuple(notes))


def _groups(df: pd.DataFrame, by: str | None, st: _Status):
    """Group codes (schema order) of the kept rows; rows with a missing group are dropped."""
    if by is None:
        return st.time, st.status, np.zeros(st.time.size, np.int64), [ALL_PATIENTS], st.notes
    schema.require_columns(df, [by], N_("competing-risk comparison"))
    values = df[by][st.keep]
    levels = schema.levels_of(values.to_frame(), by)
    codes = pd.Categorical(values, categories=levels).codes.astype(np.int64)
    ok = codes >= 0
    notes = st.notes
    if not ok.all():
        notes += (
            _("{n} patient(s) with a missing '{column}' were excluded.").format(
                n=int((~ok).sum()), column=by
            ),
        )
    return st.time[ok], st.status[ok], codes[ok], levels, notes


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1 (got {conf_level}), e.g. 0.95.")
    return float(special.ndtri(1 - (1 - conf_level) / 2))


# ---- cumulative incidence (cmprsk cinc) -------------------------------------------------------
def _cinc(time: np.ndarray, status: np.ndarray, cause: int) -> dict[str, np.ndarray]:
    """cmprsk's ``cinc`` for one group: per distinct time, CIF and Gray's variance.

    The variance is updated at every event time but, as in cmprsk, reported only at times of
    the cause of interest (carried forward in between, as ``timepoints`` returns it).
    """
    ut, inv = np.unique(time, return_inverse=True)
    m = ut.size
    d1 = np.bincount(inv, weights=status == cause, minlength=m)
    d_all = np.bincount(inv, weights=status > 0, minlength=m)
    d2 = d_all - d1
    total = np.bincount(inv, minlength=m).astype(float)
    rs = np.cumsum(total[::-1])[::-1]  # at risk: time >= t
    fk_next = np.cumprod((rs - d_all) / rs)  # all-cause Kaplan-Meier just after t
    fk = np.concatenate(([1.0], fk_next[:-1]))  # ... and just before t
    cif = np.cumsum(fk * d1 / rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5_2 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t5_1 = np.where(d1 > 1, 1 - (d1 - 1) / (rs - 1), 1.0)
        t6_2 = np.where((d2 > 0) & (fk_next > 0), fk * fk * t5_2 * d2 / (rs * rs), 0.0)
        t6_1 = np.where(d1 > 0, fk * fk * t5_1 * d1 / (rs * rs), 0.0)
        inv_next = np.where(fk_next > 0, 1 / fk_next, 0.0)
    a2, b2 = inv_next, cif * inv_next
    a1, b1 = inv_next, 1 + inv_next * cif
    v1 = np.cumsum(b2 * b2 * t6_2 + b1 * b1 * t6_1)
    v2 = np.cumsum(a2 * b2 * t6_2 + a1 * b1 * t6_1)
    v3 = np.cumsum(a2 * a2 * t6_2 + a1 * a1 * t6_1)
    var_at = v1 + cif * cif * v3 - 2 * cif * v2
    # carry the variance of the last time with an event of interest forward
    last = np.maximum.accumulate(np.where(d1 > 0, np.arange(m), -1))
    var = np.where(last >= 0, var_at[np.maximum(last, 0)], 0.0)
    return {
        "time": ut,
        "cif": cif,
        "var": var,
        "at_risk": rs,
        "events": d1,
        "competing": d2,
        "censored": total - d_all,
    }


def _cif_confint(cif: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI on the log(-log) scale: F ** exp(+-z se / (F log F)); [0, 0] where F = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = z * np.sqrt(var) / (cif * np.log(cif))
        lower, upper = cif ** np.exp(-k), cif ** np.exp(k)
    zero, one = cif == 0, cif == 1
    lower, upper = np.where(zero, 0.0, lower), np.where(zero, 0.0, upper)
    return np.where(one, 1.0, lower), np.where(one, 1.0, upper)


def _method(endpoint: str, conf_level: float) -> str:
    event, competing = EVENT_NAMES[endpoint]
    return _(
        "Cumulative incidence of {event} with {competing} as a competing event "
        "(Aalen-Johansen estimate, as R cmprsk cuminc); Gray's variance (cuminc's var); "
        "{level} pointwise CI on the log(-log) scale, F^exp(+-z SE / (F log F)) "
        "(Pintilie 2006, as tidycmprsk)"
    ).format(event=_(event), competing=_(competing), level=f"{conf_level:.0%}")


@dataclass(frozen=True)
class CIFResult:
    """Cumulative incidence of the event of interest, one curve per group.

    Attributes
    ----------
    summary : DataFrame ``group, n, events, competing_events, censored``.
    curve : DataFrame ``group, time, cif, lower, upper, var, at_risk, events, competing,
        censored``; one row per distinct time plus a time-0 row per group (step function,
        right-continuous).
    """

    endpoint: str
    by: str | None
    conf_level: float
    summary: pd.DataFrame
    curve: pd.DataFrame
    n_excluded: int
    notes: tuple[str, ...]
    method: str

    @property
    def groups(self) -> list:
        return self.summary["group"].tolist()

    def _blocks(self):
        for g in self.groups:
            yield g, self.curve[self.curve["group"] == g]

    def at(self, times) -> pd.DataFrame:
        """CIF, CI and variance at ``times`` per group (``group, time, cif, lower, upper, var``).

        As cmprsk ``timepoints``: NaN after a group's last follow-up time (and before 0).
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for g, block in self._blocks():
            ct = block["time"].to_numpy()
            pos = np.searchsorted(ct, t, side="right") - 1
            bad = (pos < 0) | (t > ct[-1])
            pick = np.maximum(pos, 0)
            part = {"group": [g] * t.size, "time": t}
            for c in ("cif", "lower", "upper", "var"):
                part[c] = np.where(bad, np.nan, block[c].to_numpy()[pick])
            rows.append(pd.DataFrame(part))
        return pd.concat(rows, ignore_index=True)

    def risk_table(self, times) -> pd.DataFrame:
        """At risk (time >= t), cumulative events, competing events and censorings up to ``t``."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for g, block in self._blocks():
            ct = block["time"].to_numpy()
            first = np.searchsorted(ct, t, side="left")
            upto = np.searchsorted(ct, t, side="right")
            risk = block["at_risk"].to_numpy()
            out = {
                "group": [g] * t.size,
                "time": t,
                "at_risk": np.where(first < ct.size, risk[np.minimum(first, ct.size - 1)], 0),
            }
            for c in ("events", "competing", "censored"):
                cum = np.concatenate(([0], np.cumsum(block[c].to_numpy())))
                out[f"cumulative_{c}"] = cum[upto]
            rows.append(pd.DataFrame(out))
        table = pd.concat(rows, ignore_index=True)
        cols = ["at_risk", "cumulative_events", "cumulative_competing", "cumulative_censored"]
        table[cols] = table[cols].astype(int)
        return table


def cumulative_incidence(
    df: pd.DataFrame, endpoint: str, by: str | None = None, conf_level: float = 0.95
) -> CIFResult:
    """Cumulative incidence function of a competing-risk endpoint, overall or per group.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"ttp"`` (progression; death without progression competes) or ``"hcc_death"``
        (HCC-related death; other deaths compete).
    by : categorical column to compare (groups in schema order), or None.
    conf_level : level of the pointwise intervals.

    Returns
    -------
    CIFResult

    Raises
    ------
    CohortError if no patient has the endpoint or a required column is missing.

    Notes
    -----
    R ``cmprsk::cuminc(time, status, group)`` and ``timepoints``: the estimate and its
    variance are cmprsk's (Gray 1988). cmprsk gives no interval; the CI here is the log(-log)
    transformation F^exp(+-z SE / (F log F)) used by its users (Pintilie 2006; tidycmprsk).
    """
    z = _z(conf_level)
    st = competing_status(df, endpoint)
    time, status, codes, levels, notes = _groups(df, by, st)
    if time.size == 0:
        raise CohortError(
            _(
                "No patient has a usable time and event type for '{endpoint}', so no cumulative "
                "incidence can be estimated. Check the columns or relax the filters."
            ).format(endpoint=endpoint)
        )
    parts, summary = [], []
    for j, g in enumerate(levels):
        sel = codes == j
        if not sel.any():
            continue
        r = _cinc(time[sel], status[sel], EVENT)
        lower, upper = _cif_confint(r["cif"], r["var"], z)
        block = pd.DataFrame(
            {
                "group": g,
                "time": np.concatenate(([0.0], r["time"])),
                "cif": np.concatenate(([0.0], r["cif"])),
                "lower": np.concatenate(([0.0], lower)),
                "upper": np.concatenate(([0.0], upper)),
                "var": np.concatenate(([0.0], r["var"])),
                "at_risk": np.concatenate(([sel.sum()], r["at_risk"])).astype(int),
                "events": np.concatenate(([0], r["events"])).astype(int),
                "competing": np.concatenate(([0], r["competing"])).astype(int),
                "censored": np.concatenate(([0], r["censored"])).astype(int),
            }
        )
        if r["time"][0] == 0:  # events at time 0: the origin row is the jump itself
            block = block.iloc[1:].reset_index(drop=True)
            block.loc[0, "at_risk"] = int(sel.sum())
        parts.append(block)
        s = status[sel]
        summary.append(
            {
                "group": g,
                "n": int(sel.sum()),
                "events": int((s == EVENT).sum()),
                "competing_events": int((s == COMPETING).sum()),
                "censored": int((s == CENSORED).sum()),
            }
        )
    n_excluded = int(len(df) - time.size)
    return CIFResult(
        endpoint,
        by,
        conf_level,
        pd.DataFrame(summary),
        pd.concat(parts, ignore_index=True),
        n_excluded,
        notes,
        _method(endpoint, conf_level),
    )


# ---- Gray's test (cmprsk crstm / crst, one stratum, rho = 0) -------------------------------------
def _gray_score(time: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int):
    """Score ``s`` (first ng-1 groups) and its variance ``v`` as cmprsk's ``crst`` with rho = 0.

    ``m``: 0 censored, 1 cause of interest, 2 other cause.
    """
    ut, inv = np.unique(time, return_inverse=True)
    T = ut.size
    cell = inv * ng + g

    def count(mask) -> np.ndarray:
        return np.bincount(cell, weights=mask, minlength=T * ng).reshape(T, ng)

    d1, d2 = count(m == 1), count(m == 2)
    total = count(np.ones_like(time))
    rs_all = np.cumsum(total[::-1], axis=0)[::-1]
    ev = (d1 + d2).sum(axis=1) > 0
    rs, d1, d2 = rs_all[ev], d1[ev], d2[ev]
    has = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(has, (rs - d1 - d2) / rs, 1.0)
        skm = np.cumprod(factor, axis=0)  # right-continuous KM per group
        skmm = np.vstack([np.ones((1, ng)), skm[:-1]])  # left-continuous
        inc = np.where(has, skmm * d1 / rs, 0.0)
        f1 = np.cumsum(inc, axis=0)
        f1m = f1 - inc
        t1 = np.where(has, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(has, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        nd1 = d1.sum(axis=1)
        f_inc = nd1 / tr
        f = np.cumsum(f_inc)
        fm = f - f_inc
        eye = np.eye(ng)
        a = t1[:, :, None] * eye[None] - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
        c = np.cumsum(a * (nd1 / (tr * (1 - fm)))[:, None, None], axis=0)
        score = np.where(has, d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None]), 0.0)
        score = score.sum(axis=0)
        # cause-of-interest terms
        use1 = has & (nd1[:, None] > 0)
        t4 = np.where(skm > 0, 1 - (1 - f[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(use1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        b = a - t4[:, None, :] * c  # b[t, i, k]
        v3 = (t4 * t4 * t3).sum(axis=0)
        v2 = np.einsum("tik,tk->ik", b, t4 * t3)
        v = np.einsum("tik,tjk,tk->ij", b, b, t3)
        # competing-cause terms
        use2 = (skm > 0) & (d2 > 0)
        t4b = np.where(use2, (1 - f[:, None]) / skm, 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3b = np.where(use2, t5b * skmm**2 * d2 / rs**2, 0.0)
        v3 = v3 + (t4b * t4b * t3b).sum(axis=0)
        v2 = v2 - np.einsum("tik,tk->ik", c, t4b * t4b * t3b)
        v = v + np.einsum("tik,tjk,tk->ij", c, c, t4b * t4b * t3b)
    cf = c[-1]
    v = v + (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score[: ng - 1], v[: ng - 1, : ng - 1]


def _quadratic_form(score: np.ndarray, v: np.ndarray) -> float:
    """s' V^-1 s, or NaN when V is singular (cuminc reports -1 then)."""
    if score.size == 0:
        return float("nan")
    sv = np.linalg.svd(v, compute_uv=False)
    if sv.size == 0 or sv[-1] <= 1e-7 * sv[0] or not np.all(np.isfinite(v)):
        return float("nan")
    return float(score @ np.linalg.solve(v, score))


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's test of equal cumulative incidence across groups.

    ``table`` has one row per cause (``event`` of interest, then ``competing``) with
    ``statistic, dof, p_value``; the attributes repeat the row of the event of interest.
    """

    endpoint: str
    by: str
    statistic: float
    dof: int
    p_value: float
    table: pd.DataFrame
    n_excluded: int
    notes: tuple[str, ...]
    method: str = GRAY_METHOD


def gray_test(df: pd.DataFrame, endpoint: str, by: str) -> GrayTestResult:
    """Gray's test that the cumulative incidence of the event is equal across ``by``'s groups.

    Returns
    -------
    GrayTestResult with ``statistic``, ``dof``, ``p_value`` (event of interest) and ``table``
    (event of interest and competing event).

    Raises
    ------
    CohortError if fewer than two groups have patients.

    Notes
    -----
    R ``cmprsk::cuminc(time, status, group)$Tests`` (Gray 1988, rho = 0, unstratified).
    Unlike the log-rank test on cause-specific hazards, it compares the subdistributions,
    i.e. the cumulative incidence curves themselves.
    """
    if by is None:
        raise CohortError(_("Gray's test compares groups: choose a column to compare by."))
    st = competing_status(df, endpoint)
    time, status, codes, levels, notes = _groups(df, by, st)
    present = np.flatnonzero(np.bincount(codes, minlength=len(levels)) > 0)
    if present.size < 2:
        raise CohortError(
            _(
                "Gray's test needs at least two groups with patients, but '{column}' has {n} "
                "non-empty group(s) here. Relax the filters or compare by another column."
            ).format(column=by, n=present.size)
        )
    remap = np.full(len(levels), -1)
    remap[present] = np.arange(present.size)
    g = remap[codes]
    ng = present.size
    rows = []
    for cause, name in ((EVENT, "event"), (COMPETING, "competing")):
        if not (status == cause).any():
            rows.append({"cause": name, "statistic": np.nan, "dof": ng - 1, "p_value": np.nan})
            continue
        m = np.where(status == cause, 1, np.where(status > 0, 2, 0))
        score, v = _gray_score(time, m, g, ng)
        stat = _quadratic_form(score, v)
        p = float(special.chdtrc(ng - 1, stat)) if np.isfinite(stat) else np.nan
        rows.append({"cause": name, "statistic": stat, "dof": ng - 1, "p_value": p})
    table = pd.DataFrame(rows)
    first = table.iloc[0]
    return GrayTestResult(
        endpoint,
        by,
        float(first["statistic"]),
        int(first["dof"]),
        float(first["p_value"]),
        table,
        int(len(df) - time.size),
        notes,
        _(GRAY_METHOD),
    )
