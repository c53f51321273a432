"""Survival page sections beyond Kaplan-Meier: cumulative incidence and landmark analysis.

Rendering only: every number comes from ``hcc_core`` through ``_ui.compute``. A package, not
``pages/_tte.py``, because Streamlit's legacy routing treats every ``pages/*.py`` as a page.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hcc_core import charts, cumulative_incidence, fit_finegray, gray_test, term_label
from hcc_core import schema as S
from hcc_core.cox.design import AFP_400, BCLC_AB_VS_C, LOG10_AFP
from hcc_core.formatting import format_hr_table
from hcc_core.i18n import N_, _
from hcc_core.landmark import landmark_survival
from pages import _ui

KAPLAN_MEIER, CUMULATIVE_INCIDENCE, LANDMARK = "Kaplan-Meier", "Cumulative incidence", "Landmark"
ANALYSES = (KAPLAN_MEIER, CUMULATIVE_INCIDENCE, LANDMARK)
CIF_ENDPOINTS = _ui.Translated({
    "ttp": N_("Progression (death without progression competes)"),
    "hcc_death": N_("HCC-related death (other deaths compete)"),
})
# The analysis codes are the radio's values (in the URL); these are their labels.
ANALYSIS_LABELS = _ui.Translated({KAPLAN_MEIER: "Kaplan-Meier",
                                  CUMULATIVE_INCIDENCE: N_("Cumulative incidence"),
                                  LANDMARK: N_("Landmark")})
# Simon-Makuch curves: hcc_core.timedep.LOCAL_STATES, the patient's state before / after the start.
LOCAL_STATE_LABELS = _ui.Translated({"systemic only": N_("systemic only"),
                                     "local therapy": N_("local therapy")})
CIF_COLUMN = {"ttp": S.PROGRESSION_EVENT, "hcc_death": S.DEATH_CAUSE}
RATE_TIMES = (12.0, 24.0)


def analysis_choice() -> str:
    """The 'Kaplan-Meier / Cumulative incidence / Landmark' switch at the top of the page."""
    return st.radio(_("Analysis"), ANALYSES, horizontal=True, format_func=ANALYSIS_LABELS.get,
                    **_ui.linked("surv_analysis", ANALYSES))


def _ci_text(est: float, lo: float, hi: float) -> str:
    if not pd.notna(est):
        return "-"
    return f"{100 * est:.1f}% ({100 * lo:.1f}-{100 * hi:.1f})"


def _by_label(c: str | None) -> str:
    return _("Whole cohort") if c is None else _ui.group_label(c)


def cumulative_incidence_section(v: _ui.View, by_options: list) -> None:
    """Cumulative incidence curves, Gray's test and the Fine-Gray subdistribution HR."""
    c1, c2, c3 = st.columns([3, 2, 1])
    endpoint = c1.radio(_("Event"), list(CIF_ENDPOINTS), format_func=CIF_ENDPOINTS.get,
                        **_ui.linked("cif_endpoint", CIF_ENDPOINTS))
    by = c2.selectbox(_("Compare by"), by_options, format_func=_by_label, **_ui.linked("surv_by", by_options))
    show_ci = c3.toggle(_("CI bands"), value=True, **_ui.linked("surv_band"))
    if CIF_COLUMN[endpoint] not in v.df.columns:
        st.info(_(
            "This cohort has no '{column}' column, so the competing events cannot be told "
            "apart. Add it to your file (see the data dictionary) to see this analysis."
        ).format(column=CIF_COLUMN[endpoint]))
        return
    cif = _ui.compute(cumulative_incidence, endpoint, by)
    if cif is None:
        return
    gray = _ui.compute(gray_test, endpoint, by) if by is not None and len(cif.groups) > 1 else None
    fg = _ui.compute(fit_finegray, endpoint, (by,)) if gray is not None else None
    answer = []
    if fg is not None and len(fg.table) == 1:
        row = fg.table.iloc[0]
        answer.append(f"SHR {row['shr']:.2f} ({row['shr_lower']:.2f}-{row['shr_upper']:.2f})")
    if gray is not None:
        answer.append(_("Gray's p = {p}").format(p=_ui.fmt_p(gray.p_value)))
    st.subheader(CIF_ENDPOINTS[endpoint])
    _ui.show_chart(
        lambda: charts.cif_chart(cif, show_ci=show_ci, p_value_text=" · ".join(answer) or None,
                                 font_size=v.font_size,
                                 group_labels=_ui.group_names(by, cif.summary["group"])),
        f"cif_{endpoint}", options=(by, show_ci),
    )
    st.caption(cif.method)
    for note in cif.notes:
        st.info(note)

    summary = cif.summary
    rates = cif.at(list(RATE_TIMES))
    table = pd.DataFrame({
        _("Group"): summary["group"].map(lambda g: _ui.level_label(by, g)),
        "n": summary["n"],
        _("Events"): summary["events"],
        _("Competing events"): summary["competing_events"],
        _("Censored"): summary["censored"],
    })
    for t in RATE_TIMES:
        r = rates[rates["time"] == t].set_index("group")
        table[_("{months}-month cumulative incidence (95% CI)").format(months=int(t))] = [
            _ci_text(r.loc[g, "cif"], r.loc[g, "lower"], r.loc[g, "upper"])
            for g in summary["group"]
        ]
    _ui.show_table(table, f"cif_summary_{endpoint}")
    st.caption(_(
        "Cumulative incidence = probability of the event by that time when a competing event "
        "can happen first; one minus a Kaplan-Meier curve that censors competing events "
        "overstates it. '-' = after the group's last follow-up."
    ))
    if gray is not None:
        st.subheader(_("Gray's test"))
        st.markdown(_("Chi-square = **{statistic}** on {df} df, p = **{p}**").format(
            statistic=f"{gray.statistic:.3f}", df=gray.dof, p=_ui.fmt_p(gray.p_value)))
        tests = gray.table.assign(cause=gray.table["cause"].map(
            {"event": _("Event of interest"), "competing": _("Competing event")}))
        _ui.show_table(tests.rename(columns={"cause": _("Cause"), "statistic": _("Chi-square"),
                                             "dof": "df", "p_value": "p"}),
                       f"gray_{endpoint}")
        st.caption(gray.method)
    if fg is not None:
        st.subheader(_("Fine-Gray model (subdistribution hazard ratio)"))
        shown = pd.DataFrame({
            _("Term"): fg.table["term"],
            "SHR": fg.table["shr"].round(3),
            _("95% CI"): [f"{lo:.2f}-{hi:.2f}" for lo, hi in
                       zip(fg.table["shr_lower"], fg.table["shr_upper"], strict=True)],
            "p": fg.table["p_value"].map(_ui.fmt_p),
        })
        _ui.show_table(shown, f"finegray_{endpoint}")
        st.caption(fg.method + ". " + _("n = {n}, {events} events, {competing} competing "
                                        "events.").format(n=fg.n, events=fg.events,
                                                          competing=fg.competing_events))
        for note in fg.notes:
            st.info(note)
    if by in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
        _ui.caution(_ui.NON_RANDOMISED)


