"""The Cox engine against R survival 3.5: case weights, strata, cluster-robust variance, Breslow
ties, (start, stop] data, cox.zph and concordance with strata and weights.

Fixtures: tests/reference/make_reference_cox.R -> r_cox_reference.json (each case quotes its R
call), on data_cox.csv / data_cox_split.csv exactly as R wrote and re-read them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference.rref import REF, vec

from hcc_core import CohortError, coxph_arrays, fit_cox

RC = json.loads((REF / "r_cox_reference.json").read_text())
TOL = 1e-6


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"data_{name}.csv", dtype={"centre": str, "patient_id": str})


def _close(got, want, rtol=TOL):
    got, want = np.asarray(got, dtype=float), vec(want)
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=rtol, atol=0, equal_nan=True), (got, want)


def _check_zph(ph: pd.DataFrame, z: dict) -> None:
    """cox.zph(fit, transform = "km")$table: our rows are named by covariate, R's by column."""
    assert len(ph) == len(z["term"])
    _close(ph["chisq"], z["chisq"])
    _close(ph["df"], z["df"])
    _close(ph["p_value"], z["p_value"])


@pytest.mark.parametrize("key", sorted(RC["fit_cox"]))
def test_fit_cox_matches_r(key):
    """fit_cox(..., weights, strata, cluster, robust, ties) against coxph: coefficients, naive
    and robust SEs, CI and p (robust when robust, as summary.coxph), loglik, iterations, score
    test, concordance and cox.zph. The R call is in the fixture's ``call``."""
    case = RC["fit_cox"][key]
    res = fit_cox(
        _data("cox"),
        "os",
        case["covariates"],
        weights=case.get("weights"),
        strata=case.get("strata"),
        cluster=case.get("cluster"),
        robust=bool(case.get("robust", False)),
        ties=case.get("ties", "efron"),
    )
    t = res.table
    assert list(t.index) == case["term"]
    for col in ("coef", "se", "robust_se", "hr_lower", "hr_upper", "p_value"):
        _close(t[col], case[col])
    assert res.robust == (case["robust_se"][0] is not None)
    _close(res.loglik, case["loglik"], 1e-9)
    assert res.iterations == case["iter"]
    assert res.score_test == pytest.approx(case["score"], rel=TOL)
    assert (res.n, res.events) == (case["n"], case["events"])
    assert res.concordance == pytest.approx(case["concordance"], rel=1e-9)
    _check_zph(res.ph_test, case["zph"])
    if res.robust:
        assert "robust (sandwich) SE" in res.method


@pytest.mark.parametrize("key", sorted(RC["coxph_arrays"]))
def test_coxph_arrays_counting_process_matches_r(key):
    """coxph_arrays on (start, stop] data (survSplit, a time-varying treatment effect, left
    truncation; with strata, weights and clusters) against coxph(Surv(start, stop, event))."""
    from hcc_core.cox.concordance import concordance

    case = RC["coxph_arrays"][key]
    d = _data(case["data"])
    strata = d[case["strata"]] if "strata" in case else None
    weights = d[case["weights"]] if "weights" in case else None
    cluster = d[case["cluster"]] if "cluster" in case else None
    if case["data"] == "cox":
        d = d.assign(
            trt=(d["treatment_group"] == "local+systemic") * 1.0, sexF=(d["sex"] == "F") * 1.0
        )
    fit = coxph_arrays(
        d[case["start"]],
        d["os_months"],
        d["os_event"],
        d[case["x"]].to_numpy(float),
        weights=weights,
        strata=strata,
        cluster=cluster,
        ties=case.get("ties", "efron"),
    )
    _close(fit.coef, case["coef"])
    _close(fit.se, case["se"])
    _close(fit.robust_se, case["robust_se"])
    _close(fit.loglik, case["loglik"], 1e-9)
    assert fit.iterations == case["iter"] and fit.converged
    assert fit.score_test == pytest.approx(case["score"], rel=TOL)
    st = None if strata is None else pd.factorize(strata)[0]
    c = concordance(
        d["os_months"].to_numpy(),
        d["os_event"].to_numpy(),
        fit.linear_predictors,
        start=d[case["start"]].to_numpy(float),
        weights=None if weights is None else weights.to_numpy(float),
        strata=st,
    )
    assert c == pytest.approx(case["concordance"], rel=1e-9)


