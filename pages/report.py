"""Report: a preview of the meeting pack (slides and report) of the current view."""

from __future__ import annotations

import streamlit as st

from hcc_core import report
from pages import _ui
from pages._ui import pack as P

v = _ui.view()
st.title("Meeting pack")
st.caption(f"{v.source_label} · n = {len(v.df)} of {len(v.full)} patients after filters")
st.markdown(
    "What the slides and the report hold, built from the results the pages show "
    "with the pages' current settings (compare by, CI type, Cox covariates)."
)
with st.spinner("Gathering the results ..."):
    pack = P.current_pack()
P.download_buttons(st.container(horizontal=True), v, pack=pack)

st.subheader("Where these results come from")
st.markdown("\n".join(f"- {line}" for line in pack.provenance.lines()))

st.subheader("Results in words")
if not pack.survival:
    st.info("No survival analysis could run on this cohort (see Caveats).")
for section in pack.survival:
    st.code(section.sentence, language=None, wrap_lines=True)

for section in pack.survival:
    st.subheader(report.ENDPOINT_TITLES.get(section.endpoint, section.endpoint))
    left, right = st.columns([2, 1])
    if section.chart_png is not None:
        left.image(section.chart_png)
    right.markdown("\n".join(f"- {line}" for line in report.answer_lines(section)))

if pack.cox_model is not None:
    m = pack.cox_model
    st.subheader(
        f"Cox model ({report.ENDPOINT_SHORT.get(m.endpoint, m.endpoint)}): "
        f"{m.n} patients, {m.events} events"
    )
    if pack.forest_png is not None:
        st.image(pack.forest_png)
    _ui.table_view(report.cox_display(pack.cox_table))

for title, table in (
    ("Baseline characteristics (Table 1)", pack.table_one_display),
    ("Tumour response (mRECIST)", pack.response_display),
    ("Adverse events (CTCAE v5)", pack.adverse_events_display),
):
    if table is not None:
        st.subheader(title)
        _ui.table_view(table)

st.subheader("Methods")
for analysis, method in report.pack_methods(pack):
    st.markdown(f"**{analysis}.** {method}")
st.subheader("Caveats")
for line in report.pack_caveats(pack) or ["None noted."]:
    st.markdown(f"- {line}")
