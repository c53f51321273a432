"""Tumour response by mRECIST: ORR, DCR and best-response distribution."""

from __future__ import annotations

import streamlit as st

from hcc_core import charts, format_response, response_rates
from pages import _ui

v = _ui.view()
st.title("Tumour response (mRECIST)")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")
res = _ui.compute(response_rates)
if res is not None:
    _ui.show_table(format_response(res), "response")
    _ui.show_chart(lambda: charts.response_bar_chart(res.counts, font_size=v.font_size),
                   "response_bars")
    for line in res.footnotes:  # method, then exclusions and other notes
        st.caption(line)
