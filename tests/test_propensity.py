"""hcc_core.propensity against R: glm, MatchIt and cobalt's balance formulas by hand
(fixtures from tests/reference/make_reference_propensity.R, three cohorts: the demo cohort as
the worked example, survival::veteran with a 4-level factor and missing values set on fixed
rows, survival::lung with its own missing values and more controls than treated)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference.rref import REF

from hcc_core import CohortError
from hcc_core.propensity import PAPER_PS_COVARIATES, e_value, fit_propensity

P = json.loads((REF / "r_reference_propensity.json").read_text())
COHORTS = sorted(P["cohorts"])
WEIGHTINGS = {  # fixture key -> fit_propensity arguments
    "ate": dict(method="iptw", estimand="ATE", stabilize=False),
    "ate_stabilized": dict(method="iptw", estimand="ATE", stabilize=True),
    "att": dict(method="iptw", estimand="ATT"),
    "overlap": dict(method="overlap"),
}
TOL = 1e-8


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"data_ps_{name}.csv", dtype={"bclc_stage": str, "ph_ecog": str})


def _fit(name: str, **kw):
    case = P["cohorts"][name]
    return case, fit_propensity(_data(name), case["covariates"], **kw)


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


@pytest.mark.parametrize("name", COHORTS)
def test_ps_model_matches_r_glm(name):
    """R: g <- glm(z ~ covariates, family = binomial); summary(g)$coefficients, fitted(g),
    predict(g, type = 'link'), g$iter."""
    case, res = _fit(name)
    g = case["glm"]
    assert list(res.model.index) == g["term"]
    assert np.allclose(res.model["coef"], g["coef"], rtol=TOL, atol=1e-10)
    assert np.allclose(res.model["se"], g["se"], rtol=TOL)
    assert res.iterations == g["iter"] and res.converged
    d = res.data.set_index("patient_id").loc[case["patient_id"]]
    assert np.allclose(d["ps"], g["ps"], rtol=TOL, atol=1e-14)
    assert np.allclose(d["ps_logit"], g["lp"], rtol=TOL, atol=1e-10)


@pytest.mark.parametrize("name", COHORTS)
def test_complete_cases_counted(name):
    """Rows with a missing covariate are excluded and counted (R: complete.cases)."""
    case, res = _fit(name)
    assert res.n_excluded == case["n_excluded"]
    assert len(res.data) == case["n"] == res.n_input - res.n_excluded
    if case["n_excluded"]:
        assert f"{case['n_excluded']} patient(s) with a missing covariate" in res.notes[0]


@pytest.mark.parametrize("name", COHORTS)
def test_c_statistic_matches_r(name):
    """R: (sum(rank(ps)[z == 1]) - n1 (n1 + 1) / 2) / (n1 n0)."""
    case, res = _fit(name)
    assert res.c_statistic == pytest.approx(case["c_statistic"], rel=1e-12)


@pytest.mark.parametrize("name", COHORTS)
@pytest.mark.parametrize("key", sorted(WEIGHTINGS))
def test_weights_match_r(name, key):
    """R: 1/ps, 1/(1-ps) (stabilised: times mean(z), 1 - mean(z)); ATT 1, ps/(1-ps); overlap
    1-ps, ps; ESS = sum(w)^2 / sum(w^2) per group."""
    case, res = _fit(name, **WEIGHTINGS[key])
    ref = case["weighting"][key]
    d = res.data.set_index("patient_id").loc[case["patient_id"]]
    assert np.allclose(d["weight"], ref["weight"], rtol=TOL)
    assert res.ess.loc[res.treated, "ess"] == pytest.approx(ref["ess_treated"], rel=TOL)
    assert res.ess.loc[res.control, "ess"] == pytest.approx(ref["ess_control"], rel=TOL)


def _check_balance(bal: pd.DataFrame, ref: dict) -> None:
    assert list(bal.index) == ref["term"]
    assert bal["binary"].tolist() == ref["binary"]
    for col in ("smd_before", "smd_after", "vr_before", "vr_after"):
        assert np.allclose(bal[col], _arr(ref[col]), rtol=1e-9, atol=1e-12, equal_nan=True), col


@pytest.mark.parametrize("name", COHORTS)
@pytest.mark.parametrize("key", sorted(WEIGHTINGS))
def test_balance_weighted_matches_cobalt_formulas(name, key):
    """R (cobalt bal.tab(binary = 'std', s.d.denom = 'pooled') by hand): SMD = weighted mean
    difference / sqrt((s2_t + s2_c) / 2) from the unadjusted sample, p(1 - p) for binary terms;
    variance ratio of cobalt's weighted variances."""
    case, res = _fit(name, **WEIGHTINGS[key])
    _check_balance(res.balance, case["weighting"][key]["balance"])


