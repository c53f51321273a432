"""AppTest tests of every page on the demo cohort: they assert content, not just no exception."""

from __future__ import annotations

import re

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from hcc_core import fit_cox, load_cohort, logrank_test
from tests.conftest import DATA, ROOT

APP = str(ROOT / "app.py")
PAGES = ["pages/overview.py", "pages/survival.py", "pages/cox.py", "pages/adjusted.py",
         "pages/baseline.py", "pages/response.py", "pages/safety.py", "pages/paper_check.py",
         "pages/upload.py", "pages/report.py"]


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sidebar_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown)


def _n_line(at: AppTest) -> str:
    m = re.search(r"n = (\d+) of (\d+) patients \((\d+) systemic, (\d+) local\+systemic\)",
                  _sidebar_text(at).replace("*", ""))
    assert m, _sidebar_text(at)
    return m.group(0)


def _all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def _served_routing(request, monkeypatch):
    """Route pages as a running server does once app.py has called st.navigation.

    AppTest switches Streamlit's legacy ``pages/`` routing back on before every run (a real
    server keeps it off after its first st.navigation call), which would run page files
    without app.py and, on every rerun, reset the sidebar's widgets. Tests named
    ``..._legacy_...`` keep AppTest's legacy routing: a fresh server's first request, where a
    page hands over to app.py (pages/_ui.view). The app itself never reads this flag.
    """
    if "legacy" in request.node.name:
        return
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="module")
def demo():
    return load_cohort(DATA / "demo_cohort.csv").data


def test_sidebar_shows_whole_demo_cohort():
    at = _app()
    assert _n_line(at) == "n = 95 of 95 patients (39 systemic, 56 local+systemic)"
    source = at.sidebar.radio(key="source")
    assert source.value == "demo"  # a code: the label is in the chosen language
    assert source.format_func(source.value) == "Synthetic demo cohort (95 patients)"


def test_selecting_haic_updates_n_and_url(demo):
    at = _app()
    at.sidebar.multiselect(key="f_modality").set_value(["HAIC"]).run()
    n_haic = int((demo["local_modality"] == "HAIC").sum())
    assert _n_line(at) == f"n = {n_haic} of 95 patients (0 systemic, {n_haic} local+systemic)"
    assert at.query_params.get("modality") in ("HAIC", ["HAIC"]), at.query_params


def test_url_query_string_seeds_filters(demo):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["modality"] = "none"
    at.run()
    n_sys = int((demo["treatment_group"] == "systemic").sum())
    assert _n_line(at) == f"n = {n_sys} of 95 patients ({n_sys} systemic, 0 local+systemic)"


def test_survival_page_shows_hcc_core_logrank(demo):
    at = _app("pages/survival.py")
    lr = logrank_test(demo, "os", "treatment_group")
    text = _all_text(at)
    assert f"Chi-square = **{lr.statistic:.3f}**" in text
    p = "< 0.001" if lr.p_value < 0.001 else f"{lr.p_value:.3f}"
    assert f"p = **{p}**" in text
    assert "log-log" in text  # the CI method is stated where the clinician reads it


def test_baseline_page_shows_paper_male_count():
    at = _app("pages/baseline.py")
    table = at.dataframe[0].value
    assert table.astype(str).apply(lambda col: col.str.contains(r"35 \(89\.74\)")).any().any()


def test_response_page_shows_orr_counts():
    at = _app("pages/response.py")
    table = at.dataframe[0].value.astype(str)
    flat = " ".join(table.to_numpy().ravel())
    assert "8 (20.51)" in flat and "23 (41.07)" in flat


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page):
    at = _app(page)
    assert not at.exception
    assert at.title, f"{page} shows no title"


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("pages/upload.py")
    at.run()
    at.file_uploader(key="upload_file").set_value((name, content, "text/csv"))
    at.run()
    loads = [b for b in at.button if b.key == "upload_load"]
    if loads:  # the upload wizard's step 4 (absent when an earlier step stopped it)
        loads[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_unreadable_upload_shows_a_clear_message_and_keeps_the_demo():
    at = _upload(_app(), "scan.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert len(at.error) == 1
    message = at.error[0].value
    assert "scan.csv" in message and "PNG" in message
    assert _n_line(at) == "n = 95 of 95 patients (39 systemic, 56 local+systemic)"


def test_partial_cohort_loads_and_each_analysis_names_what_it_needs():
    content = b"patient_id,local_modality,age\nA1,none,60\nA2,HAIC,55\nA3,mTACE,70\n"
    at = _upload(_app(), "partial.csv", content)
    assert _n_line(at) == "n = 3 of 3 patients (1 systemic, 2 local+systemic)"
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'os_months'" in warnings and "'os_event'" in warnings


def test_safety_page_flags_grade_3_events():
    at = _app("pages/safety.py")
    assert [s.value for s in at.success] == [
        "No grade >= 3 adverse event was recorded in this cohort."]
    demo = (DATA / "demo_cohort.csv").read_text(encoding="utf-8").splitlines()
    header = demo[0].split(",")
    first = demo[1].split(",")
    first[header.index("ae_rash")] = "3"
    group = first[header.index("treatment_group")]
    content = "\n".join([demo[0], ",".join(first), *demo[2:]]).encode()
    at = _upload(_app(), "severe.csv", content)
    at.switch_page("pages/safety.py")
    at.run()
    assert [e.value for e in at.error] == [
        "Grade >= 3 adverse events: "
        + ", ".join(f"{1 if g == group else 0} patient(s) in {name}"
                    for g, name in (("systemic", "Systemic"),
                                    ("local+systemic", "Local + systemic")))
        + ". Rows marked ▲."]
    labels = at.dataframe[0].value["Adverse event"].tolist()
    assert "\u2003\u2003▲ Grade >= 3" in labels


def test_url_age_range_and_expander_filters_apply(demo):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"age_min": "50", "age_max": "70", "tumor_number": "multiple"})
    at.run()
    assert not at.exception and not at.warning
    expected = demo[(demo["age"] >= 50) & (demo["age"] <= 70)
                    & (demo["tumor_number"] == "multiple")]
    n_sys = int((expected["treatment_group"] == "systemic").sum())
    assert _n_line(at) == (f"n = {len(expected)} of 95 patients ({n_sys} systemic, "
                           f"{len(expected) - n_sys} local+systemic)")
    assert at.slider(key="f_age").value == (50, 70)


