"""Production settings: Streamlit config, Dockerfile and .dockerignore.

The container itself is built and run by scripts/container_check.sh (called from .ci/run); these
tests pin what can be checked without podman, on any machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import streamlit.config as st_config

from hcc_core.io import DEFAULT_MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".streamlit" / "config.toml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
# Streamlit turns server.maxUploadSize into bytes with * 1024 * 1024 (starlette_routes.py).
STREAMLIT_MB = 1024 * 1024
# Allowed values documented in `streamlit config show` for the options we set to strings.
ALLOWED = {
    "client.showErrorDetails": {"full", "stacktrace", "type", "none"},
    "client.toolbarMode": {"auto", "developer", "viewer", "minimal"},
    "client.showErrorLinks": {"auto", "true", "false"},
    "server.fileWatcherType": {"auto", "watchdog", "poll", "none"},
}


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _settings(text: str | None = None) -> dict[str, object]:
    return _flatten(tomllib.loads(CONFIG.read_text(encoding="utf-8") if text is None else text))


def _problems(settings: dict[str, object]) -> list[str]:
    """Keys unknown to the installed Streamlit, values of the wrong type or outside the allowed set."""
    options = st_config._config_options_template
    problems = []
    for key, value in settings.items():
        option = options.get(key)
        if option is None:
            problems.append(f"{key}: not an option of streamlit {st_config.__name__}")
            continue
        expected = option.type
        if expected is bool and not isinstance(value, bool):
            problems.append(f"{key}: expected true/false, got {value!r}")
        elif expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{key}: expected an integer, got {value!r}")
        elif expected is str and not isinstance(value, str):
            problems.append(f"{key}: expected a string, got {value!r}")
        if key in ALLOWED and value not in ALLOWED[key]:
            problems.append(f"{key}: {value!r} is not one of {sorted(ALLOWED[key])}")
        if getattr(option, "deprecated", False):
            problems.append(f"{key}: deprecated in the installed streamlit")
    return problems


def test_every_key_is_a_valid_option_of_the_installed_streamlit():
    settings = _settings()
    assert len(settings) >= 8
    assert _problems(settings) == []


def test_validity_check_catches_typos_and_bad_values():
    # Streamlit only logs a warning for an unknown key; this check must turn it into a failure.
    bad = _settings(
        '[server]\nmaxUplodSize = 50\nheadless = "yes"\n[client]\ntoolbarMode = "hidden"\n'
    )
    assert _problems(bad) == [
        f"server.maxUplodSize: not an option of streamlit {st_config.__name__}",
        "server.headless: expected true/false, got 'yes'",
        "client.toolbarMode: 'hidden' is not one of ['auto', 'developer', 'minimal', 'viewer']",
    ]


def test_security_settings():
    s = _settings()
    assert s["browser.gatherUsageStats"] is False  # Streamlit's default is True
    assert st_config._config_options_template["browser.gatherUsageStats"].default_val is True
    assert s["server.headless"] is True
    assert s["server.enableXsrfProtection"] is True
    assert s["server.enableCORS"] is True
    assert s["client.showErrorDetails"] == "none"
    assert s["client.toolbarMode"] == "viewer"
    assert s["server.fileWatcherType"] == "none"
    assert s["logger.hideWelcomeMessage"] is True


def test_upload_limit_matches_the_loader():
    # The loader counts MB as the browser does (1,000,000 bytes; see hcc_core.limits), so the
    # server's limit (MiB) admits every file the loader accepts and all say "50 MB".
    assert DEFAULT_MAX_BYTES == 50_000_000 == _settings()["server.maxUploadSize"] * 1_000_000
    assert _settings()["server.maxUploadSize"] * STREAMLIT_MB >= DEFAULT_MAX_BYTES


def test_every_setting_says_why():
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    setting = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_]*\s*=")
    undocumented = [
        line
        for i, line in enumerate(lines)
        if setting.match(line) and not lines[i - 1].lstrip().startswith("#")
    ]
    assert undocumented == []


_PROBE = r"""
import json, sys
from streamlit import config, net_util
from streamlit.web import bootstrap

keys = json.loads(sys.argv[1])
out = {"values": {k: config.get_option(k) for k in keys},
       "where": sorted({config.get_where_defined(k) for k in keys})}
