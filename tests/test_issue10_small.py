"""The smaller findings of issue 10, each pinned by a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from streamlit.runtime.state.query_params import QueryParams
from streamlit.testing.v1 import AppTest

from lrviz.learning.content import load_course

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FIXTURE = Path(__file__).parent / "fixtures" / "course"
LESSON_PAGE = "lrviz/ui/pages/lesson.py"


@pytest.fixture
def fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    return load_course(FIXTURE)


@pytest.fixture
def sent_urls(monkeypatch) -> list[str]:
    """Every query string the app sends to the browser's address bar, in order."""
    sent: list[str] = []
    original = QueryParams._send_query_param_msg

    def spy(self: QueryParams) -> None:
        original(self)
        sent.append(urlencode(self._query_params, doseq=True))

    monkeypatch.setattr(QueryParams, "_send_query_param_msg", spy)
    return sent


# --- (a) the course map's "Open lesson N" keeps the lesson in the URL ---------------------------


def test_opening_a_lesson_from_the_course_map_puts_its_id_in_the_address_bar(
        fixture_course, sent_urls):
    lesson = fixture_course.lessons[0]
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(LESSON_PAGE)
    at.run()  # "Start the course": /lesson, the course map
    assert [t.value for t in at.title] == ["The course"]
    # "Open lesson 1" is a page link to this same page: the rerun carries ?lesson=<id>, but
    # the browser keeps its old address unless the app sends the new one.
    sent_urls.clear()
    at.query_params["lesson"] = lesson.id
    at.run()
    assert not at.exception
    assert sent_urls, "the app never told the browser the lesson's URL"
    address = parse_qs(sent_urls[-1])
    assert address.get("lesson") == [lesson.id]
    # A tab click reruns with the browser's address plus the tab's own parameter.
    at.query_params.clear()
    at.query_params.update({k: v[-1] for k, v in address.items()})
    at.session_state["section"] = "Summary"
    at.query_params["section"] = "Summary"
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [f"Lesson {lesson.order}: {lesson.title}"]


# --- (b) switching surfaces gives no "Link: ignored ..." notice ---------------------------------


def link_notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "Link" in w.value or "ignored" in w.value]


# (surface, a parameter it has and others lack, the value to give it)
TOUR = (("plateau", "width", 2.0), ("booth", None, None), ("rastrigin", "amplitude", 20.0),
        ("gaussian_wells", "depth2", 3.0), ("six_hump_camel", None, None),
        ("ravine", "condition", 1000.0), ("bowl", "a", 10.0), ("rosenbrock", "b", 200.0),
        ("booth", None, None))


@pytest.mark.parametrize("page", ["lab", "race", "schedules", "finder"])
def test_switching_surfaces_with_changed_parameters_gives_no_link_notice(page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(f"lrviz/ui/pages/{page}.py")
    at.run()
    carried: dict[str, str] = {}  # bound parameters the browser's address still shows
    for surface, param, value in TOUR:
        # Choosing a surface: the browser puts the new choice in its address and reruns; the
        # old surface's parameter is still there (AppTest does not model the address itself).
        at.query_params.clear()
        at.query_params.update({"surface": surface, **carried})
        at.selectbox(key="surface").select(surface).run()
        assert not at.exception
        assert link_notices(at) == [], (surface, dict(at.query_params))
        carried = {}
        if param is not None:
            at.number_input(key=param).set_value(value).run()
            assert link_notices(at) == [], (surface, param)
            carried = {param: str(value)}


def test_a_shared_link_with_another_surfaces_parameter_is_still_reported():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"surface": "booth", "width": "2"})
    at.run()
    at.switch_page("lrviz/ui/pages/lab.py")
    at.query_params.update({"surface": "booth", "width": "2"})
    at.run()
    assert any("unknown parameter 'width'" in n for n in link_notices(at))
    assert "width" not in at.query_params


# --- (c) a pinned run says each fact once ------------------------------------------------------


def test_describe_beyond_adds_only_what_the_label_does_not_say():
    from lrviz.engine.config import RunConfig
    from lrviz.figures.labels import describe, describe_beyond

    sgd = RunConfig(surface="bowl", optimizer="sgd", lr=0.1)
    assert describe(sgd) == "sgd · lr 0.1"
    assert describe_beyond(describe(sgd), sgd) == ""
    assert describe_beyond("sgd lr=0.1", sgd) == ""
    assert describe_beyond("SGD, lr 0.10", sgd) == ""
    assert describe_beyond("lr 0.1", sgd) == "sgd"
    assert describe_beyond("my run", sgd) == "sgd · lr 0.1"
    assert describe_beyond("sgd lr 0.15", sgd) == "lr 0.1"  # 0.1 is not 0.15
    cosine = sgd.with_(schedule="cosine", noise=0.5)
    assert describe_beyond("cosine", cosine) == "sgd · lr 0.1 · noise 0.5"
    heavy = RunConfig(surface="bowl", optimizer="momentum", lr=0.01)
    assert describe_beyond("Momentum 0.9, lr 0.01", heavy) == ""


