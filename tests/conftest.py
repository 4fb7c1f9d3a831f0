"""Shared fixtures: an AppTest factory and a real app server driven by the system Chromium.

Browser tests (marked ``browser``) skip with a clear reason when no Chromium is installed,
unless ``LRVIZ_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in which case they fail instead.
Every test gets its own progress database (``LRVIZ_DB_URL``) so no test touches real data.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from helpers import APP, free_port, serve_app

BROWSER_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory, monkeypatch):
    """A fresh SQLite progress database per test."""
    db = tmp_path_factory.mktemp("db") / "progress.sqlite3"
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    yield


@pytest.fixture
def app_test() -> Callable:
    """``app_test(page=None, query=None)`` -> a run AppTest on the app (optionally a page)."""
    from streamlit.testing.v1 import AppTest

    def make(page: str | None = None, query: dict | None = None, timeout: float = 90):
        at = AppTest.from_file(APP, default_timeout=timeout)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(page)
            at.run()
        return at

    return make


# --- the real server + Chromium ------------------------------------------------------------


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_required() -> None:
    if chromium_path() is None:
        if os.environ.get("LRVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail("LRVIZ_REQUIRE_BROWSER=1 but no chromium executable is on PATH")
        pytest.skip("no system Chromium found (install Debian's 'chromium' to run browser tests)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        if os.environ.get("LRVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail("LRVIZ_REQUIRE_BROWSER=1 but the playwright package is not installed")
        pytest.skip("the playwright package is not installed")


@pytest.fixture(scope="session")
def app_server(browser_required, tmp_path_factory) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free loopback port; yield its base URL."""
    data = tmp_path_factory.mktemp("server")
    env = {"LRVIZ_DB_URL": f"sqlite:///{data / 'progress.sqlite3'}"}
    with serve_app(data / "server.log", free_port(), env) as base:
        yield base


@pytest.fixture(scope="session")
def browser(browser_required):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server):
    """A fresh browser page; console errors are collected in ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    pg.base_url = app_server
    yield pg
    context.close()
