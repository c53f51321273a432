"""The audit trail: hcc_core.audit's records, and the JSON lines a scripted session writes.

The session tests drive the app with AppTest (upload, views, filters, an upload error, sign-in
and sign-out with a seeded ``st.user``) and read back the lines the app wrote to the file
named by ``HCC_AUDIT_LOG``. Exports are built only when a browser downloads them (deferred
downloads), so their lines are checked in the real-browser sign-in test (test_auth_oidc.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from hcc_core import audit as A
from tests.conftest import DATA
from tests.test_app import (
    APP,
    _n_line,
    _served_routing,  # noqa: F401  (autouse fixture: served routing)
)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DEMO_FINGERPRINT = hashlib.sha256((DATA / "demo_cohort.csv").read_bytes()).hexdigest()[:12]
AUTH = {  # never contacted in these tests: st.user is seeded
    "redirect_uri": "http://127.0.0.1:9/oauth2callback",
    "cookie_secret": "test-only-cookie-secret",
    "client_id": "hcc-explorer",
    "client_secret": "test-only-client-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


# --- hcc_core.audit ----------------------------------------------------------------------------

def test_record_has_utc_time_event_user_then_fields():
    when = datetime(2026, 11, 30, 9, 1, 2, 345678, tzinfo=timezone(timedelta(hours=8)))
    rec = A.audit_record("upload", "a@h.example", when=when, file_name="c.csv", rows=95)
    assert rec == {"time": "2026-11-30T01:01:02.345Z", "event": "upload",
                   "user": "a@h.example", "file_name": "c.csv", "rows": 95}
    assert list(rec) == ["time", "event", "user", "file_name", "rows"]


def test_missing_user_is_anonymous_and_values_are_json_safe():
    rec = A.audit_record("view", None, when=datetime(2026, 1, 1, tzinfo=UTC),
                         filters={"child_pugh": ("A", "B")}, hr=float("nan"))
    assert rec["user"] == "anonymous"
    assert rec["filters"] == {"child_pugh": ["A", "B"]} and rec["hr"] is None
    assert json.loads(A.audit_line(rec)) == rec


def test_line_is_one_compact_json_object_with_readable_text():
    rec = A.audit_record("upload", "医生", when=datetime(2026, 1, 1, tzinfo=UTC),
                         file_name="队列.csv")
    line = A.audit_line(rec)
    assert line == ('{"time":"2026-01-01T00:00:00.000Z","event":"upload","user":"医生",'
                    '"file_name":"队列.csv"}\n')


def test_unknown_event_and_reserved_field_are_refused():
    with pytest.raises(ValueError, match="Unknown audit event 'download'. Use one of: sign_in"):
        A.audit_record("download", "u")
    with pytest.raises(ValueError, match="may not be named time"):
        A.audit_record("view", "u", time="yesterday")


def test_trail_appends_lines_to_the_file_named_by_the_environment(tmp_path):
    path = tmp_path / "audit.jsonl"
    trail = A.trail_from_environment({A.AUDIT_ENV: str(path)})
    assert trail.path == path
    trail.write("sign_in", "a@h.example")
    trail.write("export", "a@h.example", kind="csv", fingerprint="0123456789ab")
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [(x["event"], x["user"]) for x in lines] == [("sign_in", "a@h.example"),
                                                        ("export", "a@h.example")]
    assert lines[1]["kind"] == "csv" and lines[1]["fingerprint"] == "0123456789ab"
    assert all(ISO_Z.match(x["time"]) for x in lines)


@pytest.mark.parametrize("value", [None, "", "-", "stdout", "STDOUT"])
def test_trail_defaults_to_standard_output(value, capsys):
    env = {} if value is None else {A.AUDIT_ENV: value}
    trail = A.trail_from_environment(env)
    assert trail.path is None
    trail.write("error", None, where="Cox regression", kind="TypeError")
    out = capsys.readouterr().out
    assert json.loads(out)["where"] == "Cox regression" and out.endswith("}\n")


def test_trail_writes_to_a_given_stream():
    buf = io.StringIO()
    A.AuditTrail(stream=buf).write("view", "u", page="Overview")
    assert json.loads(buf.getvalue())["page"] == "Overview"


# --- the app's lines ---------------------------------------------------------------------------

@pytest.fixture
def audit_file(tmp_path, monkeypatch):
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv(A.AUDIT_ENV, str(path))

    def lines() -> list[dict]:
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]

    return lines


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Choose the file on the upload page and press "Load this cohort"."""
    at.file_uploader(key="upload_file").set_value((name, content, "text/csv"))
    _run(at)
    next(b for b in at.button if b.key == "upload_load").click()
    return _run(at)


def _without_time(lines: list[dict]) -> list[dict]:
    assert all(ISO_Z.match(x.pop("time")) for x in lines)
    return lines


