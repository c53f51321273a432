"""Adjusted comparison: propensity-score weighting or matching, with the balance it achieves."""

from __future__ import annotations

import streamlit as st

from hcc_core import (
    AFP_400,
    PAPER_PS_COVARIATES,
    adjusted_comparison,
    charts,
    term_label,
)
from hcc_core import schema as S
from hcc_core.adjusted import format_balance, format_hazard_ratios, format_ps_model, format_weights
from hcc_core.i18n import N_, _
from hcc_core.suppression import shown as count_shown
from pages import _ui

v = _ui.view()
st.title(_("Adjusted comparison"))
st.caption(v.subtitle())
st.markdown(_(
    "Local therapy was not assigned at random. A propensity score (the probability of receiving "
    "local + systemic therapy given the covariates) is used to weight or match patients so that "
    "the groups look alike on those covariates, and the hazard ratio is estimated again."
))

METHOD_LABELS = _ui.Translated({"iptw": N_("Inverse probability weighting (IPTW)"),
                                "overlap": N_("Overlap weights"),
                                "match": N_("1:1 nearest-neighbour matching")})
ESTIMAND_LABELS = _ui.Translated({"ATE": N_("Whole cohort (ATE)"),
                                  "ATT": N_("Treated patients (ATT)")})
endpoint = st.radio(_("Endpoint"), list(_ui.ENDPOINT_LABELS), format_func=_ui.ENDPOINT_LABELS.get,
                    horizontal=True, **_ui.linked("adj_endpoint", _ui.ENDPOINT_LABELS))
candidates = list(dict.fromkeys([*PAPER_PS_COVARIATES, S.LOCAL_MODALITY, S.CHILD_PUGH_SCORE,
                                 S.ALBI_GRADE, AFP_400, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY,
                                 S.CHRONIC_HEPATITIS]))
covariates = st.multiselect(
    _("Covariates of the propensity score (preset: the paper's multivariable model)"),
    candidates,
    format_func=term_label,
    **_ui.linked("adj_covariates", candidates, default=list(PAPER_PS_COVARIATES)))
c1, c2, c3 = st.columns([2, 2, 2])
method = c1.radio(_("Method"), list(METHOD_LABELS), format_func=METHOD_LABELS.get,
                  **_ui.linked("adj_method", METHOD_LABELS))
if method == "iptw":
    estimand = c2.radio(_("Effect in"), list(ESTIMAND_LABELS), format_func=ESTIMAND_LABELS.get,
                        **_ui.linked("adj_estimand", ESTIMAND_LABELS))
else:
    estimand = "ATT" if method == "match" else "ATO"
    c2.markdown("**" + _("Effect in") + "**")
    c2.caption(_("Matching estimates the effect in the treated (ATT).") if method == "match"
               else _("Overlap weights estimate the effect where both treatments were realistic "
                      "(ATO)."))
caliper = None
if method == "match":
    use_caliper = c3.checkbox(_("Caliper"), value=True, **_ui.linked("adj_use_caliper"))
    if use_caliper:
        caliper = c3.number_input(_("Caliper (SD of the logit of the score)"), 0.01, 2.0, 0.2, 0.05,
                                  **_ui.linked("adj_caliper"))
trim = None
if method == "iptw" and c3.checkbox(_("Trim extreme scores"), value=False, **_ui.linked("adj_trim_on")):
    trim = c3.number_input(_("Keep scores within [t, 1 - t], t ="), 0.01, 0.2, 0.05, 0.01,
                           **_ui.linked("adj_trim"))

result = (_ui.compute(adjusted_comparison, endpoint, tuple(covariates), method=method,
                      estimand=estimand if method == "iptw" else None, caliper=caliper,
                      trim=trim)
          if covariates else None)
if not covariates:
    st.info(_("Choose at least one covariate for the propensity score."))
