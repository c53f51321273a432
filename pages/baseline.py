"""Baseline characteristics (Table 1)."""

from __future__ import annotations

import streamlit as st

from hcc_core import format_table_one, table_one
from pages import _ui

v = _ui.view()
st.title("Baseline characteristics (Table 1)")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")
res = _ui.compute(table_one)
if res is not None:
    _ui.show_table(format_table_one(res), "table1")
    for note in res.footnotes:
        st.caption(note)
    if res.table["fisher_flag"].any() if "fisher_flag" in res.table else False:
        _ui.caution("Some categorical comparisons have expected counts below 5: read the "
                    "Fisher exact p-value beside the chi-square.")
    with st.expander("Numeric table (for statisticians)"):
        _ui.show_table(res.table, "table1_numeric")
