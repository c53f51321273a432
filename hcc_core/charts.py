"""Chart builders: take result objects, return charts; compute no statistics.

Every chart is a plain Vega-Lite dict built directly: Altair's objects, copies and schema
validation were most of a redraw's time. tests/test_charts.py validates these dicts against the
schema Altair ships, and tests/test_chart_specs.py pins them to the specs Altair built.
Streamlit, :func:`chart_png` and :func:`chart_svg` take them (and Altair charts too).

Colours are the Okabe-Ito palette (colour-blind safe); every text size is at least
``font_size`` (14 px by default, larger in presentation mode). Curves are sent to the browser
at distinct event times only, thinned past a few thousand points per group, so the payload
does not grow with the number of patients.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import formatting as fmt
from . import suppression
from .fonts import register_cjk_fonts
from .i18n import N_, _, pgettext

if TYPE_CHECKING:  # Altair loads with the first chart that needs it, not at start
    import altair as alt

__all__ = [
    "OKABE_ITO",
    "km_chart",
    "cif_chart",
    "forest_chart",
    "subgroup_forest_chart",
    "response_bar_chart",
    "love_plot",
    "ps_histogram_chart",
    "thin_curve",
    "chart_png",
    "chart_svg",
]

OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: poor contrast on white)
)
# The Vega-Lite schema of the installed Altair (tests/test_charts.py checks they agree).
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
MAX_POINTS_PER_GROUP = 2000
MAX_POINTS_TOTAL = 4000  # below Altair's 5,000-row limit per dataset, whatever the groups
MAX_CENSOR_TICKS_PER_GROUP = 400
WIDTH = 760


def _colour_scale(groups: list[str]) -> dict:
    return {"domain": list(groups),
            "range": [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(groups))]}


INK = "#1a1a1a"  # chart text: near-black on the white chart background


def _config(font_size: int) -> dict:
    """The Vega-Lite ``config`` of every chart (Altair's default view size included)."""
    return {
        "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
        # Text colours set, not inherited: Streamlit's dark theme hands the chart light-grey
        # axis and legend text, unreadable on the white background below.
        "axis": {"labelFontSize": font_size, "titleFontSize": font_size, "labelColor": INK,
                 "titleColor": INK, "domainColor": INK, "tickColor": INK,
                 "gridColor": "#dddddd"},
        "legend": {"labelFontSize": font_size, "titleFontSize": font_size, "labelLimit": 400,
                   "labelColor": INK, "titleColor": INK},
        "title": {"fontSize": font_size + 2, "subtitleFontSize": font_size, "anchor": "start",
                  "color": INK, "subtitleColor": INK},
        "text": {"color": INK},
        # A light background whatever the app theme: chart text stays dark on white, legible
        # in a dark operating-system theme too.
        "background": "white",
    }


def _top(spec: dict, font_size: int, datasets: dict | None = None) -> dict:
    """A top-level plain Vega-Lite spec: config, schema and the named datasets."""
    out = {"config": _config(font_size), **spec, "$schema": SCHEMA_URL}
    if datasets:
        out["datasets"] = datasets
    return out


def _rows(columns: dict) -> list[dict]:
    """Rows as JSON-ready dicts from ``{name: array}``: the values Altair would send (NaN,
    infinite and missing -> null), without its schema machinery."""
    cols = []
    for values in columns.values():
        if not isinstance(values, np.ndarray):
            values = np.asarray(values, dtype=object)
        kind = values.dtype.kind
        null = (~np.isfinite(values) if kind == "f" else None if kind in "iub"
                else pd.isna(values))
        out = values.tolist()
        if null is not None and null.any():
            for i in np.flatnonzero(null).tolist():
                out[i] = None
        cols.append(out)
    if len({len(c) for c in cols}) > 1:
        raise ValueError("Every column of a chart's data must have the same length.")
    rows: list[dict] = [{} for _ in range(len(cols[0]) if cols else 0)]
    for name, values in zip(columns, cols, strict=True):  # column by column: 3x faster
        for row, x in zip(rows, values, strict=True):
            row[name] = x
    return rows


def _records(df: pd.DataFrame) -> list[dict]:
    """:func:`_rows` of a DataFrame's columns."""
    return _rows({c: df[c].to_numpy() for c in df.columns})


def _named(values: list[dict], datasets: dict) -> dict:
    """``values`` added to ``datasets`` under a name made from their content, as Altair names
    the inline data it moves to the top: the same rows, the same name, the same spec."""
    text = json.dumps(values, sort_keys=True, default=str)
    name = "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]
    datasets[name] = values
    return {"name": name}


def _q(field: str, **kw) -> dict:
    """A quantitative field channel."""
    return {"field": field, "type": "quantitative", **kw}


def _n(field: str, **kw) -> dict:
    """A nominal field channel."""
    return {"field": field, "type": "nominal", **kw}


def _layer(data, mark: dict, encoding: dict) -> dict:
    """One view: ``data`` a dataset name (str) or inline rows (list of dicts)."""
    return {"data": {"name": data} if isinstance(data, str) else {"values": data},
            "mark": mark, "encoding": encoding}


def _group_positions(groups) -> list[np.ndarray]:
    """Row positions of each group, groups in order of first appearance (as
    ``groupby(sort=False)``; missing groups left out)."""
    codes, uniques = pd.factorize(groups)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(len(uniques))]


def _thinned(t: np.ndarray, max_points: int) -> np.ndarray:
    """Positions in one group's times ``t`` that :func:`thin_curve` keeps."""
    if len(t) <= max_points:
        return np.arange(len(t))
    grid = np.linspace(t[0], t[-1], max_points)
    idx = np.unique(np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 1))
    return np.union1d(idx, [0, len(t) - 1])


