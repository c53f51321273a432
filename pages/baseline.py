"""Baseline characteristics (Table 1) by treatment group or local modality."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hcc_core import export, format_table_one, level_label, readable_columns, table_one
from hcc_core.i18n import _
from pages import _ui
from pages._ui.grouping import compare_by
from pages._ui.lang import core

v = _ui.view()
st.title(_("Baseline characteristics (Table 1)"))
st.caption(v.subtitle())
by, overall = compare_by("t1")
res = _ui.compute(table_one, by=by, overall=overall)
if res is not None:
    shown = format_table_one(res)
    # Downloads keep the statistic and p columns numeric (the screen shows "< 0.001", "0.561 *").
    export_df = export.table_one_frame(res, shown)
    if v.presentation:  # a projector shows the groups and p; the download has every column
        compact = shown.drop(columns=[core(h) for h in ("Test", "Statistic", "SMD", "Missing")])
        fisher = core("Fisher's exact p")
        if not compact[fisher].str.strip().any():
            compact = compact.drop(columns=[fisher])
        _ui.show_table(compact, "table1", method=res.method, export_df=export_df)
        st.caption(_("Presentation mode shows each group and p; the test, its statistic, the "
                     "SMD and missing counts are in the full table (presentation mode off) and "
                     "in the downloads."))
    else:
        _ui.show_table(shown, "table1", method=res.method, export_df=export_df)
    for note in [*shown.attrs["notes"], *res.footnotes]:
        st.caption(note)
    low = res.table.loc[res.table["low_expected"].fillna(False).astype(bool), "label"]
    if len(low):
        _ui.caution(_("Expected counts below 5 for {variables}: the chi-square p (marked *) "
                      "is unreliable there; read Fisher's exact p.").format(
                          variables=", ".join(pd.unique(low))))
    if not v.presentation:
        with st.expander(_("Numeric table (for statisticians)")):
            names = {g: level_label(by, g) for g in res.groups}
            numeric = readable_columns(res.table, names)
            # Numbers stay numbers; an empty cell (not "None") where a value does not exist.
            _ui.show_table(numeric.astype(object).where(numeric.notna(), ""), "table1_numeric")
