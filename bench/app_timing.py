"""Dashboard timings on the demo cohort: Streamlit reruns (AppTest) and real-browser latency.

``apptest_rerun`` changes a sidebar filter through ``streamlit.testing.v1.AppTest`` and times the
script rerun of each analysis page. ``browser_latency`` drives Debian's chromium with Playwright
against ``streamlit run app.py`` on a free localhost port and times each filter click until the
charts have been redrawn.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import OrderedDict
from pathlib import Path

__all__ = ["apptest_rerun", "browser_latency", "PAGES", "BROWSER_PAGES"]

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGES = ("overview", "survival", "cox", "baseline", "response", "safety")
BROWSER_PAGES = ("survival", "cox")
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "bench" / "out"
CACHE_KEY = "_results_cache"  # pages/_ui.py's per-session result cache


@contextlib.contextmanager
def _as_served():
    """Run AppTest as the server runs the app after its first script run.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run, so with a
    ``pages/`` folder beside app.py each run takes Streamlit's v1 multipage path and a switched
    page runs alone, without app.py's sidebar. A server keeps the flag False once
    ``st.navigation`` has run; this keeps it False here too (benchmark process only).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    try:
        yield
    finally:
        PagesManager.__init__ = original
        PagesManager.uses_pages_directory = None


def _page_rerun(page: str, reps: int) -> dict:
    with _as_served():
        return _page_rerun_served(page, reps)


def _page_rerun_served(page: str, reps: int) -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    if at.exception:
        return {"error": "; ".join(str(e.value) for e in at.exception)[:300]}
    if not at.sidebar.multiselect or not at.title:
        return {"error": "the page did not render with app.py's sidebar"}
    title = at.title[0].value
    states = (["A"], [])  # Child-Pugh A only <-> all
    uncached, cached = [], []
    for i in range(reps):
        at.session_state[CACHE_KEY] = OrderedDict()
        t0 = time.perf_counter()
        at.sidebar.multiselect(key="f_child_pugh").set_value(states[i % 2]).run()
        uncached.append(time.perf_counter() - t0)
        if at.exception:
            return {"error": "; ".join(str(e.value) for e in at.exception)[:300]}
    for i in range(reps):  # both states are now in the session's cache
        t0 = time.perf_counter()
        at.sidebar.multiselect(key="f_child_pugh").set_value(states[i % 2]).run()
        cached.append(time.perf_counter() - t0)
    return {
        "title": title,
        "uncached": statistics.median(uncached),
        "cached": statistics.median(cached),
        "uncached_all": uncached,
        "cached_all": cached,
    }


def apptest_rerun(reps: int = 7) -> dict:
    """Median time of an AppTest rerun after a Child-Pugh filter change, per page."""
    if not APP.exists():
        return {"error": "app.py not found"}
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    out = {"reps": reps, "pages": {}}
    for page in PAGES:
        try:
            out["pages"][page] = _page_rerun(page, reps)
        except Exception as exc:  # report and go on with the next page
            out["pages"][page] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return out


