"""The floor under issue 19's browser targets: Streamlit with nothing but one Kaplan-Meier chart.

``python -m bench.browser`` runs this app beside the real one, with the same browser, the same
clicks and the same timing, so the report can tell what Streamlit's front end and one of our KM
charts cost on this machine from what the rest of our pages add. It is not part of the product.

The sidebar has the real app's five filter multiselects in the same order (the third and fourth
in a "More filters" expander) and the "n = x of y" line the benchmark waits for; the page has a
title and the overall-survival KM chart by treatment group of the filtered demo cohort, computed
on every run (no cache), as a never-seen filter state is in the real app.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from hcc_core import apply_filters, charts, fit_km, load_cohort
from hcc_core import schema as S
from hcc_core.cohort import Filters

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_cohort.csv"


@st.cache_resource
def _demo():
    return load_cohort(DEMO).data


def _survival() -> None:
    df = _demo()
    side = st.sidebar

    def pick(where, label: str, column: str) -> tuple:
        return tuple(where.multiselect(label, S.levels_of(df, column), placeholder="All"))

    modality = pick(side, "Local modality", S.LOCAL_MODALITY)
    child_pugh = pick(side, "Child-Pugh class", S.CHILD_PUGH_CLASS)
    bclc = pick(side, "BCLC stage", S.BCLC_STAGE)
    more = side.expander("More filters")
    tumor = pick(more, "Tumour number", S.TUMOR_NUMBER)
    albi = pick(more, "ALBI grade", S.ALBI_GRADE)
    shown = apply_filters(df, Filters(local_modalities=modality, child_pugh_classes=child_pugh,
                                      bclc_stages=bclc, tumor_numbers=tumor, albi_grades=albi))
    side.markdown(f"n = {len(shown):,} of {len(df):,} patients")
    st.title("Survival")
    km = fit_km(shown, "os", by=S.TREATMENT_GROUP)
    t_end = float(km.curve["time"].max()) if len(km.curve) else 0.0
    breaks = [6.0 * i for i in range(int(t_end // 6) + 1)]  # the real page's default
    st.vega_lite_chart(charts.km_chart(km, risk_times=breaks, responsive=True), theme=None,
                       width="stretch")


st.navigation([st.Page(_survival, title="Survival", default=True)]).run()
