"""Streamlit glue shared by app.py and the pages: state, session cache, safe rendering, links.

It lives in a sub-package of ``pages/`` on purpose: Streamlit's legacy ``pages/`` routing turns
every ``pages/*.py`` file into a page (streamlit/runtime/scriptrunner/script_runner.py,
``_mpa_v1``: ``pages_folder.glob("*.py")``), but never a folder, so this module is not routable.

No statistics here: every number comes from an ``hcc_core`` function called through
:func:`compute`, which caches per session and turns ``CohortError`` into a readable message.

Every page starts with ``v = _ui.view()``.

The link is the view
--------------------
Every widget that changes what a page shows puts its value in the URL, keeps it when the user
switches pages and comes back, and is restored from a shared link. One argument per widget::

    endpoint = st.radio("Endpoint", ENDPOINTS, format_func=ENDPOINT_LABELS.get,
                        **_ui.linked("surv_endpoint", ENDPOINTS))
    tau = st.number_input("Horizon tau (months)", 1.0, 60.0, 24.0, **_ui.linked("surv_tau"))
    tabs = st.tabs(list(TABS.values()), **_ui.linked_tabs("cox_tab", TABS))

The key is the URL parameter name: prefix it with the page (``surv_``, ``cox_``, ...) so two
pages never share one. A link holds codes, never words, so a link made in one language opens the
same view in the other: Streamlit's ``bind="query-params"`` puts a choice widget's *label* (its
``format_func`` text, translated) in the URL, so a choice (radio, selectbox, multiselect) names
its options (``linked(key, options)``) and this module keeps their codes in the URL itself;
toggles and numbers, the same in every language, use ``bind="query-params"``. Either way values
equal to the default are left out, values a hand-edited link makes invalid are ignored and
``persist_state="session"`` keeps the value across page switches. ``st.tabs`` has no
``persist_state``: :func:`linked_tabs` remembers the open tab (by code) itself and reruns the
page when the tab changes, so a page can compute only the open tab. Only settings go in the URL,
never patient data. The sidebar filters have their own compact form (``Filters.to_query_params``).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from hcc_core import CohortError, charts, export, label_of, report, suppression
from hcc_core.i18n import DEFAULT_LANGUAGE, N_, _, get_language
from hcc_core.tables import level_label as core_level_label

from .lang import Translated

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATH = ROOT / "data" / "demo_cohort.csv"
log = logging.getLogger("hcc_explorer")

_CACHE_KEY = "_results_cache"
_CACHE_SIZE = 96
# Results and chart specs of the built-in demo cohort, shared by the sessions of one server
# process (st.cache_data: in memory, each hit a copy). Keyed like the session cache, so on the
# demo file's SHA-256 too. Uploaded cohorts are never shared: their results live in their own
# session and go when it ends (issue 18 item 4), and nothing made from one user's file is
# kept for anyone else. Bounded: ~1,500 entries cover every page under every one- and
# two-filter state of the demo cohort; an entry is a few kB to ~100 kB (a chart spec).
_SHARED_ENTRIES = 3000
_SHARED_TTL_S = 12 * 3600


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
    population: str = ""  # the filters in words, for chart titles ("" before app.py sets it)
    presentation: bool = False  # projector mode: large static tables, 20 px text
    user: str | None = None  # who the audit trail names for this run's exports (app.py)

    def subtitle(self, endpoint: str | None = None) -> str:
        """Who a chart shows: filters in words, n, endpoint (and the data source)."""
        parts = [self.population or _("All patients"), f"n = {suppression.shown(len(self.df))}"]
        if endpoint:
            parts.append(ENDPOINT_LABELS.get(endpoint, endpoint))
        return " · ".join(parts + [self.source_label])


_VIEW = "_view"
_APP_RUNNING = "_app_running"
_WANTED = "_wanted_page"


def set_view(view: View) -> None:
    """app.py: the view of this run; pages read it with :func:`view`."""
    st.session_state[_VIEW] = view


@contextmanager
def app_run() -> Iterator[None]:
    """app.py runs the current page inside this block; :func:`view` checks it."""
    st.session_state[_APP_RUNNING] = True
    try:
        yield
    finally:
        st.session_state[_APP_RUNNING] = False


def wanted_page() -> str | None:
    """The page a legacy-routed run asked app.py to reopen (once), or None."""
    return st.session_state.pop(_WANTED, None)


def query_string() -> dict[str, list[str]]:
    """The current query string with repeated parameters kept (multiselects)."""
    return {k: st.query_params.get_all(k) for k in st.query_params}


def view() -> View:
    """The current view, set by app.py on every run. Call it first on every page.

    Streamlit's legacy ``pages/`` routing (active until app.py has called ``st.navigation``:
    on a fresh server for a deep link such as a shared ``/survival?...`` URL, and on every
    AppTest run) can run a page file without app.py, so without this run's sidebar and
    filters. app.py marks the runs it makes (:func:`app_run`); any other run of a page hands
    over to app.py, which reopens the page with the same query string. This uses public API
    only (no private page-manager flag).
    """
    if not st.session_state.get(_APP_RUNNING) or _VIEW not in st.session_state:
        caller = Path(inspect.stack()[1].filename).resolve()
        st.session_state[_WANTED] = f"pages/{caller.name}"
        st.switch_page("app.py", query_params=query_string())
    return st.session_state[_VIEW]


def fragment(section: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment`` for a page section: a widget inside it reruns only that section.

    The section works on the view the last full run set (:func:`view`): the sidebar's
    widgets rerun the whole app, so the data and filters cannot change between the two.
    """

    @functools.wraps(section)
    def run(*args: Any, **kwargs: Any) -> None:
        from . import lang

        state = st.session_state
        running = state.get(_APP_RUNNING)
        state[_APP_RUNNING] = True  # a fragment rerun runs without app.py
        lang.begin()  # ... so without its language set either
        try:
            section(*args, **kwargs)
        finally:
            state[_APP_RUNNING] = running

    return st.fragment(run)