# ---- real browser ---------------------------------------------------------------------------
_PROBE = """
(() => {
  const b = window.__bench = {lastDraw: 0, lastMut: 0, click: 0, draws: 0};
  const P = CanvasRenderingContext2D.prototype;
  for (const m of ['clearRect', 'fillRect', 'fill', 'stroke', 'fillText']) {
    const orig = P[m];
    P[m] = function (...a) { b.lastDraw = performance.now(); b.draws++; return orig.apply(this, a); };
  }
  document.addEventListener('click', () => { b.click = performance.now(); }, true);
  const sel = '.vega-embed, [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]';
  new MutationObserver((muts) => {
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (el && el.closest && el.closest(sel)) { b.lastMut = performance.now(); return; }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""
_QUIET = """
(quietMs) => {
  const b = window.__bench, now = performance.now();
  const busy = document.querySelector('[data-testid="stStatusWidget"]');
  const last = Math.max(b.lastDraw, b.lastMut, b.click);
  return !busy && now - last > quietMs;
}
"""
# Filter clicks, each giving a filter state the session has not seen and different patients
# from the previous state, so every click recomputes and redraws: (sidebar multiselect index,
# option). 1 = Child-Pugh class, 2 = BCLC stage (see app.py).
_CLICKS = ((2, "B"), (2, "C"), (1, "A"), (2, "A"), (1, "B"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not answer /_stcore/health within 90 s")


def _sidebar_n(page) -> str:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    m = re.search(r"n = [\d,]+ of [\d,]+", text)
    return m.group(0) if m else ""


def _wait_quiet(page, quiet_ms: int = 800, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(_QUIET, arg=quiet_ms, timeout=timeout_ms, polling=100)


def _session(browser, url: str, page_name: str) -> list[float]:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = ctx.new_page()
    page.add_init_script(_PROBE)
    try:
        page.goto(f"{url}/{page_name}")
        page.wait_for_selector('.vega-embed, [data-testid="stException"]', timeout=60_000)
        _wait_quiet(page)
        exc = page.locator('[data-testid="stException"]')
        if exc.count():
            text = " ".join(exc.first.inner_text().split())
            raise RuntimeError(f"exception shown on {page_name}: {text[:200]}")
        out = []
        for idx, option in _CLICKS:
            n_before = _sidebar_n(page)
            page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(idx).click()
            opt = page.get_by_role("option", name=option, exact=True)
            opt.wait_for(timeout=10_000)
            page.evaluate("() => { window.__bench.draws = 0; }")
            opt.click()  # the filter click: recorded by the capturing click listener
            _wait_quiet(page)
            b = page.evaluate("() => window.__bench")
            painted = max(b["lastDraw"], b["lastMut"])
            if b["draws"] == 0 and painted <= b["click"]:
                raise RuntimeError(f"no chart redraw after selecting {option}")
            if _sidebar_n(page) == n_before:
                raise RuntimeError(f"selecting {option} did not change the sidebar n")
            out.append((painted - b["click"]) / 1000.0)
            page.keyboard.press("Escape")
            _wait_quiet(page, 300)
        page.screenshot(path=str(SHOTS / f"browser_{page_name}.png"), full_page=True)
        return out
    finally:
        ctx.close()


def browser_latency(sessions: int = 2) -> dict:
    """Filter click -> last chart redraw, in headless chromium, per page (seconds)."""
    if not Path(CHROMIUM).exists():
        return {"error": f"{CHROMIUM} not found"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"error": "playwright is not installed"}
    sessions = max(1, min(sessions, 3))
    how = (
        f"Playwright drives {CHROMIUM} (headless) against `streamlit run app.py` on localhost. "
        f"Each page is opened in {sessions} fresh browser session(s); in each, {len(_CLICKS)} "
        "filter clicks (sidebar BCLC / Child-Pugh options), every one a filter state the "
        "session has not computed before, so nothing comes from the result cache. Latency = "
        "from the click event to the last canvas draw or DOM change inside a Vega chart, "
        "measured with performance.now() in the page (the run ends when Streamlit's status "
        "widget is gone and nothing has been drawn for 800 ms)."
    )
    proc, url = None, ""
    out: dict = {"how": how, "pages": {}}
    try:
        proc, url = _start_server()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--headless",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            try:
                for name in BROWSER_PAGES:
                    try:
                        lat = []
                        for _ in range(sessions):
                            try:
                                lat += _session(browser, url, name)
                            except Exception:  # one retry: the shared machine can stall
                                lat += _session(browser, url, name)
                        out["pages"][name] = {
                            "median": statistics.median(lat),
                            "min": min(lat),
                            "max": max(lat),
                            "n": len(lat),
                            "all": lat,
                        }
                    except Exception as exc:
                        out["pages"][name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            finally:
                browser.close()
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if proc is not None:
            status = Path(f"/proc/{proc.pid}/status")
            if status.exists():
                m = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
                if m:
                    out["server_peak_rss_mib"] = int(m.group(1)) / 1024
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out