def pin_rows(at: AppTest) -> list[str]:
    return [m.value.replace("\\", "") for m in at.markdown if "■" in m.value]


def test_a_pinned_run_is_listed_without_repeating_itself():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("lrviz/ui/pages/lab.py")
    at.query_params.update({"surface": "bowl", "optimizer": "sgd", "lr": "0.1", "steps": "50"})
    at.run()
    at.button(key="pin_add").click().run()
    at.number_input(key="lr").set_value(0.5).run()
    assert not at.exception
    rows = pin_rows(at)
    assert len(rows) == 1
    assert rows[0].count("sgd") == 1 and rows[0].count("lr 0.1") == 1, rows[0]
    # A label from a shared link that already states the settings gets nothing appended.
    at.query_params["pins"] = "surface:bowl,optimizer:sgd,lr:0.2,steps:50,label:sgd lr=0.2"
    at.run()
    rows = pin_rows(at)
    assert rows and rows[0].count("sgd") == 1 and "lr 0.2" not in rows[0], rows


# --- (d) the log slider and the exact number show the same learning rate -----------------------


def shown_rates(at: AppTest) -> tuple[str, str]:
    """(the log slider's label at its thumb, the exact number input as it is formatted)."""
    from lrviz.ui.state import LR_FORMAT

    slider = at.select_slider(key="lr_log")
    return slider.format_func(slider.value), LR_FORMAT % at.number_input(key="lr").value


@pytest.mark.parametrize("page", ["lab", "race", "schedules"])
def test_the_lr_slider_shows_the_number_beside_it(page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(f"lrviz/ui/pages/{page}.py")
    at.query_params["lr"] = "0.03"  # between the stops 0.0282 and 0.0316
    at.run()
    assert shown_rates(at) == ("0.03", "0.03")
    at.number_input(key="lr").set_value(0.0123).run()
    assert shown_rates(at) == ("0.0123", "0.0123")
    at.select_slider(key="lr_log").set_value(0.316).run()  # dragging: the stop is the rate
    assert shown_rates(at) == ("0.316", "0.316")


def test_lr_stop_label_names_the_exact_rate_only_at_its_nearest_stop():
    from lrviz.ui.state import LR_OPTIONS, lr_stop_label, nearest_lr_option

    assert nearest_lr_option(0.03) == 0.0316
    assert lr_stop_label(0.0316, 0.03) == "0.03"
    assert lr_stop_label(0.0282, 0.03) == "0.0282"  # its neighbours keep their own values
    assert [lr_stop_label(v, v) for v in LR_OPTIONS] == [f"{v:.6g}" for v in LR_OPTIONS]


# --- (e) progress charts with one point have day ticks, not millisecond ticks ------------------


def test_one_quiz_attempt_gets_a_padded_axis_of_whole_days():
    from datetime import UTC, datetime, timedelta

    from lrviz.figures.progress import DAY_MS, scores_figure

    when = datetime(2030, 6, 10, 15, 30, tzinfo=UTC)
    for attempts in ([(when, 0.7, "Lesson 1")],
                     [(when, 0.7, "Lesson 1"), (when + timedelta(seconds=2), 0.9, "Lesson 1")]):
        axis = scores_figure(attempts, 0.8).layout.xaxis
        assert axis.type == "date"
        assert tuple(axis.range) == ("2030-06-09 00:00:00", "2030-06-12 00:00:00")
        assert axis.dtick == DAY_MS and axis.tickformat == "%b %d"
    # A span of weeks keeps Plotly's own range and ticks.
    spread = [(when - timedelta(days=20), 0.5, "Lesson 1"), (when, 0.9, "Lesson 1")]
    axis = scores_figure(spread, 0.8).layout.xaxis
    assert axis.range is None and axis.dtick is None


def test_attempt_times_are_plotted_in_utc():
    from datetime import datetime, timedelta, timezone

    from lrviz.figures.progress import scores_figure

    tokyo = datetime(2030, 6, 11, 8, 0, tzinfo=timezone(timedelta(hours=9)))  # 23:00 UTC, 10th
    fig = scores_figure([(tokyo, 1.0, "Lesson 1")], 0.8)
    assert list(fig.data[0].x) == ["2030-06-10 23:00:00"]
    assert tuple(fig.layout.xaxis.range) == ("2030-06-09 00:00:00", "2030-06-12 00:00:00")


# --- (f) "due now" and "due later today" mean the same on Flashcards and Progress --------------


PRACTICE = Path(__file__).parent / "fixtures" / "practice_course"


def test_flashcards_and_progress_count_due_cards_the_same_way(monkeypatch, app_test):
    from datetime import UTC, datetime, timedelta

    from lrviz.learning import srs
    from lrviz.learning.store import get_store

    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(PRACTICE))
    now = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(srs, "utc_now", lambda: now)
    store = get_store()
    ada = store.learner("Ada")
    # "Good" on a new card: due 10 minutes later; "Easy": days later.
    for card, rating, when in (("fx-nan", 3, now - timedelta(hours=3)),  # due now
                               ("fx-bound", 3, now),  # due at 12:10: later today
                               ("fx-lr-what", 4, now)):  # due in days
        out = srs.review(card, None, rating, when)
        store.save_review(ada.id, card, "step-size", card_json=out.card_json, due=out.due,
                          rating=rating, reviewed_at=when, log_json=out.log_json)

    def metrics(at) -> dict[str, str]:
        return {m.label: m.value for m in at.metric}

    cards = app_test("lrviz/ui/pages/flashcards.py")
    cards.sidebar.text_input(key="learner").set_value("Ada").run()
    shown = metrics(cards)
    assert (shown["Due now"], shown["Due later today"]) == ("1", "1")
    cards.switch_page("lrviz/ui/pages/progress.py").run()
    assert not cards.exception
    shown = metrics(cards)
    assert (shown["Cards due now"], shown["Due later today"]) == ("1", "1")
    row = cards.dataframe[0].value.to_dict("records")[0]
    assert (row["Cards due now"], row["Due later today"]) == (1, 1)


