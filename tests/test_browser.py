"""Real-browser end-to-end tests: Debian's chromium driven by Playwright against `streamlit run`.

As a new user would: open the app, see the demo Kaplan-Meier chart, change a filter and see n
and the chart update, upload a CSV with non-canonical headers, map it, see results, visit every
page, and never see an exception. Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import ast
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from hcc_core import load_cohort, logrank_test
from tests.conftest import DATA, ROOT, need_tool

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output" / "browser"
PAGES = {"": "Overview", "survival": "Survival", "cox": "Cox regression",
         "adjusted": "Adjusted comparison",
         "baseline": "Baseline (Table 1)", "response": "Response", "safety": "Safety",
         "paper_check": "Paper check", "upload": "Upload data"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SHOTS / "server.log", "wb")  # a file, not a pipe: a full pipe would stall it
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.close()
        pytest.fail("streamlit did not answer /_stcore/health within 90 s:\n"
                    + (SHOTS / "server.log").read_text(errors="replace")[-3000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    need_tool(CHROMIUM, "the real-browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    p = context.new_page()
    yield p
    context.close()


def _wait_idle(page, timeout=60_000):
    """Wait until Streamlit has finished running the script and the page shows its title.

    A deep link on a fresh server takes several runs (legacy routing hands over to app.py,
    which reopens the page), so the app must stay quiet for a while, not just once.
    """
    deadline = time.time() + timeout / 1000
    quiet = 0
    while quiet < 6:
        page.wait_for_timeout(250)
        busy = (page.locator('[data-testid="stStatusWidget"]').count() > 0
                or page.locator('[data-testid="stMain"] h1').count() == 0
                or page.locator('[data-testid="stSkeleton"]').count() > 0)
        quiet = 0 if busy else quiet + 1
        if time.time() > deadline:
            raise AssertionError(f"the app did not settle within {timeout / 1000:.0f} s")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _assert_no_exception(page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"exception shown on {where}"
    body = page.inner_text("body")
    assert "Traceback" not in body, f"traceback shown on {where}"


def _sidebar_n(page) -> str:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    m = re.search(r"n = (\d+) of (\d+) patients", text)
    assert m, f"no 'n = X of Y patients' line in the sidebar: {text[:500]}"
    return m.group(0)


def test_demo_km_chart_and_filter_updates(server, page):
    page.goto(server + "/survival")
    _wait_idle(page)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    assert _sidebar_n(page) == "n = 95 of 95 patients"
    body = page.inner_text("body")
    assert "Log-rank" in body
    _shot(page, "survival_demo")
    before = page.locator(".vega-embed").first.inner_html()

    # Filter to Child-Pugh B through the sidebar multiselect.
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(1).click()
    page.get_by_role("option", name="B", exact=True).click()
    page.keyboard.press("Escape")
    _wait_idle(page)
    n_line = _sidebar_n(page)
    assert n_line != "n = 95 of 95 patients"
    assert "child_pugh=B" in page.url or "cp=B" in page.url, page.url
    page.wait_for_selector(".vega-embed")
    after = page.locator(".vega-embed").first.inner_html()
    assert after != before, "the KM chart did not change after filtering"
    _assert_no_exception(page, "survival (filtered)")
    _shot(page, "survival_child_pugh_B")


def test_shared_link_reproduces_filters(server, page):
    page.goto(server + "/survival")
    _wait_idle(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(1).click()
    page.get_by_role("option", name="B", exact=True).click()
    page.keyboard.press("Escape")
    _wait_idle(page)
    filtered_n, url = _sidebar_n(page), page.url
    other = page.context.new_page()
    other.goto(url)
    _wait_idle(other)
    assert _sidebar_n(other) == filtered_n
    other.close()


def test_every_page_renders_on_demo(server, page):
    for name in PAGES:
        page.goto(f"{server}/{name}")
        _wait_idle(page)
        _assert_no_exception(page, name)
        _shot(page, f"page_{name}")
    page.goto(server + "/baseline")
    _wait_idle(page)
    page.wait_for_selector('[data-testid="stDataFrame"]')


def test_upload_map_and_analyse(server, page, tmp_path):
    demo = pd.read_csv(DATA / "demo_cohort.csv")
    renamed = demo.rename(columns={"patient_id": "Patient ID", "os_months": "OS (months)",
                                   "os_event": "Death", "age": "Age"})
    renamed = renamed.head(60)
    path = tmp_path / "my_cohort.csv"
    buf = io.StringIO()
    renamed.to_csv(buf, index=False)
    path.write_text(buf.getvalue(), encoding="utf-8")

    page.goto(server + "/upload")
    _wait_idle(page)
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="Load this cohort").click(timeout=60_000)
    page.wait_for_selector("text=patients ready to analyse", timeout=60_000)
    _wait_idle(page)
    _shot(page, "upload_done")
    assert _sidebar_n(page) == "n = 60 of 60 patients"
    # A page load starts a new session, so move through the app with its own navigation:
    # the uploaded cohort must survive every page switch.
    for name, title in PAGES.items():
        page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        _wait_idle(page)
        _assert_no_exception(page, f"{name} after upload")
        assert _sidebar_n(page) == "n = 60 of 60 patients", name
        _shot(page, f"uploaded_{name}")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Survival").first.click()
    _wait_idle(page)
    page.wait_for_selector(".vega-embed")
    # The numbers shown are hcc_core's on the uploaded rows, not the demo cohort's.
    lr = logrank_test(load_cohort(DATA / "demo_cohort.csv").data.head(60), "os",
                      "treatment_group")
    assert f"Chi-square = {lr.statistic:.3f}" in page.inner_text("body")


# --- Presentation mode, the answer on the Survival page, the link is the view (issue 12) ---

def _app_pages() -> dict[str, str]:
    """URL path -> title of every st.Page in app.py's PAGES list, read from app.py itself, so
    a page another helper adds is checked without touching this file."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    pages = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            kw = {k.arg: k.value.value for k in node.keywords
                  if isinstance(k.value, ast.Constant)}
            path = node.args[0].value
            url = "" if kw.get("default") else kw.get("url_path", Path(path).stem)
            pages[url] = kw.get("title", Path(path).stem)
    assert len(pages) >= 8, pages
    return pages


