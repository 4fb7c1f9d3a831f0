"""Every page script follows one convention: import its feature module, call its ``page()``.

Page files hold no logic (the logic is testable in its module); the features are grouped in
packages, so ``lrviz/ui`` itself keeps only what every feature shares.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[1] / "lrviz" / "ui"
PAGES = sorted((UI / "pages").glob("*.py"))
SHARED = {"__init__", "a11y", "links", "memory", "presenter", "safe_text", "state", "url_table",
          "urlstate"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_file_is_an_import_and_a_page_call(page):
    tree = ast.parse(page.read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr)
                                         and isinstance(n.value, ast.Constant))]
    assert len(body) == 2, f"{page.name}: expected an import and a page() call"
    imp, call = body
    assert isinstance(imp, ast.ImportFrom) and imp.module.startswith("lrviz.ui.")
    (alias,) = imp.names
    assert ast.unparse(call) == f"{alias.asname or alias.name}.page()"


def test_ui_top_level_keeps_only_shared_modules():
    top = {p.stem for p in UI.glob("*.py")}
    assert top <= SHARED, f"feature modules belong in a package: {sorted(top - SHARED)}"
