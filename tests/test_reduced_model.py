"""plan_cox: the model the data can carry, the unadjusted treatment HR, and why covariates
were left out. Event counts and coefficient counts below are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import PAPER_COX_COVARIATES, Filters, apply_filters, fit_cox, load_cohort
from hcc_core import schema as S
from hcc_core.cox_plan import non_estimable_terms, plan_cox

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_cohort.csv"


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return load_cohort(DEMO).data


def test_demo_os_keeps_five_coefficients_for_52_events(demo):
    """52 deaths (29 + 23) and the paper's 9 coefficients: 5.8 events per coefficient.
    52 events carry 5 coefficients: treatment, then BCLC, Child-Pugh, ALBI and log AFP (the
    prognostic order); a sixth would leave 52 / 6 = 8.7 per coefficient."""
    assert int(demo[S.OS_EVENT].sum()) == 52
    plan = plan_cox(demo, "os", PAPER_COX_COVARIATES)
    assert len(plan.full.table) == 9 and plan.full_epv == pytest.approx(52 / 9)
    assert not plan.full_is_adequate
    assert plan.kept == (S.TREATMENT_GROUP, "bclc_ab_vs_c", S.CHILD_PUGH_CLASS, S.ALBI_SCORE,
                         "log10_afp")
    assert [lo.covariate for lo in plan.left_out] == [S.MAX_DIAMETER, S.TUMOR_NUMBER, S.AGE,
                                                      S.SEX]
    assert all("52 events for 6 coefficients (8.7 per coefficient" in lo.reason
               for lo in plan.left_out)
    assert len(plan.reduced.table) == 5 and plan.reduced.events == 52
    assert list(plan.unadjusted.table.index) == [f"{S.TREATMENT_GROUP}[{S.LOCAL_SYSTEMIC}]"]
    assert "52 events for 9 coefficients (5.8 per coefficient" in plan.summary
    # the reduced model is that model, fitted as such
    direct = fit_cox(demo, "os", list(plan.kept))
    np.testing.assert_array_equal(plan.reduced.table["hr"], direct.table["hr"])


def test_enough_events_keeps_the_full_model(demo):
    """Treatment and age: 2 coefficients for 52 events (26 per coefficient)."""
    plan = plan_cox(demo, "os", [S.TREATMENT_GROUP, S.AGE])
    assert plan.full_is_adequate and plan.reduced is None and plan.summary == ""
    assert plan.kept == (S.TREATMENT_GROUP, S.AGE) and plan.left_out == ()


def test_constant_covariate_is_left_out_with_its_reason(demo):
    """Child-Pugh B only (18 patients, 14 deaths): Child-Pugh class adds no coefficient,
    and 14 events cannot carry a second coefficient (7 per coefficient)."""
    cp_b = apply_filters(demo, Filters(child_pugh_classes=("B",)))
    plan = plan_cox(cp_b, "os", PAPER_COX_COVARIATES)
    assert plan.full.events == 14 and plan.kept == (S.TREATMENT_GROUP,)
    reasons = {lo.covariate: lo.reason for lo in plan.left_out}
    assert reasons[S.CHILD_PUGH_CLASS].startswith("it adds no coefficient here")
    assert "14 events for 2 coefficients (7.0 per coefficient" in reasons[S.AGE]
    assert plan.reduced is plan.unadjusted or plan.reduced.covariates == (S.TREATMENT_GROUP,)


def test_separation_makes_a_term_non_estimable():
    """Every death in group 'x' (none in 'y'): the HR of group runs off to 0 or infinity."""
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame({
        S.TREATMENT_GROUP: np.tile([S.SYSTEMIC, S.LOCAL_SYSTEMIC], n // 2),
        "grp": np.repeat(["x", "y"], n // 2),
        S.OS_MONTHS: rng.uniform(1, 30, n).round(2),
    })
    df[S.OS_EVENT] = (df["grp"] == "x").astype(int)
    full = fit_cox(df, "os", [S.TREATMENT_GROUP, "grp"])
    assert non_estimable_terms(full.table) == ["grp[y]"]
    plan = plan_cox(df, "os", [S.TREATMENT_GROUP, "grp"], min_epv=1)
    assert plan.kept == (S.TREATMENT_GROUP,)
    assert "cannot be estimated" in plan.left_out[0].reason


def test_one_treatment_group_has_no_treatment_hr(demo):
    systemic = demo[demo[S.TREATMENT_GROUP] == S.SYSTEMIC]
    plan = plan_cox(systemic, "os", PAPER_COX_COVARIATES)
    assert plan.unadjusted is None and plan.reduced is None
    assert plan.unadjusted_error == "only one treatment group among these patients"
    assert "No treatment hazard ratio" in plan.summary
