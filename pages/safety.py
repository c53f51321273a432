"""Safety: CTCAE v5 adverse events by category and grade."""

from __future__ import annotations

import streamlit as st

from hcc_core import ae_table, format_ae_table
from pages import _ui

v = _ui.view()
st.title("Adverse events (CTCAE v5)")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")
res = _ui.compute(ae_table)
if res is not None:
    _ui.show_table(format_ae_table(res), "adverse_events")
    st.caption(res.method)