if result is not None:
    ps = result.propensity
    for warning in ps.warnings:
        _ui.caution(warning)

    st.subheader(_("Treatment hazard ratio, three ways"))
    table = result.hazard_ratios.reset_index(drop=True)
    _ui.show_chart(lambda: charts.forest_chart(table, title=_(
        "Hazard ratio, {treated} vs {control} (95% CI)").format(
            treated=_ui.level_label(S.TREATMENT_GROUP, ps.treated),
            control=_ui.level_label(S.TREATMENT_GROUP, ps.control)),
                                               font_size=v.font_size),
                   f"adjusted_hr_{endpoint}",
                   options=(tuple(covariates), method, estimand, caliper, trim),
                   endpoint=endpoint, method=ps.method)
    st.markdown("\n".join(
        "- " + _("**{label}**: HR {hr} ({lower}-{upper}), p {p}; {n} patients, {events} events")
        .format(label=r.label, hr=_ui.fmt_num(r.hr), lower=_ui.fmt_num(r.hr_lower),
                upper=_ui.fmt_num(r.hr_upper), p=_ui.fmt_p(r.p_value), n=count_shown(r.n),
                events=count_shown(r.events))
        for r in table.itertuples()))
    _ui.show_table(format_hazard_ratios(result.hazard_ratios), f"adjusted_hr_{endpoint}",
                   endpoint=endpoint, method=ps.method)
    st.info(result.interpretation)
    for note in result.notes:
        st.caption(note)

    st.subheader(_("Kaplan-Meier on the adjusted cohort"))
    _ui.show_chart(lambda: charts.km_chart(result.km, font_size=v.font_size,
                                           risk_title=_("Weighted number at risk (sum of "
                                                        "weights)"),
                                           risk_format=".1f",
                                           group_labels=_ui.group_names(
                                               S.TREATMENT_GROUP, result.km.summary["group"])),
                   f"adjusted_km_{endpoint}",
                   options=(tuple(covariates), method, estimand, caliper, trim),
                   endpoint=endpoint, method=f"{result.km.method}; {ps.method}")
    st.caption(result.km.method + ". "
               + _("Numbers at risk are sums of the weights, not patients."))

    st.subheader(_("Covariate balance"))
    _ui.show_chart(lambda: charts.love_plot(ps.balance, font_size=v.font_size),
                   "adjusted_love_plot", options=(tuple(covariates), method, estimand, caliper,
                                                  trim), method=ps.method)
    _ui.show_table(format_balance(ps.balance), "adjusted_balance", method=ps.method)
    st.caption(_("Standardised mean difference (SMD): difference in means divided by the "
                 "pooled SD of the unadjusted groups (proportions for yes/no terms; every level "
                 "of a factor with 3+ levels). |SMD| < 0.1 is the usual target. Variance ratio: "
                 "treated / control, ideally near 1; '–' for yes/no terms."))

    st.subheader(_("Propensity score distribution"))
    hist = ps.ps_histogram()
    hist["group"] = [_ui.level_label(S.TREATMENT_GROUP, g) for g in hist["group"]]
    _ui.show_chart(lambda: charts.ps_histogram_chart(hist, ps.overlap, font_size=v.font_size),
                   "adjusted_ps_histogram", options=(tuple(covariates), method, estimand,
                                                     caliper, trim), method=ps.method,
                   counts=hist["count"])
    lo, hi = ps.overlap
    st.caption(_("c-statistic of the score {c} (0.5 = groups indistinguishable; above 0.8 = "
                 "poor overlap). Shaded: common support {lower} to {upper}; {n} patient(s) "
                 "outside it.").format(c=f"{ps.c_statistic:.3f}", lower=f"{lo:.3f}",
                                       upper=f"{hi:.3f}", n=count_shown(ps.n_outside_overlap)))

    st.subheader(_("Weights and effective sample size"))
    _ui.show_table(format_weights(ps.ess), "adjusted_weights", method=ps.method)
    st.caption(_("Effective sample size = (sum of weights)^2 / sum of squared weights: how "
                 "many unweighted patients the weighted group is worth."))
    with st.expander(_("Propensity-score model (logistic regression)")):
        _ui.show_table(format_ps_model(ps.model), "adjusted_ps_model", method=ps.method)
    st.caption(ps.method)
