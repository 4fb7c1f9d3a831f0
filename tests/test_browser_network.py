"""/network in a real browser (system Chromium): a divergent rate shows the diverged badge and
curves with the engine's length, changing the rate updates the URL and the verdict, and a bad
link value is reported as plain text."""

from __future__ import annotations

import re

import pytest
from helpers import open_page, wait_idle

pytestmark = pytest.mark.browser

PLOT = "[data-testid='stPlotlyChart'] .js-plotly-plot"


def _badge(page, word: str):
    return page.get_by_text(re.compile(rf"\b{word}$"))


def _loss_trace_length(page) -> int:
    return page.evaluate(
        "() => { for (const gd of document.querySelectorAll('.js-plotly-plot')) {"
        " const t = (gd._fullData || []).find(d => d.name === 'training loss');"
        " if (t) return t.x.length; } return -1; }")


def test_diverging_rate_then_a_stable_one(page):
    open_page(page, "/network?loss=mse&lr=1&steps=100", timeout=180_000)
    page.wait_for_selector(PLOT, timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0
    _badge(page, "DIVERGED").first.wait_for(timeout=60_000)
    assert page.get_by_text("Diverged at step").count() >= 1
    assert _loss_trace_length(page) == 101  # steps + 1 losses, every one drawn
    box = page.get_by_label("exact learning rate", exact=True)
    box.fill("0.05")
    box.press("Enter")
    wait_idle(page, 180_000)
    assert _badge(page, "DIVERGED").count() == 0
    assert "lr=0.05" in page.url and "loss=mse" in page.url
    assert page.locator("[data-testid='stException']").count() == 0


def test_bad_link_value_is_reported_as_text(page):
    open_page(page, "/network?lr=**fast**&steps=50", timeout=180_000)
    page.wait_for_selector(PLOT, timeout=120_000)
    notice = page.get_by_text("Link: ignored lr='**fast**' (not a number); using lr=0.1.")
    assert notice.count() == 1  # the asterisks arrive literally: never rendered as Markdown
    assert page.locator("[data-testid='stException']").count() == 0
