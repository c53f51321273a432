"""Cause-specific, time-dependent and piecewise Cox models vs R (make_reference_tte.R).

R: ``coxph(Surv(tstart, tstop, event) ~ local + age, data = tmerge(...))``,
``coxph(Surv(time, event) ~ treatment + age)`` (naive),
``coxph(Surv(tstart, time, event) ~ local_p1 + ... + age, data = survSplit(...))``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import fit_cox
from hcc_core import schema as s
from hcc_core.cox.time_to_event import (
    IMMORTAL_TIME_NOTE,
    LOCAL_TERM,
    fit_cause_specific_cox,
    fit_time_dependent_cox,
    piecewise_hr,
)

REF = Path(__file__).resolve().parent / "reference"
R_TTE = json.loads((REF / "tte_reference.json").read_text())
DEMO = pd.read_csv(REF / "data_tte_demo.csv")


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_time_dependent_cox_and_naive_equal_r(endpoint):
    ref = R_TTE["time_dependent"][f"demo_{endpoint}"]
    res = fit_time_dependent_cox(DEMO, endpoint, [s.AGE])
    np.testing.assert_allclose(res.table["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref["se"], rtol=1e-6)
    np.testing.assert_allclose(res.naive_table["coef"], ref["naive_coef"], rtol=1e-6)
    np.testing.assert_allclose(res.naive_table["se"], ref["naive_se"], rtol=1e-6)
    assert res.table.index[0] == LOCAL_TERM and res.n_rows == ref["n_rows"]
    assert res.local_hr["hr"] == pytest.approx(np.exp(ref["coef"][0]), rel=1e-6)
    assert res.naive_hr["hr"] == pytest.approx(np.exp(ref["naive_coef"][0]), rel=1e-6)
    assert res.n == len(DEMO) and res.immortal_time_note == IMMORTAL_TIME_NOTE
    assert "tmerge" in res.method


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_piecewise_hr_equals_survsplit_model(endpoint):
    ref = R_TTE["piecewise"][f"demo_{endpoint}"]
    cuts = np.atleast_1d(ref["cuts"])
    res = piecewise_hr(DEMO, endpoint, [s.AGE], cuts)
    np.testing.assert_allclose(res.model_table["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(res.model_table["se"], ref["se"], rtol=1e-6)
    assert res.table["events"].tolist() == [int(x) for x in np.atleast_1d(ref["events"])]
    k = cuts.size + 1
    np.testing.assert_allclose(res.table["hr"], np.exp(ref["coef"][:k]), rtol=1e-6)
    assert res.table["period"].iloc[0] == f"0-{cuts[0]:g} months"
    assert res.table["period"].iloc[-1] == f"after {cuts[-1]:g} months"


def test_piecewise_with_one_period_beyond_follow_up_is_the_ordinary_model():
    """A cut after everyone's follow-up leaves one period: the plain Cox model."""
    res = piecewise_hr(DEMO, "os", [s.AGE], [1000.0])
    plain = fit_cox(DEMO, "os", [s.TREATMENT_GROUP, s.AGE])
    np.testing.assert_allclose(
        res.model_table["coef"].iloc[0], plain.table["coef"].iloc[0], rtol=1e-9
    )


def test_cause_specific_cox_censors_competing_events():
    res = fit_cause_specific_cox(DEMO, "ttp", [s.TREATMENT_GROUP, s.AGE])
    manual = DEMO.assign(
        pfs_event=((DEMO[s.PFS_EVENT] == 1) & (DEMO[s.PROGRESSION_EVENT] == 1)).astype(int)
    )
    plain = fit_cox(manual, "pfs", [s.TREATMENT_GROUP, s.AGE])
    np.testing.assert_allclose(res.table["coef"], plain.table["coef"], rtol=1e-12)
    assert res.events == int(manual[s.PFS_EVENT].sum()) and res.endpoint == "ttp"
    assert res.method.startswith("Cause-specific hazard of progression")


