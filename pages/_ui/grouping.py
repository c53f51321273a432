"""The "Compare by" and "Overall column" controls of the Table 1, Response and Safety pages."""

from __future__ import annotations

import streamlit as st

from hcc_core import COMPARE_BY
from hcc_core.i18n import _
from pages import _ui


def compare_by(prefix: str) -> tuple[str, bool]:
    """Grouping column and whether to add the Overall column, both in the URL.

    ``prefix`` names the page's URL parameters (``t1`` -> ``t1_by``, ``t1_overall``).
    """
    options = [c for c in COMPARE_BY if c in _ui.view().df.columns] or list(COMPARE_BY)
    c1, c2 = st.columns([3, 1])
    by = c1.radio(_("Compare by"), options, format_func=lambda c: _(COMPARE_BY[c]), horizontal=True,
                  **_ui.linked(f"{prefix}_by", options))
    overall = c2.toggle(_("Overall column"), value=True, **_ui.linked(f"{prefix}_overall"))
    return by, overall
