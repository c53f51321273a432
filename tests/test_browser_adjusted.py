"""Real-browser test of the Adjusted comparison page at projector and desktop sizes.

Opens the page on the demo cohort, checks that the numbers shown are hcc_core's (the three
hazard ratios, the E-value, the weighted numbers at risk stated as such), switches to matching,
turns on presentation mode, and keeps screenshots in test-output/browser/ for a person to look
at. Harness (server, chromium, waits) from tests/test_browser.py.
"""

from __future__ import annotations

import pytest

from hcc_core import adjusted_comparison, load_cohort
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


def _shots(page, name: str) -> None:
    """Screenshots of the whole page, one per screenful (Streamlit scrolls inside stMain)."""
    height = page.viewport_size["height"]
    total = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    for i, top in enumerate(range(0, total, height - 60)):
        page.evaluate(
            f"() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, {top})")
        page.wait_for_timeout(300)
        _shot(page, f"{name}_{i + 1:02d}")
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")


def _charts(page, n: int) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length >= {n}",
        timeout=60_000,
    )


def test_adjusted_page_iptw_then_matching(server, sized_page):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/adjusted")
    _wait_idle(page)
    _charts(page, 4)
    _assert_no_exception(page, f"adjusted {size}")
    body = page.inner_text("body")
    res = adjusted_comparison(_demo(), "os")
    hr = res.hazard_ratios
    for text in ("Adjusted comparison", "Treatment hazard ratio, three ways", "Unadjusted",
                 "Multivariable Cox", "Propensity score weighted (ATE)",
                 "Weighted number at risk", "Covariate balance",
                 "Propensity score distribution", "Effective sample size"):
        assert text in body, text
    for key in ("unadjusted", "multivariable", "propensity"):
        r = hr.loc[key]
        assert f"HR {r['hr']:.2f} ({r['hr_lower']:.2f}-{r['hr_upper']:.2f})" in body, key
    assert f"E-value {res.e_value:.2f}" in body
    assert f"c-statistic of the score {res.propensity.c_statistic:.3f}" in body
    _shots(page, f"adjusted_iptw_{size}")

    page.get_by_text("1:1 nearest-neighbour matching", exact=True).click()
    _wait_idle(page)
    _charts(page, 4)
    _assert_no_exception(page, f"adjusted matching {size}")
    body = page.inner_text("body")
    m = adjusted_comparison(_demo(), "os", method="match", caliper=0.2)
    r = m.hazard_ratios.loc["propensity"]
    assert "Propensity score matched (ATT)" in body
    assert f"HR {r['hr']:.2f} ({r['hr_lower']:.2f}-{r['hr_upper']:.2f})" in body
    assert "nearest-neighbour matching (caliper 0.2 SD of the logit" in body
    _shots(page, f"adjusted_match_{size}")

    # The settings are in the URL: a shared link opens the same analysis.
    assert "adj_method=" in page.url, page.url
    other = page.context.new_page()
    other.goto(page.url)
    _wait_idle(other)
    _charts(other, 4)
    assert "Propensity score matched (ATT)" in other.inner_text("body")
    other.close()

    # The balance table's CSV: stamped, numbers as the page shows them.
    with page.expect_download() as dl:
        page.locator(".st-key-csv_adjusted_balance button").click()
    text = open(dl.value.path(), encoding="utf-8-sig").read()  # Excel-friendly BOM
    lines = text.splitlines()
    assert lines[0].startswith("#") and "nearest-neighbour matching" in text
    bal = m.propensity.balance
    header = next(i for i, line in enumerate(lines) if line.startswith("Term,"))
    row = next(line for line in lines[header:] if line.startswith("Age (years),"))
    assert row.split(",")[2] == f"{round(bal.loc['age', 'smd_after'], 3):g}"


def test_adjusted_page_presentation_mode(server, sized_page):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/adjusted")
    _wait_idle(page)
    page.get_by_text("Presentation mode (larger text)").click()
    _wait_idle(page)
    _charts(page, 4)
    _assert_no_exception(page, f"adjusted presentation {size}")
    _shots(page, f"adjusted_presentation_{size}")
