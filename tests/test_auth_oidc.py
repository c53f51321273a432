"""Sign-in end to end: a real OpenID Connect provider, the app server and Debian's chromium.

The test starts panva's certified ``oidc-provider`` (tests/oidc/provider.mjs, installed by
``npm ci`` in scripts/test.sh) on 127.0.0.1, writes a secrets.toml with an ``[auth]`` section
for the app in a temporary directory, starts ``streamlit run app.py`` with it and an audit
file, and drives chromium: the signed-out page shows only the sign-in prompt (also for a deep
link), the provider's login and consent pages sign the user in, the app shows the user's name
and the cohort, a CSV export is downloaded, and "Sign out" goes through the provider's
sign-out page back to the prompt. The audit lines of that session are then read and checked.
Screenshots go to test-output/browser/ (auth_*.png) at 1280x720 and 1920x1080.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT, need_tool
from tests.test_browser import CHROMIUM, SHOTS, SIZES, _free_port

pytestmark = pytest.mark.browser
OIDC = ROOT / "tests" / "oidc"
USER_EMAIL = "li.wei@hospital.example"


def _need_provider() -> str:
    node = need_tool("node", "the sign-in tests' OpenID Connect provider (Debian: nodejs)")
    if not (OIDC / "node_modules" / "oidc-provider" / "package.json").exists():
        message = ("The test OpenID Connect provider is not installed: run "
                   "`npm ci --prefix tests/oidc` (scripts/test.sh does this).")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return node


def _wait_http(url: str, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{what} did not answer {url} within 90 s:\n"
                + log.read_text(errors="replace")[-3000:])


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory):
    """(app URL, audit file): the app with sign-in against a running provider."""
    need_tool(CHROMIUM, "the real-browser sign-in test")
    node = _need_provider()
    tmp = tmp_path_factory.mktemp("auth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    app_port, idp_port = _free_port(), _free_port()
    app_url, issuer = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{idp_port}"
    client_secret = secrets.token_urlsafe(32)
    idp_log = SHOTS / "oidc_provider.log"
    with open(idp_log, "wb") as out:
        idp = subprocess.Popen(
            [node, str(OIDC / "provider.mjs"), str(idp_port), app_url + "/oauth2callback"],
            cwd=OIDC, env={**os.environ, "OIDC_CLIENT_SECRET": client_secret},
            stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(issuer + "/.well-known/openid-configuration", idp, idp_log,
                   "the OpenID Connect provider")
        secrets_toml = tmp / "secrets.toml"  # never in the repository
        secrets_toml.write_text(
            "[auth]\n"
            f'redirect_uri = "{app_url}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "hcc-explorer"\n'
            f'client_secret = "{client_secret}"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
            # Streamlit's default prompt, select_account, is one this provider does not
            # offer (as with some hospital providers): ask for the login page instead.
            'client_kwargs = { prompt = "login" }\n',
            encoding="utf-8")
        audit = tmp / "audit.jsonl"
        app_log = SHOTS / "auth_server.log"
        with open(app_log, "wb") as out:
            app = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                 "--server.port", str(app_port), "--server.address", "127.0.0.1",
                 "--server.headless", "true", "--browser.gatherUsageStats", "false",
                 "--secrets.files", str(secrets_toml)],
                cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1",
                               "HCC_AUDIT_LOG": str(audit)},
                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_http(app_url + "/_stcore/health", app, app_log, "streamlit")
            yield app_url, audit
        finally:
            _stop(app)
    finally:
        _stop(idp)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


def _settle(page, text: str, timeout: float = 60) -> None:
    """Wait until ``text`` is on the page and Streamlit has stopped running."""
    page.get_by_text(text).first.wait_for(timeout=timeout * 1000)
    deadline, quiet = time.time() + timeout, 0
    while quiet < 6 and time.time() < deadline:
        page.wait_for_timeout(250)
        busy = (page.locator('[data-testid="stStatusWidget"]').count() > 0
                or page.locator('[data-testid="stSkeleton"]').count() > 0)
        quiet = 0 if busy else quiet + 1


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _assert_signed_out_page(page) -> None:
    body = page.inner_text("body")
    assert "Sign in with your hospital account" in body
    assert not re.search(r"n = \d+ of \d+ patients", body), body[:800]
    assert "Synthetic demo cohort" not in body and "Overall survival" not in body
    assert page.locator('[data-testid="stSidebar"]').count() == 0 or not page.locator(
        '[data-testid="stSidebar"]').inner_text().strip()
    assert page.locator(".vega-embed").count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() == 0


@pytest.mark.parametrize("size", sorted(SIZES))
def test_sign_in_with_a_real_provider_then_export_and_sign_out(signed_app, chromium, size):
    app_url, audit = signed_app
    before = len(audit.read_text().splitlines()) if audit.exists() else 0
    w, h = SIZES[size]
    context = chromium.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    page = context.new_page()
    try:
        # Signed out, a deep link shows the prompt and nothing of the page.
        page.goto(app_url + "/baseline?child_pugh=A")
        _settle(page, "Sign in with your hospital account")
        _assert_signed_out_page(page)
        page.goto(app_url + "/")
        _settle(page, "Sign in with your hospital account")
        _assert_signed_out_page(page)
        _shot(page, f"auth_sign_in_prompt_{size}")

        # The provider's own login and consent pages.
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"), timeout=30_000)
        assert not page.url.startswith(app_url)
        page.fill('input[name="login"]', "li.wei")
        page.fill('input[name="password"]', "any password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()  # consent
        page.wait_for_url(re.compile(re.escape(app_url) + r"/(\?.*)?$"), timeout=30_000)
        _settle(page, "Signed in as")
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Signed in as Dr Li Wei" in sidebar, sidebar[:500]
        assert "n = 95 of 95 patients" in sidebar
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        _settle(page, "Patients per group")
        _shot(page, f"auth_signed_in_{size}")

        # An export: Table 1 as CSV.
        page.goto(app_url + "/baseline")
        _settle(page, "Download CSV")
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="Download CSV").first.click()
        csv_name = dl.value.suggested_filename
        csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
        assert csv_name.endswith(".csv") and "fingerprint" in csv_text

        # Sign out: the provider's sign-out page, then the prompt again.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Yes, sign me out").click(timeout=30_000)
        page.wait_for_url(re.compile(re.escape(app_url)), timeout=30_000)
        _settle(page, "Sign in with your hospital account")
        _assert_signed_out_page(page)
    finally:
        context.close()

    lines = [json.loads(x) for x in audit.read_text(encoding="utf-8").splitlines()[before:]]
    events = [(x["event"], x["user"]) for x in lines]
    assert ("anonymous" not in {u for _, u in events}), events  # nothing before sign-in
    fingerprint = re.search(r"fingerprint ([0-9a-f]{12}) ", csv_text).group(1)
    sign_in = next(x for x in lines if x["event"] == "sign_in")
    assert sign_in["user"] == USER_EMAIL and sign_in["name"] == "Dr Li Wei"
    assert sign_in["issuer"].startswith("http://127.0.0.1:")
    views = [(x["page"], x["filters"], x["fingerprint"]) for x in lines if x["event"] == "view"]
    assert views[:2] == [("Overview", {}, fingerprint), ("Baseline (Table 1)", {}, fingerprint)]
    export = next(x for x in lines if x["event"] == "export")
    assert export == {**export, "user": USER_EMAIL, "kind": "csv", "file_name": csv_name,
                      "fingerprint": fingerprint}
    assert events[-1] == ("sign_out", USER_EMAIL)
    assert [e for e, _ in events].index("sign_in") == 0
