"""Presenter mode (``?present=1``) through AppTest and its pure helpers: the stage's figures,
the regime badge drawn on the map (escaped), the scenario buttons that n/p press, exit, and
the short presenter link; plus the lab's control row above the map."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlparse

import pytest

from lrviz import simulate
from lrviz.engine.presets import PRESETS
from lrviz.ui import presenter
from lrviz.ui.safe_text import md
from lrviz.ui.urlstate import DEFAULT_CONFIG, parse_lab_query

LAB = "lrviz/ui/pages/lab.py"
PRESETS_IN_ORDER = list(PRESETS)


def charts(at) -> dict[str, dict]:
    """Every chart's spec by its key (the element id ends with the key)."""
    out = {}
    for element in at.get("plotly_chart"):
        out[element.proto.id] = json.loads(element.proto.spec)
    return out


def chart(at, key: str) -> dict:
    found = [spec for element_id, spec in charts(at).items() if key in element_id]
    assert found, f"no chart {key!r} among {list(charts(at))}"
    return found[0]


def badge(spec: dict) -> str:
    notes = [a for a in spec["layout"].get("annotations", []) if a.get("name") ==
             presenter.BADGE_NAME]
    assert len(notes) == 1, spec["layout"].get("annotations")
    return notes[0]["text"]


def open_page(app_test, page: str, **query):
    at = app_test(page, query={k: str(v) for k, v in query.items()})
    assert not at.exception, at.exception
    return at


# --- pure helpers ----------------------------------------------------------------------------


def test_neighbours_wrap_round_and_start_at_the_first():
    ids = ["a", "b", "c"]
    assert presenter.neighbours(ids, "b") == ("a", "c")
    assert presenter.neighbours(ids, "c") == ("b", "a")
    assert presenter.neighbours(ids, "a") == ("c", "b")
    assert presenter.neighbours(ids, None) == ("c", "a")
    with pytest.raises(ValueError):
        presenter.neighbours([], None)


def test_presenter_path_keeps_the_page_params_and_one_present():
    link = presenter.presenter_path("/lab", [("preset", "overshoot"), ("present", "true"),
                                             ("pins", "surface:bowl,lr:0.1"),
                                             ("pins", "surface:bowl,lr:0.2")])
    parsed = urlparse(link)
    assert parsed.path == "/lab"
    assert parse_qsl(parsed.query) == [("preset", "overshoot"), ("pins", "surface:bowl,lr:0.1"),
                                       ("pins", "surface:bowl,lr:0.2"), ("present", "1")]


def test_badge_text_escapes_labels_and_accepts_only_hex_colours():
    text = presenter.badge_text([("diverged", "<b>x</b> {y} $z$ & <a href='http://e'>")],
                                ["#0072B2"])
    assert "<b>DIVERGED</b>" in text
    for raw in ("<b>x</b>", "{y}", "$z$", "<a href"):
        assert raw not in text
    assert "&lt;b&gt;x&lt;/b&gt; &#123;y&#125; &#36;z&#36; &amp; &lt;a href=" in text
    with pytest.raises(ValueError):
        presenter.badge_text([("slow", "")], ["red;font-size:99px"])


def test_scenario_settings_touch_only_the_pages_own_controls():
    cfg = PRESETS["warmup"].config
    race = presenter.scenario_settings(cfg, "race")
    assert race["surface"] == cfg.surface and race["lr"] == cfg.lr
    assert (race["x0"], race["y0"]) == tuple(cfg.start_point)
    assert "optimizer" not in race and "schedule" not in race and "noise" not in race
    assert set(cfg.surface_values()) <= set(race)
    finder = presenter.scenario_settings(cfg, "finder")
    assert finder["schedule"] == cfg.schedule and "lr" not in finder
    assert set(cfg.schedule_values()) <= set(finder)


# --- the lab ---------------------------------------------------------------------------------


def test_lab_presenter_stage_badge_and_no_url_notice(app_test):
    at = open_page(app_test, LAB, preset="overshoot", present=1)
    assert not at.warning  # "present" is a known parameter: no "ignored" notice
    fig = chart(at, "lab_map")
    assert fig["layout"]["height"] == presenter.STAGE_HEIGHT
    assert chart(at, "lab_curves")["layout"]["height"] == presenter.STAGE_HEIGHT
    assert "<b>OVERSHOOTING</b>" in badge(fig)
    assert [t.value for t in at.title] == [f"Lab · {md(PRESETS['overshoot'].title)}"]
    for key in (presenter.NEXT_KEY, presenter.PREVIOUS_KEY, presenter.EXIT_KEY):
        assert at.button(key=key)
    assert any("present=1" in c.value and "preset=overshoot" in c.value for c in at.code)


