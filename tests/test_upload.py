"""The upload wizard (pages/upload.py) driven through AppTest, as a user would click it."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DATA
from tests.test_app import (
    APP,
    _n_line,
    _served_routing,  # noqa: F401  (autouse fixture: served routing)
)

CHINESE = (
    "病例号,局部治疗,年龄(岁),性别,乙肝病史,总生存期(月),死亡,备注\n"
    "A1,无,60,男,是,10,1,x\nA2,HAIC,55,女,无,12,0,y\nA3,mTACE,70,男,是,7,是,z\n"
)


def _open(name: str, content: bytes, mime: str = "text/csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/upload.py")
    at.run()
    at.file_uploader(key="upload_file").set_value((name, content, mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _field(at: AppTest, column: str):
    """The step-2 dropdown of one uploaded column."""
    return next(s for s in at.selectbox if s.label == f"Field for column {column}")


def _load(at: AppTest) -> AppTest:
    next(b for b in at.button if b.key == "upload_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _recoding(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Your value" in d.value.columns)


def _cohort(at: AppTest):
    return at.session_state["upload"]["cohort"]


def test_chinese_headers_are_matched_and_shown_in_words():
    at = _open("emr.csv", CHINESE.encode())
    got = {c: (_field(at, c).value, _field(at, c).format_func(_field(at, c).value))
           for c in ["病例号", "局部治疗", "年龄(岁)", "性别", "死亡", "备注"]}
    assert got == {
        "病例号": ("patient_id", "Patient ID"),
        "局部治疗": ("local_modality", "Local therapy (none, mTACE, HAIC, IMRT)"),
        "年龄(岁)": ("age", "Age (years)"),
        "性别": ("sex", "Sex (M/F)"),
        "死亡": ("os_event", "Death (1 = died, 0 = censored)"),
        "备注": ("", "(ignore this column)"),
    }
    assert [s.value for s in at.success] == [
        "Required fields matched: Patient ID from column 病例号; Local therapy (none, mTACE, HAIC, "
        "IMRT) from column 局部治疗."]
    assert [h.value for h in at.main.subheader] == [
        "Step 1 of 4: choose the file", "Step 2 of 4: match your columns",
        "Step 3 of 4: check how values will be read", "Step 4 of 4: load the cohort"]


@pytest.mark.parametrize("header", ["病例号", "住院号", "患者编号"])
def test_chinese_emr_patient_id_headers(header):
    at = _open("ids.csv", f"{header},local_modality\nA1,none\nA2,HAIC\n".encode())
    assert _field(at, header).value == "patient_id"


def test_value_recoding_is_previewed_before_loading():
    at = _open("emr.csv", CHINESE.encode())
    table = _recoding(at)
    pairs = set(zip(table["Your value"], table["Read as"], table["Rows"], strict=True))
    assert {("无", "none", 1), ("男", "M", 2), ("女", "F", 1), ("是", "yes", 2),
            ("无", "no", 1), ("是", "1", 1), ("1", "1", 1), ("0", "0", 1)} <= pairs
    assert "upload" not in at.session_state  # nothing is loaded before the button
    at = _load(at)
    cohort = _cohort(at)
    assert cohort.data["sex"].tolist() == ["M", "F", "M"]
    assert cohort.data["local_modality"].tolist() == ["none", "HAIC", "mTACE"]
    assert cohort.data["os_event"].tolist() == [1, 0, 1]
    assert _n_line(at) == "n = 3 of 3 patients (1 systemic, 2 local+systemic)"


def test_unrecognised_values_are_flagged_in_step_3():
    text = "patient_id,local_modality,sex\nA1,none,男\nA2,HAIC,unknown-ish\n"
    at = _open("x.csv", text.encode())
    table = _recoding(at)
    assert table[table["Your value"] == "unknown-ish"]["Read as"].tolist() == ["not recognised"]
    assert [w.value for w in at.warning] == [
        "Step 3 of 4: check how values will be read. 1 value(s) are not recognised: "
        "'unknown\\-ish' in 'sex'. Loading will stop on them: correct them in your file (or "
        "leave the cells empty if unknown), or ignore that column."]


def test_unmatched_required_field_is_highlighted_and_stops_before_loading():
    at = _open("emr.csv", CHINESE.encode())
    _field(at, "病例号").set_value("").run()
    assert [e.value for e in at.error] == [
        "Required field not matched yet: **Patient ID**. Choose the column that holds it below."]
    assert not [b for b in at.button if b.key == "upload_load"]


def test_ignore_drops_a_column_whose_header_is_already_canonical():
    """Issue 11 item 9: a bad `age` column can be dropped with '(ignore this column)'."""
    text = "patient_id,local_modality,age\nA1,none,sixty\nA2,HAIC,55\n"
    at = _load(_open("bad_age.csv", text.encode()))
    assert len(at.error) == 1
    assert at.error[0].value.startswith(
        "Step 4 of 4: load the cohort. The file 'bad_age.csv' cannot be used. Column 'age' has "
        "values that cannot be used: 'sixty' (in row 2 (patient_id A1)).")
    assert [i.value for i in at.info] == [
        "Nothing was loaded from this file: the analyses still use Synthetic demo cohort "
        "(95 patients)."]
    assert _n_line(at) == "n = 95 of 95 patients (39 systemic, 56 local+systemic)"
    _field(at, "age").set_value("").run()
    at = _load(at)
    assert not at.error
    assert "age" not in _cohort(at).data.columns
    assert _n_line(at) == "n = 2 of 2 patients (1 systemic, 1 local+systemic)"


def test_failed_upload_keeps_and_names_the_cohort_in_use():
    at = _load(_open("first.csv", b"patient_id,local_modality\nA1,none\nA2,HAIC\n"))
    at.file_uploader(key="upload_file").set_value(
        ("second.csv", b"patient_id,local_modality\nB1,none\nB1,HAIC\n", "text/csv"))
    at.run()
    at = _load(at)
    assert at.error[0].value.startswith("Step 4 of 4: load the cohort. The file 'second.csv'")
    assert [i.value for i in at.info] == [
        "Nothing was loaded from this file: the analyses still use Uploaded: first.csv "
        "(2 patients)."]
    source = at.sidebar.radio(key="source")
    assert source.format_func(source.value) == "Uploaded: first.csv"
    assert _n_line(at) == "n = 2 of 2 patients (1 systemic, 1 local+systemic)"


def test_unreadable_file_names_step_1():
    at = _open("scan.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert [e.value for e in at.error] == [
        "Step 1 of 4: choose the file. The file 'scan.csv' is a PNG image, not a cohort "
        "table. Upload the cohort as a .csv file (UTF-8 or GBK) or as an .xlsx workbook; in "
        "Excel use 'Save As' and choose 'CSV UTF-8' or 'Excel Workbook (.xlsx)'."]


def test_two_columns_for_one_field_names_step_2():
    at = _open("two.csv", b"patient_id,local_modality,Age,years\nA1,none,60,61\n")
    _field(at, "years").set_value("age").run()
    assert [e.value for e in at.error] == [
        "Step 2 of 4: match your columns. Each field can come from one column only, but "
        "several of your columns are matched to 'Age (years)'. Set all but one of them to "
        "'(ignore this column)'."]


def test_example_values_are_each_columns_first_distinct_values_in_file_order():
    text = ("patient_id,local_modality,age,note\n"
            "P1,none,61,\nP2,HAIC,61,\nP3,none,58.5,\nP4,IMRT,70,x\nP5,mTACE,44,\n")
    at = _open("c.csv", text.encode())
    captions = [c.value for c in at.caption]
    for shown in ("P1, P2, P3", "none, HAIC, IMRT", "61, 58\\.5, 70"):  # Markdown source
        assert shown in captions
    assert "x" in captions  # one value, after the empty cells


def test_workbook_sheet_is_shown_and_selectable():
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["read me"]}).to_excel(writer, sheet_name="README", index=False)
        pd.DataFrame({"patient_id": ["A1", "A2", "A3"], "local_modality": ["none", "HAIC", "none"]}
                     ).to_excel(writer, sheet_name="Patients", index=False)
        pd.DataFrame({"patient_id": ["C1", "C2"], "local_modality": ["none", "IMRT"]}
                     ).to_excel(writer, sheet_name="cohort", index=False)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at = _open("book.xlsx", buf.getvalue(), xlsx)
    sheet = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Sheet to read"))
    assert sheet.options == ["README", "Patients", "cohort"] and sheet.value == "cohort"
    captions = [c.value for c in at.caption]
    assert ["C1, C2", "none, IMRT"] == [c for c in captions if c in ("C1, C2", "none, IMRT")]
    assert ("Reading sheet 'cohort' of book.xlsx: 2 rows, 2 columns. The workbook has 3 sheets; "
            "choose another above if the patients are on a different one.") in captions
    sheet.set_value("Patients").run()
    at = _load(at)
    assert _cohort(at).data["patient_id"].tolist() == ["A1", "A2", "A3"]
    assert _cohort(at).sheet == "Patients"


def test_death_at_pfs_censoring_is_counted_and_the_user_can_keep_it_censored():
    text = (
        "patient_id,local_modality,os_months,os_event,pfs_months,pfs_event\n"
        "P1,none,10,1,10,1\nP2,HAIC,7.5,1,7.5,0\nP3,none,9,1,4,0\nP4,HAIC,12,0,12,0\n"
    )
    at = _load(_open("pfs.csv", text.encode()))
    assert _cohort(at).data["pfs_event"].tolist() == [1, 1, 0, 0]
    rule = next(r for r in at.radio if r.label.startswith("1 patient(s) died"))
    assert rule.label == ("1 patient(s) died at the time their PFS was censored (pfs_event = "
                          "0). How should PFS count these deaths?")
    assert rule.value == "Count these deaths as PFS events (RECIST/mRECIST, recommended)"
    rule.set_value("Keep them censored, as in the file").run()
    assert not at.exception
    assert _cohort(at).data["pfs_event"].tolist() == [1, 0, 0, 0]
    assert "They are kept censored as in the file" in " ".join(w.value for w in at.warning)
    # the survival page shows the note beside the PFS result
    at.switch_page("pages/survival.py")
    at.run()
    at.radio(key="surv_endpoint").set_value("pfs").run()
    note = ("1 patient(s) died at the time their PFS was censored and are kept censored, as "
            "chosen on the upload page; under RECIST/mRECIST these deaths are PFS events, so "
            "PFS may be overestimated.")
    assert [i.value for i in at.info].count(note) == 1  # KM and Cox both say it: shown once


def test_demo_cohort_with_renamed_headers_loads_like_the_file():
    demo = pd.read_csv(DATA / "demo_cohort.csv")
    content = demo.rename(columns={"patient_id": "住院号", "age": "年龄"}).to_csv(index=False)
    at = _load(_open("demo_cn.csv", content.encode()))
    assert _cohort(at).data["age"].tolist() == demo["age"].tolist()
    assert _n_line(at) == "n = 95 of 95 patients (39 systemic, 56 local+systemic)"