def thin_curve(curve: pd.DataFrame, max_points: int = MAX_POINTS_PER_GROUP) -> pd.DataFrame:
    """Thin a long step curve to at most ``max_points`` rows per group.

    Keeps the first and last row of each group and otherwise the rows nearest to evenly
    spaced times, so the drawn step function is unchanged at screen resolution. Curves
    already short enough are returned as they are.
    """
    parts = _group_positions(curve["group"].to_numpy())
    if not parts:
        return curve
    t = curve["time"].to_numpy()
    keep = np.concatenate([p[_thinned(t[p], max_points)] for p in parts])
    return curve.iloc[keep].reset_index(drop=True)


def _censor_positions(groups: np.ndarray, censored: np.ndarray, max_ticks: int) -> np.ndarray:
    """Rows drawn as censor ticks: every censored row, every k-th past ``max_ticks`` a group."""
    cens = np.flatnonzero(censored > 0)
    parts = []
    for p in _group_positions(groups[cens]):
        if len(p) > max_ticks:
            p = p[::math.ceil(len(p) / max_ticks)]
        parts.append(cens[p])
    return np.concatenate(parts) if parts else cens


DASHES = ([1, 0], [8, 4], [2, 3], [12, 4, 2, 4], [4, 4], [16, 4], [2, 8], [8, 2, 2, 2])


def _subtitle_lines(text: str, width: int) -> list[str]:
    """Split a ' · '-separated subtitle into lines of at most ``width`` characters."""
    lines: list[str] = []
    for part in text.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def _answer_panel(lines: list[str], font_size: int, width) -> dict:
    """A framed box of text lines across the top of a chart (the answer beside the curves)."""
    line_h = round(font_size * 1.35)
    box_h = line_h * len(lines) + 12
    frame = _layer([{"x": 0}], {"type": "rect", "cornerRadius": 3, "fill": "white",
                                "stroke": "#888888", "strokeWidth": 1},
                   {"x": {"value": 0}, "x2": {"value": "width"}, "y": {"value": 0},
                    "y2": {"value": box_h}})
    text = _layer([{"label": t, "y": 6 + i * line_h} for i, t in enumerate(lines)],
                  {"type": "text", "align": "left", "baseline": "top", "color": "#222222",
                   "fontSize": font_size, "limit": 0},
                  {"text": _n("label"), "x": {"value": 10}, "y": _q("y", scale=None)})
    return {"layer": [frame, text], "height": box_h, "width": width}


