"""Invariants on random cohorts (hypothesis with derandomize=True: the same examples every run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hcc_core.cox import fit_cox
from hcc_core.survival import CONF_TYPES, fit_km, logrank_test, rmst

SETTINGS = settings(
    derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def cohorts(draw, min_size=1, max_size=40):
    n = draw(st.integers(min_size, max_size))
    # few distinct times so that ties (deaths with deaths, deaths with censorings) are common
    times = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    events = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["none", "mTACE", "HAIC"]), min_size=n, max_size=n))
    ages = draw(st.lists(st.integers(30, 80), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "os_months": np.array(times, float) * 1.5,
            "os_event": events,
            "local_modality": groups,
            "age": np.array(ages, float),
        }
    )


@SETTINGS
@given(cohorts(), st.sampled_from(CONF_TYPES))
def test_km_invariants(df, conf_type):
    res = fit_km(df, "os", "local_modality", conf_type=conf_type)
    assert res.summary["n"].sum() == len(df)
    for _, cur in res.curve.groupby("group"):
        s = cur["survival"].to_numpy()
        assert ((s >= 0) & (s <= 1)).all()
        assert (np.diff(s) <= 1e-15).all()
        assert (np.diff(cur["at_risk"].to_numpy()) <= 0).all()
        lo, hi = cur["lower"].to_numpy(), cur["upper"].to_numpy()
        ok = ~np.isnan(lo)
        assert (lo[ok] <= s[ok] + 1e-12).all() and (hi[ok] >= s[ok] - 1e-12).all()
        assert ((lo[ok] >= 0) & (hi[ok] <= 1 + 1e-12)).all()
        assert cur["events"].sum() + cur["censored"].sum() == cur["at_risk"].iloc[0]
    for _, row in res.summary.iterrows():
        if not np.isnan(row["median"]):
            cur = res.curve[res.curve["group"] == row["group"]]
            # the curve has reached 0.5 by the median (midpoint rule: at the plateau start)
            assert cur.loc[cur["time"] <= row["median"], "survival"].min() <= 0.5 + 1e-8
            if not np.isnan(row["median_lower"]):
                assert row["median_lower"] <= row["median"] + 1e-12
            if not np.isnan(row["median_upper"]):
                assert row["median_upper"] >= row["median"] - 1e-12


@SETTINGS
@given(cohorts(min_size=4))
def test_logrank_and_rmst_invariants(df):
    counts = df["local_modality"].value_counts()
    if len(counts) >= 2 and df["os_event"].sum() > 0:
        lr = logrank_test(df, "os", "local_modality")
        assert lr.statistic >= -1e-9 and 0 <= lr.p_value <= 1
        assert lr.table["observed"].sum() == df["os_event"].sum()
        assert np.isclose(lr.table["expected"].sum(), lr.table["observed"].sum())
    r = rmst(df, "os", "local_modality", 10.0)
    assert ((r["rmst"] >= 0) & (r["rmst"] <= 10.0 + 1e-12)).all()
    assert (r["se"] >= 0).all()


@SETTINGS
@given(cohorts(min_size=6))
def test_cox_invariants(df):
    if df["os_event"].sum() == 0 or df["age"].nunique() < 2:
        return
    res = fit_cox(df, "os", ["age"])
    assert 0 <= res.concordance <= 1 or np.isnan(res.concordance)
    assert res.loglik[1] >= res.loglik[0] - 1e-9  # Newton-Raphson never ends below the start
    t = res.table.loc["age"]
    if np.isfinite(t["se"]):
        assert t["hr_lower"] <= t["hr"] <= t["hr_upper"]
