"""Presenter mode in a real browser on a 1280×720 projector at 150% zoom (853×480 CSS px):
on each of the five pages the sidebar is gone, the map and its curves stand side by side
inside the screen, the regime badge is drawn on the map, and the keyboard drives it: space
plays and pauses, → and ← step, n shows the next scenario."""

from __future__ import annotations

import pytest
from helpers import open_page, wait_idle

from lrviz.engine.diagnose import Regime

pytestmark = pytest.mark.browser

PAGES = {
    "lab": "/lab?preset=overshoot&present=1",
    "race": "/race?present=1",
    "schedules": "/schedules?present=1",
    "finder": "/finder?present=1",
    "lesson": "/lesson?lesson=lr-basics&present=1",
}
WIDTH, HEIGHT = 853, 480  # 1280×720 at 150% zoom
SLOW = 180_000
HEADING = "document.querySelector(\"[data-testid='stMain'] h1\")"
MAP = "document.querySelector(\"[data-testid='stPlotlyChart'] .js-plotly-plot\")"


def _active(pg) -> int:
    return pg.evaluate(f"() => {MAP}._fullLayout.sliders[0].active || 0")


def _heading(pg) -> str:
    return pg.locator("[data-testid='stMain'] h1").first.inner_text()


@pytest.fixture
def projector(browser, app_server):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                  device_scale_factor=1.5)
    pg = context.new_page()
    pg.base_url = app_server
    pg.set_default_timeout(SLOW)
    yield pg
    context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_presenter_mode_fills_the_projector_and_obeys_the_keys(projector, name):
    pg = projector
    open_page(pg, PAGES[name], SLOW)
    pg.wait_for_selector(".slider-container[role='slider']")  # map drawn, bridge applied
    assert pg.locator("[data-testid='stException']").count() == 0

    # no sidebar and no way to open it
    assert not pg.locator("[data-testid='stSidebar']").is_visible()
    assert not pg.locator("[data-testid='stExpandSidebarButton']").is_visible()
    assert pg.get_by_role("button", name="Exit presenter mode").is_visible()

    # the map and its curves side by side, both wholly on the screen
    charts = pg.locator("[data-testid='stPlotlyChart']")
    left, right = charts.nth(0).bounding_box(), charts.nth(1).bounding_box()
    assert left["x"] + left["width"] <= right["x"] + 1
    assert abs(left["y"] - right["y"]) < 5
    for box in (left, right):
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT
        assert box["width"] > 300 and box["height"] > 300
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= WIDTH

    # the regime badge is an annotation on the map, showing a regime's name
    badge = pg.evaluate(f"() => ({MAP}.layout.annotations || [])"
                        ".filter(a => a.name === 'regime badge').map(a => a.text)")
    assert len(badge) == 1
    drawn = pg.locator("[data-testid='stPlotlyChart']").first.locator(".annotation-text")
    texts = " ".join(drawn.all_text_contents())
    assert any(regime.label.upper() in texts for regime in Regime)

    # space plays, space pauses (the step stays put), arrows step one frame
    pg.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert _active(pg) == 0
    pg.keyboard.press(" ")
    pg.wait_for_function(f"() => ({MAP}._fullLayout.sliders[0].active || 0) > 3")
    pg.keyboard.press(" ")
    pg.wait_for_timeout(300)
    paused = _active(pg)
    pg.wait_for_timeout(700)
    assert _active(pg) == paused
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"() => {MAP}._fullLayout.sliders[0].active === {paused + 1}")
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_function(f"() => {MAP}._fullLayout.sliders[0].active === {paused - 1}")

    # n: the next scenario (the heading names it; the lab's URL names the preset), p: back
    first = _press_and_wait(pg, "n", _heading(pg))
    if name == "lab":
        assert "preset=divergence" in pg.url and "present=1" in pg.url
    _press_and_wait(pg, "n", first)
    pg.keyboard.press("p")
    wait_idle(pg, SLOW)
    pg.wait_for_function(f"(text) => {HEADING}.innerText === text", arg=first)
    assert pg.locator("[data-testid='stException']").count() == 0


def _press_and_wait(pg, key: str, heading: str) -> str:
    """Press ``key``; wait for the heading to change from ``heading``; the new heading."""
    pg.keyboard.press(key)
    wait_idle(pg, SLOW)
    pg.wait_for_function(f"(text) => {HEADING}.innerText !== text", arg=heading)
    return _heading(pg)


def test_keys_do_nothing_outside_presenter_mode(projector):
    pg = projector
    open_page(pg, "/lab?preset=overshoot", SLOW)
    pg.wait_for_selector(".slider-container[role='slider']")
    pg.evaluate("() => document.activeElement && document.activeElement.blur()")
    pg.keyboard.press("n")
    pg.keyboard.press("ArrowRight")
    pg.wait_for_timeout(800)
    assert "preset=overshoot" in pg.url
    assert _active(pg) == 0
