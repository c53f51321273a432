"""Import rules: hcc_core never imports streamlit; only charts.py imports altair."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "hcc_core"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_exist():
    assert (CORE / "schema.py").exists() and (CORE / "errors.py").exists()


def test_hcc_core_never_imports_streamlit():
    offenders = [p.name for p in CORE.rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == [], f"hcc_core modules importing streamlit: {offenders}"


def test_only_charts_imports_altair():
    offenders = [
        p.name for p in CORE.rglob("*.py") if "altair" in _imports(p) and p.name != "charts.py"
    ]
    assert offenders == [], f"only charts.py may import altair, found in: {offenders}"


def test_import_walker_detects_streamlit(tmp_path):
    # The check above must be able to fail: prove the walker sees such an import.
    f = tmp_path / "bad.py"
    f.write_text("import os\nfrom streamlit import session_state\n")
    assert "streamlit" in _imports(f)