def test_fit_cox_with_a_competing_endpoint_is_the_cause_specific_model():
    res = fit_cox(DEMO, "ttp", [s.TREATMENT_GROUP, s.AGE])
    direct = fit_cause_specific_cox(DEMO, "ttp", [s.TREATMENT_GROUP, s.AGE])
    pd.testing.assert_frame_equal(res.table, direct.table)
    hcc = fit_cox(DEMO, "hcc_death", [s.TREATMENT_GROUP])
    manual = DEMO.assign(os_event=(DEMO[s.DEATH_CAUSE] == "hcc").astype(int))
    np.testing.assert_allclose(
        hcc.table["coef"], fit_cox(manual, "os", [s.TREATMENT_GROUP]).table["coef"], rtol=1e-12
    )
    assert hcc.endpoint == "hcc_death" and "other causes censored" in hcc.method


DERIVED = [s.TREATMENT_GROUP, s.AGE, "log10_afp", "bclc_ab_vs_c"]


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_fit_cox_time_dependent_treatment_with_derived_covariates_equals_r(endpoint):
    """fit_cox(..., time_dependent_treatment=True): tmerge + tdc + coxph in R, with log10 AFP and
    BCLC C vs A/B, including cox.zph (km), the concordance and the naive model beside it."""
    ref = R_TTE["derived"][f"td_{endpoint}"]
    res = fit_cox(DEMO, endpoint, DERIVED, time_dependent_treatment=True)
    assert list(res.table.index) == [LOCAL_TERM, s.AGE, "log10_afp", "bclc_ab_vs_c[C]"]
    np.testing.assert_allclose(res.table["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref["se"], rtol=1e-6)
    np.testing.assert_allclose(res.loglik, ref["loglik"], rtol=1e-9)
    assert res.concordance == pytest.approx(ref["concordance"], rel=1e-9)
    np.testing.assert_allclose(res.ph_test["chisq"], ref["zph_chisq"], rtol=1e-6)
    np.testing.assert_allclose(res.ph_test["p_value"], ref["zph_p"], rtol=1e-6)
    assert res.n_periods == ref["n_rows"] and res.n == len(DEMO)
    assert res.events == int(DEMO[s.OS_EVENT if endpoint == "os" else s.PFS_EVENT].sum())
    np.testing.assert_allclose(res.naive.table["coef"], ref["naive_coef"], rtol=1e-6)
    np.testing.assert_allclose(res.naive.table["se"], ref["naive_se"], rtol=1e-6)
    assert res.naive.table.index[0] == f"{s.TREATMENT_GROUP}[{s.LOCAL_SYSTEMIC}]"
    assert IMMORTAL_TIME_NOTE in res.notes and "tmerge" in res.method


def test_time_dependent_view_is_the_fit_cox_model():
    """The page's side-by-side view is built from the same fit_cox call (one code path)."""
    view = fit_time_dependent_cox(DEMO, "os", DERIVED[1:])
    full = fit_cox(DEMO, "os", DERIVED, time_dependent_treatment=True)
    np.testing.assert_array_equal(view.table["coef"], full.table["coef"])
    np.testing.assert_array_equal(view.naive_table["se"], full.naive.table["se"])
    assert view.n_rows == full.n_periods and IMMORTAL_TIME_NOTE not in view.notes


def test_time_dependent_treatment_is_not_combined_with_weights():
    with pytest.raises(ValueError, match="not combined with weights"):
        fit_cox(DEMO.assign(w=1.0), "os", [s.AGE], weights="w", time_dependent_treatment=True)


def test_piecewise_hr_with_derived_covariates_equals_r():
    ref = R_TTE["derived"]["piece_os"]
    res = piecewise_hr(DEMO, "os", DERIVED[1:], ref["cuts"])
    np.testing.assert_allclose(res.model_table["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(res.model_table["se"], ref["se"], rtol=1e-6)
    assert list(res.model_table.index[-3:]) == [s.AGE, "log10_afp", "bclc_ab_vs_c[C]"]
