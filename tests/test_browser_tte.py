"""Real-browser test of the Survival page's Cumulative incidence and Landmark analyses.

Deep links (board's URL state) open each analysis at projector (1280x720) and desktop
(1920x1080) size; the numbers shown are checked against hcc_core and the screenshots are kept
in test-output/browser/ for a person to look at. Harness from tests/test_browser.py.
"""

from __future__ import annotations

import pytest

from hcc_core import gray_test, load_cohort
from hcc_core import schema as s
from hcc_core.landmark import landmark_survival
from tests.conftest import DATA
from tests.test_browser import (  # noqa: F401 (fixtures)
    _assert_no_exception,
    _shot,
    _wait_idle,
    browser,
    server,
    sized_page,
)

pytestmark = pytest.mark.browser




def _demo():
    return load_cohort(DATA / "demo_cohort.csv").data


def _charts(page, n: int) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length >= {n}",
        timeout=60_000,
    )


def test_cumulative_incidence_deep_link(server, sized_page):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/survival?surv_analysis=Cumulative+incidence&surv_by=treatment_group")
    _wait_idle(page)
    _charts(page, 1)
    _assert_no_exception(page, f"cumulative incidence {size}")
    body = page.inner_text("body")
    gray = gray_test(_demo(), "ttp", s.TREATMENT_GROUP)
    for text in ("Progression (death without progression competes)", "Gray's test",
                 f"Chi-square = {gray.statistic:.3f} on 1 df", "Fine-Gray model",
                 "SHR ", "Cumulative incidence = probability of the event"):
        assert text in body, text
    _shot(page, f"tte_cif_{size}")


def test_landmark_deep_link(server, sized_page):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/survival?surv_analysis=Landmark&surv_by=treatment_group&landmark_at=6.0")
    _wait_idle(page)
    _charts(page, 1)
    _assert_no_exception(page, f"landmark {size}")
    body = page.inner_text("body")
    res = landmark_survival(_demo(), "os", 6.0, s.TREATMENT_GROUP)
    assert "from the 6-month landmark" in body
    assert f"Log-rank chi-square = {res.logrank.statistic:.3f}" in body
    assert res.landmark.notes[0] in body
    _shot(page, f"tte_landmark_{size}")


def test_cox_page_local_therapy_in_time_and_piecewise(server, sized_page):  # noqa: F811
    from hcc_core import PAPER_COX_COVARIATES
    from hcc_core.cox.time_to_event import fit_time_dependent_cox

    size, page = sized_page
    page.goto(server + "/cox")
    _wait_idle(page)
    _charts(page, 1)
    _assert_no_exception(page, f"cox {size}")
    body = page.inner_text("body")
    assert "The proportional-hazards test flags the treatment" in body
    assert "RMST difference at 24 months" in body
    page.get_by_text("Treatment hazard ratio by period").scroll_into_view_if_needed()
    _shot(page, f"tte_cox_piecewise_{size}")
    page.get_by_role("tab", name="Local therapy in time").click()
    _wait_idle(page)
    demo = _demo()
    canonical = [c for c in PAPER_COX_COVARIATES if c != s.TREATMENT_GROUP]  # derived too
    td = fit_time_dependent_cox(demo, "os", canonical)
    row = td.local_hr
    body = page.inner_text("body")
    assert f"HR {row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})" in body
    assert "immortal time" in body
    page.get_by_text("Simon-Makuch curves").scroll_into_view_if_needed()
    _shot(page, f"tte_cox_time_dependent_{size}")
