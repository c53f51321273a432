"""Real browser: small-cell suppression switched on by a shared link (issue 18 item 6).

At 1280x720 and 1920x1080: Table 1, response and adverse events show the hidden cells as "<5"
with the footnote, the Survival page's risk table says so, the sidebar switch is on, and the
downloaded slides carry "<5" cells and the footnote. Screenshots in test-output/browser/.
Harness from tests/test_browser.py.
"""

from __future__ import annotations

import io

import pytest
from pptx import Presentation

from hcc_core import format_table_one, load_cohort, table_one
from hcc_core import suppression as sup
from tests.conftest import DATA
from tests.test_browser import (  # noqa: F401 (fixtures)
    SHOTS,
    _assert_no_exception,
    _shot,
    _wait_idle,
    browser,
    server,
    sized_page,
)

pytestmark = pytest.mark.browser
NOTE = "Counts below 5 shown as <5."
DEMO = load_cohort(DATA / "demo_cohort.csv").data


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_suppressed_tables_risk_table_and_slides(server, sized_page):  # noqa: F811
    size, page = sized_page
    with sup.suppressing(5):
        expected = format_table_one(table_one(DEMO, by="treatment_group"))
    hidden_rows = [
        str(r.iloc[0]).strip() for _, r in expected.iterrows() if "<5" in list(r.iloc[1:3])
    ]
    assert hidden_rows, "the demo cohort's Table 1 has small cells to hide"

    page.goto(f"{server}/baseline?suppress=true")
    _wait_idle(page)
    _assert_no_exception(page, "baseline")
    toggle = page.locator('[data-testid="stSidebar"]').get_by_role("switch", name="Hide counts below 5")
    assert toggle.is_checked()
    text = _main_text(page)
    assert NOTE in text and "<5" in text
    _shot(page, f"suppression_baseline_{size}")

    for url in ("response", "safety"):
        page.goto(f"{server}/{url}?suppress=true")
        _wait_idle(page)
        _assert_no_exception(page, url)
        text = _main_text(page)
        assert NOTE in text and "<5" in text, url
        _shot(page, f"suppression_{url}_{size}")

    # Child-Pugh B: small groups, so the numbers at risk under the curves are hidden.
    page.goto(f"{server}/survival?suppress=true&child_pugh=B")
    _wait_idle(page)
    _assert_no_exception(page, "survival")
    page.wait_for_timeout(1500)  # the charts draw after the run
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 1
    _shot(page, f"suppression_survival_{size}")
    chart = charts.first  # the KM chart with its number-at-risk row ("<5" drawn on a canvas)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    chart.screenshot(path=str(SHOTS / f"suppression_km_chart_{size}.png"))

    with page.expect_download(timeout=180_000) as info:
        page.locator('[data-testid="stSidebar"]').get_by_role(
            "button", name="Download slides (.pptx)").click()
    path = SHOTS / f"suppression_slides_{size}.pptx"
    info.value.save_as(path)
    deck = Presentation(io.BytesIO(path.read_bytes()))
    cells, texts = [], []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                cells += [c.text for row in shape.table.rows for c in row.cells]
            elif shape.has_text_frame:
                texts.append(shape.text_frame.text)
    assert "<5" in cells
    assert sum(NOTE in t for t in texts) >= len(deck.slides) - 1  # every footer (not the title)
