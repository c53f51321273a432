"""hcc_core.survival against R's survival package (fixtures from tests/reference/make_reference.R).

The R calls are quoted in each test's docstring and, per case, in ``r_reference.json``
(``call``). Datasets: R's ``lung`` and ``veteran`` (time in days / 30.4375 -> months), three
hand-made edge-case cohorts and, when present, the demo cohort; each was written to CSV by R and
R computed its numbers on the re-read CSV, so Python and R see identical data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference.rref import RTOL, R, load, vec

from hcc_core import CohortError
from hcc_core.survival import (
    adjust_p_values,
    fit_km,
    logrank_test,
    median_follow_up,
    pairwise_logrank,
    rmst,
)

data, arr = load, vec


def close(a, b, rtol=RTOL) -> bool:
    return np.allclose(np.asarray(a, float), arr(b), rtol=rtol, atol=1e-12, equal_nan=True)


def _groups(values) -> list[str]:
    return [str(int(v)) if isinstance(v, float) else str(v) for v in values]


KM_CASES = sorted(R["km"])


def _fit_case(case):
    """fit_km for one R case (weighted when the case names a weight column)."""
    df = data(case["dataset"])
    return fit_km(df, case["endpoint"], case["by"], case["conf_type"], weights=case["weights"])


def test_reference_was_made_with_survival_3():
    """cox.zph and survfit definitions used here are those of survival >= 3.0."""
    assert int(R["meta"]["survival"].split(".")[0]) >= 3


@pytest.mark.parametrize("key", KM_CASES)
def test_km_summary_matches_r(key):
    """R: fit <- survfit(Surv(time, status) ~ by, conf.type = ct); quantile(fit, 0.5).

    Weighted cases: survfit(..., weights = w) (the call is in each case's ``call``)."""
    case = R["km"][key]
    res = _fit_case(case)
    s = case["summary"]
    assert _groups(res.summary["group"]) == [str(g) for g in np.atleast_1d(s["group"])]
    assert res.summary["n"].tolist() == arr(s["n"]).astype(int).tolist()
    assert res.summary["events"].tolist() == arr(s["events"]).astype(int).tolist()
    for col in ("median", "median_lower", "median_upper"):
        assert close(res.summary[col], s[col]), (key, col)


@pytest.mark.parametrize("key", KM_CASES)
def test_km_curve_matches_r(key):
    """R: fit$time, fit$surv, fit$lower, fit$upper, fit$n.risk, fit$n.event, fit$n.censor.

    R gives NA for the log-log interval where S = 1; we return its limit [1, 1].
    """
    case = R["km"][key]
    res = _fit_case(case)
    curve = res.curve.drop(res.curve.groupby("group", sort=False).head(1).index)
    rc = case["curve"]
    one = curve["survival"].to_numpy() == 1
    for col in ("time", "survival", "at_risk", "events", "censored"):
        assert close(curve[col], rc[col], rtol=1e-9), (key, col)
    for col in ("lower", "upper"):
        expected = np.where(one, 1.0, arr(rc[col]))
        assert np.allclose(curve[col], expected, rtol=1e-9, equal_nan=True), (key, col)


@pytest.mark.parametrize("key", KM_CASES)
def test_km_rates_at_times_match_r(key):
    """R: summary(fit, times = c(...), extend = TRUE)$surv / $lower / $upper / $n.risk."""
    case = R["km"][key]
    res = _fit_case(case)
    a = case["at"]
    times = sorted(set(arr(a["time"]).tolist()))
    mine = res.at(times)
    # Past a group's last time R (extend = TRUE) carries the curve flat; we give NaN there
    # unless the curve ended at 0 with a death (then 0, as R).
    last = res.curve.groupby("group", sort=False).tail(1).set_index("group")
    group_last = last.loc[mine["group"]]
    unknown = (mine["time"].to_numpy() > group_last["time"].to_numpy()) & (
        group_last["survival"].to_numpy() > 0
    )
    assert mine["survival"][unknown].isna().all()
    within = ~unknown
    for col in ("survival", "lower", "upper"):
        r_vals = arr(a[col])
        if case["conf_type"] == "log-log":
            r_vals = np.where(arr(a["survival"]) == 1, 1.0, r_vals)
        assert np.allclose(mine[col][within], r_vals[within], rtol=RTOL, equal_nan=True), col
    risk = res.risk_table(times)
    assert close(risk["at_risk"], a["at_risk"], rtol=1e-12)  # weighted sums when weighted


def test_weighted_km_variance_is_rs_choice_for_the_weights():
    """R survfitKM: whole-number weights -> Greenwood on weighted counts; any non-integer weight
    -> robust = TRUE (infinitesimal jackknife). R: survfit(Surv(time, status) ~ sex,
    weights = case_weight, conf.type = 'log') on lung gives median 8.08 (6.47-10.05) months for
    men and weighted numbers at risk 171.75, 167.25, ... (fixture lung/sex/weighted/log)."""
    case = R["km"]["lung/sex/weighted/log"]
    res = _fit_case(case)
    assert "infinitesimal-jackknife" in res.method and "weighted sums" in res.method
    first = res.curve.iloc[1]
    assert first["at_risk"] == 171.75 and first["events"] == 4.5
    assert res.summary["n"].tolist() == [138, 90]  # patients, not weights
    whole = _fit_case(R["km"]["lung/ph_ecog/weighted_int/log"])
    assert "Greenwood variance from the weighted counts" in whole.method
    # the Greenwood formula on these non-integer weights would not give R's interval
    greenwood = fit_km(
        data("lung").assign(w=lambda d: d["case_weight"] * 4), "os", "sex", "log", weights="w"
    )
    assert "infinitesimal" not in greenwood.method  # 4 w is whole-numbered here
    assert not close(greenwood.curve["lower"].iloc[1:5], arr(case["curve"]["lower"])[:4])


def test_weighted_km_rejects_bad_weights_and_notes_missing_ones():
    df = data("edge_ties")
    df.loc[3, "case_weight"] = -1.0
    with pytest.raises(
        CohortError, match=r"'case_weight' must hold positive finite numbers; rows 5"
    ):
        fit_km(df, "os", "treatment_group", weights="case_weight")
    df.loc[3, "case_weight"] = np.nan
    res = fit_km(df, "os", "treatment_group", weights="case_weight")
    assert (
        res.n_excluded == 1 and "1 patient(s) with a missing 'case_weight' weight" in res.notes[0]
    )
    assert res.summary["n"].sum() == 11


def test_lung_known_values():
    """R: quantile(survfit(Surv(time, status) ~ 1, data = lung, conf.type = 'log-log'), 0.5)
    gives 310 days (CI 284-361), i.e. 10.1848 months (9.3306-11.8604)."""
    res = fit_km(data("lung"), "os", conf_type="log-log")
    row = res.summary.iloc[0]
    assert row["median"] == pytest.approx(310 / 30.4375, rel=1e-12)
    assert row["median_lower"] == pytest.approx(284 / 30.4375, rel=1e-12)
    assert row["median_upper"] == pytest.approx(361 / 30.4375, rel=1e-12)
    assert "log-log" in res.method and "Greenwood" in res.method


@pytest.mark.parametrize("key", sorted(R["logrank"]))
def test_logrank_matches_r(key):
    """R: survdiff(Surv(time, status) ~ by) -> chisq, obs, exp; p = pchisq(chisq, k - 1)."""
    case = R["logrank"][key]
    res = logrank_test(data(case["dataset"]), case["endpoint"], case["by"])
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.dof == case["dof"]
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert close(res.table["observed"], case["observed"])
    assert close(res.table["expected"], case["expected"])
    assert _groups(res.table["group"]) == [str(g) for g in np.atleast_1d(case["group"])]
    assert res.method.startswith("Log-rank test (R survdiff, rho = 0)")


@pytest.mark.parametrize("key", sorted(R["logrank"]))
@pytest.mark.parametrize(
    "adjust,col", [("holm", "p_holm"), ("bonferroni", "p_bonferroni"), ("BH", "p_BH")]
)
def test_pairwise_logrank_matches_r(key, adjust, col):
    """R: survdiff on each pair of groups; p.adjust(p, method = adjust)."""
    case = R["logrank"][key]
    pw = pairwise_logrank(data(case["dataset"]), case["endpoint"], case["by"], adjust=adjust)
    ref = case["pairwise"]
    assert _groups(pw["group_a"]) == [str(g) for g in np.atleast_1d(ref["group_a"])]
    assert close(pw["statistic"], ref["statistic"])
    assert close(pw["p_value"], ref["p_value"])
    assert close(pw["p_adjusted"], ref[col])


def test_km_at_before_time_zero_and_past_a_last_death_match_r():
    """R: fit <- survfit(Surv(time, status) ~ g, data = edge_ties, conf.type = 'log');
    summary(fit, times = c(-1, 8), extend = TRUE): S(-1) = 1 with CI [1, 1] in both arms;
    S(8) = 0 in local+systemic (its last time, 7, is a death), 1/3 carried flat in systemic
    (last time 6 censored), which we give as NaN."""
    case = R["km"]["edge_ties/treatment_group/log"]
    a = case["at"]
    assert arr(a["time"]).tolist() == [-1, 0, 2, 4, 8, -1, 0, 2, 4, 8]
    res = fit_km(data("edge_ties"), "os", "treatment_group", conf_type="log")
    at = res.at([-1.0, 8.0])
    assert at["survival"].iloc[[0, 2]].tolist() == [1.0, 1.0] == arr(a["survival"])[[0, 5]].tolist()
    assert at["lower"].iloc[[0, 2]].tolist() == [1.0, 1.0] == arr(a["lower"])[[0, 5]].tolist()
    assert at["upper"].iloc[[0, 2]].tolist() == [1.0, 1.0] == arr(a["upper"])[[0, 5]].tolist()
    assert at["survival"].iloc[3] == 0.0 == arr(a["survival"])[9]
    assert np.isnan(at["lower"].iloc[3]) and np.isnan(arr(a["lower"])[9])  # R: NA
    assert np.isnan(at["survival"].iloc[1]) and arr(a["survival"])[4] == pytest.approx(1 / 3)


@pytest.mark.parametrize("i", range(len(R["p_adjust"])))
def test_adjust_p_values_with_nan_match_r(i):
    """R: p.adjust(p, method) with NA entries, e.g. p.adjust(c(0.01, NA, 0.03), 'holm') =
    0.02 NA 0.03: NA is neither counted in m nor adjusted (call quoted in the fixture)."""
    case = R["p_adjust"][i]
    got = adjust_p_values(arr(case["p"]), case["method"])
    assert np.allclose(got, arr(case["adjusted"]), rtol=1e-12, atol=0, equal_nan=True), case["call"]


def test_adjust_p_values_hand_computed():
    """R: p.adjust(c(0.01, 0.04, 0.03), 'holm') = 0.03 0.06 0.06; 'BH' = 0.03 0.04 0.04."""
    p = np.array([0.01, 0.04, 0.03])
    assert np.allclose(adjust_p_values(p, "holm"), [0.03, 0.06, 0.06])
    assert np.allclose(adjust_p_values(p, "BH"), [0.03, 0.04, 0.04])
    assert np.allclose(adjust_p_values(p, "bonferroni"), [0.03, 0.12, 0.09])


@pytest.mark.parametrize("key", sorted(R["rmst"]))
def test_rmst_matches_r(key):
    """R: summary(survfit(Surv(time, status) ~ by), rmean = tau)$table[, c('rmean', 'se(rmean)')]."""
    case = R["rmst"][key]
    res = rmst(data(case["dataset"]), case["endpoint"], case["by"], case["tau"])
    assert close(res["rmst"], case["rmean"])
    assert close(res["se"], case["se"])


def test_rmst_difference_is_wald_on_independent_groups():
    """Difference vs the first group: d = m1 - m0, SE = sqrt(se0^2 + se1^2), z-test."""
    res = rmst(data("lung"), "os", "sex", 12)
    m, se = res["rmst"].to_numpy(), res["se"].to_numpy()
    d, dse = m[1] - m[0], np.hypot(se[0], se[1])
    assert res.loc[1, "difference"] == pytest.approx(d)
    assert res.loc[1, "difference_lower"] == pytest.approx(d - 1.959963984540054 * dse)
    from scipy.stats import norm

    assert res.loc[1, "p_value"] == pytest.approx(2 * norm.sf(abs(d / dse)))
    assert np.isnan(res.loc[0, "difference"]) and res.loc[1, "versus"] == "M"


def test_rmst_notes_extrapolation():
    """tau past the last follow-up: the curve is carried flat (as R) and a note says so."""
    res = rmst(data("edge_flat"), "os", None, 10)
    assert res.loc[0, "rmst"] == pytest.approx(1 + 5 / 6 + 4 / 6 + 0.5 * 2 + 0.25 * 5)
    assert any("carried flat" in n for n in res.attrs["notes"])


@pytest.mark.parametrize("key", sorted(R["followup"]))
def test_median_follow_up_matches_r(key):
    """R: quantile(survfit(Surv(time, 1 - status) ~ 1, conf.type = ct), 0.5)."""
    case = R["followup"][key]
    res = median_follow_up(data(case["dataset"]), case["endpoint"], case["conf_type"])
    assert close([res.median, res.lower, res.upper], [case["median"], case["lower"], case["upper"]])
    assert "reverse Kaplan-Meier" in res.method


# ---- edge cases -----------------------------------------------------------------------------
def test_flat_at_exactly_half_uses_midpoint():
    """S = 0.5 exactly on [3, 5): R's quantile.survfit gives (3 + 5) / 2 = 4."""
    res = fit_km(data("edge_flat"), "os")
    assert res.summary.loc[0, "median"] == 4.0
    assert R["km"]["edge_flat/all/log-log"]["summary"]["median"] == 4.0


def test_ties_at_the_median():
    """Tied deaths at the median time: the median is that time (R quantile.survfit)."""
    res = fit_km(data("edge_ties"), "os", "treatment_group")
    ref = R["km"]["edge_ties/treatment_group/log-log"]["summary"]
    assert close(res.summary["median"], ref["median"])
    assert res.summary["median"].notna().all()


def test_group_with_no_events():
    """A group with no events: flat at 1, median not reached (NaN), log-rank still defined."""
    df = data("edge_noevents")
    res = fit_km(df, "os", "treatment_group")
    row = res.summary.set_index("group").loc["local+systemic"]
    assert row["events"] == 0 and np.isnan(row["median"])
    curve = res.curve[res.curve["group"] == "local+systemic"]
    assert (curve["survival"] == 1).all() and (curve["lower"] == 1).all()
    lr = logrank_test(df, "os", "treatment_group")
    assert lr.statistic == pytest.approx(R["logrank"]["edge_noevents/treatment_group"]["statistic"])


def test_all_censored():
    df = pd.DataFrame(
        {
            "os_months": [1.0, 2, 3, 4],
            "os_event": [0, 0, 0, 0],
            "treatment_group": ["systemic", "local+systemic"] * 2,
        }
    )
    res = fit_km(df, "os", "treatment_group")
    assert res.summary["events"].tolist() == [0, 0]
    assert res.summary["median"].isna().all()
    with pytest.raises(CohortError, match="no events"):
        logrank_test(df, "os", "treatment_group")


def test_one_patient():
    """One death at 5 months: S drops to 0, median 5; Greenwood variance is infinite so the
    CI is NaN (R: std.err = Inf, lower/upper NA)."""
    df = pd.DataFrame({"os_months": [5.0], "os_event": [1]})
    res = fit_km(df, "os")
    assert res.summary.loc[0, "median"] == 5.0
    assert np.isnan(res.summary.loc[0, "median_lower"])
    assert res.curve["survival"].tolist() == [1.0, 0.0]


def test_logrank_needs_two_groups():
    df = data("edge_flat")  # a single arm
    with pytest.raises(CohortError, match="at least two groups"):
        logrank_test(df, "os", "treatment_group")


def test_missing_endpoint_rows_are_excluded_and_counted():
    df = data("lung").copy()
    df.loc[:4, "os_months"] = np.nan
    df.loc[5, "sex"] = np.nan
    res = fit_km(df, "os", "sex")
    assert res.n_excluded == 6
    assert res.summary["n"].sum() == len(df) - 6
    assert any("5 patient(s) without 'os_months'" in n for n in res.notes)
    assert any("missing 'sex'" in n for n in res.notes)


def test_groups_in_schema_order_and_bad_inputs():
    df = data("veteran")
    res = fit_km(df, "os", "treatment_group")
    assert res.groups == ["systemic", "local+systemic"]  # schema order, not alphabetical
    with pytest.raises(ValueError, match="Unknown conf_type"):
        fit_km(df, "os", conf_type="logit")
    with pytest.raises(ValueError, match="Unknown endpoint"):
        fit_km(df, "dfs")
    bad = df.assign(os_event=df["os_event"] * 2)
    with pytest.raises(CohortError, match="must be 1 \\(event\\) or 0"):
        fit_km(bad, "os")
    with pytest.raises(CohortError, match="needs the column"):
        fit_km(df, "pfs")


def test_risk_table_counts():
    """Hand count on edge_flat (times 1..6): at risk at t = number with time >= t."""
    res = fit_km(data("edge_flat"), "os")
    rt = res.risk_table([0, 3, 3.5, 6, 7])
    assert rt["at_risk"].tolist() == [6, 4, 3, 1, 0]
    assert rt["cumulative_events"].tolist() == [0, 3, 3, 4, 4]
    assert rt["cumulative_censored"].tolist() == [0, 0, 0, 2, 2]


def _hand_km_frame() -> pd.DataFrame:
    """Two arms, hand-countable: systemic dies at 2, 4 (censored 3); local+systemic at 1 (0 too)."""
    return pd.DataFrame(
        {
            "os_months": [2.0, 3.0, 4.0, 0.0, 1.0, 5.0],
            "os_event": [1, 0, 1, 0, 1, 0],
            "treatment_group": ["systemic"] * 3 + ["local+systemic"] * 3,
        }
    )


def test_at_and_risk_table_by_group_hand_computed():
    """S at t per group from the step function: systemic 1, 2/3, 2/3, 0; local+systemic has a
    time-0 censoring (two time-0 rows in its curve), S = 1/2 from t = 1; past the last time NaN."""
    res = fit_km(_hand_km_frame(), "os", "treatment_group")
    at = res.at([0.0, 2.0, 3.5, 4.0, 6.0])
    assert at["group"].tolist() == ["systemic"] * 5 + ["local+systemic"] * 5
    assert at["time"].tolist() == [0.0, 2.0, 3.5, 4.0, 6.0] * 2
    # systemic's last time (4) is a death with S = 0, so S(6) = 0 (R extend = TRUE);
    # local+systemic's last time (5) is censored, so S(6) is unknown: NaN
    expect = [1.0, 2 / 3, 2 / 3, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, np.nan]
    assert np.allclose(at["survival"], expect, rtol=0, atol=1e-15, equal_nan=True)
    assert at[["lower", "upper"]].iloc[[9]].isna().all().all()
    rt = res.risk_table([0.0, 1.0, 4.0, 5.5])
    assert rt["group"].tolist() == ["systemic"] * 4 + ["local+systemic"] * 4
    assert rt["at_risk"].tolist() == [3, 3, 1, 0, 3, 2, 1, 0]
    assert rt["cumulative_events"].tolist() == [0, 0, 2, 2, 0, 1, 1, 1]
    assert rt["cumulative_censored"].tolist() == [0, 0, 1, 1, 1, 1, 1, 2]


def test_at_and_risk_table_on_a_result_built_without_row_offsets():
    """A KMResult made by hand (no private row offsets) finds each group's rows from ``curve``."""
    import dataclasses

    res = fit_km(_hand_km_frame(), "os", "treatment_group")
    bare = dataclasses.replace(res, _starts=None)
    times = [-1.0, 0.0, 2.5, 4.0, 9.0]
    pd.testing.assert_frame_equal(bare.at(times), res.at(times))
    pd.testing.assert_frame_equal(bare.risk_table(times), res.risk_table(times))
    # t < 0 is before every curve: S = 1 with CI [1, 1] (R summary(fit, -1, extend = TRUE))
    early = res.at(-1.0)
    assert early[["survival", "lower", "upper"]].to_numpy().tolist() == [[1.0, 1.0, 1.0]] * 2


def test_rmst_versus_is_the_reference_label_for_integer_groups():
    """Integer-coded groups (e.g. ALBI grade 1/2): ``versus`` holds the label 1, not 1.0."""
    df = pd.DataFrame(
        {
            "os_months": [2.0, 3.0, 4.0, 1.0, 5.0, 6.0],
            "os_event": [1, 0, 1, 1, 0, 1],
            "albi_grade": pd.array([1, 1, 1, 2, 2, 2], dtype="Int64"),
        }
    )
    out = rmst(df, "os", "albi_grade", 4.0)
    assert out["group"].tolist() == [1, 2]
    assert out["versus"].tolist() == [None, 1] and type(out["versus"].iloc[1]) is int
    # systemic-like arm 1: S = 1 on [0, 2), 2/3 on [2, 4) -> 2 + 4/3; arm 2: 1 on [0, 1), then 2/3
    assert out["rmst"].tolist() == pytest.approx([2 + 4 / 3, 1 + 3 * 2 / 3], rel=1e-15)


def test_pairwise_logrank_with_one_group_raises_the_log_rank_error():
    """One non-empty group: the same clear message as logrank_test, not an empty table."""
    df = data("edge_flat")
    with pytest.raises(CohortError) as single:
        logrank_test(df, "os", "treatment_group")
    with pytest.raises(CohortError) as pairwise:
        pairwise_logrank(df, "os", "treatment_group")
    assert str(pairwise.value) == str(single.value)
    assert "at least two groups" in str(pairwise.value) and "'treatment_group'" in str(
        pairwise.value
    )
    with pytest.raises(CohortError, match="choose a column to compare by"):
        pairwise_logrank(df, "os", None)


def test_demo_fixtures_were_made_from_the_committed_demo_cohort():
    """meta.demo_sha256 is digest::digest(file = 'data/demo_cohort.csv', algo = 'sha256')."""
    import hashlib
    from pathlib import Path

    csv = Path(__file__).resolve().parents[1] / "data" / "demo_cohort.csv"
    sha = hashlib.sha256(csv.read_bytes()).hexdigest()
    assert sha == R["meta"]["demo_sha256"], (
        "data/demo_cohort.csv has changed since the R fixtures were made (SHA-256 "
        f"{sha} vs {R['meta']['demo_sha256']} in tests/reference/r_reference.json). "
        "Rerun `Rscript tests/reference/make_reference.R` from the repository root and commit "
        "tests/reference/r_reference.json and tests/reference/data_demo.csv."
    )
