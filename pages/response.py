"""Tumour response by mRECIST: ORR, DCR and best-response distribution, by any grouping."""

from __future__ import annotations

import streamlit as st

from hcc_core import OVERALL, charts, format_response, level_label, response_rates
from hcc_core.i18n import _
from pages import _ui
from pages._ui import lang
from pages._ui.grouping import compare_by

v = _ui.view()
st.title(_("Tumour response (mRECIST)"))
st.caption(v.subtitle())
by, overall = compare_by("resp")
res = _ui.compute(response_rates, by=by, overall=overall)
if res is not None:
    shown = format_response(res)
    _ui.show_table(shown, "response", method=res.method)
    counts = res.counts.assign(group=[lang.core("Overall") if g == OVERALL else level_label(by, g)
                                      for g in res.counts["group"]])
    _ui.show_chart(lambda: charts.response_bar_chart(
        counts, font_size=v.font_size, heading=_("Best overall response (mRECIST)"),
        subheading=v.subtitle()), "response_bars", options=(by, overall),
        method=res.method, counts=res.counts["n"])
    for line in [*shown.attrs["notes"], *res.footnotes]:  # symbols, method, then notes
        st.caption(line)
