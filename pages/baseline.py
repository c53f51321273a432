"""Baseline characteristics (Table 1)."""

from __future__ import annotations

import pandas as pd
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
    low = res.table.loc[res.table["low_expected"].fillna(False).astype(bool), "label"]
    if len(low):
        _ui.caution("Expected counts below 5 for " + ", ".join(pd.unique(low)) + ": the "
                    "chi-square p (marked *) is unreliable there; read Fisher's exact p.")
    with st.expander("Numeric table (for statisticians)"):
        _ui.show_table(res.table, "table1_numeric")
