"""Shared fixtures. Under CI=true a missing external tool is a failure, never a skip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_tool(path_or_name: str, why: str) -> str:
    """Return the tool's path; fail under CI, skip elsewhere, when it is missing."""
    found = shutil.which(path_or_name) or (path_or_name if Path(path_or_name).exists() else None)
    if found:
        return found
    message = f"{path_or_name} is needed for {why} but is not installed."
    if IN_CI:
        pytest.fail(message + " CI must install it (see scripts/test.sh).")
    pytest.skip(message)
    return ""