def km_chart(
    km,
    *,
    risk_times: list[float] | None = None,
    show_ci: bool = True,
    p_value_text: str | None = None,
    y_title: str = N_("Survival probability"),
    x_title: str = N_("Months"),
    risk_title: str = N_("Number at risk"),
    risk_format: str = "d",
    font_size: int = 14,
    value_title: str = "Survival",
    title: str | None = None,
    subtitle: str | None = None,
    answer: list[str] | None = None,
    group_labels: dict | None = None,
    median_lines: bool = False,
    line_styles: bool = False,
    extended_risk: bool = False,
    responsive: bool = True,
) -> dict:
    """Kaplan-Meier step curves with CI bands, censor ticks and a number-at-risk table.

    The x-axis ticks are the risk-table times, so each number sits under its tick
    (survminer's convention). Returns a plain Vega-Lite dict (no Altair objects, no schema
    validation: this runs on every filter change); the curve, censor ticks and risk table
    are the named ``datasets`` ``km_curve``, ``km_ticks`` and ``km_risk``.

    Parameters
    ----------
    km : KMResult
        From ``hcc_core.fit_km``; uses ``.curve`` and ``.risk_table`` (and ``.summary`` for
        median lines).
    risk_times : list of float, optional
        Times of the axis ticks and the risk table (default: every 6 months to the last time).
    show_ci : bool
        Draw the pointwise confidence band.
    p_value_text : str, optional
        Annotation drawn in the top-right corner, e.g. "Log-rank p = 0.045".
    risk_title, risk_format : str
        Title and d3 number format of the at-risk row (weighted curves: sums of weights,
        e.g. "Weighted number at risk" and ".1f").
    title, subtitle : str, optional
        Chart title and subtitle (who is shown: filters in words, n, endpoint); a long
        subtitle is wrapped at its ' · ' separators.
    answer : list of str, optional
        Lines drawn in a framed box across the top of the chart (n, events, medians, hazard
        ratio, log-rank p): on the chart, never over the curves.
    group_labels : dict, optional
        Display name of each group (e.g. ``{"none": "systemic only"}``).
    median_lines : bool
        Dashed lines from 50% to each group's median and down to the axis.
    line_styles : bool
        A different dash pattern per group, for greyscale printing.
    extended_risk : bool
        At risk, censored and events (cumulative) per group at each tick: the KMunicate layout.
    responsive : bool
        Take the width of the page column (views sized "container", the default); exports
        (:func:`chart_png`, :func:`chart_svg`) draw it ``WIDTH`` wide.
    """
    # Titles are English msgids (the defaults) or the caller's own text: shown translated.
    y_title, x_title, risk_title = (_(t) if t else t for t in (y_title, x_title, risk_title))
    # "Survival" alone is also a page name: the probability has its own context
    value_title = (
        pgettext("probability", "Survival")
        if value_title == "Survival"
        else (_(value_title) if value_title else value_title)
    )
    labels = {str(k): str(v) for k, v in (group_labels or {}).items()}
    if getattr(km, "by", None) is None:  # the whole cohort: one group, named "all" in the data
        labels.setdefault("all", _("all"))
    curve = km.curve
    # Arrays, not DataFrame operations: this runs on every filter change.
    codes, uniques = pd.factorize(curve["group"].to_numpy(), use_na_sentinel=False)
    groups = [labels.get(str(g), str(g)) for g in uniques]
    group_of = np.array(groups, dtype=object)[codes]  # each row's group, as shown

    def rounded(column: str, rows: np.ndarray, decimals: int) -> np.ndarray:
        return np.round(curve[column].to_numpy()[rows], decimals)

    t_max = float(curve["time"].max()) if len(curve) else 1.0
    if risk_times is None:
        step = 6.0 if t_max > 12 else max(t_max / 4, 1.0)
        risk_times = list(np.arange(0.0, t_max + 1e-9, step))
    risk_times = [float(t) for t in risk_times]
    width = "container" if responsive else WIDTH
    height = 380
    x_scale = {"domain": [0, max(t_max, risk_times[-1] if risk_times else 0)], "nice": False}
    x_axis = {"format": "~g", "values": risk_times} if risk_times else {}
    legend = {"direction": "horizontal", "orient": "top", "symbolSize": 300,
              "symbolStrokeWidth": 3}
    colour = _n("group", legend=legend, scale=_colour_scale(groups), title=None)
    no_legend = _n("group", legend=None, scale=_colour_scale(groups))
    per_group = min(MAX_POINTS_PER_GROUP, MAX_POINTS_TOTAL // max(len(groups), 1))
    # Rounded well below screen resolution: halves the payload sent to the browser.
    parts = _group_positions(group_of)
    t = curve["time"].to_numpy()
    drawn = (np.concatenate([p[_thinned(t[p], per_group)] for p in parts]) if parts
             else np.arange(len(curve)))
    datasets = {"km_curve": _rows({"group": group_of[drawn], "time": rounded("time", drawn, 3),
                                   **{c: rounded(c, drawn, 5)
                                      for c in ("survival", "lower", "upper")}})}
    x = _q("time", axis=x_axis, scale=x_scale, title=x_title)
    layers = []
    if show_ci:
        layers.append(_layer("km_curve", {"type": "area", "interpolate": "step-after",
                                          "opacity": 0.18},
                             {"color": no_legend, "x": x, "y": _q("lower"),
                              "y2": {"field": "upper"}}))
    line_enc = {
        "color": colour,
        "tooltip": [_n("group", title=_("Group")),
                    _q("time", format=".1f", title=_("Month")),
                    _q("survival", format=".1%", title=value_title),
                    _q("lower", format=".1%", title=_("CI lower")),
                    _q("upper", format=".1%", title=_("CI upper"))],
        "x": x,
        "y": _q("survival", axis={"format": "%"}, scale={"domain": [0, 1]}, title=y_title),
    }
    if line_styles:
        line_enc["strokeDash"] = _n("group", legend=legend, scale={
            "domain": groups, "range": [DASHES[i % len(DASHES)] for i in range(len(groups))]},
            title=None)
    layers.append(_layer("km_curve", {"type": "line", "interpolate": "step-after",
                                      "strokeWidth": 2.5}, line_enc))
    max_ticks = min(MAX_CENSOR_TICKS_PER_GROUP, MAX_POINTS_TOTAL // 4 // max(len(groups), 1))
    ticks = _censor_positions(group_of, curve["censored"].to_numpy(), max_ticks)
    if len(ticks):
        datasets["km_ticks"] = _rows({"group": group_of[ticks],
                                      "time": rounded("time", ticks, 3),
                                      "survival": rounded("survival", ticks, 5)})
        layers.append(_layer("km_ticks", {"type": "point", "filled": True, "opacity": 0.9,
                                          "shape": "cross", "size": 70},
                             {"color": colour, "x": _q("time", scale=x_scale),
                              "y": _q("survival")}))
    summary = getattr(km, "summary", None)
    if median_lines and summary is not None:
        med = pd.DataFrame({"group": [labels.get(str(g), str(g)) for g in summary["group"]],
                            "median": summary["median"].to_numpy(dtype=float)})
        med = _records(med[np.isfinite(med["median"])].assign(zero=0.0, half=0.5))
        if med:
            dash = {"type": "rule", "strokeDash": [5, 4], "strokeWidth": 1.5}
            layers.append(_layer(med, dash, {"color": {"value": "#555555"},
                                             "x": _q("zero", scale=x_scale),
                                             "x2": {"field": "median"}, "y": _q("half")}))
            layers.append(_layer(med, dash, {"color": colour,
                                             "x": _q("median", scale=x_scale),
                                             "y": _q("zero"), "y2": {"field": "half"}}))
    if p_value_text:
        layers.append(_layer([{"label": p_value_text}], {
            "type": "text", "align": "right", "baseline": "top", "color": "#222222", "dx": -8,
            "dy": 8, "fontSize": font_size + 1, "fontWeight": "bold"},
            {"text": _n("label"), "x": {"value": "width" if responsive else WIDTH},
             "y": {"value": 0}}))
    top = {"layer": layers, "height": height, "width": width}

    risk = km.risk_table(risk_times)
    risk_group = [labels.get(g, g) for g in risk["group"].astype(str)]
    at_risk = _("at risk")
    kinds = [("at_risk", at_risk)]
    if extended_risk and {"cumulative_censored", "cumulative_events"} <= set(risk.columns):
        kinds += [("cumulative_censored", _("censored")), ("cumulative_events", _("events"))]
    # Row keys are unique ("group|kind"); the label shown is the group on its at-risk row and
    # the kind on the KMunicate rows below it.
    rows = {"group": np.array(risk_group * len(kinds), dtype=object),
            "row": np.array([f"{g}|{name}" for _, name in kinds for g in risk_group],
                            dtype=object),
            "time": np.tile(risk["time"].to_numpy(), len(kinds)),
            "value": np.concatenate([risk[column].to_numpy() for column, _ in kinds])}
    order = [f"{g}|{name}" for g in groups for _, name in kinds]
    text = _q("value", format=risk_format)
    values = rows["value"].tolist()
    hidden = [suppression.hides(v) for v in values]
    if any(hidden):  # small-cell suppression: "<5" drawn as text, said in the row's title
        python_format = ".0f" if risk_format == "d" else risk_format
        below = f"<{suppression.current()}"
        rows["label"] = np.array([below if h else format(v, python_format)
                                  for v, h in zip(values, hidden, strict=True)], dtype=object)
        text = _n("label")
        risk_title = f"{risk_title} · {suppression.footnote()}"
    datasets["km_risk"] = _rows(rows)
    quoted = at_risk.replace("\\", "\\\\").replace("'", "\\'")
    label_expr = (f"split(datum.label, '|')[1] == '{quoted}' ? split(datum.label, '|')[0] : "
                  "split(datum.label, '|')[1]")
    table = _layer("km_risk", {"type": "text", "fontSize": font_size}, {
        "color": no_legend,
        "text": text,
        "x": _q("time", axis={"domain": False, "grid": False, "labels": False, "ticks": False},
                scale=x_scale, title=risk_title if len(kinds) == 1 else
                _("Number at risk, and censored and events so far, by group")),
        # The padding keeps a centred number at time 0 clear of its row label.
        "y": _n("row", axis={"domain": False, "labelExpr": label_expr, "labelLimit": 400,
                             "labelPadding": round(font_size * 1.6) + 8, "ticks": False},
                sort=order, title=None),
    })
    table.update(height=max(round(font_size * 2) * len(order), 40), width=width)
    views = ([_answer_panel(list(answer), font_size, width)] if answer else []) + [top, table]
    chart = {"vconcat": views, "resolve": {"scale": {"color": "shared"}}, "spacing": 8}
    if responsive:
        chart["autosize"] = {"contains": "padding", "type": "fit-x"}
    if title:
        sub = _subtitle_lines(subtitle, 70) if subtitle else []
        chart["title"] = {"text": title, "subtitle": sub}
    return _top(chart, font_size, datasets)


class _CIFAsCurve:
    """A CIFResult seen through km_chart's eyes: ``cif`` drawn where ``survival`` would be."""

    def __init__(self, cif) -> None:
        self.curve = cif.curve.rename(columns={"cif": "survival"})
        self.risk_table = cif.risk_table


def cif_chart(
    cif,
    *,
    risk_times: list[float] | None = None,
    show_ci: bool = True,
    p_value_text: str | None = None,
    y_title: str = N_("Cumulative incidence"),
    x_title: str = N_("Months"),
    font_size: int = 14,
    group_labels: dict | None = None,
) -> dict:
    """Cumulative incidence curves in the Kaplan-Meier chart's conventions.

    Rising step curves with the pointwise CI band, censor ticks and the number at risk below,
    drawn by :func:`km_chart` from a ``CIFResult`` (``hcc_core.cumulative_incidence``).
    """
    return km_chart(
        _CIFAsCurve(cif),
        risk_times=risk_times,
        show_ci=show_ci,
        p_value_text=p_value_text,
        y_title=y_title,
        x_title=x_title,
        font_size=font_size,
        value_title=N_("Cumulative incidence"),
        group_labels=group_labels,
    )


# Forest plots ------------------------------------------------------------------------------

# Journal-style axis: 0.1 to 10 unless the estimates need more; CIs beyond it end in an arrow.
_FOREST_AXIS = (0.1, 10.0)
_FOREST_LIMITS = (0.01, 100.0)
_FOREST_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
NOT_ESTIMABLE = N_("not estimable")


_CHAR_EM = 0.53  # average glyph width of the chart font, in em (sans-serif, digits included)
_HEAD_LINES = 3  # header lines above the rows


@functools.lru_cache(maxsize=4096)  # the same labels and numbers on every redraw
def _em_chars(line: str) -> float:
    """Length of ``line`` in average glyphs: a Chinese character is a full em wide."""
    return sum(1 / _CHAR_EM if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _text_width(lines, font_size: int) -> int:
    longest = max((_em_chars(line) for t in lines for line in str(t).split("\n")), default=1)
    return int(math.ceil(longest * _CHAR_EM * font_size)) + 12


def _wrap(text: str, width: int) -> str:
    """Break a label into lines of at most ``width`` characters, at ": " or spaces."""
    if len(text) <= width:
        return text
    head, sep, tail = text.partition(": ")
    if sep and len(head) + 1 <= width:
        return head + ":\n" + _wrap(tail, width)
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _forest_domain(hr, lower, upper) -> tuple[float, float]:
    lo = min(max(np.min(lower), _FOREST_AXIS[0]), 0.5, np.min(hr))
    hi = max(min(np.max(upper), _FOREST_AXIS[1]), 2.0, np.max(hr))
    lo, hi = max(lo, _FOREST_LIMITS[0]), min(hi, _FOREST_LIMITS[1])
    lo = max(t for t in _FOREST_TICKS if t <= lo * 1.0001)
    hi = min(t for t in _FOREST_TICKS if t >= hi * 0.9999)
    return lo, hi


def _forest_rows(table: pd.DataFrame, label_col: str) -> dict:
    """The forest's rows as columns (lists and arrays: cheaper than a DataFrame per redraw)."""
    d: dict = {"label": table[label_col].astype(str).tolist()}
    n = len(d["label"])
    for c in ("hr", "hr_lower", "hr_upper", "p_value"):
        # An empty result has object columns; numbers only from here on.
        d[c] = (pd.to_numeric(table[c], errors="coerce").to_numpy() if c in table
                else np.full(n, np.nan))
    d["header"] = (table["header"].to_numpy().astype(bool) if "header" in table
                   else np.zeros(n, dtype=bool))
    d["indent"] = (table["indent"].to_numpy() == True if "indent" in table  # noqa: E712 (NaN)
                   else np.zeros(n, dtype=bool))
    header = d["header"].tolist()
    hr, lower, upper = d["hr"].tolist(), d["hr_lower"].tolist(), d["hr_upper"].tolist()
    d["estimable"] = np.array([(not h) and fmt.hr_estimable(a, b, c)
                               for h, a, b, c in zip(header, hr, lower, upper, strict=True)],
                              dtype=bool)
    d["text"] = [
        "" if h else (fmt.format_hr(a, b, c) if e else _(NOT_ESTIMABLE))
        for h, e, a, b, c in zip(header, d["estimable"].tolist(), hr, lower, upper, strict=True)
    ]
    d["p_text"] = ["" if h else fmt.format_p(p) if np.isfinite(p) else ""
                   for h, p in zip(header, d["p_value"].tolist(), strict=True)]
    return d


def forest_chart(
    table: pd.DataFrame,
    *,
    label_col: str = "label",
    label_header: str = "",
    title: str = N_("Hazard ratio"),
    favours: tuple[str, str] = (N_("Lower hazard"), N_("Higher hazard")),
    counts: list[tuple[str, str, str]] | tuple = (),
    extra: list[tuple[str, str]] | tuple = (),
    heading: str | None = None,
    subheading: str | None = None,
    max_width: int = 780,
    font_size: int = 14,
) -> dict:
    """Forest plot as journals draw it: column headers, a log axis with the direction under it,
    arrows where a CI runs past the axis, n/events per row.

    Parameters
    ----------
    table : rows in display order with ``hr, hr_lower, hr_upper``, a label column and
        optionally ``p_value``, ``header`` (True: a bold heading row without an estimate) and
        ``p_heading`` (a p-value printed in bold on a heading row, e.g. for interaction).
        Rows whose HR is not estimable (missing, 0, infinite, see
        ``formatting.hr_estimable``) are listed as "not estimable" and never drawn.
    label_header : header of the label column ("Covariate", "Subgroup").
    title : header of the plot column.
    favours : what a hazard ratio below and above 1 means, written under the axis.
    counts : ``(header, events column, n column)`` per count column, shown "events/n";
        "\\n" in a header breaks the line.
    extra : ``(header, text column)`` columns added at the right.
    heading, subheading : chart title and subtitle (who the chart shows).
    max_width : the whole chart's width budget in px: the plot column narrows (to 150 px) and
        long labels wrap to fit it.
    """
    title, favours = _(title), tuple(_(f) if f else f for f in favours)
    label_header = _(label_header) if label_header else label_header
    d = _forest_rows(table, label_col)
    src = table.reset_index(drop=True)
    n_rows = len(d["label"])
    if "p_heading" in src:
        d["p_text"] = [
            fmt.format_p(q) if h and not fmt.is_missing(q) else t
            for h, q, t in zip(d["header"].tolist(), src["p_heading"], d["p_text"], strict=True)
        ]
    spacing = max(8, font_size // 2)

    def header_lines(text: str) -> list[str]:
        lines = [ln for ln in str(text).split("\n")]
        return ([""] * _HEAD_LINES + lines)[-_HEAD_LINES:]

    # Count columns first (they size the label budget), formatted "events/n".
    count_cols = []
    for header, ev, n in counts:
        col = f"_count_{len(count_cols)}"
        d[col] = [
            "" if h or fmt.is_missing(pd.to_numeric(a, errors="coerce"))
            else f"{suppression.shown(a)}/{suppression.shown(b)}"
            for h, a, b in zip(d["header"].tolist(), src[ev], src[n], strict=True)
        ]
        count_cols.append((col, header_lines(header)))
    extra_cols = []
    for header, col in extra:
        d[col] = src[col].fillna("").astype(str).tolist()
        extra_cols.append((col, header_lines(header)))
    right = [("text", header_lines(_("HR (95% CI)")))]
    if any(d["p_text"]):
        right.append(("p_text", header_lines("p")))
    fixed = sum(_text_width([*hl, *d[c]], font_size)
                for c, hl in [*count_cols, *right, *extra_cols])
    n_panels = 2 + len(count_cols) + len(right) + len(extra_cols)
    min_plot = 150
    label_room = max_width - fixed - min_plot - spacing * (n_panels - 1)
    chars = max(12, int((label_room - 12) / (_CHAR_EM * font_size)))
    d["label"] = [_wrap(t, chars) for t in d["label"]]
    lines_per_row = max((t.count("\n") + 1 for t in d["label"]), default=1)
    label_w = _text_width([label_header, *d["label"]], font_size) + (
        font_size if d["indent"].any() else 0)
    plot_w = int(min(13 * font_size, max(min_plot, max_width - fixed - label_w
                                         - spacing * (n_panels - 1))))

    row_h = int(round(font_size * (2 if lines_per_row == 1 else 1.25 * lines_per_row + 0.5)))
    line_h = int(round(font_size * 1.5))
    line_text = int(round(font_size * 1.2))
    head_h = _HEAD_LINES * line_h
    height = head_h + max(n_rows, 1) * row_h
    d["y"] = head_h + (np.arange(n_rows) + 0.5) * row_h
    y_px = _q("y", axis=None, scale={"domain": [0, height], "range": [0, height]})
    head_y = [(i + 0.5) * line_h for i in range(_HEAD_LINES)]

    def header_rows(lines: list[str]) -> list[dict]:
        return [{"y": y, "t": t} for y, t in zip(head_y, lines, strict=True)]

    def text_panel(col: str, header: list[str], width: int, bold_col: str | None = None,
                   indent_col: str | None = None) -> dict:
        head = _layer(header_rows(header), {"type": "text", "align": "left", "color": "#222",
                                            "fontSize": font_size, "fontWeight": "bold"},
                      {"text": _n("t"), "x": {"value": 0}, "y": y_px})
        layers = [head]
        # Vega-Lite has no font-weight channel: heading rows are a second, bold layer.
        # Vega places a multi-line text's first line at y: a layer per line count, each
        # shifted up by half its extra lines, centres every label on its row.
        values, ys = list(d[col]), d["y"].tolist()
        n_lines = [str(t).count("\n") + 1 for t in values]
        indent = d[indent_col].tolist() if indent_col else [False] * n_rows
        bolds = d[bold_col].tolist() if bold_col else [False] * n_rows
        for bold in (False, True) if bold_col else (False,):
            for k in sorted(set(n_lines)):
                for ind in (False, True):
                    part = [{"y": y, col: t} for y, t, nl, i, b in
                            zip(ys, values, n_lines, indent, bolds, strict=True)
                            if nl == k and i == ind and b == bold]
                    if part:
                        layers.append(_layer(part, {
                            "type": "text", "align": "left", "color": "#222",
                            "dy": -(k - 1) * line_text / 2, "fontSize": font_size,
                            "fontWeight": "bold" if bold else "normal", "lineBreak": "\n",
                            "lineHeight": line_text},
                            {"text": _n(col), "x": {"value": font_size if ind else 0},
                             "y": y_px}))
        return {"layer": layers, "height": height, "width": width}

    def width_of(col, header):
        return _text_width([*header, *d[col]], font_size)

    panels = [text_panel("label", header_lines(label_header), label_w, "header", "indent")]
    panels += [text_panel(c, hl, width_of(c, hl)) for c, hl in count_cols]

    est = d["estimable"]
    hr, lower, upper = d["hr"][est], d["hr_lower"][est], d["hr_upper"][est]
    lo, hi = _forest_domain(hr, lower, upper) if len(hr) else (0.5, 2.0)
    drawn = {"y": d["y"][est],
             **{c: np.array(d[c], dtype=object)[est] for c in ("label", "text", "p_text")},
             "hr": hr, "x1": np.clip(lower, lo, hi), "x2": np.clip(upper, lo, hi),
             "left": lower < lo, "right": upper > hi, "inside": (hr >= lo) & (hr <= hi)}
    x_scale = {"domain": [lo, hi], "nice": False, "type": "log"}
    ticks = [t for t in _FOREST_TICKS if lo <= t <= hi]
    if plot_w < 18 * font_size:  # narrow: fewer labels, so they never touch
        ticks = [t for t in ticks if t in (0.01, 0.1, 0.5, 1, 2, 10, 100)]
        if len(ticks) > 5:
            ticks = [t for t in ticks if t in (0.01, 0.1, 1, 10, 100)]
    x_axis = {"format": "~g", "grid": False, "labelFlush": True, "title": None,
              "values": ticks}
    title_lines = header_lines(_wrap(title, max(8, int(plot_w / (_CHAR_EM * font_size)))))
    layers = [
        _layer([{"one": 1.0}], {"type": "rule", "color": "#555", "strokeDash": [4, 4]},
               {"x": _q("one", axis=x_axis, scale=x_scale), "y": {"value": head_h},
                "y2": {"value": height}}),
        _layer(header_rows(title_lines), {"type": "text", "color": "#222",
                                          "fontSize": font_size, "fontWeight": "bold"},
               {"text": _n("t"), "x": {"value": plot_w / 2}, "y": y_px}),
    ]
    if len(hr):
        tooltip = [_n("label"), _n("text", title=_("HR (95% CI)")), _n("p_text", title="p")]
        rows = _rows(drawn)
        dot = {"type": "point", "color": OKABE_ITO[0], "filled": True, "opacity": 1}
        layers += [
            _layer(rows, {"type": "rule", "color": OKABE_ITO[0], "strokeWidth": 2},
                   {"tooltip": tooltip, "x": _q("x1", scale=x_scale), "x2": {"field": "x2"},
                    "y": y_px}),
            _layer([r for r in rows if r["inside"]],
                   {**dot, "shape": "square", "size": font_size * 8},
                   {"tooltip": tooltip, "x": _q("hr", scale=x_scale), "y": y_px}),
        ]
        for side, col in (("left", "x1"), ("right", "x2")):
            arrows = [r for r in rows if r[side]]
            if arrows:
                layers.append(_layer(arrows, {**dot, "shape": f"triangle-{side}",
                                              "size": font_size * 7},
                                     {"x": _q(col, scale=x_scale), "y": y_px}))
    panels.append({"layer": layers, "height": height, "width": plot_w})
    panels += [text_panel(c, hl, width_of(c, hl), "header" if c == "p_text" else None)
               for c, hl in [*right, *extra_cols]]
    # The direction under the axis, one text either side of HR = 1 (its x in px is known:
    # "flush" bounds place every panel at its declared width), free to run under the
    # neighbouring columns, which are empty there.
    widths = [label_w] + [width_of(c, hl) for c, hl in count_cols]
    x_one = sum(widths) + spacing * len(widths) + plot_w * (
        (0 - math.log(lo)) / (math.log(hi) - math.log(lo)))
    widths += [plot_w] + [width_of(c, hl) for c, hl in [*right, *extra_cols]]
    total = sum(widths) + spacing * (len(widths) - 1)
    favour = {"layer": [
        _layer([{"t": t}], {"type": "text", "align": align, "baseline": "top", "color": "#222",
                            "fontSize": font_size},
               {"text": _n("t"), "x": {"value": x_one + dx}, "y": {"value": 0}})
        for t, align, dx in ((f"\u2190 {favours[0]}", "right", -6),
                             (f"{favours[1]} \u2192", "left", 6))
    ], "height": int(font_size * 1.4), "width": int(total)}
    chart = {"vconcat": [{"hconcat": panels, "bounds": "flush", "spacing": spacing}, favour],
             "spacing": 4}
    if heading:
        chart["title"] = {"text": heading, "subtitle": subheading or ""}
    return _top(chart, font_size)


def subgroup_forest_chart(
    forest: pd.DataFrame,
    *,
    arms: tuple[str, str] = (N_("Reference"), N_("Comparator")),
    heading: str | None = None,
    subheading: str | None = None,
    max_width: int = 780,
    font_size: int = 14,
) -> dict:
    """Subgroup forest plot: the treatment HR within each subgroup level.

    ``forest`` is ``hcc_core.subgroup_forest``'s DataFrame (labels already in words): an
    "All patients" row, then per subgroup variable a bold heading row whose p (in bold) is
    the test for interaction, and its levels indented. ``arms`` = (reference, comparator):
    the events/n columns and "favours" under the axis name them (HR < 1 favours the
    comparator).
    """
    rows = []
    columns = {c: forest[c].tolist() for c in forest.columns}
    records = [dict(zip(columns, r, strict=True)) for r in zip(*columns.values(), strict=True)]
    for pos in _group_positions(forest["subgroup"].to_numpy()):
        block = [records[i] for i in pos]
        first, sub = block[0], block[0]["subgroup"]
        if len(block) == 1 and str(first["level"]) == "all":
            rows.append({**first, "label": str(sub), "header": False})
            continue
        rows.append({"label": str(sub), "header": True, "hr": np.nan, "hr_lower": np.nan,
                     "hr_upper": np.nan, "p_value": np.nan,
                     "p_heading": first.get("p_interaction", np.nan)})
        rows += [{**r, "label": str(r["level"]), "header": False, "indent": True}
                 for r in block]
    d = pd.DataFrame(rows)
    ref, comp = (_(a) for a in arms)
    events_n = _("events/n")
    counts = [(_wrap(comp, 9) + "\n" + events_n, "events_comparator", "n_comparator"),
              (_wrap(ref, 9) + "\n" + events_n, "events_reference", "n_reference")]
    counts = [c for c in counts if c[1] in d]
    favours = _("Favours {arm}")
    return forest_chart(d, label_header=_("Subgroup"), title=_("Treatment HR"),
                        favours=(favours.format(arm=comp), favours.format(arm=ref)),
                        counts=counts,
                        heading=heading, subheading=subheading, max_width=max_width,
                        font_size=font_size)


def response_bar_chart(
    counts: pd.DataFrame,
    *,
    heading: str | None = None,
    subheading: str | None = None,
    width: int = 560,
    font_size: int = 14,
) -> dict:
    """Stacked 100% bars of best response (CR/PR/SD/PD/NE) per group.

    ``counts`` is long: ``group, response, n, percent`` in display order (group names in
    words). ``heading``/``subheading`` title the chart (who it shows); ``width`` is the bars'.
    Returns a plain Vega-Lite dict, the spec Altair would build, without its validation.
    """
    order = ["CR", "PR", "SD", "PD", "NE"]
    palette = [OKABE_ITO[2], OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[1], "#999999"]
    d = counts.assign(group=counts["group"].astype(str),
                      order=counts["response"].map({r: i for i, r in enumerate(order)}))
    datasets: dict = {}
    bars = {"mark": {"type": "bar"}, "encoding": {
        "color": _n("response", legend={"orient": "top", "titleLimit": 0},
                    scale={"domain": order, "range": palette},
                    title=_("Best response (mRECIST)")),
        "order": _q("order"),
        "tooltip": [_n("group"), _n("response"), _q("n"),
                    _q("percent", format=".1f", title="%")],
        "x": _q("n", axis={"format": "%"}, stack="normalize", title=_("Patients (%)")),
        "y": _n("group", sort=list(pd.unique(d["group"])), title=None),
    }, "height": max(60 * d["group"].nunique(), 120), "width": width}
    # A one-panel concat keeps its declared size in every renderer (Streamlit resizes a
    # single view to its container, which collapses a short bar chart).
    chart = {"vconcat": [bars], "data": _named(_records(d), datasets)}
    if heading:
        chart["title"] = {"text": heading, "subtitle": subheading or ""}
    return _top(chart, font_size, datasets)


def love_plot(balance: pd.DataFrame, *, threshold: float = 0.1, font_size: int = 14) -> dict:
    """Love plot: |standardised mean difference| per term before and after adjustment.

    ``balance`` is ``PropensityResult.balance`` (``label, smd_before, smd_after``), drawn in
    its order with a dashed line at ``threshold``. Returns a plain Vega-Lite dict.
    """
    labels = balance["label"].astype(str).tolist()
    samples = [_("Before adjustment"), _("After adjustment")]
    d = pd.concat([
        pd.DataFrame({"label": labels, "sample": samples[0],
                      "smd": balance["smd_before"].abs().to_numpy()}),
        pd.DataFrame({"label": labels, "sample": samples[1],
                      "smd": balance["smd_after"].abs().to_numpy()}),
    ], ignore_index=True)
    x_max = max(float(np.nanmax(d["smd"])) if len(d) else 0.0, threshold) * 1.1
    datasets: dict = {}
    rule = {"data": _named([{"t": threshold}], datasets),
            "mark": {"type": "rule", "color": "#555", "strokeDash": [4, 4]},
            "encoding": {"x": _q("t")}}
    points = {"data": _named(_records(d), datasets),
              "mark": {"type": "point", "filled": True, "size": 110},
              "encoding": {
                  "color": _n("sample", legend={"orient": "top"},
                              scale={"domain": samples, "range": [OKABE_ITO[1], OKABE_ITO[0]]},
                              title=None),
                  "shape": _n("sample", legend=None,
                              scale={"domain": samples, "range": ["circle", "square"]}),
                  "tooltip": [_n("label", title=_("Term")), _n("sample", title=""),
                              _q("smd", format=".3f", title="|SMD|")],
                  "x": _q("smd", axis={"format": ".2~f", "labelOverlap": True, "tickCount": 6},
                          scale={"domain": [0, x_max], "nice": False},
                          title=_("Absolute standardised mean difference")),
                  "y": _n("label", axis={"labelLimit": 320}, sort=labels, title=None),
              }}
    chart = {"layer": [rule, points], "height": max(26 * len(labels), 80), "width": WIDTH - 280}
    return _top({"vconcat": [chart]}, font_size, datasets)


def ps_histogram_chart(hist: pd.DataFrame, overlap: tuple[float, float], *,
                       font_size: int = 14) -> dict:
    """Mirrored histogram of propensity scores: the first group above the axis, the second
    below, the common-support region shaded.

    ``hist`` is ``PropensityResult.ps_histogram()`` (``group, bin_start, bin_end, count``);
    ``overlap`` is ``PropensityResult.overlap``. Returns a plain Vega-Lite dict.
    """
    groups = [str(g) for g in pd.unique(hist["group"])]
    d = hist.assign(group=hist["group"].astype(str))
    d["height"] = np.where(d["group"] == groups[0], d["count"], -d["count"])
    top = max(int(d["count"].max()) if len(d) else 1, 1)
    datasets: dict = {}
    layers = []
    lo, hi = overlap
    if np.isfinite(lo) and np.isfinite(hi):
        layers.append({"data": _named(_records(pd.DataFrame({"lo": [lo], "hi": [hi]})),
                                      datasets),
                       "mark": {"type": "rect", "color": "#999999", "opacity": 0.15},
                       "encoding": {"x": _q("lo"), "x2": {"field": "hi"}}})
    layers.append({"data": _named(_records(d[d["count"] > 0]), datasets),
                   "mark": {"type": "bar", "opacity": 0.85},
                   "encoding": {
        "color": _n("group", legend={"orient": "top"}, scale=_colour_scale(groups), title=None),
        "tooltip": [_n("group", title=_("Group")),
                    _q("bin_start", format=".2f", title=_("PS from")),
                    _q("bin_end", format=".2f", title=_("PS to")),
                    _q("count", title=_("Patients"))],
        "x": _q("bin_start", scale={"domain": [0, 1]}, title=_("Propensity score")),
        "x2": {"field": "bin_end"},
        "y": _q("height", axis={"labelExpr": "abs(datum.value)"},
                scale={"domain": [-top * 1.1, top * 1.1]}, title=_("Patients")),
        "y2": {"datum": 0},
    }})
    layers.append({"data": _named([{"zero": 0}], datasets),
                   "mark": {"type": "rule", "color": "#333"},
                   "encoding": {"y": _q("zero")}})
    title = {"text": _("{first} above the axis, {second} below").format(
                 first=groups[0], second=groups[1]),
             "subtitle": _("shaded: the range of scores both groups reach")}
    chart = {"layer": layers, "height": 300, "title": title, "width": WIDTH - 160}
    return _top({"vconcat": [chart]}, font_size, datasets)


def _fixed_width(node):
    """Exports have no page column: views sized "container" get the default ``WIDTH``."""
    if isinstance(node, dict):
        return {k: (WIDTH if k == "width" and v == "container" else _fixed_width(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_fixed_width(v) for v in node]
    return node


def _spec_json(chart: alt.TopLevelMixin | dict) -> str:
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    return json.dumps(_fixed_width(spec))


def chart_png(chart: alt.TopLevelMixin | dict, scale: float = 2.0) -> bytes:
    """Render a chart (or its Vega-Lite dict) to PNG bytes in memory (vl-convert; no browser)."""
    import vl_convert as vlc

    register_cjk_fonts()  # Chinese labels need a CJK font (issue 17)
    return vlc.vegalite_to_png(_spec_json(chart), scale=scale)


def chart_svg(chart: alt.TopLevelMixin | dict) -> str:
    """Render a chart (or its Vega-Lite dict) to an SVG string in memory (vl-convert)."""
    import vl_convert as vlc

    register_cjk_fonts()
    return vlc.vegalite_to_svg(_spec_json(chart))
