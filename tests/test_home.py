"""The home page: the hero figure with three learning rates, the course map and the lab links."""

import json
from pathlib import Path

import pytest
from helpers import open_page
from streamlit.testing.v1 import AppTest

from lrviz.learning.store import get_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FIXTURE = Path(__file__).parent / "fixtures" / "course"


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


# --- the course map ----------------------------------------------------------------------------

def _page_links(at) -> list:
    return [p.proto for p in at.get("page_link")]


def test_home_shows_the_course_map_with_objectives_and_time(app_test, monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    at = app_test()
    assert not at.exception
    cards = [m.value for m in at.markdown]
    assert "#### 1 · Fixture: what the learning rate does" in cards
    assert "#### 2 · Fixture: momentum in a ravine" in cards
    assert any("Explain why plain gradient descent zig-zags" in m for m in cards)
    assert {"⏱ about 20 min", "⏱ about 15 min"} <= {c.value for c in at.caption}
    # The broken lesson keeps its place, with the reason, and the others are unaffected.
    assert any("03-fixture-broken/dialogue.md" in e.value and "both the teacher" in e.value
               for e in at.error)
    lesson_links = {p.query_string for p in _page_links(at) if p.query_string}
    assert {"lesson=fixture-basics", "lesson=fixture-momentum",
            "lesson=fixture-broken"} <= lesson_links
    # No learner yet: no progress bars, and a hint how to get them.
    assert not at.get("progress")
    assert any("display name" in c.value for c in at.caption)


def test_home_has_entry_points_to_the_lab(app_test, monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    at = app_test()
    labels = {p.label for p in _page_links(at)}
    assert {"Open the lab", "Lab", "Schedules", "Optimizer race", "LR finder"} <= labels


def test_home_shows_the_learners_reading_progress(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    learner = get_store().learner("Grace")
    for section in ("listen", "summary", "examples"):
        get_store().mark_section_read(learner.id, "fixture-momentum", section)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["learner"] = "Grace"
    at.run()
    assert not at.exception
    bars = [p.proto for p in at.get("progress")]
    assert len(bars) == 2  # one per valid lesson
    texts = [b.text for b in bars]
    assert texts[0].startswith("0 of 7 sections read")
    assert texts[1].startswith("3 of 7 sections read")
    assert bars[1].value == 100 * 3 // 7  # percent, as Streamlit truncates it
