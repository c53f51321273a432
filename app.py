"""HCC Cohort Explorer: entry point.

Page config, the shared sidebar (data source, filters, live n, URL sync) and navigation over
the pages in ``pages/``. The sidebar lives here so it survives page switches.
"""

from __future__ import annotations

import streamlit as st

from hcc_core import (
    Filters,
    apply_filters,
    describe_filters,
    format_group_counts,
    ignored_filters,
    load_cohort,
    report,
    suppression,
)
from hcc_core import schema as S
from hcc_core.i18n import N_, _
from pages import _ui
from pages._ui import auth, lang, pack, reclaim
from pages._ui.uploads_in_memory import keep_uploads_in_memory

lang.begin()  # before anything renders: every string below reads in the chosen language

st.set_page_config(page_title=_("HCC Cohort Explorer"), page_icon=":material/monitoring:",
                   layout="wide")

PAGES = [
    st.Page("pages/overview.py", title=_("Overview"), icon=":material/dashboard:", default=True),
    st.Page("pages/survival.py", title=_("Survival"), icon=":material/show_chart:"),
    st.Page("pages/cox.py", title=_("Cox regression"), icon=":material/functions:"),
    st.Page("pages/adjusted.py", title=_("Adjusted comparison"), icon=":material/balance:"),
    st.Page("pages/baseline.py", title=_("Baseline (Table 1)"), icon=":material/table:"),
    st.Page("pages/response.py", title=_("Response"), icon=":material/target:"),
    st.Page("pages/safety.py", title=_("Safety"), icon=":material/health_and_safety:"),
    st.Page("pages/paper_check.py", title=_("Paper check"), icon=":material/fact_check:"),
    st.Page("pages/report.py", title=_("Report"), icon=":material/summarize:"),
    st.Page("pages/upload.py", title=_("Upload data"), icon=":material/upload_file:"),
]
# Data source codes: the radio's values (its labels are translated by format_func).
DEMO, UPLOAD = "demo", "upload"
MODALITY_LABELS = _ui.MODALITY_LABELS
AFP_CHOICES = {"any": None, ">= 400 ng/mL": True, "< 400 ng/mL": False}
AFP_ANY = N_("any")


@st.cache_data(show_spinner=False)
def _demo_cohort(path: str, mtime: float):
    # The demo file is the same for everyone, so a global cache is safe here.
    return load_cohort(path)


def _source():
    """Return (cohort, data_key, label, is_demo) for the chosen data source."""
    upload = st.session_state.get("upload")
    options = [DEMO] + ([UPLOAD] if upload else [])
    if st.session_state.pop("_select_upload", False) and upload:
        st.session_state["source"] = UPLOAD
    if st.session_state.get("source") not in options:
        st.session_state["source"] = UPLOAD if upload else DEMO
    # Name the uploaded file, so that after a failed upload the sidebar still says which
    # cohort the analyses use.
    uploaded = _("Uploaded: {name}").format(name=upload["name"]) if upload else ""
    choice = st.sidebar.radio(
        _("Data source"), options, key="source",
        format_func=lambda o: uploaded if o == UPLOAD else _("Synthetic demo cohort (95 patients)"))
    if choice == UPLOAD and upload:
        return upload["cohort"], upload["key"], uploaded, False
    cohort = _demo_cohort(str(_ui.DEMO_PATH), _ui.DEMO_PATH.stat().st_mtime)
    return cohort, cohort.sha256, _("Synthetic demo cohort"), True


def _init_from_url() -> None:
    """On a session's first run, seed the filter widgets from the URL query string."""
    if st.session_state.get("_url_loaded"):
        return
    st.session_state["_url_loaded"] = True
    f = Filters.from_query_params(dict(st.query_params))
    st.session_state["f_modality"] = list(f.local_modalities)
    st.session_state["f_child_pugh"] = list(f.child_pugh_classes)
    st.session_state["f_bclc"] = list(f.bclc_stages)
    st.session_state["f_tumor"] = list(f.tumor_numbers)
    st.session_state["f_albi"] = list(f.albi_grades)
    st.session_state["f_afp"] = next(k for k, v in AFP_CHOICES.items() if v == f.afp_high)
    if f.age_min is not None or f.age_max is not None:
        st.session_state["f_age_url"] = (f.age_min, f.age_max)


FILTER_COLUMNS = (S.LOCAL_MODALITY, S.CHILD_PUGH_CLASS, S.BCLC_STAGE, S.TUMOR_NUMBER,
                  S.ALBI_GRADE)


