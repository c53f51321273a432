"""Security checks of the running app: nothing on disk, sessions isolated, no raw user HTML."""

from __future__ import annotations

import ast
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from hcc_core import load_cohort, logrank_test
from tests.conftest import DATA, ROOT
from tests.test_app import (
    _served_routing,  # noqa: F401  (autouse fixture: served routing)
    _upload,
)

APP = str(ROOT / "app.py")


def _logrank_text(at: AppTest) -> str:
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return next(m.value for m in at.markdown if m.value.startswith("Chi-square = "))


def _big_cohort(n: int, changed: tuple[int, ...] = ()) -> bytes:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "patient_id": [f"P{i:06d}" for i in range(n)],
        "local_modality": rng.choice(["none", "mTACE", "HAIC", "IMRT"], n),
        "os_months": np.round(rng.exponential(20, n) + 0.1, 2),
        "os_event": rng.integers(0, 2, n),
    })
    for i in changed:  # the same cohort except a few patients' outcomes
        df.loc[i, "os_months"] = 0.05
        df.loc[i, "os_event"] = 1
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


def test_two_sessions_with_nearly_identical_large_cohorts_never_share_results():
    """60,000 rows each, differing in 40 patients: each session sees only its own numbers.

    Streamlit's st.cache_data samples large frames when hashing; the app keys its per-session
    cache on the SHA-256 of the uploaded bytes instead (pages/_ui.compute).
    """
    n = 60_000
    a_bytes = _big_cohort(n)
    b_bytes = _big_cohort(n, changed=tuple(range(0, 40_000, 1000)))
    expected = {}
    for key, content in (("a", a_bytes), ("b", b_bytes)):
        lr = logrank_test(load_cohort(content).data, "os", "treatment_group")
        expected[key] = f"Chi-square = **{lr.statistic:.3f}**"
    assert expected["a"] != expected["b"]

    session_a = _upload(AppTest.from_file(APP, default_timeout=120).run(), "a.csv", a_bytes)
    session_b = _upload(AppTest.from_file(APP, default_timeout=120).run(), "b.csv", b_bytes)
    assert _logrank_text(session_a).startswith(expected["a"])
    assert _logrank_text(session_b).startswith(expected["b"])
    # Back to A after B computed: still A's own cohort and results.
    assert _logrank_text(session_a).startswith(expected["a"])
    sidebar_a = " ".join(m.value for m in session_a.sidebar.markdown)
    assert f"n = {n} of {n} patients" in sidebar_a


def _snapshot(dirs: list[Path]) -> set[str]:
    seen = set()
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs
                          if s not in {".git", ".venv", "__pycache__", ".pytest_cache",
                                       ".ruff_cache", ".hypothesis", "test-output"}]
            for f in files:
                p = Path(root) / f
                try:
                    seen.add(f"{p}:{p.stat().st_mtime_ns}")
                except FileNotFoundError:
                    pass
    return seen


def test_upload_and_analyse_session_writes_nothing_to_disk(tmp_path, monkeypatch):
    """Working directory, home and temp directory are unchanged by a whole upload session.

    Home and temp are fresh, empty directories for this test (HOME, TMPDIR, tempfile.tempdir),
    so files that other programs on the machine write to /tmp are not mistaken for ours.
    """
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    content = (DATA / "demo_cohort.csv").read_bytes()
    at = AppTest.from_file(APP, default_timeout=60).run()  # warm imports before the snapshot
    watched = [ROOT, Path.home(), Path(tempfile.gettempdir())]
    assert watched[1:] == [home, tmp]
    before = _snapshot(watched)
    at = AppTest.from_file(APP, default_timeout=60).run()
    _upload(at, "mine.csv", content)
    for page in ("overview", "survival", "cox", "baseline", "response", "safety",
                 "paper_check"):
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception
    after = _snapshot(watched)
    assert sorted(after - before) == []


def test_user_text_is_never_rendered_as_html():
    """Column names and values from the file go through escaped elements only."""
    demo = pd.read_csv(DATA / "demo_cohort.csv").head(30)
    payload = '<img src=x onerror="alert(1)">'
    demo["targeted_agent"] = payload
    demo = demo.rename(columns={"immunotherapy_agent": payload})
    buf = io.StringIO()
    demo.to_csv(buf, index=False)
    at = _upload(AppTest.from_file(APP, default_timeout=60).run(), "x.csv",
                 buf.getvalue().encode())
    for page in ("overview", "baseline", "upload"):
        at.switch_page(f"pages/{page}.py")
        at.run()
        html_elements = [m for m in at.markdown if m.proto.allow_html]
        assert all(payload not in m.value for m in html_elements)
        assert not at.get("html") or all(payload not in h.proto.body for h in at.get("html"))


def _unsafe_html_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        unsafe = any(k.arg == "unsafe_allow_html" for k in node.keywords) or name == "html"
        if unsafe and not all(isinstance(a, ast.Constant) for a in node.args):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_raw_html_only_from_constant_strings():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]  # with pages/_ui/
    offenders = [hit for f in files for hit in _unsafe_html_calls(f)]
    assert offenders == []


def test_unsafe_html_scanner_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import streamlit as st\nname = 'x'\nst.markdown(name, unsafe_allow_html=True)\n")
    assert _unsafe_html_calls(bad) == ["bad.py:3"]
