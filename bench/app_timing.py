"""Dashboard timings on the demo cohort: Streamlit reruns (AppTest).

``apptest_rerun`` changes a sidebar filter through ``streamlit.testing.v1.AppTest`` and times the
script rerun of each analysis page. What a user feels in a real browser is measured by
``bench/browser.py``.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

__all__ = ["apptest_rerun", "PAGES"]

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGES = ("overview", "survival", "cox", "baseline", "response", "safety")


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
    from bench.refresh import clear_caches
    from pages import _ui

    def pick(state: tuple[list, list]) -> None:
        at.sidebar.multiselect(key="f_child_pugh").set_value(state[0])
        at.sidebar.multiselect(key="f_bclc").set_value(state[1])

    # Never-seen filter states, one per repetition: the session keeps its per-data results
    # (filter levels) as a real click does; the demo results shared by the server's sessions
    # (_ui._shared) and hcc_core's own caches are emptied, so nothing was computed before.
    states = [(cp, bclc) for cp in ([], ["A"], ["B"])
              for bclc in (["A", "B"], ["B", "C"], ["C"], ["B"], ["A", "B", "C"])][:reps]
    uncached, cached = [], []
    for state in states:
        _ui._shared.clear()
        clear_caches()
        pick(state)
        t0 = time.perf_counter()
        at.run()
        uncached.append(time.perf_counter() - t0)
        if at.exception:
            return {"error": "; ".join(str(e.value) for e in at.exception)[:300]}
    for state in states:  # every state is now in the session's cache
        pick(state)
        t0 = time.perf_counter()
        at.run()
        cached.append(time.perf_counter() - t0)
    return {
        "title": title,
        "uncached": statistics.median(uncached),
        "cached": statistics.median(cached),
        "uncached_all": uncached,
        "cached_all": cached,
    }


def apptest_rerun(reps: int = 7) -> dict:
    """Median time of an AppTest rerun after a sidebar filter change, per page: never-seen
    states (uncached) and the same states again (cached); at most 15 states."""
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