def test_balance_terms_every_level_of_a_3_level_factor():
    """cobalt splits a factor of 3+ levels into every level; 2 levels give one term."""
    _, res = _fit("veteran")
    levels = [t for t in res.balance.index if t.startswith("celltype[")]
    assert levels == [f"celltype[{lv}]" for lv in ("adeno", "large", "smallcell", "squamous")]
    assert "prior" in res.balance.index and res.balance.loc["prior", "binary"]  # 0/1 numeric
    _, demo = _fit("demo")
    assert "sex[F]" in demo.balance.index and "sex[M]" not in demo.balance.index


def _match_args(m: dict) -> dict:
    return dict(method="match", ratio=m["ratio"], caliper=m["caliper"])


@pytest.mark.parametrize("name", COHORTS)
@pytest.mark.parametrize("i", range(3))
def test_matched_set_identical_to_matchit(name, i):
    """R: matchit(z ~ covariates, method = 'nearest', distance = 'glm', link = 'linear.logit',
    caliper = 0.2 | NULL, ratio = 1 | 2, replace = FALSE, m.order = 'largest'): the same rows,
    weights, pairs (subclasses up to their numbering) and caliper in logit units."""
    case = P["cohorts"][name]
    m = case["matching"][i]
    res = fit_propensity(_data(name), case["covariates"], **_match_args(m))
    d = res.data.set_index("patient_id")
    assert sorted(d.index) == sorted(m["matched"])
    d = d.loc[m["matched"]]
    assert np.allclose(d["weight"], m["weight"], rtol=1e-12)
    pairs = set(zip(d["subclass"], m["subclass"], strict=True))
    assert len(pairs) == len(set(m["subclass"])) == d["subclass"].nunique()
    if m["caliper"] is None:
        assert np.isnan(res.caliper_logit)
    else:
        assert res.caliper_logit == pytest.approx(m["caliper_logit"], rel=1e-12)
    n_treated = sum(
        np.array(
            _data(name).loc[lambda x: x.patient_id.isin(case["patient_id"])]["treatment_group"]
        )
        == "local+systemic"
    )
    assert res.n_unmatched == n_treated - (d["treatment_group"] == "local+systemic").sum()
    assert res.ess.loc[res.treated, "ess"] == pytest.approx(m["ess_treated"], rel=1e-12)
    assert res.ess.loc[res.control, "ess"] == pytest.approx(m["ess_control"], rel=1e-12)
    _check_balance(res.balance, m["balance"])


def test_caliper_binds_on_lung():
    """With more controls than treated, the caliper drops treated patients R drops too (118
    matched of 130 without a caliper) and ratio = 2 gives non-unit control weights."""
    m = P["cohorts"]["lung"]["matching"]
    assert len(m[0]["matched"]) < len(m[2]["matched"])
    assert len(set(np.round(m[1]["weight"], 12))) > 1


def test_trimming_counts_and_weights_match_r():
    """R: keep <- ps >= 0.1 & ps <= 0.9; stabilised ATE weights with mean(z[keep])."""
    case = P["cohorts"]["lung"]
    t = case["trimmed"]
    res = fit_propensity(_data("lung"), case["covariates"], trim=t["trim"])
    assert sorted(res.data["patient_id"]) == sorted(t["kept"])
    assert res.n_trimmed == case["n"] - len(t["kept"]) > 0
    d = res.data.set_index("patient_id").loc[t["kept"]]
    assert np.allclose(d["weight"], t["weight"], rtol=TOL)
    assert any(
        f"{res.n_trimmed} patient(s) with a propensity score outside" in n for n in res.notes
    )


