"""Survival: Kaplan-Meier curves with the answer beside them (n, events, medians, HR, log-rank),
pairwise log-rank, landmark rates, RMST; cumulative incidence and landmark analysis (pages/_tte)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from hcc_core import charts, fit_cox, fit_km, logrank_test, pairwise_logrank, report, rmst
from hcc_core import schema as S
from hcc_core.i18n import N_, _
from hcc_core.suppression import shown as count_shown
from pages import _tte, _ui
from pages._ui.copy import copyable_sentence

v = _ui.view()
st.title(_("Survival"))
answer_area = st.container()  # the answer first: on a projector it fits one screen

ENDPOINT_LABELS = _ui.ENDPOINT_LABELS
CI_TYPES = _ui.Translated({"log-log": N_("log-log (default)"), "log": N_("log (R survfit default)"),
                           "plain": N_("plain")})
by_options = [c for c in S.GROUP_COLUMNS if c in v.df.columns] + [None]
analysis = _tte.analysis_choice()
if analysis == _tte.CUMULATIVE_INCIDENCE:
    _tte.cumulative_incidence_section(v, by_options)
    st.stop()

c1, c2, c3, c4 = st.columns([2, 2, 2, 1.4])
endpoint = c1.radio(_("Endpoint"), list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    **_ui.linked("surv_endpoint", ENDPOINT_LABELS))
by = c2.selectbox(_("Compare by"), by_options, **_ui.linked("surv_by", by_options),
                  format_func=lambda c: _("Whole cohort") if c is None else _ui.group_label(c))
conf_type = c3.selectbox(_("Confidence interval"), list(CI_TYPES), format_func=CI_TYPES.get,
                         **_ui.linked("surv_ci", CI_TYPES))
show_ci = c4.toggle(_("CI band"), value=True, **_ui.linked("surv_band"))
if analysis == _tte.LANDMARK:
    _tte.landmark_section(v, endpoint, by, conf_type, show_ci)
    st.stop()
with st.expander(_("Display options")):
    d1, d2 = st.columns(2)
    d3, d4 = st.columns(2)
    step = d1.number_input(_("Time breaks every (months)"), min_value=1.0, max_value=60.0,
                           value=6.0, step=1.0, **_ui.linked("surv_step"))
    extended = d2.toggle(_("Risk table with censored and events"), value=False,
                         **_ui.linked("surv_extended"))
    median_lines = d3.toggle(_("Median lines"), value=False, **_ui.linked("surv_medians"))
    line_styles = d4.toggle(_("Line style per group"), value=False,
                            **_ui.linked("surv_dashes"))

# Systemic only plus exactly one local modality: the treatment groups are that modality and
# systemic only, so say so ("HAIC" vs "systemic only") without another click.
modalities = (S.levels_of(v.df, S.LOCAL_MODALITY) if S.LOCAL_MODALITY in v.df.columns else [])
by_modality = (by == S.TREATMENT_GROUP and len(modalities) == 2
               and S.MODALITY_NONE in modalities)
if by_modality:
    by = S.LOCAL_MODALITY
    local = next(m for m in modalities if m != S.MODALITY_NONE)
    st.caption(_("The filters leave one local modality, so the groups are {modality} and "
                 "systemic only.").format(modality=_ui.level_label(by, local)))

@_ui.fragment
def rmst_section(endpoint: str, by: str | None, names: dict, ref: str, max_t: float) -> None:
    """RMST up to tau: changing tau reruns this section only."""
    st.subheader(_("Restricted mean survival time"))
    tau = st.number_input(_("Horizon tau (months)"), min_value=1.0,
                          max_value=max(1.0, round(max_t, 1)),
                          value=min(24.0, max(1.0, round(max_t, 1))), step=1.0,
                          **_ui.linked("surv_tau"))
    if by is not None:
        rm = _ui.compute(rmst, endpoint, by, tau)
        if rm is not None:
            _ui.show_table(pd.DataFrame({
                _("Group"): [names.get(str(g), str(g)) for g in rm["group"]],
                _("Patients"): rm["n"],
                _("Events"): rm["events"],
                _("RMST, months (95% CI)"): [_ui.fmt_ci(x, lo, hi, 1) for x, lo, hi in
                                          zip(rm["rmst"], rm["lower"], rm["upper"],
                                              strict=True)],
                _("Difference vs {reference}, months (95% CI)").format(reference=ref): [
                    _("reference") if i == 0 else _ui.fmt_ci(x, lo, hi, 1) for i, (x, lo, hi) in
                    enumerate(zip(rm["difference"], rm["difference_lower"],
                                  rm["difference_upper"], strict=True))],
                "p": ["" if i == 0 else _ui.fmt_p(p) for i, p in enumerate(rm["p_value"])],
            }), f"rmst_{endpoint}")
            st.caption(rm.attrs.get("method", ""))
            st.caption(_("RMST = area under the Kaplan-Meier curve up to tau, i.e. the mean "
                         "survival time restricted to tau months (R: print(survfit, rmean = "
                         "tau)). The paper's 'mean OS' is reported as a median; RMST is the "
                         "honest mean."))


km = _ui.compute(fit_km, endpoint, by=by, conf_type=conf_type)
if km is not None:
    summary = km.summary
    names = {str(g): _ui.level_label(by, g) for g in summary["group"]}
    shown = [names[str(g)] for g in summary["group"]]
    compare = by is not None and len(summary) >= 2
    lr = _ui.compute(logrank_test, endpoint, by) if compare else None
    cox = _ui.compute(fit_cox, endpoint, (by,)) if compare else None

    def hr_of(group) -> tuple[str, str]:
        """(HR (95% CI), p) of ``group`` against the reference group."""
        if cox is None:
            return "-", "-"
        term = f"{by}[{group}]"
        if term not in cox.table.index:
            return _("reference"), ""
        row = cox.table.loc[term]
        return (_ui.fmt_hr(row["hr"], row["hr_lower"], row["hr_upper"]),
                _ui.fmt_p(row["p_value"]))

    ref = shown[0]
    answer_lines, box = [], []
    for _g, label, n, e, m, lo, hi in zip(summary["group"], shown, summary["n"],
                                         summary["events"], summary["median"],
                                         summary["median_lower"], summary["median_upper"],
                                         strict=True):
        box.append(_("{group}: n = {n}, {events} events, median {median}").format(
            group=label, n=count_shown(n), events=count_shown(e), median=_ui.fmt_median(m, lo, hi)))
    if compare:
        for g, label in zip(summary["group"][1:], shown[1:], strict=True):
            hr, p = hr_of(g)
            answer_lines.append(_("**{group} vs {reference}**: HR **{hr}**, p = {p}").format(
                group=label, reference=ref, hr=hr, p=p))
            box.append(_("{group} vs {reference}: HR {hr}, p = {p}").format(
                group=label, reference=ref, hr=hr, p=p))
        if lr is not None:
            box.append(_("Log-rank p = {p}").format(p=_ui.fmt_p(lr.p_value)))

    # The answer first (above the settings): on a projector it fits one screen with the
    # caveats.
    what = ENDPOINT_LABELS[endpoint]
    answer_area.markdown(f"**{what}** · {v.population} · n = {count_shown(len(v.df))}")
    if answer_lines:
        lr_text = (" · " + _("log-rank p = {p}").format(p=_ui.fmt_p(lr.p_value))
                   if lr is not None else "")
        answer_area.markdown("  \n".join(answer_lines) + lr_text)
    answer_area.markdown(" · ".join(
        _("{group}: n = {n}, {events} events, median {median} months").format(
            group=label, n=count_shown(n), events=count_shown(e), median=_ui.fmt_median(m, lo, hi))
        for label, n, e, m, lo, hi in zip(shown, summary["n"], summary["events"],
                                          summary["median"], summary["median_lower"],
                                          summary["median_upper"], strict=True)))
    small = summary[(summary["n"] < 10) | (summary["events"] < 5)]
    if len(small):
        answer_area.warning(icon=":material/warning:", body=_(
            "Small groups: {groups}. Estimates are unstable with fewer than 10 patients or 5 "
            "events per group.").format(groups=", ".join(
                _("{group} (n = {n}, {events} events)").format(group=names[str(g)], n=count_shown(n),
                                                                events=count_shown(e))
                for g, n, e in zip(small["group"], small["n"], small["events"], strict=True))))

    t_end = float(km.curve["time"].max()) if len(km.curve) else 0.0
    breaks = list(np.arange(0.0, t_end + 1e-9, float(step))) or [0.0]
    title = (_("{endpoint} by {grouping}").format(endpoint=what,
                                                  grouping=_ui.group_label(by).lower())
             if by else what)
    subtitle = v.subtitle()
    _ui.show_chart(
        lambda: charts.km_chart(km, show_ci=show_ci, font_size=v.font_size, title=title,
                                subtitle=subtitle, answer=box, group_labels=names,
                                risk_times=breaks, median_lines=median_lines,
                                line_styles=line_styles, extended_risk=extended,
                                responsive=True),
        f"km_{endpoint}", options=(by, conf_type, show_ci, step, extended, median_lines,
                                   line_styles), stretch=True, endpoint=endpoint,
        method=km.method)
    st.caption(km.method + (" " + _("Hazard ratios: {method}, each group against {reference}.")
                            .format(method=cox.method, reference=ref) if cox is not None else ""))
    for note in dict.fromkeys(km.notes + (cox.notes if cox is not None else ())):  # once each
        st.info(note)
    # Results in words, from the results above, with a copy box one click away.
    copyable_sentence(report.survival_sentence(km, lr, cox))
    if by in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
        _ui.caution(_ui.NON_RANDOMISED)

    st.subheader(_("Summary"))
    rates = km.at([12.0, 24.0])
    table = pd.DataFrame({
        _("Group"): shown,
        _("Patients"): summary["n"],
        _("Events"): summary["events"],
        _("Median, months (95% CI)"): [
            _ui.fmt_median(m, lo, hi) for m, lo, hi in
            zip(summary["median"], summary["median_lower"], summary["median_upper"],
                strict=True)],
    })
    if compare:
        hrs = [hr_of(g) for g in summary["group"]]
        table[_("HR vs {reference} (95% CI)").format(reference=ref)] = [h for h, _p in hrs]
        table["p"] = [p for _h, p in hrs]
    for t in (12.0, 24.0):
        r = rates[rates["time"] == t]
        by_group = {str(g): (s, lo, hi) for g, s, lo, hi in
                    zip(r["group"], r["survival"], r["lower"], r["upper"], strict=True)}
        table[_("{months}-month rate, % (95% CI)").format(months=int(t))] = [
            _ui.fmt_rate(*by_group.get(str(g), (np.nan, np.nan, np.nan)))
            for g in summary["group"]]
    _ui.show_table(table, f"km_summary_{endpoint}")
    st.caption(_(_ui.NE_FOOTNOTE) + " "
               + _("Median CI: where the pointwise band crosses 50% (R quantile.survfit).")
               + (" " + _("Log-rank p = {p}.").format(p=_ui.fmt_p(lr.p_value))
                  if lr is not None else ""))

    if lr is not None:
        st.subheader(_("Log-rank test"))
        st.markdown(_("Chi-square = **{statistic}** on {df} df, p = **{p}**").format(
            statistic=f"{lr.statistic:.3f}", df=lr.dof, p=_ui.fmt_p(lr.p_value)))
        lr_table = pd.DataFrame({
            _("Group"): [names.get(str(g), str(g)) for g in lr.table["group"]],
            _("Patients"): lr.table["n"],
            _("Observed events"): lr.table["observed"].round(0).astype(int),
            _("Expected events"): lr.table["expected"].round(2),
        })
        _ui.show_table(lr_table, f"logrank_{endpoint}")
        st.caption(lr.method)
        if summary.shape[0] > 2:
            st.subheader(_("Pairwise log-rank (Holm-adjusted)"))
            pw = _ui.compute(pairwise_logrank, endpoint, by, adjust="holm")
            if pw is not None:
                _ui.show_table(pd.DataFrame({
                    _("Group"): [names.get(str(a), str(a)) for a in pw["group_a"]],
                    _("versus"): [names.get(str(b), str(b)) for b in pw["group_b"]],
                    _("Chi-square"): pw["statistic"].round(3),
                    "p": [_ui.fmt_p(p) for p in pw["p_value"]],
                    _("p (Holm)"): [_ui.fmt_p(p) for p in pw["p_adjusted"]],
                }), f"pairwise_logrank_{endpoint}")
                st.caption(pw.attrs.get("method", ""))

    rmst_section(endpoint, by, names, ref, float(km.curve["time"].max()))