_UNSET: Any = object()
_ALL = "all"  # the code of a None option ("Compare by: whole cohort") in a link


def _code(option: Any) -> str:
    return _ALL if option is None else str(option)


def linked(key: str, options: Iterable[Any] | None = None, *,
           default: Any = _UNSET) -> dict[str, Any]:
    """Widget arguments that put the widget's value in the URL and keep it across pages.

    ``st.toggle("CI band", True, **_ui.linked("surv_band"))``;
    ``st.radio("Endpoint", ENDPOINTS, format_func=..., **_ui.linked("surv_endpoint", ENDPOINTS))``;
    a multiselect gives its default here, not to the widget:
    ``st.multiselect(label, candidates, **_ui.linked("cox_covariates", candidates, default=[...]))``.
    ``key`` is also the URL parameter name; see the module docstring.
    """
    if options is None:
        return {"key": key, "bind": "query-params", "persist_state": "session"}
    by_code = {_code(o): o for o in options}
    multi = default is not _UNSET and isinstance(default, (list, tuple))
    if default is _UNSET:
        default = next(iter(by_code.values()), None)
    state = st.session_state
    seeded = False
    if key not in state and key in st.query_params:  # the widget's first run in this session
        codes = [c for c in st.query_params.get_all(key) if c in by_code]
        if multi:
            state[key], seeded = [by_code[c] for c in codes], True
        elif codes:
            state[key], seeded = by_code[codes[0]], True
    value = state[key] if key in state else default
    if multi:
        wanted = [_code(v) for v in value] or [""] if list(value) != list(default) else []
    else:
        wanted = [_code(value)] if value != default and _code(value) in by_code else []
    if wanted != st.query_params.get_all(key):
        if wanted:
            st.query_params[key] = wanted if multi else wanted[0]
        else:
            del st.query_params[key]
    extra = {"default": list(default)} if multi and not seeded else {}
    return {"key": key, "persist_state": "session", **extra}


