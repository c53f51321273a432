"""The multi-process topology (deploy/serve.py): nginx in front of several Streamlit workers.

The rendered nginx configuration is checked by nginx itself (``nginx -t``); then the real thing
runs: two workers behind nginx on a free port, the health endpoints, the sticky-session cookie,
the blocked metrics endpoint, a sticky WebSocket (a session resumed through nginx is the same
session, so it reached the same worker) and a worker that is killed and comes back.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT, need_tool

sys.path.insert(0, str(ROOT / "deploy"))
import serve  # noqa: E402  (deploy/ is not a package: it ships as plain files in the image)

NGINX = "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0, opener=None) -> tuple[int, dict, str]:
    opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def test_nginx_accepts_the_rendered_configuration(tmp_path):
    nginx = need_tool(NGINX, "the multi-process deployment (scripts/run.sh installs it)")
    conf = serve.render_nginx_conf("127.0.0.1:18080", [18081, 18082, 18083], str(tmp_path))
    assert "@" not in re.sub(r"#.*", "", conf), "a template field was left unfilled"
    assert conf.count("server 127.0.0.1:1808") == 3
    (tmp_path / "nginx.conf").write_text(conf)
    r = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c",
                        str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


def test_listen_directive_and_cpu_count():
    assert serve.listen_directive("0.0.0.0", 8501) == "8501"
    assert serve.listen_directive("127.0.0.1", 8501) == "127.0.0.1:8501"
    assert serve.listen_directive("::1", 8501) == "[::1]:8501"
    n = serve.cpu_count()
    assert 1 <= n <= (os.cpu_count() or 1)


def test_arguments_and_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WORKERS", "3")
    monkeypatch.delenv("WORKER_PORT", raising=False)
    args, extra = serve.parse_args(["--address", "127.0.0.1", "--", "--logger.level", "info"])
    assert (args.port, args.workers, args.worker_port, args.address) == (9000, 3, 9001,
                                                                        "127.0.0.1")
    assert extra == ["--logger.level", "info"]


@pytest.fixture(scope="module")
def topology():
    """deploy/serve.py with two workers behind nginx on a free port (killed afterwards)."""
    need_tool(NGINX, "the multi-process deployment (scripts/run.sh installs it)")
    port = _free_port()
    worker_port = _free_port()
    while worker_port + 1 == port or worker_port == port:
        worker_port = _free_port()
    out = ROOT / "test-output" / "deploy"
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "serve.log", "wb")
    env = {**os.environ, "PORT": str(port), "ADDRESS": "127.0.0.1", "WORKERS": "2",
           "WORKER_PORT": str(worker_port), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve.py")], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if all(serve.healthy(p) for p in (worker_port, worker_port + 1)):
            break
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    else:
        proc.kill()
    if proc.poll() is not None:
        log.close()
        pytest.fail("serve.py did not start:\n" + (out / "serve.log").read_text()[-3000:])
    yield {"url": url, "proc": proc, "worker_ports": (worker_port, worker_port + 1),
           "log": out / "serve.log"}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.mark.slow
def test_health_cookie_and_metrics_through_nginx(topology):
    url = topology["url"]
    assert _get(url + "/healthz")[::2] == (200, "ok\n")
    assert _get(url + "/readyz")[::2] == (200, "ok")
    # The first page view gets the worker cookie; a browser that has it is not given another.
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPCookieProcessor(jar))
    status, headers, body = _get(url + "/", opener=opener)
    assert status == 200 and '<div id="root">' in body
    assert [c.name for c in jar] == ["hcc_worker"]
    assert re.fullmatch(r"[0-9a-f]{32}", next(iter(jar)).value)
    status, headers, _ = _get(url + "/", opener=opener)
    assert status == 200 and "Set-Cookie" not in headers
    # Streamlit's metrics (sessions, memory per session) are not served to the network.
    assert _get(url + "/_stcore/metrics")[0] == 404
    # ...although each worker has them on loopback.
    assert _get(f"http://127.0.0.1:{topology['worker_ports'][0]}/_stcore/metrics")[0] == 200


@pytest.mark.slow
def test_a_killed_worker_is_restarted(topology):
    port = topology["worker_ports"][1]
    pids = subprocess.run(["pgrep", "-f", "--", f"--server.port {port} "], capture_output=True,
                          text=True).stdout.split()
    assert len(pids) == 1, pids
    os.kill(int(pids[0]), signal.SIGKILL)
    deadline = time.time() + 90
    while time.time() < deadline and not serve.healthy(port):
        time.sleep(0.5)
    assert serve.healthy(port), topology["log"].read_text()[-2000:]
    assert f"worker on port {port} exited" in topology["log"].read_text()
    assert _get(topology["url"] + "/readyz")[::2] == (200, "ok")
