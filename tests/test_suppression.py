"""Small-cell suppression (issue 18 item 6): the cells it hides, hand-counted on 12 patients."""

from __future__ import annotations

import io

import docx
import openpyxl
import pandas as pd
import pptx
import pytest

from hcc_core import (
    Filters,
    ae_table,
    export,
    fit_km,
    format_ae_table,
    format_n_pct,
    format_response,
    format_table_one,
    load_cohort,
    report,
    response_rates,
    table_one,
)
from hcc_core import suppression as sup
from hcc_core.charts import km_chart

# Systemic (local_modality none): 8 patients, 6 M / 2 F; local + systemic: 4, 2 M / 2 F.
CSV = b"""patient_id,local_modality,sex,os_months,os_event,best_response,ae_fever
P01,none,M,2,1,PD,0
P02,none,M,4,1,PD,1
P03,none,M,6,1,SD,2
P04,none,M,8,0,SD,0
P05,none,M,10,1,PR,0
P06,none,M,12,1,PD,0
P07,none,F,14,0,SD,3
P08,none,F,16,1,CR,0
P09,HAIC,M,3,1,PR,1
P10,mTACE,F,9,0,CR,0
P11,IMRT,F,15,1,SD,0
P12,HAIC,M,20,0,PR,2
"""
NOTE = "Counts below 5 shown as <5."
SYS, LOC = "Systemic (N = 8)", "Local + systemic (N = 4)"
LOC_HIDDEN = "Local + systemic (N = <5)"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return load_cohort(CSV, filename="s.csv").data


def test_off_by_default_and_the_switch():
    assert sup.current() is None
    assert format_n_pct(3, 37.5) == "3 (37.50)"
    with sup.suppressing(5):
        assert sup.current() == 5
        assert [format_n_pct(n, 10.0) for n in (0, 1, 4, 5)] == [
            "0 (10.00)",  # zero identifies nobody
            "<5",
            "<5",  # the percentage would give the count back
            "5 (10.00)",
        ]
        assert sup.footnote() == NOTE
    assert sup.current() is None and sup.footnote() is None


def test_table_one_cells(cohort):
    off = format_table_one(table_one(cohort, by="treatment_group"))
    assert list(off.columns[:3]) == ["Characteristic", SYS, LOC]
    assert off.iloc[1:3, 1:3].to_numpy().tolist() == [
        ["6 (75.00)", "2 (50.00)"],
        ["2 (25.00)", "2 (50.00)"],
    ]
    assert "Counts below" not in " ".join(off.attrs["notes"])
    with sup.suppressing(5):
        on = format_table_one(table_one(cohort, by="treatment_group"))
    assert list(on.columns[:3]) == ["Characteristic", SYS, LOC_HIDDEN]
    assert on.iloc[1:3, 0].str.strip().tolist() == ["Male", "Female"]
    assert on.iloc[1:3, 1:3].to_numpy().tolist() == [["6 (75.00)", "<5"], ["<5", "<5"]]
    assert on.attrs["notes"][-1] == NOTE


def test_response_cells_drop_the_ci_of_a_hidden_rate(cohort):
    with sup.suppressing(5):
        on = format_response(response_rates(cohort, by="treatment_group"))
    cells = on.set_index(on.columns[0])[[SYS, LOC_HIDDEN]]
    assert cells.loc[["CR", "PR", "SD", "PD", "ORR"]].to_numpy().tolist() == [
        ["<5", "<5"],
        ["<5", "<5"],
        ["<5", "<5"],
        ["<5", "0 (0.00)"],
        ["<5", "<5"],
    ]
    assert cells.loc["DCR", SYS] == "5 (62.50) [24.49-91.48]"  # 5 is not below 5
    assert cells.loc["DCR", LOC_HIDDEN] == "<5"  # no [39.76-100.00]: it gives 4 of 4 away
    assert NOTE in on.attrs["notes"]


def test_adverse_event_cells(cohort):
    with sup.suppressing(5):
        on = format_ae_table(ae_table(cohort, by="treatment_group"))
    assert on.columns[2] == LOC_HIDDEN
    rows = on.iloc[:3, 1:3].to_numpy().tolist()  # any AE; grade 1-2; grade >= 3
    assert rows == [["<5", "<5"], ["<5", "<5"], ["<5", "0 (0.00)"]]
    assert NOTE in on.attrs["notes"]


