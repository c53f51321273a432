"""Issue 18 item 3: an uploaded file never lands on disk, not even as Starlette's spool file.

The check is black-box: while the multipart body is parsed, every file descriptor the process
holds is listed from ``/proc/self/fd``; none may point into the temporary directory. The same
request with Starlette's default spool size (1 MiB) must show one, so the check can fail.
"""

from __future__ import annotations

import os
import tempfile

from starlette.applications import Starlette
from starlette.formparsers import MultiPartParser
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from hcc_core.limits import MAX_UPLOAD_BYTES
from pages._ui.uploads_in_memory import SPOOL_BYTES, keep_uploads_in_memory
from tests.conftest import ROOT

SIZE = 5 * 1024 * 1024  # well above Starlette's 1 MiB default spool threshold


def _files_in(directory: str) -> list[str]:
    paths = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [p for p in paths if p.startswith(directory)]


def _upload(tmp_path, monkeypatch) -> tuple[int, list[str]]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[str] = []

    async def endpoint(request):
        form = await request.form()
        seen.extend(_files_in(str(tmp_path)))  # while the parsed upload is still open
        data = await form["file"].read()
        return PlainTextResponse(str(len(data)))

    client = TestClient(Starlette(routes=[Route("/up", endpoint, methods=["PUT"])]))
    body = os.urandom(SIZE)
    response = client.put("/up", files={"file": ("cohort.csv", body, "text/csv")})
    assert response.status_code == 200
    return int(response.text), seen


def test_starlette_default_spools_a_large_upload_to_the_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)
    size, seen = _upload(tmp_path, monkeypatch)
    assert size == SIZE
    assert len(seen) == 1 and "(deleted)" in seen[0], seen


def test_a_large_upload_stays_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)
    keep_uploads_in_memory()
    size, seen = _upload(tmp_path, monkeypatch)
    assert size == SIZE
    assert seen == []


def test_spool_size_covers_the_largest_upload_the_server_accepts():
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server_max = config["server"]["maxUploadSize"] * 1024 * 1024  # Streamlit counts MiB
    assert SPOOL_BYTES > server_max >= MAX_UPLOAD_BYTES


def test_the_app_raises_the_spool_size_in_its_server_process(monkeypatch):
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert MultiPartParser.spool_max_size == SPOOL_BYTES