def linked_tabs(key: str, tabs: Mapping[str, str]) -> dict[str, Any]:
    """:func:`linked` for ``st.tabs(list(tabs.values()), ...)``: ``tabs`` maps each tab's code
    (in the URL) to its label (in the chosen language).

    The page reruns when the tab changes (read the open tab with ``tab.open``, or
    :func:`open_tab`), and the tab is remembered across page switches and language changes.
    """
    state = st.session_state
    remembered = state.setdefault("_linked_tabs", {})
    codes = list(tabs)
    by_label = {label: code for code, label in tabs.items()}
    if state.get(key) in by_label:  # the tab open last run, or the one just clicked
        code = by_label[state[key]]
    else:  # first run, back from another page, or the labels changed language
        linked = st.query_params.get(key)
        code = linked if linked in tabs else remembered.get(key)
        if code is not None:
            state[key] = tabs[code]
    code = code if code in tabs else codes[0]
    remembered[key] = code
    if code != codes[0] and st.query_params.get(key) != code:
        st.query_params[key] = code
    elif code == codes[0] and key in st.query_params:
        del st.query_params[key]
    return {"key": key, "on_change": "rerun"}


def open_tab(key: str) -> str | None:
    """The code of the open tab of :func:`linked_tabs` ``key`` (None before it is drawn)."""
    return st.session_state.get("_linked_tabs", {}).get(key)


class _NotShared(Exception):
    """Carries a result that must not be shared across sessions (an error message)."""

    def __init__(self, result: tuple[str, Any]) -> None:
        super().__init__(result[0])
        self.result = result


@st.cache_data(max_entries=_SHARED_ENTRIES, ttl=_SHARED_TTL_S, show_spinner=False)
def _shared(key: tuple, _thunk: Callable[[], tuple[str, Any]]) -> tuple[str, Any]:
    """``_thunk()`` once per ``key`` for every session of this server process (demo only).

    An error is raised past the cache instead of stored, so every session that meets it
    computes it again and writes its own audit line.
    """
    result = _thunk()
    if result[0] != "ok":
        raise _NotShared(result)
    return result


