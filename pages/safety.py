"""Safety: CTCAE v5 adverse events by category and grade, by any grouping."""

from __future__ import annotations

import streamlit as st

from hcc_core import ae_table, format_ae_table, group_column, level_label
from hcc_core.formatting import INDENT
from hcc_core.i18n import _
from hcc_core.tables import ANY_AE
from pages import _ui
from pages._ui.grouping import compare_by
from pages._ui.lang import core

v = _ui.view()
st.title(_("Adverse events (CTCAE v5)"))
st.caption(v.subtitle())
by, overall = compare_by("ae")
res = _ui.compute(ae_table, by=by, overall=overall)
if res is not None:
    table = format_ae_table(res)
    event = core("Adverse event")
    label = table[event]
    severe = label.str.strip().isin([core("Grade >= 3"), core("Grade 5")])
    # Grade >= 3 rows are marked in the table and summarised in a coloured box above it.
    table[event] = label.where(~severe, INDENT + "▲ " + label.str.strip())
    any_row = res.table[(res.table["term"] == ANY_AE) & (res.table["band"] == ">=3")]
    n_severe = {g: int(any_row[group_column("n", g)].iloc[0]) for g in res.groups}
    if sum(n_severe.values()):
        st.error(_("Grade >= 3 adverse events: {counts}. Rows marked ▲.").format(
            counts=", ".join(_("{n} patient(s) in {group}").format(n=n, group=level_label(by, g))
                             for g, n in n_severe.items())))
    else:
        st.success(_("No grade >= 3 adverse event was recorded in this cohort."))
    _ui.show_table(table, "adverse_events", method=res.method)
    for line in [*table.attrs["notes"], *res.footnotes]:  # symbols, method, then notes
        st.caption(line)
