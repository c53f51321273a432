"""Adverse events: the paper's Table 3 p-values from its counts, worst grade, grade 5."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import schema as S
from hcc_core.errors import CohortError, MissingColumnsError
from hcc_core.safety import ANY_AE, ae_table, format_ae_table
from hcc_core.tables import group_column as col

DATA = Path(__file__).resolve().parents[1] / "data"
T3 = json.loads((DATA / "published_values.json").read_text(encoding="utf-8"))[
    "table3_adverse_events_ctcae5"
]
SYS, LOC = S.SYSTEMIC, S.LOCAL_SYSTEMIC
N = {SYS: 39, LOC: 56}
KEY = {SYS: "systemic", LOC: "local_systemic"}
PAPER_TERMS = [k for k, v in T3.items() if isinstance(v, dict) and "category" in v]


@pytest.fixture(scope="module")
def paper() -> pd.DataFrame:
    """95 patients; each patient with an AE has exactly one listed AE, grade 1 (as the
    paper's counts imply: per-term counts sum to the any-AE counts 20 and 49)."""
    frames = []
    for g, n in N.items():
        part = pd.DataFrame({S.TREATMENT_GROUP: [g] * n})
        start = 0
        for term in PAPER_TERMS:
            grades = np.zeros(n, dtype=int)
            k = T3[term][KEY[g]]
            grades[start : start + k] = 1
            start += k
            part[S.AE_PREFIX + term] = pd.array(grades, dtype="Int64")
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def _row(res, term: str, band: str = "any") -> pd.Series:
    t = res.table
    return t[(t["term"] == term) & (t["band"] == band)].iloc[0]


def test_paper_any_adverse_event(paper):
    res = ae_table(paper)
    row = _row(res, ANY_AE, "1-2")
    assert row[col("n", SYS)] == T3["any_grade_1_2"]["systemic"]
    assert row[col("n", LOC)] == T3["any_grade_1_2"]["local_systemic"]
    assert round(row["statistic"], 3) == T3["any_grade_1_2"]["chi2"]
    assert row["p_value"] < 0.001
    assert _row(res, ANY_AE, ">=3")[[col("n", SYS), col("n", LOC)]].tolist() == [0, 0]
    assert np.isnan(_row(res, ANY_AE, ">=3")["p_value"])  # paper prints "-"


@pytest.mark.parametrize("term", PAPER_TERMS)
def test_paper_per_term_p_values(paper, term):
    row = _row(ae_table(paper), S.AE_PREFIX + term)
    assert row["category"] == T3[term]["category"]
    assert row[col("n", SYS)] == T3[term]["systemic"]
    expected = T3[term]["p"]
    if term == "fever":
        # The paper prints 0.089; Pearson chi-square on 0/39 vs 4/56 gives 0.0881.
        expected = 0.088
    assert round(row["p_value"], 3) == expected


def test_fisher_alongside_when_expected_below_5(paper):
    """R: fisher.test(matrix(c(0,39,5,51), 2, byrow=TRUE))$p.value = 0.0758635420576747."""
    res = ae_table(paper)
    pain = _row(res, "ae_pain")
    assert bool(pain["low_expected"]) and pain["fisher_method"] == "exact"
    assert pain["fisher_p"] == pytest.approx(0.0758635420576747, rel=1e-9)
    anyae = _row(res, ANY_AE)
    assert not anyae["low_expected"] and np.isnan(anyae["fisher_p"])


def test_categories_in_paper_order_and_other_terms_last(paper):
    df = paper.assign(ae_fatigue=pd.array([1] * 10 + [0] * 85, dtype="Int64"))
    res = ae_table(df)
    terms = list(dict.fromkeys(res.table["term"]))
    assert terms[0] == ANY_AE and terms[-1] == "ae_fatigue"
    fatigue = _row(res, "ae_fatigue")
    assert fatigue["category"] == "other" and fatigue["label"] == "Fatigue"
    cats = list(dict.fromkeys(res.table["category"]))
    assert cats == ["any", "local", "systemic", "laboratory", "other"]


def test_worst_grade_any_row_and_grade_5_listing():
    df = pd.DataFrame(
        {
            S.PATIENT_ID: ["p1", "p2", "p3", "p4", "p5", "p6"],
            S.TREATMENT_GROUP: [SYS, SYS, SYS, LOC, LOC, LOC],
            "ae_pain": [1, 0, 0, 2, 0, 0],
            "ae_rash": [3, 0, 1, 0, 5, 0],
        }
    )
    res = ae_table(df)
    # p1 has grades 1 and 3: worst 3 -> counted in ">=3", not in "1-2"
    assert _row(res, ANY_AE, ">=3")[col("n", SYS)] == 1
    assert _row(res, ANY_AE, "1-2")[col("n", SYS)] == 1  # p3
    assert _row(res, ANY_AE, "any")[col("n", SYS)] == 2
    assert _row(res, ANY_AE, "5")[col("n", LOC)] == 1
    assert "ae_pain" not in set(res.table.loc[res.table["band"] == "5", "term"])
    assert res.grade5.to_dict("records") == [
        {S.PATIENT_ID: "p5", S.TREATMENT_GROUP: LOC, "term": "ae_rash", "label": "Rash"}
    ]
    assert "Grade 5 (fatal) events are listed separately" in res.method
    shown = format_ae_table(res)
    assert "\u2003\u2003Grade 5" in set(shown["Adverse event"])


def test_missing_grades_leave_the_denominator_and_are_counted():
    df = pd.DataFrame(
        {
            S.TREATMENT_GROUP: [SYS] * 4 + [LOC] * 4,
            "ae_pain": pd.array([1, None, 0, 0, 1, 1, 0, None], dtype="Int64"),
            "ae_fever": pd.array([0, None, 0, 0, 0, 0, 0, 2], dtype="Int64"),
        }
    )
    res = ae_table(df)
    pain = _row(res, "ae_pain")
    assert pain[col("missing", SYS)] == 1 and pain["missing"] == 2
    assert pain[col("pct", SYS)] == pytest.approx(100 / 3)
    anyae = _row(res, ANY_AE)  # patient 2 has no known grade; patient 8 has fever 2
    assert anyae[col("missing", SYS)] == 1 and anyae[col("n", LOC)] == 3
    assert "3 missing grade(s)" in res.notes[0]


def test_bad_grades_and_missing_columns():
    df = pd.DataFrame({S.TREATMENT_GROUP: [SYS, LOC], "ae_pain": [1, 7]})
    with pytest.raises(CohortError, match="whole numbers 0-5.*'ae_pain'"):
        ae_table(df)
    with pytest.raises(CohortError, match="some hold text"):
        ae_table(df.assign(ae_pain=["1", "mild"]))
    with pytest.raises(
        MissingColumnsError, match="The adverse-event table needs the column\\(s\\) 'ae_<term>'"
    ):
        ae_table(df.drop(columns=["ae_pain"]))
    with pytest.raises(MissingColumnsError, match="'treatment_group'"):
        ae_table(df.drop(columns=[S.TREATMENT_GROUP]))


def test_one_group_no_test():
    res = ae_table(pd.DataFrame({S.TREATMENT_GROUP: [SYS] * 3, "ae_pain": [0, 1, 2]}))
    assert res.table["p_value"].isna().all() and "Only one group" in res.notes[0]


def test_format_ae_table_paper_strings(paper):
    shown = format_ae_table(ae_table(paper))
    first = shown.iloc[0]
    assert first["Adverse event"] == "Any adverse event"
    assert first["Systemic (N = 39)"] == "20 (51.28)"
    assert first["Local + systemic (N = 56)"] == "49 (87.50)"
    assert first["p"] == "< 0.001"
    assert shown.iloc[2]["Adverse event"] == "\u2003\u2003Grade >= 3" and shown.iloc[2]["p"] == "-"
    assert shown.iloc[3]["Adverse event"] == "Local treatment-related"
    pain = shown.iloc[4]
    assert pain["Adverse event"] == "Pain" and pain["Local + systemic (N = 56)"] == "5 (8.93)"
    assert pain["p"] == "0.055 *" and pain["Fisher's exact p"] == "0.076"


def test_overall_column_by_hand(paper):
    """Any adverse event overall: 20 + 49 = 69 of 95 patients (72.63 %)."""
    res = ae_table(paper, overall=True)
    assert res.columns == ("Overall", SYS, LOC)
    row = _row(res, ANY_AE)
    assert row[col("n", "Overall")] == 69
    assert row[col("pct", "Overall")] == pytest.approx(100 * 69 / 95)
    assert row["p_value"] == _row(ae_table(paper), ANY_AE)["p_value"]
    shown = format_ae_table(res)
    assert shown.columns[1] == "Overall (N = 95)"
    assert shown.iloc[0]["Overall (N = 95)"] == "69 (72.63)"


def test_compare_by_local_modality_by_hand():
    df = pd.DataFrame({S.LOCAL_MODALITY: ["none", "none", "HAIC", "HAIC", "IMRT"],
                       "ae_pain": [0, 1, 3, 2, np.nan]})
    res = ae_table(df, by=S.LOCAL_MODALITY, overall=True)
    pain3 = _row(res, "ae_pain", ">=3")
    assert [pain3[col("n", g)] for g in ("Overall", "none", "HAIC")] == [1, 0, 1]
    # IMRT's only patient has no known grade: "-" (not "0" or "nan"), explained below
    assert np.isnan(pain3[col("pct", "IMRT")])
    assert pain3[col("pct", "Overall")] == pytest.approx(25.0)
    shown = format_ae_table(res)
    assert list(shown.columns[1:5]) == ["Overall (N = 5)", "Systemic only (N = 2)",
                                        "HAIC (N = 2)", "IMRT (N = 1)"]
    assert shown.iloc[0]["IMRT (N = 1)"] == "-"
    assert "nan" not in shown.to_string().lower()
    assert any(n.startswith('"-": ') for n in shown.attrs["notes"])
