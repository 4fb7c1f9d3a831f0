"""The layers of ARCHITECTURE.md, checked on the source: nothing below ``lrviz.ui`` imports
streamlit, the engine imports nothing above it, and figures never import the learning layer."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lrviz"
# layer -> top-level modules it must never import
FORBIDDEN = {
    "engine": {"streamlit", "plotly", "lrviz.figures", "lrviz.learning", "lrviz.ui",
               "lrviz.nets"},
    "nets": {"streamlit", "plotly", "lrviz.figures", "lrviz.learning", "lrviz.ui"},
    "figures": {"streamlit", "lrviz.learning", "lrviz.ui"},
    "learning": {"streamlit", "plotly", "lrviz.figures", "lrviz.ui"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(layer: str) -> list[str]:
    out = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                out.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down_only(layer):
    if not (PACKAGE / layer).is_dir():
        pytest.skip(f"no lrviz/{layer} package")
    assert _violations(layer) == []


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "lrviz" / "engine"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("import streamlit as st\nfrom lrviz.ui import runs\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "lrviz")
    assert len(_violations("engine")) == 2
