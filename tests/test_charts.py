"""Chart builders, tested without Streamlit: structure, palette, payload size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from hcc_core import charts


def _curve(n_times: int, group: str = "g") -> pd.DataFrame:
    t = np.linspace(0, 60, n_times)
    s = np.linspace(1, 0.1, n_times)
    return pd.DataFrame({"group": group, "time": t, "survival": s, "lower": s - 0.05,
                         "upper": np.minimum(s + 0.05, 1), "at_risk": np.arange(n_times, 0, -1),
                         "events": 1, "censored": (np.arange(n_times) % 3 == 0).astype(int)})


def test_thin_curve_keeps_short_curves_unchanged():
    c = _curve(50)
    pd.testing.assert_frame_equal(charts.thin_curve(c, max_points=100), c)


def test_thin_curve_bounds_points_and_keeps_endpoints_and_shape():
    c = pd.concat([_curve(20_000, "a"), _curve(300, "b")], ignore_index=True)
    thin = charts.thin_curve(c, max_points=1000)
    a = thin[thin["group"] == "a"]
    assert len(a) <= 1000 and len(thin[thin["group"] == "b"]) == 300
    assert a["time"].iloc[0] == 0 and a["time"].iloc[-1] == 60
    # Every kept point lies on the original step function (no invented values).
    full_a = c[c["group"] == "a"].set_index("time")["survival"]
    assert np.allclose(full_a.loc[a["time"]].to_numpy(), a["survival"].to_numpy())
    # The drawn step function differs from the original by at most one original step.
    grid = np.linspace(0, 60, 5000)
    orig = full_a.to_numpy()[np.searchsorted(full_a.index, grid, side="right") - 1]
    drawn = a["survival"].to_numpy()[np.searchsorted(a["time"], grid, side="right") - 1]
    assert np.max(np.abs(orig - drawn)) < 0.9 / 1000 * 2


def test_response_bars_use_okabe_ito_and_normalised_stack():
    counts = pd.DataFrame({"group": ["systemic"] * 2, "response": ["PR", "PD"], "n": [7, 20],
                           "percent": [25.9, 74.1]})
    spec = charts.response_bar_chart(counts)
    enc = spec["vconcat"][0]["encoding"]
    assert enc["x"]["stack"] == "normalize"
    assert set(enc["color"]["scale"]["range"]) <= set(charts.OKABE_ITO) | {"#999999"}
    assert spec["vconcat"][0]["height"] == 120


def test_font_size_is_at_least_14_px():
    counts = pd.DataFrame({"group": ["a"], "response": ["CR"], "n": [1], "percent": [100.0]})
    cfg = charts.response_bar_chart(counts)["config"]
    assert cfg["axis"]["labelFontSize"] >= 14 and cfg["legend"]["labelFontSize"] >= 14
    big = charts.response_bar_chart(counts, font_size=22)["config"]
    assert big["axis"]["labelFontSize"] == 22


class _FakeKM:
    """The two things km_chart reads from a KMResult."""

    def __init__(self, curve: pd.DataFrame):
        self.curve = curve

    def risk_table(self, times):
        rows = []
        for g, c in self.curve.groupby("group", sort=False):
            idx = np.searchsorted(c["time"].to_numpy(), times, side="left")
            at = [int(c["at_risk"].iloc[i]) if i < len(c) else 0 for i in idx]
            rows += [{"group": g, "time": t, "at_risk": a} for t, a in zip(times, at, strict=True)]
        return pd.DataFrame(rows)


def test_km_chart_payload_is_bounded_for_many_groups_and_long_curves():
    curve = pd.concat([_curve(9_000, g) for g in ("none", "mTACE", "HAIC", "IMRT")],
                      ignore_index=True)
    spec = charts.km_chart(_FakeKM(curve))
    sizes = [len(v) for v in spec["datasets"].values()]
    assert max(sizes) <= charts.MAX_POINTS_TOTAL
    assert len(json.dumps(spec)) < 800_000


def _views(spec: dict) -> list[dict]:
    return spec["vconcat"]


def _km_demo():
    from hcc_core import fit_km, load_cohort
    from tests.conftest import DATA

    return fit_km(load_cohort(DATA / "demo_cohort.csv").data, "os", by="treatment_group")


def test_km_chart_conventions_ticks_extended_table_medians_styles_and_title():
    km = _km_demo()
    breaks = [0.0, 12.0, 24.0, 36.0]
    spec = charts.km_chart(km, risk_times=breaks, extended_risk=True, median_lines=True,
                           line_styles=True, title="Overall survival (OS) by treatment group",
                           subtitle="All patients · n = 95 · Synthetic demo cohort",
                           answer=["local+systemic vs systemic: HR 0.57 (0.33-0.99), p = 0.048"],
                           group_labels={"systemic": "systemic only"}, responsive=True,
                           font_size=20)
    panel, plot, table = _views(spec)
    # The answer is a framed box on the chart, above the curves.
    assert panel["layer"][0]["mark"]["type"] == "rect"
    lines = panel["layer"][1]["data"]["values"]
    assert [r["label"] for r in lines] == [
        "local+systemic vs systemic: HR 0.57 (0.33-0.99), p = 0.048"]
    # Risk-table times are the axis ticks.
    line = next(layer for layer in plot["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["x"]["axis"]["values"] == breaks
    # KMunicate: at risk, censored and events per group at every tick, as KMResult.risk_table
    # gives them (that table is checked against R in test_survival.py).
    rows = spec["datasets"][table["data"]["name"]]
    got = {(r["row"], r["time"]): r["value"] for r in rows}
    risk = km.risk_table(breaks)
    sys_ = risk[risk["group"] == "systemic"].set_index("time")
    for t in breaks:
        assert got[("systemic only|at risk", t)] == sys_.loc[t, "at_risk"]
        assert got[("systemic only|censored", t)] == sys_.loc[t, "cumulative_censored"]
        assert got[("systemic only|events", t)] == sys_.loc[t, "cumulative_events"]
    assert got[("systemic only|at risk", 0.0)] == 39 and got[("local+systemic|at risk", 0.0)] == 56
    # Row labels never touch the numbers: the padding exceeds half the widest number at t = 0.
    widest = max(len(str(v)) for (_, t), v in got.items() if t == 0.0)
    assert table["encoding"]["y"]["axis"]["labelPadding"] > widest * 20 * 0.6 / 2 + 4
    # Median lines end at each group's median; dashes differ per group; title and subtitle.
    text = json.dumps(spec)
    medians = km.summary["median"].dropna().round(3).tolist()
    assert medians and all(str(m)[:4] in text for m in medians)
    dash = line["encoding"]["strokeDash"]["scale"]["range"]
    assert dash[0] != dash[1]
    assert spec["title"]["text"] == "Overall survival (OS) by treatment group"
    assert spec["title"]["subtitle"] == ["All patients · n = 95 · Synthetic demo cohort"]
    # Legend on the curves; light background (dark app themes stay legible); fits the column.
    assert line["encoding"]["color"]["legend"]["orient"] == "top"
    assert spec["config"]["background"] == "white"
    assert spec["autosize"]["type"] == "fit-x" and plot["width"] == "container"


def test_exports_of_responsive_charts_get_a_fixed_width():
    spec = charts.km_chart(_km_demo(), responsive=True)
    fixed = json.loads(charts._spec_json(spec))
    assert "container" not in json.dumps(fixed)
    assert fixed["vconcat"][0]["width"] == charts.WIDTH


def test_plain_dict_specs_are_valid_vega_lite():
    """km_chart and forest_chart build plain dicts without Altair's schema validation (it was
    most of a redraw's time); here every variant is validated against the Vega-Lite schema
    Altair ships, so a typo in a spec fails a test instead of a chart in the browser."""
    import jsonschema
    from altair.vegalite.v6.schema import load_schema

    from hcc_core import fit_km, load_cohort, subgroup_forest
    from tests.conftest import DATA

    df = load_cohort(DATA / "demo_cohort.csv").data
    km = fit_km(df, "os", by="local_modality")
    forest = subgroup_forest(df, "os", ("child_pugh_class", "bclc_stage"))
    table = pd.DataFrame({"label": ["Treatment", "Age", "Sex"], "hr": [3.0, 1.0, np.nan],
                          "hr_lower": [0.05, 0.9, np.nan], "hr_upper": [40.0, 1.1, np.nan],
                          "p_value": [0.2, 0.9, np.nan]})
    specs = [
        charts.km_chart(km, answer=["a", "b"], median_lines=True, line_styles=True,
                        extended_risk=True, title="OS", subtitle="All · n = 95",
                        p_value_text="p = 0.1", font_size=20),
        charts.km_chart(km, show_ci=False, responsive=False, risk_times=[]),
        charts.forest_chart(table, heading="H", subheading="S"),
        charts.subgroup_forest_chart(forest, arms=("Systemic", "Local"), heading="H"),
    ]
    validator = jsonschema.Draft7Validator(load_schema())
    for spec in specs:
        errors = [e.message for e in validator.iter_errors(json.loads(json.dumps(spec)))]
        assert errors == []


def test_schema_url_is_the_installed_altairs():
    """Plain-dict charts name the Vega-Lite schema without importing Altair at start-up."""
    import altair as alt

    assert charts.SCHEMA_URL == alt.SCHEMA_URL