# Every visible element inside the viewport; every visible text >= 20 px; no canvas grid.
_LAYOUT_JS = """() => {
  const W = document.documentElement.clientWidth, out = {wide: [], small: [], grids: 0};
  const seen = (el) => {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.opacity !== '0';
  };
  const name = (el) => (el.getAttribute('data-testid') || el.tagName) + ' ' +
      (el.innerText || el.textContent || '').trim().slice(0, 60);
  for (const el of document.querySelectorAll('body *')) {
    if (!seen(el) || el.closest('[data-testid="stSidebar"][aria-expanded="false"]')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > W + 1 && r.left < W) out.wide.push(name(el) + ' right=' + Math.round(r.right));
  }
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode, el = n.parentElement;
    if (!n.textContent.trim() || !el || ['STYLE', 'SCRIPT', 'NOSCRIPT'].includes(el.tagName))
      continue;
    if (!seen(el)) continue;
    const cs = getComputedStyle(el);
    if (/Material/.test(cs.fontFamily)) continue;  // icons are glyphs, not text
    if (parseFloat(cs.fontSize) < 19.5) out.small.push(name(el) + ' ' + cs.fontSize);
  }
  out.grids = document.querySelectorAll('[data-testid="stDataFrame"] canvas').length;
  return out;
}"""


def _settle_charts(page) -> None:
    if page.locator(".vega-embed").count():
        page.wait_for_timeout(800)


@pytest.mark.xfail(reason="issue 12 item 4 in progress: wide tables and charts on some pages",
                   strict=False)
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_presentation_mode_fits_and_is_legible_on_every_page(server, browser, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems = []
    try:
        for url, title in _app_pages().items():
            page.goto(f"{server}/{url}?presentation=true")
            _wait_idle(page)
            _settle_charts(page)
            _assert_no_exception(page, f"{url} in presentation mode")
            _shot(page, f"presentation_{url or 'overview'}_{width}x{height}")
            found = page.evaluate(_LAYOUT_JS)
            if found["wide"]:
                problems.append(f"{title}: wider than {width} px: {found['wide'][:5]}")
            if found["small"]:
                problems.append(f"{title}: text under 20 px: {found['small'][:8]}")
            if found["grids"] and url != "upload":  # the upload wizard's mapping is an editor
                problems.append(f"{title}: {found['grids']} interactive grid(s) (13 px canvas)")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
