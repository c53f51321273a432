"""Which Cox model the data can carry: the full preset, or a reduced model and the unadjusted HR.

A multivariable Cox model needs about 10 events per coefficient (Peduzzi et al. 1995); with
fewer, the estimates are unstable and biased away from 1. :func:`plan_cox` fits the model the
user asked for, and when it is too large for the data it also fits the unadjusted treatment
model and a reduced model that keeps covariates in a pre-specified order of prognostic weight
while at least ``min_epv`` events per coefficient remain, saying for each covariate left out
why. Fits go through the public ``fit_cox``; nothing here estimates anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import schema as S
from .cox import AFP_400, BCLC_AB_VS_C, LOG10_AFP, CoxResult, fit_cox, term_label
from .errors import CohortError
from .formatting import hr_estimable
from .i18n import _

__all__ = ["PROGNOSTIC_PRIORITY", "MIN_EVENTS_PER_COEFFICIENT", "LeftOut", "CoxPlan", "plan_cox"]

MIN_EVENTS_PER_COEFFICIENT = 10

# Order in which a reduced model keeps covariates: tumour stage, liver function, AFP, tumour
# burden, then demographics (established prognostic weight in HCC: BCLC, Child-Pugh/ALBI,
# AFP). Never chosen by p-value: selecting on the outcome biases the hazard ratios.
PROGNOSTIC_PRIORITY: tuple[str, ...] = (
    BCLC_AB_VS_C,
    S.BCLC_STAGE,
    S.CHILD_PUGH_CLASS,
    S.ALBI_SCORE,
    S.ALBI_GRADE,
    S.CHILD_PUGH_SCORE,
    LOG10_AFP,
    AFP_400,
    S.AFP,
    S.MAX_DIAMETER,
    S.TUMOR_NUMBER,
    S.EXTRAHEPATIC_SUPPLY,
    S.AV_FISTULA,
    S.AGE,
    S.SEX,
)


@dataclass(frozen=True)
class LeftOut:
    """A covariate the reduced model does not include, and why (a sentence for the page)."""

    covariate: str
    reason: str


@dataclass(frozen=True)
class CoxPlan:
    """The requested model and, when it is too large for the data, what to show first.

    ``full``: the requested model (``None`` with ``full_error`` when it cannot be fitted).
    ``unadjusted``: treatment alone (``None`` with ``unadjusted_error``). ``reduced``: the
    treatment plus ``kept`` (``None`` when the full model is adequate). ``left_out``: each
    requested covariate the reduced model leaves out, with the reason.
    """

    endpoint: str
    treatment: str
    requested: tuple[str, ...]
    min_epv: float
    full: CoxResult | None
    full_error: str
    unadjusted: CoxResult | None
    unadjusted_error: str
    reduced: CoxResult | None
    kept: tuple[str, ...]
    left_out: tuple[LeftOut, ...]

    @property
    def full_epv(self) -> float:
        """Events per coefficient of the requested model (NaN when it could not be fitted)."""
        if self.full is None or not len(self.full.table):
            return float("nan")
        return self.full.events / len(self.full.table)

    @property
    def full_is_adequate(self) -> bool:
        """The requested model has enough events per coefficient and every HR is estimable."""
        return (
            self.full is not None
            and self.full_epv >= self.min_epv
            and not non_estimable_terms(self.full.table)
        )

    @property
    def summary(self) -> str:
        """One sentence on why the reduced model leads, for the page and the report."""
        if self.full_is_adequate:
            return ""
        if self.full is None:
            why = _("The requested model cannot be fitted ({error})").format(error=self.full_error)
        else:
            k = len(self.full.table)
            why = _(
                "The requested model has {events} events for {k} coefficients ({epv} per "
                "coefficient; at least {min_epv} are needed)"
            ).format(
                events=self.full.events, k=k, epv=f"{self.full_epv:.1f}",
                min_epv=f"{self.min_epv:g}",
            )
            bad = non_estimable_terms(self.full.table)
            if bad:
                why += _(" and cannot estimate {terms}").format(
                    terms=", ".join(term_label(t) for t in bad)
                )
        if self.unadjusted is None:
            return _("{why}. No treatment hazard ratio: {error}.").format(
                why=why, error=self.unadjusted_error
            )
        return _(
            "{why}. Shown first: the unadjusted treatment hazard ratio and a reduced model."
        ).format(why=why)


def non_estimable_terms(table: pd.DataFrame) -> list[str]:
    """Terms of a model table whose HR is not estimable (see ``formatting.hr_estimable``)."""
    return [
        t
        for t, h, lo, hi in zip(
            table.index, table["hr"], table["hr_lower"], table["hr_upper"], strict=True
        )
        if not hr_estimable(h, lo, hi)
    ]


def _try_fit(df, endpoint, covariates, conf_level):
    try:
        return fit_cox(df, endpoint, list(covariates), conf_level=conf_level), ""
    except CohortError as err:
        return None, str(err)


def _in_priority(covariates: list[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(PROGNOSTIC_PRIORITY)}
    return sorted(covariates, key=lambda c: rank.get(c, len(rank)))  # stable: given order after


def plan_cox(
    df: pd.DataFrame,
    endpoint: str,
    covariates,
    treatment: str = S.TREATMENT_GROUP,
    min_epv: float = MIN_EVENTS_PER_COEFFICIENT,
    conf_level: float = 0.95,
) -> CoxPlan:
    """Fit the requested Cox model and, when the data cannot carry it, a model they can.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    covariates : the requested model (as ``fit_cox``), e.g. ``PAPER_COX_COVARIATES``.
    treatment : the treatment column; its unadjusted HR leads when the model is too large.
    min_epv : events per coefficient the reduced model keeps (10, Peduzzi et al. 1995).

    Returns
    -------
    CoxPlan

    Notes
    -----
    The reduced model starts from the treatment and adds the requested covariates in the
    order of ``PROGNOSTIC_PRIORITY`` (others after, as given), keeping each one only while
    the model still has ``min_epv`` events per coefficient among its complete cases, every
    hazard ratio stays estimable, and the covariate adds a coefficient (it varies among these
    patients). Each fit is R ``coxph(Surv(time, event) ~ ...)`` with Efron ties.
    """
    requested = tuple(dict.fromkeys([covariates] if isinstance(covariates, str) else covariates))
    full, full_error = _try_fit(df, endpoint, requested, conf_level) if requested else (
        None, "no covariate was chosen")
    unadjusted, unadjusted_error = _try_fit(df, endpoint, [treatment], conf_level)
    if treatment in df and df[treatment].nunique() < 2:
        unadjusted, unadjusted_error = None, "only one treatment group among these patients"
    plan = dict(endpoint=endpoint, treatment=treatment, requested=requested, min_epv=min_epv,
                full=full, full_error=full_error, unadjusted=unadjusted,
                unadjusted_error=unadjusted_error)
    adequate = CoxPlan(**plan, reduced=None, kept=requested, left_out=())
    if adequate.full_is_adequate or unadjusted is None:
        # Without two treatment groups there is no treatment effect to adjust.
        return adequate
    kept: list[str] = [treatment]
    current = unadjusted
    left_out: list[LeftOut] = []
    for c in _in_priority([c for c in requested if c != treatment]):
        fit, error = _try_fit(df, endpoint, [*kept, c], conf_level)
        reason = ""
        if fit is None:
            reason = error
        elif len(fit.table) <= len(current.table):
            reason = _(
                "it adds no coefficient here: it does not vary among these patients, or it "
                "repeats a covariate already in the model"
            )
        elif fit.events < min_epv * len(fit.table):
            k = len(fit.table)
            reason = _(
                "with it the model would have {events} events for {k} coefficients ({epv} per "
                "coefficient, fewer than {min_epv})"
            ).format(events=fit.events, k=k, epv=f"{fit.events / k:.1f}", min_epv=f"{min_epv:g}")
        elif non_estimable_terms(fit.table):
            bad = ", ".join(term_label(t) for t in non_estimable_terms(fit.table))
            reason = _(
                "with it the hazard ratio of {terms} cannot be estimated (a group with no "
                "events or with all the events)"
            ).format(terms=bad)
        if reason:
            left_out.append(LeftOut(c, reason))
            continue
        kept.append(c)
        current = fit
    return CoxPlan(**plan, reduced=current, kept=tuple(kept), left_out=tuple(left_out))
