"""Cox regression: the treatment effect first, a model the data can carry, univariable screen,
subgroup forest."""

from __future__ import annotations

import streamlit as st

from hcc_core import (
    AFP_400,
    PAPER_COX_COVARIATES,
    charts,
    cox_univariable,
    format_hr,
    format_p,
    level_label,
    plan_cox,
    subgroup_forest,
    term_label,
)
from hcc_core import schema as S
from hcc_core.formatting import format_hr_table, format_ph_test, format_subgroup_table
from pages import _tte, _ui

v = _ui.view()
st.title("Cox regression")

ENDPOINT_LABELS = _ui.ENDPOINT_LABELS
c1, c2 = st.columns([1, 3])
endpoint = c1.radio("Endpoint", list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    **_ui.linked("cox_endpoint"))
candidates = list(dict.fromkeys([*PAPER_COX_COVARIATES, S.LOCAL_MODALITY, S.CHILD_PUGH_SCORE,
                                 S.ALBI_GRADE, AFP_400, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY,
                                 S.CHRONIC_HEPATITIS]))
covariates = c2.multiselect(
    "Covariates (preset: the paper's multivariable model)", candidates,
    default=list(PAPER_COX_COVARIATES), format_func=term_label, **_ui.linked("cox_covariates"))
st.caption(v.subtitle(endpoint))
REF, COMP = (level_label(S.TREATMENT_GROUP, a) for a in (S.SYSTEMIC, S.LOCAL_SYSTEMIC))
FAVOURS = (f"Favours {COMP.lower()}", f"Favours {REF.lower()}")


ZPH_METHOD = "Score test of proportional hazards as R cox.zph(fit, transform = 'km')"
UNI_METHOD = "One Cox model per covariate (Efron ties, Wald CI)"

def _labels(table) -> dict:
    return {t: term_label(t) for t in table.index}


def _show_model(fit, name: str, treatment_only: bool = False) -> None:
    """Forest plot and table of one fitted model; non-estimable terms listed, never drawn."""
    table = fit.table.reset_index(names="term")
    table["label"] = [term_label(t) for t in table["term"]]
    favours = FAVOURS if treatment_only else ("Lower hazard", "Higher hazard")
    _ui.show_chart(lambda: charts.forest_chart(
        table, label_header="Covariate", favours=favours, font_size=v.font_size,
        heading=f"{ENDPOINT_LABELS[endpoint]}: hazard ratios",
        subheading=f"{v.population} · {fit.n} patients, {fit.events} events"),
        name, options=(endpoint, tuple(covariates)), endpoint=endpoint, method=fit.method)
    shown = format_hr_table(fit.table, _labels(fit.table))
    _ui.show_table(shown, name, endpoint=endpoint, method=fit.method)
    for note in shown.attrs["notes"]:
        st.caption(note)
    st.caption(f"{fit.method}. HR < 1: lower hazard than the reference level.")


def _treatment_summary(plan) -> None:
    """The answer first: the treatment HR unadjusted and in the model shown, with n/events."""
    forest = _ui.compute(subgroup_forest, endpoint, ())
    st.subheader(f"Treatment effect: {COMP} vs {REF}")
    if plan.unadjusted is None:
        _ui.caution(f"No treatment hazard ratio: {plan.unadjusted_error}.")
        return
    term = plan.unadjusted.table.index[0]
    u = plan.unadjusted.table.iloc[0]
    lines = [f"**Unadjusted HR {format_hr(u['hr'], u['hr_lower'], u['hr_upper'])}**, "
             f"p = {format_p(u['p_value'])}"]
    if forest is not None and len(forest):
        o = forest.iloc[0]
        lines.append(f"{COMP}: {o['events_comparator']} events in {o['n_comparator']} patients; "
                     f"{REF}: {o['events_reference']} events in {o['n_reference']} patients")
    model = plan.reduced if plan.reduced is not None else plan.full
    if model is not None and term in model.table.index and len(model.table) > 1:
        a = model.table.loc[term]
        which = "reduced model" if plan.reduced is not None else "multivariable model"
        lines.append(f"Adjusted HR ({which}) {format_hr(a['hr'], a['hr_lower'], a['hr_upper'])}, "
                     f"p = {format_p(a['p_value'])}")
    st.markdown("  \n".join(lines))
    if plan.unadjusted.events < plan.min_epv:
        _ui.caution(f"Only {plan.unadjusted.events} events: even the unadjusted hazard ratio "
                    "is imprecise.")


if not covariates:
    st.info("Choose at least one covariate.")
