"""Paper check: the published results of Xia et al. recomputed from the current cohort."""

from __future__ import annotations

import streamlit as st

from hcc_core import paper_check
from pages import _ui

v = _ui.view()
st.title("Paper check: Xia et al., Hepat Mon 2026")
st.caption("Published values beside the values recomputed by this app from the *unfiltered* "
           "cohort, with the paper's own inconsistencies.")
if not v.is_demo:
    st.info("You are checking an uploaded cohort: 'differs' only means your data are not the "
            "paper's.")
res = _ui.compute(paper_check, full=True)
if res is not None:
    shown = res.rename(columns={c: c.capitalize() for c in res.columns})
    _ui.show_table(shown, "paper_check", export_df=res)