def _memo(key: tuple, thunk: Callable[[], Any], *, shared: bool = False) -> Any:
    """Session-scoped LRU: ``thunk()`` once per key in this user's session.

    The key includes the interface language: results carry their methods and notes, and
    charts their titles, in the language they were made in. With ``shared=True`` (the built-in
    demo cohort only, whose results are the same for everyone) a session's first look-up of
    a key goes to a cache shared by the server's sessions; ``thunk`` must then return
    ``(status, value)`` as :func:`_guarded` does.
    """
    key = (get_language(), *key)
    cache: OrderedDict = st.session_state.setdefault(_CACHE_KEY, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    if shared:
        try:
            value = _shared(key, thunk)
        except _NotShared as exc:
            value = exc.result
    else:
        value = thunk()
    cache[key] = value
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def remember(key: tuple, thunk: Callable[[], Any]) -> Any:
    """``thunk()`` once per ``key`` (start it with the data key) in this user's session."""
    return _memo(key, thunk)


def _guarded(thunk: Callable[[], Any], what: str) -> tuple[str, Any]:
    """("ok", thunk()) or ("error", a message): the one error guard of analyses and charts."""
    from . import auth

    try:
        return ("ok", thunk())
    except CohortError as exc:
        auth.note_error(what, type(exc).__name__)
        return ("error", str(exc))
    except Exception as exc:  # never show a traceback to a user; log it for the admin
        log.exception("Unexpected error in %s", what)
        auth.note_error(what, type(exc).__name__)
        return ("error", _("{what} failed unexpectedly on this cohort. The details were logged "
                           "on the server; please report this to your administrator.").format(
                               what=what))


def compute(fn: Callable[..., Any], *args: Any, full: bool = False, **kwargs: Any) -> Any:
    """Run ``fn(view().df, *args, **kwargs)`` once per (data, filters, arguments) per session.

    With ``full=True`` the function gets the whole cohort instead of the filtered one. The
    cache lives in this user's session state, so one user never sees another's results, and
    is keyed on the SHA-256 of the data, never on a sampled hash. Returns ``None`` after
    showing the message when the analysis cannot run on this cohort.
    """
    v = view()
    # results carry their methods, notes and messages in the language they were made in
    key = (v.data_key, "full" if full else v.filters_key, fn.__module__, fn.__qualname__, args,
           tuple(sorted(kwargs.items())), get_language())

    status, value = _memo(key, lambda: _guarded(
        lambda: fn(v.full if full else v.df, *args, **kwargs),
        _("The analysis '{name}'").format(name=fn.__name__)), shared=v.is_demo)
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


def _finite(x: Any) -> bool:
    try:
        return x is not None and bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def fmt_num(x: float | None, digits: int = 2, nr: str = "NE") -> str:
    """A number with ``digits`` decimals; missing or infinite becomes ``nr`` ("NE")."""
    return f"{float(x):.{digits}f}" if _finite(x) else nr


def fmt_p(p: float | None) -> str:
    """p values: three decimals, '< 0.001' below; '-' when there is none."""
    if not _finite(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


# One rounding rule per kind of number: months 1 decimal, HR 2, percentages 1, p 3.
NE_FOOTNOTE = N_("Not reached: fewer than half of the group had the event. NE: not estimable "
                 "(a confidence limit the data cannot give, e.g. the band never crosses 50%, "
                 "or no event yet at that time). -: no patient followed that long.")


def fmt_ci(x: float, lo: float, hi: float, digits: int = 1) -> str:
    """'12.3 (8.1-16.0)'; a missing bound reads NE; a missing estimate '-'."""
    if not _finite(x):
        return "-"
    return f"{fmt_num(x, digits)} ({fmt_num(lo, digits)}-{fmt_num(hi, digits)})"


def fmt_median(m: float, lo: float, hi: float) -> str:
    """Median survival in months: 'not reached' (with its lower bound when there is one)."""
    if _finite(m):
        return fmt_ci(m, lo, hi, 1)
    if _finite(lo):
        return _("not reached ({lower}-NE)").format(lower=fmt_num(lo, 1))
    return _("not reached")


def fmt_hr(hr: float, lo: float, hi: float) -> str:
    """'0.52 (0.30-0.90)', or 'NE' when the model cannot estimate it (e.g. a group without
    events: the coefficient runs to infinity and the interval to 0 or inf)."""
    if not (_finite(hr) and _finite(lo) and _finite(hi)) or lo <= 0 or hi > 1e4 or hr > 1e4:
        return "NE"
    return f"{hr:.2f} ({lo:.2f}-{hi:.2f})"


def fmt_rate(s: float, lo: float, hi: float) -> str:
    """A survival rate in percent with its CI; '-' past follow-up; no '100.0 (100.0-100.0)'."""
    if not _finite(s):
        return "-"
    if _finite(lo) and _finite(hi) and lo == hi == s:  # no event yet: no interval
        return f"{100 * s:.1f} (NE)"
    return f"{100 * s:.1f} ({fmt_num(100 * lo, 1)}-{fmt_num(100 * hi, 1)})"


# Characters Markdown (and Streamlit's $...$ maths and :shortcodes:) would read as markup.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_markdown(text: object) -> str:
    """``text`` as st.markdown shows it: written as is (a column named "*A*" or "1." stays)."""
    return _MARKUP.sub(r"\\\1", str(text))


def _plain_cell(value: Any) -> Any:
    """A text cell as st.table shows it literally: it reads cells as Markdown, so a lone "-"
    became an empty bullet and indented labels code blocks."""
    if not isinstance(value, str):
        return value
    body = value.lstrip(" ")
    indent = "\u00a0" * (len(value) - len(body))
    if body[:1] in ("-", "+", "*", "#", ">"):
        body = "\\" + body
    return indent + body


def _markdown_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for i, dtype in enumerate(df.dtypes):
        if pd.api.types.is_object_dtype(dtype):
            out.iloc[:, i] = df.iloc[:, i].map(_plain_cell)
    return out


def table_view(df: pd.DataFrame, *, hide_index: bool = True) -> None:
    """Show a table: an interactive grid, or a static table in presentation mode.

    The interactive grid draws ~13 px text on a canvas that does not scale: on a projector
    tables are static HTML, sized by the presentation CSS (app.py).
    """
    if view().presentation:
        st.table(_markdown_safe(df), hide_index=hide_index)
    else:  # whole tables for screen-sharing; only very long ones scroll inside the page
        st.dataframe(_arrow_ready(df), hide_index=hide_index, width="stretch",
                     height="content" if len(df) <= 60 else 900)


def _arrow_ready(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its mixed text-and-number columns (Table 1's "%", "-" beside ratios) as
    text, as Streamlit shows them anyway: it converts such a column to text only after a
    failed conversion to Arrow, whose traceback it logs on every run."""
    objects = [i for i, dtype in enumerate(df.dtypes) if pd.api.types.is_object_dtype(dtype)]
    values = df.iloc[:, objects].to_numpy()  # one array for every text column, read per column
    mixed = [i for j, i in enumerate(objects)
             if pd.api.types.infer_dtype(values[:, j], skipna=True) in ("mixed", "mixed-integer")]
    if not mixed:
        return df
    out = df.copy()
    for i in mixed:
        out.isetitem(i, df.iloc[:, i].astype("string"))
    return out


_RUN_STAMP = "_run_stamp"


def _run_stamp() -> tuple[report.Provenance, Any]:
    """This run's provenance stamp and filters, made once for all the run's downloads.

    app.py sets a new view on every run (a fragment rerun keeps the last run's, as the
    sidebar cannot change without a full run), so the view identifies the run.
    """
    from . import pack

    v = view()
    held = st.session_state.get(_RUN_STAMP)
    if held is None or held[0] is not v:
        held = (v, pack.provenance(v), pack.filters())
        st.session_state[_RUN_STAMP] = held
    return held[1], held[2]


def _exported(make: Callable[[], Any], kind: str, file_name: str) -> Callable[[], Any]:
    """``make`` for a download button; the audit trail records the export when it is built."""
    from . import auth

    v = view()
    return auth.audited_export(make, kind, file_name, report.fingerprint(v.data_key), v.user)


def show_table(df: pd.DataFrame, name: str, *, hide_index: bool = True,
               endpoint: str | None = None, method: str | None = None,
               export_df: pd.DataFrame | None = None) -> None:
    """Show a whole table (no inner scrolling, for screen-sharing) with CSV/Excel downloads.

    Downloads neutralise spreadsheet formula injection (hcc_core.export), keep numbers numeric
    (``export_df``: a numeric version of a display table, e.g. Table 1's p column), carry the
    stamp (population, n, ``endpoint``, ``method``, date, version, data fingerprint: CSV
    ``#`` lines, a Notes sheet) and are named by page and filters (``table1_cp-A.xlsx``).
    No pandas Styler: it imports matplotlib, which writes a font cache to disk.
    """
    # Small-cell suppression of count columns (Table 1's n, numbers at risk, ...): one rule,
    # hcc_core.suppression; formatted cells ("3 (7.9)") were already suppressed when formatted.
    df = suppression.suppress_counts(df)
    table_view(df, hide_index=hide_index)
    out = suppression.suppress_counts(df if export_df is None else export_df)
    provenance, tag = _run_stamp()
    notes = provenance.lines(endpoint=endpoint, method=method)
    csv_name, xlsx_name = report.file_name(name, tag, "csv"), report.file_name(name, tag, "xlsx")
    c1, c2, _space = st.columns([1, 1, 4])
    c1.download_button(_("Download CSV"),
                       data=_exported(lambda: export.to_csv_bytes(out, notes=notes), "csv",
                                      csv_name),
                       file_name=csv_name, mime="text/csv", key=f"csv_{name}", on_click="ignore")
    c2.download_button(_("Download Excel"),
                       data=_exported(lambda: export.to_excel_bytes(
                           out, sheet_name=name[:31], notes=notes), "xlsx", xlsx_name),
                       file_name=xlsx_name, key=f"xlsx_{name}", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _spec_of(chart: Any) -> dict:
    """The Vega-Lite dict of a chart builder's result (plain dict, or an Altair chart)."""
    return chart if isinstance(chart, dict) else chart.to_dict()


def _container_sized(node: Any) -> bool:
    """Whether any view of the spec is sized "container" (the data are not searched)."""
    if isinstance(node, dict):
        return "container" in (node.get("width"), node.get("height")) or any(
            _container_sized(v) for k, v in node.items() if k not in ("datasets", "data"))
    if isinstance(node, list):
        return any(_container_sized(v) for v in node)
    return False


def show_chart(build: Callable[[], Any], name: str, options: tuple = (), *,
               stretch: bool = False, endpoint: str | None = None,
               method: str | None = None, counts: Any = None) -> None:
    """Show the chart ``build()`` makes, with PNG and SVG downloads rendered on click.

    The Vega-Lite spec is cached per (data, filters, ``name``, ``options``) in the session, so
    a rerun that changes nothing the chart shows does not rebuild it; ``options`` must hold
    every setting the chart depends on besides the data and filters. ``build`` runs under the
    same error guard as :func:`compute`: a chart that cannot be drawn shows a message. The
    downloaded PNG/SVG carry a footnote with the stamp (population, n, ``endpoint``,
    ``method``, date, version, data fingerprint) and are named by page and filters.
    ``counts``: the patient counts the chart is drawn from; when small-cell suppression hides
    any of them, a sentence replaces the chart (it would give them back).
    """
    if counts is not None and suppression.reveals(counts):
        st.caption(suppression.chart_withheld_note())
        return
    v = view()
    status, spec = _memo((v.data_key, v.filters_key, "chart", name, options, v.font_size,
                          suppression.current(), get_language()),
                         lambda: _guarded(lambda: _spec_of(build()),
                                          _("The chart '{name}'").format(name=name)),
                         shared=v.is_demo)
    if status == "error":  # charts run under the same guard as analyses
        st.warning(spec)
        return
    # A chart whose views are sized "container" (e.g. every KM chart) takes the column width.
    stretch = stretch or _container_sized(spec)
    st.vega_lite_chart(spec, theme=None, width="stretch" if stretch else "content")
    provenance, tag = _run_stamp()
    stamped = report.stamp_chart_spec(spec, provenance, endpoint=endpoint, method=method)
    png_name, svg_name = report.file_name(name, tag, "png"), report.file_name(name, tag, "svg")
    c1, c2, _space = st.columns([1, 1, 4])
    c1.download_button(_("Download PNG"),
                       data=_exported(lambda: charts.chart_png(stamped), "png", png_name),
                       file_name=png_name, mime="image/png", key=f"png_{name}",
                       on_click="ignore")
    c2.download_button(_("Download SVG"),
                       data=_exported(lambda: charts.chart_svg(stamped), "svg", svg_name),
                       file_name=svg_name, mime="image/svg+xml", key=f"svg_{name}",
                       on_click="ignore")


def caution(text: str) -> None:
    """A statistical caution where it applies (small groups, PH violated, ...); a constant
    marked with ``N_`` (``NON_RANDOMISED``) is translated here."""
    st.warning(_(text), icon=":material/warning:")


def group_label(column: str) -> str:
    """Human label of a canonical column, e.g. 'Child-Pugh class'."""
    return label_of(column)


# Codes -> labels read in the run's language (the codes are the widget values in the URL).
ENDPOINT_LABELS = Translated({"os": N_("Overall survival (OS)"),
                              "pfs": N_("Progression-free survival (PFS)")})
MODALITY_LABELS = Translated({"none": N_("systemic only"), "mTACE": "mTACE", "HAIC": "HAIC",
                              "IMRT": "IMRT"})


def level_label(column: str | None, value: Any) -> str:
    """How a group level reads on screen: local modality 'none' is 'systemic only'.

    In English other levels read as the data code them ("local+systemic"); in another
    language they read in words from hcc_core's level labels ("局部 + 系统治疗").
    """
    if column == "local_modality":
        return MODALITY_LABELS.get(str(value), str(value))
    if column is not None and get_language() != DEFAULT_LANGUAGE:
        return core_level_label(column, value)
    return str(value)

def group_names(column: str | None, groups: Any) -> dict[str, str]:
    """Chart legend labels (``group_labels=``) of a result's groups: :func:`level_label`
    (none for an ungrouped result: the chart names its one curve)."""
    if column is None:
        return {}
    return {str(g): level_label(column, g) for g in pd.unique(pd.Series(list(groups)))}


NON_RANDOMISED = N_(
    "This is a non-randomised comparison: differences between groups may reflect who was "
    "selected for local therapy rather than its effect. Read hazard ratios together with the "
    "multivariable model and the baseline table."
)
