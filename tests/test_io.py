"""Reading cohort files: formats, encodings, limits, mapping, round trips and bad inputs."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import (
    DEFAULT_MAX_BYTES,
    Cohort,
    CohortError,
    default_sheet,
    example_values,
    load_cohort,
    read_table,
    read_upload,
    suggest_mapping,
    unmatched_required,
    workbook_sheets,
)
from hcc_core import schema as s
from hcc_core.io import MAX_FIELD_CHARS

DATA = Path(__file__).resolve().parents[1] / "data"


def canonical_cohort() -> pd.DataFrame:
    """Eight patients with every canonical column, in the exact dtypes of the data contract."""
    n = 8
    df = pd.DataFrame(
        {
            s.PATIENT_ID: [f"P{i:03d}" for i in range(1, n + 1)],
            s.LOCAL_MODALITY: ["none", "mTACE", "HAIC", "IMRT", "none", "mTACE", "none", "HAIC"],
            s.TREATMENT_GROUP: ["systemic"]
            + ["local+systemic"] * 3
            + ["systemic", "local+systemic", "systemic", "local+systemic"],
            s.AGE: [61.0, 48.5, 70.0, np.nan, 55.0, 66.0, 39.0, 58.0],
            s.SEX: ["M", "F", "M", "M", np.nan, "F", "M", "M"],
            s.ALBUMIN: [41.2, 36.4, 45.3, 38.0, 40.0, 33.1, 44.0, 39.5],
            s.BILIRUBIN: [19.4, 12.2, 25.9, 16.15, 12.73, 21.6, 8.0, 30.0],
            s.ALBI_SCORE: [-2.65, -2.3, -3.1, -2.0, -2.7, -1.9, -3.0, -2.4],
            s.ALBI_GRADE: pd.array([1, 2, 1, 2, 1, 2, 1, 2], dtype="Int64"),
            s.CHILD_PUGH_CLASS: ["A", "A", "B", "A", "A", "B", "A", np.nan],
            s.CHILD_PUGH_SCORE: pd.array([5, 6, 7, 5, 6, 8, 5, pd.NA], dtype="Int64"),
            s.BCLC_STAGE: ["C", "B", "C", "A", "0", "C", "B", "C"],
            s.TUMOR_NUMBER: [
                "single",
                "multiple",
                "multiple",
                "single",
                "single",
                "multiple",
                "single",
                "multiple",
            ],
            s.MAX_DIAMETER: [5.2, 8.0, 12.5, 3.1, 2.0, 9.9, 4.4, 7.0],
            s.AFP: [12.0, 400.0, 1210.5, 3.2, np.nan, 25000.0, 8.0, 399.9],
            s.CHRONIC_HEPATITIS: ["yes", "yes", "no", "yes", "yes", "no", "yes", "yes"],
            s.AV_FISTULA: ["no", "yes", "no", "no", "no", "no", "no", "yes"],
            s.EXTRAHEPATIC_SUPPLY: ["no", "no", "yes", "no", "no", "no", "no", "no"],
            s.TARGETED_AGENT: [
                "仑伐替尼",
                "sorafenib",
                "lenvatinib",
                "donafenib",
                np.nan,
                "仑伐替尼",
                "lenvatinib",
                "sorafenib",
            ],
            s.IMMUNOTHERAPY_AGENT: [
                "信迪利单抗",
                "camrelizumab",
                np.nan,
                "tislelizumab",
                "sintilimab",
                "camrelizumab",
                "toripalimab",
                "sintilimab",
            ],
            s.OS_MONTHS: [12.5, 20.0, 30.25, 8.0, np.nan, 15.0, 22.0, 6.5],
            s.OS_EVENT: pd.array([1, 0, 1, 1, pd.NA, 0, 0, 1], dtype="Int64"),
            s.PFS_MONTHS: [8.0, 11.5, 30.25, 4.0, np.nan, 15.0, 10.0, 6.5],
            s.PFS_EVENT: pd.array([1, 1, 1, 1, pd.NA, 0, 1, 1], dtype="Int64"),
            s.BEST_RESPONSE: ["PR", "SD", "CR", "PD", "NE", "PR", "SD", np.nan],
            **{
                ae: pd.array([i % 3, 0, 1, 2, 0, 3, pd.NA, 1], dtype="Int64")
                for i, ae in enumerate(s.AE_TERMS)
            },
            s.TREATMENT_START_DATE: pd.to_datetime(
                [
                    "2021-01-04",
                    "2021-02-15",
                    "2021-03-01",
                    "2021-05-20",
                    "2021-06-01",
                    "2021-07-07",
                    "2021-08-30",
                    "2021-10-10",
                ]
            ),
            s.PROGRESSION_DATE: pd.to_datetime(
                ["2021-09-01", "2022-01-30", None, "2021-09-20", None, None, "2022-06-29", None]
            ),
            s.DEATH_DATE: pd.to_datetime(
                [None, None, "2023-09-08", "2022-01-19", None, None, None, "2022-04-25"]
            ),
            s.LAST_FOLLOWUP_DATE: pd.to_datetime(
                [
                    "2022-01-19",
                    "2022-10-15",
                    None,
                    None,
                    "2022-01-01",
                    "2022-10-07",
                    "2023-06-30",
                    None,
                ]
            ),
            s.PROGRESSION_EVENT: pd.array([1, 1, 0, 1, pd.NA, pd.NA, 1, 0], dtype="Int64"),
            s.DEATH_CAUSE: ["hcc", np.nan, "other", "hcc", np.nan, np.nan, np.nan, "hcc"],
            s.LOCAL_START_MONTHS: [np.nan, 0.5, 2.0, 0.0, np.nan, 1.25, np.nan, np.nan],
            s.LOCAL_START_DATE: pd.to_datetime(
                [None, "2021-03-01", "2021-05-01", "2021-05-20", None, "2021-08-14", None, None]
            ),
        }
    )
    for c in s.CATEGORICAL:
        if c != s.ALBI_GRADE:
            df[c] = df[c].astype(object)
    return df


def to_xlsx(df: pd.DataFrame, sheet: str = "cohort", extra_first_sheet: bool = False) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        if extra_first_sheet:
            pd.DataFrame({"note": ["read me first"]}).to_excel(
                writer, sheet_name="README", index=False
            )
        df.to_excel(writer, sheet_name=sheet, index=False)
    return buf.getvalue()


def csv_bytes(df: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> bytes:
    return df.to_csv(index=False, sep=sep, date_format="%Y-%m-%d").encode(encoding)


MINIMAL = "patient_id,local_modality,os_months,os_event\nP1,none,10,1\nP2,mTACE,12,0\n"


# Round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("gbk", ","),
        ("gb18030", ";"),
        ("utf-8", "\t"),
        ("utf-16", "\t"),
    ],
)
def test_csv_round_trip_all_encodings_and_delimiters(encoding, sep):
    expected = canonical_cohort()
    cohort = load_cohort(csv_bytes(expected, encoding, sep), filename="cohort.csv")
    pd.testing.assert_frame_equal(cohort.data, expected)
    assert cohort.derived == ()
    assert cohort.n_rows_read == 8
    assert cohort.data[s.TARGETED_AGENT].iloc[0] == "仑伐替尼"


def test_xlsx_round_trip_equals_csv_round_trip():
    expected = canonical_cohort()
    from_xlsx = load_cohort(to_xlsx(expected), filename="cohort.xlsx")
    from_csv = load_cohort(csv_bytes(expected, "gbk"), filename="cohort.csv")
    pd.testing.assert_frame_equal(from_xlsx.data, expected)
    pd.testing.assert_frame_equal(from_xlsx.data, from_csv.data)


def test_xlsx_prefers_sheet_named_cohort_else_first():
    expected = canonical_cohort()
    both = load_cohort(to_xlsx(expected, extra_first_sheet=True))
    pd.testing.assert_frame_equal(both.data, expected)
    first_only = load_cohort(to_xlsx(expected, sheet="Sheet1"))
    pd.testing.assert_frame_equal(first_only.data, expected)


def test_sources_path_bytes_and_file_object_give_same_cohort(tmp_path):
    raw = csv_bytes(canonical_cohort())
    path = tmp_path / "my cohort.csv"
    path.write_bytes(raw)  # the test writes its own input; the loader never writes
    from_path = load_cohort(path)
    from_str = load_cohort(str(path))
    from_file = load_cohort(io.BytesIO(raw), filename="x.csv")
    from_bytes = load_cohort(raw)
    for other in (from_str, from_file, from_bytes):
        pd.testing.assert_frame_equal(from_path.data, other.data)
    assert from_path.source_name == "my cohort.csv"
    assert from_file.source_name == "x.csv"
    assert from_bytes.source_name == "the uploaded file"
    assert from_path.sha256 == from_bytes.sha256 == (__import__("hashlib").sha256(raw).hexdigest())
    assert isinstance(from_path, Cohort)


def test_demo_cohort_round_trips():
    demo = DATA / "demo_cohort.csv"  # committed; scripts/make_demo_cohort.py regenerates it
    first = load_cohort(demo)
    again = load_cohort(csv_bytes(first.data, "gbk"), filename="demo.csv")
    via_xlsx = load_cohort(to_xlsx(first.data), filename="demo.xlsx")
    pd.testing.assert_frame_equal(first.data, again.data)
    pd.testing.assert_frame_equal(first.data, via_xlsx.data)
    assert first.data[s.PATIENT_ID].is_unique


# read_table --------------------------------------------------------------------------------


def test_read_table_keeps_user_headers_and_file_row_numbers():
    text = "住院号;年龄;OS (months)\n1001;60;12,5\n1002;;8\n"
    table = read_table(text.encode("gbk"), filename="his_export.csv")
    assert list(table.columns) == ["住院号", "年龄", "OS (months)"]
    assert list(table.index) == [2, 3]
    assert table.loc[2, "OS (months)"] == "12,5"
    assert pd.isna(table.loc[3, "年龄"])


def test_upload_travels_as_codes_and_unpickles_to_the_same_table():
    """hcc_core.isolate sends a CSV upload from its child as codes: the table rebuilt from them
    is the table read, cell for cell (empty cells and a blank row included)."""
    df = canonical_cohort()
    data = csv_bytes(df) + b"," * (df.shape[1] - 1) + b"\n"
    upload = read_upload(data, filename="c.csv")
    assert list(upload.codes) == list(upload.table.columns)
    back = pickle.loads(pickle.dumps(upload))
    pd.testing.assert_frame_equal(back.table, upload.table, check_exact=True)
    cells = [type(v) for v in upload.table.to_numpy().ravel()]
    assert [type(v) for v in back.table.to_numpy().ravel()] == cells
    assert (back.name, back.sha256, back.delimiter, back.sheet, back.sheets) == (
        "c.csv",
        upload.sha256,
        ",",
        "",
        (),
    )
    assert back.blank.tolist() == [False] * len(df) + [True]
    pd.testing.assert_frame_equal(load_cohort(back).data, load_cohort(upload).data)
    workbook = read_upload(to_xlsx(df), filename="c.xlsx")  # no codes: pickled as it is
    assert workbook.codes == {}
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(workbook)).table, workbook.table)


def test_example_values_are_the_first_distinct_values_in_file_order():
    """From the CSV reader's codes, as the upload page's pandas expression gives them."""
    df = canonical_cohort()
    for upload in (
        read_upload(csv_bytes(df) + b"," * (df.shape[1] - 1) + b"\n", filename="c.csv"),
        read_upload(to_xlsx(df), filename="c.xlsx"),  # no codes: the pandas expression
    ):
        shown = example_values(upload)
        assert list(shown) == list(upload.table.columns)
        for column, values in shown.items():
            assert values == list(upload.table[column].dropna().astype(str).unique()[:3])
    assert shown[s.SEX] == ["M", "F"] and shown[s.BCLC_STAGE] == ["C", "B", "A"]
    assert example_values(read_upload(csv_bytes(df), filename="c.csv"), n=1)[s.SEX] == ["M"]


def test_read_table_xlsx_cells_as_parsed():
    df = pd.DataFrame({"ID": ["a", "b"], "Age": [60, 61.5]})
    table = read_table(to_xlsx(df))
    assert table["Age"].tolist() == [60, 61.5]
    assert table["ID"].tolist() == ["a", "b"]


# Mapping -----------------------------------------------------------------------------------


def test_mapping_renames_keeps_canonical_and_drops_unknown_with_warning():
    text = "住院号,Group Arm,OS (months),os_event,备注\nH1,none,10,1,x\nH2,HAIC,12.5,0,y\n"
    cohort = load_cohort(
        text.encode(),
        mapping={"住院号": "patient_id", "Group Arm": "local_modality", "OS (months)": "os_months"},
    )
    assert list(cohort.data.columns) == [
        s.PATIENT_ID,
        s.LOCAL_MODALITY,
        s.TREATMENT_GROUP,
        s.OS_MONTHS,
        s.OS_EVENT,
    ]
    assert cohort.data[s.OS_MONTHS].tolist() == [10.0, 12.5]
    assert cohort.mapping == {
        "住院号": "patient_id",
        "Group Arm": "local_modality",
        "OS (months)": "os_months",
    }
    assert any("'备注'" in w and "not used" in w for w in cohort.warnings)


def test_unmapped_unknown_columns_warning_suggests_mapping():
    text = "patient_id,local_modality,OS (months)\nP1,none,3\n"
    cohort = load_cohort(text.encode())
    assert s.OS_MONTHS not in cohort.data.columns
    (warning,) = [w for w in cohort.warnings if "not used" in w]
    assert "'OS (months)' -> os_months" in warning


def test_mapping_to_none_means_do_not_use_without_warning():
    text = "patient_id,local_modality,notes\nP1,none,x\n"
    cohort = load_cohort(text.encode(), mapping={"notes": None})
    assert "notes" not in cohort.data.columns
    assert cohort.warnings == ()


def test_mapping_two_columns_to_one_canonical_is_an_error():
    text = "patient_id,local_modality,OS,os_months\nP1,none,3,4\n"
    with pytest.raises(CohortError, match=r"'OS', 'os_months'.*would all become 'os_months'"):
        load_cohort(text.encode(), mapping={"OS": "os_months"})


def test_mapping_unknown_target_or_source_is_an_error():
    with pytest.raises(CohortError, match=r"sends 'os_event' to 'survival'.*not a column"):
        load_cohort(MINIMAL.encode(), mapping={"os_event": "survival"})
    with pytest.raises(CohortError, match=r"refers to 'Age'.*does not have"):
        load_cohort(MINIMAL.encode(), mapping={"Age": "age"})


def test_case_insensitive_canonical_headers_and_extra_ae_columns_are_kept():
    text = "Patient_ID,LOCAL_MODALITY,ae_Nausea\nP1,none,2\nP2,imrt,0\n"
    cohort = load_cohort(text.encode())
    assert list(cohort.data.columns) == [
        s.PATIENT_ID,
        s.LOCAL_MODALITY,
        s.TREATMENT_GROUP,
        "ae_nausea",
    ]
    assert cohort.data["ae_nausea"].dtype == "Int64"
    assert cohort.data[s.LOCAL_MODALITY].tolist() == ["none", "IMRT"]


# suggest_mapping ---------------------------------------------------------------------------


def test_suggest_mapping_english_synonyms():
    got = suggest_mapping(
        [
            "Patient ID",
            "OS (months)",
            "Overall survival status",
            "Child-Pugh",
            "PFS",
            "Albumin (g/L)",
            "AFP",
            "Sex",
            "Tumour number",
            "random",
        ]
    )
    assert got == {
        "Patient ID": s.PATIENT_ID,
        "OS (months)": s.OS_MONTHS,
        "Child-Pugh": s.CHILD_PUGH_CLASS,
        "PFS": s.PFS_MONTHS,
        "Albumin (g/L)": s.ALBUMIN,
        "AFP": s.AFP,
        "Sex": s.SEX,
        "Tumour number": s.TUMOR_NUMBER,
    }
    assert suggest_mapping(["overall survival"]) == {"overall survival": s.OS_MONTHS}


def test_suggest_mapping_chinese_headers():
    got = suggest_mapping(
        [
            "住院号",
            "年龄",
            "性别",
            "总生存期",
            "无进展生存期",
            "白蛋白(g/L)",
            "总胆红素（μmol/L）",
            "BCLC分期",
            "甲胎蛋白",
            "死亡日期",
            "手足综合征",
        ]
    )
    assert got == {
        "住院号": s.PATIENT_ID,
        "年龄": s.AGE,
        "性别": s.SEX,
        "总生存期": s.OS_MONTHS,
        "无进展生存期": s.PFS_MONTHS,
        "白蛋白(g/L)": s.ALBUMIN,
        "总胆红素（μmol/L）": s.BILIRUBIN,
        "BCLC分期": s.BCLC_STAGE,
        "甲胎蛋白": s.AFP,
        "死亡日期": s.DEATH_DATE,
        "手足综合征": "ae_hand_foot_syndrome",
    }


def test_suggest_mapping_ignores_case_space_and_punctuation():
    for header in ("os months", " OS_MONTHS ", "Os-Months", "OS.months", "ＯＳ（months）"):
        assert suggest_mapping([header]) == {header: s.OS_MONTHS}, header


def test_suggest_mapping_never_maps_two_headers_to_one_column():
    got = suggest_mapping(["OS", "overall survival", "os_months", "年龄", "Age"])
    # A header that is the canonical name (any case) wins over synonyms.
    assert got == {"os_months": s.OS_MONTHS, "Age": s.AGE}
    assert len(set(got.values())) == len(got)


# Bad input: one test per kind of problem ---------------------------------------------------


def test_empty_file():
    with pytest.raises(CohortError, match=r"The file 'x.csv' is empty"):
        load_cohort(b"", filename="x.csv")
    with pytest.raises(CohortError, match=r"is empty"):
        load_cohort(b"\xef\xbb\xbf \r\n\n", filename="x.csv")


def test_header_only():
    with pytest.raises(CohortError, match=r"'h.csv' has a header row but no patient rows"):
        load_cohort(b"patient_id,local_modality\n", filename="h.csv")
    with pytest.raises(CohortError, match=r"header row but no patient rows"):
        load_cohort(b"patient_id,local_modality\n,\n,\n", filename="h.csv")
    with pytest.raises(CohortError, match=r"header row but no patient rows"):
        load_cohort(to_xlsx(pd.DataFrame(columns=["patient_id", "local_modality"])))


def test_png_renamed_to_csv():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50)
    with pytest.raises(
        CohortError, match=r"'scan.csv' is a PNG image, not a cohort table.*CSV UTF-8"
    ):
        load_cohort(png, filename="scan.csv")


def test_pdf_and_other_binary_renamed():
    with pytest.raises(CohortError, match=r"'report.xlsx' is a PDF document"):
        load_cohort(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", filename="report.xlsx")
    with pytest.raises(CohortError, match=r"old-style Excel \(.xls\)"):
        load_cohort(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), filename="old.xls")
    with pytest.raises(CohortError, match=r"not a CSV or Excel file \(it is named like a workbook"):
        load_cohort(b"\x01\x02\x00\x00garbage", filename="data.xlsx")


def test_corrupt_xlsx():
    good = to_xlsx(canonical_cohort())
    with pytest.raises(
        CohortError, match=r"'broken.xlsx' looks like an Excel workbook but could not be opened"
    ):
        load_cohort(good[: len(good) // 2], filename="broken.xlsx")
    zip_not_xlsx = io.BytesIO()
    with zipfile.ZipFile(zip_not_xlsx, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(CohortError, match=r"could not be opened.*save it again"):
        load_cohort(zip_not_xlsx.getvalue(), filename="archive.xlsx")


def test_missing_patient_id_names_the_column_that_looks_like_it():
    text = "住院号,local_modality\n1,none\n"
    with pytest.raises(
        CohortError, match=r"'ids.csv' has no 'patient_id' column.*'住院号' looks like patient_id"
    ):
        load_cohort(text.encode(), filename="ids.csv")


def test_missing_group_column():
    with pytest.raises(
        CohortError,
        match=r"neither a 'local_modality' nor a 'treatment_group'.*'Arm' looks like treatment_group",
    ):
        load_cohort(b"patient_id,Arm\nP1,x\n")


def test_duplicate_ids():
    text = "patient_id,local_modality\nP1,none\nP2,HAIC\nP1,mTACE\nP2,none\n"
    with pytest.raises(
        CohortError,
        match=r"duplicate identifiers 'P1', 'P2' in row 2 \(patient_id P1\), row 3 \(patient_id P2\), row 4",
    ):
        load_cohort(text.encode())


def test_unknown_modality_value_names_values_rows_and_allowed_levels():
    text = "patient_id,local_modality\nP1,none\nP2,TACE\nP3,RFA\nP4,tace\n"
    with pytest.raises(CohortError) as info:
        load_cohort(text.encode(), filename="c.csv")
    msg = str(info.value)
    assert "Column 'local_modality' has values that cannot be used: 'TACE', 'RFA', 'tace'" in msg
    assert "row 3 (patient_id P2), row 4 (patient_id P3), row 5 (patient_id P4)" in msg
    assert "one of none, mTACE, HAIC, IMRT" in msg
    assert msg.startswith("The file 'c.csv' cannot be used.")


def test_non_numeric_time():
    text = "patient_id,local_modality,os_months,os_event\nP1,none,12 months,1\nP2,none,>30,0\n"
    with pytest.raises(
        CohortError,
        match=r"'os_months' has values that cannot be used: '12 months', '>30' \(in row 2 \(patient_id P1\), row 3.*Expected a number",
    ):
        load_cohort(text.encode())


def test_negative_time():
    text = "patient_id,local_modality,pfs_months,pfs_event\nP1,none,-2,1\nP2,none,3,0\n"
    with pytest.raises(
        CohortError,
        match=r"'pfs_months' has values that cannot be used: '-2' \(in row 2 \(patient_id P1\)\).*negative values are impossible",
    ):
        load_cohort(text.encode())


def test_event_codes_other_than_0_1():
    text = (
        "patient_id,local_modality,os_months,os_event\nP1,none,3,2\nP2,none,4,dead\nP3,none,5,1\n"
    )
    with pytest.raises(
        CohortError,
        match=r"'os_event' has values that cannot be used: '2', 'dead'.*Expected 0 or 1",
    ):
        load_cohort(text.encode())


def test_pfs_longer_than_os():
    text = (
        "patient_id,local_modality,os_months,os_event,pfs_months,pfs_event\n"
        "P1,none,10,1,12,1\nP2,HAIC,10,1,10,1\n"
    )
    with pytest.raises(
        CohortError, match=r"'pfs_months' is longer than 'os_months' in row 2 \(patient_id P1\)\. "
    ):
        load_cohort(text.encode())


DEATH_AT_PFS_CENSORING = (
    "patient_id,local_modality,os_months,os_event,pfs_months,pfs_event\n"
    "P1,none,10,1,10,1\nP2,HAIC,7.5,1,7.5,0\nP3,none,9,1,4,0\nP4,HAIC,12,0,12,0\n"
    "P5,none,6,1,6,0\n"
)


def test_death_at_pfs_censoring_loads_and_counts_as_pfs_event_by_default():
    cohort = load_cohort(DEATH_AT_PFS_CENSORING.encode(), filename="pfs.csv")
    data = cohort.data
    # P2 and P5 died when PFS was censored: RECIST/mRECIST make those deaths PFS events.
    assert data["pfs_event"].tolist() == [1, 1, 0, 0, 1]
    assert data["pfs_death_at_censoring"].tolist() == [False, True, False, False, True]
    assert cohort.n_pfs_death_at_censoring == 2
    assert "pfs_death_at_censoring" in cohort.derived
    assert cohort.warnings == (
        "2 patient(s) died (os_event = 1) at the time their progression-free survival was "
        "censored (pfs_event = 0): row 3 (patient_id P2), row 6 (patient_id P5). These deaths "
        "are counted as PFS events (RECIST/mRECIST: PFS ends at progression or death); every "
        "PFS result says so. To keep them censored as in the file, choose that on the upload "
        "page.",
    )


def test_death_at_pfs_censoring_can_stay_censored():
    cohort = load_cohort(DEATH_AT_PFS_CENSORING.encode(), death_as_pfs_event=False)
    assert cohort.data["pfs_event"].tolist() == [1, 0, 0, 0, 0]  # as in the file
    assert cohort.data["pfs_death_at_censoring"].tolist() == [False, True, False, False, True]
    assert cohort.n_pfs_death_at_censoring == 2
    assert "They are kept censored as in the file" in cohort.warnings[0]


def test_no_flag_column_when_no_death_at_pfs_censoring():
    cohort = load_cohort(MINIMAL.encode())
    assert "pfs_death_at_censoring" not in cohort.data.columns
    assert cohort.n_pfs_death_at_censoring == 0


def test_file_over_size_limit(tmp_path):
    raw = MINIMAL.encode()
    with pytest.raises(CohortError, match=r"'big.csv' is 0.0 MB, more than the limit of 0.0 MB"):
        load_cohort(raw, filename="big.csv", max_bytes=len(raw) - 1)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(CohortError, match=r"more than the limit"):
        load_cohort(path, max_bytes=10)
    with pytest.raises(CohortError, match=r"more than the limit"):
        load_cohort(io.BytesIO(raw), max_bytes=10)
    assert DEFAULT_MAX_BYTES == 50_000_000  # "50 MB" as the browser counts it (hcc_core.limits)
    assert load_cohort(raw, max_bytes=len(raw)).n_rows_read == 2


def test_absurdly_long_field():
    text = f"patient_id,local_modality,targeted_agent\nP1,none,{'x' * (MAX_FIELD_CHARS + 1)}\n"
    with pytest.raises(
        CohortError, match=r"Column 'targeted_agent' in row 2 of 'f.csv' holds 10,001 characters"
    ):
        load_cohort(text.encode(), filename="f.csv")
    # A stray quote swallows the following lines into one cell...
    text = 'patient_id,local_modality\nP1,"none\n' + "P2,none\n" * 3000 + 'P3,none"\n'
    with pytest.raises(
        CohortError, match=r"row 2 of 'q.csv' holds 24,012 characters.*never closed"
    ):
        load_cohort(text.encode(), filename="q.csv")
    # ... or, never closed, the rest of the file.
    with pytest.raises(
        CohortError, match=r"A quote \(\"\) opened in row 2 of 'q.csv' is never closed"
    ):
        load_cohort(text.encode()[:-2], filename="q.csv")


def test_ragged_row_and_duplicate_headers():
    with pytest.raises(CohortError, match=r"Row 3 of 'r.csv' has 3 cells but the header has 2"):
        load_cohort(b"patient_id,local_modality\nP1,none\nP2,none,extra\n", filename="r.csv")
    with pytest.raises(CohortError, match=r"two columns named 'age' \(columns 2 and 4\)"):
        load_cohort(b"patient_id,age,local_modality,age\nP1,3,none,4\n")


def test_not_utf8_or_gbk():
    with pytest.raises(CohortError, match=r"neither UTF-8 nor GBK"):
        load_cohort("patient_id\n\u00e9".encode("latin-1") + b"\x80\xff\xfe")


# Performance -------------------------------------------------------------------------------


def test_load_100k_rows_keeps_every_row():
    rng = np.random.default_rng(1)
    n = 100_000
    mod = rng.choice(["none", "mTACE", "HAIC", "IMRT"], n)
    os_m = rng.exponential(20, n).round(2)
    df = pd.DataFrame(
        {
            s.PATIENT_ID: [f"P{i}" for i in range(n)],
            s.LOCAL_MODALITY: mod,
            s.AGE: rng.normal(60, 10, n).round(0),
            s.SEX: rng.choice(["M", "F", "男", "女"], n),
            s.ALBUMIN: rng.normal(40, 4, n).round(1),
            s.BILIRUBIN: rng.uniform(5, 40, n).round(1),
            s.CHILD_PUGH_CLASS: rng.choice(["A", "B"], n),
            s.BCLC_STAGE: rng.choice(["B", "C"], n),
            s.AFP: rng.lognormal(4, 2, n).round(1),
            s.OS_MONTHS: os_m,
            s.OS_EVENT: rng.integers(0, 2, n),
            s.PFS_MONTHS: (os_m * 0.5).round(2),
            s.PFS_EVENT: np.ones(n, dtype=int),
            s.TUMOR_NUMBER: rng.choice(["single", "multiple"], n),
            **{ae: rng.integers(0, 4, n) for ae in s.AE_TERMS},
        }
    )
    raw = csv_bytes(df)
    # Speed is measured by bench/; here: every row of a registry-sized file arrives intact.
    cohort = load_cohort(raw)
    assert len(cohort.data) == n
    assert (cohort.data[s.SEX] == "F").sum() == np.isin(df[s.SEX], ["F", "女"]).sum()


def test_uploads_are_parsed_in_memory_never_written(monkeypatch):
    import builtins
    import os as _os
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError(f"the loader tried to touch the disk: {args[:1]}")

    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    xlsx = to_xlsx(canonical_cohort())
    csv = csv_bytes(canonical_cohort(), "gbk")
    for name in (
        "mkstemp",
        "mkdtemp",
        "NamedTemporaryFile",
        "TemporaryFile",
        "SpooledTemporaryFile",
    ):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr(builtins, "open", read_only_open)
    monkeypatch.setattr(_os, "open", refuse)
    assert len(load_cohort(xlsx).data) == len(load_cohort(csv).data) == 8
    assert read_table(io.BytesIO(xlsx)).shape == (8, len(canonical_cohort().columns))


def test_blank_rows_are_skipped_counted_and_row_numbers_stay_true():
    text = "patient_id,local_modality\nP1,none\n,\n\nP2,TACE\n"
    with pytest.raises(CohortError, match=r"'TACE' \(in row 5 \(patient_id P2\)\)"):
        load_cohort(text.encode())
    cohort = load_cohort(text.replace("TACE", "mTACE").encode(), filename="b.csv")
    assert cohort.n_rows_read == 4 and len(cohort.data) == 2
    assert cohort.warnings == ("2 completely empty row(s) of 'b.csv' were skipped.",)


# Delimiter detection (issue 11 item 7) ------------------------------------------------------


def test_semicolon_file_with_commas_inside_quoted_headers():
    text = '"Patient, id";"local_modality";"Age, years"\nP1;none;"60,5"\nP2;HAIC;70\n'
    table = read_table(text.encode())
    assert list(table.columns) == ["Patient, id", "local_modality", "Age, years"]
    assert table["Age, years"].tolist() == ["60,5", "70"]
    cohort = load_cohort(text.encode(), mapping={"Patient, id": "patient_id", "Age, years": "age"})
    assert cohort.data["age"].tolist() == [60.5, 70.0]  # decimal comma in a ';' file


def test_comma_file_with_semicolons_inside_quotes_and_tab_file():
    text = 'patient_id,local_modality,targeted_agent\nP1,none,"sorafenib; lenvatinib"\n'
    assert read_table(text.encode())["targeted_agent"].tolist() == ["sorafenib; lenvatinib"]
    tab = 'patient_id\tlocal_modality\t"note, with comma; and semicolon"\nP1\tnone\tx\n'
    assert read_table(tab.encode()).shape == (1, 3)


# Upload wizard helpers (issue 13 item 5) ----------------------------------------------------


def test_workbook_sheets_default_and_chosen_sheet():
    book = to_xlsx(canonical_cohort(), extra_first_sheet=True)  # sheets README, cohort
    assert workbook_sheets(book) == ("README", "cohort")
    assert workbook_sheets(MINIMAL.encode()) == ()
    assert default_sheet(["README", "Cohort "]) == "Cohort "
    assert default_sheet(["Sheet1", "Sheet2"]) == "Sheet1"
    assert list(read_table(book, sheet="README").columns) == ["note"]
    assert load_cohort(book).sheet == "cohort"
    assert load_cohort(MINIMAL.encode()).sheet == ""
    with pytest.raises(
        CohortError,
        match=r"The workbook 'b.xlsx' has no sheet named 'Patients'; its sheets are 'README', "
        r"'cohort'\. Choose one of them\.",
    ):
        read_table(book, filename="b.xlsx", sheet="Patients")


def test_unmatched_required_fields():
    assert unmatched_required(["patient_id", None, "treatment_group"]) == []
    assert unmatched_required(["age", ""]) == [
        ("patient_id",),
        ("local_modality", "treatment_group"),
    ]
    assert unmatched_required(["local_modality"]) == [("patient_id",)]


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("病例号", "patient_id"),
        ("住院号", "patient_id"),
        ("患者编号", "patient_id"),
        ("门诊号", "patient_id"),
        ("年龄(岁)", "age"),
        ("总生存期(月)", "os_months"),
        ("死亡(1=是,0=否)", "os_event"),
        ("无进展生存期(月)", "pfs_months"),
        ("疾病进展", "pfs_event"),
        ("治疗开始时间", "treatment_start_date"),
        ("死亡时间", "death_date"),
        ("末次随访时间", "last_followup_date"),
        ("肿瘤最大径(cm)", "max_tumor_diameter_cm"),
        ("乙肝病史", "chronic_hepatitis"),
        ("疗效评估", "best_response"),
    ],
)
def test_common_chinese_emr_headers(header, canonical):
    assert suggest_mapping([header]) == {header: canonical}
