"""Helpers for browser tests (import as ``from helpers import open_page, wait_idle``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_idle(pg, timeout: float = 90_000) -> None:
    """Wait until the script run triggered by the last action has finished."""
    pg.wait_for_timeout(300)
    pg.wait_for_selector(IDLE, timeout=timeout)


def open_page(pg, path: str, timeout: float = 90_000) -> None:
    """Navigate to ``path`` (e.g. ``/lab?lr=0.1``) and wait for its script to finish."""
    pg.goto(pg.base_url + path)
    pg.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    wait_idle(pg, timeout)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(log: Path, port: int, env: dict[str, str]) -> Iterator[str]:
    """``streamlit run app.py`` on loopback with extra environment ``env``; yields the base URL
    once ``/_stcore/health`` answers, and stops the server afterwards."""
    with open(log, "a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while time.time() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                        if r.read().strip() == b"ok":
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                pytest.fail(f"the app server did not start: {Path(log).read_text()[-2000:]}")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