def test_new_upload_drops_filters_that_no_longer_apply():
    at = _app()
    at.sidebar.multiselect(key="f_modality").set_value(["HAIC"]).run()
    at.sidebar.multiselect(key="f_bclc").set_value(["C"]).run()
    content = b"patient_id,local_modality,bclc_stage\nA1,none,C\nA2,mTACE,B\nA3,mTACE,C\n"
    at = _upload(at, "no_haic.csv", content)
    assert at.sidebar.multiselect(key="f_modality").value == []  # HAIC is not in this file
    assert at.sidebar.multiselect(key="f_bclc").value == ["C"]  # still applies
    assert _n_line(at) == "n = 2 of 3 patients (1 systemic, 1 local+systemic)"


def test_deep_link_with_settings_in_legacy_mode(demo):
    """A shared /survival?... link opened on a fresh server (legacy pages/ routing) keeps
    the filters and the page's settings (item 13 of issue 11, item 8 of issue 12)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"modality": "none", "child_pugh": "A",
                            "surv_endpoint": "pfs",
                            "presentation": "true"})
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    expected = demo[(demo["local_modality"] == "none") & (demo["child_pugh_class"] == "A")]
    assert _n_line(at) == f"n = {len(expected)} of 95 patients ({len(expected)} systemic, 0 local+systemic)"
    assert at.title[0].value == "Survival"
    assert at.radio(key="surv_endpoint").value == "pfs"
    assert at.toggle(key="presentation").value is True
    assert at.query_params["surv_endpoint"] == "pfs"  # a code: the same link in every language
    assert at.query_params["modality"] == "none"


def test_glue_is_not_a_routable_page():
    """Legacy routing makes a page of every pages/*.py file (streamlit _mpa_v1 globs
    pages/*.py); the shared glue must not be one of them, and every page calls view()."""
    pages = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
    assert pages == sorted(p.split("/")[1] for p in PAGES)
    for name in pages:
        assert "_ui.view()" in (ROOT / "pages" / name).read_text(encoding="utf-8"), name


def _fmt_hr(row) -> str:
    return f"{row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})"


def test_survival_page_answers_with_n_events_medians_hr_and_logrank(demo):
    """Issue 12 item 1: beside the curves, n and events per group, medians, HR (95% CI) with
    its p, and the log-rank p; with three groups, HRs against the reference group."""
    at = _app("pages/survival.py")
    cox = fit_cox(demo, "os", ("treatment_group",)).table.loc["treatment_group[local+systemic]"]
    lr = logrank_test(demo, "os", "treatment_group")
    text = _all_text(at)
    assert f"**local+systemic vs systemic**: HR **{_fmt_hr(cox)}**, p = {cox['p_value']:.3f}" \
        f" · log-rank p = {lr.p_value:.3f}" in text
    assert "systemic: n = 39, 23 events" in text and "local+systemic: n = 56, 29 events" in text
    table = at.dataframe[0].value
    assert list(table.columns[:6]) == ["Group", "Patients", "Events", "Median, months (95% CI)",
                                       "HR vs systemic (95% CI)", "p"]
    assert table["HR vs systemic (95% CI)"].tolist() == ["reference", _fmt_hr(cox)]
    at.selectbox(key="surv_by").set_value("bclc_stage").run()
    three = fit_cox(demo, "os", ("bclc_stage",)).table
    table = at.dataframe[0].value
    assert table["HR vs A (95% CI)"].tolist() == [
        "reference", _fmt_hr(three.loc["bclc_stage[B]"]), _fmt_hr(three.loc["bclc_stage[C]"])]


def test_one_local_modality_is_compared_by_name_with_the_small_n_caveat(demo):
    """Issue 12 item 2 and the tumour-board question: Child-Pugh A, BCLC C, HAIC vs systemic
    only, labelled by modality without another click, with the small-n caveat."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"modality": "none,HAIC", "child_pugh": "A", "bclc": "C"})
    at.run()
    at.switch_page("pages/survival.py").run()
    assert not at.exception, [e.value for e in at.exception]
    sub = demo[demo["local_modality"].isin(["none", "HAIC"]) & (demo["child_pugh_class"] == "A")
               & (demo["bclc_stage"] == "C")]
    row = fit_cox(sub, "os", ("local_modality",)).table.loc["local_modality[HAIC]"]
    text = _all_text(at)
    assert f"**HAIC vs systemic only**: HR **{_fmt_hr(row)}**" in text
    assert f"n = {len(sub)}" in text and "Child-Pugh class A; BCLC stage C" in text
    table = at.dataframe[0].value
    assert table["Group"].tolist() == ["systemic only", "HAIC"]
    n_haic = int((sub["local_modality"] == "HAIC").sum())
    assert any(f"HAIC (n = {n_haic}," in w.value and "unstable" in w.value for w in at.warning)
    cells = " ".join(table.astype(str).to_numpy().ravel())
    for bad in ("nan", "None", "NR (NR-NR)", "100.0% (100.0-100.0)", "100.0 (100.0-100.0)"):
        assert bad not in cells


def _app_pages() -> list[str]:
    """Every page file in app.py's PAGES list (pages other helpers add are swept too)."""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    return [n.args[0].value for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "Page"]


def _filter_levels(demo) -> dict[str, list[str]]:
    """URL parameter -> every single level of that filter in the demo cohort."""
    levels = {"modality": sorted(demo["local_modality"].dropna().unique()),
              "child_pugh": sorted(demo["child_pugh_class"].dropna().unique()),
              "bclc": sorted(demo["bclc_stage"].dropna().unique()),
              "tumor_number": sorted(demo["tumor_number"].dropna().unique()),
              "albi": sorted(str(int(g)) for g in demo["albi_grade"].dropna().unique()),
              "afp": ["high", "low"]}
    return {k: [str(v) for v in vs] for k, vs in levels.items()}


def _sweep_combinations(demo) -> list[dict[str, str]]:
    """Each single level of each filter alone, and of every pair of filters (n down to 1,
    e.g. modality=IMRT & child_pugh=B, issue 18 item 7)."""
    import itertools

    levels = _filter_levels(demo)
    combos = [{k: v} for k, vs in levels.items() for v in vs]
    for a, b in itertools.combinations(levels, 2):
        combos += [{a: x, b: y} for x in levels[a] for y in levels[b]]
    return combos


# Pages whose content does not depend on the filters, or that only re-run the pages' analyses
# (the report page, ~15 s a run): swept with single-level filters only, to bound the run time.
_UNFILTERED_OR_SLOW = {"pages/paper_check.py", "pages/upload.py", "pages/report.py"}


@pytest.mark.slow
def test_every_single_level_filter_combination_on_every_page_runs_without_exception(demo):
    """Issue 18 item 7: no page raises (analyses and charts are guarded) on any single-level
    filter or pair of them, down to n = 1 and n = 0, and no analysis or chart fails
    unexpectedly (the guard's "failed unexpectedly" message). Takes ~15 min."""
    pages = _app_pages()
    failures = []
    for combo in _sweep_combinations(demo):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update(combo)
        at.run()
        for page in pages:
            if len(combo) > 1 and page in _UNFILTERED_OR_SLOW:
                continue
            at.switch_page(page).run()
            if at.exception:
                failures.append(f"{combo} {page}: {at.exception[0].value[:200]}")
            # A guarded crash is not an exception in the app, but it is a bug all the same:
            # the user gets "failed unexpectedly" instead of a reason.
            failures += [f"{combo} {page}: {m.value[:200]}" for m in [*at.error, *at.warning]
                         if "failed unexpectedly" in str(m.value)]
    assert not failures, "\n".join(failures[:20])


def test_rmst_horizon_reruns_its_section_with_hcc_core_values(demo):
    """The tau input sits in a fragment (changing it reruns the RMST section only, issue 19):
    the table is hcc_core.rmst at the new tau, in the section's own format, and the rest of
    the page is still there."""
    from hcc_core import rmst

    at = _app("pages/survival.py")
    at.number_input(key="surv_tau").set_value(12.0).run()
    assert not at.exception, [e.value for e in at.exception]
    rm = rmst(demo, "os", "treatment_group", 12.0)
    table = next(d.value for d in at.dataframe if "RMST, months (95% CI)" in d.value.columns)
    assert table["RMST, months (95% CI)"].tolist() == [
        f"{x:.1f} ({lo:.1f}-{hi:.1f})" for x, lo, hi in
        zip(rm["rmst"], rm["lower"], rm["upper"], strict=True)]
    assert "Median, months (95% CI)" in at.dataframe[0].value.columns
