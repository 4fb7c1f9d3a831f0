"""Property-based fuzzing of every page's URL: any value, any key, repeated or empty, gives the
page (defaults for what is unusable) and a notice naming the parameter; never an exception.

Two layers. The parser (`parse_lab_query`, `check_page_query`, `check_plain_query`, all derived
from `lrviz.ui.url_table`) is fuzzed
fast with many examples: it never raises, names every bad key, and lets through only values a
widget can take (finite, in its range, whole where it must be) — Streamlit's own URL seeding of
an integer input raised OverflowError on ``inf`` before. Then every page is run through AppTest
with a bounded number of generated URLs (``LRVIZ_FUZZ_EXAMPLES`` per page, default 12), plus
explicit examples for the values the issue reported.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from helpers import APP
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.engine.surfaces import SURFACES
from lrviz.learning.content import LESSON_SECTIONS
from lrviz.ui.safe_text import shown
from lrviz.ui.urlstate import (
    GENERAL_NUMERIC,
    LR_RANGE,
    NOISE_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    check_page_query,
    check_plain_query,
    component_params,
    parse_lab_query,
    start_range,
)

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
SCHEDULES_BASE = RunConfig(surface="himmelblau", optimizer="sgd", lr=0.03, steps=300)
EXAMPLES = int(os.environ.get("LRVIZ_FUZZ_EXAMPLES", "12"))

# Values no numeric setting accepts: not numbers, not finite, or beyond every range.
BAD_NUMBERS = ["inf", "-inf", "nan", "NaN", "1e309", "-1e309", "9" * 5000, "-" + "9" * 5000,
               "1e12", "-1e12", "", " ", "abc", "0x10", "1,5", "١e٣٠٠", "∞", "½", "\x00",
               "1\x00", "\u202e5", "5" + "\u0301"]
INTEGER_KEYS = {p.name for s in SCHEDULES.values() for p in s.params if p.integer} | {
    "steps", "seed"}
BAD_INTEGERS = ["2.5", "0.1", "1e-3"]
TEXT = st.text(max_size=40) | st.sampled_from(["", " ", "ロ", "<b>x</b>", "[x](http://e)",
                                                "\u202e", "a\x00b", "x" * 3000])


def bad_value(key: str) -> st.SearchStrategy[str]:
    extra = BAD_INTEGERS if key in INTEGER_KEYS else []
    return st.sampled_from(BAD_NUMBERS + extra)


GENERAL_RANGES = {"lr": LR_RANGE, "steps": STEPS_RANGE, "noise": NOISE_RANGE, "seed": SEED_RANGE,
                  "x0": (-1.0, 1.0), "y0": (-1.0, 1.0)}


def good_number(low: float, high: float, integer: bool) -> st.SearchStrategy[str]:
    if integer:
        return st.integers(int(low), int(high)).map(str)
    return st.floats(low, high, allow_nan=False).map(lambda v: f"{v:.6g}").filter(
        lambda t: low <= float(t) <= high)


@st.composite
def lab_query(draw, general=GENERAL_NUMERIC, components=("surface", "optimizer", "schedule"),
              vary: tuple[str, ...] = ("surface", "optimizer", "schedule")):
    """A lab-like URL: component names (valid ones only for the kinds in ``vary``: a page run
    compiles each new structure, so the page fuzz keeps most at the page's defaults), then good
    or bad values for their parameters and the general settings, sometimes repeated keys and
    unknown keys.

    Returns (params, bad keys): each bad key must be named by a notice."""
    params: dict[str, str | list[str]] = {}
    bad: set[str] = set()
    names = {}
    registries = {"surface": SURFACES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
    for kind in components:
        if draw(st.booleans()):
            if kind not in vary or draw(st.integers(0, 5)) == 0:
                params[kind] = draw(TEXT.filter(lambda t, r=registries[kind]: t not in r))
                bad.add(kind)
            else:
                names[kind] = params[kind] = draw(st.sampled_from(list(registries[kind])))
    defaults = {"surface": "rosenbrock", "optimizer": "adam", "schedule": "constant"}
    chosen = {kind: names.get(kind, defaults[kind]) for kind in ("surface", "optimizer",
                                                                 "schedule")}
    owned = {k: p for k, (kind, p) in component_params(**chosen).items() if kind in components}
    ranges = {k: (*GENERAL_RANGES[k], k in INTEGER_KEYS) for k in general}
    ranges.update({k: (p.low, p.high, p.integer) for k, p in owned.items()})
    keys = draw(st.lists(st.sampled_from(sorted(ranges)), max_size=6, unique=True)) if ranges \
        else []
    for key in keys:
        if draw(st.booleans()):
            params[key] = draw(bad_value(key))
            bad.add(key)
        else:
            params[key] = draw(good_number(*ranges[key]))
        if draw(st.integers(0, 4)) == 0:  # repeated: the last value counts, and a notice says so
            params[key] = [draw(good_number(*ranges[key])), params[key]]
            bad.add(key)
    if draw(st.integers(0, 3)) == 0:
        unknown = draw(TEXT.filter(lambda t: t and t.isprintable() and t not in ranges
                                   and t not in ("preset", "pins", "view3d", "embed",
                                                 "embed_options", *registries)))
        params[unknown] = draw(TEXT)
        bad.add(unknown)
    return params, bad


def named(key: str, text: str) -> bool:
    """Whether a notice names ``key`` (known keys as ``key=``, any key quoted)."""
    return f"{key}=" in text or shown(key)[:20] in text


def widget_safe(key: str, value: str, cfg) -> bool:
    """A value a number widget of the final settings can take without error."""
    ranges = {"lr": LR_RANGE, "steps": STEPS_RANGE, "noise": NOISE_RANGE, "seed": SEED_RANGE}
    (xlo, xhi), (ylo, yhi) = start_range(cfg.surface)
    ranges.update({"x0": (xlo, xhi), "y0": (ylo, yhi)})
    integer = key in ("steps", "seed")
    params = component_params(cfg.surface, cfg.optimizer, cfg.schedule)
    if key in params:
        p = params[key][1]
        ranges[key], integer = (p.low, p.high), p.integer
    if key not in ranges:
        return True
    x = float(value)
    return math.isfinite(x) and ranges[key][0] <= x <= ranges[key][1] and (
        not integer or x.is_integer())


# --- the parser, fast ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(lab_query())
@example(({"seed": "inf", "noise": "0.5"}, {"seed"}))
@example(({"schedule": "cosine_restarts", "T_0": "1e309", "T_mult": "-inf"}, {"T_0", "T_mult"}))
@example(({"steps": ["100", "200"]}, {"steps"}))
def test_lab_parser_never_raises_names_bad_keys_and_passes_only_safe_values(case):
    params, bad = case
    q = parse_lab_query(params)
    text = "\n".join(q.notices)
    for key in bad:
        assert named(key, text), (key, q.notices)
    for key, value in params.items():
        last = value if isinstance(value, str) else value[-1]
        if key not in q.rejected and key in (*GENERAL_NUMERIC, *component_params(
                q.config.surface, q.config.optimizer, q.config.schedule)):
            assert widget_safe(key, last, q.config), (key, last)
    x0, y0 = q.config.start_point
    assert all(math.isfinite(v) for v in (q.config.lr, x0, y0, q.config.noise))


@settings(max_examples=200, deadline=None)
@given(lab_query(general=("lr", "steps", "x0", "y0"), components=("surface", "optimizer")),
       st.sampled_from(sorted(s for s in SCHEDULES if s != "constant")),
       st.sampled_from(BAD_NUMBERS + BAD_INTEGERS))
@example(({}, set()), "cosine_restarts", "inf")
def test_page_parser_checks_schedule_slots(case, slot, bad_number):
    params, bad = case
    params = {**params, "s1": slot}
    integer = [p.name for p in get_schedule(slot).params if p.integer]
    if integer:
        params[f"s1_{integer[0]}"] = bad_number
        bad.add(f"s1_{integer[0]}")
    found = check_page_query("schedules", params, SCHEDULES_BASE)
    text = "\n".join(found.notices)
    for key in bad:
        assert named(key, text) and (key in found.rejected or not isinstance(params[key], str)), key


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, TEXT | st.lists(TEXT, min_size=2, max_size=3), max_size=5))
def test_plain_page_parser_names_unknown_and_repeated_keys(params):
    found = check_plain_query("lesson", params)
    text = "\n".join(found.notices)
    for key, value in params.items():
        if key not in ("lesson", "section", "present", "embed", "embed_options"):
            assert key in found.rejected and named(key, text)
        if not isinstance(value, str):
            assert named(key, text)


# --- every page through AppTest ------------------------------------------------------------------


def run_page(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"lrviz/ui/pages/{page}")
    at.run()
    return at


def assert_page_ok(at: AppTest, bad: set[str]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(w.value for w in at.warning)
    for key in bad:
        assert named(key, text) or key in text, (key, text)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


# The integer inputs the issue saw crash, by the schedule that shows them (seed: any, with noise).
ISSUE_INTEGERS = {"step": ("step_size",), "cosine": ("T_max",),
                  "cosine_restarts": ("T_0", "T_mult"), "reduce_on_plateau": ("patience",
                                                                            "cooldown"),
                  "warmup_cosine": ("warmup_steps",), "cyclic": ("step_size_up",)}
ISSUE_VALUES = ["inf", "-inf", "1e309", "9" * 5000, "-5", "nan"]


@pytest.mark.parametrize("schedule", sorted(ISSUE_INTEGERS))
def test_lab_integer_inputs_from_the_issue(schedule):
    keys = (*ISSUE_INTEGERS[schedule], "seed", "steps")
    params = {"schedule": schedule, "noise": "0.5"}
    for k, key in enumerate(keys):  # a different bad value on each key, all in one link
        params[key] = ISSUE_VALUES[(k + len(schedule)) % len(ISSUE_VALUES)]
    at = run_page("lab.py", params)
    assert_page_ok(at, set(keys))
    assert at.number_input(key="seed").value == 0  # the default, shown
    assert at.selectbox(key="schedule").value == schedule


def test_repeated_key_uses_the_last_value_and_says_so():
    at = run_page("lab.py", {"steps": ["100", "200"], "surface": ["nope", "bowl"]})
    assert_page_ok(at, {"steps", "surface"})
    assert at.slider(key="steps").value == 200
    assert at.selectbox(key="surface").value == "bowl"
    text = " ".join(w.value for w in at.warning)
    assert "'steps' was given 2 times; using the last value, '200'" in text


@FUZZ
@given(lab_query(vary=("schedule",)), st.sampled_from([None, "overshoot", "warmup", "nope"]))
def test_lab_page_fuzz(case, preset):
    params, bad = case
    if preset is not None:
        params["preset"] = preset
        if preset == "nope":
            bad.add("preset")
    assert_page_ok(run_page("lab.py", params), bad)


@FUZZ
@given(lab_query(general=("lr", "steps", "x0", "y0"), components=("surface", "optimizer"),
                 vary=()),
       st.sampled_from(sorted(s for s in SCHEDULES if s != "constant")),
       st.sampled_from(BAD_NUMBERS + BAD_INTEGERS), st.sampled_from(["true", "false", "maybe"]))
def test_schedules_page_fuzz(case, slot, bad_number, run):
    params, bad = case
    params.update(s2=slot, run=run)
    if run == "maybe":
        bad.add("run")
    integer = [p.name for p in get_schedule(slot).params if p.integer]
    if integer:
        params[f"s2_{integer[0]}"] = bad_number
        bad.add(f"s2_{integer[0]}")
    assert_page_ok(run_page("schedules.py", params), bad)


@FUZZ
@given(lab_query(general=("lr", "steps", "x0", "y0"), components=("surface",), vary=()),
       st.sampled_from(["shared", "fast", ""]),  # "tuned" sweeps every racer: test_race.py
       st.lists(st.sampled_from(["sgd", "adam", "nope", ""]), max_size=3))
def test_race_page_fuzz(case, mode, racers):
    params, bad = case
    params["mode"] = mode
    if mode not in ("shared", "tuned"):
        bad.add("mode")
    if racers:
        params["optimizers"] = racers
        if any(r not in OPTIMIZERS for r in racers):
            bad.add("optimizers")
    assert_page_ok(run_page("race.py", params), bad)


@FUZZ
@given(lab_query(general=("x0", "y0"), vary=()),  # steps: a new bucket compiles
       st.dictionaries(st.sampled_from(["lr_min", "lr_max", "points", "rows"]),
                       st.sampled_from(BAD_NUMBERS), max_size=3),
       st.sampled_from([None, "nope", ""]))
def test_finder_page_fuzz(case, numbers, axis):
    params, bad = case
    params.update(numbers)
    bad |= set(numbers)
    if axis is not None:
        params["phase_param"] = axis
        bad.add("phase_param")
    assert_page_ok(run_page("finder.py", params), bad)


PLAIN_PAGES = {"lesson.py": ("lesson", "section"), "quiz.py": ("lesson",),
               "flashcards.py": ("deck",), "glossary.py": ("q",), "home.py": (),
               "progress.py": ()}


@FUZZ
@given(st.sampled_from(sorted(PLAIN_PAGES)), st.dictionaries(
    st.sampled_from(["lesson", "section", "deck", "q", "zz", "ロ", "<b>"]),
    TEXT | st.lists(TEXT, min_size=2, max_size=2), max_size=3))
@example("lesson.py", {"section": "Nope", "lesson": "nope"})
@example("quiz.py", {"lesson": ["a", "b"]})
def test_other_pages_fuzz(page, params):
    known = PLAIN_PAGES[page]
    bad = {k for k, v in params.items() if k not in known or not isinstance(v, str)}
    if "section" in known and isinstance(params.get("section"), str) and params[
            "section"] not in [label for _, label in LESSON_SECTIONS]:
        bad.add("section")
    for key in ("lesson", "deck"):  # an id not in the course is named by the page's picker
        if key in known and isinstance(params.get(key), str):
            bad.add(key)
    at = run_page(page, params)
    if page == "home.py":
        bad = {k for k in bad if k in params}  # reported, not dropped
    assert_page_ok(at, bad)


NET_NUMBERS = ["lr", "steps", "wd", "seed", "sharp", "momentum", "tm_steps", "tm_ex", "rt_steps",
               "sw_n", "tm_lo1"]


@FUZZ
@given(st.dictionaries(st.sampled_from([*NET_NUMBERS, "hidden", "batch", "view", "zz", "ロ"]),
                       st.sampled_from(BAD_NUMBERS + BAD_INTEGERS) | st.lists(
                           st.sampled_from(["20", "0.5", "inf"]), min_size=2, max_size=2),
                       min_size=1, max_size=3))
@example({"seed": "inf", "sharp": "9" * 5000, "tm_ex": "1e309"})
@example({"steps": ["50", "60"]})
def test_network_page_fuzz(params):
    """/network: the integer inputs seeded from ``inf`` used to raise OverflowError (its parser
    dropped the key from the URL but not from Streamlit's seed of the widgets)."""
    at = run_page("network.py", {"optimizer": "momentum", "steps": "20", **params})
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(t.value for t in at.text)  # the page shows its notices as plain text
    for key, value in params.items():
        if not isinstance(value, str) or key in ("zz", "ロ"):
            assert repr(key) in text or f"{key}=" in text, (key, text)
    if params.get("steps") == ["50", "60"]:
        assert at.slider(key="steps").value == 60


# --- in a real browser: no notice about the previous surface's start --------------------------


@pytest.mark.browser
def test_switching_surface_gives_no_stale_start_notice(page):
    from helpers import open_page, wait_idle

    open_page(page, "/lab?surface=himmelblau&x0=-4.5&y0=4.5")  # outside bowl's [-3, 3]
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=60_000)
    assert page.locator("[data-testid='stAlert']").count() == 0
    page.get_by_label("Loss surface").click()
    page.get_by_role("option", name="bowl", exact=True).click()
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('surface=bowl')", timeout=30_000)
    wait_idle(page)
    alerts = " ".join(page.locator("[data-testid='stAlert']").all_inner_texts())
    assert "x0" not in alerts and "y0" not in alerts, alerts
    assert page.locator("[data-testid='stException']").count() == 0
