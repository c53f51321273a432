"""Streamlit glue shared by app.py and the pages: state, session cache, safe rendering.

No statistics here: every number comes from an ``hcc_core`` function called through
:func:`compute`, which caches per session and turns ``CohortError`` into a readable message.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from hcc_core import CohortError, charts, export, label_of

ROOT = Path(__file__).resolve().parents[1]
DEMO_PATH = ROOT / "data" / "demo_cohort.csv"
log = logging.getLogger("hcc_explorer")

_CACHE_KEY = "_results_cache"
_CACHE_SIZE = 96


@dataclass(frozen=True)
class View:
    """What every page works on: the filtered cohort and where it came from."""

    df: pd.DataFrame  # filtered canonical data
    full: pd.DataFrame  # the whole loaded cohort
    data_key: str  # SHA-256 of the source bytes (+ mapping): identifies the data
    filters_key: str
    source_label: str
    is_demo: bool
    font_size: int  # chart text in px: 14, or 20 in presentation mode


def set_view(view: View) -> None:
    st.session_state["_view"] = view


def view() -> View:
    """The current view, set by app.py on every run.

    Streamlit's legacy ``pages/`` routing (active until app.py has called ``st.navigation``:
    on a fresh server for a deep link such as a shared ``/survival?...`` URL, and on every
    AppTest run) can run a page file without app.py, so without this run's sidebar and
    filters. The page then hands over to app.py, which reopens it with the same query string.
    """
    if PagesManager.uses_pages_directory or "_view" not in st.session_state:
        caller = Path(inspect.stack()[1].filename).resolve()
        st.session_state["_wanted_page"] = f"pages/{caller.name}"
        st.switch_page("app.py", query_params=st.query_params.to_dict())
    return st.session_state["_view"]


def _memo(key: tuple, thunk: Callable[[], Any]) -> Any:
    """Session-scoped LRU: ``thunk()`` once per key in this user's session."""
    cache: OrderedDict = st.session_state.setdefault(_CACHE_KEY, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = thunk()
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def compute(fn: Callable[..., Any], *args: Any, full: bool = False, **kwargs: Any) -> Any:
    """Run ``fn(view().df, *args, **kwargs)`` once per (data, filters, arguments) per session.

    With ``full=True`` the function gets the whole cohort instead of the filtered one. The
    cache lives in this user's session state, so one user never sees another's results, and
    is keyed on the SHA-256 of the data, never on a sampled hash. Returns ``None`` after
    showing the message when the analysis cannot run on this cohort.
    """
    v = view()
    key = (v.data_key, "full" if full else v.filters_key, fn.__module__, fn.__qualname__, args,
           tuple(sorted(kwargs.items())))

    def run() -> tuple[str, Any]:
        try:
            return ("ok", fn(v.full if full else v.df, *args, **kwargs))
        except CohortError as exc:
            return ("error", str(exc))
        except Exception:  # never show a traceback to a user; log it for the admin
            log.exception("Unexpected error in %s", fn.__qualname__)
            return ("error", f"The analysis '{fn.__name__}' failed unexpectedly on this "
                             "cohort. The details were logged on the server; please report "
                             "this to your administrator.")

    status, value = _memo(key, run)
    if status == "error":
        st.warning(value)
        return None
    return value


def sha256_of(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8") if isinstance(p, str) else p)
        h.update(b"\x00")
    return h.hexdigest()


def fmt_num(x: float | None, digits: int = 2, nr: str = "NR") -> str:
    """Format a number for display; NaN (e.g. median not reached) becomes ``nr``."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return nr
    return f"{x:.{digits}f}"


def fmt_p(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def show_table(df: pd.DataFrame, name: str, *, hide_index: bool = True) -> None:
    """Show a whole table (no inner scrolling, for screen-sharing) with CSV/Excel downloads.

    Downloads neutralise spreadsheet formula injection (hcc_core.export). No pandas Styler:
    it imports matplotlib, which writes a font cache to disk.
    """
    # Whole tables for screen-sharing; only very long ones scroll inside the page.
    st.dataframe(df, hide_index=hide_index, width="stretch",
                 height="content" if len(df) <= 60 else 900)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("Download CSV", data=lambda: export.to_csv_bytes(df),
                       file_name=f"{name}.csv", mime="text/csv", key=f"csv_{name}",
                       on_click="ignore")
    c2.download_button("Download Excel", data=lambda: export.to_excel_bytes(df, sheet_name=name[:31]),
                       file_name=f"{name}.xlsx", key=f"xlsx_{name}", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def show_chart(build: Callable[[], Any], name: str, options: tuple = ()) -> None:
    """Show the chart ``build()`` makes, with PNG and SVG downloads rendered on click.

    The Vega-Lite spec is cached per (data, filters, ``name``, ``options``) in the session, so
    a rerun that changes nothing the chart shows does not rebuild it; ``options`` must hold
    every setting the chart depends on besides the data and filters.
    """
    v = view()
    spec = _memo((v.data_key, v.filters_key, "chart", name, options, v.font_size),
                 lambda: build().to_dict())
    st.vega_lite_chart(spec, theme=None, width="content")
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("Download PNG", data=lambda: charts.chart_png(spec),
                       file_name=f"{name}.png", mime="image/png", key=f"png_{name}",
                       on_click="ignore")
    c2.download_button("Download SVG", data=lambda: charts.chart_svg(spec),
                       file_name=f"{name}.svg", mime="image/svg+xml", key=f"svg_{name}",
                       on_click="ignore")


def caution(text: str) -> None:
    """A statistical caution where it applies (small groups, PH violated, ...)."""
    st.warning(text, icon=":material/warning:")


def group_label(column: str) -> str:
    """Human label of a canonical column, e.g. 'Child-Pugh class'."""
    return label_of(column)


ENDPOINT_LABELS = {"os": "Overall survival (OS)", "pfs": "Progression-free survival (PFS)"}

NON_RANDOMISED = (
    "This is a non-randomised comparison: differences between groups may reflect who was "
    "selected for local therapy rather than its effect. Read hazard ratios together with the "
    "multivariable model and the baseline table."
)
