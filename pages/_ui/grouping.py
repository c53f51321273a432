"""The "Compare by" and "Overall column" controls of the Table 1, Response and Safety pages."""

from __future__ import annotations

import streamlit as st

from hcc_core import COMPARE_BY
from pages import _ui


def compare_by(prefix: str) -> tuple[str, bool]:
    """Grouping column and whether to add the Overall column, both in the URL.

    ``prefix`` names the page's URL parameters (``t1`` -> ``t1_by``, ``t1_overall``).
    """
    options = [c for c in COMPARE_BY if c in _ui.view().df.columns] or list(COMPARE_BY)
    c1, c2 = st.columns([3, 1])
    by = c1.radio("Compare by", options, format_func=COMPARE_BY.get, horizontal=True,
                  **_ui.linked(f"{prefix}_by"))
    overall = c2.toggle("Overall column", value=True, **_ui.linked(f"{prefix}_overall"))
    return by, overall
