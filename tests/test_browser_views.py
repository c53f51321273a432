"""Real-browser tests of the Cox, Table 1, Response and Safety pages at projector and desktop
sizes, in presentation mode: nothing wider than the viewport, no "nan"/"None"/"0.00 (0.00-inf)",
the settings of a shared link restored, and the one-patient link that once crashed the forest
chart (issue #18 item 7). Screenshots (one per screenful) go to test-output/browser/ for a
person to look at. Harness (server, chromium, waits, layout probe) from tests/test_browser.py.
"""

from __future__ import annotations

import re

import pytest

from tests.test_browser import (  # noqa: F401 (fixtures)
    _LAYOUT_JS,
    _assert_no_exception,
    _shot,
    _wait_idle,
    browser,
    server,
    sized_page,
)

pytestmark = pytest.mark.browser
BAD = re.compile(r"\bnan\b|\bNone\b(?! of)|\(0\.00-inf\)|0\.00 \(0\.00|NR \(NR-NR\)")
# (name, link, text that must be on the page)
VIEWS = [
    ("cox_model", "cox?presentation=true", "Unadjusted HR 0.57 (0.33-0.99)"),
    ("cox_subgroups", "cox?presentation=true&cox_tab=subgroups",
     "treatment effect by subgroup"),
    ("cox_univariable", "cox?presentation=true&cox_tab=univariable", "univariable"),
    ("table1_modality", "baseline?presentation=true&t1_by=local_modality",
     "Systemic only (N = 39)"),
    ("response", "response?presentation=true", "Overall (N = 95)"),
    ("safety_modality", "safety?presentation=true&ae_by=local_modality", "HAIC (N = 20)"),
]




def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _shots(page, name: str) -> None:
    """One screenshot per screenful (Streamlit scrolls inside stMain)."""
    height = page.viewport_size["height"]
    total = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    for i, top in enumerate(range(0, min(total, 8 * height), height - 60)):
        page.evaluate(
            f"() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, {top})")
        page.wait_for_timeout(300)
        _shot(page, f"{name}_{i + 1:02d}")
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")


@pytest.mark.parametrize("name, link, expected", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_fit_the_screen_and_read_cleanly(server, sized_page, name, link, expected):  # noqa: F811
    size, page = sized_page
    page.goto(f"{server}/{link}")
    _wait_idle(page)
    if page.locator(".vega-embed").count():
        page.wait_for_function(
            "() => document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length > 0",
            timeout=60_000)
        page.wait_for_timeout(800)
    _assert_no_exception(page, link)
    text = _main_text(page)
    assert expected in text, f"{expected!r} not on {link}"
    assert not BAD.search(text), f"{BAD.search(text).group(0)!r} shown on {link}"
    found = page.evaluate(_LAYOUT_JS)
    mine = [w for w in found["wide"] if "vega" in w.lower() or "Table" in w or "stVegaLite" in w]
    assert not mine, f"wider than the viewport on {link} at {size}: {mine[:5]}"
    _shots(page, f"views_{name}_{size}")


@pytest.mark.parametrize("tab", ["model", "univariable", "subgroups"])
def test_one_patient_link_shows_messages_not_a_crash(server, browser, tab):  # noqa: F811
    """?modality=IMRT&child_pugh=B leaves one patient (issue #18 item 7)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{server}/cox?modality=IMRT&child_pugh=B&cox_tab={tab}")
        _wait_idle(page)
        _assert_no_exception(page, f"one patient, {tab}")
        text = _main_text(page)
        assert "n = 1" in text
        assert ("only one treatment group" in text or "No covariate could be fitted" in text
                or "compares two arms" in text), text[:1500]
        assert not BAD.search(text)
        _shot(page, f"views_cox_one_patient_{tab}")
    finally:
        context.close()
