"""The full refresh: every ``hcc_core`` computation the pages run for one filter state.

Each component is looked up in ``hcc_core`` at run time, so the benchmark runs while parts of
the core are still being written: a component whose functions are missing is reported as
"not available" instead of failing the run. Component names match ``bench/bench.R``.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

import hcc_core
from hcc_core import schema as S

__all__ = [
    "Component",
    "components",
    "chart_components",
    "spec_json",
    "clear_caches",
    "PAGE_SUBGROUPS",
    "subgroups",
    "check_subgroups",
    "TAU_MONTHS",
    "cox_covariates",
    "KM_BY",
    "PAIRWISE_BY",
    "FILTER_STATE",
]

ENDPOINTS = ("os", "pfs")
KM_BY = S.TREATMENT_GROUP
PAIRWISE_BY = S.LOCAL_MODALITY  # four levels, so the pairwise table is non-trivial
TAU_MONTHS = 24.0
# As pages/cox.py: the subgroup forest's variables. "afp_400" is used by the page but is only
# kept here if hcc_core can derive it (see subgroups()).
PAGE_SUBGROUPS = (
    S.CHILD_PUGH_CLASS,
    S.BCLC_STAGE,
    S.TUMOR_NUMBER,
    "afp_400",
    S.ALBI_GRADE,
    S.LOCAL_MODALITY,
)
# A filter click that keeps every synthetic patient (all BCLC stages the generator makes), so
# the analyses after it see the whole cohort of size n.
FILTER_STATE = {"bclc_stages": ("A", "B", "C")}


@dataclass(frozen=True)
class Component:
    name: str
    run: Callable[[], object] | None  # None: not available in hcc_core yet
    missing: tuple[str, ...] = ()
    in_r: bool = True  # also timed on the R side


_SUBMODULES = ("survival", "cox", "overview", "tables", "response", "safety", "cohort")


def _lookup(name: str):
    """``hcc_core.<name>``, else the first submodule defining it (before it is re-exported)."""
    if hasattr(hcc_core, name):
        return getattr(hcc_core, name)
    for sub in _SUBMODULES:
        try:
            mod = importlib.import_module(f"hcc_core.{sub}")
        except ImportError:
            continue
        if hasattr(mod, name):
            return getattr(mod, name)
    return None


def _get(*names: str):
    found = [_lookup(n) for n in names]
    missing = tuple(n for n, f in zip(names, found, strict=True) if f is None)
    return found, missing


_FAILING_SUBGROUPS: dict[str, str] = {}


def subgroups() -> tuple[str, ...]:
    """The page's subgroup variables that hcc_core can split by (derived ones must be known)."""
    derived = _lookup("DERIVED_COVARIATES") or {}
    return tuple(
        v
        for v in PAGE_SUBGROUPS
        if (v in S.COLUMN_BY_NAME or v in derived) and v not in _FAILING_SUBGROUPS
    )


def check_subgroups(df) -> dict[str, str]:
    """Drop (and return) subgroup variables on which ``subgroup_forest`` raises for ``df``.

    Tried one variable at a time on the first 2,000 patients (enough to contain missing
    values), so one failing variable does not hide the timing of the others.
    """
    fn = _lookup("subgroup_forest")
    if fn is None:
        return {}
    derived = _lookup("DERIVED_COVARIATES") or {}
    for v in PAGE_SUBGROUPS:
        if v not in S.COLUMN_BY_NAME and v not in derived:
            _FAILING_SUBGROUPS[v] = "not a column hcc_core can derive"
            continue
        try:
            fn(df.head(2000), "os", (v,))
        except Exception as exc:
            _FAILING_SUBGROUPS[v] = f"{type(exc).__name__}: {exc}"[:200]
    return dict(_FAILING_SUBGROUPS)


def cox_covariates() -> tuple[str, ...] | None:
    cov = _lookup("PAPER_COX_COVARIATES")
    return tuple(cov) if cov is not None else None


