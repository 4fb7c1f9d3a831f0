"""Browser checks for the smaller findings of issue 10: the course map keeps the chosen lesson
in the URL through tab clicks, and switching lab surfaces never shows a spurious link notice."""

from __future__ import annotations

import pytest
from helpers import open_page, wait_idle

from lrviz.learning.content import LESSONS_DIR, load_course

pytestmark = pytest.mark.browser

needs_lesson = pytest.mark.skipif(not load_course(LESSONS_DIR).lessons,
                                  reason="no valid lesson in lessons/ yet")


@needs_lesson
def test_start_the_course_then_open_lesson_keeps_the_lesson_through_tab_clicks(page):
    lesson = load_course(LESSONS_DIR).lessons[0]
    open_page(page, "/")
    page.get_by_role("link", name="Start the course").click()
    page.wait_for_url("**/lesson")
    wait_idle(page)
    page.get_by_role("link", name=f"Open lesson {lesson.order}").click()
    wait_idle(page)
    page.wait_for_selector(f"h1:has-text('Lesson {lesson.order}')")
    assert f"lesson={lesson.id}" in page.url
    for label in ("Summary", "Key concepts"):
        page.get_by_role("tab", name=label).click()
        wait_idle(page)
        assert f"lesson={lesson.id}" in page.url, page.url
        assert page.locator(f"h1:has-text('Lesson {lesson.order}')").count() == 1
        assert page.get_by_role("tab", selected=True).inner_text().strip() == label
