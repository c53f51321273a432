"""The demo cohort reproduces Xia et al. (Hepat Mon 2026) through the hcc_core engine.

Every tolerance of the replication contract is asserted here against
``data/published_values.json``; ``paper_check`` is tested for the rows it must produce.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import (
    ae_table,
    group_column,
    load_cohort,
    load_published_values,
    paper_check,
    response_rates,
    table_one,
)
from hcc_core import schema as s
from hcc_core.cox import PAPER_COX_COVARIATES, fit_cox
from hcc_core.survival import fit_km, logrank_test

DATA = Path(__file__).resolve().parents[1] / "data"
GROUPS = {"systemic": s.SYSTEMIC, "local_systemic": s.LOCAL_SYSTEMIC}
PV = json.loads((DATA / "published_values.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return load_cohort(DATA / "demo_cohort.csv").data


@pytest.fixture(scope="module")
def t1(demo) -> dict:
    tab = table_one(demo).table
    return {
        (v, lv): r
        for v, lv, r in zip(tab["variable"], tab["level"], tab.to_dict("records"), strict=True)
    }


@pytest.fixture(scope="module")
def check(demo) -> pd.DataFrame:
    return paper_check(demo)


# ---- Table 1 -------------------------------------------------------------------------------
def test_age_mean_and_sd(t1):
    row = t1[(s.AGE, None)]
    for key, g in GROUPS.items():
        mean, sd = PV["table1"]["age_mean_sd"][key]
        assert abs(row[group_column("mean", g)] - mean) <= 0.05
        assert abs(row[group_column("sd", g)] - sd) <= 0.05
    assert row["statistic"] == pytest.approx(0.233, abs=0.01)  # t-test as published


@pytest.mark.parametrize(
    "key, column, level",
    [
        ("male_n", s.SEX, "M"),
        ("child_pugh_A_n", s.CHILD_PUGH_CLASS, "A"),
        ("child_pugh_B_n", s.CHILD_PUGH_CLASS, "B"),
        ("tumor_single_n", s.TUMOR_NUMBER, "single"),
        ("tumor_multiple_n", s.TUMOR_NUMBER, "multiple"),
        ("chronic_hepatitis_n", s.CHRONIC_HEPATITIS, "yes"),
        ("av_fistula_n", s.AV_FISTULA, "yes"),
        ("extrahepatic_supply_n", s.EXTRAHEPATIC_SUPPLY, "yes"),
    ],
)
def test_table1_counts_and_chi_square(t1, key, column, level):
    pub = PV["table1"][key]
    row = t1[(column, level)]
    for gkey, g in GROUPS.items():
        assert row[group_column("n", g)] == pub[gkey]
    if "stat" in pub:
        assert round(row["statistic"], 3) == pub["stat"]
        assert round(row["p_value"], 3) == pub["p"]


def test_bclc_counts_and_chi_square(t1):
    pub = PV["table1"]["bclc_n"]
    for lv in ("A", "B", "C"):
        for gkey, g in GROUPS.items():
            assert t1[(s.BCLC_STAGE, lv)][group_column("n", g)] == pub[gkey][lv]
    assert round(t1[(s.BCLC_STAGE, "A")]["statistic"], 3) == pub["stat"] == 1.948


@pytest.mark.parametrize(
    "key, column",
    [
        ("albumin_g_l_median_iqr", s.ALBUMIN),
        ("bilirubin_umol_l_median_iqr", s.BILIRUBIN),
        ("albi_median_iqr", s.ALBI_SCORE),
        ("max_diameter_cm_median_iqr", s.MAX_DIAMETER),
        ("afp_ng_ml_median_iqr", s.AFP),
    ],
)
def test_medians_and_spss_quartiles_within_one_percent(demo, t1, key, column):
    row = t1[(column, None)]
    for gkey, g in GROUPS.items():
        med, q1, q3 = PV["table1"][key][gkey]
        for stat, pub in (("median", med), ("q1", q1), ("q3", q3)):
            assert abs(row[group_column(stat, g)] - pub) <= 0.01 * abs(pub), (g, stat)
        # Independently: SPSS quartiles are numpy's "weibull" method.
        x = demo.loc[demo[s.TREATMENT_GROUP] == g, column].to_numpy(float)
        np.testing.assert_allclose(
            np.quantile(x, [0.25, 0.5, 0.75], method="weibull"),
            [row[group_column(k, g)] for k in ("q1", "median", "q3")],
        )


# ---- Tables 2 and 3 --------------------------------------------------------------------------
def test_table2_counts_orr_dcr_and_chi_square(demo):
    t2 = PV["table2_response_mrecist"]
    tab = response_rates(demo).table.set_index("category")
    for cat in ("CR", "PR", "SD", "PD"):
        for gkey, g in GROUPS.items():
            assert tab.loc[cat, group_column("n", g)] == t2[gkey][cat]
    for rate in ("ORR", "DCR"):
        pub = t2[rate.lower()]
        assert round(tab.loc[rate, "statistic"], 3) == pub["chi2"]
        assert round(tab.loc[rate, "p_value"], 3) == pub["p"]


def test_table3_counts_and_chi_square(demo):
    t3 = PV["table3_adverse_events_ctcae5"]
    tab = ae_table(demo).table.set_index(["term", "band"])
    for gkey, g in GROUPS.items():
        assert tab.loc[("ae_any", "1-2"), group_column("n", g)] == t3["any_grade_1_2"][gkey]
        assert tab.loc[("ae_any", ">=3"), group_column("n", g)] == 0
    assert round(tab.loc[("ae_any", "1-2"), "statistic"], 3) == 15.171
    for key, pub in t3.items():
        if not isinstance(pub, dict) or "category" not in pub:
            continue
        row = tab.loc[(s.AE_PREFIX + key, "any")]
        for gkey, g in GROUPS.items():
            assert row[group_column("n", g)] == pub[gkey], key
        if key != "fever":  # the paper's fever p is a slip (0.088), see paper_check
            assert round(row["p_value"], 3) == pub["p"], key


# ---- survival -------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_kaplan_meier_medians_and_log_rank(demo, endpoint):
    pub = PV["survival"][endpoint]
    km = fit_km(demo, endpoint, by=s.TREATMENT_GROUP).summary.set_index("group")
    for gkey, g in GROUPS.items():
        assert abs(km.loc[g, "median"] - pub["median_months"][gkey]) <= 0.25, g
        if "deaths" in pub:
            assert km.loc[g, "events"] == pub["deaths"][gkey]
    lr = logrank_test(demo, endpoint, s.TREATMENT_GROUP)
    assert abs(lr.statistic - pub["logrank_chi2"]) <= 0.2


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_adjusted_cox_hazard_ratio(demo, endpoint):
    pub = PV["survival"][endpoint]
    fit = fit_cox(demo, endpoint, PAPER_COX_COVARIATES)
    hr = fit.table.loc[f"{s.TREATMENT_GROUP}[{s.LOCAL_SYSTEMIC}]"]
    assert abs(hr["hr"] - pub["adjusted_hr"]) <= 0.02
    assert abs(hr["hr_lower"] - pub["adjusted_hr_ci"][0]) <= 0.03
    assert abs(hr["hr_upper"] - pub["adjusted_hr_ci"][1]) <= 0.03
    assert hr["hr_upper"] < 1.0  # significant at 5%, as published
    assert len(fit.table) == 9  # treatment + the paper's eight covariates


def test_adjusted_cox_matches_lifelines_efron(demo):
    """Independent check of the engine: lifelines CoxPHFitter (Efron ties) on the same design."""
    import lifelines  # a pinned test requirement: its absence is a failure, not a skip
    x = pd.DataFrame(
        {
            "trt": (demo[s.TREATMENT_GROUP] == s.LOCAL_SYSTEMIC).astype(float),
            "age": demo[s.AGE],
            "female": (demo[s.SEX] == "F").astype(float),
            "cp_b": (demo[s.CHILD_PUGH_CLASS] == "B").astype(float),
            "bclc_c": (demo[s.BCLC_STAGE] == "C").astype(float),
            "diam": demo[s.MAX_DIAMETER],
            "multiple": (demo[s.TUMOR_NUMBER] == "multiple").astype(float),
            "log_afp": np.log10(demo[s.AFP]),
            "albi": demo[s.ALBI_SCORE],
        }
    )
    for endpoint, (time, event) in s.ENDPOINTS.items():
        ll = lifelines.CoxPHFitter().fit(
            x.assign(T=demo[time], E=demo[event].astype(int)), "T", "E"
        )
        ours = fit_cox(demo, endpoint, PAPER_COX_COVARIATES).table
        term = f"{s.TREATMENT_GROUP}[{s.LOCAL_SYSTEMIC}]"
        assert ours.loc[term, "coef"] == pytest.approx(ll.params_["trt"], abs=1e-6)
        assert ours.loc[term, "se"] == pytest.approx(ll.standard_errors_["trt"], abs=1e-6)


# ---- paper_check ------------------------------------------------------------------------------
def test_paper_check_reproduces_everything_but_rank_statistics(check):
    assert list(check.columns) == [
        "section",
        "quantity",
        "group",
        "published",
        "recomputed",
        "tolerance",
        "status",
        "note",
    ]
    assert set(check["status"]) <= {"reproduced", "differs", "inconsistent in paper"}
    differs = check[check["status"] == "differs"]
    # Only the Mann-Whitney Z values depend on more than the published quartiles.
    assert differs["quantity"].str.endswith("Mann-Whitney Z").all()
    survival = check[check["section"].str.contains("Kaplan-Meier")]
    assert (survival["status"] == "reproduced").all()
    assert len(survival) == 10 + 8  # OS has two deaths rows, PFS (events unpublished) not


def test_paper_check_reports_the_pd_versus_median_pfs_conflict_from_the_data(check):
    row = check[check["quantity"].str.startswith("Median PFS if every PD patient")]
    sys_row = row[row["group"] == s.SYSTEMIC].iloc[0]
    assert sys_row["status"] == "inconsistent in paper"
    assert sys_row["published"] == 12.03
    assert 1.4 <= sys_row["recomputed"] <= 2.8  # the first-assessment time in the data
    assert "20 of 39" in sys_row["note"] and "0.487" in sys_row["note"]
    ls_row = row[row["group"] == s.LOCAL_SYSTEMIC].iloc[0]
    assert ls_row["status"] == "reproduced"  # 13 of 56 PD: no conflict


def test_paper_check_lists_the_papers_inconsistencies(check):
    inc = check[check["status"] == "inconsistent in paper"].set_index("quantity")
    assert inc.loc["Abstract ORR (%)", "published"] == 36.8
    assert inc.loc["Abstract ORR (%)", "recomputed"] == pytest.approx(100 * 23 / 56)
    assert inc.loc["Abstract DCR chi-square", "recomputed"] == pytest.approx(7.989, abs=5e-4)
    assert "40/56" in inc.loc["Abstract DCR (%)", "note"]  # 71.4% is 40/56, not 43/56
    fever = inc.loc["Fever: p (chi-square)"]
    assert fever["published"] == 0.089 and round(fever["recomputed"], 3) == 0.088
    assert (
        inc.loc["Results text: denominator of the systemic DCR '48.72% (19/56)'", "recomputed"]
        == 39
    )
    assert len(inc.loc[["Abstract 'mean OS' (months)"]]) == 2
    se = inc.loc["OS adjusted HR: SE of log HR implied by the 95% CI"]
    assert se["published"] == pytest.approx(np.log(0.98 / 0.34) / (2 * 1.959964), abs=1e-6)
    assert "2/sqrt(52) = 0.277" in se["note"]


def test_paper_check_gives_fisher_where_expected_counts_are_small(check):
    fisher = check[check["quantity"].str.endswith("Fisher's exact p")].set_index("quantity")
    # Pain 0/39 vs 5/56: two-sided Fisher p = 0.0759 (R: fisher.test(matrix(c(0,39,5,51),2))).
    assert fisher.loc["Pain: Fisher's exact p", "recomputed"] == pytest.approx(0.07589, abs=1e-4)
    assert fisher.loc["Pain: Fisher's exact p", "published"] == 0.055
    assert (fisher["status"] == "inconsistent in paper").all()
    assert "Any adverse event: Fisher's exact p" not in fisher.index  # expected counts >= 5


def test_paper_check_flags_a_cohort_that_differs(demo):
    """The check can fail: one more male patient makes the sex counts differ."""
    changed = demo.copy()
    first_female = changed.index[changed[s.SEX] == "F"][0]
    changed.loc[first_female, s.SEX] = "M"
    out = paper_check(changed)
    g = changed.loc[first_female, s.TREATMENT_GROUP]
    row = out[(out["quantity"] == "Male, n") & (out["group"] == g)].iloc[0]
    assert row["status"] == "differs"
    key = "systemic" if g == s.SYSTEMIC else "local_systemic"
    assert row["recomputed"] == PV["table1"]["male_n"][key] + 1


def test_paper_check_reports_a_missing_section_instead_of_failing(demo):
    out = paper_check(demo.drop(columns=list(s.AE_TERMS)))
    skipped = out[out["quantity"] == "(section not checked)"]
    assert skipped["section"].tolist() == ["Table 3"]
    assert "ae_" in skipped["note"].iloc[0]


def test_published_values_load_from_the_package_data():
    assert load_published_values()["groups"] == {"systemic": 39, "local_systemic": 56}
