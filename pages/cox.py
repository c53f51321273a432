"""Cox regression: univariable screen, multivariable model, PH check, subgroup forest."""

from __future__ import annotations

import streamlit as st

from hcc_core import (
    AFP_400,
    PAPER_COX_COVARIATES,
    charts,
    cox_univariable,
    fit_cox,
    level_label,
    subgroup_forest,
    term_label,
)
from hcc_core import schema as S
from pages import _tte, _ui

v = _ui.view()
st.title("Cox regression")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")
_ui.caution(_ui.NON_RANDOMISED)

ENDPOINT_LABELS = _ui.ENDPOINT_LABELS
endpoint = st.radio("Endpoint", list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    horizontal=True, key="cox_endpoint")
candidates = list(dict.fromkeys([*PAPER_COX_COVARIATES, S.LOCAL_MODALITY, S.CHILD_PUGH_SCORE,
                                 S.ALBI_GRADE, AFP_400, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY,
                                 S.CHRONIC_HEPATITIS]))
covariates = st.multiselect(
    "Covariates (preset: the paper's multivariable model)", candidates,
    default=list(PAPER_COX_COVARIATES), key="cox_covariates", format_func=term_label)


def _hr_table(table):
    """Model table with readable term labels first, numbers unchanged."""
    out = table.reset_index(names="term")
    out.insert(0, "label", [term_label(t) for t in out["term"]])
    return out


tab_multi, tab_uni, tab_sub, tab_time = st.tabs(["Multivariable model", "Univariable screen",
                                                 "Subgroup forest", "Local therapy in time"])
with tab_multi:
    fit = _ui.compute(fit_cox, endpoint, tuple(covariates)) if covariates else None
    if fit is not None:
        st.markdown(f"**{fit.n} patients, {fit.events} events** · concordance (Harrell's C) "
                    f"**{fit.concordance:.3f}**")
        for note in fit.notes:
            _ui.caution(note)
        table = _hr_table(fit.table)
        _ui.show_chart(lambda: charts.forest_chart(table, font_size=v.font_size),
                       f"cox_forest_{endpoint}", options=tuple(covariates))
        _ui.show_table(table, f"cox_{endpoint}")
        st.caption(fit.method)
        st.subheader("Proportional-hazards check")
        _ui.show_table(fit.ph_test.reset_index(names="term"), f"cox_zph_{endpoint}")
        st.caption("Score test of proportional hazards as R cox.zph(fit, transform = 'km'); "
                   "p < 0.05 suggests the hazard ratio changes over time.")
        if S.TREATMENT_GROUP in covariates:
            _tte.piecewise_section(v, endpoint, covariates, fit.ph_test)
with tab_uni:
    uni = _ui.compute(cox_univariable, endpoint, tuple(covariates)) if covariates else None
    if uni is not None:
        table = _hr_table(uni)
        _ui.show_chart(lambda: charts.forest_chart(table, font_size=v.font_size),
                       f"cox_univariable_forest_{endpoint}", options=tuple(covariates))
        _ui.show_table(table, f"cox_univariable_{endpoint}")
        st.caption("One Cox model per covariate (Efron ties, Wald CI), each on the patients "
                   "with that covariate recorded.")
with tab_sub:
    subgroups = tuple(c for c in (S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.TUMOR_NUMBER, AFP_400,
                                  S.ALBI_GRADE, S.LOCAL_MODALITY)
                      if c in v.df.columns or (c == AFP_400 and S.AFP in v.df.columns))
    forest = _ui.compute(subgroup_forest, endpoint, subgroups)
    if forest is not None:
        forest = forest.assign(subgroup=[term_label(s) if s != "overall" else "All patients"
                                         for s in forest["subgroup"]],
                               level=forest["level"].astype(str))  # ALBI grades are ints
        small = forest[(forest["n_reference"] < 10) | (forest["n_comparator"] < 10)
                       | (forest["events_reference"] < 5) | (forest["events_comparator"] < 5)]
        arms = tuple(level_label(S.TREATMENT_GROUP, a) for a in (S.SYSTEMIC, S.LOCAL_SYSTEMIC))
        _ui.show_chart(lambda: charts.subgroup_forest_chart(forest, arms=arms,
                                                            font_size=v.font_size),
                       f"subgroup_forest_{endpoint}", options=subgroups)
        if len(small):
            _ui.caution(f"{len(small)} subgroup level(s) have fewer than 10 patients or 5 events "
                        "in an arm: " + ", ".join(f"{s}: {lv}" for s, lv in
                                                  zip(small["subgroup"], small["level"],
                                                      strict=True))
                        + ". Their hazard ratios are unreliable.")
        _ui.show_table(forest, f"subgroup_forest_{endpoint}")
        st.caption(forest.attrs.get("method", "") + ". Local modality rows compare each "
                   "modality with all systemic-only patients; their p tests whether the "
                   "modalities' effects differ. Subgroup results are exploratory.")
with tab_time:
    _tte.time_dependent_section(v, endpoint, covariates)
