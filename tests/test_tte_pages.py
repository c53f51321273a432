"""AppTest checks of the Survival page's Cumulative incidence and Landmark analyses (demo cohort).

Values shown are compared with the hcc_core results they come from, which the R reference tests
pin (tests/test_competing.py, tests/test_finegray.py, tests/test_landmark.py).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from hcc_core import cumulative_incidence, fit_finegray, gray_test, load_cohort
from hcc_core import schema as s
from hcc_core.landmark import landmark_survival
from tests.conftest import DATA, ROOT

APP = str(ROOT / "app.py")


def _survival(analysis: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/survival.py")
    at.run()
    at.radio(key="surv_analysis").set_value(analysis).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [h.value for h in at.subheader]
    return "\n".join(parts)


def test_cumulative_incidence_view_shows_gray_and_fine_gray_from_hcc_core():
    demo = load_cohort(DATA / "demo_cohort.csv").data
    at = _survival("Cumulative incidence")
    at.selectbox(key="surv_by").set_value(s.TREATMENT_GROUP).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    gray = gray_test(demo, "ttp", s.TREATMENT_GROUP)
    assert f"Chi-square = **{gray.statistic:.3f}** on 1 df" in text
    assert "Progression (death without progression competes)" in text
    assert "log(-log)" in text and "cmprsk crr" in text
    frames = [d.value for d in at.dataframe]
    summary = next(f for f in frames if "Competing events" in f.columns)
    cif = cumulative_incidence(demo, "ttp", s.TREATMENT_GROUP)
    assert summary["Competing events"].tolist() == cif.summary["competing_events"].tolist()
    r12 = cif.at([12.0]).set_index("group")
    first = summary.iloc[0]
    assert first["12-month cumulative incidence (95% CI)"].startswith(
        f"{100 * r12.loc[cif.groups[0], 'cif']:.1f}% ("
    )
    fg = fit_finegray(demo, "ttp", [s.TREATMENT_GROUP])
    shown = next(f for f in frames if "SHR" in f.columns)
    assert shown["SHR"].iloc[0] == round(fg.table["shr"].iloc[0], 3)


def test_landmark_view_equals_landmark_survival():
    demo = load_cohort(DATA / "demo_cohort.csv").data
    at = _survival("Landmark")
    at.selectbox(key="surv_by").set_value(s.TREATMENT_GROUP).run()
    at.number_input(key="landmark_at").set_value(6.0).run()
    assert not at.exception, [e.value for e in at.exception]
    res = landmark_survival(demo, "os", 6.0, s.TREATMENT_GROUP)
    text = _text(at)
    assert f"Log-rank chi-square = **{res.logrank.statistic:.3f}**" in text
    assert "from the 6-month landmark" in text
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "At risk at the landmark" in f.columns)
    assert table["At risk at the landmark"].tolist() == res.km.summary["n"].tolist()
    assert res.landmark.notes[0] in text


def test_cox_page_time_dependent_tab_and_piecewise_when_ph_flags_treatment():
    from hcc_core import PAPER_COX_COVARIATES, fit_cox, plan_cox
    from hcc_core.cox.time_to_event import fit_time_dependent_cox, piecewise_hr

    demo = load_cohort(DATA / "demo_cohort.csv").data
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/cox.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    fit = fit_cox(demo, "os", list(PAPER_COX_COVARIATES))
    assert fit.ph_test.loc[s.TREATMENT_GROUP, "p_value"] < 0.05  # the demo's treatment fails PH
    assert "The proportional-hazards test flags the treatment" in text
    canonical = [c for c in PAPER_COX_COVARIATES if c != s.TREATMENT_GROUP]  # derived too
    plan = plan_cox(demo, "os", PAPER_COX_COVARIATES)  # the page shows the model the data carry
    shown_fit = plan.full if plan.full_is_adequate or plan.reduced is None else plan.reduced
    adjust = [c for c in shown_fit.covariates if c != s.TREATMENT_GROUP]
    pw = piecewise_hr(demo, "os", adjust, (12.0,))
    frames = [d.value for d in at.dataframe]
    shown = next(f for f in frames if f.columns[0] == "Period")  # in words, numbers formatted
    assert shown["Period"].tolist() == pw.table["period"].tolist()
    assert shown["HR (95% CI)"].tolist() == [
        f"{r.hr:.2f} ({r.hr_lower:.2f}-{r.hr_upper:.2f})" for r in pw.table.itertuples()]
    assert "RMST difference at 24 months" in text  # beside the piecewise HRs (Model tab)
    at.query_params["cox_tab"] = "time"  # tabs render when opened (a link to the tab)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    td = fit_time_dependent_cox(demo, "os", canonical)
    row, naive = td.local_hr, td.naive_hr
    assert f"HR {row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})" in text
    assert f"HR {naive['hr']:.2f} ({naive['hr_lower']:.2f}-{naive['hr_upper']:.2f})" in text
    assert "immortal time" in text and "Simon-Makuch curves" in text
    assert "Covariates not used in this model" not in text  # log10 AFP, BCLC C vs A/B included
    assert "RMST difference at 24 months" not in text  # only the open tab is computed
