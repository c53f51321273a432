"""Adjusted comparison: treatment hazard ratio unadjusted, multivariable and propensity-adjusted
on the same patients, the weighted Kaplan-Meier curves and the E-value.

Nothing is fitted here that the Cox and Kaplan-Meier modules do not fit: the weighted and
matched analyses go through ``fit_cox(..., weights=, robust=, cluster=)`` and
``fit_km(..., weights=)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .cox import fit_cox
from .cox.design import term_label
from .i18n import _
from .propensity import PAPER_PS_COVARIATES, PropensityResult, e_value, fit_propensity
from .survival import KMResult, fit_km
from .tables import level_label

__all__ = [
    "AdjustedComparison",
    "adjusted_comparison",
    "RARE_OUTCOME",
    "format_hazard_ratios",
    "format_balance",
    "format_weights",
    "format_ps_model",
]

RARE_OUTCOME = 0.15  # below this share of patients with the event, the HR is read as a RR
_HR_COLUMNS = ["label", "n", "events", "hr", "hr_lower", "hr_upper", "p_value", "method"]


@dataclass(frozen=True)
class AdjustedComparison:
    """Treatment effect three ways, on the patients with every covariate recorded.

    Attributes
    ----------
    hazard_ratios : one row per analysis (``unadjusted``, ``multivariable``, ``propensity``)
        with ``label, n, events, hr, hr_lower, hr_upper, p_value, method``.
    km : Kaplan-Meier curves by treatment on the adjusted cohort (weighted; numbers at risk
        are sums of weights).
    e_value, e_value_ci : for the propensity-adjusted HR and its CI limit nearest 1.
    """

    endpoint: str
    propensity: PropensityResult
    hazard_ratios: pd.DataFrame
    km: KMResult
    e_value: float
    e_value_ci: float
    rare_outcome: bool
    notes: tuple[str, ...]

    @property
    def interpretation(self) -> str:
        """What the adjusted estimate means and what it cannot fix, in plain words."""
        ps = self.propensity
        t, c = level_label(ps.treatment, ps.treated), level_label(ps.treatment, ps.control)
        row = self.hazard_ratios.loc["propensity"]
        who = {
            "ATE": _(
                "if every patient in this cohort had received one treatment rather than the "
                "other (average treatment effect, ATE)"
            ),
            "ATT": _(
                "in patients like those who actually received {treated} (average treatment "
                "effect in the treated, ATT)"
            ).format(treated=t),
            "ATO": _(
                "in the patients for whom either treatment was a realistic choice (overlap "
                "population, ATO)"
            ),
        }[ps.estimand]
        if not np.isfinite(row["hr"]):
            return _("The propensity-adjusted hazard ratio could not be estimated.")
        text = _(
            "The propensity-adjusted hazard ratio of {hr} compares {treated} with {control} "
            "{who}. It balances only the measured covariates in the model; it cannot remove "
            "confounding by anything not measured (for example performance status, or why the "
            "team chose the treatment)."
        ).format(hr=f"{row['hr']:.2f}", treated=t, control=c, who=who)
        if np.isfinite(self.e_value):
            scale = (
                _("the hazard ratio") if self.rare_outcome else _("a risk ratio derived from it")
            )
            ci = (
                _("the confidence interval already includes 1")
                if self.e_value_ci <= 1
                else _(
                    "{e_ci} would be enough to move the confidence interval to include 1"
                ).format(e_ci=f"{self.e_value_ci:.2f}")
            )
            text += " " + _(
                "E-value {e}: an unmeasured confounder associated with both the treatment and "
                "the outcome by a risk ratio of {e} each, beyond the measured covariates, could "
                "explain the estimate away; {ci} (computed on {scale})."
            ).format(e=f"{self.e_value:.2f}", ci=ci, scale=scale)
        return text


def _row(fit, term: str, label: str) -> dict:
    if term in fit.table.index:
        t = fit.table.loc[term]
        hr, lo, hi, p = (float(t[k]) for k in ("hr", "hr_lower", "hr_upper", "p_value"))
    else:
        hr = lo = hi = p = np.nan
    return {
        "label": label,
        "n": fit.n,
        "events": fit.events,
        "hr": hr,
        "hr_lower": lo,
        "hr_upper": hi,
        "p_value": p,
        "method": fit.method,
    }


def adjusted_comparison(
    df: pd.DataFrame,
    endpoint: str,
    covariates=PAPER_PS_COVARIATES,
    *,
    treatment: str = schema.TREATMENT_GROUP,
    method: str = "iptw",
    estimand: str | None = None,
    stabilize: bool = True,
    caliper: float | None = 0.2,
    ratio: int = 1,
    trim: float | None = None,
) -> AdjustedComparison:
    """Treatment hazard ratio unadjusted, multivariable and propensity-adjusted.

    Parameters
    ----------
    df : canonical cohort frame.
    endpoint : ``"os"`` or ``"pfs"``.
    covariates, treatment, method, estimand, stabilize, caliper, ratio, trim :
        as :func:`hcc_core.propensity.fit_propensity`.

    Returns
    -------
    AdjustedComparison

    Raises
    ------
    CohortError when the propensity model or a Cox model cannot be fitted.

    Notes
    -----
    All three models use the patients with every covariate recorded. R: ``coxph(Surv ~ trt)``;
    ``coxph(Surv ~ trt + covariates)``; ``coxph(Surv ~ trt, weights = w, robust = TRUE)``
    (matched: ``cluster = subclass``); ``survfit(Surv ~ trt, weights = w)``.
    """
    ps = fit_propensity(
        df,
        covariates,
        treatment=treatment,
        method=method,
        estimand=estimand,
        stabilize=stabilize,
        caliper=caliper,
        ratio=ratio,
        trim=trim,
    )
    base = df.loc[ps.scores.index]
    term = f"{treatment}[{ps.treated}]"
    unadj = fit_cox(base, endpoint, [treatment])
    multi = fit_cox(base, endpoint, [treatment, *ps.covariates])
    cluster = "subclass" if ps.method_key == "match" else None
    adj = fit_cox(ps.data, endpoint, [treatment], weights="weight", robust=True, cluster=cluster)
    label = {
        "iptw": _("Propensity score weighted ({estimand})").format(estimand=ps.estimand),
        "overlap": _("Propensity score, overlap weights (ATO)"),
        "match": _("Propensity score matched (ATT)"),
    }[ps.method_key]
    table = pd.DataFrame(
        [
            _row(unadj, term, _("Unadjusted")),
            _row(multi, term, _("Multivariable Cox")),
            _row(adj, term, label),
        ],
        index=pd.Index(["unadjusted", "multivariable", "propensity"], name="analysis"),
    )[_HR_COLUMNS]
    km = fit_km(ps.data, endpoint, by=treatment, weights="weight")
    rare = bool(adj.n and adj.events / adj.n < RARE_OUTCOME)
    r = table.loc["propensity"]
    ev, ev_ci = e_value(r["hr"], r["hr_lower"], r["hr_upper"], rare=rare)
    notes = [
        (
            _(
                "The unadjusted and multivariable models use the patients with every covariate "
                "recorded ({n} of {total}); the propensity-adjusted model uses the matched "
                "cohort ({analysed} patients)."
            )
            if cluster
            else _(
                "The unadjusted and multivariable models use the patients with every covariate "
                "recorded ({n} of {total}); the propensity-adjusted model uses the weighted "
                "cohort ({analysed} patients)."
            )
        ).format(n=len(base), total=ps.n_input, analysed=len(ps.data)),
        *ps.notes,
    ]
    return AdjustedComparison(endpoint, ps, table, km, ev, ev_ci, rare, tuple(notes))


# ---- display tables (the one formatting layer: worded headers, numbers rounded) -----------------
NOT_APPLICABLE = "–"  # an en dash: a plain "-" cell renders as a list bullet in st.table


def _dash(values) -> list:
    return [NOT_APPLICABLE if not np.isfinite(x) else round(float(x), 3) for x in values]


def format_hazard_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """``AdjustedComparison.hazard_ratios`` with headers in words."""
    return pd.DataFrame(
        {
            _("Analysis"): table["label"].to_numpy(),
            _("Patients"): table["n"].to_numpy(),
            _("Events"): table["events"].to_numpy(),
            "HR": _dash(table["hr"]),
            _("95% CI lower"): _dash(table["hr_lower"]),
            _("95% CI upper"): _dash(table["hr_upper"]),
            "p": [
                NOT_APPLICABLE if not np.isfinite(p) else round(float(p), 4)
                for p in table["p_value"]
            ],
            _("Method"): table["method"].to_numpy(),
        }
    )


def format_balance(balance: pd.DataFrame) -> pd.DataFrame:
    """``PropensityResult.balance`` with headers in words; an en dash where a variance ratio
    does not apply (yes/no terms)."""
    return pd.DataFrame(
        {
            _("Term"): balance["label"].to_numpy(),
            _("SMD before"): balance["smd_before"].round(3).to_numpy(),
            _("SMD after"): balance["smd_after"].round(3).to_numpy(),
            _("Variance ratio before"): _dash(balance["vr_before"]),
            _("Variance ratio after"): _dash(balance["vr_after"]),
        }
    )


def format_weights(ess: pd.DataFrame) -> pd.DataFrame:
    """``PropensityResult.ess`` with headers in words."""
    return pd.DataFrame(
        {
            _("Group"): ess.index.to_numpy(),
            _("Patients in the PS model"): ess["n_before"].to_numpy(),
            _("Patients analysed"): ess["n_after"].to_numpy(),
            _("Sum of weights"): ess["sum_weights"].round(2).to_numpy(),
            _("Smallest weight"): _dash(ess["min_weight"]),
            _("Largest weight"): _dash(ess["max_weight"]),
            _("Effective sample size"): ess["ess"].round(1).to_numpy(),
        }
    )


def format_ps_model(model: pd.DataFrame) -> pd.DataFrame:
    """``PropensityResult.model`` with headers in words."""
    return pd.DataFrame(
        {
            _("Term"): [t if t == "(Intercept)" else term_label(t) for t in model.index],
            _("Coefficient (log odds)"): model["coef"].round(4).to_numpy(),
            _("SE"): model["se"].round(4).to_numpy(),
            _("Odds ratio"): _dash(model["odds_ratio"]),
        }
    )
