"""Landmark analysis: the patients still at risk at a landmark time, with time measured from it.

A landmark analysis answers "among patients alive (and event-free) at ``at`` months, how do
the groups compare from then on?". It removes the guarantee-time bias of comparing groups
defined by something that happens during follow-up, at the price of discarding early events.
The result's ``.data`` is an ordinary canonical frame, so Kaplan-Meier, the log-rank test and
Cox models run on it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .competing import COMPETING_ENDPOINTS
from .errors import CohortError
from .i18n import N_, _
from .survival import KMResult, LogRankResult, fit_km, logrank_test

__all__ = [
    "LandmarkResult",
    "LandmarkSurvival",
    "landmark",
    "landmark_survival",
    "endpoint_time_column",
]


def endpoint_time_column(endpoint: str) -> str:
    """Time column of a survival (``os``, ``pfs``) or competing-risk (``ttp``, ``hcc_death``) endpoint."""
    if endpoint in COMPETING_ENDPOINTS:
        return COMPETING_ENDPOINTS[endpoint][0]
    if endpoint in schema.ENDPOINTS:
        return schema.ENDPOINTS[endpoint][0]
    raise ValueError(
        f"Unknown endpoint '{endpoint}'. Use 'os', 'pfs', 'ttp' (time to progression) or "
        "'hcc_death' (HCC-related death)."
    )


@dataclass(frozen=True, eq=False)
class LandmarkResult:
    """Patients at risk after the landmark.

    Attributes
    ----------
    data : DataFrame
        The rows with ``time > at`` (R's convention), every column kept, the endpoint's time
        column replaced by the time since the landmark.
    at : float
        Landmark in months from the start of systemic therapy.
    n_at_risk : int
        Rows in ``data``.
    n_excluded : int
        Rows left out: event or censoring at or before the landmark, or no time.
    notes : tuple of str
        Why rows were left out, as sentences.
    """

    endpoint: str
    at: float
    data: pd.DataFrame
    n_at_risk: int
    n_excluded: int
    notes: tuple[str, ...]
    method: str


def landmark(df: pd.DataFrame, endpoint: str, at: float) -> LandmarkResult:
    """Restrict a cohort to the patients still at risk at ``at`` months, clock reset to 0.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"``, ``"pfs"``, ``"ttp"`` or ``"hcc_death"``.
    at : landmark in months (>= 0).

    Returns
    -------
    LandmarkResult

    Raises
    ------
    CohortError if nobody is at risk after the landmark.

    Notes
    -----
    R: ``lm <- subset(d, time > at); lm$time <- lm$time - at``; then ``survfit``, ``survdiff``
    and ``coxph`` on ``lm`` as usual. Patients with an event or censored exactly at the
    landmark are excluded (``time > at``).
    """
    if not np.isfinite(at) or at < 0:
        raise ValueError(f"The landmark must be a number of months >= 0 (got {at}).")
    time_col = endpoint_time_column(endpoint)
    schema.require_columns(df, [time_col], N_("landmark analysis"))
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(time)
    keep = ~missing & (time > at)
    early = ~missing & ~keep
    if not keep.any():
        raise CohortError(
            _(
                "No patient is still at risk after {at} months for '{endpoint}' (every "
                "'{column}' is {at} or less), so a landmark analysis at {at} months is "
                "impossible. Choose an earlier landmark."
            ).format(at=f"{at:g}", endpoint=endpoint, column=time_col)
        )
    data = df.loc[keep].copy()
    data[time_col] = time[keep] - at
    data = data.reset_index(drop=True)
    notes = []
    if early.any():
        notes.append(
            _(
                "{n} patient(s) had the event or were censored at or before the landmark of "
                "{at} months and are excluded; times are counted from the landmark."
            ).format(n=int(early.sum()), at=f"{at:g}")
        )
    if missing.any():
        notes.append(
            _("{n} patient(s) without '{column}' were excluded.").format(
                n=int(missing.sum()), column=time_col
            )
        )
    method = _(
        "Landmark analysis at {at} months: patients with {column} > {at} (R's time > at), time "
        "measured from the landmark"
    ).format(at=f"{at:g}", column=schema.field_label(time_col))
    return LandmarkResult(
        endpoint,
        float(at),
        data,
        int(keep.sum()),
        int(early.sum() + missing.sum()),
        tuple(notes),
        method,
    )


@dataclass(frozen=True, eq=False)
class LandmarkSurvival:
    """Kaplan-Meier (and the log-rank test when comparing groups) from a landmark on."""

    landmark: LandmarkResult
    km: KMResult
    logrank: LogRankResult | None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.landmark.notes + self.km.notes

    @property
    def method(self) -> str:
        parts = [self.landmark.method, self.km.method]
        if self.logrank is not None:
            parts.append(self.logrank.method)
        return "; ".join(parts)


def landmark_survival(
    df: pd.DataFrame,
    endpoint: str,
    at: float,
    by: str | None = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> LandmarkSurvival:
    """Kaplan-Meier curves and log-rank test of the patients at risk after ``at`` months.

    Notes
    -----
    R: ``lm <- subset(d, time > at); lm$time <- lm$time - at``; ``survfit(Surv(time, event) ~
    by, data = lm)`` and ``survdiff(...)``. For ``os`` and ``pfs`` (Kaplan-Meier endpoints).
    """
    lm = landmark(df, endpoint, at)
    km = fit_km(lm.data, endpoint, by, conf_type=conf_type, conf_level=conf_level)
    lr = None
    if by is not None and km.summary["n"].gt(0).sum() >= 2 and km.summary["events"].sum() > 0:
        lr = logrank_test(lm.data, endpoint, by)
    return LandmarkSurvival(lm, km, lr)