def _filter_levels(data, data_key: str) -> dict[str, list]:
    """Each level filter's options: one pass over every row per loaded data set and session,
    not per rerun (0.2 s at 100,000 rows)."""
    return _ui.remember((data_key, "filter_levels"), lambda: {
        c: S.levels_of(data, c) for c in FILTER_COLUMNS if c in data.columns})


def _multiselect(where, label: str, column: str, key: str, levels: dict, fmt=str) -> tuple:
    """A level filter on ``column``; () when the cohort lacks the column (no filter)."""
    if column not in levels:
        return ()
    options = levels[column]
    # Changing the upload drops selections that no longer apply.
    kept = [v for v in st.session_state.get(key, []) if v in options]
    if kept != st.session_state.get(key, []):
        st.session_state[key] = kept
    return tuple(where.multiselect(label, options, key=key, format_func=fmt,
                                   placeholder=_("All")))


def _age_range(where, data) -> tuple[float | None, float | None]:
    if S.AGE not in data.columns or not data[S.AGE].notna().any():
        return None, None
    lo, hi = int(data[S.AGE].min()), int(data[S.AGE].max()) + 1
    seeded = st.session_state.pop("f_age_url", None)
    if seeded is not None:
        st.session_state["f_age"] = (max(lo, int(seeded[0] or lo)), min(hi, int(seeded[1] or hi)))
    cur = st.session_state.get("f_age")
    if cur is None or not (lo <= cur[0] <= cur[1] <= hi):
        st.session_state["f_age"] = (lo, hi)
    a, b = where.slider(_("Age (years)"), lo, hi, key="f_age")
    return (None, None) if (a, b) == (lo, hi) else (float(a), float(b))


def _filters(data, data_key: str) -> Filters:
    _init_from_url()
    levels = _filter_levels(data, data_key)
    side = st.sidebar
    side.subheader(_("Filters"))
    modal = _multiselect(side, _("Local modality"), S.LOCAL_MODALITY, "f_modality", levels,
                         lambda v: MODALITY_LABELS.get(v, v))
    cp = _multiselect(side, _("Child-Pugh class"), S.CHILD_PUGH_CLASS, "f_child_pugh", levels)
    bclc = _multiselect(side, _("BCLC stage"), S.BCLC_STAGE, "f_bclc", levels)
    more = side.expander(_("More filters"))
    tumor = _multiselect(more, _("Tumour number"), S.TUMOR_NUMBER, "f_tumor", levels)
    afp = None
    if S.AFP in data.columns:
        afp = AFP_CHOICES[more.radio("AFP", list(AFP_CHOICES), key="f_afp", horizontal=True,
                                     format_func=lambda k: _(AFP_ANY) if k == "any" else k)]
    albi = _multiselect(more, _("ALBI grade"), S.ALBI_GRADE, "f_albi", levels)
    age_min, age_max = _age_range(more, data)
    return Filters(local_modalities=modal, child_pugh_classes=cp, bclc_stages=bclc,
                   tumor_numbers=tumor, afp_high=afp, albi_grades=albi,
                   age_min=age_min, age_max=age_max)


FILTER_PARAMS = ("modality", "child_pugh", "bclc", "tumor_number", "albi", "afp", "age_min",
                 "age_max")


def _filters_to_url(filters: Filters) -> None:
    """Mirror the filters in the URL so a link reproduces this view (no patient data in it).

    Only the filter parameters are touched: the pages' settings are in the URL too
    (``_ui.linked``), and Streamlit forbids writing those directly.
    """
    params = filters.to_query_params()
    for name in FILTER_PARAMS:
        if name in params and st.query_params.get_all(name) != [params[name]]:
            st.query_params[name] = params[name]
        elif name not in params and name in st.query_params:
            del st.query_params[name]


def _population(filters: Filters) -> str:
    """The filters in words for chart subtitles: 'Child-Pugh class A; BCLC stage C'."""
    words = describe_filters(filters)
    if filters.local_modalities:  # 'none' reads 'systemic only'
        words[0] = _("local modality {levels}").format(levels=_(" or ").join(
            MODALITY_LABELS.get(m, m) for m in filters.local_modalities))
    return "; ".join(words) if words else _("All patients")


