"""Paper check: the published results of Xia et al. recomputed from the current cohort."""

from __future__ import annotations

import streamlit as st

from hcc_core import paper_check
from hcc_core import schema as S
from hcc_core.i18n import _
from hcc_core.paper_check import STATUS_LABELS
from pages import _ui

v = _ui.view()
st.title(_("Paper check: Xia et al., Hepat Mon 2026"))
st.caption(_("Published values beside the values recomputed by this app from the *unfiltered* "
             "cohort, with the paper's own inconsistencies."))
if not v.is_demo:
    st.info(_("You are checking an uploaded cohort: 'differs' only means your data are not the "
              "paper's."))
res = _ui.compute(paper_check, full=True)
if res is not None:
    headers = {"section": _("Section"), "quantity": _("Quantity"), "group": _("Group"),
               "published": _("Published"), "recomputed": _("Recomputed"),
               "tolerance": _("Tolerance"), "status": _("Status"), "note": _("Note")}
    shown = res.assign(  # the result keeps codes; the table reads in the chosen language
        group=[_ui.level_label(S.TREATMENT_GROUP, g) if g else "" for g in res["group"]],
        status=[_(STATUS_LABELS.get(s, s)) for s in res["status"]])
    shown = shown.rename(columns={c: headers.get(c, c.capitalize()) for c in res.columns})
    _ui.show_table(shown, "paper_check", export_df=res)
