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
