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
from hcc_core.i18n import _
from hcc_core.suppression import shown as count_shown
from pages import _tte, _ui

v = _ui.view()
st.title(_("Cox regression"))

ENDPOINT_LABELS = _ui.ENDPOINT_LABELS
c1, c2 = st.columns([1, 3])
endpoint = c1.radio(_("Endpoint"), list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    **_ui.linked("cox_endpoint", ENDPOINT_LABELS))
candidates = list(dict.fromkeys([*PAPER_COX_COVARIATES, S.LOCAL_MODALITY, S.CHILD_PUGH_SCORE,
                                 S.ALBI_GRADE, AFP_400, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY,
                                 S.CHRONIC_HEPATITIS]))
covariates = c2.multiselect(
    _("Covariates (preset: the paper's multivariable model)"), candidates,
    format_func=term_label,
    **_ui.linked("cox_covariates", candidates, default=list(PAPER_COX_COVARIATES)))
st.caption(v.subtitle(endpoint))
REF, COMP = (level_label(S.TREATMENT_GROUP, a) for a in (S.SYSTEMIC, S.LOCAL_SYSTEMIC))
FAVOURS = (_("Favours {arm}").format(arm=COMP.lower()), _("Favours {arm}").format(arm=REF.lower()))


ZPH_METHOD = _("Score test of proportional hazards as R cox.zph(fit, transform = 'km')")
UNI_METHOD = _("One Cox model per covariate (Efron ties, Wald CI)")

def _labels(table) -> dict:
    return {t: term_label(t) for t in table.index}


def _show_model(fit, name: str, treatment_only: bool = False) -> None:
    """Forest plot and table of one fitted model; non-estimable terms listed, never drawn."""
    table = fit.table.reset_index(names="term")
    table["label"] = [term_label(t) for t in table["term"]]
    favours = FAVOURS if treatment_only else (_("Lower hazard"), _("Higher hazard"))
    _ui.show_chart(lambda: charts.forest_chart(
        table, label_header=_("Covariate"), favours=favours, font_size=v.font_size,
        heading=_("{endpoint}: hazard ratios").format(endpoint=ENDPOINT_LABELS[endpoint]),
        subheading=_("{population} · {n} patients, {events} events").format(
            population=v.population, n=count_shown(fit.n), events=count_shown(fit.events))),
        name, options=(endpoint, tuple(covariates)), endpoint=endpoint, method=fit.method)
    shown = format_hr_table(fit.table, _labels(fit.table))
    _ui.show_table(shown, name, endpoint=endpoint, method=fit.method)
    for note in shown.attrs["notes"]:
        st.caption(note)
    st.caption(_("{method}. HR < 1: lower hazard than the reference level.").format(
        method=fit.method))


def _treatment_summary(plan) -> None:
    """The answer first: the treatment HR unadjusted and in the model shown, with n/events."""
    forest = _ui.compute(subgroup_forest, endpoint, ())
    st.subheader(_("Treatment effect: {arm} vs {reference}").format(arm=COMP, reference=REF))
    if plan.unadjusted is None:
        _ui.caution(_("No treatment hazard ratio: {reason}.").format(
            reason=plan.unadjusted_error))
        return
    term = plan.unadjusted.table.index[0]
    u = plan.unadjusted.table.iloc[0]
    lines = [_("**Unadjusted HR {hr}**, p = {p}").format(
        hr=format_hr(u['hr'], u['hr_lower'], u['hr_upper']), p=format_p(u['p_value']))]
    if forest is not None and len(forest):
        o = forest.iloc[0]
        lines.append(_("{arm}: {events} events in {n} patients; {reference}: {ref_events} "
                       "events in {ref_n} patients").format(
            arm=COMP, events=count_shown(o['events_comparator']), n=count_shown(o['n_comparator']),
            reference=REF, ref_events=count_shown(o['events_reference']),
            ref_n=count_shown(o['n_reference'])))
    model = plan.reduced if plan.reduced is not None else plan.full
    if model is not None and term in model.table.index and len(model.table) > 1:
        a = model.table.loc[term]
        which = _("reduced model") if plan.reduced is not None else _("multivariable model")
        lines.append(_("Adjusted HR ({model}) {hr}, p = {p}").format(
            model=which, hr=format_hr(a['hr'], a['hr_lower'], a['hr_upper']),
            p=format_p(a['p_value'])))
    st.markdown("  \n".join(lines))
    if plan.unadjusted.events < plan.min_epv:
        _ui.caution(_("Only {events} events: even the unadjusted hazard ratio is "
                      "imprecise.").format(events=plan.unadjusted.events))


if not covariates:
    st.info(_("Choose at least one covariate."))
# The open tab's code is in the URL (cox_tab=subgroups), so a link opens the same tab in
# either language; the labels are translated.
TABS = {"model": _("Model"), "univariable": _("Univariable screen"),
        "subgroups": _("Subgroup forest"), "time": _("Local therapy in time")}
