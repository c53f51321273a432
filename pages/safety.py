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
    table = format_ae_table(res)
    severe = table["Adverse event"].str.strip().isin(["Grade >= 3", "Grade 5"])
    _ui.show_table(table, "adverse_events", highlight=severe)
    st.caption("Rows for grade >= 3 (and grade 5, fatal) events are highlighted.")
    for line in res.footnotes:  # method, then exclusions and other notes
        st.caption(line)
