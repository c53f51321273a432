"""hcc_core.adjusted and the outcomes on a propensity-adjusted cohort: weighted Kaplan-Meier and
weighted / matched Cox models through fit_km and fit_cox, against R survfit and coxph on the
same weights (fixtures from tests/reference/make_reference_propensity.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_propensity import COHORTS, WEIGHTINGS, P, _arr, _data, _match_args

from hcc_core import fit_cox, fit_km
from hcc_core.adjusted import (
    adjusted_comparison,
    format_balance,
    format_hazard_ratios,
    format_ps_model,
    format_weights,
)
from hcc_core.propensity import PAPER_PS_COVARIATES, e_value, fit_propensity


def _outcome_cases():
    for name in COHORTS:
        for key in sorted(WEIGHTINGS):
            yield name, key, None
        for i in range(3):
            yield name, "match", i


OUTCOME_CASES = list(_outcome_cases())


def _outcome(name, key, i):
    case = P["cohorts"][name]
    if key == "match":
        ref = case["matching"][i]
        return ref, fit_propensity(_data(name), case["covariates"], **_match_args(ref))
    return case["weighting"][key], fit_propensity(
        _data(name), case["covariates"], **WEIGHTINGS[key]
    )


@pytest.mark.parametrize(("name", "key", "i"), OUTCOME_CASES)
def test_weighted_cox_matches_r(name, key, i):
    """R: coxph(Surv(os_months, os_event) ~ treatment_group, weights = w, robust = TRUE)
    (matched: cluster = subclass); coef, sqrt(diag(naive.var)), sqrt(diag(var)), CI, p."""
    ref, res = _outcome(name, key, i)
    fit = fit_cox(
        res.data,
        "os",
        ["treatment_group"],
        weights="weight",
        robust=True,
        cluster="subclass" if key == "match" else None,
    )
    row = fit.table.loc["treatment_group[local+systemic]"]
    c = ref["cox"]
    assert row["coef"] == pytest.approx(c["coef"], rel=1e-6)
    assert row["se"] == pytest.approx(c["se"], rel=1e-6)
    assert row["robust_se"] == pytest.approx(c["robust_se"], rel=1e-6)
    assert row["hr_lower"] == pytest.approx(c["hr_lower"], rel=1e-6)
    assert row["hr_upper"] == pytest.approx(c["hr_upper"], rel=1e-6)
    assert row["p_value"] == pytest.approx(c["p_value"], rel=1e-6)
    assert fit.n == c["n"] and fit.events == c["events"]


@pytest.mark.parametrize(("name", "key", "i"), OUTCOME_CASES)
def test_weighted_km_matches_r(name, key, i):
    """R: survfit(Surv(os_months, os_event) ~ treatment_group, weights = w) (conf.type 'log');
    estimates, weighted numbers at risk and medians."""
    ref, res = _outcome(name, key, i)
    km = fit_km(res.data, "os", by="treatment_group", weights="weight", conf_type="log")
    k = ref["km"]
    curve = km.curve[km.curve["time"] > 0] if 0 not in k["time"] else km.curve
    r = pd.DataFrame(
        {
            "group": k["group"],
            "time": k["time"],
            "survival": k["survival"],
            "at_risk": k["at_risk"],
            "lower": _arr(k["lower"]),
            "upper": _arr(k["upper"]),
        }
    )
    # JSON keeps 15 significant digits: times such as 9.170000000000002 come back as 9.17
    r["time"], curve = r["time"].round(9), curve.assign(time=curve["time"].round(9))
    merged = r.merge(curve, on=["group", "time"], suffixes=("_r", ""))
    assert len(merged) == len(r)
    for col in ("survival", "at_risk", "lower", "upper"):
        assert np.allclose(merged[col], merged[f"{col}_r"], rtol=1e-6, equal_nan=True), col
    med = km.summary.set_index("group").loc[k["median_group"], "median"]
    assert np.allclose(med, _arr(k["median"]), rtol=1e-6, equal_nan=True)


def test_adjusted_comparison_demo():
    """The demo cohort, stabilised IPTW: the PS-adjusted row is R's weighted coxph, the
    unadjusted and multivariable rows are fit_cox on the same patients, and the E-value follows
    from the PS-adjusted HR (common outcome: > 15% of patients die)."""
    ref = P["cohorts"]["demo"]["weighting"]["ate_stabilized"]["cox"]
    res = adjusted_comparison(_data("demo"), "os")
    hr = res.hazard_ratios
    assert list(hr.index) == ["unadjusted", "multivariable", "propensity"]
    assert hr.loc["propensity", "hr"] == pytest.approx(np.exp(ref["coef"]), rel=1e-6)
    assert hr.loc["propensity", "hr_upper"] == pytest.approx(ref["hr_upper"], rel=1e-6)
    multi = fit_cox(_data("demo"), "os", ["treatment_group", *PAPER_PS_COVARIATES])
    assert hr.loc["multivariable", "hr"] == pytest.approx(
        multi.table.loc["treatment_group[local+systemic]", "hr"], rel=1e-12
    )
    assert not res.rare_outcome
    point, ci = e_value(np.exp(ref["coef"]), ref["hr_lower"], ref["hr_upper"])
    assert res.e_value == pytest.approx(point, rel=1e-6)
    assert res.e_value_ci == pytest.approx(ci, rel=1e-6)
    assert "(average treatment effect, ATE)" in res.interpretation
    assert "cannot remove confounding" in res.interpretation
    assert f"E-value {res.e_value:.2f}" in res.interpretation
    assert ci == 1 and "the confidence interval already includes 1" in res.interpretation


def test_display_tables_have_worded_headers_and_no_nan():
    """The page's tables: headers in words, an en dash where a value does not apply (variance ratio
    of a yes/no term), numbers still numbers."""
    res = adjusted_comparison(_data("demo"), "os")
    ps = res.propensity
    bal = format_balance(ps.balance)
    assert list(bal.columns) == [
        "Term",
        "SMD before",
        "SMD after",
        "Variance ratio before",
        "Variance ratio after",
    ]
    sex = bal.set_index("Term").loc["Sex: Female vs Male"]
    assert sex["Variance ratio after"] == "–"
    assert sex["SMD after"] == round(ps.balance.loc["sex[F]", "smd_after"], 3)
    hr = format_hazard_ratios(res.hazard_ratios)
    assert hr["Analysis"].tolist()[:2] == ["Unadjusted", "Multivariable Cox"]
    assert hr.loc[2, "HR"] == round(res.hazard_ratios.loc["propensity", "hr"], 3)
    w = format_weights(ps.ess)
    assert w["Effective sample size"].tolist() == ps.ess["ess"].round(1).tolist()
    m = format_ps_model(ps.model)
    assert m["Term"].iloc[0] == "(Intercept)" and m["Term"].iloc[1] == "Age (years)"
    for frame in (bal, hr, w, m):
        assert not frame.isna().to_numpy().any()