def test_km_risk_table_in_the_chart(cohort):
    km = fit_km(cohort, "os", by="treatment_group")
    # At risk (time >= t) at 0, 6, 12, 18 months: systemic 8, 6, 3, 0; local 4, 3, 2, 1.
    spec = km_chart(km)
    assert "label" not in spec["datasets"]["km_risk"][0]
    with sup.suppressing(5):
        spec = km_chart(km)
    risk = pd.DataFrame(spec["datasets"]["km_risk"])
    got = {g: list(block.sort_values("time")["label"]) for g, block in risk.groupby("group")}
    assert got == {"systemic": ["8", "6", "<5", "0"], "local+systemic": ["<5"] * 4}
    table = spec["vconcat"][-1]
    assert table["encoding"]["text"] == {"field": "label", "type": "nominal"}
    assert table["encoding"]["x"]["title"] == f"Number at risk · {NOTE}"


def test_numeric_table_count_columns():
    numeric = pd.DataFrame({"Group": ["a", "b", "c"], "n": [3, 12, 0], "Events": [1, 7, 0],
                            "Median": [2.5, 3.0, 4.0]})
    assert sup.suppress_counts(numeric) is numeric  # off: untouched
    with sup.suppressing(5):
        out = sup.suppress_counts(numeric)
    assert out["n"].tolist() == ["<5", 12, 0]
    assert out["Events"].tolist() == ["<5", 7, 0]
    assert out["Median"].tolist() == [2.5, 3.0, 4.0]


def _provenance(cohort, k):
    with sup.suppressing(k):
        return report.make_provenance(Filters(), n=len(cohort), n_total=len(cohort),
                                      source="s.csv", sha256="ab" * 32, is_demo=False)


def test_csv_and_excel_exports_state_it(cohort):
    prov = _provenance(cohort, 5)
    assert prov.suppressed_below == 5 and prov.lines()[-1] == NOTE
    assert _provenance(cohort, None).suppression_note is None
    with sup.suppressing(5):
        shown = format_table_one(table_one(cohort, by="treatment_group"))
    text = export.to_csv_bytes(shown, notes=prov.lines()).decode("utf-8-sig")
    assert f"# {NOTE}" in text
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert back[LOC_HIDDEN].tolist()[1:3] == ["<5", "<5"]
    book = openpyxl.load_workbook(io.BytesIO(export.to_excel_bytes(shown, notes=prov.lines())))
    notes = [c.value for row in book["Notes"].iter_rows() for c in row if c.value]
    assert NOTE in notes
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][2] == LOC_HIDDEN
    assert [sheet.cell(r, 3).value for r in (3, 4)] == ["<5", "<5"]


def test_slides_and_report_built_later_keep_the_setting(cohort):
    # The pack is built after the page's run (download thread): the setting rides on the stamp.
    prov = _provenance(cohort, 5)
    pack = report.collect_pack(cohort, prov, scale=0)
    assert LOC_HIDDEN in pack.table_one_display.columns
    deck = pptx.Presentation(io.BytesIO(report.build_slides(pack)))
    cells, texts = [], []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                cells += [c.text for row in shape.table.rows for c in row.cells]
            elif shape.has_text_frame:
                texts.append(shape.text_frame.text)
    assert LOC_HIDDEN in cells and cells.count("<5") >= 10
    assert any(NOTE in t for t in texts)  # every slide's footer
    doc = docx.Document(io.BytesIO(report.build_report(pack)))
    cells = [c.text for table in doc.tables for row in table.rows for c in row.cells]
    assert LOC_HIDDEN in cells and "<5" in cells
    footer = " ".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert NOTE in footer
    # Off: the same pack has the counts.
    plain = report.collect_pack(cohort, _provenance(cohort, None), scale=0)
    assert LOC in plain.table_one_display.columns


