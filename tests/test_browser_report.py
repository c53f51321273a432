"""Real-browser test of the meeting pack: the Report page, the sidebar downloads, the sentence
on the Survival page and a link made with other data.

At projector (1280x720) and desktop (1920x1080) size, as a new user would: open the Report
page of the demo cohort and of a filtered subgroup, download the slides and the report, open
them with python-pptx / python-docx and check that their numbers are the page's. Screenshots
and the downloaded files are kept in test-output/browser/ for a person to look at (render the
slides with ``soffice --headless --convert-to pdf``). Harness from tests/test_browser.py.
"""

from __future__ import annotations

import io

import pytest
from docx import Document
from pptx import Presentation

from hcc_core import Filters, apply_filters, fit_cox, fit_km, load_cohort, logrank_test
from hcc_core import schema as S
from hcc_core.report import survival_sentence
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
DEMO = load_cohort(DATA / "demo_cohort.csv")
SUBGROUP = Filters(child_pugh_classes=("A",), bclc_stages=("C",))




def _sentences(df) -> list[str]:
    by = S.TREATMENT_GROUP
    return [survival_sentence(fit_km(df, ep, by=by), logrank_test(df, ep, by),
                              fit_cox(df, ep, (by,))) for ep in ("os", "pfs")]


def _wait_text(page, text: str, timeout: int = 120_000) -> None:
    """Wait until the page shows ``text`` (a rerun can still be drawing the last blocks)."""
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=text,
                           timeout=timeout)


def _download(page, label: str, name: str) -> tuple[str, bytes]:
    button = page.locator('[data-testid="stSidebar"]').get_by_role("button", name=label)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    download = info.value
    path = SHOTS / name
    download.save_as(path)
    return download.suggested_filename, path.read_bytes()


def _slide_text(data: bytes) -> str:
    prs = Presentation(io.BytesIO(data))
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize(("query", "filters", "tag"), [
    ("", Filters(), "all"),
    ("?child_pugh=A&bclc=C", SUBGROUP, "cp-A_bclc-C"),
])
def test_report_page_and_downloads(server, sized_page, query, filters, tag):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/report" + query)
    _wait_idle(page, timeout=120_000)
    page.get_by_text("Results in words").first.wait_for(timeout=60_000)
    _assert_no_exception(page, f"report page {size} {tag}")
    df = apply_filters(DEMO.data, filters)
    for sentence in _sentences(df):
        _wait_text(page, sentence)
    body = page.inner_text("body")
    assert f"Patients: {len(df)} of 95 patients" in body
    assert DEMO.sha256[:12] in body
    page.screenshot(path=str(SHOTS / f"report_{tag}_{size}.png"))  # the first screen
    _shot(page, f"report_{tag}_{size}_full")

    name, pptx = _download(page, "Download slides (.pptx)", f"slides_{tag}_{size}.pptx")
    assert name == f"slides_{tag}.pptx"
    text = _slide_text(pptx)
    for sentence in _sentences(df):
        assert sentence in text
    assert f"n = {len(df)} of 95" in text and DEMO.sha256[:12] in text

    name, docx = _download(page, "Download report (.docx)", f"report_{tag}_{size}.docx")
    assert name == f"report_{tag}.docx"
    doc = Document(io.BytesIO(docx))
    paragraphs = "\n".join(p.text for p in doc.paragraphs)
    for sentence in _sentences(df):
        assert sentence in paragraphs
    assert f"n = {len(df)} of 95" in doc.sections[0].footer.paragraphs[0].text


def test_survival_sentence_and_a_link_made_with_other_data(server, sized_page):  # noqa: F811
    size, page = sized_page
    page.goto(server + "/survival?data=0123456789ab")
    _wait_idle(page, timeout=120_000)
    _assert_no_exception(page, f"survival {size}")
    _wait_text(page, _sentences(DEMO.data)[0])
    body = page.inner_text("body")
    assert "This link was made with different data (data fingerprint 0123456789ab)" in body
    assert _sentences(DEMO.data)[0] in body
    assert f"data={DEMO.sha256[:12]}" in page.url
    _shot(page, f"survival_sentence_other_data_{size}")


def _main_download(page, label: str, name: str) -> tuple[str, bytes]:
    button = page.locator('[data-testid="stMain"]').get_by_role("button", name=label).first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=120_000) as info:
        button.click()
    path = SHOTS / name
    info.value.save_as(path)
    return info.value.suggested_filename, path.read_bytes()


def test_table_and_chart_downloads_say_where_they_come_from(server, browser):  # noqa: F811
    import openpyxl

    context = browser.new_context(viewport={"width": 1280, "height": 720},
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(server + "/baseline?child_pugh=A&bclc=C")
    _wait_idle(page, timeout=120_000)
    name, xlsx = _main_download(page, "Download Excel", "table1_download.xlsx")
    assert name == "table1_cp-A_bclc-C.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["table1", "Notes"]
    notes = [c.value for c in book["Notes"]["A"]]
    assert "Population: Child-Pugh class A; BCLC stage C" in notes
    assert any(DEMO.sha256[:12] in str(n) for n in notes)
    sheet = book["table1"]
    heads = [c.value for c in sheet[1]]
    age = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "Age (years)")
    for col in ("Statistic", "p", "SMD"):
        assert age[heads.index(col)].data_type == "n", col

    page.goto(server + "/survival?child_pugh=A&bclc=C")
    _wait_idle(page, timeout=120_000)
    name, svg = _main_download(page, "Download SVG", "km_download.svg")
    assert name == "km_os_cp-A_bclc-C.svg"
    text = svg.decode("utf-8")
    n = len(apply_filters(DEMO.data, SUBGROUP))
    for part in (f"Child-Pugh class A; BCLC stage C · n = {n} of 95 · OS", "Kaplan-Meier",
                 DEMO.sha256[:12], "synthetic demo data"):
        assert part in text, part
    context.close()
