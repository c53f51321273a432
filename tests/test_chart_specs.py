"""The chart builders' plain Vega-Lite dicts are the specs Altair built (issue 19).

Charts skip Altair's objects, copies and schema validation on every redraw; the browser must
still get the same spec. The response bars, Love plot and PS histogram are compared with the
Altair code they replaced (kept below, validated by Altair's ``to_dict()``), on the demo
cohort in English and Chinese and on edge cases (missing values, no overlap, no heading).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hcc_core import charts, fit_propensity, load_cohort, response_rates
from hcc_core import schema as S
from hcc_core.charts import OKABE_ITO, WIDTH, _colour_scale, _config
from hcc_core.i18n import _, set_language
from tests.conftest import DATA

alt = pytest.importorskip("altair")


def _altair(chart, font_size: int) -> dict:
    chart.config = alt.Config(**_config(font_size))
    return chart.to_dict()  # validates against the Vega-Lite schema


# The Altair builders as they were before the plain-dict ones (hcc_core/charts.py, 2026-11-30).
def altair_response_bar_chart(counts, *, heading=None, subheading=None, width=560,
                              font_size=14):
    order = ["CR", "PR", "SD", "PD", "NE"]
    palette = [OKABE_ITO[2], OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[1], "#999999"]
    d = counts.assign(group=counts["group"].astype(str),
                      order=counts["response"].map({r: i for i, r in enumerate(order)}))
    chart = (
        alt.Chart(d)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, sort=list(pd.unique(d["group"]))),
            x=alt.X("n:Q", stack="normalize", title=_("Patients (%)"),
                    axis=alt.Axis(format="%")),
            color=alt.Color("response:N", scale=alt.Scale(domain=order, range=palette),
                            title=_("Best response (mRECIST)"),
                            legend=alt.Legend(orient="top", titleLimit=0)),
            order=alt.Order("order:Q"),
            tooltip=["group:N", "response:N", "n:Q",
                     alt.Tooltip("percent:Q", format=".1f", title="%")],
        )
        .properties(width=width, height=max(60 * d["group"].nunique(), 120))
    )
    out = alt.vconcat(chart)
    if heading:
        out = out.properties(title=alt.TitleParams(heading, subtitle=subheading or ""))
    return _altair(out, font_size)


def altair_love_plot(balance, *, threshold=0.1, font_size=14):
    labels = balance["label"].astype(str).tolist()
    samples = [_("Before adjustment"), _("After adjustment")]
    d = pd.concat([
        pd.DataFrame({"label": labels, "sample": samples[0],
                      "smd": balance["smd_before"].abs().to_numpy()}),
        pd.DataFrame({"label": labels, "sample": samples[1],
                      "smd": balance["smd_after"].abs().to_numpy()}),
    ], ignore_index=True)
    x_max = max(float(np.nanmax(d["smd"])) if len(d) else 0.0, threshold) * 1.1
    x = alt.X("smd:Q", title=_("Absolute standardised mean difference"),
              scale=alt.Scale(domain=[0, x_max], nice=False),
              axis=alt.Axis(tickCount=6, labelOverlap=True, format=".2~f"))
    y = alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=320))
    points = alt.Chart(d).mark_point(size=110, filled=True).encode(
        x=x, y=y,
        color=alt.Color("sample:N", scale=alt.Scale(domain=samples,
                                                    range=[OKABE_ITO[1], OKABE_ITO[0]]),
                        title=None, legend=alt.Legend(orient="top")),
        shape=alt.Shape("sample:N", scale=alt.Scale(domain=samples, range=["circle", "square"]),
                        legend=None),
        tooltip=[alt.Tooltip("label:N", title=_("Term")), alt.Tooltip("sample:N", title=""),
                 alt.Tooltip("smd:Q", title="|SMD|", format=".3f")],
    )
    rule = alt.Chart(pd.DataFrame({"t": [threshold]})).mark_rule(
        strokeDash=[4, 4], color="#555").encode(x="t:Q")
    chart = alt.layer(rule, points).properties(width=WIDTH - 280,
                                               height=max(26 * len(labels), 80))
    return _altair(alt.vconcat(chart), font_size)


def altair_ps_histogram_chart(hist, overlap, *, font_size=14):
    groups = [str(g) for g in pd.unique(hist["group"])]
    d = hist.assign(group=hist["group"].astype(str))
    d["height"] = np.where(d["group"] == groups[0], d["count"], -d["count"])
    top = max(int(d["count"].max()) if len(d) else 1, 1)
    x = alt.X("bin_start:Q", title=_("Propensity score"), scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("height:Q", title=_("Patients"),
              scale=alt.Scale(domain=[-top * 1.1, top * 1.1]),
              axis=alt.Axis(labelExpr="abs(datum.value)"))
    layers = []
    lo, hi = overlap
    if np.isfinite(lo) and np.isfinite(hi):
        layers.append(alt.Chart(pd.DataFrame({"lo": [lo], "hi": [hi]})).mark_rect(
            color="#999999", opacity=0.15).encode(x="lo:Q", x2="hi:Q"))
    layers.append(alt.Chart(d[d["count"] > 0]).mark_bar(opacity=0.85).encode(
        x=x, x2="bin_end:Q", y=y, y2=alt.datum(0),
        color=alt.Color("group:N", scale=_colour_scale(groups), title=None,
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("group:N", title=_("Group")),
                 alt.Tooltip("bin_start:Q", title=_("PS from"), format=".2f"),
                 alt.Tooltip("bin_end:Q", title=_("PS to"), format=".2f"),
                 alt.Tooltip("count:Q", title=_("Patients"))],
    ))
    layers.append(alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="#333").encode(
        y="zero:Q"))
    chart = alt.layer(*layers).properties(
        width=WIDTH - 160, height=300,
        title=alt.Title(_("{first} above the axis, {second} below").format(
                            first=groups[0], second=groups[1]),
                        subtitle=_("shaded: the range of scores both groups reach")))
    return _altair(alt.vconcat(chart), font_size)


def _same(new: dict, old: dict) -> None:
    """Equal as the browser reads them: the same JSON, key order aside."""
    assert json.loads(json.dumps(new)) == json.loads(json.dumps(old))


@pytest.fixture(params=["en", "zh"])
def language(request):
    set_language(request.param)
    yield request.param
    set_language("en")


@pytest.fixture(scope="module")
def demo():
    return load_cohort(DATA / "demo_cohort.csv").data


@pytest.fixture(scope="module")
def propensity(demo):
    return fit_propensity(demo, ["age", S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.AFP])


def test_response_bars_are_the_altair_spec(demo, language):
    by_arm = response_rates(demo, by=S.TREATMENT_GROUP).counts
    by_modality = response_rates(demo, by=S.LOCAL_MODALITY, overall=True).counts
    _same(charts.response_bar_chart(by_arm, heading=_("Best overall response (mRECIST)"),
                                    subheading="All patients · n = 95"),
          altair_response_bar_chart(by_arm, heading=_("Best overall response (mRECIST)"),
                                    subheading="All patients · n = 95"))
    _same(charts.response_bar_chart(by_modality, font_size=20, width=400, heading="H"),
          altair_response_bar_chart(by_modality, font_size=20, width=400, heading="H"))
    # A response outside CR..NE (no order: null) and a missing percent.
    odd = pd.DataFrame({"group": ["a", "a", "b"], "response": ["CR", "?", "PD"],
                        "n": [1, 2, 3], "percent": [33.3, np.nan, 100.0]})
    _same(charts.response_bar_chart(odd), altair_response_bar_chart(odd))


def test_love_plot_is_the_altair_spec(propensity, language):
    balance = propensity.balance
    _same(charts.love_plot(balance), altair_love_plot(balance))
    _same(charts.love_plot(balance, threshold=0.25, font_size=20),
          altair_love_plot(balance, threshold=0.25, font_size=20))
    missing = balance.assign(smd_after=[np.nan, *balance["smd_after"].iloc[1:]])
    _same(charts.love_plot(missing), altair_love_plot(missing))


def test_ps_histogram_is_the_altair_spec(propensity, language):
    hist = propensity.ps_histogram()
    _same(charts.ps_histogram_chart(hist, propensity.overlap),
          altair_ps_histogram_chart(hist, propensity.overlap))
    _same(charts.ps_histogram_chart(hist, (np.nan, np.nan), font_size=20),
          altair_ps_histogram_chart(hist, (np.nan, np.nan), font_size=20))


# Kaplan-Meier, cumulative incidence and forest charts were plain dicts before; their specs on
# the demo cohort are pinned in a fixture written by the code before it was made faster
# (`python -m tests.test_chart_specs` rewrites it: only when a chart is meant to change).
SPECS = DATA.parent / "tests" / "reference" / "chart_specs_demo.json"


def _pinned_charts(df) -> dict:
    from hcc_core import (
        PAPER_COX_COVARIATES,
        cox_univariable,
        cumulative_incidence,
        fit_cox,
        fit_km,
        subgroup_forest,
    )
    from hcc_core.suppression import suppressing

    km_arm = fit_km(df, "os", by=S.TREATMENT_GROUP, conf_type="log-log")
    km_mod = fit_km(df, "pfs", by=S.LOCAL_MODALITY)
    cif = cumulative_incidence(df, "ttp", by=S.TREATMENT_GROUP)
    cox = fit_cox(df, "os", tuple(PAPER_COX_COVARIATES)).table.reset_index(names="term")
    cox["label"] = cox["term"]
    uni = cox_univariable(df, "os", tuple(PAPER_COX_COVARIATES)).reset_index(names="term")
    uni["label"] = uni["term"]
    forest = subgroup_forest(df, "os", (S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.LOCAL_MODALITY))

    def km_suppressed():
        with suppressing(5):
            return charts.km_chart(km_mod, extended_risk=True)

    return {
        "km_arm": lambda: charts.km_chart(
            km_arm, p_value_text="Log-rank p = 0.012", title="OS", answer=["n = 95", "HR"],
            subtitle="All patients · n = 95 · Overall survival (OS) · demo data"),
        "km_modality": lambda: charts.km_chart(
            km_mod, median_lines=True, line_styles=True, extended_risk=True, font_size=20,
            group_labels={"none": "systemic only"}, responsive=False),
        "km_suppressed": km_suppressed,
        "cif": lambda: charts.cif_chart(cif, show_ci=False, p_value_text="Gray's p = 0.3"),
        "forest_cox": lambda: charts.forest_chart(
            cox, label_header=_("Covariate"), heading="OS: hazard ratios", subheading="S"),
        "forest_univariable": lambda: charts.forest_chart(
            uni, label_header=_("Covariate"), counts=[(_("Events/n"), "events", "n")],
            font_size=20),
        "subgroup_forest": lambda: charts.subgroup_forest_chart(forest, heading="H"),
    }


def _close(new, old, where: str = "") -> None:
    """Equal, numbers to 1e-9 (the statistics under them may move in the last digits)."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and new.keys() == old.keys(), where
        for k in old:
            _close(new[k], old[k], f"{where}/{k}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(old, float):
        assert type(new) is float and new == pytest.approx(old, rel=1e-9, abs=1e-12), where
    else:
        assert type(new) is type(old) and new == old, where


def _specs(df) -> dict:
    out = {}
    for lang in ("en", "zh"):
        set_language(lang)
        try:
            out.update({f"{name}_{lang}": json.loads(json.dumps(build()))
                        for name, build in _pinned_charts(df).items()})
        finally:
            set_language("en")
    return out


def test_km_cif_and_forest_specs_are_pinned(demo):
    """If a chart is meant to change (a new label, a translation), rewrite the fixture with
    ``python -m tests.test_chart_specs`` and say so in the commit."""
    pinned = json.loads(SPECS.read_text(encoding="utf-8"))
    specs = _specs(demo)
    assert specs.keys() == pinned.keys()
    for name, spec in specs.items():
        _close(spec, pinned[name], name)


if __name__ == "__main__":
    SPECS.write_text(json.dumps(_specs(load_cohort(DATA / "demo_cohort.csv").data),
                                ensure_ascii=False, separators=(",", ":"), sort_keys=True),
                     encoding="utf-8")
