"""Competing-risk inputs and estimates: schema columns, validation, cumulative incidence, Gray's test.

Reference values come from ``tests/reference/make_reference_tte.R`` (cmprsk ``cuminc``,
``timepoints``); the JSON it writes is committed, so these tests never need R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import CohortError, load_cohort
from hcc_core import schema as s
from hcc_core.competing import cumulative_incidence, gray_test

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_cohort.csv"

BASE = (
    "patient_id,treatment_group,os_months,os_event,pfs_months,pfs_event,"
    "progression_event,death_cause,local_start_months\n"
)


def _load(rows: str):
    return load_cohort((BASE + rows).encode(), filename="c.csv")


# ---- schema and validation ------------------------------------------------------------------
def test_new_columns_load_with_their_types():
    data = _load(
        "A,systemic,10,1,4,1,1,hcc,\n"
        "B,local+systemic,12,1,12,1,0,other,0.5\n"
        "C,local+systemic,9,0,9,0,,,2\n"
    ).data
    assert data[s.PROGRESSION_EVENT].tolist() == [1, 0, pd.NA]
    assert data[s.DEATH_CAUSE].tolist()[:2] == ["hcc", "other"]
    assert np.isnan(data[s.DEATH_CAUSE].iloc[2])
    np.testing.assert_array_equal(data[s.LOCAL_START_MONTHS], [np.nan, 0.5, 2.0])


def test_local_start_after_death_is_an_error_naming_the_rows():
    with pytest.raises(
        CohortError,
        match=r"'local_start_months' is later than 'os_months' in "
        r"row 3 \(patient_id B\)",
    ):
        _load("A,local+systemic,10,1,4,1,1,hcc,1\nB,local+systemic,5,1,5,1,0,hcc,6\n")


def test_contradictions_between_event_columns_are_errors():
    with pytest.raises(
        CohortError,
        match=r"'progression_event' is 1 \(progression\) but "
        r"'pfs_event' is 0 \(censored\) in row 2 \(patient_id A\)",
    ):
        _load("A,systemic,10,0,10,0,1,,\n")
    with pytest.raises(CohortError, match=r"'death_cause' is filled in but 'os_event' is 0"):
        _load("A,systemic,10,0,10,0,,hcc,\n")
    with pytest.raises(CohortError, match=r"death without progression\) but 'os_event' is 0"):
        _load("A,systemic,10,0,8,1,0,,\n")
    with pytest.raises(
        CohortError,
        match=r"'local_start_months' is filled in for patients in "
        r"the systemic-only group in row 2",
    ):
        _load("A,systemic,10,1,8,1,1,hcc,1\n")
    with pytest.raises(
        CohortError,
        match=r"Column 'death_cause' has values that cannot be used: "
        r"'liver'",
    ):
        _load("A,systemic,10,1,8,1,1,liver,\n")


def test_progression_event_and_local_start_are_derived_from_dates():
    text = (
        "patient_id,treatment_group,treatment_start_date,progression_date,death_date,"
        "last_followup_date,local_start_date\n"
        "A,systemic,2021-01-01,2021-03-01,2021-06-01,,\n"
        "B,local+systemic,2021-01-01,,2021-04-01,,2021-01-31\n"
        "C,local+systemic,2021-01-01,,,2021-12-31,2021-01-01\n"
    )
    cohort = load_cohort(text.encode(), filename="d.csv")
    assert cohort.data[s.PROGRESSION_EVENT].tolist() == [1, 0, pd.NA]
    np.testing.assert_allclose(cohort.data[s.LOCAL_START_MONTHS], [np.nan, 30 / 30.4375, 0.0])
    assert {s.PROGRESSION_EVENT, s.LOCAL_START_MONTHS} <= set(cohort.derived)
    with pytest.raises(
        CohortError,
        match=r"'local_start_date' has dates before "
        r"treatment_start_date in row 2 \(patient_id A\)",
    ):
        load_cohort(
            (
                b"patient_id,treatment_group,treatment_start_date,local_start_date\n"
                b"A,local+systemic,2021-01-10,2021-01-01\n"
            ),
            filename="d.csv",
        )


def test_demo_cohort_competing_columns_agree_with_its_dates():
    data = load_cohort(DEMO).data
    pfs_event = data[s.PFS_EVENT] == 1
    progressed = data[s.PROGRESSION_DATE].notna()
    expected = pd.array(np.where(pfs_event, progressed.astype(float), np.nan), dtype="Int64")
    pd.testing.assert_extension_array_equal(data[s.PROGRESSION_EVENT].array, expected)
    assert (data[s.DEATH_CAUSE].notna() == (data[s.OS_EVENT] == 1)).all()
    local = data[s.TREATMENT_GROUP] == s.LOCAL_SYSTEMIC
    assert (data[s.LOCAL_START_MONTHS].notna() == local).all()
    assert (data[s.LOCAL_START_MONTHS][local] <= data[s.OS_MONTHS][local]).all()
    days = (data[s.LOCAL_START_DATE] - data[s.TREATMENT_START_DATE]).dt.days[local]
    np.testing.assert_allclose(data[s.LOCAL_START_MONTHS][local], np.round(days / 30.4375, 2))
    assert data[s.DEATH_CAUSE].value_counts().to_dict() == {"hcc": 44, "other": 8}


# ---- cumulative incidence and Gray's test vs R cmprsk ---------------------------------------
REF = ROOT / "tests" / "reference"
R_TTE = json.loads((REF / "tte_reference.json").read_text())
CASES = {  # fixture -> (dataset, endpoint, by)
    "small_ttp": ("small", "ttp", s.TREATMENT_GROUP),
    "small_ttp_all": ("small", "ttp", None),
    "sim_hcc": ("sim", "hcc_death", s.BCLC_STAGE),
    "demo_ttp": ("demo", "ttp", s.TREATMENT_GROUP),
    "demo_hcc": ("demo", "hcc_death", s.TREATMENT_GROUP),
}


def tte_data(name: str) -> pd.DataFrame:
    """A dataset exactly as R wrote and re-read it."""
    return pd.read_csv(REF / f"data_tte_{name}.csv", dtype={"bclc_stage": str})


def _vec(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


@pytest.mark.parametrize("case", list(CASES))
def test_cumulative_incidence_equals_cmprsk_timepoints(case):
    """R: fit <- cuminc(time, status, group); timepoints(fit, grid) (est and var)."""
    data, endpoint, by = CASES[case]
    ref = R_TTE["cif"][case]
    res = cumulative_incidence(tte_data(data), endpoint, by)
    grid = _vec(ref["grid"])
    at = res.at(grid)
    assert set(res.groups) == set(ref["curves"])
    for group, curve in ref["curves"].items():
        mine = at[at["group"] == group]
        np.testing.assert_allclose(mine["cif"], _vec(curve["grid_est"]), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine["var"], _vec(curve["grid_var"]), rtol=1e-9, atol=1e-14)
        # cuminc's own step corners: (time, est, var) at every jump of the curve
        t, est, var = _vec(curve["time"]), _vec(curve["est"]), _vec(curve["var"])
        last = res.curve.loc[res.curve["group"] == group, "time"].max()
        jumps = res.at(np.minimum(t[2::2] + 1e-9, last))  # JSON keeps 15 digits
        jumps = jumps[jumps["group"] == group]
        np.testing.assert_allclose(jumps["cif"], est[2::2], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jumps["var"], var[2::2], rtol=1e-9, atol=1e-14)


def test_cif_confidence_interval_is_the_log_minus_log_transform():
    res = cumulative_incidence(tte_data("demo"), "ttp", s.TREATMENT_GROUP)
    at = res.at([12.0])
    f, se = at["cif"].to_numpy(), np.sqrt(at["var"].to_numpy())
    k = 1.959963984540054 * se / (f * np.log(f))
    np.testing.assert_allclose(at["lower"], f ** np.exp(-k), rtol=1e-12)
    np.testing.assert_allclose(at["upper"], f ** np.exp(k), rtol=1e-12)
    assert (at["lower"] < at["cif"]).all() and (at["cif"] < at["upper"]).all()
    assert "log(-log)" in res.method and "cuminc" in res.method


def test_cif_curve_invariants_and_risk_table():
    res = cumulative_incidence(tte_data("small"), "ttp", s.TREATMENT_GROUP)
    for _, block in res.curve.groupby("group"):
        assert block["time"].iloc[0] == 0 and block["cif"].iloc[0] == 0
        assert (np.diff(block["cif"]) >= 0).all() and (np.diff(block["at_risk"]) <= 0).all()
    # systemic arm (hand count): times 1 2 2 2 3 3 4 5 5 6; progression_event 1 1 0 . 0 1 . 1 0 .
    table = res.risk_table([0, 2, 5, 10])
    sys_rows = table[table["group"] == "systemic"]
    assert sys_rows["at_risk"].tolist() == [10, 9, 3, 0]
    assert sys_rows["cumulative_events"].tolist() == [0, 2, 4, 4]
    assert sys_rows["cumulative_competing"].tolist() == [0, 1, 3, 3]
    assert sys_rows["cumulative_censored"].tolist() == [0, 1, 2, 3]
    summary = res.summary.set_index("group")
    assert summary.loc["systemic", ["n", "events", "competing_events", "censored"]].tolist() == [
        10,
        4,
        3,
        3,
    ]


@pytest.mark.parametrize("case", ["small_ttp", "sim_hcc", "demo_ttp", "demo_hcc"])
def test_gray_test_equals_cuminc_tests(case):
    """R: cuminc(time, status, group)$Tests (stat, pv, df) for cause 1 and cause 2."""
    data, endpoint, by = CASES[case]
    ref = R_TTE["cif"][case]["tests"]
    res = gray_test(tte_data(data), endpoint, by)
    np.testing.assert_allclose(res.table["statistic"], _vec(ref["stat"]), rtol=1e-8)
    np.testing.assert_allclose(res.table["p_value"], _vec(ref["p"]), rtol=1e-8)
    assert res.table["dof"].tolist() == [int(d) for d in _vec(ref["df"])]
    assert res.statistic == res.table["statistic"].iloc[0]
    assert res.table["cause"].tolist() == ["event", "competing"]


def test_missing_event_type_is_excluded_and_counted():
    df = tte_data("demo")
    df.loc[df.index[:3], s.PROGRESSION_EVENT] = np.nan  # three PFS events lose their type
    n_events = int((tte_data("demo")[s.PFS_EVENT].iloc[:3] == 1).sum())
    res = cumulative_incidence(df, "ttp", s.TREATMENT_GROUP)
    assert res.n_excluded == n_events
    assert res.summary["n"].sum() == len(df) - n_events
    assert any("no 'progression_event'" in note for note in res.notes)


def test_errors_are_sentences():
    with pytest.raises(ValueError, match="Unknown competing-risk endpoint 'os'"):
        cumulative_incidence(tte_data("demo"), "os")
    with pytest.raises(CohortError, match="needs the column"):
        cumulative_incidence(tte_data("demo").drop(columns=s.DEATH_CAUSE), "hcc_death")
    with pytest.raises(CohortError, match="at least two groups"):
        gray_test(tte_data("demo").query("treatment_group == 'systemic'"), "ttp", s.TREATMENT_GROUP)


def test_cif_chart_draws_the_cif_with_the_number_at_risk():
    from hcc_core import charts

    res = cumulative_incidence(tte_data("demo"), "ttp", s.TREATMENT_GROUP)
    spec = charts.cif_chart(res, risk_times=[0, 12, 24])
    datasets = list(spec["datasets"].values())
    drawn = next(d for d in datasets if d and "survival" in d[0] and "lower" in d[0])
    at_12 = res.at([12.0]).set_index("group")["cif"]
    for group in res.groups:
        rows = [r for r in drawn if r["group"] == group and r["time"] <= 12]
        assert rows[-1]["survival"] == pytest.approx(at_12[group], abs=1e-5)
    risk = next(d for d in datasets if d and "value" in d[0] and "row" in d[0])
    table = res.risk_table([0, 12, 24])
    assert sorted(int(r["value"]) for r in risk) == sorted(table["at_risk"].tolist())
    assert "Cumulative incidence" in json.dumps(spec)
