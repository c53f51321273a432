"""Real-browser test of the Chinese interface (issue 17): every page (the Report page too)
opened with ``lang=zh`` at 1280x720 and 1920x1080 shows Chinese, and no English source string of
the catalogues (app.po, core.po) appears untranslated on it; the link keeps ``lang=zh`` through a
filter change and a page switch, and a Cox tab link opens the same tab in either language.
Screenshots go to test-output/browser/zh_*.png. Harness (server, chromium) from
tests/test_browser.py.
"""

from __future__ import annotations

import re
import time

import pytest
from babel.messages.pofile import read_po

from hcc_core import schema as S
from tests.conftest import ROOT
from tests.test_browser import (  # noqa: F401 (fixtures)
    PAGES,
    SHOTS,
    _assert_no_exception,
    _choose_in_sidebar,
    _wait_idle,
    browser,
    server,
    sized_page,
)

pytestmark = pytest.mark.browser
CATALOGUES = ROOT / "hcc_core" / "locale" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
MARKDOWN = re.compile(r"[*_`]")
# The provenance line names the software and its version as every export does ("由 HCC Cohort
# Explorer 0.1.0 于 ... 生成"): a name that traces a file, not interface text.
SOFTWARE_NAME = {"HCC Cohort Explorer"}
# Column and model-term codes that a table must show in words ("albumin_g_l" -> 白蛋白).
RAW_CODES = {c.name for c in S.COLUMNS if "_" in c.name} | {"hr_lower", "hr_upper", "p_value"}
# Every page of app.py's navigation: test_browser's list and the meeting pack's Report page.
ZH_PAGES = {**PAGES, "report": "Report"}


def english_phrases() -> set[str]:
    """English text a page would show if a string were left untranslated.

    Each translated msgid, or for one with {placeholders} its longest literal part; Markdown
    marks removed (the page shows the text, not the asterisks). Phrases of two words or more,
    so a name that reads the same in both languages ("Kaplan-Meier", "Log-rank") is not counted.
    """
    phrases = set()
    for po in sorted(CATALOGUES.glob("*.po")):
        with po.open("rb") as handle:
            for m in read_po(handle, locale="zh_CN"):
                if not m.id or not m.string:
                    continue
                msgid = m.id if isinstance(m.id, str) else m.id[0]
                string = m.string if isinstance(m.string, str) else m.string[0]
                if string == msgid:
                    continue
                parts = [MARKDOWN.sub("", p).strip(" .,:;()") for p in PLACEHOLDER.split(msgid)]
                phrase = max(parts, key=len)
                if sum(bool(re.search(r"[A-Za-z]{2,}", w)) for w in phrase.split()) >= 2:
                    phrases.add(phrase)
    return phrases


def test_catalogue_phrases_are_many():
    assert len(english_phrases()) > 300  # the check below is not vacuous


@pytest.mark.parametrize("name", list(ZH_PAGES))
def test_page_in_chinese_shows_no_english_catalogue_string(server, sized_page, name):  # noqa: F811
    size, page = sized_page
    page.goto(f"{server}/{name}?lang=zh")
    _wait_idle(page)
    _assert_no_exception(page, f"{name or 'overview'} (lang=zh)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"zh_{name or 'overview'}_{size}.png"), full_page=True)
    body = page.inner_text("body")
    assert "语言" in body and "HCC 队列分析平台" in body  # the sidebar is in Chinese
    assert re.search(r"[\u4e00-\u9fff]", page.locator('[data-testid="stMain"]').inner_text())
    # Interactive tables draw on a canvas; their text is in the grid's accessible table.
    grids = " ".join(t.text_content() or ""
                     for t in page.locator('[data-testid="stDataFrame"] table').all())
    left = sorted(p for p in english_phrases() - SOFTWARE_NAME if p in body or p in grids)
    assert left == [], f"untranslated on {name or 'overview'} at {size}: {left[:10]}"
    codes = sorted(c for c in RAW_CODES if re.search(rf"(?<![\w.]){re.escape(c)}(?!\w)", grids))
    assert codes == [], f"code names in the tables of {name or 'overview'} at {size}: {codes}"


def test_link_keeps_lang_zh_through_filter_and_page_switch(server, sized_page):  # noqa: F811
    """A shared link must keep the language: ``lang=zh`` stays in the URL after a sidebar
    filter change and after switching page in the sidebar navigation, and the Cox tab is in the
    link as a code, so the link opens the same tab in English."""
    size, page = sized_page
    page.goto(f"{server}/survival?lang=zh")
    _wait_idle(page)
    assert "lang=zh" in page.url, page.url
    _choose_in_sidebar(page, "Child-Pugh 分级", "B")
    # The widget shows "B" at once; wait for the server's run to write the link.
    deadline = time.time() + 120
    while time.time() < deadline and "child_pugh=B" not in page.url:
        page.wait_for_timeout(200)
    _wait_idle(page)
    assert "child_pugh=B" in page.url and "lang=zh" in page.url, page.url
    page.locator('[data-testid="stSidebarNav"] a', has_text="Cox 回归").first.click()
    _wait_idle(page)
    assert "/cox" in page.url and "lang=zh" in page.url and "child_pugh=B" in page.url, page.url
    assert "Cox 回归" in page.locator('[data-testid="stMain"] h1').first.inner_text()
    page.get_by_role("tab", name="单因素筛选").click()
    _wait_idle(page)
    assert "cox_tab=univariable" in page.url and "lang=zh" in page.url, page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"zh_link_cox_univariable_{size}.png"))
    page.locator('[data-testid="stSidebarNav"] a', has_text="概览").first.click()
    _wait_idle(page)
    assert "lang=zh" in page.url and "child_pugh=B" in page.url, page.url
    english = page.context.new_page()  # the same link, read by an English colleague
    english.goto(page.url.replace("lang=zh", "lang=en").replace(f"{server}/?", f"{server}/cox?")
                 + "&cox_tab=univariable")
    _wait_idle(english)
    selected = english.locator('[role="tab"][aria-selected="true"]').inner_text()
    assert selected == "Univariable screen", selected
    assert "cox_tab=univariable" in english.url, english.url
    english.close()