def test_lab_next_and_previous_step_through_the_presets(app_test):
    at = open_page(app_test, LAB, preset="overshoot", present=1)
    at.button(key=presenter.NEXT_KEY).click().run()
    assert at.query_params["preset"] == PRESETS_IN_ORDER[1]
    second = PRESETS[PRESETS_IN_ORDER[1]]
    assert at.number_input(key="lr").value == second.config.lr
    assert f"<b>{simulate(second.config).regime.label.upper()}</b>" in badge(
        chart(at, "lab_map"))
    assert at.title[0].value == f"Lab · {md(second.title)}"
    at.button(key=presenter.PREVIOUS_KEY).click().run()
    at.button(key=presenter.PREVIOUS_KEY).click().run()
    assert at.query_params["preset"] == PRESETS_IN_ORDER[-1]  # wraps round
    assert not at.exception


def test_exit_leaves_presenter_mode_and_keeps_the_settings(app_test):
    at = open_page(app_test, LAB, preset="slow", lr=0.02, present=1)
    at.button(key=presenter.EXIT_KEY).click().run()
    assert "present" not in at.query_params
    assert at.query_params["preset"] == "slow"
    assert at.number_input(key="lr").value == 0.02
    assert chart(at, "lab_map")["layout"]["height"] != presenter.STAGE_HEIGHT
    assert at.title[0].value.startswith("Lab:")


def test_badge_escapes_a_hostile_pin_label(app_test):
    hostile = "<b>bold</b> {x} $y$"
    at = open_page(app_test, LAB, present=1,
                   pins=f"surface:{DEFAULT_CONFIG.surface},optimizer:sgd,lr:0.05,"
                        f"label:{hostile}")
    text = badge(chart(at, "lab_map"))
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "&#123;x&#125;" in text and "&#36;y&#36;" in text


def test_lab_control_row_loads_a_preset_and_keeps_the_url_state(app_test):
    at = open_page(app_test, LAB)
    assert at.selectbox(key="preset_pick").value is None
    at.selectbox(key="preset_pick").select("warmup").run()
    assert at.query_params["preset"] == "warmup"
    assert at.number_input(key="lr").value == PRESETS["warmup"].config.lr
    assert at.selectbox(key="preset_pick").value == "warmup"
    query = parse_lab_query(dict(at.query_params))
    assert query.preset is not None and query.preset.id == "warmup"
    # the log slider is in the main area now, still bound to the exact rate
    at.select_slider(key="lr_log").set_value(0.01).run()
    assert at.number_input(key="lr").value == pytest.approx(0.01)
    assert not at.exception


# --- the other pages -------------------------------------------------------------------------


@pytest.mark.parametrize("page,map_key,curves_key", [
    ("lrviz/ui/pages/race.py", "race_map", "race_curves"),
    ("lrviz/ui/pages/schedules.py", "schedules_map", "schedules_curves"),
    ("lrviz/ui/pages/finder.py", "finder_map", "finder_curve"),
])
def test_scenario_pages_step_through_the_presets(app_test, page, map_key, curves_key):
    at = open_page(app_test, page, present=1)
    assert not at.warning
    assert chart(at, map_key)["layout"]["height"] == presenter.STAGE_HEIGHT
    assert chart(at, curves_key)["layout"]["height"] == presenter.STAGE_HEIGHT
    before = badge(chart(at, map_key))
    at.button(key=presenter.NEXT_KEY).click().run()
    assert not at.exception
    first = PRESETS[PRESETS_IN_ORDER[0]]
    assert at.session_state["surface"] == first.config.surface
    assert at.session_state["x0"] == first.config.start_point[0]
    assert at.title[0].value.endswith(f" · {md(first.title)}")
    assert badge(chart(at, map_key)) != before


def test_lesson_presenter_shows_one_example_at_a_time(app_test):
    at = open_page(app_test, "lrviz/ui/pages/lesson.py", lesson="lr-basics", present=1)
    assert not at.tabs  # the slides replace the section tabs
    first = at.title[0].value
    assert first.startswith("Lesson 1 ·")
    assert "<b>DIVERGED</b>" in badge(chart(at, "lesson_present_map"))
    at.button(key=presenter.NEXT_KEY).click().run()
    assert at.title[0].value != first
    at.button(key=presenter.PREVIOUS_KEY).click().run()
    assert at.title[0].value == first


def test_a_lesson_without_simulated_examples_shows_as_usual(app_test):
    at = open_page(app_test, "lrviz/ui/pages/lesson.py", lesson="bowl-to-network", present=1)
    assert at.tabs  # no 2-D example to put on the stage: the lesson's sections as usual
    assert presenter.NEXT_KEY not in [b.key for b in at.button]
