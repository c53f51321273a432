"""Forest plots as journals draw them: headers, direction under the axis, arrows, n/events,
non-estimable rows listed and never drawn."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from hcc_core import charts


def _marks(spec: dict) -> list[tuple[dict, list[dict]]]:
    """Every (mark, data rows) pair of a chart spec (named or inline data), however deeply
    nested."""
    datasets = spec.get("datasets", {})
    out = []

    def walk(node):
        if isinstance(node, dict):
            if "mark" in node:
                data = node.get("data", {})
                rows = data["values"] if "values" in data else datasets.get(data.get("name"), [])
                out.append((node["mark"] if isinstance(node["mark"], dict)
                            else {"type": node["mark"]}, rows))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return out


def _table(**cols) -> pd.DataFrame:
    return pd.DataFrame({"label": ["Treatment", "Age", "Sex"], **cols})


def test_headers_direction_and_values():
    t = _table(hr=[0.5812, 1.01, 0.65], hr_lower=[0.3441, 0.98, 0.27],
               hr_upper=[0.9816, 1.04, 1.62], p_value=[0.042, 0.5, 0.0004])
    spec = charts.forest_chart(t, label_header="Covariate",
                               favours=("Favours HAIC", "Favours systemic"))
    text = json.dumps(spec, ensure_ascii=False)
    for s in ("Covariate", "HR (95% CI)", "\"p\"", "0.58 (0.34-0.98)", "< 0.001",
              "← Favours HAIC", "Favours systemic →"):
        assert s in text, s
    assert '"type": "log"' in json.dumps(spec)


def test_ci_past_the_axis_ends_in_an_arrow_at_the_axis_limit():
    """Axis 0.1-10 unless estimates need more: a CI to 40 is cut at 10 with an arrow."""
    t = _table(hr=[3.0, 1.0, 0.5], hr_lower=[0.5, 0.9, 0.4], hr_upper=[40.0, 1.1, 0.6],
               p_value=[0.2, 0.9, 0.01])
    marks = _marks(charts.forest_chart(t))
    right = [rows for m, rows in marks if m.get("shape") == "triangle-right"]
    assert len(right) == 1 and [r["label"] for r in right[0]] == ["Treatment"]
    assert right[0][0]["x2"] == 10.0
    assert not [rows for m, rows in marks if m.get("shape") == "triangle-left"]


def test_non_estimable_rows_are_listed_not_drawn():
    """Separation gives R's HR 0.00 (0.00-Inf): the row reads "not estimable", no mark."""
    t = _table(hr=[0.57, math.exp(-21), np.nan], hr_lower=[0.33, 0.0, np.nan],
               hr_upper=[0.99, math.inf, np.nan], p_value=[0.04, 0.99, np.nan])
    spec = charts.forest_chart(t)
    text = json.dumps(spec)
    assert text.count(charts.NOT_ESTIMABLE) >= 2 and "0.00" not in text and "inf" not in text
    drawn = [rows for m, rows in _marks(spec) if m["type"] == "rule" and rows
             and "x1" in rows[0]]
    assert [r["label"] for r in drawn[0]] == ["Treatment"]


def test_empty_and_object_typed_tables_draw_headers_only():
    """n = 1 after filters: cox_univariable returns an empty, object-typed table (issue #18
    item 7, a TypeError in np.isfinite)."""
    empty = pd.DataFrame(columns=["label", "hr", "hr_lower", "hr_upper", "p_value"],
                         dtype=object)
    spec = charts.forest_chart(empty, label_header="Covariate")
    assert "Covariate" in json.dumps(spec)
    assert not [m for m, rows in _marks(spec) if m.get("shape") == "square"]


def test_subgroup_forest_counts_headings_and_interaction():
    forest = pd.DataFrame({
        "subgroup": ["All patients", "Child-Pugh class", "Child-Pugh class"],
        "level": ["all", "A", "B"], "n": [95, 77, 18],
        "n_reference": [39, 30, 9], "events_reference": [23, 16, 7],
        "n_comparator": [56, 47, 9], "events_comparator": [29, 22, 7],
        "hr": [0.57, 0.59, 0.52], "hr_lower": [0.33, 0.31, 0.18], "hr_upper": [0.99, 1.13, 1.51],
        "p_value": [0.048, 0.112, 0.23], "p_interaction": [np.nan, 0.8396, 0.8396],
    })
    spec = charts.subgroup_forest_chart(forest, arms=("Systemic", "HAIC"))
    text = json.dumps(spec, ensure_ascii=False)
    assert text.count("0.840") == 1  # the interaction p once, on the heading row (in bold)
    for s in ("29/56", "23/39", "7/9", "Favours HAIC", "Favours Systemic", "events/n"):
        assert s in text, s
    heading = [rows for m, rows in _marks(spec) if m.get("fontWeight") == "bold" and rows
               and "label" in rows[0]]
    assert [r["label"] for r in heading[0]] == ["Child-Pugh class"]
    bold_p = [rows for m, rows in _marks(spec) if m.get("fontWeight") == "bold" and rows
              and "p_text" in rows[0]]
    assert [r["p_text"] for r in bold_p[0]] == ["0.840"]
