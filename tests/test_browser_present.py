"""Presenter mode in a real browser on a 1280×720 projector at 150% zoom (853×480 CSS px):
on each of the five pages the sidebar is gone, the map and its curves stand side by side
inside the screen, nothing drawn on them (ticks, titles, badge, slider) is cut off, the regime
badge is drawn on the map, and the keyboard drives it: space plays and pauses, → and ← step,
n shows the next scenario. On a 1920×1080 projector the stage fills most of the screen's
height, and shrinks back to fit when the window does."""

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


# Each stage figure (the first two charts): its box, the height Plotly laid it out at, and how
# many of its drawn parts (ticks, axis titles, annotations, legend, slider, buttons) reach out
# of the box.
STAGE_JS = r"""
() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")].slice(0, 2).map(c => {
  const plot = c.querySelector(".js-plotly-plot"), r = c.getBoundingClientRect();
  const parts = [...plot.querySelectorAll("[class$='tick'] text, [class$='title'], " +
      ".annotation, .legend, .slider-container, .updatemenu-container")]
    .map(e => e.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0);
  const out = parts.filter(b => b.top < r.top - 1 || b.bottom > r.bottom + 1 ||
                                b.left < r.left - 1 || b.right > r.right + 1);
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
          layout: plot._fullLayout.height, parts: parts.length, out: out.length};
})
"""


def _stage(pg) -> list[dict]:
    return pg.evaluate(STAGE_JS)


def _assert_stage_on_screen(pg, width: int, height: int) -> list[dict]:
    """Both figures wholly on the screen, drawn at their box's height, nothing cut off."""
    figures = _stage(pg)
    assert len(figures) == 2
    for fig in figures:
        assert fig["top"] >= 0 and fig["bottom"] <= height, (fig, height)
        assert fig["left"] >= 0 and fig["right"] <= width, (fig, width)
        assert abs(fig["layout"] - fig["height"]) <= 1, fig  # the plot redrew to its box
        assert fig["parts"] > 10 and fig["out"] == 0, fig
    return figures


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
    _assert_stage_on_screen(pg, WIDTH, HEIGHT)  # exactly 390 px: the least the stage gets

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


TALL = 1920, 1080


@pytest.mark.parametrize("name", list(PAGES))
def test_the_stage_fills_a_tall_projector_and_shrinks_with_the_window(browser, app_server, name):
    context = browser.new_context(viewport={"width": TALL[0], "height": TALL[1]})
    pg = context.new_page()
    pg.base_url = app_server
    pg.set_default_timeout(SLOW)
    try:
        open_page(pg, PAGES[name], SLOW)
        pg.wait_for_selector(".slider-container[role='slider']")
        assert pg.locator("[data-testid='stException']").count() == 0
        pg.wait_for_function(f"() => {MAP}._fullLayout.height >= {0.6 * TALL[1]}",
                             timeout=60_000)
        figures = _assert_stage_on_screen(pg, *TALL)
        assert all(f["height"] >= 0.6 * TALL[1] for f in figures), figures
        assert abs(figures[0]["top"] - figures[1]["top"]) < 5
        assert figures[0]["right"] <= figures[1]["left"] + 1  # still side by side

        pg.set_viewport_size({"width": WIDTH, "height": HEIGHT})  # the window shrinks
        pg.wait_for_function(f"() => {MAP}._fullLayout.height < {0.6 * TALL[1]}")
        pg.wait_for_timeout(500)
        figures = _assert_stage_on_screen(pg, WIDTH, HEIGHT)
        assert all(f["height"] >= 300 for f in figures), figures
    finally:
        context.close()
