"""The home page: it runs, and its hero figure shows three learning rates with their regimes."""

import json

import pytest
from helpers import open_page


def test_home_runs_and_shows_three_rates(app_test):
    at = app_test()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert charts, "the home page must show the hero figure"
    spec = json.loads(charts[0].proto.spec)
    names = [t.get("name", "") for t in spec["data"]]
    assert any("too small" in n and "slow" in n for n in names)
    assert any("about right" in n and "converged" in n for n in names)
    assert any("too large" in n and "diverged" in n for n in names)


@pytest.mark.browser
def test_home_renders_in_chromium(page):
    open_page(page, "/")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    traces = page.evaluate("document.querySelector('.js-plotly-plot').data.length")
    assert traces >= 4
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.console_errors == []
