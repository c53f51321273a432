"""AppTest tests of the meeting pack in the app: sidebar buttons, Report page, the sentence on
the Survival page, and links that know their data."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from hcc_core import apply_filters, fit_cox, fit_km, load_cohort, logrank_test
from hcc_core import schema as S
from hcc_core.cohort import Filters
from hcc_core.report import survival_sentence
from pages._ui import plain_markdown
from tests.conftest import DATA, ROOT
from tests.test_app import _served_routing  # noqa: F401  (autouse fixture: served routing)

APP = str(ROOT / "app.py")
DEMO = load_cohort(DATA / "demo_cohort.csv")
FINGERPRINT = DEMO.sha256[:12]


def _open(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sentence(df, endpoint: str) -> str:
    by = S.TREATMENT_GROUP
    return survival_sentence(fit_km(df, endpoint, by=by), logrank_test(df, endpoint, by),
                             fit_cox(df, endpoint, (by,)))


def test_sidebar_offers_slides_and_report_on_every_page():
    at = _open()
    labels = [b.proto.label for b in at.sidebar.get("download_button")]
    assert labels == ["Download slides (.pptx)", "Download report (.docx)"]
    at.switch_page("pages/cox.py")
    at.run()
    labels = [b.proto.label for b in at.sidebar.get("download_button")]
    assert labels == ["Download slides (.pptx)", "Download report (.docx)"]


def test_survival_page_shows_the_sentence_with_a_copy_box():
    at = _open("pages/survival.py")
    sentence = _sentence(DEMO.data, "os")
    # Shown as text (escaped Markdown reads back as the sentence), copy box in a popover.
    assert plain_markdown(sentence) in [m.value for m in at.markdown]
    assert [c.value for c in at.code] == [sentence]
    assert [p.proto.popover.label for p in at.get("popover")] == ["Copy the sentence"]


def test_plain_markdown_escapes_what_markdown_would_read_as_markup():
    assert plain_markdown("1. grade: :material/x:") == "1\\. grade\\: \\:material/x\\:"
    assert plain_markdown("HR 0.52 (95% CI 0.31-0.87), p = 0.01") == (
        "HR 0\\.52 \\(95% CI 0\\.31\\-0\\.87\\), p = 0\\.01")
    assert plain_markdown("*A* vs _B_ [$5] <b>") == (
        "\\*A\\* vs \\_B\\_ \\[\\$5\\] \\<b\\>")


def test_report_page_previews_the_pack_of_the_filtered_view():
    at = _open("pages/report.py", {"child_pugh": "A", "bclc": "C"})
    df = apply_filters(DEMO.data, Filters(child_pugh_classes=("A",), bclc_stages=("C",)))
    assert [c.value for c in at.code] == [_sentence(df, "os"), _sentence(df, "pfs")]
    text = "\n".join(m.value for m in at.markdown)
    assert "Population: Child-Pugh class A; BCLC stage C" in text
    assert f"Patients: {len(df)} of 95 patients" in text
    assert FINGERPRINT in text and "synthetic demo data" in text
    heads = [s.value for s in at.subheader]
    for wanted in ("Results in words", "Overall survival (OS)", "Baseline characteristics "
                   "(Table 1)", "Tumour response (mRECIST)", "Adverse events (CTCAE v5)",
                   "Methods", "Caveats"):
        assert wanted in heads, wanted
    labels = [b.proto.label for b in at.main.get("download_button")]
    assert labels[:2] == ["Download slides (.pptx)", "Download report (.docx)"]


def test_url_carries_the_data_fingerprint():
    at = _open()
    assert at.query_params["data"] == FINGERPRINT
    assert not any("different data" in w.value for w in at.warning)


def test_a_link_made_with_other_data_says_so():
    at = _open("pages/survival.py", {"data": "0123456789ab", "child_pugh": "A"})
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("This link was made with different data (data fingerprint "
                            f"0123456789ab) from the data loaded now ({FINGERPRINT}).")
               for w in warnings), warnings
    assert at.query_params["data"] == FINGERPRINT
