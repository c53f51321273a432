"""Overview: cohort size, events, follow-up, dates and missing data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hcc_core import cohort_overview, median_follow_up
from hcc_core import schema as S
from pages import _ui

v = _ui.view()
st.title("Cohort overview")
st.caption(f"{v.source_label} · n = {len(v.df)} of {len(v.full)} patients after filters")
if v.is_demo:
    st.info("You are looking at the **synthetic demo cohort**: 95 simulated patients "
            "calibrated to the published results of Xia et al. (Hepat Mon 2026). "
            "Upload your own cohort on the *Upload data* page.")
if len(v.df) == 0:
    st.warning("No patients match the current filters. Widen the filters in the sidebar.")
    st.stop()

ov = _ui.compute(cohort_overview)
if ov is not None:
    cols = st.columns(len(ov.headline))
    for col, (label, value) in zip(cols, ov.headline.items(), strict=True):
        col.metric(label, value)
    st.subheader("Patients per group and local modality")
    by_group = ov.by_group.rename(columns={
        "treatment_group": "Treatment group", "local_modality": "Local modality",
        "patients": "Patients", "deaths": "Deaths", "pfs_events": "Progressions or deaths"})
    if "Local modality" in by_group:
        by_group["Local modality"] = [_ui.level_label(S.LOCAL_MODALITY, m)
                                      for m in by_group["Local modality"]]
    _ui.show_table(by_group, "cohort_by_group", export_df=ov.by_group)
    if ov.date_range:
        st.caption(ov.date_range)

st.subheader("Median follow-up")
rows, methods = [], []
for endpoint, label in (("os", "Overall survival"), ("pfs", "Progression-free survival")):
    if not set(S.endpoint_columns(endpoint)) <= set(v.df.columns):
        continue
    fu = _ui.compute(median_follow_up, endpoint)
    if fu is not None:
        rows.append({"Endpoint": label,
                     "Median follow-up, months (95% CI)":
                         _ui.fmt_ci(fu.median, fu.lower, fu.upper, 1),
                     "Patients": fu.n})
        methods.append(fu.method)
if rows:  # one method for both endpoints: median_follow_up's own words
    _ui.show_table(pd.DataFrame(rows), "median_follow_up", method=methods[0])
    st.caption(methods[0] + " (censoring treated as the event).")

if ov is not None:
    st.subheader("Missing data")
    missing = ov.missing.rename(columns={"column": "Column", "missing": "Missing",
                                         "missing_percent": "Missing, %"})
    _ui.show_table(missing.round({"Missing, %": 1}), "missing_data", export_df=ov.missing)