calls = []
net_util._make_blocking_http_get = lambda url, timeout=5: calls.append(url)
bootstrap._print_url(False)  # the start-up banner `streamlit run` prints
out["banner_http_calls"] = list(calls)
config.set_option("logger.hideWelcomeMessage", False)
bootstrap._print_url(False)
out["banner_http_calls_without_our_config"] = list(calls)
print("PROBE" + json.dumps(out))
"""


def test_streamlit_applies_the_file_and_never_phones_home_at_start(tmp_path):
    """Streamlit itself reads the file (from the app's working directory, as in the image)."""
    settings = _settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env["HOME"] = str(tmp_path)  # no ~/.streamlit/config.toml of the developer
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sorted(settings))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "is not a valid config option" not in proc.stderr
    probe = json.loads(proc.stdout.split("PROBE", 1)[1])
    assert probe["values"] == settings
    assert probe["where"] == [str(CONFIG)]
    assert probe["banner_http_calls"] == []
    # Without logger.hideWelcomeMessage the banner asks checkip.amazonaws.com for the external IP.
    assert probe["banner_http_calls_without_our_config"] == [
        "http://checkip.amazonaws.com",
        "https://checkip.amazonaws.com",
    ]


# Dockerfile and .dockerignore ------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_shape():
    ins = _instructions()
    assert ins[0] == ("ARG", "BASE_IMAGE=python:3.12-slim")
    assert [rest for word, rest in ins if word == "FROM"] == [
        "${BASE_IMAGE} AS build",
        "${BASE_IMAGE}",
    ]
    final = ins[[i for i, (w, _) in enumerate(ins) if w == "FROM"][-1] :]
    users = [rest for word, rest in final if word == "USER"]
    assert users == ["10001:10001"]
    assert ("EXPOSE", "8501") in final
    healthcheck = [rest for word, rest in final if word == "HEALTHCHECK"]
    # nginx's readiness endpoint: a Streamlit worker's /_stcore/health through nginx.
    assert len(healthcheck) == 1 and "http://localhost:8501/readyz" in healthcheck[0]
    assert ' CMD ["' in " " + healthcheck[0]  # exec form: no shell needed in the image
    # nginx in front of one Streamlit worker per CPU (scripts/deploy/serve.py); PORT/ADDRESS from ENV.
    assert ("ENTRYPOINT", '["python3", "/app/scripts/deploy/serve.py", "--"]') in final
    assert json.loads(dict(final)["CMD"]) == []
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "PORT=8501" in env and "ADDRESS=0.0.0.0" in env
    run = " ".join(rest for word, rest in ins if word == "RUN")
    assert "python3 -m venv" in run and "--no-cache-dir" in run
    # apt-get installs nginx and nothing else: no compilers or build tools, no recommends. The
    # build stage installs the CJK font, whose two Sans files alone are copied (issue 17).
    installs = re.findall(r"apt-get install ([^&]*)", run)
    assert [i.split() for i in installs] == [["-y", "--no-install-recommends", "fonts-noto-cjk"],
                                             ["-y", "--no-install-recommends", "nginx-light"]]


def test_dockerignore_is_a_whitelist_that_keeps_the_app_data():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # everything out: tests, .git, .venv, caches, user data, secrets
    included = {p[1:] for p in patterns if p.startswith("!")}
    assert included == {
        "app.py",
        "pages/",
        "hcc_core/",
        "requirements.txt",
        ".streamlit/config.toml",
        "data/demo_cohort.csv",
        "data/data_dictionary.csv",
        "data/template.csv",
        "data/published_values.json",
        "scripts/deploy/serve.py",
        "scripts/deploy/nginx.conf.template",
    }
    for name in ("demo_cohort.csv", "data_dictionary.csv", "template.csv", "published_values.json"):
        assert (ROOT / "data" / name).is_file(), f"data/{name} is whitelisted but missing"


@pytest.mark.parametrize("path", ["docker-compose.yml"])
def test_compose_runs_read_only_with_a_health_check(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(r"^\s+read_only:\s*true\s*$", text, re.M)
    assert re.search(r"^\s+healthcheck:\s*$", text, re.M)
    assert "http://localhost:8501/readyz" in text
    assert re.search(r"^\s+restart:\s*unless-stopped\s*$", text, re.M)
    assert re.search(r"^\s+tmpfs:\s*$", text, re.M)
