"""Helpers for browser tests (import as ``from helpers import open_page, wait_idle``)."""

from __future__ import annotations

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