tab_model, tab_uni, tab_sub, tab_time = st.tabs(list(TABS.values()),
                                                **_ui.linked_tabs("cox_tab", TABS))
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
                _("Model shown"),
                ["reduced", "full"],
                format_func={"reduced": _("Reduced model (fits these data)"),
                             "full": _("Full preset ({k} coefficients, with its warnings)")
                             .format(k=k)}.get,
                horizontal=True, **_ui.linked("cox_model", ["reduced", "full"]))
            show_full = choice == "full"
        if not show_full:
            st.subheader(_("Reduced model"))
            kept = ", ".join(term_label(c) for c in plan.kept)
            st.markdown(_("Adjusted for what {events} events can carry (at least {epv} per "
                          "coefficient): **{kept}**.").format(
                events=plan.reduced.events, epv=f"{plan.min_epv:g}", kept=kept))
            if plan.left_out:
                st.markdown(_("Left out:") + "\n" + "\n".join(
                    f"- **{term_label(lo.covariate)}**: {lo.reason}." for lo in plan.left_out))
            st.caption(_("Covariates are kept in a pre-specified order of prognostic weight "
                         "(stage, liver function, AFP, tumour burden, then age and sex), never "
                         "by their p-values, which would bias the hazard ratios."))
            _show_model(plan.reduced, f"cox_reduced_{endpoint}",
                        treatment_only=len(plan.reduced.table) == 1)
        elif plan.full is not None:
            fit = plan.full
            st.subheader(_("Multivariable model") if len(fit.table) > 1 else _("Model"))
            st.markdown(_("**{n} patients, {events} events** · concordance (Harrell's C) "
                          "**{c}**").format(n=count_shown(fit.n), events=count_shown(fit.events),
                                            c=f"{fit.concordance:.3f}"))
            for note in fit.notes:
                _ui.caution(note)
            _show_model(fit, f"cox_{endpoint}")
            with st.expander(_("Proportional-hazards check")):
                _ui.show_table(format_ph_test(fit.ph_test, _labels(fit.table)),
                               f"cox_zph_{endpoint}", endpoint=endpoint, method=ZPH_METHOD)
                st.caption(_("{method}; p < 0.05 suggests the hazard ratio changes over "
                             "time.").format(method=ZPH_METHOD))
        else:
            _ui.caution(_("The model cannot be fitted: {reason}").format(reason=plan.full_error))
        shown_fit = plan.full if show_full else plan.reduced
        if shown_fit is not None and S.TREATMENT_GROUP in shown_fit.covariates:
            _tte.piecewise_section(v, endpoint, list(shown_fit.covariates), shown_fit.ph_test)
with tab_uni:
    uni = (_ui.compute(cox_univariable, endpoint, tuple(covariates))
           if covariates and tab_uni.open is not False else None)
    if uni is not None:
        if not len(uni):
            st.info(_("No covariate could be fitted on these patients."))
        else:
            table = uni.reset_index(names="term")
            table["label"] = [term_label(t) for t in table["term"]]
            _ui.show_chart(lambda: charts.forest_chart(
                table, label_header=_("Covariate"), counts=[(_("Events/n"), "events", "n")],
                font_size=v.font_size,
                heading=_("{endpoint}: univariable").format(endpoint=ENDPOINT_LABELS[endpoint]),
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
        st.caption(_("{method}, each on the patients with that covariate recorded.").format(
            method=UNI_METHOD))
with tab_sub:
    subgroups = tuple(c for c in (S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.TUMOR_NUMBER, AFP_400,
                                  S.ALBI_GRADE, S.LOCAL_MODALITY)
                      if c in v.df.columns or (c == AFP_400 and S.AFP in v.df.columns))
    forest = (_ui.compute(subgroup_forest, endpoint, subgroups)
              if tab_sub.open is not False else None)
    if forest is not None:
        forest = forest.assign(
            subgroup=[term_label(s) if s != "overall" else _("All patients")
                      for s in forest["subgroup"]],
            level=[level_label(s, lv) if s != "overall" else _("all")
                   for s, lv in zip(forest["subgroup"], forest["level"], strict=True)])
        small = forest[(forest["n_reference"] < 10) | (forest["n_comparator"] < 10)
                       | (forest["events_reference"] < 5) | (forest["events_comparator"] < 5)]
        _ui.show_chart(lambda: charts.subgroup_forest_chart(
            forest, arms=(REF, COMP), font_size=v.font_size,
            heading=_("{endpoint}: treatment effect by subgroup").format(
                endpoint=ENDPOINT_LABELS[endpoint]),
            subheading=v.subtitle()),
            f"subgroup_forest_{endpoint}", options=(endpoint, subgroups), endpoint=endpoint,
            method=forest.attrs.get("method"))
        if len(small):
            _ui.caution(_("{count} subgroup level(s) have fewer than 10 patients or 5 events "
                          "in an arm: {levels}. Their hazard ratios are unreliable.").format(
                count=len(small), levels=", ".join(
                    f"{s}: {lv}" for s, lv in zip(small["subgroup"], small["level"],
                                                  strict=True))))
        shown = format_subgroup_table(forest, (REF, COMP))
        _ui.show_table(shown, f"subgroup_forest_{endpoint}", endpoint=endpoint,
                       method=forest.attrs.get("method"))
        for note in shown.attrs["notes"]:
            st.caption(note)
        st.caption(forest.attrs.get("method", "") + ". " + _(
            "Bold p on a subgroup's heading row: test for interaction. Local modality rows "
            "compare each modality with all systemic-only patients; their interaction p tests "
            "whether the modalities' effects differ. Subgroup results are exploratory."))
with tab_time:
    if tab_time.open is not False:
        _tte.time_dependent_section(v, endpoint, covariates)
