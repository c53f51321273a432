"""Meeting-pack glue: the slides/report downloads, the stamp on every download, the data
fingerprint in the URL. No statistics here: ``hcc_core.report`` gathers the pages' results
(``collect_pack``) and lays them out (``build_slides``, ``build_report``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from hcc_core import COMPARE_BY, PAPER_COX_COVARIATES, Filters, report
from hcc_core import schema as S
from hcc_core.i18n import _, get_language

from . import auth, query_string, view
from .lang import keep_language

DATA_PARAM = "data"  # URL parameter: the data fingerprint a link was made with
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PACK = "_meeting_pack"
_LINK_DATA = "_link_data"


def filters() -> Filters:
    """The sidebar's filters: app.py mirrors them in the URL on every run."""
    return Filters.from_query_params(query_string())


def provenance(v=None) -> report.Provenance:
    """The stamp of the current view: population, n, data fingerprint, date, app version."""
    v = v or view()
    return report.make_provenance(
        filters(),
        n=len(v.df),
        n_total=len(v.full),
        source=v.source_label,
        sha256=v.data_key,
        is_demo=v.is_demo,
        population=getattr(v, "population", None),
    )


def settings(v=None) -> report.PackSettings:
    """The Survival and Cox pages' current choices (as they open, if never visited)."""
    v = v or view()
    state = st.session_state
    by = state.get("surv_by", S.TREATMENT_GROUP)
    covariates = state.get("cox_covariates")
    return report.PackSettings(
        by=by if by in v.df.columns else None,
        conf_type=state.get("surv_ci") or "log-log",
        cox_endpoint=state.get("cox_endpoint") or "os",
        covariates=tuple(PAPER_COX_COVARIATES if covariates is None else covariates),
        font_size=v.font_size,
        table_one_by=_grouping("t1", v),
        response_by=_grouping("resp", v),
        ae_by=_grouping("ae", v),
    )


def _grouping(prefix: str, v) -> tuple[str, bool]:
    """A table page's (compare by, Overall column), as pages/_ui/grouping.compare_by sets them."""
    options = [c for c in COMPARE_BY if c in v.df.columns] or list(COMPARE_BY)
    by = st.session_state.get(f"{prefix}_by")
    overall = st.session_state.get(f"{prefix}_overall")
    return (by if by in options else options[0], True if overall is None else bool(overall))


def current_pack() -> report.MeetingPack:
    """The pack of the current view, gathered once per (data, filters, settings) per session."""
    v = view()
    s = settings(v)
    key = (v.data_key, v.filters_key, s, get_language())  # the pack's words are in it
    held = st.session_state.get(_PACK)
    if held is None or held[0] != key:
        held = (key, report.collect_pack(v.df, provenance(v), s))
        st.session_state[_PACK] = held
    return held[1]


def download_buttons(
    where: Any = None, v: Any = None, pack: report.MeetingPack | None = None
) -> None:
    """The two buttons: "Download slides (.pptx)" and "Download report (.docx)".

    The files are built when clicked (on a separate thread, so from this run's values:
    the given ``pack``, else the view's data and settings), never on every rerun.
    """
    where = where or st.sidebar
    v = v or view()
    tag = filters()
    if pack is None:
        df, prov, s = v.df, provenance(v), settings(v)

        def make() -> report.MeetingPack:
            return report.collect_pack(df, prov, s)
    else:

        def make() -> report.MeetingPack:
            return pack

    suffix = "" if where is st.sidebar else "_page"
    for label, build, what, ext, mime, icon in (
        (_("Download slides (.pptx)"), report.build_slides, "slides", "pptx", PPTX_MIME,
         "slideshow"),
        (_("Download report (.docx)"), report.build_report, "report", "docx", DOCX_MIME,
         "description"),
    ):
        file_name = report.file_name(what, tag, ext)
        where.download_button(
            label,
            data=auth.audited_export(keep_language(lambda build=build: build(make())), ext,
                                     file_name, report.fingerprint(v.data_key), v.user),
            file_name=file_name,
            mime=mime,
            on_click="ignore",
            key=f"pack_{what}{suffix}",
            icon=f":material/{icon}:",
        )


def link_data_check(data_key: str) -> None:
    """Put the data fingerprint in the URL; say so when a link was made with other data.

    Call from app.py on every run, after the data source is known. The fingerprint a link
    carried is read once, on the session's first run.
    """
    mine = report.fingerprint(data_key)
    state = st.session_state
    if _LINK_DATA not in state:
        state[_LINK_DATA] = (str(st.query_params.get(DATA_PARAM) or mine), mine)
    linked, first = state[_LINK_DATA]
    if mine != first:  # the user has loaded other data since opening the link
        state[_LINK_DATA] = linked, first = mine, mine
    if linked != mine:
        st.warning(
            _("This link was made with different data (data fingerprint {linked}) from the "
              "data loaded now ({mine}). The link's filters and settings are applied, but the "
              "numbers you see come from the data loaded now, not from the data the link was "
              "made with. To see the link's numbers, load the same file (with the same column "
              "mapping) on the Upload data page.").format(linked=linked, mine=mine),
            icon=":material/link_off:",
        )
    if st.query_params.get(DATA_PARAM) != mine:
        st.query_params[DATA_PARAM] = mine


def stamped(
    build_spec: Callable[[], dict],
    *,
    title: str,
    endpoint: str | None = None,
    method: str | None = None,
) -> Callable[[], dict]:
    """A spec builder whose chart carries the title, population, n and stamp (downloads)."""
    prov = provenance()

    def spec() -> dict:
        return report.stamp_chart_spec(
            build_spec(), prov, title=title, endpoint=endpoint, method=method
        )

    return spec
