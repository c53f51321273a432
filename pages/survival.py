"""Survival: Kaplan-Meier curves, log-rank, medians, landmark rates, RMST; cumulative incidence
and landmark analysis (pages/_tte)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hcc_core import charts, fit_cox, fit_km, logrank_test, pairwise_logrank, report, rmst
from hcc_core import schema as S
from pages import _tte, _ui

v = _ui.view()
st.title("Survival")
st.caption(f"{v.source_label} · n = {len(v.df)} after filters")

ENDPOINT_LABELS = _ui.ENDPOINT_LABELS
CI_TYPES = {"log-log": "log-log (default)", "log": "log (R survfit default)", "plain": "plain"}
by_options = [c for c in S.GROUP_COLUMNS if c in v.df.columns] + [None]
analysis = _tte.analysis_choice()
if analysis == _tte.CUMULATIVE_INCIDENCE:
    _tte.cumulative_incidence_section(v, by_options)
    st.stop()

c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
endpoint = c1.radio("Endpoint", list(ENDPOINT_LABELS), format_func=ENDPOINT_LABELS.get,
                    **_ui.linked("surv_endpoint"))
by = c2.selectbox("Compare by", by_options, **_ui.linked("surv_by"),
                  format_func=lambda c: "Whole cohort" if c is None else _ui.group_label(c))
conf_type = c3.selectbox("Confidence interval", list(CI_TYPES), format_func=CI_TYPES.get,
                         **_ui.linked("surv_ci"))
show_ci = c4.toggle("CI bands", value=True, **_ui.linked("surv_band"))
if analysis == _tte.LANDMARK:
    _tte.landmark_section(v, endpoint, by, conf_type, show_ci)
    st.stop()

km = _ui.compute(fit_km, endpoint, by=by, conf_type=conf_type)
if km is not None:
    lr = _ui.compute(logrank_test, endpoint, by) if by is not None else None
    p_text = f"Log-rank p = {_ui.fmt_p(lr.p_value)}" if lr is not None else None
    st.subheader(ENDPOINT_LABELS[endpoint])
    _ui.show_chart(lambda: charts.km_chart(km, show_ci=show_ci, p_value_text=p_text,
                                           font_size=v.font_size),
                   f"km_{endpoint}", options=(by, conf_type, show_ci), endpoint=endpoint,
                   method=km.method)
    st.caption(km.method)
    for note in km.notes:
        st.info(note)
    # Results in words, from the results above (the copy button is on the box's right).
    hr = _ui.compute(fit_cox, endpoint, (by,)) if lr is not None else None
    st.code(report.survival_sentence(km, lr, hr), language=None, wrap_lines=True)

    summary = km.summary
    rates = km.at([12.0, 24.0])
    table = pd.DataFrame({
        "Group": summary["group"].astype(str),
        "n": summary["n"],
        "Events": summary["events"],
        "Median, months (95% CI)": [
            f"{_ui.fmt_num(m)} ({_ui.fmt_num(lo)}-{_ui.fmt_num(hi)})"
            for m, lo, hi in zip(summary["median"], summary["median_lower"],
                                 summary["median_upper"], strict=True)],
    })
    for t in (12.0, 24.0):
        r = rates[rates["time"] == t].set_index(rates[rates["time"] == t]["group"].astype(str))
        table[f"{int(t)}-month rate (95% CI)"] = [
            f"{100 * r.loc[g, 'survival']:.1f}% ({100 * r.loc[g, 'lower']:.1f}-"
            f"{100 * r.loc[g, 'upper']:.1f})" if g in r.index else "-"
            for g in table["Group"]]
    _ui.show_table(table, f"km_summary_{endpoint}")
    st.caption("NR = not reached. Median CI: where the pointwise band crosses 0.5 "
               "(R quantile.survfit).")

    small = summary[(summary["n"] < 10) | (summary["events"] < 5)]
    if len(small):
        _ui.caution("Small groups: " + ", ".join(
            f"{g} (n = {n}, {e} events)" for g, n, e in
            zip(small["group"], small["n"], small["events"], strict=True))
            + ". Estimates are unstable with fewer than 10 patients or 5 events per group.")
    if by in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
        _ui.caution(_ui.NON_RANDOMISED)

    if lr is not None:
        st.subheader("Log-rank test")
        st.markdown(f"Chi-square = **{lr.statistic:.3f}** on {lr.dof} df, "
                    f"p = **{_ui.fmt_p(lr.p_value)}**")
        _ui.show_table(lr.table, f"logrank_{endpoint}")
        st.caption(lr.method)
        if summary.shape[0] > 2:
            st.subheader("Pairwise log-rank (Holm-adjusted)")
            pw = _ui.compute(pairwise_logrank, endpoint, by, adjust="holm")
            if pw is not None:
                _ui.show_table(pw, f"pairwise_logrank_{endpoint}")
                st.caption(pw.attrs.get("method", ""))

    st.subheader("Restricted mean survival time")
    max_t = float(km.curve["time"].max())
    tau = st.number_input("Horizon tau (months)", min_value=1.0,
                          max_value=max(1.0, round(max_t, 1)),
                          value=min(24.0, max(1.0, round(max_t, 1))), step=1.0,
                          **_ui.linked("surv_tau"))
    if by is not None:
        rm = _ui.compute(rmst, endpoint, by, tau)
        if rm is not None:
            _ui.show_table(rm, f"rmst_{endpoint}")
            st.caption(rm.attrs.get("method", ""))
            st.caption("RMST = area under the Kaplan-Meier curve up to tau, i.e. the mean "
                       "survival time restricted to tau months (R: print(survfit, rmean = tau)). "
                       "The paper's 'mean OS' is reported as a median; RMST is the honest mean.")
