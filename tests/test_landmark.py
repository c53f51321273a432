"""Landmark analysis: KM, log-rank and Cox on the landmark data equal R on the same subset.

R (tests/reference/make_reference_tte.R): ``lm <- d[d$time > at, ]; lm$time <- lm$time - at``,
then ``survfit(..., conf.type = "log-log")``, ``survdiff`` and ``coxph(~ local + age)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import CohortError, fit_cox, fit_km, logrank_test
from hcc_core import schema as s
from hcc_core.landmark import landmark

REF = Path(__file__).resolve().parent / "reference"
R_TTE = json.loads((REF / "tte_reference.json").read_text())
DEMO = pd.read_csv(REF / "data_tte_demo.csv")
CASES = {"demo_os_3": ("os", 3.0), "demo_os_6": ("os", 6.0), "demo_pfs_3": ("pfs", 3.0)}


def _vec(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("case", list(CASES))
def test_landmark_subset_km_logrank_and_cox_equal_r(case):
    endpoint, at = CASES[case]
    ref = R_TTE["landmark"][case]
    lm = landmark(DEMO, endpoint, at)
    assert lm.n_at_risk == ref["n"] and lm.data[s.PATIENT_ID].tolist() == ref["ids"]
    assert lm.n_excluded == len(DEMO) - ref["n"]
    time_col = s.ENDPOINTS[endpoint][0]
    original = DEMO.set_index(s.PATIENT_ID).loc[lm.data[s.PATIENT_ID], time_col].to_numpy()
    np.testing.assert_allclose(lm.data[time_col], original - at, rtol=0, atol=1e-12)

    km = fit_km(lm.data, endpoint, s.TREATMENT_GROUP, conf_type="log-log")
    r = ref["km"]
    strata = np.array(r["strata"])
    for group in km.groups:
        sel = strata == f"treatment_group={group}"
        at_t = km.at(np.array(r["time"])[sel]).query("group == @group")
        np.testing.assert_allclose(at_t["survival"], np.array(r["surv"])[sel], rtol=1e-9)
        for bound in ("lower", "upper"):
            want = _vec(r[bound])[sel]
            # R gives NA for log-log where S = 1; hcc_core gives the limit [1, 1]
            want = np.where(np.isnan(want) & (_vec(r["surv"])[sel] == 1), 1.0, want)
            np.testing.assert_allclose(at_t[bound], want, rtol=1e-9)
        risk = km.risk_table(np.array(r["time"])[sel]).query("group == @group")
        assert risk["at_risk"].tolist() == np.array(r["n_risk"])[sel].tolist()
    medians = dict(zip(sorted(km.groups), ref["median"], strict=True))  # R: alphabetical strata
    for group, median in medians.items():
        got = km.summary.set_index("group").loc[group, "median"]
        assert (np.isnan(got) and median is None) or got == pytest.approx(median, rel=1e-9)

    lr = logrank_test(lm.data, endpoint, s.TREATMENT_GROUP)
    assert lr.statistic == pytest.approx(ref["logrank"]["chisq"], rel=1e-8)
    assert lr.p_value == pytest.approx(ref["logrank"]["p"], rel=1e-8)

    cox = fit_cox(lm.data, endpoint, [s.TREATMENT_GROUP, s.AGE])
    np.testing.assert_allclose(cox.table["coef"], ref["cox"]["coef"], rtol=1e-6)
    np.testing.assert_allclose(cox.table["se"], ref["cox"]["se"], rtol=1e-6)


def test_landmark_convention_and_notes():
    df = pd.DataFrame(
        {
            s.PATIENT_ID: list("abcdef"),
            s.OS_MONTHS: [1.0, 3.0, 3.0001, 10.0, np.nan, 2.0],
            s.OS_EVENT: [1, 0, 1, 0, 1, 0],
        }
    )
    lm = landmark(df, "os", 3)
    assert lm.data[s.PATIENT_ID].tolist() == ["c", "d"]  # time == 3 is not at risk after 3
    np.testing.assert_allclose(lm.data[s.OS_MONTHS], [0.0001, 7.0], atol=1e-12)
    assert (lm.n_at_risk, lm.n_excluded) == (2, 4)
    assert lm.notes == (
        "3 patient(s) had the event or were censored at or before the landmark of 3 months and "
        "are excluded; times are counted from the landmark.",
        "1 patient(s) without 'os_months' were excluded.",
    )
    assert "time > at" in lm.method
    assert df[s.OS_MONTHS].iloc[2] == 3.0001  # the caller's frame is untouched
    with pytest.raises(CohortError, match="No patient is still at risk after 12 months"):
        landmark(df, "os", 12)
    with pytest.raises(ValueError, match="landmark must be a number of months >= 0"):
        landmark(df, "os", -1)
    assert landmark(DEMO, "ttp", 3).data[s.PFS_MONTHS].min() > 0


def test_landmark_survival_bundles_km_and_logrank_on_the_landmark_data():
    from hcc_core.landmark import landmark_survival

    ref = R_TTE["landmark"]["demo_os_6"]
    res = landmark_survival(DEMO, "os", 6.0, s.TREATMENT_GROUP)
    assert res.logrank.statistic == pytest.approx(ref["logrank"]["chisq"], rel=1e-8)
    assert res.km.summary["n"].sum() == ref["n"]
    assert res.notes[0].startswith("13 patient(s) had the event or were censored at or before")
    assert "time > at" in res.method and "survdiff" in res.method
    assert landmark_survival(DEMO, "os", 6.0).logrank is None
