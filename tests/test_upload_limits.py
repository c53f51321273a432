"""Bounded uploads (issue 18 item 3): hostile files built here, refused before they cost much.

Each test makes a real file (a zip bomb workbook, a 10-million-row CSV, ...) and checks the
full-sentence message, and that the refusal comes from the cheap check (seconds, not minutes).
"""

from __future__ import annotations

import io
import math
import re
import time
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hcc_core import CohortError, limits, load_cohort, read_table, workbook_sheets
from hcc_core.io import DEFAULT_MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
CSV = b"patient_id,local_modality,os_months,os_event\n"


def _rows(n: int) -> bytes:
    return CSV + b"".join(b"P%d,none,%d,1\n" % (i, 1 + i % 30) for i in range(n))


def _workbook(n_rows: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "cohort"
    ws.append(["patient_id", "local_modality", "os_months", "os_event"])
    for i in range(n_rows):
        ws.append([f"P{i}", "none", 1 + i % 30, 1])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _bomb(sheet_bytes: int, compresslevel: int = 9) -> bytes:
    """A valid small workbook whose sheet XML is padded with ``sheet_bytes`` of repeated rows.

    Written in chunks (never all in memory): zlib squeezes the repetition ~1000:1, as in the
    3.2 MB file that expanded to a 1.1 GB sheet (issue 18).
    """
    small = zipfile.ZipFile(io.BytesIO(_workbook(3)))
    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 2000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for info in small.infolist():
            data = small.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with z.open(info.filename, "w", force_zip64=True) as part:
                part.write(head)
                for _ in range(sheet_bytes // len(row)):
                    part.write(row)
                part.write(b"</sheetData>" + tail)
    return out.getvalue()


# One place, agreed by browser, server and loader ---------------------------------------------


def test_config_browser_server_and_loader_agree_on_50_mb():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    mb = config["server"]["maxUploadSize"]
    assert mb == limits.UPLOAD_LIMIT_MB == 50
    # Streamlit's browser code counts 1 MB = 1,000,000 bytes (1,048,576 only on Windows); its
    # server 1,048,576 (starlette_routes.py). The loader takes the stricter reading.
    browser, server = mb * 1_000_000, mb * 1024 * 1024
    assert DEFAULT_MAX_BYTES == limits.MAX_UPLOAD_BYTES == min(browser, server) == 50_000_000
    # ... and its message quotes the number the browser shows ("50.0MB").
    with pytest.raises(CohortError) as err:
        load_cohort(b"x" * (DEFAULT_MAX_BYTES + 1), filename="big.csv")
    assert str(err.value).startswith(
        "The file 'big.csv' is 50.0 MB, more than the limit of 50.0 MB."
    )
    assert load_cohort(_rows(3), filename="ok.csv", max_bytes=len(_rows(3))).n_rows_read == 3


def test_upload_page_states_the_limits_from_the_same_module():
    page = (ROOT / "pages" / "upload.py").read_text(encoding="utf-8")
    assert "describe_limits()" in page
    assert "2**20" not in page and "DEFAULT_MAX_BYTES" not in page
    assert limits.describe_limits() == (
        "Files up to 50 MB and 1,000,000 patient rows; a workbook may expand to at most 300 MB "
        "of sheet data; reading a file may take at most 60 seconds."
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Files up to 50 MB and 1,000,000 patient rows" in readme


# Rows ----------------------------------------------------------------------------------------


def test_ten_million_row_csv_stops_at_the_cap():
    data = b"patient_id\n" + b"1\n" * 10_000_000  # 20 MB, under the byte limit
    assert len(data) < DEFAULT_MAX_BYTES
    start = time.process_time()
    with pytest.raises(CohortError) as err:
        read_table(data, filename="ten_million.csv")
    assert str(err.value) == (
        "The file 'ten_million.csv' has more than 1,000,000 patient rows, the most the app reads "
        "from one file. Split it into smaller files (for example by year of treatment) or delete "
        "rows that are not patients, then upload it again."
    )
    # The whole file would take ~10 s of CPU and >1 GB; stopping at the cap costs a fraction.
    assert time.process_time() - start < 8


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_row_cap_is_exact(kind):
    make = _rows if kind == "csv" else _workbook
    name = f"f.{kind}"
    assert len(read_table(make(10), filename=name, max_rows=10)) == 10
    with pytest.raises(CohortError, match=r"'f\.\w+' has more than 10 patient rows"):
        read_table(make(11), filename=name, max_rows=10)
    with pytest.raises(CohortError, match=r"more than 10 patient rows"):
        load_cohort(make(11), filename=name, max_rows=10)


def test_row_cap_counts_records_not_lines():
    # Quoted line breaks make 12 lines of 10 records: within a cap of 10.
    data = CSV + b"".join(b'P%d,"none",1,1\n' % i for i in range(8))
    data += b'P8,none,"1\n",1\nP9,none,"1\n",1\n'
    assert data.count(b"\n") > 11
    assert list(read_table(data, max_rows=10)["patient_id"]) == [f"P{i}" for i in range(10)]


# Workbooks: the zip directory is checked before any XML is parsed ----------------------------


def test_zip_bomb_workbook_refused_by_compression_ratio():
    bomb = _bomb(60_000_000)  # 60 MB of sheet XML in a file of well under 1 MB
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(CohortError) as err:
        read_table(bomb, filename="bomb.xlsx")
    message = str(err.value)
    assert re.fullmatch(
        r"The workbook 'bomb\.xlsx' contains a part \('xl/worksheets/sheet1\.xml'\) compressed "
        r"[\d,]+ to 1, more than the limit of 100 to 1; Excel does not write such files, they "
        r"are made to exhaust a server's memory\. Open the file in Excel and save it again, or "
        r"save the sheet as CSV UTF-8, then upload it again\.",
        message,
    ), message
    assert time.perf_counter() - start < 2  # read the directory only; parsing takes minutes
    with pytest.raises(CohortError, match="compressed"):
        workbook_sheets(bomb, filename="bomb.xlsx")  # the sheet list is not read either


def test_workbook_expanding_beyond_the_size_limit_refused():
    # Compressed less (level 1) but big: 310 MB of sheet XML.
    bomb = _bomb(310_000_000, compresslevel=1)
    start = time.perf_counter()
    with pytest.raises(CohortError) as err:
        load_cohort(bomb, filename="huge.xlsx")
    assert re.fullmatch(
        r"The workbook 'huge\.xlsx' expands to 3\d\d MB of sheet data when opened, more than "
        r"the limit of 300 MB\. Save the sheet as CSV UTF-8 in Excel \(smaller and faster to "
        r"read\) or split the workbook, then upload it again\.",
        str(err.value),
    ), str(err.value)
    assert time.perf_counter() - start < 2


def test_ordinary_workbook_passes_the_archive_checks():
    data = _workbook(2000)
    parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert sum(p.file_size for p in parts) < limits.MAX_XLSX_UNCOMPRESSED_BYTES
    assert len(read_table(data, filename="ok.xlsx")) == 2000


# Time budget ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_time_budget_stops_the_read(kind):
    data = _rows(5000) if kind == "csv" else _workbook(5000)
    with pytest.raises(CohortError) as err:
        read_table(data, filename=f"slow.{kind}", seconds=0)
    assert str(err.value) == (
        f"Reading 'slow.{kind}' took longer than 0 seconds, the limit for one file, and was "
        "stopped. Save it as CSV UTF-8 (much faster to read than .xlsx) or delete columns and "
        "rows the app does not use, then upload it again."
    )
    assert len(read_table(data, seconds=limits.PARSE_SECONDS)) == 5000


def test_limits_are_documented_numbers():
    assert limits.MAX_ROWS == 1_000_000
    assert limits.MAX_XLSX_COMPRESSION_RATIO == 100
    assert math.isclose(limits.PARSE_SECONDS, 60.0)


def test_a_file_at_the_cap_still_takes_the_fast_reader(monkeypatch):
    # Regression: header + max_rows lines once counted as over the cap, which sent every
    # 1,000,000-row file to the slow row-limited reader.
    from hcc_core import io as hcc_io

    def no_pandas(*args, **kwargs):
        raise AssertionError("the pandas reader was used")

    monkeypatch.setattr(hcc_io, "_csv_pandas", no_pandas)
    assert len(read_table(_rows(10), max_rows=10)) == 10
    assert len(read_table(_rows(10).rstrip(b"\n"), max_rows=10)) == 10