def landmark_section(v: _ui.View, endpoint: str, by: str | None, conf_type: str,
                     show_ci: bool) -> None:
    """Kaplan-Meier and log-rank of the patients still at risk at the landmark."""
    col, _space = st.columns([1, 2])
    at = col.number_input(_("Landmark (months after the start of systemic therapy)"),
                          min_value=0.0, max_value=60.0, value=3.0, step=1.0,
                          **_ui.linked("landmark_at"))
    res = _ui.compute(landmark_survival, endpoint, float(at), by, conf_type=conf_type)
    if res is None:
        return
    km, lr = res.km, res.logrank
    st.subheader(_("{endpoint} from the {months}-month landmark").format(
        endpoint=_ui.ENDPOINT_LABELS[endpoint], months=f"{at:g}"))
    p_text = _("Log-rank p = {p}").format(p=_ui.fmt_p(lr.p_value)) if lr is not None else None
    _ui.show_chart(
        lambda: charts.km_chart(km, show_ci=show_ci, p_value_text=p_text,
                                x_title=_("Months after the {months}-month landmark").format(
                                    months=f"{at:g}"),
                                font_size=v.font_size,
                                group_labels=_ui.group_names(by, km.summary["group"])),
        f"landmark_{endpoint}", options=(by, conf_type, show_ci, float(at)),
    )
    st.caption(res.method)
    for note in res.notes:
        st.info(note)
    summary = km.summary
    table = pd.DataFrame({
        _("Group"): summary["group"].map(lambda g: _ui.level_label(by, g)),
        _("At risk at the landmark"): summary["n"],
        _("Events after it"): summary["events"],
        _("Median from the landmark, months (95% CI)"): [
            f"{_ui.fmt_num(m)} ({_ui.fmt_num(lo)}-{_ui.fmt_num(hi)})"
            for m, lo, hi in zip(summary["median"], summary["median_lower"],
                                 summary["median_upper"], strict=True)],
    })
    _ui.show_table(table, f"landmark_summary_{endpoint}")
    st.caption(_(
        "A landmark analysis compares only the patients still at risk at the landmark, with "
        "time counted from it; it avoids crediting early survival to a group that patients "
        "join later. NR = not reached."
    ))
    if lr is not None:
        st.markdown(_("Log-rank chi-square = **{statistic}** on {df} df, p = **{p}**").format(
            statistic=f"{lr.statistic:.3f}", df=lr.dof, p=_ui.fmt_p(lr.p_value)))


