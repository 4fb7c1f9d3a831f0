"""/schedules, /race and /finder in Chromium: they render, the race animates every racer at
once, and a point clicked on the range test opens that run in the lab."""

from __future__ import annotations

import pytest
from helpers import open_page, wait_idle

pytestmark = pytest.mark.browser

CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_schedules_page_renders_preview_and_runs(page):
    open_page(page, "/schedules")
    page.wait_for_selector(CHART, timeout=60_000)
    assert page.locator(CHART).count() == 3  # preview, map, curves
    names = page.evaluate(f"document.querySelector(\"{CHART}\").data.map(t => t.name)")
    assert names[0] == "constant η₀" and len(names) == 4
    assert page.locator(".katex").count() >= 3  # each slot's formula is typeset
    _no_exception(page)


def test_race_play_moves_every_racer(page):
    open_page(page, "/race")
    page.wait_for_selector(CHART, timeout=60_000)
    read = ("() => { const gd = document.querySelector(\"" + CHART + "\"); "
            "const m = gd.data[gd.data.length - 1]; return [Array.from(m.x), Array.from(m.y)]; }")
    before = page.evaluate(read)
    assert len(before[0]) == 4
    page.locator(f"{CHART} .updatemenu-button").filter(has_text="Play").first.click()
    page.wait_for_timeout(1500)
    after = page.evaluate(read)
    moved = [(a, b) != (c, d) for a, b, c, d in zip(*before, *after, strict=True)]
    assert sum(moved) >= 3  # all move together (a racer stuck at its start may not)
    _no_exception(page)


def test_clicked_range_test_point_opens_in_the_lab(page):
    open_page(page, "/finder?surface=bowl&optimizer=sgd&points=20")
    page.wait_for_selector(CHART, timeout=60_000)
    target = page.evaluate(
        "() => { const gd = document.querySelector(\"" + CHART + "\");"
        " const t = gd._fullData.findIndex(d => d.mode === 'markers');"
        " const x = gd._fullData[t].x[3], y = gd._fullData[t].y[3];"
        " const r = gd.querySelector('.nsewdrag').getBoundingClientRect();"
        " return [r.left + gd._fullLayout.xaxis.l2p(Math.log10(x)),"
        "         r.top + gd._fullLayout.yaxis.l2p(Math.log10(y)), x]; }")
    page.mouse.click(target[0], target[1])
    wait_idle(page)
    link = page.get_by_text("Open the clicked run in the lab")
    link.first.wait_for(timeout=30_000)
    link.first.click()
    page.wait_for_url("**/lab?**", timeout=30_000)
    wait_idle(page)
    lr = float(page.get_by_label("exact learning rate", exact=True).input_value())
    assert lr == pytest.approx(target[2], rel=1e-4)
    assert "surface=bowl" in page.url and "optimizer=sgd" in page.url
    page.wait_for_selector(CHART, timeout=60_000)
    start = page.evaluate("() => { const gd = document.querySelector(\"" + CHART + "\");"
                          " const p = gd._fullData.find(t => t.mode === 'lines+markers');"
                          " return [p.x[0], p.y[0]]; }")
    assert start == pytest.approx([2.5, 2.0])  # the bowl's start: the lab shows that run
    _no_exception(page)