TABS = ["Model", "Univariable screen", "Subgroup forest", "Local therapy in time"]
tab_model, tab_uni, tab_sub, tab_time = st.tabs(TABS, **_ui.linked_tabs("cox_tab"))
with tab_model:  # only the open tab is computed (its models are most of the page's time)
    plan = (_ui.compute(plan_cox, endpoint, tuple(covariates))
            if covariates and tab_model.open is not False else None)
    if plan is not None:
        _treatment_summary(plan)
        _ui.caution(_ui.NON_RANDOMISED)
        show_full = True
        if not plan.full_is_adequate and plan.reduced is not None:
            _ui.caution(plan.summary)
            k = len(plan.full.table) if plan.full is not None else len(covariates)
            choice = st.radio(
                "Model shown",
                ["reduced", "full"],
                format_func={"reduced": "Reduced model (fits these data)",
                             "full": f"Full preset ({k} coefficients, with its warnings)"}.get,
                horizontal=True, **_ui.linked("cox_model"))
            show_full = choice == "full"
        if not show_full:
            st.subheader("Reduced model")
            kept = ", ".join(term_label(c) for c in plan.kept)
            st.markdown(f"Adjusted for what {plan.reduced.events} events can carry "
                        f"(at least {plan.min_epv:g} per coefficient): **{kept}**.")
            if plan.left_out:
                st.markdown("Left out:\n" + "\n".join(
                    f"- **{term_label(lo.covariate)}**: {lo.reason}." for lo in plan.left_out))
            st.caption("Covariates are kept in a pre-specified order of prognostic weight "
                       "(stage, liver function, AFP, tumour burden, then age and sex), never by "
                       "their p-values, which would bias the hazard ratios.")
            _show_model(plan.reduced, f"cox_reduced_{endpoint}",
                        treatment_only=len(plan.reduced.table) == 1)
        elif plan.full is not None:
            fit = plan.full
            st.subheader("Multivariable model" if len(fit.table) > 1 else "Model")
            st.markdown(f"**{fit.n} patients, {fit.events} events** · concordance "
                        f"(Harrell's C) **{fit.concordance:.3f}**")
            for note in fit.notes:
                _ui.caution(note)
            _show_model(fit, f"cox_{endpoint}")
            with st.expander("Proportional-hazards check"):
                _ui.show_table(format_ph_test(fit.ph_test, _labels(fit.table)),
                               f"cox_zph_{endpoint}", endpoint=endpoint, method=ZPH_METHOD)
                st.caption(f"{ZPH_METHOD}; p < 0.05 suggests the hazard ratio changes over "
                           "time.")
        else:
            _ui.caution(f"The model cannot be fitted: {plan.full_error}")
        shown_fit = plan.full if show_full else plan.reduced
        if shown_fit is not None and S.TREATMENT_GROUP in shown_fit.covariates:
            _tte.piecewise_section(v, endpoint, list(shown_fit.covariates), shown_fit.ph_test)
with tab_uni:
    uni = (_ui.compute(cox_univariable, endpoint, tuple(covariates))
           if covariates and tab_uni.open is not False else None)
    if uni is not None:
        if not len(uni):
            st.info("No covariate could be fitted on these patients.")
        else:
            table = uni.reset_index(names="term")
            table["label"] = [term_label(t) for t in table["term"]]
            _ui.show_chart(lambda: charts.forest_chart(
                table, label_header="Covariate", counts=[("Events/n", "events", "n")],
                font_size=v.font_size, heading=f"{ENDPOINT_LABELS[endpoint]}: univariable",
                subheading=v.subtitle()),
                f"cox_univariable_forest_{endpoint}", options=(endpoint, tuple(covariates)),
                endpoint=endpoint, method=UNI_METHOD)
            shown = format_hr_table(uni, _labels(uni), counts=True)
            _ui.show_table(shown, f"cox_univariable_{endpoint}", endpoint=endpoint,
                           method=UNI_METHOD)
            for note in shown.attrs["notes"]:
                st.caption(note)
        for note in uni.attrs.get("notes", ()):
            st.caption(note)
        st.caption(f"{UNI_METHOD}, each on the patients with that covariate recorded.")
with tab_sub:
    subgroups = tuple(c for c in (S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.TUMOR_NUMBER, AFP_400,
                                  S.ALBI_GRADE, S.LOCAL_MODALITY)
                      if c in v.df.columns or (c == AFP_400 and S.AFP in v.df.columns))
    forest = (_ui.compute(subgroup_forest, endpoint, subgroups)
              if tab_sub.open is not False else None)
    if forest is not None:
        forest = forest.assign(
            subgroup=[term_label(s) if s != "overall" else "All patients"
                      for s in forest["subgroup"]],
            level=[level_label(s, lv) if s != "overall" else "all"
                   for s, lv in zip(forest["subgroup"], forest["level"], strict=True)])
        small = forest[(forest["n_reference"] < 10) | (forest["n_comparator"] < 10)
                       | (forest["events_reference"] < 5) | (forest["events_comparator"] < 5)]
        _ui.show_chart(lambda: charts.subgroup_forest_chart(
            forest, arms=(REF, COMP), font_size=v.font_size,
            heading=f"{ENDPOINT_LABELS[endpoint]}: treatment effect by subgroup",
            subheading=v.subtitle()),
            f"subgroup_forest_{endpoint}", options=(endpoint, subgroups), endpoint=endpoint,
            method=forest.attrs.get("method"))
        if len(small):
            _ui.caution(f"{len(small)} subgroup level(s) have fewer than 10 patients or 5 "
                        "events in an arm: " + ", ".join(
                            f"{s}: {lv}" for s, lv in zip(small["subgroup"], small["level"],
                                                          strict=True))
                        + ". Their hazard ratios are unreliable.")
        shown = format_subgroup_table(forest, (REF, COMP))
        _ui.show_table(shown, f"subgroup_forest_{endpoint}", endpoint=endpoint,
                       method=forest.attrs.get("method"))
        for note in shown.attrs["notes"]:
            st.caption(note)
        st.caption(forest.attrs.get("method", "") + ". Bold p on a subgroup's heading row: "
                   "test for interaction. Local modality rows compare each modality with all "
                   "systemic-only patients; their interaction p tests whether the modalities' "
                   "effects differ. Subgroup results are exploratory.")
with tab_time:
    if tab_time.open is not False:
        _tte.time_dependent_section(v, endpoint, covariates)
