"""The lab's run view is a fragment (a learning-rate change reruns only it): in Chromium, the
rate controls, the URL, the share link, pins, presets and remedies still behave as one page."""

from __future__ import annotations

import re

import pytest
from helpers import open_page, wait_idle

pytestmark = pytest.mark.browser

MAP = "[data-testid='stPlotlyChart'] .js-plotly-plot"
SIDEBAR = "[data-testid='stSidebar']"


def _exact(pg):
    return pg.locator(SIDEBAR).get_by_label("exact learning rate", exact=True)


def _set_exact(pg, value: str) -> None:
    box = _exact(pg)
    box.fill(value)
    box.press("Enter")
    wait_idle(pg)


def _paths(pg) -> list[list[float]]:
    """The x coordinates of every run drawn on the map (one list per run), as Plotly decoded
    them (``data`` keeps the base64 arrays as sent)."""
    return pg.evaluate(f"() => document.querySelector(\"{MAP}\")._fullData"
                       ".filter(t => t.mode === 'lines+markers')"
                       ".map(t => Array.from(t.x).slice(0, 30))")


def _chosen(pg, label: str) -> str:
    """The option shown by the sidebar select box labelled ``label``."""
    return pg.locator(SIDEBAR).get_by_role("combobox", name=label).input_value()


def _link(pg) -> str:
    text = pg.locator("[data-testid='stCode'] code").filter(has_text="/lab?").inner_text()
    return "".join(text.split())


def _reruns_sent(pg) -> list:
    """Collects every rerun request the page sends over Streamlit's websocket (ClientState)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sent = []

    def frame(payload) -> None:
        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                sent.append(msg.rerun_script)

    pg.on("websocket", lambda ws: ws.on("framesent", frame))
    return sent


def test_rate_slider_and_exact_input_drive_the_url_link_and_map(page):
    reruns = _reruns_sent(page)
    open_page(page, "/lab?surface=bowl&optimizer=sgd&lr=0.1")
    page.wait_for_selector(MAP, timeout=60_000)
    before = _paths(page)
    _set_exact(page, "0.02")
    assert reruns[-1].fragment_id  # the browser reran the run view only
    page.wait_for_url(re.compile(r"lr=0\.02(&|$)"))
    assert "lr=0.02" in _link(page)
    assert _paths(page) != before
    assert _chosen(page, "Loss surface") == "bowl"
    # the log slider moves the exact input (and the URL) one stop at a time
    page.locator(".st-key-lr_log input[type='range']").press("ArrowRight")
    wait_idle(page)
    page.wait_for_function("() => !/lr=0\\.02(&|$)/.test(location.search)", timeout=30_000)
    moved = float(_exact(page).input_value())
    assert moved == pytest.approx(0.0224, rel=0.01)  # the next of 20 stops per decade
    assert f"lr={moved:g}" in _link(page)
    assert page.locator("[data-testid='stException']").count() == 0


def test_pins_presets_and_remedies_update_the_whole_page(page):
    open_page(page, "/lab?surface=bowl&optimizer=sgd&lr=0.1")
    page.wait_for_selector(MAP, timeout=60_000)
    page.get_by_role("button", name="Pin this run").click()
    wait_idle(page)
    page.wait_for_url(re.compile(r"pins="))
    assert page.get_by_role("button", name="Unpin").count() == 1
    assert page.get_by_role("button", name="Pin this run").is_disabled()  # already pinned
    _set_exact(page, "0.3")
    page.wait_for_url(re.compile(r"lr=0\.3(&|$)"))
    live, pinned = _paths(page)
    assert live != pinned  # the pinned run stays while the rate changes
    assert page.get_by_role("button", name="Pin this run").is_enabled()
    page.get_by_role("button", name="Unpin").click()
    wait_idle(page)
    page.wait_for_function("() => !/pins=(?!none(&|$))/.test(location.search)",
                           timeout=30_000)  # pins=none: no pinned run
    assert len(_paths(page)) == 1
    # a preset from the control row rewrites the sidebar and the URL
    picker = page.locator(".st-key-preset_pick").get_by_role("combobox")
    picker.scroll_into_view_if_needed()  # a click that scrolls first closes the list again
    page.wait_for_timeout(300)
    picker.click()
    page.get_by_role("option", name="Divergence: the loss explodes").click()
    wait_idle(page)
    page.wait_for_url(re.compile(r"preset=divergence"))
    assert _chosen(page, "Loss surface") == "rosenbrock"
    assert float(_exact(page).input_value()) == pytest.approx(0.003)
    # a remedy changes the rate in the sidebar too
    page.locator("[class*='st-key-remedy_'] button").first.click()
    wait_idle(page)
    page.wait_for_url(re.compile(r"lr="))
    fixed = float(_exact(page).input_value())
    assert fixed != pytest.approx(0.003)
    assert f"lr={fixed:g}" in _link(page)
    assert page.locator("[data-testid='stException']").count() == 0
