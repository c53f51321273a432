"""Real-browser test of the Chinese interface (issue 17): every page opened with ``lang=zh`` at
1280x720 and 1920x1080 shows Chinese, and no English source string of the catalogues
(app.po, core.po) appears untranslated on it. Screenshots go to test-output/browser/zh_*.png.
Harness (server, chromium) from tests/test_browser.py.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from tests.conftest import ROOT
from tests.test_browser import (  # noqa: F401 (fixtures)
    PAGES,
    SHOTS,
    _assert_no_exception,
    _wait_idle,
    browser,
    server,
    sized_page,
)

pytestmark = pytest.mark.browser
CATALOGUES = ROOT / "hcc_core" / "locale" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
MARKDOWN = re.compile(r"[*_`]")


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


@pytest.mark.parametrize("name", list(PAGES))
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
    left = sorted(p for p in english_phrases() if p in body)
    assert left == [], f"untranslated on {name or 'overview'} at {size}: {left[:10]}"
