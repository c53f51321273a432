"""AppTest checks of the Cox, Table 1, Response and Safety pages: what a clinician reads."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
BAD = re.compile(r"\bnan\b|\bNone\b|\binf\b|0\.00 \(0\.00|NR \(NR-NR\)|100\.0% \(100\.0-100\.0\)",
                 re.IGNORECASE)


def _page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown_text(at: AppTest, tables: int = 99) -> str:
    """Text of the page; ``tables``: how many of its tables (in order) to include."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning]
    parts += [t.value.to_string() for t in list(at.dataframe)[:tables]]
    return "\n".join(str(p) for p in parts)


def test_cox_page_leads_with_the_treatment_hr_and_a_reduced_model():
    at = _page("pages/cox.py")
    text = _shown_text(at)
    assert "Unadjusted HR 0.57 (0.33-0.99)" in text
    assert "29 events in 56 patients" in text and "23 events in 39 patients" in text
    assert "52 events for 9 coefficients (5.8 per coefficient" in text
    assert "Maximum tumour diameter (cm)" in text and "8.7 per coefficient" in text
    model = at.dataframe[0].value
    assert list(model.columns) == ["Covariate", "HR (95% CI)", "p"] and len(model) == 5
    # the full preset is one click away, with its warning
    at.radio(key="cox_model").set_value("full").run()
    assert len(at.dataframe[0].value) == 9
    assert any("fewer than 10" in w.value for w in at.warning)
    # the model table (the piecewise-HR table below it belongs to the time-to-event section)
    assert not BAD.search(_shown_text(at, tables=1)), BAD.search(_shown_text(at, tables=1))


@pytest.mark.parametrize("page, key", [("pages/baseline.py", "t1_by"),
                                       ("pages/response.py", "resp_by"),
                                       ("pages/safety.py", "ae_by")])
def test_tables_compare_by_modality_with_an_overall_column(page, key):
    at = _page(page)
    heads = list(at.dataframe[0].value.columns)
    assert heads[1:4] == ["Overall (N = 95)", "Systemic (N = 39)", "Local + systemic (N = 56)"] \
        or page.endswith("response.py")
    at.radio(key=key).set_value("local_modality").run()
    assert not at.exception
    heads = list(at.dataframe[0].value.columns)
    assert "Systemic only (N = 39)" in heads[2] or "Systemic only" in heads[2]
    assert any(h.startswith("HAIC (N = ") for h in heads)
    assert "p" in heads and "P-value" not in heads
    assert not BAD.search(_shown_text(at)), BAD.search(_shown_text(at))