def components(df) -> list[Component]:
    """The timed analyses on the (already filtered) frame ``df``, in page order."""
    out: list[Component] = []

    def add(name: str, names: tuple[str, ...], body: Callable[..., object]) -> None:
        fns, missing = _get(*names)
        out.append(Component(name, None if missing else functools.partial(body, *fns), missing))

    add(
        "overview",
        ("cohort_overview", "median_follow_up"),
        lambda ov, fu: (ov(df), [fu(df, ep) for ep in ENDPOINTS]),
    )

    def km(fit_km):
        res = []
        for ep in ENDPOINTS:
            k = fit_km(df, ep, by=KM_BY, conf_type="log-log")
            res.append((k, k.summary, k.at([12.0, 24.0])))
        return res

    add("km", ("fit_km",), km)
    add("logrank", ("logrank_test",), lambda f: [f(df, ep, KM_BY) for ep in ENDPOINTS])
    add(
        "pairwise_logrank",
        ("pairwise_logrank",),
        lambda f: [f(df, ep, PAIRWISE_BY, adjust="holm") for ep in ENDPOINTS],
    )
    add("rmst", ("rmst",), lambda f: [f(df, ep, KM_BY, TAU_MONTHS) for ep in ENDPOINTS])
    cov = cox_covariates()
    if cov is None:
        out.append(Component("cox_multivariable", None, ("PAPER_COX_COVARIATES",)))
        out.append(Component("cox_univariable", None, ("PAPER_COX_COVARIATES",)))
    else:
        add("cox_multivariable", ("fit_cox",), lambda f: [f(df, ep, cov) for ep in ENDPOINTS])
        add("cox_univariable", ("cox_univariable",), lambda f: [f(df, ep, cov) for ep in ENDPOINTS])
    add(
        "subgroup_forest",
        ("subgroup_forest",),
        lambda f: [f(df, ep, subgroups()) for ep in ENDPOINTS],
    )
    add("table_one", ("table_one",), lambda f: f(df))
    add("response", ("response_rates",), lambda f: f(df))
    add("adverse_events", ("ae_table",), lambda f: f(df))
    return out


def spec_json(chart) -> str:
    """A chart's Vega-Lite JSON as Streamlit sends it: Altair charts via ``to_json``, the plain
    dict specs that ``hcc_core.charts`` builds for redrawn charts via ``json.dumps``."""
    return chart.to_json() if hasattr(chart, "to_json") else json.dumps(chart)


def chart_components(results: dict) -> list[Component]:
    """What the pages draw and format from the analyses' ``results`` (Python only, no R).

    Charts are serialised to Vega-Lite JSON as Streamlit does before sending them.
    """
    from hcc_core import charts

    out: list[Component] = []

    def add(name: str, needs: tuple[str, ...], names: tuple[str, ...], body) -> None:
        fns, missing = _get(*names)
        missing = missing + tuple(n for n in needs if results.get(n) is None)
        out.append(
            Component(name, None if missing else functools.partial(body, *fns), missing, in_r=False)
        )

    def km_charts():
        for (k, _, _), lr in zip(results["km"], results["logrank"], strict=True):
            spec_json(charts.km_chart(k, p_value_text=f"Log-rank p = {lr.p_value:.3f}"))

    def cox_charts():
        for fit, forest in zip(
            results["cox_multivariable"], results["subgroup_forest"], strict=True
        ):
            t = fit.table.reset_index().rename(columns={"index": "term"})
            t["label"] = t["term"]
            spec_json(charts.forest_chart(t))
            spec_json(charts.subgroup_forest_chart(forest))

    def tables(ft1, fr, fae):
        resp = results["response"]
        bars = (
            spec_json(charts.response_bar_chart(resp.counts)) if hasattr(resp, "counts") else None
        )  # ResponseResult.counts: not yet in core
        return ft1(results["table_one"]), fr(resp), fae(results["adverse_events"]), bars

    add("km_chart", ("km", "logrank"), (), km_charts)
    add("cox_charts", ("cox_multivariable", "subgroup_forest"), (), cox_charts)
    add(
        "tables_format",
        ("table_one", "response", "adverse_events"),
        ("format_table_one", "format_response", "format_ae_table"),
        tables,
    )
    return out


def clear_caches() -> int:
    """Clear every ``functools`` cache in ``hcc_core`` so each repetition computes afresh."""
    cleared = 0
    for name, mod in list(sys.modules.items()):
        if not name.startswith("hcc_core") or mod is None:
            continue
        for obj in list(vars(mod).values()):
            if isinstance(obj, type):  # a memo class, not a cache
                continue
            if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
                obj.cache_clear()
                cleared += 1
    return cleared
