"""Uploads parsed in a child process with time and memory budgets (issue 18 item 3)."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest

from hcc_core import CohortError, Upload, load_cohort, read_upload
from hcc_core.isolate import run_bounded

CSV = b"patient_id,local_modality,os_months,os_event\nP1,none,3,1\nP2,HAIC,5,0\nP3,mTACE,7,1\n"


def _workbook(n_rows: int) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("cohort")
    ws.append(["patient_id", "local_modality", "os_months", "os_event", "note"])
    for i in range(n_rows):
        ws.append([f"P{i}", "none", 1 + i % 30, 1, "x" * 20])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_child_reads_the_same_table_and_load_cohort_takes_it_without_parsing_again():
    upload = run_bounded(read_upload, CSV, filename="c.csv", name="c.csv")
    assert isinstance(upload, Upload)
    here = read_upload(CSV, filename="c.csv")
    pd.testing.assert_frame_equal(upload.table, here.table)
    assert (upload.name, upload.sha256, upload.delimiter, upload.sheets) == (
        "c.csv",
        here.sha256,
        ",",
        (),
    )
    cohort = load_cohort(upload)
    direct = load_cohort(CSV, filename="c.csv")
    pd.testing.assert_frame_equal(cohort.data, direct.data)
    assert cohort.sha256 == direct.sha256 and cohort.source_name == "c.csv"
    assert list(cohort.data["local_modality"]) == ["none", "HAIC", "mTACE"]


def test_workbook_sheets_come_with_the_single_read():
    upload = run_bounded(read_upload, _workbook(3), filename="w.xlsx", name="w.xlsx")
    assert upload.sheets == ("cohort",) and upload.sheet == "cohort"
    assert list(upload.table["patient_id"]) == ["P0", "P1", "P2"]


def test_the_childs_cohort_error_is_raised_with_its_message():
    with pytest.raises(CohortError) as err:
        run_bounded(read_upload, b"patient_id\n" + b"1\n" * 20, filename="r.csv", name="r.csv",
                    max_rows=10)
    assert str(err.value).startswith("The file 'r.csv' has more than 10 patient rows")


def test_time_budget_kills_a_stuck_child():
    start = time.monotonic()
    with pytest.raises(CohortError) as err:
        run_bounded(time.sleep, 60, name="stuck.xlsx", seconds=0.5)
    assert time.monotonic() - start < 10  # budget 0.5 s + 2 s grace + start-up
    assert str(err.value) == (
        "Reading 'stuck.xlsx' took longer than 0.5 seconds, the limit for one file, and was "
        "stopped. Save it as CSV UTF-8 (much faster to read than .xlsx) or delete columns and "
        "rows the app does not use, then upload it again."
    )


def test_slow_workbook_stopped_by_its_own_deadline():
    with pytest.raises(CohortError, match=r"'slow\.xlsx' took longer than 0\.01 seconds"):
        run_bounded(read_upload, _workbook(3_000), filename="slow.xlsx", name="slow.xlsx",
                    seconds=0.01)


def test_memory_budget():
    # 2 GiB asked of a child capped at 1 GiB of address space.
    with pytest.raises(CohortError) as err:
        run_bounded(np.ones, 2 * 1024**3 // 8, name="big.xlsx", memory_bytes=1024**3)
    assert str(err.value) == (
        "Reading 'big.xlsx' needed more than 1 GB of memory, the limit for one file, and was "
        "stopped. Save it as CSV UTF-8 or delete columns and rows the app does not use, then "
        "upload it again."
    )


def _segfault():
    import faulthandler
    import os
    import signal
    faulthandler.disable()  # pytest's dump of the child's stack would only be noise here
    os.kill(os.getpid(), signal.SIGSEGV)


def _exit_3():
    import os
    os._exit(3)


def _killed():
    import os
    import signal
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer sends


@pytest.mark.parametrize(("fn", "what"), [
    (_segfault, "the reading process was stopped by signal SIGSEGV"),
    (_exit_3, "the reading process ended with exit code 3"),
])
def test_a_child_that_dies_is_not_called_out_of_memory(fn, what):
    with pytest.raises(CohortError) as err:
        run_bounded(fn, name="odd.csv")
    assert str(err.value) == (
        f"Reading 'odd.csv' failed unexpectedly ({what}). Save it again as CSV UTF-8 or .xlsx "
        "and upload it again; if this keeps happening, tell the app's maintainers.")


def test_a_killed_child_reads_as_out_of_memory():
    with pytest.raises(CohortError, match=r"^Reading 'big.csv' needed more than 3 GB of memory"):
        run_bounded(_killed, name="big.csv")


class _Left(Exception):
    """What Streamlit raises from an element call when the user has left."""


def test_giving_up_while_waiting_kills_the_child():
    calls = []

    def on_wait(elapsed: float) -> None:
        calls.append(elapsed)
        if elapsed > 0.3:
            raise _Left

    start = time.monotonic()
    with pytest.raises(_Left):
        run_bounded(time.sleep, 60, name="x.csv", on_wait=on_wait)
    assert time.monotonic() - start < 10 and calls and calls[-1] > 0.3


def test_parsing_leaves_the_server_process_free():
    # The parse's CPU time is spent in the child: this process (the server, in production)
    # only polls, so other sessions' script runs keep the interpreter.
    data = _workbook(5_000)
    cpu = time.process_time()
    wall = time.monotonic()
    upload = run_bounded(read_upload, data, filename="w.xlsx", name="w.xlsx")
    wall = time.monotonic() - wall
    assert len(upload.table) == 5_000
    in_process = time.process_time()
    read_upload(data, filename="w.xlsx")
    in_process = time.process_time() - in_process
    assert time.process_time() - cpu - in_process < 0.5 * in_process, (wall, in_process)

    # And a thread of "another user" keeps ticking at its pace while a parse runs.
    gaps: list[float] = []
    stop = threading.Event()

    def other_user() -> None:
        last = time.monotonic()
        while not stop.is_set():
            time.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    thread = threading.Thread(target=other_user)
    thread.start()
    try:
        run_bounded(read_upload, data, filename="w.xlsx", name="w.xlsx")
    finally:
        stop.set()
        thread.join()
    assert len(gaps) > 10 and max(gaps) < 0.5, max(gaps)
