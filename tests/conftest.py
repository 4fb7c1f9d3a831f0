"""Shared fixtures: an AppTest factory and a real app server driven by the system Chromium.

Browser tests (marked ``browser``) skip with a clear reason when no Chromium is installed,
unless ``LRVIZ_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in which case they fail instead.
Every test gets its own progress database (``LRVIZ_DB_URL``) so no test touches real data.

PostgreSQL: ``postgres_server`` starts a real server (``initdb`` + ``pg_ctl`` in a temporary
folder, loopback only, as a non-root user) once per session; ``store_url`` parametrizes a store
test over a fresh SQLite file and a fresh PostgreSQL database. Without server binaries the
PostgreSQL cases skip with the reason, unless ``LRVIZ_REQUIRE_POSTGRES=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

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


# --- a real PostgreSQL server ----------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (PATH first, then Debian's layout)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: the user to run it as (created if need be)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "lrvizpg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "lrvizpg"], check=True)
    return "lrvizpg"


def _as(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on a free loopback port for this test session; yields its base URL
    (``postgresql+psycopg://lrviz@127.0.0.1:PORT``) and stops it afterwards."""
    bindir = postgres_bindir()
    reason = None
    if bindir is None:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl) found"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "the psycopg package is not installed"
    if reason:
        if os.environ.get("LRVIZ_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"LRVIZ_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(f"{reason}; install Debian's 'postgresql' to run the store tests on it")
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="lrviz-pg-"))
    data, sock, log = base / "data", base / "sock", base / "server.log"
    sock.mkdir()
    if user is not None:
        shutil.chown(base, user)
        shutil.chown(sock, user)
    port = free_port()
    subprocess.run(_as(user, [str(bindir / "initdb"), "-D", str(data), "-U", "lrviz",
                              "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]),
                   check=True, capture_output=True, timeout=180)
    options = (f"-k {sock} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off "
               f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    started = subprocess.run(_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                                        "-o", options, "-w", "-t", "120", "start"]),
                             capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        tail = log.read_text()[-2000:] if log.exists() else ""
        pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{tail}")
    try:
        yield f"postgresql+psycopg://lrviz@127.0.0.1:{port}"
    finally:
        subprocess.run(_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                  "stop"]), capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test (dropped afterwards)."""
    import psycopg

    from lrviz.learning import store as store_module

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_server}/{name}"
    yield url
    store = store_module._STORES.pop(url, None)
    if store is not None:
        store.close()
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh progress database URL on each backend (SQLite file, PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'progress.sqlite3'}"
    return request.getfixturevalue("postgres_url")
