"""Codings, derived fields and consistency checks (hcc_core.validate, via load_cohort)."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from hcc_core import CohortError, load_cohort
from hcc_core import schema as s
from hcc_core.validate import albi_grade_from_score, derive_albi, validate_cohort


def load(text: str, **kw):
    return load_cohort(text.encode("utf-8"), filename="t.csv", **kw)


# Codings -----------------------------------------------------------------------------------


def test_sex_codings():
    text = "patient_id,local_modality,sex\n1,none,M\n2,none,female\n3,none,男\n4,none,女\n5,none,Male\n6,none,\n7,none,未知\n"
    got = load(text).data[s.SEX].tolist()
    assert got[:5] == ["M", "F", "M", "F", "M"]
    assert all(pd.isna(v) for v in got[5:])


def test_yes_no_and_event_codings():
    text = (
        "patient_id,local_modality,av_fistula,chronic_hepatitis,os_months,os_event\n"
        "1,none,1,yes,3,1\n2,none,0,no,3,0\n3,none,TRUE,是,3,是\n4,none,false,否,3,否\n"
        "5,none,有,无,3,true\n6,none,Yes,N,3,1.0\n"
    )
    data = load(text).data
    assert data[s.AV_FISTULA].tolist() == ["yes", "no", "yes", "no", "yes", "yes"]
    assert data[s.CHRONIC_HEPATITIS].tolist() == ["yes", "no", "yes", "no", "no", "no"]
    assert data[s.OS_EVENT].tolist() == [1, 0, 1, 0, 1, 1]
    assert data[s.OS_EVENT].dtype == "Int64"


def test_categories_case_insensitive_and_modality_none_words():
    text = (
        "patient_id,local_modality,child_pugh_class,bclc_stage,tumor_number,best_response\n"
        "1,NONE,a,c,Single,pr\n2,无,Child-Pugh B,BCLC b,多发,cr\n3,mtace,A,0,multiple,ne\n"
        "4,haic,b,A,单发,Pd\n5,Imrt,c,D,SINGLE,sd\n"
    )
    data = load(text).data
    assert data[s.LOCAL_MODALITY].tolist() == ["none", "none", "mTACE", "HAIC", "IMRT"]
    assert data[s.TREATMENT_GROUP].tolist() == ["systemic"] * 2 + ["local+systemic"] * 3
    assert data[s.CHILD_PUGH_CLASS].tolist() == ["A", "B", "A", "B", "C"]
    assert data[s.BCLC_STAGE].tolist() == ["C", "B", "0", "A", "D"]
    assert data[s.TUMOR_NUMBER].tolist() == ["single", "multiple", "multiple", "single", "single"]
    assert data[s.BEST_RESPONSE].tolist() == ["PR", "CR", "NE", "PD", "SD"]


def test_ambiguous_category_is_an_error_naming_values():
    text = "patient_id,local_modality,sex,av_fistula\n1,none,X,maybe\n2,none,M,no\n"
    with pytest.raises(CohortError) as info:
        load(text)
    msg = str(info.value)
    assert "it has 2 problems" in msg
    assert "Column 'sex' has values that cannot be used: 'X' (in row 2 (patient_id 1))" in msg
    assert "Column 'av_fistula' has values that cannot be used: 'maybe'" in msg
    assert "Expected one of no, yes" in msg


def test_treatment_group_only_is_normalised():
    text = "patient_id,treatment_group\n1,Systemic\n2,Local + Systemic\n3,local+systemic\n"
    cohort = load(text)
    assert cohort.data[s.TREATMENT_GROUP].tolist() == [
        "systemic",
        "local+systemic",
        "local+systemic",
    ]
    assert s.LOCAL_MODALITY not in cohort.data.columns
    assert cohort.derived == ()


def test_empty_modality_filled_only_where_unambiguous():
    text = "patient_id,local_modality,treatment_group\n1,,systemic\n2,,local+systemic\n3,HAIC,\n"
    cohort = load(text)
    assert cohort.data[s.LOCAL_MODALITY].tolist()[0] == "none"
    assert pd.isna(cohort.data[s.LOCAL_MODALITY].iloc[1])
    assert cohort.data[s.TREATMENT_GROUP].tolist() == [
        "systemic",
        "local+systemic",
        "local+systemic",
    ]
    assert (
        "'local_modality' was empty for 1 patients in the systemic group and was set to 'none'."
        in cohort.warnings
    )


def test_empty_modality_without_group_is_an_error():
    text = "patient_id,local_modality\n1,none\n2,\n3,mTACE\n"
    with pytest.raises(
        CohortError,
        match=r"1 patients have no treatment group \(row 3 \(patient_id 2\)\).*not read as 'none'",
    ):
        load(text)


def test_modality_and_group_must_agree():
    text = "patient_id,local_modality,treatment_group\n1,none,systemic\n2,mTACE,systemic\n3,none,local+systemic\n"
    with pytest.raises(
        CohortError,
        match=r"'local_modality' and 'treatment_group' disagree in row 3 \(patient_id 2\), row 4 \(patient_id 3\)",
    ):
        load(text)


def test_excel_numeric_ids_and_whitespace_are_kept_as_typed():
    df = pd.DataFrame({"patient_id": [1001, 1002], "local_modality": [" none ", "HAIC"]})
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    data = load_cohort(buf.getvalue()).data
    assert data[s.PATIENT_ID].tolist() == ["1001", "1002"]
    assert data[s.LOCAL_MODALITY].tolist() == ["none", "HAIC"]


def test_empty_patient_id_is_an_error():
    with pytest.raises(CohortError, match=r"'patient_id' is empty in row 3\. Give every patient"):
        load("patient_id,local_modality\nP1,none\n,none\n")


# Numbers -----------------------------------------------------------------------------------


def test_decimal_comma_only_in_semicolon_files():
    text = "patient_id;local_modality;albumin_g_l\nP1;none;38,5\nP2;none;40\n"
    assert load(text).data[s.ALBUMIN].tolist() == [38.5, 40.0]
    with pytest.raises(
        CohortError,
        match=r"'albumin_g_l' has values that cannot be used: '38,5'.*decimal separator",
    ):
        load('patient_id,local_modality,albumin_g_l\nP1,none,"38,5"\n')


def test_out_of_range_values():
    text = "patient_id,local_modality,age,child_pugh_score\nP1,none,150,5\nP2,none,60,4\n"
    with pytest.raises(CohortError) as info:
        load(text)
    msg = str(info.value)
    assert (
        "Column 'age' has values that cannot be used: '150' (in row 2 (patient_id P1)). Expected between 0 and 120 years."
        in msg
    )
    assert (
        "Column 'child_pugh_score' has values that cannot be used: '4' (in row 3 (patient_id P2)). Expected a whole number from 5 to 15."
        in msg
    )


def test_censored_value_text_like_less_than_is_rejected():
    with pytest.raises(
        CohortError,
        match=r"'afp_ng_ml' has values that cannot be used: '<20'.*give the number itself",
    ):
        load("patient_id,local_modality,afp_ng_ml\nP1,none,<20\n")


def test_adverse_event_grades():
    data = load("patient_id,local_modality,ae_rash\nP1,none,3\nP2,none,0\nP3,none,\n").data
    assert data["ae_rash"].dtype == "Int64"
    assert data["ae_rash"].tolist()[:2] == [3, 0] and pd.isna(data["ae_rash"].iloc[2])
    with pytest.raises(CohortError, match=r"'ae_rash'.*'6', '1.5'.*whole number from 0 to 5"):
        load("patient_id,local_modality,ae_rash\nP1,none,6\nP2,none,1.5\n")


# ALBI --------------------------------------------------------------------------------------


def test_albi_derived_from_albumin_and_bilirubin():
    text = (
        "patient_id,local_modality,albumin_g_l,bilirubin_umol_l\n"
        "1,none,40,20\n2,none,45,10\n3,none,30,50\n4,none,28,60\n5,none,,12\n"
    )
    cohort = load(text)
    score = cohort.data[s.ALBI_SCORE].to_numpy()
    expected = [
        0.66 * math.log10(20) - 3.4,
        0.66 - 3.825,
        0.66 * math.log10(50) - 2.55,
        0.66 * math.log10(60) - 2.38,
    ]
    np.testing.assert_allclose(score[:4], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(score[:4], [-2.541320, -3.165, -1.428680, -1.206420], atol=1e-6)
    assert np.isnan(score[4])
    assert cohort.data[s.ALBI_GRADE].tolist()[:4] == [2, 1, 2, 3]
    assert pd.isna(cohort.data[s.ALBI_GRADE].iloc[4])
    assert cohort.derived == (s.TREATMENT_GROUP, s.ALBI_SCORE, s.ALBI_GRADE)


def test_albi_grade_cut_points_are_inclusive():
    grades = albi_grade_from_score(pd.Series([-2.60, -2.5999, -1.39, -1.3899, np.nan]))
    assert grades.iloc[:4].tolist() == [1, 2, 2, 3]
    assert pd.isna(grades.iloc[4]) and grades.dtype == "Int64"


def test_albi_nonpositive_bilirubin_gives_nan():
    assert np.isnan(derive_albi(pd.Series([40.0]), pd.Series([0.0])).iloc[0])


def test_given_albi_grade_is_kept_and_score_still_derived():
    text = "patient_id,local_modality,albumin_g_l,bilirubin_umol_l,albi_grade\n1,none,40,20,3\n"
    cohort = load(text)
    assert cohort.data[s.ALBI_GRADE].tolist() == [3]
    assert cohort.data[s.ALBI_SCORE].iloc[0] == pytest.approx(-2.541320, abs=1e-6)


# Dates -------------------------------------------------------------------------------------


def test_months_and_events_derived_from_dates_with_warning():
    text = (
        "patient_id,local_modality,treatment_start_date,progression_date,death_date,last_followup_date\n"
        "1,none,2021-01-01,2021-04-01,2021-07-01,\n"
        "2,HAIC,2021/1/1,,,2022-01-01\n"
        "3,none,2021年1月1日,2021.03.02,,2021-12-31\n"
        "4,none,2021-01-01,,,\n"
    )
    cohort = load(text)
    d = cohort.data
    np.testing.assert_allclose(
        d[s.OS_MONTHS].to_numpy()[:3], [181 / 30.4375, 365 / 30.4375, 364 / 30.4375], atol=1e-12
    )
    np.testing.assert_allclose(
        d[s.PFS_MONTHS].to_numpy()[:3], [90 / 30.4375, 365 / 30.4375, 60 / 30.4375], atol=1e-12
    )
    assert d[s.OS_EVENT].tolist()[:3] == [1, 0, 0]
    assert d[s.PFS_EVENT].tolist()[:3] == [1, 0, 1]
    assert np.isnan(d[s.OS_MONTHS].iloc[3]) and pd.isna(d[s.OS_EVENT].iloc[3])
    assert d[s.TREATMENT_START_DATE].dtype == "datetime64[ns]"
    assert d[s.TREATMENT_START_DATE].nunique() == 1
    assert (
        "'os_months' and 'os_event' were derived from treatment_start_date and death_date "
        "or else last_followup_date for 3 of 4 patients (days / 30.4375), because the file "
        "has no 'os_months' column."
    ) in cohort.warnings
    assert any(w.startswith("'pfs_months' and 'pfs_event' were derived") for w in cohort.warnings)
    assert (
        "1 of 4 patients have no 'os_months'; they stay in the cohort but OS analyses will exclude them."
        in cohort.warnings
    )
    assert set(cohort.derived) >= {s.OS_MONTHS, s.OS_EVENT, s.PFS_MONTHS, s.PFS_EVENT}


def test_dates_past_what_a_date_column_holds_are_named_not_a_crash():
    # pandas holds dates from 1677-09-22 to 2262-04-11; 1500 and 2300 were an
    # OutOfBoundsDatetime traceback from deep inside pandas before.
    with pytest.raises(
        CohortError,
        match=r"'death_date' has values that cannot be used: '1500-01-01', '2300-02-03' "
        r"\(in row 2 \(patient_id 1\), row 3 \(patient_id 2\)\).*YYYY-MM-DD",
    ):
        load("patient_id,local_modality,death_date\n1,none,1500-01-01\n2,none,2300-02-03\n"
             "3,none,2262-04-10\n")
    cohort = load("patient_id,local_modality,death_date\n1,none,1677-09-22\n2,none,2262-04-10\n")
    assert cohort.data[s.DEATH_DATE].dt.strftime("%Y-%m-%d").tolist() == ["1677-09-22",
                                                                          "2262-04-10"]


def test_given_months_are_not_overwritten_by_dates():
    text = (
        "patient_id,local_modality,os_months,os_event,treatment_start_date,death_date\n"
        "1,none,5.5,1,2021-01-01,2021-07-01\n"
    )
    cohort = load(text)
    assert cohort.data[s.OS_MONTHS].tolist() == [5.5]
    assert not any("derived" in w for w in cohort.warnings)


def test_ambiguous_or_impossible_dates_are_errors():
    with pytest.raises(
        CohortError,
        match=r"'death_date' has values that cannot be used: '03/05/2021', '2021-02-30'.*YYYY-MM-DD",
    ):
        load("patient_id,local_modality,death_date\n1,none,03/05/2021\n2,none,2021-02-30\n")
    with pytest.raises(
        CohortError,
        match=r"'death_date' has dates before treatment_start_date in row 2 \(patient_id 1\)",
    ):
        load(
            "patient_id,local_modality,treatment_start_date,death_date\n1,none,2021-05-01,2021-04-01\n"
        )


# Survival warnings and checks --------------------------------------------------------------


def test_missing_survival_times_stay_and_are_counted():
    text = "patient_id,local_modality,os_months,os_event\n1,none,5,1\n2,none,,\n3,none,NA,0\n"
    cohort = load(text)
    assert len(cohort.data) == 3
    assert cohort.warnings == (
        "2 of 3 patients have no 'os_months'; they stay in the cohort but OS analyses will exclude them.",
    )


def test_time_without_event_column_is_warned():
    cohort = load("patient_id,local_modality,pfs_months\n1,none,5\n")
    assert cohort.warnings == (
        "The file has 'pfs_months' but no 'pfs_event', so PFS cannot be analysed; add 'pfs_event' (1 = event, 0 = censored).",
    )


def test_many_rows_are_summarised_in_messages():
    rows = "".join(f"P{i},none,-1\n" for i in range(12))
    with pytest.raises(CohortError, match=r"row 6 \(patient_id P4\) and 7 more rows\)"):
        load("patient_id,local_modality,os_months\n" + rows)


# Direct use on hand-built frames -----------------------------------------------------------


def test_validate_cohort_accepts_plain_python_columns():
    raw = pd.DataFrame(
        {
            "patient_id": ["a", "b"],
            "local_modality": ["none", "IMRT"],
            "os_months": [3, 4],
            "os_event": [1, 0],
            "age": [50, 61],
        },
        index=[2, 3],
    )
    data, warnings, derived = validate_cohort(raw, "hand-built")
    assert data[s.OS_MONTHS].dtype == "float64" and data[s.AGE].tolist() == [50.0, 61.0]
    assert data[s.OS_EVENT].dtype == "Int64"
    assert data.index.tolist() == [0, 1]
    assert warnings == [] and derived == [s.TREATMENT_GROUP]


def test_contract_dtypes():
    text = (
        "patient_id,local_modality,age,sex,albi_grade,child_pugh_score,os_months,os_event,"
        "ae_pain,death_date\n1,none,60,M,1,5,3,1,0,2021-01-01\n"
    )
    data = load(text).data
    dtypes = {c: str(t) for c, t in data.dtypes.items()}
    assert dtypes == {
        "patient_id": "object",
        "local_modality": "object",
        "treatment_group": "object",
        "age": "float64",
        "sex": "object",
        "albi_grade": "Int64",
        "child_pugh_score": "Int64",
        "os_months": "float64",
        "os_event": "Int64",
        "ae_pain": "Int64",
        "death_date": "datetime64[ns]",
    }
    assert isinstance(data[s.PATIENT_ID].iloc[0], str)


def test_validate_cohort_drops_unknown_columns_with_warning():
    raw = pd.DataFrame(
        {"patient_id": ["a"], "treatment_group": ["systemic"], "notes": ["x"], "ae_nausea": [2]}
    )
    data, warnings, _ = validate_cohort(raw)
    assert list(data.columns) == [s.PATIENT_ID, s.TREATMENT_GROUP, "ae_nausea"]
    assert warnings == ["1 column(s) are not in the data dictionary and were not used: 'notes'."]


# Non-finite numbers (issue 11 item 5) -------------------------------------------------------


def test_non_finite_numbers_typed_as_text_are_rejected_with_rows_and_values():
    text = (
        "patient_id,local_modality,age,afp_ng_ml,os_months,os_event\n"
        "P1,none,inf,3,10,1\nP2,HAIC,60,1e309,10,1\nP3,none,NaN,-inf,10,1\n"
        "P4,none,,5,-Infinity,0\nP5,none,61,,8,0\n"
    )
    with pytest.raises(CohortError, match=r"it has 3 problems") as err:
        load(text)
    msg = str(err.value)
    assert (
        "Column 'age' has values that cannot be used: 'inf', 'NaN' (in row 2 (patient_id P1), "
        "row 4 (patient_id P3)). Expected a finite number;"
    ) in msg
    assert (
        "Column 'afp_ng_ml' has values that cannot be used: '1e309', '-inf' (in row 3 "
        "(patient_id P2), row 4 (patient_id P3))."
    ) in msg
    assert "Column 'os_months' has values that cannot be used: '-Infinity' (in row 5" in msg
    # an infinite value is reported once, as non-finite, not again as out of range
    assert "between 0 and 120" not in msg and "negative values are impossible" not in msg


def test_empty_cells_and_missing_tokens_still_mean_unknown_in_number_columns():
    data = load("patient_id,local_modality,age\nP1,none,\nP2,none,NA\nP3,none,61\n").data
    assert data[s.AGE].isna().tolist() == [True, True, False]
    assert data[s.AGE].iloc[2] == 61.0


# Dates at midnight (issue 11 item 8) --------------------------------------------------------


def test_excel_datetimes_and_text_dates_both_become_midnight_dates():
    import datetime as dt

    df = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "local_modality": ["none", "HAIC"],
            # P1: start typed as text, death an Excel date-time late in the day
            # P2: start an Excel date-time in the evening, follow-up end a text date
            "treatment_start_date": ["2021-01-01", dt.datetime(2021, 1, 1, 18, 30)],
            "death_date": [dt.datetime(2021, 3, 2, 8, 15), None],
            "last_followup_date": [None, "2021-03-02"],
        }
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        df.to_excel(writer, sheet_name="cohort", index=False)
    data = load_cohort(buf.getvalue(), filename="dates.xlsx").data
    assert data[s.TREATMENT_START_DATE].tolist() == [pd.Timestamp("2021-01-01")] * 2
    assert data[s.DEATH_DATE].iloc[0] == pd.Timestamp("2021-03-02")
    # 2021-01-01 -> 2021-03-02 is 60 days for both (the evening start lost a day before)
    np.testing.assert_allclose(data[s.OS_MONTHS].to_numpy(), [60 / 30.4375] * 2, atol=1e-12)
    assert data[s.OS_EVENT].tolist() == [1, 0]


# Recoding preview (issue 13 item 5) ---------------------------------------------------------


def test_recoding_preview_shows_what_loading_will_read():
    from hcc_core import recoding_preview

    raw = pd.DataFrame(
        {
            "性别": ["男", "女", "男", None, "未知"],
            "乙肝": ["是", "无", "有", "否", "x"],
            "局部治疗": ["无", "mTACE", "无", "HAIC", "IMRT"],
            "年龄": ["60", "61", "62", "63", "64"],
        }
    )
    got = recoding_preview(
        raw, {"性别": "sex", "乙肝": "chronic_hepatitis", "局部治疗": "local_modality", "年龄": "age"}
    )
    assert list(got.columns) == ["field", "column", "value", "becomes", "rows", "recognised"]
    rows = list(got[["field", "value", "becomes", "rows", "recognised"]].itertuples(index=False))
    assert [tuple(r) for r in rows] == [
        ("sex", "男", "M", 2, True),
        ("sex", "女", "F", 1, True),
        ("sex", "未知", "(empty)", 1, True),
        ("chronic_hepatitis", "是", "yes", 1, True),
        ("chronic_hepatitis", "无", "no", 1, True),
        ("chronic_hepatitis", "有", "yes", 1, True),
        ("chronic_hepatitis", "否", "no", 1, True),
        ("chronic_hepatitis", "x", "", 1, False),
        ("local_modality", "无", "none", 2, True),
        ("local_modality", "mTACE", "mTACE", 1, True),
        ("local_modality", "HAIC", "HAIC", 1, True),
        ("local_modality", "IMRT", "IMRT", 1, True),
    ]  # age is a number: read as written, not listed
    assert recoding_preview(raw, {"性别": None}).empty