def test_survsplit_reproduces_the_unsplit_fit():
    """survSplit(d, cut = 12) in (start, stop] form gives the unsplit model's estimates (R and
    us): the split rows have the same risk sets."""
    case = RC["coxph_arrays"]["survsplit_12"]
    _close(case["coef"], case["unsplit_coef"], 1e-9)  # R itself
    d = _data("cox_split")
    fit = coxph_arrays(d["tstart"], d["os_months"], d["os_event"], d[["trt", "age"]].to_numpy())
    _close(fit.coef, case["unsplit_coef"])
    _close(fit.se, case["unsplit_se"])
    _close(fit.loglik, case["unsplit_loglik"], 1e-9)


def test_split_cox_zph_matches_r():
    """cox.zph on (start, stop] data (R zph2; the KM transform from survfit of the split rows)."""
    from hcc_core.cox import engine
    from hcc_core.cox.zph import zph

    case = RC["coxph_arrays"]["treatment_before_after_12"]
    d = _data("cox_split")
    X = d[case["x"]].to_numpy(float)
    start, stop, event = d["tstart"].to_numpy(), d["os_months"].to_numpy(), d["os_event"].to_numpy()
    fit = coxph_arrays(start, stop, event, X, cluster=d["patient_id"])
    rs = engine.prepare(stop, event, X, start=start)
    ph = zph(rs, fit.coef, {t: [j] for j, t in enumerate(case["x"])}, stop, event, start)
    _check_zph(ph, case["zph"])


def test_separation_converges_with_infinite_note_like_r():
    """R converges (warning 'coefficient may be infinite'); we report the same iterations and
    log-likelihood, and flag the coefficient."""
    case = RC["separation"]
    d = _data("cox")
    d = d[d["child_pugh_class"] == "B"]
    trt = (d["treatment_group"] == "local+systemic").to_numpy(float)
    event = ((trt == 0) & (d["os_event"] == 1)).to_numpy(float)
    fit = coxph_arrays(None, d["os_months"], event, trt[:, None])
    assert fit.converged and fit.infinite == (0,)
    assert fit.iterations == case["iter"]
    _close(fit.loglik, case["loglik"], 1e-9)
    assert fit.coef[0] == pytest.approx(case["coef"], rel=1e-4)


def test_coxph_arrays_input_errors():
    d = _data("cox")
    t, e, x = d["os_months"], d["os_event"], d[["age"]].to_numpy(float)
    with pytest.raises(CohortError, match="greater than 0"):
        coxph_arrays(None, t, e, x, weights=np.zeros(len(d)))
    with pytest.raises(CohortError, match="start must be before its stop"):
        coxph_arrays(t, t, e, x)
    with pytest.raises(CohortError, match="one of cluster or id is needed"):
        coxph_arrays(d["entry"], t, e, x, robust=True)
    with pytest.raises(CohortError, match="ties must be"):
        coxph_arrays(None, t, e, x, ties="exact")


def test_fit_cox_bad_weights_and_missing_strata():
    d = _data("cox")
    with pytest.raises(CohortError, match="weights column 'w' has 1 value"):
        fit_cox(d.assign(w=np.r_[-1.0, d["w"].to_numpy()[1:]]), "os", ["age"], weights="w")
    res = fit_cox(
        d.assign(child_pugh_class=[None] * 3 + list(d["child_pugh_class"][3:])),
        "os",
        ["age"],
        strata="child_pugh_class",
    )
    assert res.n == len(d) - 3
    assert any("child_pugh_class: 3" in note for note in res.notes)
