"""Cox regression: univariable screen, multivariable model, PH check, subgroup forest."""

from __future__ import annotations

import streamlit as st

from hcc_core import (
    PAPER_COX_COVARIATES,
    charts,
    cox_univariable,
    fit_cox,
    subgroup_forest,
)
from hcc_core import schema as S
from pages import _ui

v = _ui.view()
st.title("Cox regression")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")
_ui.caution(_ui.NON_RANDOMISED)

ENDPOINT_LABELS = {"os": "Overall survival (OS)", "pfs": "Progression-free survival (PFS)"}
endpoint = st.radio("Endpoint", list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    horizontal=True, key="cox_endpoint")
candidates = list(dict.fromkeys([*PAPER_COX_COVARIATES, S.LOCAL_MODALITY, S.CHILD_PUGH_SCORE,
                                 S.ALBI_GRADE, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY,
                                 S.CHRONIC_HEPATITIS]))
covariates = st.multiselect(
    "Covariates (preset: the paper's multivariable model)", candidates,
    default=list(PAPER_COX_COVARIATES), key="cox_covariates",
    format_func=_ui.group_label)

tab_multi, tab_uni, tab_sub = st.tabs(["Multivariable model", "Univariable screen",
                                       "Subgroup forest"])
with tab_multi:
    fit = _ui.compute(fit_cox, endpoint, tuple(covariates)) if covariates else None
    if fit is not None:
        st.markdown(f"**{fit.n} patients, {fit.events} events** · concordance "
                    f"{fit.concordance:.3f}")
        for note in fit.notes:
            _ui.caution(note)
        table = fit.table.reset_index().rename(columns={"index": "term"})
        table["label"] = table["term"]
        _ui.show_chart(charts.forest_chart(table, font_size=v.font_size),
                       f"cox_forest_{endpoint}")
        _ui.show_table(table.drop(columns="label"), f"cox_{endpoint}")
        st.caption(fit.method)
        st.subheader("Proportional-hazards check")
        _ui.show_table(fit.ph_test.reset_index(), f"cox_zph_{endpoint}")
        st.caption("Test of proportional hazards as R cox.zph(fit, transform = 'km'); "
                   "p < 0.05 suggests the hazard ratio changes over time.")
with tab_uni:
    uni = _ui.compute(cox_univariable, endpoint, tuple(covariates)) if covariates else None
    if uni is not None:
        _ui.show_table(uni.reset_index(), f"cox_univariable_{endpoint}")
        st.caption("One Cox model per covariate (Efron ties), each on the patients with that "
                   "covariate recorded.")
with tab_sub:
    subgroups = [c for c in (S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.TUMOR_NUMBER, "afp_400",
                             S.ALBI_GRADE, S.LOCAL_MODALITY) if c in v.df.columns or c == "afp_400"]
    forest = _ui.compute(subgroup_forest, endpoint, tuple(subgroups))
    if forest is not None:
        _ui.show_chart(charts.subgroup_forest_chart(forest, font_size=v.font_size),
                       f"subgroup_forest_{endpoint}")
        _ui.show_table(forest, f"subgroup_forest_{endpoint}")
        st.caption("Treatment hazard ratio (local+systemic vs systemic) within each subgroup "
                   "level; interaction p from a likelihood-ratio test of treatment x subgroup. "
                   "Subgroup results are exploratory.")
