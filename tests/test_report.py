"""The meeting pack: sentences from results, the provenance stamp, and the .pptx/.docx files.

Slides and report are opened with python-pptx / python-docx and their text compared with the
result objects and the pages' display tables they were built from.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from PIL import Image
from pptx import Presentation

from hcc_core import (
    PAPER_COX_COVARIATES,
    Filters,
    ae_table,
    apply_filters,
    charts,
    fit_cox,
    fit_km,
    format_ae_table,
    format_response,
    format_table_one,
    load_cohort,
    logrank_test,
    response_rates,
    table_one,
)
from hcc_core import schema as S
from hcc_core.report import (
    APP_VERSION,
    MeetingPack,
    PackSettings,
    build_report,
    build_slides,
    collect_pack,
    file_name,
    filter_tag,
    make_provenance,
    pack_methods,
    stamp_chart_spec,
    survival_sentence,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = load_cohort(ROOT / "data" / "demo_cohort.csv")
WHEN = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
SUBGROUP = Filters(child_pugh_classes=("A",), bclc_stages=("C",))
ALL = Filters()


def _png(w: int = 600, h: int = 400) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), "white").save(buf, format="PNG")
    return buf.getvalue()


def _prov(filters: Filters = ALL, df: pd.DataFrame | None = None):
    df = DEMO.data if df is None else df
    return make_provenance(
        filters,
        n=len(df),
        n_total=len(DEMO.data),
        source="Synthetic demo cohort",
        sha256=DEMO.sha256,
        is_demo=True,
        created=WHEN,
    )


def _pack(filters: Filters = ALL) -> MeetingPack:
    df = apply_filters(DEMO.data, filters)
    return collect_pack(df, _prov(filters, df), scale=1)


@pytest.fixture(scope="module")
def demo_pack() -> MeetingPack:
    return _pack()


@pytest.fixture(scope="module")
def subgroup_pack() -> MeetingPack:
    return _pack(SUBGROUP)


# ---- provenance ---------------------------------------------------------------------------------
def test_app_version_is_the_projects():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert APP_VERSION == meta["project"]["version"]


def test_provenance_stamp_says_population_n_data_and_date():
    df = apply_filters(DEMO.data, SUBGROUP)
    prov = _prov(SUBGROUP, df)
    assert prov.population == "Child-Pugh class A; BCLC stage C"
    assert prov.fingerprint == DEMO.sha256[:12] and len(prov.fingerprint) == 12
    assert (prov.n, prov.n_total) == (len(df), 95)
    footer = prov.footer(endpoint="os", method="Kaplan-Meier")
    assert footer == (
        f"Child-Pugh class A; BCLC stage C · n = {len(df)} of 95 · OS · Kaplan-Meier · "
        f"2026-11-30 09:15 UTC · HCC Cohort Explorer {APP_VERSION} · "
        f"data {DEMO.sha256[:12]} · synthetic demo data"
    )
    lines = prov.lines(endpoint="pfs", method="Log-rank test")
    assert lines[0] == "Population: Child-Pugh class A; BCLC stage C"
    assert lines[1] == f"Patients: {len(df)} of 95 patients"
    assert "Endpoint: progression-free survival (PFS)" in lines
    assert "Method: Log-rank test" in lines
    assert any(DEMO.sha256[:12] in line and "synthetic demo data" in line for line in lines)
    assert _prov().population == "all patients"


def test_uploaded_data_is_not_called_synthetic():
    prov = make_provenance(
        Filters(),
        n=10,
        n_total=12,
        source="Uploaded: mine.csv",
        sha256="ab" * 32,
        is_demo=False,
        created=WHEN,
    )
    assert "synthetic" not in prov.footer().lower()
    assert "synthetic" not in " ".join(prov.lines()).lower()
    assert prov.fingerprint == "abababababab"


@pytest.mark.parametrize(
    ("filters", "name"),
    [
        (Filters(), "km_os_all.png"),
        (SUBGROUP, "km_os_cp-A_bclc-C.png"),
        (
            Filters(local_modalities=("none", "HAIC"), afp_high=True),
            "km_os_mod-none+HAIC_afp-high.png",
        ),
        (Filters(age_min=50, albi_grades=(1,)), "km_os_albi-1_age-50-.png"),
    ],
)
def test_file_names_say_what_they_hold(filters, name):
    assert file_name("km", filters, "png", endpoint="os") == name


def test_file_name_without_endpoint():
    assert file_name("table1", SUBGROUP, ".xlsx") == "table1_cp-A_bclc-C.xlsx"
    assert filter_tag(Filters(age_max=70.5)) == "age--70.5"


def test_stamped_chart_renders_with_title_subtitle_and_footnote():
    df = DEMO.data
    km = fit_km(df, "os", by=S.TREATMENT_GROUP)
    spec = charts.km_chart(km)
    stamped = stamp_chart_spec(
        spec,
        _prov(),
        title="Overall survival (OS) by treatment group",
        endpoint="os",
        method="Kaplan-Meier; log-rank test",
    )
    assert spec.get("title") != stamped["title"]  # the input is not modified
    svg = charts.chart_svg(stamped)
    for text in (
        "Overall survival (OS) by treatment group",
        "all patients · n = 95 of 95 · OS",
        "Synthetic demo data",
        DEMO.sha256[:12],
        "Kaplan-Meier; log-rank test",
        "2026-11-30 09:15 UTC",
        f"HCC Cohort Explorer {APP_VERSION}",
    ):
        assert text in svg, text
    assert charts.chart_png(stamped, scale=1)[:4] == b"\x89PNG"


# ---- results in words ---------------------------------------------------------------------------
def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)]


def test_os_sentence_numbers_are_the_results():
    df = DEMO.data
    km = fit_km(df, "os", by=S.TREATMENT_GROUP)
    lr = logrank_test(df, "os", S.TREATMENT_GROUP)
    cox = fit_cox(df, "os", (S.TREATMENT_GROUP,))
    sentence = survival_sentence(km, lr, cox)
    ref, comp = km.summary.iloc[0], km.summary.iloc[1]
    hr = cox.table.loc["treatment_group[local+systemic]"]
    assert not np.isfinite(comp["median_upper"])  # shown as NE
    expected = (
        f"Median OS was {comp['median']:.1f} months (95% CI {comp['median_lower']:.1f}-NE) "
        f"with local + systemic therapy vs {ref['median']:.1f} months "
        f"({ref['median_lower']:.1f}-{ref['median_upper']:.1f}) with systemic therapy alone "
        f"(HR {hr['hr']:.2f}, 95% CI {hr['hr_lower']:.2f}-{hr['hr_upper']:.2f}; log-rank "
        f"p = {lr.p_value:.3f}; {int(km.summary['n'].sum())} patients, "
        f"{int(km.summary['events'].sum())} deaths)."
    )
    assert sentence == expected
    # The demo cohort's values, hand-read from the Survival page (medians by quantile.survfit,
    # the log-rank p as R survdiff in tests/reference).
    assert sentence == (
        "Median OS was 20.3 months (95% CI 15.7-NE) with local + systemic therapy vs 14.7 months "
        "(10.0-21.2) with systemic therapy alone (HR 0.57, 95% CI 0.33-0.99; log-rank "
        "p = 0.045; 95 patients, 52 deaths)."
    )


def test_sentence_with_three_groups_lists_each_hr_against_the_reference():
    df = DEMO.data
    by = S.LOCAL_MODALITY
    km = fit_km(df, "pfs", by=by)
    cox = fit_cox(df, "pfs", (by,))
    sentence = survival_sentence(km, logrank_test(df, "pfs", by), cox)
    assert sentence.startswith("Median PFS was ")
    assert "with systemic therapy alone (HR vs systemic therapy alone: " in sentence
    for level in ("mTACE", "HAIC", "IMRT"):
        row = cox.table.loc[f"local_modality[{level}]"]
        assert (
            f"{level} + systemic therapy {row['hr']:.2f} ({row['hr_lower']:.2f}-"
            f"{row['hr_upper']:.2f})"
        ) in sentence
        med = km.summary.set_index("group").loc[level, "median"]
        assert f"{med:.1f} months" in sentence
    assert sentence.endswith(
        f"95 patients, {int(km.summary['events'].sum())} progressions or deaths)."
    )


def test_sentence_for_the_whole_cohort_and_a_median_not_reached():
    df = DEMO.data
    km = fit_km(df, "os")
    row = km.summary.iloc[0]
    assert survival_sentence(km) == (
        f"Median OS was {row['median']:.1f} months (95% CI {row['median_lower']:.1f}-"
        f"{row['median_upper']:.1f}; 95 patients, 52 deaths)."
    )
    # Few events: the median is not reached.
    few = df.assign(os_event=np.where(np.arange(len(df)) < 5, 1, 0))
    km = fit_km(few, "os", by=S.TREATMENT_GROUP)
    assert not np.isfinite(km.summary["median"]).any()
    sentence = survival_sentence(km, None, None)
    assert sentence.startswith("Median OS was not reached (95% CI ")
    assert "vs not reached (" in sentence
    assert sentence.endswith("(95 patients, 5 deaths).")


def test_subgroup_sentence_matches_its_results(subgroup_pack):
    for section in subgroup_pack.survival:
        nums = _numbers(section.sentence)
        s = section.km.summary
        assert int(s["n"].sum()) in nums and int(s["events"].sum()) in nums
        for m in s["median"]:
            if np.isfinite(m):
                assert round(m, 1) in nums


# ---- slides -------------------------------------------------------------------------------------
def _slide_texts(data: bytes) -> list[str]:
    prs = Presentation(io.BytesIO(data))
    out = []
    for slide in prs.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
        out.append("\n".join(parts))
    return out


def _slide_tables(data: bytes) -> dict[str, list[list[str]]]:
    """Title of each slide with a table -> its cell texts (row-major)."""
    prs = Presentation(io.BytesIO(data))
    out = {}
    for slide in prs.slides:
        tables = [s for s in slide.shapes if s.has_table]
        if tables:
            title = slide.shapes[0].text_frame.text
            out[title] = [[c.text for c in row.cells] for row in tables[0].table.rows]
    return out


def test_slides_are_16_9_stamped_and_hold_native_tables(demo_pack):
    data = build_slides(demo_pack)
    prs = Presentation(io.BytesIO(data))
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # 16:9, 13.333 x 7.5 in
    texts = _slide_texts(data)
    assert texts[0].startswith("HCC Cohort Explorer: tumour-board pack")
    assert "Synthetic demo data" in texts[0] and DEMO.sha256[:12] in texts[0]
    # Every slide after the title carries the stamp in its footer.
    for text in texts[1:]:
        assert f"data {DEMO.sha256[:12]}" in text and "n = 95 of 95" in text
        assert "2026-11-30 09:15 UTC" in text and "synthetic demo data" in text
    titles = [t.splitlines()[0] for t in texts]
    for wanted in (
        "Results in words",
        "Overall survival (OS) by treatment group",
        "Progression-free survival (PFS) by treatment group",
        "Cox model (OS): 95 patients, 52 events",
        "Tumour response (mRECIST): ORR and DCR",
        "Methods",
        "Caveats",
    ):
        assert any(t.startswith(wanted) for t in titles), wanted
    assert any(t.startswith("Baseline characteristics (Table 1)") for t in titles)
    assert any(t.startswith("Adverse events (CTCAE v5)") for t in titles)
    pictures = [s for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) == 3  # KM OS, KM PFS, forest


def test_slide_numbers_equal_the_pages(demo_pack):
    data = build_slides(demo_pack)
    texts = _slide_texts(data)
    words = next(t for t in texts if t.startswith("Results in words"))
    for section in demo_pack.survival:
        assert section.sentence in words
    os_slide = next(t for t in texts if t.startswith("Overall survival (OS)"))
    km = demo_pack.survival[0].km
    for _, r in km.summary.iterrows():
        assert f"n = {r['n']}, {r['events']} deaths; median {r['median']:.1f} months" in os_slide
    lr = demo_pack.survival[0].logrank
    assert f"Log-rank p = {lr.p_value:.3f}" in os_slide
    tables = _slide_tables(data)
    # Table 1 cells are the Baseline page's display strings, in order, across its slides.
    t1 = demo_pack.table_one_display
    rows = [r for title, cells in tables.items() if title.startswith("Baseline") for r in cells[1:]]
    assert [r[0] for r in rows] == t1["Characteristic"].tolist()
    head = next(c[0] for t, c in tables.items() if t.startswith("Baseline"))
    for col in head:
        assert [r[head.index(col)] for r in rows] == t1[col].astype(str).tolist()
    resp = tables["Tumour response (mRECIST): ORR and DCR"]
    shown = demo_pack.response_display
    for col in resp[0]:
        assert [r[resp[0].index(col)] for r in resp[1:]] == shown[col].astype(str).tolist()
    cox = tables["Cox model (OS): 95 patients, 52 events"]
    model = demo_pack.cox_model.table
    assert cox[0] == ["Term", "HR (95% CI)", "p"]
    first = model.iloc[0]
    assert cox[1][1] == f"{first['hr']:.2f} ({first['hr_lower']:.2f}-{first['hr_upper']:.2f})"


def test_subgroup_slides_say_which_patients(subgroup_pack):
    texts = _slide_texts(build_slides(subgroup_pack))
    n = subgroup_pack.provenance.n
    assert 0 < n < 95
    assert "Population: Child-Pugh class A; BCLC stage C" in texts[0]
    for text in texts[1:]:
        assert f"Child-Pugh class A; BCLC stage C · n = {n} of 95" in text
    words = next(t for t in texts if t.startswith("Results in words"))
    assert f"{n} patients" in words


def test_methods_name_each_test_as_the_pages_do(demo_pack):
    methods = dict(pack_methods(demo_pack))
    assert methods["Comparison (OS)"] == demo_pack.survival[0].logrank.method
    assert methods["Table 1"] == demo_pack.table_one.method
    assert methods["Response"] == demo_pack.response.method
    assert methods["Adverse events"] == demo_pack.adverse_events.method
    assert methods["Multivariable Cox model"] == demo_pack.cox_model.method


# ---- report -------------------------------------------------------------------------------------
def test_report_has_the_sentences_tables_methods_and_stamp(demo_pack):
    doc = Document(io.BytesIO(build_report(demo_pack)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for section in demo_pack.survival:
        assert section.sentence in text
    methods = next(
        p.text
        for i, p in enumerate(doc.paragraphs)
        if i and doc.paragraphs[i - 1].text == "Methods"
    )
    for name in (
        "Kaplan-Meier",
        "Log-rank test (R survdiff",
        "Efron ties",
        "Shapiro-Wilk",
        "Mann-Whitney U",
        "Clopper-Pearson",
        "Fisher's exact test",
        "CTCAE v5.0",
    ):
        assert name in methods, name
    footer = doc.sections[0].footer.paragraphs[0].text
    assert footer == demo_pack.provenance.footer()
    assert "synthetic demo data" in doc.sections[0].header.paragraphs[0].text
    assert "Population: all patients" in text and DEMO.sha256[:12] in text
    # Native tables: Cox model, Table 1, response, adverse events, with the pages' cells.
    assert len(doc.tables) == 4
    t1 = doc.tables[1]
    shown = demo_pack.table_one_display
    assert [c.text for c in t1.rows[0].cells] == list(shown.columns)
    assert [r.cells[0].text for r in t1.rows[1:]] == shown["Characteristic"].tolist()
    assert [r.cells[list(shown.columns).index("p")].text for r in t1.rows[1:]] == shown[
        "p"
    ].tolist()
    assert len(doc.inline_shapes) == 4  # KM OS, KM PFS, forest, response bars


# ---- collecting ---------------------------------------------------------------------------------
def test_collected_pack_holds_what_the_pages_compute(demo_pack):
    df = DEMO.data
    by = S.TREATMENT_GROUP
    for section, ep in zip(demo_pack.survival, ("os", "pfs"), strict=True):
        pd.testing.assert_frame_equal(section.km.summary, fit_km(df, ep, by=by).summary)
        assert section.logrank.p_value == logrank_test(df, ep, by).p_value
        pd.testing.assert_frame_equal(section.cox.table, fit_cox(df, ep, (by,)).table)
        assert section.chart_png[:4] == b"\x89PNG"
    pd.testing.assert_frame_equal(
        demo_pack.cox_model.table, fit_cox(df, "os", PAPER_COX_COVARIATES).table
    )
    # As the Table 1, Response and Safety pages open: by treatment group, Overall column shown.
    kw = {"by": S.TREATMENT_GROUP, "overall": True}
    pd.testing.assert_frame_equal(
        demo_pack.table_one_display, format_table_one(table_one(df, **kw))
    )
    pd.testing.assert_frame_equal(
        demo_pack.response_display, format_response(response_rates(df, **kw))
    )
    pd.testing.assert_frame_equal(
        demo_pack.adverse_events_display, format_ae_table(ae_table(df, **kw))
    )
    assert any(c.startswith("Overall") for c in demo_pack.table_one_display.columns)
    assert demo_pack.unavailable == ()


def test_pack_follows_the_page_settings_and_says_what_is_missing():
    df = DEMO.data.drop(columns=["pfs_months", "pfs_event", "best_response"])
    settings = PackSettings(
        table_one_by=(S.LOCAL_MODALITY, False),
        by=S.LOCAL_MODALITY,
        conf_type="log",
        cox_endpoint="os",
        covariates=(S.AGE, S.LOCAL_MODALITY),
    )
    pack = collect_pack(df, _prov(ALL, df), settings, scale=0)
    assert [s.endpoint for s in pack.survival] == ["os"]
    km = pack.survival[0].km
    assert km.by == S.LOCAL_MODALITY and km.conf_type == "log"
    assert pack.table_one.by == S.LOCAL_MODALITY
    assert not any(c.startswith("Overall") for c in pack.table_one_display.columns)
    assert list(pack.cox_model.table.index[:1]) == ["age"]
    assert pack.response is None and pack.response_display is None
    assert len(pack.unavailable) == 2
    assert pack.unavailable[0].startswith("Survival (PFS) is not in this pack: ")
    assert pack.unavailable[1].startswith("Tumour response is not in this pack: ")
    assert "best_response" in pack.unavailable[1]
    texts = _slide_texts(build_slides(pack))
    caveats = "\n".join(t for t in texts if t.startswith("Caveats"))
    assert pack.unavailable[0] in caveats
    assert not any(t.startswith("Progression-free survival") for t in texts)


def test_stamp_without_title_keeps_the_charts_own_and_adds_the_footnote():
    spec = {
        "title": "My chart",
        "mark": "point",
        "data": {"values": [{"x": -1.5}]},
        "encoding": {"x": {"field": "x", "type": "quantitative"}},
    }
    prov = _prov(SUBGROUP, apply_filters(DEMO.data, SUBGROUP))
    stamped = stamp_chart_spec(spec, prov, endpoint="pfs", method="Log-rank test")
    assert "title" not in stamped and stamped["vconcat"][0]["title"] == "My chart"
    svg = charts.chart_svg(stamped)
    for text in (
        "My chart",
        f"Child-Pugh class A; BCLC stage C · n = {prov.n} of 95 · PFS",
        "Log-rank test",
        DEMO.sha256[:12],
        "synthetic demo data",
    ):
        assert text in svg, text