def sidebar(page: str, sign_in: bool) -> None:
    st.sidebar.title(_("HCC Cohort Explorer"))
    lang.switch(st.sidebar)
    auth.account_box(sign_in)
    cohort, data_key, label, is_demo = _source()
    full = cohort.data
    filters = _filters(full, data_key)
    fingerprint = report.fingerprint(data_key)
    auth.note_upload(st.session_state.get("upload"), fingerprint)
    auth.note_view(page, filters.to_query_params(), fingerprint)
    df = apply_filters(full, filters)
    count_line = st.sidebar.empty()  # filled below, once the suppression switch is read
    for note in ignored_filters(full, filters):
        st.sidebar.caption(note)
    if is_demo:
        st.sidebar.caption(_("Synthetic demo cohort: simulated patients calibrated to Xia et "
                             "al., Hepat Mon 2026. Not real patient data."))
    presentation = st.sidebar.toggle(_("Presentation mode (larger text)"),
                                     **_ui.linked("presentation"))
    k = suppression.DEFAULT_K
    hide_small = st.sidebar.toggle(
        _("Hide counts below {k} (for sharing)").format(k=k),
        help=_("Small-cell suppression: tables, sentences, numbers at risk and every download "
               "show counts of 1 to {last} patients as <{k}, and say so; a chart drawn from such "
               "counts, or a difference that would give one back, is not shown.").format(
                   last=k - 1, k=k),
        **_ui.linked("suppress"))
    suppression.set_suppression(suppression.DEFAULT_K if hide_small else None)
    count_line.markdown(f"**{format_group_counts(df, full)}**")
    _filters_to_url(filters)
    pack.link_data_check(data_key)
    view = _ui.View(df=df, full=full, data_key=data_key, filters_key=repr(filters),
                    source_label=label, is_demo=is_demo, font_size=20 if presentation else 14,
                    population=_population(filters), presentation=presentation,
                    user=auth.user_id())
    _ui.set_view(view)
    pack.download_buttons(st.sidebar, view)
    if presentation:
        # Projector mode: every text at least 20 px (rem-based sizes scale with the root; the
        # rest is listed); tables are static HTML (_ui.show_table).
        st.html("""<style>
html { font-size: 20px; }
.stApp :is(p, li, label, td, th, code, small, input, textarea, button, summary, a, span,
           div[data-baseweb="select"] div, [data-testid="stCaptionContainer"],
           [data-testid="stWidgetLabel"] *, [data-testid="stTable"] *) {
  font-size: max(20px, 1em);
}
.stApp :is(h1, h2, h3, h4) span { font-size: inherit; }
[data-testid="stMainBlockContainer"] { padding-top: 4.2rem; }
[data-testid="stMain"] h1 { font-size: 1.8rem; padding-top: 0; }
[data-testid="stTable"] table { table-layout: fixed; width: 100%; }
[data-testid="stMultiSelectTagsContainer"] {
  flex-wrap: wrap; overflow: visible; mask-image: none; -webkit-mask-image: none;
}
[data-testid="stMultiSelect"] :has([data-testid="stMultiSelectTagsContainer"]) {
  height: auto; max-height: none;
}
[data-testid="stTable"] :is(td, th) { overflow-wrap: anywhere; white-space: normal; }
</style>""")


def main() -> None:
    reclaim.start()  # once per server process: ended sessions' memory goes back on an idle server
    keep_uploads_in_memory()  # an upload is never spooled to /tmp on its way in
    # Before sign-in (when it is configured) the session gets the sign-in prompt and nothing
    # else: no page list, no sidebar, no data.
    sign_in = auth.required()  # once per run: it looks for the secrets files on disk
    locked = sign_in and not auth.signed_in()
    current = st.navigation(PAGES, position="hidden" if locked else "sidebar")
    wanted = _ui.wanted_page()
    if wanted:  # a deep link that legacy routing sent to a page before navigation existed
        # Before any widget binds its URL parameter (bound parameters cannot be passed on).
        st.switch_page(wanted, query_params=_ui.query_string())
    if not auth.gate(sign_in):
        st.stop()
    sidebar(current.title, sign_in)
    with _ui.app_run():
        try:
            current.run()
        except Exception as exc:  # Streamlit shows its generic message; the trail records it
            auth.note_error(current.title, type(exc).__name__)
            raise


# Streamlit runs this file as __main__. A child process of the upload parser
# (hcc_core.isolate, multiprocessing "forkserver") imports it again as __mp_main__: Python's
# "safe importing of the main module" rule, so the child neither runs the app (the sidebar,
# the demo cohort, a page) nor writes audit lines.
if __name__ == "__main__":
    main()