def test_demo_worked_example():
    """The paper's covariates on the demo cohort: PS model as R, c-statistic 0.659, and the
    stabilised ATE weights' ESS (R: 52.0 local+systemic)."""
    case = P["cohorts"]["demo"]
    assert tuple(case["covariates"]) == PAPER_PS_COVARIATES
    res = fit_propensity(_data("demo"))
    assert res.estimand == "ATE" and res.method_key == "iptw"
    assert res.c_statistic == pytest.approx(0.658882783882784, rel=1e-12)
    assert res.ess.loc["local+systemic", "ess"] == pytest.approx(51.9998585388799, rel=1e-9)
    assert "stabilised" in res.method and "glm" in res.method


def test_warnings_imbalance_and_separation():
    """Lung: ECOG 3 has one patient (R's coefficient -13.4, SE 883); ATT weights leave terms
    with |SMD| > 0.1 only when R's formulas say so."""
    case, res = _fit("lung", method="iptw", estimand="ATT")
    ref = case["weighting"]["att"]["balance"]
    bad = [t for t, s in zip(ref["term"], ref["smd_after"], strict=True) if abs(s) > 0.1]
    text = " ".join(res.warnings)
    if bad:
        assert all(t in text for t in bad)
    else:
        assert "imbalanced" not in text


def test_c_statistic_warning():
    """A covariate that nearly determines treatment: c-statistic > 0.8 is said."""
    d = _data("demo")
    d["marker"] = (d["treatment_group"] == "local+systemic").astype(float) * 3 + d["age"] / 20
    res = fit_propensity(d, ["marker", "age"])
    assert res.c_statistic > 0.8
    assert any("c-statistic" in w for w in res.warnings)


def test_extreme_weights_warning():
    d = _data("demo")
    d["marker"] = (d["treatment_group"] == "local+systemic").astype(float) * 2.5 + d["age"] / 20
    res = fit_propensity(d, ["marker"], stabilize=False)
    w = res.data["weight"]
    assert any("Extreme weights" in x for x in res.warnings) == any(
        (w[res.data.treatment_group == g] > 10 * w[res.data.treatment_group == g].mean()).any()
        for g in ("systemic", "local+systemic")
    )


def test_bad_input_messages():
    d = _data("demo")
    with pytest.raises(CohortError, match="Unknown propensity-score method 'stratify'"):
        fit_propensity(d, method="stratify")
    with pytest.raises(CohortError, match="matching estimates the ATT, not the ATE"):
        fit_propensity(d, method="match", estimand="ATE")
    with pytest.raises(CohortError, match="between 0 and 0.5"):
        fit_propensity(d, trim=0.7)
    one = d[d["treatment_group"] == "systemic"]
    with pytest.raises(CohortError, match="has 1 value"):
        fit_propensity(one)
    with pytest.raises(CohortError, match="needs the column"):
        fit_propensity(d, ["no_such_column"])


def test_treatment_in_covariates_is_ignored_and_input_untouched():
    d = _data("demo")
    before = d.copy()
    a = fit_propensity(d, ("treatment_group", *PAPER_PS_COVARIATES))
    b = fit_propensity(d)
    assert a.covariates == PAPER_PS_COVARIATES
    assert np.array_equal(a.data["weight"], b.data["weight"])
    pd.testing.assert_frame_equal(d, before)


@pytest.mark.parametrize("i", range(len(P["evalues"])))
def test_e_value_matches_formula(i):
    """R (VanderWeele and Ding 2017, as EValue::evalues.HR): RR = (1 - 0.5^sqrt(HR)) /
    (1 - 0.5^sqrt(1/HR)) unless rare; E = RR + sqrt(RR (RR - 1)); CI limit nearest 1."""
    e = P["evalues"][i]
    point, ci = e_value(e["hr"], e["lower"], e["upper"], rare=e["rare"])
    assert point == pytest.approx(e["point"], rel=1e-12)
    assert ci == pytest.approx(e["ci"], rel=1e-12)


