"""Fine-Gray model equal to R cmprsk crr (coefficients and crr's sandwich SEs).

R (tests/reference/make_reference_tte.R):
``crr(time, status, cov1 = X, failcode = 1, cencode = 0)``; ``sqrt(diag(fit$var))``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc_core import CohortError
from hcc_core import schema as s
from hcc_core.finegray import fit_finegray

REF = Path(__file__).resolve().parent / "reference"
R_TTE = json.loads((REF / "tte_reference.json").read_text())
CASES = {
    "demo_ttp": ("demo", "ttp", [s.TREATMENT_GROUP, s.AGE]),
    "demo_hcc": ("demo", "hcc_death", [s.TREATMENT_GROUP]),
    "sim_hcc": ("sim", "hcc_death", ["x1", "x2"]),
}


def tte_data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"data_tte_{name}.csv", dtype={"bclc_stage": str})


@pytest.mark.parametrize("case", list(CASES))
def test_fine_gray_equals_crr(case):
    data, endpoint, covariates = CASES[case]
    ref = R_TTE["crr"][case]
    fit = fit_finegray(tte_data(data), endpoint, covariates)
    assert fit.converged and ref["converged"]
    np.testing.assert_allclose(fit.table["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.table["se"], ref["se"], rtol=1e-6)
    # the SEs are crr's, not those of coxph on finegray() data (naive or robust)
    assert not np.allclose(fit.table["se"], ref["fg_se"], rtol=1e-3)
    assert not np.allclose(fit.table["se"], ref["fg_robust_se"], rtol=1e-3)
    np.testing.assert_allclose(fit.table["shr"], np.exp(ref["coef"]), rtol=1e-6)
    z = np.asarray(ref["coef"]) / np.asarray(ref["se"])

    np.testing.assert_allclose(fit.table["p_value"], 2 * stats.norm.sf(np.abs(z)), rtol=1e-6)
    np.testing.assert_allclose(
        fit.table["shr_lower"],
        np.exp(np.asarray(ref["coef"]) - 1.959963984540054 * np.asarray(ref["se"])),
        rtol=1e-6,
    )
    assert "crr" in fit.method and "sandwich" in fit.method


def test_fine_gray_counts_terms_and_errors():
    fit = fit_finegray(tte_data("demo"), "ttp", [s.TREATMENT_GROUP, s.AGE])
    assert fit.table["term"].tolist() == ["treatment_group[local+systemic]", "age"]
    demo = tte_data("demo")
    assert fit.events == int(((demo[s.PFS_EVENT] == 1) & (demo[s.PROGRESSION_EVENT] == 1)).sum())
    assert fit.competing_events == int((demo[s.PROGRESSION_EVENT] == 0).sum())
    assert fit.n == len(demo) and fit.n_excluded == 0
    gaps = demo.copy()
    gaps.loc[gaps.index[:4], s.AGE] = np.nan
    fit = fit_finegray(gaps, "ttp", [s.AGE])
    assert fit.n == len(demo) - 4 and "4 patient(s) with a missing covariate" in fit.notes[0]
    with pytest.raises(CohortError, match="needs the column"):
        fit_finegray(demo, "ttp", ["no_such_column"])
    with pytest.raises(CohortError, match="at least one event of interest"):
        fit_finegray(demo.assign(pfs_event=0, progression_event=np.nan), "ttp", [s.AGE])
