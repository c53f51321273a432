"""Upload data: file, column mapping, preview, validation report; template downloads."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from hcc_core import CohortError, load_cohort, read_table, suggest_mapping
from hcc_core import schema as S
from hcc_core.io import DEFAULT_MAX_BYTES
from pages import _ui

_ui.view()

IGNORE = "(ignore this column)"
st.title("Upload your cohort")
st.markdown(
    "Upload one row per patient as **.csv** or **.xlsx** (up to "
    f"{DEFAULT_MAX_BYTES // 2**20} MB). Only `patient_id` and a group column "
    "(`local_modality` or `treatment_group`) are required; each analysis says which columns "
    "it needs. The file is read in memory and never written to disk; it is forgotten when "
    "you close this browser tab."
)
c1, c2 = st.columns(2)
c1.download_button("Download blank template (CSV)",
                   data=(_ui.ROOT / "data" / "template.csv").read_bytes(),
                   file_name="hcc_cohort_template.csv", mime="text/csv", on_click="ignore")
c2.download_button("Download data dictionary (CSV)",
                   data=(_ui.ROOT / "data" / "data_dictionary.csv").read_bytes(),
                   file_name="hcc_data_dictionary.csv", mime="text/csv", on_click="ignore")
with st.expander("Data dictionary"):
    st.dataframe(S.data_dictionary(), hide_index=True, width="stretch")

uploaded = st.file_uploader("Cohort file", type=["csv", "xlsx"], key="upload_file")
if uploaded is None:
    st.stop()

content = uploaded.getvalue()
try:
    raw = read_table(content, filename=uploaded.name)
except CohortError as exc:
    st.error(str(exc))
    st.stop()

st.subheader("1. Map your columns")
st.caption(f"{uploaded.name}: {len(raw)} rows, {raw.shape[1]} columns. Check the proposed "
           "canonical name for each of your columns and correct it where needed.")
suggested = suggest_mapping(list(raw.columns))
choices = [IGNORE] + [c.name for c in S.COLUMNS]
extra_ae = [c for c in raw.columns if str(c).startswith(S.AE_PREFIX) and c not in choices]
choices += extra_ae
mapping_table = pd.DataFrame({
    "your column": [str(c) for c in raw.columns],
    "maps to": [suggested.get(c) or (c if c in choices else IGNORE) for c in raw.columns],
    "example values": [", ".join(map(str, raw[c].dropna().astype(str).unique()[:3]))
                       for c in raw.columns],
})
edited = st.data_editor(
    mapping_table, hide_index=True, width="stretch", key="upload_mapping",
    disabled=["your column", "example values"],
    column_config={"maps to": st.column_config.SelectboxColumn(options=choices,
                                                               required=True)},
)
mapping = {str(u): m for u, m in zip(edited["your column"], edited["maps to"], strict=True)
           if m != IGNORE}
dupes = sorted({m for m in mapping.values() if list(mapping.values()).count(m) > 1})
if dupes:
    st.error("Two of your columns are mapped to the same canonical column: "
             + ", ".join(dupes) + ". Map each canonical column once.")
    st.stop()

st.subheader("2. Preview after mapping")
preview = raw.head(5)[[c for c in raw.columns if str(c) in mapping]]
st.dataframe(preview.rename(columns={c: mapping[str(c)] for c in preview.columns}),
             hide_index=True, width="stretch")

st.subheader("3. Validate")
key = _ui.sha256_of(content, json.dumps(mapping, sort_keys=True))
current = st.session_state.get("upload")
if current is not None and current["key"] == key:
    cohort = current["cohort"]
else:
    try:
        cohort = load_cohort(content, mapping=mapping, filename=uploaded.name)
    except CohortError as exc:
        st.error(str(exc))
        st.stop()
    st.session_state["upload"] = {"cohort": cohort, "key": key, "name": uploaded.name}
    st.session_state["_select_upload"] = True  # the sidebar selects it on the next run
    st.rerun()
st.success(f"{uploaded.name}: {len(cohort.data)} patients ready to analyse. Your cohort is "
           "now the data source in the sidebar: open any analysis page.")
for w in cohort.warnings:
    st.warning(w)
