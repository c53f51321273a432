"""Report: a preview of the meeting pack (slides and report) of the current view."""

from __future__ import annotations

import streamlit as st

from hcc_core import report
from hcc_core.i18n import _
from hcc_core.suppression import shown as count_shown
from pages import _ui
from pages._ui import pack as P

v = _ui.view()
st.title(_("Meeting pack"))
st.caption(_("{source} · n = {n} of {total} patients after filters").format(
    source=v.source_label, n=count_shown(len(v.df)), total=len(v.full)))
st.markdown(
    _("What the slides and the report hold, built from the results the pages show "
      "with the pages' current settings (compare by, CI type, Cox covariates).")
)
with st.spinner(_("Gathering the results ...")):
    pack = P.current_pack()
P.download_buttons(st.container(horizontal=True), v, pack=pack)

st.subheader(_("Where these results come from"))
st.markdown("\n".join(f"- {line}" for line in pack.provenance.lines()))

st.subheader(_("Results in words"))
if not pack.survival:
    st.info(_("No survival analysis could run on this cohort (see Caveats)."))
for section in pack.survival:
    st.code(section.sentence, language=None, wrap_lines=True)

for section in pack.survival:
    st.subheader(_(report.ENDPOINT_TITLES.get(section.endpoint, section.endpoint)))
    left, right = st.columns([2, 1])
    if section.chart_png is not None:
        left.image(section.chart_png)
    right.markdown("\n".join(f"- {line}" for line in report.answer_lines(section)))

if pack.cox_model is not None:
    m = pack.cox_model
    st.subheader(_("Cox model ({endpoint}): {n} patients, {events} events").format(
        endpoint=report.ENDPOINT_SHORT.get(m.endpoint, m.endpoint), n=count_shown(m.n),
        events=count_shown(m.events)))
    if pack.forest_png is not None:
        st.image(pack.forest_png)
    _ui.table_view(report.cox_display(pack.cox_table))

for title, table in (
    (_("Baseline characteristics (Table 1)"), pack.table_one_display),
    (_("Tumour response (mRECIST)"), pack.response_display),
    (_("Adverse events (CTCAE v5)"), pack.adverse_events_display),
):
    if table is not None:
        st.subheader(title)
        _ui.table_view(table)

st.subheader(_("Methods"))
for analysis, method in report.pack_methods(pack):
    st.markdown(f"**{analysis}.** {method}")
st.subheader(_("Caveats"))
for line in report.pack_caveats(pack) or [_("None noted.")]:
    st.markdown(f"- {line}")
