"""What a user feels in a real browser (issue 19 items 1, 2 and 5), measured with Playwright
driving Debian's chromium against ``streamlit run app.py`` on a free localhost port.

1. Click to updated chart: a sidebar filter option clicked, to the last draw of a Vega chart
   (canvas draw calls or DOM changes inside a chart, timed in the page with
   ``performance.now()``), every click a filter state the session has never computed; on the
   demo cohort and on uploaded cohorts of 10,000 and 100,000 rows (``bench/make_cohorts.py``,
   uploaded through the Upload page as a user does).
   The demo cohort's results are shared by a server's sessions, so each demo session's
   clicks run on a server of their own (states nobody has computed there).
2. Time to first chart: a new session on a warm server, a shared deep link (a page URL with
   filters and settings) on a warm server and on a server just started, and server start to
   first chart (process start to the chart drawn).
3. Server memory: resident set size of the server process just started, after one demo
   session, and after each further session that uploads the 100,000-row cohort and opens its
   Survival page (the sessions stay open).

Nothing here is a unit test; ``python -m bench.run`` calls :func:`measure` and writes
:func:`report_lines` into bench/RESULTS.md.
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
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["measure", "report_lines", "TARGETS"]

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
FLOOR_APP = ROOT / "bench" / "floor_app.py"
CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "bench" / "out"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu",
                 "--disable-background-networking"]
PAGE_PATHS = {"survival": "/survival", "cox": "/cox"}
PAGE_TITLES = {"survival": "Survival", "cox": "Cox regression"}

# (key, what, target in seconds): the targets, in the order they are reported.
TARGETS = (
    ("click_demo_survival", "Click to updated chart, demo cohort, Survival", 0.120),
    ("click_demo_cox", "Click to updated chart, demo cohort, Cox", 0.200),
    ("click_10000_survival", "Click to updated chart, n = 10,000, Survival", 0.400),
    ("click_10000_cox", "Click to updated chart, n = 10,000, Cox", 0.400),
    ("click_100000_survival", "Click to updated chart, n = 100,000, Survival", 1.5),
    ("click_100000_cox", "Click to updated chart, n = 100,000, Cox", 1.5),
    ("new_session_warm", "New session on a warm server to first chart (Survival)", 1.0),
    ("deep_link_warm", "Shared deep link to its chart, warm server", 1.5),
    ("deep_link_cold", "Shared deep link to its chart, server just started (link opened "
                       "as soon as it answers)", 1.5),
    ("server_start", "Server start to first chart (Survival)", 3.0),
)

# The figures issue 19 was filed with (idle machine for the clicks, old measurement: any canvas
# draw, 5 clicks x 2 sessions; the deep link was not told apart warm or cold).
BEFORE = {
    "click_demo_survival": "254 ms", "click_demo_cox": "482 ms",
    "new_session_warm": "1.8-3.0 s", "deep_link_warm": "3.4-4.6 s",
    "deep_link_cold": "3.4-4.6 s", "server_start": "7.4 s",
}

# In the page: the last draw inside a Vega chart (canvas calls whose canvas is in a chart,
# DOM changes inside a chart), the first one, and the last click.
_PROBE = """
(() => {
  const b = window.__bench = {lastDraw: 0, lastMut: 0, firstDraw: 0, click: 0, draws: 0};
  const sel = '.vega-embed, [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]';
  const inChart = new WeakMap();
  const isChart = (c) => {
    if (!c) return false;
    let v = inChart.get(c);
    if (v === undefined || !v) { v = !!(c.closest && c.closest(sel)); inChart.set(c, v); }
    return v;
  };
  const P = CanvasRenderingContext2D.prototype;
  for (const m of ['clearRect', 'fillRect', 'fill', 'stroke', 'fillText']) {
    const orig = P[m];
    P[m] = function (...a) {
      if (isChart(this.canvas)) {
        b.lastDraw = performance.now(); b.draws++;
        if (!b.firstDraw) b.firstDraw = b.lastDraw;
      }
      return orig.apply(this, a);
    };
  }
  document.addEventListener('click', () => { b.click = performance.now(); }, true);
  new MutationObserver((muts) => {
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (el && el.closest && el.closest(sel)) { b.lastMut = performance.now(); return; }
      for (const n of m.addedNodes) {  // a chart element created anew
        if (n.nodeType === 1 && (n.matches(sel) || n.querySelector(sel))) {
          b.lastMut = performance.now(); return;
        }
      }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""
_QUIET = """
(quietMs) => {
  const b = window.__bench, now = performance.now();
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app || app.getAttribute('data-test-script-state') !== 'notRunning';
  const last = Math.max(b.lastDraw, b.lastMut, b.click);
  return !busy && now - last > quietMs;
}
"""
_CHART = '.vega-embed, [data-testid="stException"]'
_N_CHANGED = """
(before) => {
  const side = document.querySelector('[data-testid="stSidebar"]');
  const m = side && side.innerText.match(/n = [\\d,]+ of [\\d,]+/);
  return !!m && m[0] !== before;
}
"""
# Filter clicks, each adding one option to a sidebar multiselect: every click a filter state
# the session has not computed, with other patients than the one before and both treatment
# groups in it, so every click recomputes and redraws every chart. (multiselect index in the
# sidebar, option): 1 Child-Pugh class, 2 BCLC stage, and in "More filters" 3 tumour number,
# 4 ALBI grade (app.py).
CLICKS = ((2, "B"), (2, "C"), (1, "A"), (2, "A"), (1, "B"), (4, "1"), (4, "2"),
          (3, "multiple"), (3, "single"))
MORE_FILTERS = 3  # multiselects from this index on are inside the "More filters" expander
# Deep links: filters and page settings, one never-seen link per repetition.
_LINKS = (
    {"child_pugh": "A", "surv_endpoint": "pfs"},
    {"bclc": "C", "surv_by": "local_modality"},
    {"bclc": "B,C", "surv_ci": "log"},
    {"modality": "none,HAIC", "surv_band": "false"},
    {"child_pugh": "B", "bclc": "B,C"},
    {"bclc": "A,B", "surv_endpoint": "pfs"},
    {"modality": "none,mTACE", "child_pugh": "A"},
    {"child_pugh": "A", "bclc": "C", "surv_ci": "plain"},
    {"modality": "IMRT,HAIC,mTACE", "surv_by": "child_pugh_class"},
    {"bclc": "C", "surv_endpoint": "pfs", "surv_ci": "log"},
    {"child_pugh": "A", "bclc": "B"},
    {"modality": "none", "bclc": "B,C"},
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` (or ``app``) on a free port; ``started`` is the epoch time of
    the spawn."""

    def __init__(self, app: Path = APP) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def wait_healthy(self, timeout: float = 90.0) -> float:
        """Poll /_stcore/health every 50 ms; return the epoch time it first said ok."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return time.time()
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def _server(app: Path = APP) -> Iterator[Server]:
    srv = Server(app)
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


@contextlib.contextmanager
def _context(browser) -> Iterator:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = ctx.new_page()
    page.add_init_script(_PROBE)
    try:
        yield page
    finally:
        ctx.close()


def _wait_quiet(page, quiet_ms: int = 800, timeout_ms: int = 180_000) -> None:
    page.wait_for_function(_QUIET, arg=quiet_ms, timeout=timeout_ms, polling=100)


def _sidebar_n(page) -> str:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    m = re.search(r"n = [\d,]+ of [\d,]+", text)
    return m.group(0) if m else ""


def _check(page, where: str) -> None:
    exc = page.locator('[data-testid="stException"]')
    if exc.count():
        text = " ".join(exc.first.inner_text().split())
        raise RuntimeError(f"exception shown on {where}: {text[:200]}")


def _first_chart(page, url: str) -> float:
    """Open ``url`` in this (new) session; seconds from navigation start to the chart drawn
    (its last draw before 800 ms of quiet)."""
    page.goto(url)
    page.wait_for_selector(_CHART, timeout=180_000)
    _wait_quiet(page)
    _check(page, url)
    b = page.evaluate("() => window.__bench")
    return max(b["lastDraw"], b["lastMut"]) / 1000.0


def _chart_epoch(page) -> float:
    """Epoch seconds of the last chart draw (to compare with the server's start)."""
    return page.evaluate(
        "() => (performance.timeOrigin + Math.max(window.__bench.lastDraw,"
        " window.__bench.lastMut)) / 1000")


def _nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.wait_for_selector(_CHART, timeout=180_000)
    _wait_quiet(page)
    _check(page, title)


def _upload(page, url: str, csv: Path) -> None:
    """Load ``csv`` through the Upload page with its proposed column matches."""
    page.goto(url + "/upload")
    try:
        page.locator('input[type="file"]').set_input_files(str(csv), timeout=180_000)
        page.get_by_role("button", name="Load this cohort").click(timeout=180_000)
        page.wait_for_selector("text=patients ready to analyse", timeout=300_000)
    except Exception:
        page.screenshot(path=str(OUT / "browser_upload_failed.png"), full_page=True)
        raise
    _wait_quiet(page, 300)


def _clicks(page, where: str) -> list[float]:
    """The :data:`CLICKS` sequence; seconds from each click to the chart's last redraw."""
    out = []
    expanded = False
    for idx, option in CLICKS:
        if idx >= MORE_FILTERS and not expanded:  # opening it reruns nothing
            page.locator('[data-testid="stSidebar"] summary', has_text="More filters").click()
            page.wait_for_timeout(500)
            expanded = True
        # Charts out of view are not redrawn: the page's first chart stays on screen.
        page.locator(".vega-embed").first.scroll_into_view_if_needed()
        n_before = _sidebar_n(page)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(idx)
        box.scroll_into_view_if_needed()
        box.click()
        opt = page.get_by_role("option", name=option, exact=True)
        opt.wait_for(timeout=10_000)
        page.evaluate("() => { window.__bench.draws = 0; }")
        opt.click()  # the filter click: recorded by the capturing click listener
        # The rerun may start after a quiet spell on a busy machine: first the new n.
        page.wait_for_function(_N_CHANGED, arg=n_before, timeout=180_000, polling=50)
        _wait_quiet(page)
        _check(page, where)
        b = page.evaluate("() => window.__bench")
        painted = max(b["lastDraw"], b["lastMut"])
        if b["draws"] == 0 and painted <= b["click"]:
            page.screenshot(path=str(OUT / "browser_no_redraw.png"), full_page=True)
            raise RuntimeError(f"{where}: no chart redraw after selecting {option} (click "
                               f"{len(out) + 1}; screenshot bench/out/browser_no_redraw.png)")
        if _sidebar_n(page) == n_before:
            raise RuntimeError(f"{where}: selecting {option} did not change the sidebar n")
        out.append((painted - b["click"]) / 1000.0)
        page.keyboard.press("Escape")
        _wait_quiet(page, 300)
    return out


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "all": values}


def _click_latency(browser, url: str, page_name: str, csv: Path | None,
                   sessions: int) -> dict:
    """Clicks on ``page_name`` in ``sessions`` fresh sessions. The demo cohort's results are
    shared by a server's sessions (pages/_ui: st.cache_data), so each demo session gets a
    server of its own, where its clicks are states no session has computed; an uploaded
    cohort's results stay in its session, which is new each time."""
    lat: list[float] = []
    for s in range(sessions):
        with (_server() if csv is None else contextlib.nullcontext()) as own, \
                _context(browser) as page:
            base = own.url if own is not None else url
            if csv is None:
                page.goto(base + PAGE_PATHS[page_name])
                page.wait_for_selector(_CHART, timeout=180_000)
                _wait_quiet(page)
            else:
                _upload(page, base, csv)
                _nav(page, PAGE_TITLES[page_name])
            lat += _clicks(page, f"{page_name} ({'demo' if csv is None else csv.name})")
            if s == 0:
                tag = "demo" if csv is None else csv.stem
                page.screenshot(path=str(OUT / f"browser_{page_name}_{tag}.png"),
                                full_page=True)
    return _stats(lat)


def _link(i: int) -> str:
    return "/survival?" + urllib.parse.urlencode(_LINKS[i % len(_LINKS)])


def _guard(fn, *args) -> dict:
    try:
        return fn(*args)
    except Exception as exc:  # report it and go on with the next measurement
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def _warm(browser, reps: int) -> dict:
    """New sessions and deep links on one warm server (one session served before)."""
    out = {}
    with _server() as srv:
        with _context(browser) as page:
            _first_chart(page, srv.url + "/survival")  # warms the server, not measured
        fresh, links = [], []
        for i in range(reps):
            with _context(browser) as page:
                fresh.append(_first_chart(page, srv.url + "/survival"))
            with _context(browser) as page:
                links.append(_first_chart(page, srv.url + _link(i)))
        out["new_session_warm"] = _stats(fresh)
        out["deep_link_warm"] = _stats(links)
        out["cached_browser"] = _cached_browser(browser, srv.url + "/survival", reps)
    return out


def _cached_browser(browser, url: str, reps: int) -> dict:
    """New sessions opened as new tabs of one browser that has opened the app before (its
    HTTP cache holds Streamlit's front end, served as immutable files): a returning user."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1100})
    ctx.add_init_script(_PROBE)
    times = []
    try:
        for i in range(reps + 1):
            page = ctx.new_page()
            t = _first_chart(page, url)
            page.close()
            if i:  # the first tab fills the cache
                times.append(t)
    finally:
        ctx.close()
    return _stats(times)


def _floor(browser, sessions: int, reps: int, cold_reps: int) -> dict:
    """The same measurements on bench/floor_app.py: Streamlit with one KM chart and the
    filter sidebar, nothing else (what the front end and one chart cost on this machine)."""
    out = {"floor_server_start": _stats([_server_start(browser, FLOOR_APP, "/")
                                         for _ in range(cold_reps)])}
    with _server(FLOOR_APP) as srv:
        with _context(browser) as page:
            _first_chart(page, srv.url + "/")  # warms the server, not measured
        fresh = []
        for _ in range(reps):
            with _context(browser) as page:
                fresh.append(_first_chart(page, srv.url + "/"))
        out["floor_new_session"] = _stats(fresh)
        out["floor_cached_browser"] = _cached_browser(browser, srv.url + "/", reps)
        lat: list[float] = []
        for _ in range(sessions):
            with _context(browser) as page:
                _first_chart(page, srv.url + "/")
                lat += _clicks(page, "survival (floor app)")
        out["floor_click"] = _stats(lat)
    return out


def _cold(browser, reps: int) -> dict:
    """Fresh servers: process start to the first chart of a session opened as soon as the
    server answers, on /survival and on a deep link (Streamlit's legacy pages/ routing is
    active until app.py's first st.navigation call)."""
    start, links = [], []
    for i in range(reps):
        start.append(_server_start(browser, APP, "/survival"))
        srv = Server()
        try:
            srv.wait_healthy()
            with _context(browser) as page:
                links.append(_first_chart(page, srv.url + _link(i)))
        finally:
            srv.stop()
    return {"server_start": _stats(start), "deep_link_cold": _stats(links)}


def _server_start(browser, app: Path, path: str) -> float:
    """A fresh server of ``app``: process start to the first chart of a session opened on
    ``path`` as soon as the server answers."""
    srv = Server(app)
    try:
        srv.wait_healthy()
        with _context(browser) as page:
            _first_chart(page, srv.url + path)
            return _chart_epoch(page) - srv.started
    finally:
        srv.stop()


def _memory(browser, csv: Path, sessions: int) -> dict:
    """Server RSS: started, after a demo session, after each session with ``csv`` uploaded."""
    with _server() as srv:
        time.sleep(1.0)
        out = {"rows": csv.stem, "started_mib": srv.rss_mib()}
        with _context(browser) as page:
            _first_chart(page, srv.url + "/survival")
        time.sleep(1.0)
        out["baseline_mib"] = srv.rss_mib()
        after = []
        with contextlib.ExitStack() as stack:
            for _ in range(sessions):
                page = stack.enter_context(_context(browser))
                _upload(page, srv.url, csv)
                _nav(page, PAGE_TITLES["survival"])
                time.sleep(1.0)
                after.append(srv.rss_mib())
        out["after_sessions_mib"] = after
        steps = [b - a for a, b in zip([out["baseline_mib"], *after[:-1]], after, strict=True)]
        out["growth_per_session_mib"] = statistics.mean(steps)
        time.sleep(2.0)
        out["after_closing_mib"] = srv.rss_mib()
    return out


def measure(*, sizes: tuple[int, ...] = (10_000, 100_000), pages: tuple[str, ...] =
            ("survival", "cox"), sessions: int = 2, reps: int = 10, cold_reps: int = 3,
            memory_sessions: int = 3,
            parts: tuple[str, ...] = ("click", "warm", "cold", "floor", "memory")) -> dict:
    """Every browser figure of issue 19 items 1, 2 and 5 (seconds, MiB)."""
    if not Path(CHROMIUM).exists():
        return {"error": f"{CHROMIUM} not found"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"error": "playwright is not installed"}
    from bench.make_cohorts import write_cohort

    OUT.mkdir(parents=True, exist_ok=True)
    csvs = {n: write_cohort(n) for n in sizes}
    res: dict = {"clicks_per_session": len(CLICKS), "sessions": sessions, "reps": reps,
                 "cold_reps": cold_reps}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with _server() as srv:
                for n in (None, *sizes) if "click" in parts else ():
                    for name in pages:
                        key = f"click_{'demo' if n is None else n}_{name}"
                        res[key] = _guard(_click_latency, browser, srv.url, name,
                                          None if n is None else csvs[n], sessions)
                        print(key, _short(res[key]), flush=True)
            if "warm" in parts:
                res.update(_guard(_warm, browser, reps))
            if "cold" in parts:
                res.update(_guard(_cold, browser, cold_reps))
            if "floor" in parts:
                res.update(_guard(_floor, browser, sessions, reps, cold_reps))
            print({k: _short(v) for k, v in res.items() if isinstance(v, dict)}, flush=True)
            if 100_000 in csvs and memory_sessions and "memory" in parts:
                res["memory"] = _guard(_memory, browser, csvs[100_000], memory_sessions)
        finally:
            browser.close()
    return res


def _short(v: dict) -> str:
    return f"{v['median'] * 1000:.0f} ms" if "median" in v else str(v.get("error"))[:120]


def _fmt(s: float) -> str:
    return f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.1f} s"


# (what, key in the real app, key in the floor app)
FLOOR_ROWS = (
    ("Click to updated chart, demo cohort, Survival", "click_demo_survival", "floor_click"),
    ("New session on a warm server to first chart", "new_session_warm", "floor_new_session"),
    ("The same, a new tab of a browser that has opened the app before", "cached_browser",
     "floor_cached_browser"),
    ("Server start to first chart", "server_start", "floor_server_start"),
)


def _floor_lines(res: dict) -> list[str]:
    """The real Survival page beside bench/floor_app.py (Streamlit + one KM chart)."""
    rows = [(what, res.get(a), res.get(b)) for what, a, b in FLOOR_ROWS
            if isinstance(res.get(a), dict) or isinstance(res.get(b), dict)]
    if not rows:
        return []
    lines = [
        "What the front end alone costs on this machine: the same timings on "
        "`bench/floor_app.py`, a Streamlit app with the same five sidebar filters and nothing "
        "on its page but a title and one KM chart (overall survival by treatment group, "
        "computed on every run), served and clicked the same way (medians):\n",
        "| what | Survival page | floor app (Streamlit + one KM chart) | the rest of the page |",
        "|---|---:|---:|---:|"]
    for what, ours, floor in rows:
        cells = [_fmt(v["median"]) if v and "median" in v else "not measured"
                 for v in (ours, floor)]
        rest = (_fmt(ours["median"] - floor["median"])
                if ours and floor and "median" in ours and "median" in floor else "-")
        lines.append(f"| {what} | {cells[0]} | {cells[1]} | {rest} |")
    return [*lines, ""]


def report_lines(res: dict) -> list[str]:
    """Markdown: the targets with this run's medians, met or not, then the memory figures."""
    lines = ["### 4. What a user feels: browser timings (headless chromium)\n"]
    if "error" in res:
        return [*lines, f"Not available: {res['error']}\n"]
    lines.append(
        "Playwright drives /usr/bin/chromium (headless) against `streamlit run app.py` on "
        "localhost. *Click*: a sidebar filter option clicked (Child-Pugh, BCLC, tumour "
        f"number, ALBI grade; {res['clicks_per_session']} clicks per session, {res['sessions']} sessions "
        "per row, each click a filter state the session has never computed, so nothing comes "
        "from the result cache) to the last draw inside a Vega chart (canvas calls on a "
        "chart's canvas or DOM changes in it, `performance.now()` in the page; the run ends "
        "when Streamlit's status widget is gone and no chart has drawn for 800 ms). Uploaded "
        "cohorts (`bench/make_cohorts.py`) go through the Upload page first. *First chart*: "
        "navigation start (or the server process's start) to the last chart draw of a new "
        f"browser session; {res['reps']} sessions on a warm server (one session served "
        f"before), {res['cold_reps']} fresh servers each for the cold rows; deep links carry "
        "filters and Survival settings, a different link each time.\n")
    lines.append("| what | median | min | max | runs | target | met? | issue 19 figure |")
    lines.append("|---|---:|---:|---:|---:|---:|---|---:|")
    for key, what, target in TARGETS:
        v = res.get(key)
        if v is None:
            continue
        if "error" in v:
            error = " ".join(v["error"].split()).replace("|", "/")
            lines.append(f"| {what} | not available: {error} | | | | <= {_fmt(target)} | no "
                         f"| {BEFORE.get(key, '-')} |")
            continue
        met = "yes" if v["median"] <= target else "**no**"
        lines.append(f"| {what} | {_fmt(v['median'])} | {_fmt(v['min'])} | {_fmt(v['max'])} "
                     f"| {v['n']} | <= {_fmt(target)} | {met} | {BEFORE.get(key, '-')} |")
    lines.append("")
    lines += _floor_lines(res)
    mem = res.get("memory")
    if mem:
        lines.append("### 4b. Server memory with 100,000-row uploads (issue 19 item 5)\n")
        if "error" in mem:
            lines.append(f"Not available: {mem['error']}\n")
        else:
            after = ", ".join(f"{m:.0f}" for m in mem["after_sessions_mib"])
            lines.append(
                f"Resident set size of the `streamlit run` process (VmRSS; the upload "
                f"parser's short-lived child process is not counted): "
                f"{mem['started_mib']:.0f} MiB just started, **{mem['baseline_mib']:.0f} MiB "
                f"baseline** after one demo session; then sessions that each upload the "
                f"{int(mem['rows'].split('_')[-1]):,}-row cohort and open Survival (kept open): "
                f"{after} MiB, **{mem['growth_per_session_mib']:.0f} MiB per session**; "
                f"{mem['after_closing_mib']:.0f} MiB two seconds after closing them.\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run only these measurements: ``python -m bench.browser --sizes 10000 --reps 3``."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--pages", nargs="*", default=["survival", "cox"])
    ap.add_argument("--sessions", type=int, default=2)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--cold-reps", type=int, default=3)
    ap.add_argument("--memory-sessions", type=int, default=3)
    ap.add_argument("--parts", nargs="*", default=["click", "warm", "cold", "floor", "memory"])
    a = ap.parse_args(argv)
    res = measure(sizes=tuple(a.sizes), pages=tuple(a.pages), sessions=a.sessions,
                  reps=a.reps, cold_reps=a.cold_reps, memory_sessions=a.memory_sessions,
                  parts=tuple(a.parts))
    (OUT / "browser.json").write_text(json.dumps(res, indent=1))
    print("\n".join(report_lines(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
