"""The lab in a real browser (system Chromium): it renders, a divergent rate shows the diverged
badge, Play moves the marker without a rerun, clicking the map sets the start, and a copied link
opened in a new page reproduces the view."""

from __future__ import annotations

import re

import pytest
from helpers import open_page, wait_idle

pytestmark = pytest.mark.browser

MAP = "[data-testid='stPlotlyChart'] .js-plotly-plot"
# Opening a deep link like /lab makes Streamlit's frontend probe /lab/_stcore/... first (404),
# then fall back to the root: those two probes are expected, any other error is not.
PROBES = ("/_stcore/host-config", "/_stcore/health")


def _track_responses(page) -> list[str]:
    bad: list[str] = []
    page.on("response", lambda r: bad.append(r.url) if r.status >= 400 else None)
    return bad


def _assert_clean(page, bad_urls: list[str]) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    unexpected = [u for u in bad_urls if not u.endswith(PROBES)]
    assert unexpected == []
    others = [e for e in page.console_errors if "Failed to load resource" not in e]
    assert others == []
    assert len(page.console_errors) - len(others) <= len(bad_urls)


def _map_js(page, expression: str):
    """Evaluate ``expression`` with ``gd`` bound to the lab map's Plotly div."""
    return page.evaluate(f"() => {{ const gd = document.querySelector(\"{MAP}\"); "
                         f"return {expression}; }}")


def _badge(page, word: str):
    """The regime badge (its icon may render as a ligature name before the word)."""
    return page.get_by_text(re.compile(rf"\b{word}$"))


def _set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_lab_renders_with_map_curves_and_badge(page):
    bad = _track_responses(page)
    open_page(page, "/lab")
    page.wait_for_selector(MAP, timeout=60_000)
    traces = _map_js(page, "gd.data.map(t => t.name)")
    assert traces[0] == "loss surface" and len(traces) >= 5
    assert _surface_drawn(page) == {"image": 1, "lines": 1}
    assert page.locator(".js-plotly-plot").count() >= 2  # map + curves
    assert _badge(page, "SLOW").count() >= 1
    _assert_clean(page, bad)


def test_divergent_learning_rate_shows_the_diverged_badge(page):
    bad = _track_responses(page)
    open_page(page, "/lab?optimizer=sgd&lr=0.001")
    page.wait_for_selector(MAP, timeout=60_000)
    assert _badge(page, "DIVERGED").count() == 0
    _set_number(page, "exact learning rate", "0.004")
    _badge(page, "DIVERGED").first.wait_for(timeout=30_000)
    assert page.get_by_text("Diverged at step").count() >= 1
    assert "lr=0.004" in page.url  # the URL follows the control
    _assert_clean(page, bad)


def _surface_drawn(page) -> dict:
    """What the map shows of the surface: band images, and contour-line pieces drawn."""
    return _map_js(page, "({image: gd.querySelectorAll('.imagelayer image').length,"
                         " lines: gd.querySelectorAll('.scatterlayer .trace')[0]"
                         ".querySelectorAll('path.js-line').length > 20 ? 1 : 0})")


def test_play_moves_the_marker_in_the_browser(page):
    open_page(page, "/lab?preset=overshoot")
    page.wait_for_selector(MAP, timeout=60_000)
    start = _map_js(page, "[gd.data[gd.data.length - 1].x[0], gd.data[gd.data.length - 1].y[0]]")
    runs_before = page.evaluate("document.querySelector(\"[data-testid='stApp']\")"
                                ".getAttribute('data-test-script-state')")
    page.locator(f"{MAP} .updatemenu-button").filter(has_text="Play").click()
    page.wait_for_timeout(1500)
    moved = _map_js(page, "[gd.data[gd.data.length - 1].x[0], gd.data[gd.data.length - 1].y[0]]")
    assert moved != start
    assert _surface_drawn(page) == {"image": 1, "lines": 1}  # the surface stays while it plays
    # the animation is client-side: no script run was triggered
    assert runs_before == "notRunning"
    assert page.evaluate("document.querySelector(\"[data-testid='stApp']\")"
                         ".getAttribute('data-test-script-state')") == "notRunning"
    page.locator(f"{MAP} .updatemenu-button").filter(has_text="Pause").click()
    # dragging the step slider jumps frames the same way: the surface must stay too
    rail = page.locator(f"{MAP} .slider-rail-rect").first.bounding_box()
    page.mouse.click(rail["x"] + rail["width"] * 0.7, rail["y"] + rail["height"] / 2)
    page.wait_for_timeout(500)
    assert _surface_drawn(page) == {"image": 1, "lines": 1}


def test_click_on_the_map_sets_the_start(page):
    open_page(page, "/lab?surface=bowl&optimizer=sgd&lr=0.1")
    page.wait_for_selector(MAP, timeout=60_000)
    box = page.locator(f"{MAP} .nsewdrag").first.bounding_box()
    # bowl domain is [-3, 3] x [-3, 3]: a click 1/4 in from the left and top is near (-1.5, 1.5)
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    wait_idle(page)
    page.wait_for_function("() => !location.search.includes('x0=2.5') && "
                           "location.search.includes('x0=')", timeout=30_000)
    x0 = float(page.get_by_label("start x0", exact=True).input_value())
    y0 = float(page.get_by_label("start y0", exact=True).input_value())
    assert x0 == pytest.approx(-1.5, abs=0.4) and y0 == pytest.approx(1.5, abs=0.4)


def test_copied_link_reproduces_the_view_in_a_new_page(page, browser):
    open_page(page, "/lab?preset=momentum-ravine")
    page.wait_for_selector(MAP, timeout=60_000)
    _set_number(page, "exact learning rate", "0.02")
    link = page.locator("[data-testid='stCode'] code").filter(has_text="/lab?").inner_text()
    link = "".join(link.split())  # the code block may wrap the long line
    assert "lr=0.02" in link and "preset=momentum-ravine" in link
    # _fullData holds the decoded coordinates (gd.data keeps the base64 arrays as sent)
    paths = _map_js(page, "gd._fullData.filter(t => t.mode === 'lines+markers')"
                          ".map(t => [t.name, Array.from(t.x).slice(0, 50)])")
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.base_url = page.base_url
    try:
        other.goto(link)
        other.wait_for_selector(MAP, timeout=90_000)
        wait_idle(other)
        again = _map_js(other, "gd._fullData.filter(t => t.mode === 'lines+markers')"
                               ".map(t => [t.name, Array.from(t.x).slice(0, 50)])")
        assert [p[0] for p in again] == [p[0] for p in paths]
        assert paths and all(len(xs) == 50 for _, xs in paths)
        for (_, xs), (_, ys) in zip(again, paths, strict=True):
            assert xs == pytest.approx(ys, abs=1e-6)
        assert other.get_by_label("exact learning rate", exact=True).input_value() == "0.02"
    finally:
        other.context.close()
