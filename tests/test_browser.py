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

from hcc_core import fit_cox, load_cohort, logrank_test
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


# The two sizes every page is checked at: a projector and a desktop screen.
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}


@pytest.fixture(params=sorted(SIZES))
def sized_page(request, browser):
    """(size name, page) at each of SIZES; downloads allowed (export checks)."""
    w, h = SIZES[request.param]
    context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    p = context.new_page()
    yield request.param, p
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


def _choose_in_sidebar(page, label: str, option: str, attempts: int = 4) -> None:
    """Pick ``option`` in the sidebar multiselect ``label``. A script run that starts while the
    dropdown is open re-renders the sidebar and closes it (seen on a busy CI machine, in
    test_deploy and test_browser_i18n), so an
    option that does not become clickable is tried again after the app has settled."""
    for attempt in range(attempts):
        page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=15_000)
            page.keyboard.press("Escape")
            return
        except Exception:  # playwright's TimeoutError: the dropdown closed under a rerun
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
            _wait_idle(page, timeout=120_000)


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


def _pick(page, nth: int, option: str) -> None:
    """One interaction: choose ``option`` in the sidebar's ``nth`` multiselect."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(nth)
    box.locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    _wait_idle(page)


def _in_view(page, text: str) -> bool:
    """``text`` is shown inside the 1280x720 viewport, without scrolling."""
    main = page.locator('[data-testid="stMain"]')
    box = main.get_by_text(text, exact=False).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 720 \
        and box["x"] + box["width"] <= 1280


def test_tumour_board_question_in_five_interactions_on_one_projector_screen(server, browser):
    """Issue 12: 'Do Child-Pugh A, BCLC C patients benefit from adding HAIC?' from the home
    page in presentation mode: 5 interactions, then HR (95% CI), n and the small-n caveat on
    one 1280x720 screen, the groups named 'HAIC' and 'systemic only'."""
    demo = load_cohort(DATA / "demo_cohort.csv").data
    sub = demo[demo["local_modality"].isin(["none", "HAIC"]) & (demo["child_pugh_class"] == "A")
               & (demo["bclc_stage"] == "C")]
    row = fit_cox(sub, "os", ("local_modality",)).table.loc["local_modality[HAIC]"]
    hr = f"{row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})"
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(server + "/?presentation=true")
        _wait_idle(page)
        _pick(page, 0, "systemic only")  # 1
        _pick(page, 0, "HAIC")  # 2
        _pick(page, 1, "A")  # 3
        _pick(page, 2, "C")  # 4
        page.locator('[data-testid="stSidebarNav"] a', has_text="Survival").first.click()  # 5
        _wait_idle(page)
        page.wait_for_selector(".vega-embed")
        _shot(page, "tumour_board_1280x720")
        body = page.inner_text("body")
        assert f"HAIC vs systemic only: HR {hr}" in body, body[:2000]
        assert _in_view(page, f"HR {hr}")
        assert _in_view(page, f"n = {len(sub)}")
        assert _in_view(page, "Small groups")
        assert "modality=" in page.url and "bclc=C" in page.url, page.url
    finally:
        context.close()


def _answer(page) -> str:
    """The Survival page's answer lines (endpoint, population, HRs, medians)."""
    text = page.inner_text('[data-testid="stMain"]')
    return "\n".join(line for line in text.splitlines()
                     if " vs " in line or "median" in line or line.startswith("Progression"))


def test_the_link_is_the_view_across_pages_and_browsers(server, browser):
    """Issue 12 item 8: settings are in the URL, survive a page switch and back, and the link
    opened in a new browser shows the same view. No patient data in the URL."""
    link = (server + "/survival?child_pugh=A&surv_endpoint=pfs"
            "&surv_by=bclc_stage&surv_medians=true&surv_step=12&presentation=true")
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = context.new_page()
    try:
        page.goto(link)
        _wait_idle(page)
        page.wait_for_selector(".vega-embed")
        first = _answer(page)
        assert "Progression-free survival (PFS)" in first and "C vs A: HR" in first, first
        page.locator('[data-testid="stSidebarNav"] a', has_text="Cox regression").first.click()
        _wait_idle(page)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Survival").first.click()
        _wait_idle(page)
        page.wait_for_selector(".vega-embed")
        url = page.url
        for part in ("child_pugh=A", "surv_endpoint=", "surv_by=bclc_stage", "surv_medians=true",
                     "surv_step=12", "presentation=true"):
            assert part in url, (part, url)
        assert _answer(page) == first
        fresh = browser.new_context(viewport={"width": 1600, "height": 1100})
        other = fresh.new_page()
        other.goto(url)
        _wait_idle(other)
        other.wait_for_selector(".vega-embed")
        assert _answer(other) == first
        assert _sidebar_n(other) == _sidebar_n(page)
        fresh.close()
        assert "patient_id" not in url and "P0" not in url
    finally:
        context.close()


def _luminance(png: bytes, left: int | None = None) -> tuple[float, float]:
    """(mean luminance, share of dark pixels < 100) of a PNG (its ``left`` px), 0-255 scale."""
    from PIL import Image

    grey = Image.open(io.BytesIO(png)).convert("L")
    if left is not None:
        grey = grey.crop((0, 0, left, grey.height))
    values = list(grey.getdata())
    return sum(values) / len(values), sum(v < 100 for v in values) / len(values)


@pytest.mark.parametrize("url", ["survival", "cox", "response"])
def test_dark_operating_system_theme_keeps_charts_legible(server, browser, url):
    """In a dark OS theme the app turns dark but charts keep a light background with dark text
    (the log-rank p was black on near-black before), at projector size."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(f"{server}/{url}?presentation=true")
        _wait_idle(page)
        _settle_charts(page)
        _assert_no_exception(page, f"{url} in a dark theme")
        _shot(page, f"dark_{url}_1280x720")
        app_mean, _ = _luminance(page.screenshot())
        assert app_mean < 110, f"the app did not follow the dark theme (mean {app_mean:.0f})"
        chart = page.locator(".vega-embed").first
        chart.scroll_into_view_if_needed()
        png = chart.screenshot(path=str(SHOTS / f"dark_{url}_chart_1280x720.png"))
        mean, dark_share = _luminance(png)
        assert mean > 200, f"chart background is not light in a dark theme (mean {mean:.0f})"
        assert dark_share > 0.002, "no dark text drawn on the chart"
        # The axis labels and titles on the left are dark, not the dark theme's light grey.
        _, axis_dark = _luminance(png, left=110)
        assert axis_dark > 0.01, f"axis text is not dark on the chart ({axis_dark:.3f})"
    finally:
        context.close()
