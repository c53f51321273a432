"""Overview: cohort size, events, follow-up, dates and missing data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hcc_core import cohort_overview, median_follow_up
from hcc_core import schema as S
from hcc_core.i18n import _
from hcc_core.suppression import shown as count_shown
from pages import _ui

v = _ui.view()
st.title(_("Cohort overview"))
st.caption(_("{source} · n = {n} of {total} patients after filters").format(
    source=v.source_label, n=count_shown(len(v.df)), total=len(v.full)))
if v.is_demo:
    st.info(_("You are looking at the **synthetic demo cohort**: 95 simulated patients "
              "calibrated to the published results of Xia et al. (Hepat Mon 2026). "
              "Upload your own cohort on the *Upload data* page."))
if len(v.df) == 0:
    st.warning(_("No patients match the current filters. Widen the filters in the sidebar."))
    st.stop()

ov = _ui.compute(cohort_overview)
if ov is not None:
    cols = st.columns(len(ov.headline))
    for col, (label, value) in zip(cols, ov.headline.items(), strict=True):
        col.metric(label, value)
    st.subheader(_("Patients per group and local modality"))
    modality = _("Local modality")
    by_group = ov.by_group.rename(columns={
        "treatment_group": _("Treatment group"), "local_modality": modality,
        "patients": _("Patients"), "deaths": _("Deaths"),
        "pfs_events": _("Progressions or deaths")})
    group = _("Treatment group")
    if group in by_group:
        by_group[group] = [_ui.level_label(S.TREATMENT_GROUP, g) for g in by_group[group]]
    if modality in by_group:
        by_group[modality] = [_ui.level_label(S.LOCAL_MODALITY, m) for m in by_group[modality]]
    _ui.show_table(by_group, "cohort_by_group", export_df=ov.by_group)
    if ov.date_range:
        st.caption(ov.date_range)

st.subheader(_("Median follow-up"))
rows, methods = [], []
for endpoint, label in (("os", _("Overall survival")), ("pfs", _("Progression-free survival"))):
    if not set(S.endpoint_columns(endpoint)) <= set(v.df.columns):
        continue
    fu = _ui.compute(median_follow_up, endpoint)
    if fu is not None:
        rows.append({_("Endpoint"): label,
                     _("Median follow-up, months (95% CI)"):
                         _ui.fmt_ci(fu.median, fu.lower, fu.upper, 1),
                     _("Patients"): fu.n})
        methods.append(fu.method)
if rows:  # one method for both endpoints: median_follow_up's own words
    _ui.show_table(pd.DataFrame(rows), "median_follow_up", method=methods[0])
    st.caption(_("{method} (censoring treated as the event).").format(method=methods[0]))

if ov is not None:
    st.subheader(_("Missing data"))
    percent = _("Missing, %")
    missing = ov.missing.assign(column=[S.field_label(c) for c in ov.missing["column"]])
    missing = missing.rename(columns={"column": _("Column"), "missing": _("Missing"),
                                      "missing_percent": percent})
    _ui.show_table(missing.round({percent: 1}), "missing_data", export_df=ov.missing)