def test_due_counts_split_now_from_later_today():
    from datetime import UTC, datetime, timedelta

    from lrviz.learning import srs
    from lrviz.learning.store import CardState

    now = datetime(2030, 6, 10, 23, 0, tzinfo=UTC)

    def state(due):
        return CardState(card_id="c", lesson_id="l", card_json="{}", due=due,
                         introduced_at=now - timedelta(days=3), last_review=now)

    states = [state(now - timedelta(days=2)), state(now), state(now + timedelta(minutes=30)),
              state(now + timedelta(hours=2))]  # the last is tomorrow (UTC)
    assert srs.due_counts(states, now) == srs.DueCounts(now=2, later_today=1)
    assert srs.due_today(states, now) == 3


# --- (g) a section counts as read only when the learner says so ---------------------------------


def test_opening_a_section_tab_does_not_count_it_as_read(fixture_course):
    from lrviz.learning.store import get_store

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["learner"] = "Ada"
    at.run()
    at.switch_page(LESSON_PAGE)
    at.query_params["lesson"] = "fixture-basics"
    at.run()
    for label in ("Summary", "Key concepts", "Glossary"):  # clicking through the tabs
        at.session_state["section"] = label
        at.query_params["section"] = label
        at.run()
        assert not at.exception
    ada = get_store().find_learner("Ada")
    assert get_store().sections_read(ada.id, "fixture-basics") == set()
    captions = [c.value for c in at.caption]
    assert "Your progress: 0 of 7 sections read." in captions
    # The deliberate action: the button at the end of the section.
    done = next(b for b in at.button if b.key == "section-done-glossary")
    assert done.label == "Mark as read"  # the last section: nowhere further to go
    done.click().run()
    assert get_store().sections_read(ada.id, "fixture-basics") == {"glossary"}
    assert "✓ You have read this section." in [c.value for c in at.caption]
    # On an earlier section the same button also opens the next one.
    at.session_state["section"] = "Summary"
    at.query_params["section"] = "Summary"
    at.run()
    done = next(b for b in at.button if b.key == "section-done-summary")
    assert done.label == "Mark as read · next: Audiobook →"
    done.click().run()
    assert at.session_state["section"] == "Audiobook"
    assert get_store().sections_read(ada.id, "fixture-basics") == {"glossary", "summary"}


def test_switching_the_network_optimizer_gives_no_link_notice():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("lrviz/ui/pages/network.py")
    at.run()
    at.query_params.clear()
    at.query_params["optimizer"] = "momentum"
    at.selectbox(key="optimizer").select("momentum").run()
    at.number_input(key="momentum").set_value(0.5).run()
    # The address still carries momentum=0.5 when adam is chosen (see the lab test above).
    at.query_params.clear()
    at.query_params.update({"optimizer": "adam", "momentum": "0.5"})
    at.selectbox(key="optimizer").select("adam").run()
    assert not at.exception
    assert not [w.value for w in at.warning if "link" in w.value.lower()]
    assert not [t.value for t in at.text if "ignored" in t.value]


def test_the_network_lr_slider_shows_the_number_beside_it():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("lrviz/ui/pages/network.py")
    at.query_params["lr"] = "0.03"
    at.run()
    from lrviz.ui.state import LR_FORMAT

    slider = at.select_slider(key="net_lr_log")
    assert slider.format_func(slider.value) == "0.03" == LR_FORMAT % at.number_input(key="lr").value