def test_scripted_session_writes_views_upload_and_error(audit_file):
    content = b"patient_id,local_modality\nA1,none\nA2,HAIC\nA3,mTACE\n"
    at = _run(AppTest.from_file(APP, default_timeout=60))
    at.sidebar.multiselect(key="f_modality").set_value(["HAIC"])
    _run(at)
    at.switch_page("pages/upload.py")
    _upload(_run(at), "site_b.csv", content)
    assert _n_line(at) == "n = 1 of 3 patients (0 systemic, 1 local+systemic)"  # HAIC kept
    upload_fp = at.session_state["upload"]["key"][:12]
    assert at.query_params["data"] == upload_fp  # the fingerprint every output carries
    # An upload the loader rejects (patient A1 twice).
    _upload(at, "dup.csv", b"patient_id,local_modality\nA1,none\nA1,HAIC\n")
    assert at.error[0].value.startswith("Step 4 of 4: load the cohort.")

    anon = {"user": "anonymous", "event": "view"}
    assert _without_time(audit_file()) == [
        {**anon, "page": "Overview", "filters": {}, "fingerprint": DEMO_FINGERPRINT},
        {**anon, "page": "Overview", "filters": {"modality": "HAIC"},
         "fingerprint": DEMO_FINGERPRINT},
        {**anon, "page": "Upload data", "filters": {"modality": "HAIC"},
         "fingerprint": DEMO_FINGERPRINT},
        # The sidebar switches to the upload and keeps the HAIC filter (the file has HAIC).
        {"user": "anonymous", "event": "upload", "file_name": "site_b.csv",
         "file_sha256": hashlib.sha256(content).hexdigest(), "fingerprint": upload_fp,
         "rows": 3},
        {**anon, "page": "Upload data", "filters": {"modality": "HAIC"},
         "fingerprint": upload_fp},
        {"user": "anonymous", "event": "error", "where": "Step 4 of 4: load the cohort",
         "kind": "upload rejected"},
    ]


def test_lines_never_hold_uploaded_content(audit_file):
    content = b"patient_id,local_modality\nSECRET-MRN-4711,none\nSECRET-MRN-4712,HAIC\n"
    at = _run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page("pages/upload.py")
    _upload(_run(at), "c.csv", content)
    text = json.dumps(audit_file())
    assert '"event": "upload"' in text and "SECRET-MRN" not in text


def test_without_sign_in_configured_the_app_opens_for_anonymous_users(audit_file):
    at = _run(AppTest.from_file(APP, default_timeout=60))
    assert not [b for b in at.button if b.key in ("auth_sign_in", "auth_sign_out")]
    assert _n_line(at).startswith("n = 95 of 95")
    assert [x["user"] for x in audit_file()] == ["anonymous"]


def test_signed_out_session_gets_only_the_sign_in_prompt(audit_file):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    _run(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert [m.value for m in at.markdown] == [
        "Sign in with your hospital account to open the cohort explorer. Patient data and "
        "results are shown only after you have signed in."]
    assert len(at.sidebar.children) == 0  # no data source, filters, n or downloads
    assert not at.get("vega_lite_chart") and not at.get("arrow_data_frame")
    assert not at.get("download_button")
    assert "data" not in at.query_params  # not even the data fingerprint
    assert audit_file() == []  # nothing was viewed


def test_signed_out_deep_link_to_a_page_gets_only_the_prompt(audit_file):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    _run(at)
    at.switch_page("pages/cox.py")
    _run(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("vega_lite_chart") and not at.get("arrow_data_frame")
    assert audit_file() == []


def test_signed_out_legacy_deep_link_gets_only_the_prompt(audit_file):
    # A fresh server's first request for /survival runs the page file without app.py
    # (legacy routing); the page hands over to app.py, whose gate stops it.
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.switch_page("pages/survival.py")
    _run(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("vega_lite_chart") and not at.get("arrow_data_frame")
    assert not [m for m in at.markdown if "Log-rank" in m.value or "n = " in m.value]
    assert audit_file() == []


def test_sign_in_and_sign_out_are_recorded_with_the_user(audit_file):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "li.wei@hospital.example", "name": "Dr Li Wei",
               "iss": "http://127.0.0.1:9", "sub": "u-17"}
    _run(at)
    assert "Signed in as **Dr Li Wei**" in [c.value for c in at.sidebar.caption]
    assert _n_line(at).startswith("n = 95 of 95")
    at.switch_page("pages/survival.py")
    _run(at)
    at.button(key="auth_sign_out").click()
    _run(at)
    assert not at.get("vega_lite_chart") and not at.main.children  # the page is not sent
    _run(at)
    assert [b.label for b in at.button] == ["Sign in"]  # signed out: the prompt again
    who = "li.wei@hospital.example"
    assert _without_time(audit_file()) == [
        {"event": "sign_in", "user": who, "name": "Dr Li Wei", "issuer": "http://127.0.0.1:9"},
        {"event": "view", "user": who, "page": "Overview", "filters": {},
         "fingerprint": DEMO_FINGERPRINT},
        {"event": "view", "user": who, "page": "Survival", "filters": {},
         "fingerprint": DEMO_FINGERPRINT},
        {"event": "sign_out", "user": who},
    ]