def test_e_value_known_number():
    """VanderWeele and Ding's example: RR 3.9 gives E = 3.9 + sqrt(3.9 x 2.9) = 7.26."""
    assert e_value(3.9, 1.8, 8.7, rare=True)[0] == pytest.approx(7.2631, abs=1e-4)
    assert all(np.isnan(e_value(np.nan, 0.5, 2.0)))


@pytest.mark.parametrize("name", COHORTS)
def test_overlap_and_histogram_from_r_scores(name):
    """Common support = [max of the group minima, min of the group maxima] of R's fitted PS;
    the histogram counts R's scores in 20 bins over [0, 1]."""
    case, res = _fit(name)
    d = _data(name).set_index("patient_id").loc[case["patient_id"]]
    ps = pd.Series(case["glm"]["ps"], index=d.index)
    treated = d["treatment_group"] == "local+systemic"
    lo = max(ps[treated].min(), ps[~treated].min())
    hi = min(ps[treated].max(), ps[~treated].max())
    assert res.overlap == pytest.approx((lo, hi), rel=1e-9)
    assert res.n_outside_overlap == int(((ps < lo) | (ps > hi)).sum())
    h = res.ps_histogram()
    for group, sel in (("local+systemic", treated), ("systemic", ~treated)):
        expect, _ = np.histogram(ps[sel], bins=np.linspace(0, 1, 21))
        assert h.loc[h["group"] == group, "count"].tolist() == expect.tolist()


def test_love_plot_and_histogram_charts_show_the_numbers():
    """The Love plot carries |SMD| before and after for every term and the 0.1 line; the
    mirrored histogram draws the second group below the axis and shades the overlap."""
    from hcc_core import charts

    _, res = _fit("veteran")
    spec = charts.love_plot(res.balance)
    rows = [r for ds in spec["datasets"].values() for r in ds if "smd" in r]
    assert len(rows) == 2 * len(res.balance)
    after = {r["label"]: r["smd"] for r in rows if r["sample"] == "After adjustment"}
    assert after == pytest.approx(
        dict(zip(res.balance["label"], res.balance["smd_after"].abs(), strict=True))
    )
    assert any(r.get("t") == 0.1 for ds in spec["datasets"].values() for r in ds)
    spec = charts.ps_histogram_chart(res.ps_histogram(), res.overlap)
    bars = [r for ds in spec["datasets"].values() for r in ds if "height" in r]
    assert all(r["height"] <= 0 for r in bars if r["group"] == "systemic")
    assert (
        sum(-r["height"] for r in bars if r["group"] == "systemic")
        == (res.scores["group"] == "systemic").sum()
    )
    lo_hi = [r for ds in spec["datasets"].values() for r in ds if "lo" in r]
    assert lo_hi == [{"lo": res.overlap[0], "hi": res.overlap[1]}]


def test_balance_of_a_subgroup_filtered_on_a_covariate_hand_computed():
    """A cohort filtered on one of the score's covariates (Child-Pugh B only) used to crash
    the balance table (0 / 0 variance ratio as a Python ZeroDivisionError). The constant term
    is dropped from the model and from the balance table; a term constant in one group only
    gets the IEEE ratio (inf), as R gives. Hand-computed on 6 patients."""
    from hcc_core.propensity import _balance

    z = np.array([1, 1, 1, 0, 0, 0])
    terms = {"x": np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0]), "cp": np.ones(6)}
    bal = _balance(terms, z, np.ones(6))
    assert bal.index.tolist() == ["x"]
    # treated mean 2, variance 1; control mean 5, variance 0: SMD (2 - 5) / sqrt((1 + 0) / 2)
    assert bal.loc["x", "smd_before"] == pytest.approx(-3 / np.sqrt(0.5), rel=1e-12)
    assert np.isposinf(bal.loc["x", "vr_before"])