def test_a_difference_that_would_give_a_hidden_count_back_is_withheld(cohort):
    # ORR: systemic 2 of 8 (P05 PR, P08 CR), local + systemic 3 of 4 (P09, P12 PR; P10 CR):
    # difference 75.00 - 25.00 = 50.00 points. DCR: 5 of 8 and 4 of 4, difference 37.50.
    diff = "Local + systemic vs Systemic, difference (95% CI)"
    off = format_response(response_rates(cohort, by="treatment_group")).set_index("")
    assert off.loc["ORR", diff].startswith("50.00 (")
    assert off.loc["DCR", diff].startswith("37.50 (")
    with sup.suppressing(5):
        on = format_response(response_rates(cohort, by="treatment_group")).set_index("")
        assert sup.withheld_cell() == "not shown (<5)"
    # With N = 8 in the header, 25% is 2 patients; every rate row has a hidden count.
    assert on.loc["ORR", diff] == on.loc["DCR", diff] == "not shown (<5)"
    assert on.loc["CR", diff] == ""  # category rows carry no difference, on or off


def test_charts_drawn_from_hidden_counts_are_withheld(cohort):
    counts = response_rates(cohort, by="treatment_group").counts["n"]
    assert not sup.reveals(counts)  # off: nothing is hidden
    with sup.suppressing(5):
        assert sup.reveals(counts)
        assert not sup.reveals([0, 5, 12])  # zero and counts of k or more identify nobody
        assert sup.chart_withheld_note().startswith("Chart not shown: it would give away "
                                                    "counts below 5")
    with sup.suppressing(2):
        assert sup.reveals([0, 1, 7]) and not sup.reveals([0, 2, 7])
    # The report says so instead of drawing the response bars.
    doc = docx.Document(io.BytesIO(report.build_report(
        report.collect_pack(cohort, _provenance(cohort, 5), scale=1))))
    text = " ".join(p.text for p in doc.paragraphs)
    assert "Chart not shown: it would give away counts below 5" in text
    plain = docx.Document(io.BytesIO(report.build_report(
        report.collect_pack(cohort, _provenance(cohort, None), scale=1))))
    assert "Chart not shown" not in " ".join(p.text for p in plain.paragraphs)
    assert len(plain.inline_shapes) == len(doc.inline_shapes) + 1  # the response bars


def test_counts_in_sentences(cohort):
    """Sentences, answer boxes and titles carry counts too ("n = 4, 3 events"): the same rule."""
    from hcc_core import format_group_counts, logrank_test
    from hcc_core.report import survival_sentence

    assert sup.shown(3) == 3 and sup.shown(0) == 0
    assert sup.shown(12.0) == 12 and sup.shown(28.7) == 28.7  # a weighted sum is not truncated
    with sup.suppressing(5):
        assert [sup.shown(n) for n in (0, 1, 4, 5, 12)] == [0, "<5", "<5", 5, 12]
        # 8 systemic, 4 local + systemic (P09-P12) of 12
        assert format_group_counts(cohort, cohort) == (
            "n = 12 of 12 patients (8 systemic, <5 local+systemic)")
        local = cohort[cohort["treatment_group"] == "local+systemic"]
        assert format_group_counts(local, cohort) == (
            "n = <5 of 12 patients (0 systemic, <5 local+systemic)")
        # Local + systemic: 4 patients, 2 deaths (P09, P11); systemic 8 patients, 6 deaths.
        km = fit_km(cohort, "os", by="treatment_group")
        text = survival_sentence(km, logrank_test(cohort, "os", "treatment_group"))
    assert "<5 patients" not in survival_sentence(fit_km(cohort, "os"))
    assert "12 patients, 8 deaths" in survival_sentence(fit_km(cohort, "os"))
    assert "12 patients, 8 deaths" in text  # the whole cohort's tally: not hidden
    with sup.suppressing(5):
        km_local = fit_km(local, "os")
        assert "(95% CI" in survival_sentence(km_local)
        assert "<5 patients, <5 deaths" in survival_sentence(km_local)
    assert "4 patients, 2 deaths" in survival_sentence(km_local)


def test_sidebar_count_line_in_chinese_names_the_groups_in_chinese(cohort):
    import contextvars

    from hcc_core import format_group_counts
    from hcc_core.i18n import set_language

    def zh():
        set_language("zh")
        with sup.suppressing(5):
            return format_group_counts(cohort, cohort)

    assert contextvars.copy_context().run(zh) == "n = 12（共 12 名患者；8 系统治疗, <5 局部+系统治疗）"
