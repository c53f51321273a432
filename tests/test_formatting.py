"""The one formatting layer: rounding rules, placeholders and their footnotes, headers in words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hcc_core.formatting import (
    format_hr,
    format_n_pct,
    format_number,
    format_p,
    hr_estimable,
    not_estimable_reason,
    readable_columns,
    symbol_notes,
)


def test_format_p_rules():
    assert format_p(0.0004) == "< 0.001"
    assert format_p(0.04449) == "0.044"
    assert format_p(1.0) == "1.000"
    for missing in (None, np.nan, pd.NA, math.inf):
        assert format_p(missing) == "-"


def test_format_hr_two_decimals_and_never_zero_or_inf():
    assert format_hr(0.5812, 0.3441, 0.9816) == "0.58 (0.34-0.98)"
    assert format_hr(0.004, 0.001, 0.03) == "< 0.01 (< 0.01-0.03)"
    assert format_hr(150.0, 30.0, 800.0) == "> 100 (30.00-> 100)"
    # R under separation: coef -21, se 1e4 -> HR 7.6e-10 (0 - Inf)
    sep = (math.exp(-21), 0.0, math.inf)
    assert not hr_estimable(*sep) and format_hr(*sep) == "NE"
    assert "infinite" in not_estimable_reason(*sep)
    assert format_hr(np.nan, np.nan, np.nan) == "NE"
    assert "not estimated" in not_estimable_reason(np.nan, np.nan, np.nan)
    # a finite CI wider than a millionfold range is not a result either (se ~ 3.6)
    assert not hr_estimable(1.0, math.exp(-7), math.exp(7.2))
    assert hr_estimable(1.0, math.exp(-6), math.exp(6)) and not_estimable_reason(1, 0.5, 2) == ""


def test_numbers_and_counts():
    assert format_number(60.954) == "60.95" and format_number(2.0111, "statistic") == "2.011"
    assert format_number(np.nan) == "-" and format_number(None, missing="NE") == "NE"
    assert format_n_pct(35, 89.74359) == "35 (89.74)"
    assert format_n_pct(0, np.nan) == "0" and format_n_pct(np.nan, 1.0) == "-"


def test_symbol_notes_only_for_symbols_shown_and_not_in_row_labels():
    t = pd.DataFrame({"": ["NE (not evaluable)", "ORR"], "a": ["1 (2.00)", "-"],
                      "b": ["44.00 +/- NE", "3"]})
    notes = symbol_notes(t, {"-": "no test"})
    assert notes == ['"NE": not estimable.', '"-": no test.']
    clean = pd.DataFrame({"": ["NE"], "a": ["1"]})  # "NE" as a row label is a category
    assert symbol_notes(clean) == []


def test_readable_columns_keep_numbers():
    t = pd.DataFrame({"n[systemic]": [3], "hr_lower": [0.5], "p_value": [0.01]})
    out = readable_columns(t, {"systemic": "Systemic"})
    assert list(out.columns) == ["n, Systemic", "HR 95% CI lower", "p"]
    assert out["p"].dtype == float and out.iloc[0, 1] == pytest.approx(0.5)


def test_hr_table_lists_non_estimable_terms_with_the_reason():
    from hcc_core.formatting import format_hr_table

    t = pd.DataFrame({"hr": [0.5812, math.exp(-21)], "hr_lower": [0.3441, 0.0],
                      "hr_upper": [0.9816, math.inf], "p_value": [0.042, 0.9999],
                      "n": [95, 95], "events": [52, 52]},
                     index=pd.Index(["treatment_group[local+systemic]", "sex[F]"], name="term"))
    out = format_hr_table(t, {"sex[F]": "Sex: Female vs Male"}, counts=True)
    assert list(out.columns) == ["Covariate", "n", "Events", "HR (95% CI)", "p"]
    assert out.iloc[0].tolist() == ["treatment_group[local+systemic]", "95", "52",
                                    "0.58 (0.34-0.98)", "0.042"]
    assert out.iloc[1].tolist() == ["Sex: Female vs Male", "95", "52", "NE", "-"]
    assert out.attrs["notes"][0].startswith('"NE" (Sex: Female vs Male): the coefficient may '
                                            "be infinite")
