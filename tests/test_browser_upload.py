"""Real-browser test of the upload wizard: a CSV with Chinese EMR headers, as a new user would.

Chromium at 1280x720 (projector) and 1920x1080: upload, check the proposed matches in words,
ignore one column through its dropdown, load, and see the uploaded cohort's own numbers on the
Survival page. Screenshots of every step go to test-output/browser/upload_*.png.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hcc_core import load_cohort, logrank_test
from tests.conftest import DATA
from tests.test_browser import (  # noqa: F401  (server and browser are fixtures)
    _assert_no_exception,
    _shot,
    _sidebar_n,
    _wait_idle,
    browser,
    server,
)

pytestmark = pytest.mark.browser

HEADERS = {"patient_id": "病例号", "local_modality": "局部治疗", "age": "年龄(岁)", "sex": "性别",
           "chronic_hepatitis": "乙肝病史", "child_pugh_class": "Child-Pugh分级",
           "bclc_stage": "BCLC分期", "os_months": "总生存期(月)", "os_event": "死亡",
           "pfs_months": "无进展生存期(月)", "pfs_event": "是否进展",
           "best_response": "最佳疗效(mRECIST)"}


def _emr_csv(path) -> bytes:
    """The first 60 demo patients as a Chinese hospital system exports them."""
    demo = pd.read_csv(DATA / "demo_cohort.csv").head(60)
    emr = demo[list(HEADERS)].copy()
    emr["sex"] = emr["sex"].map({"M": "男", "F": "女"})
    emr["chronic_hepatitis"] = emr["chronic_hepatitis"].map({"yes": "是", "no": "无"})
    emr["local_modality"] = emr["local_modality"].replace({"none": "无"})
    emr["os_event"] = emr["os_event"].map({1: "是", 0: "否"})
    emr = emr.rename(columns=HEADERS)
    emr["备注"] = "随访中"
    content = emr.to_csv(index=False).encode("utf-8")
    path.write_bytes(content)
    return content


def _to(page, text: str) -> None:
    page.get_by_text(text, exact=True).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)


def _choose(page, column: str, option: str):
    """Pick ``option`` in the step-2 dropdown of ``column``, as a mouse user does."""
    box = page.locator(f'input[aria-label="Field for column {column}"]')
    box.scroll_into_view_if_needed()
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # a click during a rerun can land before the list opens
        box.click()
        # The list is virtualised and opens at the current choice: type to filter it.
        page.keyboard.type(option)
        try:
            item.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    item.click()
    _wait_idle(page)
    return box


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_upload_chinese_emr_headers_through_the_wizard(server, browser, tmp_path, width, height):  # noqa: F811
    path = tmp_path / "emr_cn.csv"
    content = _emr_csv(path)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    tag = f"upload_{width}x{height}"
    try:
        page.goto(server + "/upload")
        _wait_idle(page)
        page.locator('input[type="file"]').set_input_files(str(path))
        box = page.locator('input[aria-label="Field for column 病例号"]')
        box.wait_for(timeout=60_000)
        _wait_idle(page)
        _assert_no_exception(page, "upload step 2")
        body = page.inner_text("body")
        assert "Step 2 of 4: match your columns" in body
        assert "Required fields matched: Patient ID from column 病例号; Local therapy (none, mTACE, " \
               "HAIC, IMRT) from column 局部治疗." in body
        proposed = {h: page.locator(f'input[aria-label="Field for column {h}"]').input_value()
                    for h in ("病例号", "年龄(岁)", "性别", "死亡", "乙肝病史", "备注")}
        assert proposed == {"病例号": "Patient ID", "年龄(岁)": "Age (years)",
                            "性别": "Sex (M/F)", "死亡": "Death (1 = died, 0 = censored)",
                            "乙肝病史": "Chronic viral hepatitis (yes/no)",
                            "备注": "(ignore this column)"}
        _to(page, "Step 2 of 4: match your columns")
        _shot(page, f"{tag}_1_mapping")

        # The user decides not to use the hepatitis column: ignore it in its dropdown.
        hep = _choose(page, "乙肝病史", "(ignore this column)")
        assert hep.input_value() == "(ignore this column)"
        _to(page, "Step 3 of 4: check how values will be read")
        _shot(page, f"{tag}_2_recoding")

        page.get_by_role("button", name="Load this cohort").click()
        page.wait_for_selector("text=patients ready to analyse", timeout=60_000)
        _wait_idle(page)
        _assert_no_exception(page, "upload step 4")
        assert "emr_cn.csv: 60 patients ready to analyse." in page.inner_text("body")
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Uploaded: emr_cn.csv" in sidebar
        assert _sidebar_n(page) == "n = 60 of 60 patients"
        _to(page, "Step 4 of 4: load the cohort")
        _shot(page, f"{tag}_3_loaded")

        # The Survival page shows the uploaded patients' own log-rank test.
        page.locator('[data-testid="stSidebarNav"] a', has_text="Survival").first.click()
        _wait_idle(page)
        page.wait_for_selector(".vega-embed", timeout=60_000)
        _assert_no_exception(page, "survival after the wizard")
        mapping = {v: k for k, v in HEADERS.items()} | {"乙肝病史": None, "备注": None}
        expected = load_cohort(content, mapping=mapping).data
        assert "chronic_hepatitis" not in expected.columns
        lr = logrank_test(expected, "os", "treatment_group")
        text = page.inner_text("body")
        assert re.search(rf"Chi-square = {lr.statistic:.3f}", text), text[:2000]
        _shot(page, f"{tag}_4_survival")
    finally:
        context.close()