# ---- Cox page: local therapy in time, hazard ratios that change over time ----------------------
# the column each derived covariate is computed from
DERIVED_SOURCE = {BCLC_AB_VS_C: S.BCLC_STAGE, LOG10_AFP: S.AFP, AFP_400: S.AFP}


def _adjusters(df: pd.DataFrame, covariates) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Baseline covariates usable by the (start, stop] models, and the ones left out (their
    column, or the column a derived covariate such as log10 AFP comes from, is missing)."""
    usable, skipped = [], []
    for c in covariates:
        if c in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
            continue
        source = DERIVED_SOURCE.get(c, c)
        (usable if source in df.columns else skipped).append(c)
    return tuple(usable), tuple(skipped)


def _names(columns) -> str:
    return ", ".join(term_label(c) for c in columns) or _("nothing")


def _hr_text(row) -> str:
    return f"{row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f}), p = {_ui.fmt_p(row['p_value'])}"


def time_dependent_section(v: _ui.View, endpoint: str, covariates) -> None:
    """Local therapy as a time-dependent exposure beside the naive HR, and Simon-Makuch curves."""
    from hcc_core.cox.time_to_event import fit_time_dependent_cox
    from hcc_core.timedep import simon_makuch

    if S.LOCAL_START_MONTHS not in v.df.columns:
        st.info(_("This cohort has no 'local_start_months' (or 'local_start_date') column, so "
                  "local therapy cannot be placed in time. Add it to your file to see this "
                  "analysis."))
        return
    adjust, skipped = _adjusters(v.df, covariates)
    res = _ui.compute(fit_time_dependent_cox, endpoint, adjust)
    if res is None:
        return
    td, naive = res.local_hr, res.naive_hr
    st.markdown(_("**Local therapy as it starts (time-dependent): HR {hr}**").format(
                    hr=_hr_text(td)) + "  \n"
                + _("Naive, local+systemic group from month 0: HR {hr}").format(
                    hr=_hr_text(naive)))
    st.info(_(res.immortal_time_note))
    st.caption(res.method + ". " + _("{n} patients ({rows} periods), {events} events; "
                                     "adjusted for: {covariates}.").format(
        n=res.n, rows=res.n_rows, events=res.events, covariates=_names(adjust)))
    if skipped:
        st.caption(_("Covariates not used in this model (their column is missing): "
                     "{covariates}.").format(covariates=_names(skipped)))
    for note in res.notes:
        st.info(note)
    parts, notes = [], []
    for model, fit in ((_("Time-dependent"), res.table), (_("Naive"), res.naive_table)):
        shown = format_hr_table(fit, {t: term_label(t) for t in fit.index})
        shown.insert(0, _("Model"), model)
        parts.append(shown)
        notes += shown.attrs["notes"]
    numbers = pd.concat({"time-dependent": res.table, "naive": res.naive_table},
                        names=["model"]).reset_index()  # the download keeps the numbers
    _ui.show_table(pd.concat(parts, ignore_index=True), f"cox_time_dependent_{endpoint}",
                   export_df=numbers, endpoint=endpoint, method=res.method)
    for note in dict.fromkeys(notes):
        st.caption(note)
    sm = _ui.compute(simon_makuch, endpoint)
    if sm is not None:
        st.subheader(_("Simon-Makuch curves"))
        _ui.show_chart(lambda: charts.km_chart(sm, font_size=v.font_size,
                                               group_labels=dict(LOCAL_STATE_LABELS)),
                       f"simon_makuch_{endpoint}")
        st.caption(sm.method + ". " + _("Patients move from the first curve to the second "
                                        "when local therapy starts; the numbers at risk can "
                                        "therefore rise."))


def piecewise_section(v: _ui.View, endpoint: str, covariates, ph_test: pd.DataFrame | None) -> None:
    """Treatment HR per period when the PH test flags the treatment, next to the RMST difference."""
    from hcc_core import rmst
    from hcc_core.cox.time_to_event import piecewise_hr

    st.subheader(_("Treatment hazard ratio by period"))
    term = S.TREATMENT_GROUP
    flagged = (ph_test is not None and term in ph_test.index
               and float(ph_test.loc[term, "p_value"]) < 0.05)
    if flagged:
        _ui.caution(_("The proportional-hazards test flags the treatment (cox.zph p = {p}): "
                      "one hazard ratio averages an effect that changes over time. "
                      "Period-specific hazard ratios and the difference in restricted mean "
                      "survival describe it better.").format(
                          p=_ui.fmt_p(float(ph_test.loc[term, 'p_value']))))
    elif not st.toggle(_("Show period-specific hazard ratios anyway"), value=False,
                       **_ui.linked("cox_piecewise")):
        st.caption(_("The proportional-hazards test does not flag the treatment, so one hazard "
                     "ratio summarises its effect."))
        return
    c1, c2, _space = st.columns([1, 1, 2])
    cut = c1.number_input(_("Split follow-up at (months)"), min_value=1.0, max_value=60.0,
                          value=12.0, step=1.0, **_ui.linked("cox_cut"))
    tau = c2.number_input(_("RMST horizon tau (months)"), min_value=1.0, max_value=120.0,
                          value=24.0, step=1.0, **_ui.linked("cox_tau"))
    adjust, _skipped = _adjusters(v.df, covariates)
    pw = _ui.compute(piecewise_hr, endpoint, adjust, (float(cut),))
    if pw is not None:
        shown = pw.table.assign(label=pw.table["period"])
        _ui.show_chart(lambda: charts.forest_chart(shown, font_size=v.font_size),
                       f"cox_piecewise_{endpoint}", options=(float(cut), adjust))
        periods = pw.table.set_index("period")
        table = format_hr_table(periods).rename(columns={_("Covariate"): _("Period")})
        table.insert(1, _("Events"), [int(e) for e in periods["events"]])
        _ui.show_table(table, f"cox_piecewise_{endpoint}", export_df=pw.table,
                       endpoint=endpoint, method=pw.method)
        for note in table.attrs.get("notes", ()):
            st.caption(note)
        st.caption(pw.method + "; " + _("adjusted for: {covariates}.").format(
            covariates=_names(adjust)))
        for note in pw.notes:
            st.info(note)
    rm = _ui.compute(rmst, endpoint, S.TREATMENT_GROUP, float(tau))
    if rm is not None and len(rm) > 1:
        row = rm.iloc[1]
        st.markdown(_(
            "RMST difference at {tau} months ({group} minus {versus}): **{difference} months** "
            "({lower} to {upper}), p = {p}").format(
                tau=f"{tau:g}", group=_ui.level_label(S.TREATMENT_GROUP, row['group']),
                versus=_ui.level_label(S.TREATMENT_GROUP, row['versus']),
                difference=f"{row['difference']:.2f}", lower=f"{row['difference_lower']:.2f}",
                upper=f"{row['difference_upper']:.2f}", p=_ui.fmt_p(row['p_value'])))
        st.caption(rm.attrs.get("method", ""))
