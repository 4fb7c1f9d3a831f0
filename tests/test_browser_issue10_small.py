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



@needs_lesson
def test_the_button_at_a_sections_end_opens_the_next_tab(page):
    lesson = load_course(LESSONS_DIR).lessons[0]
    open_page(page, f"/lesson?lesson={lesson.id}&section=Summary")
    page.get_by_role("button", name="Next: Audiobook →").click()
    wait_idle(page)
    assert page.get_by_role("tab", selected=True).inner_text().strip() == "Audiobook"
    assert "section=Audiobook" in page.url and f"lesson={lesson.id}" in page.url

def choose(pg, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar select box labelled ``label`` and wait for the rerun."""
    pg.locator("[data-testid='stSidebar']").get_by_role("combobox", name=label).click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def link_notices(pg) -> list[str]:
    alerts = pg.locator("[data-testid='stAlert']").all_inner_texts()
    return [a for a in alerts if "ignored" in a or "Link" in a]


def set_number(pg, label: str, value: float) -> None:
    box = pg.locator("[data-testid='stSidebar']").get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(pg)


# (surface, the label of a parameter only it has, a value): booth starts at (-8, -6), far
# outside six-hump camel's domain; a changed parameter stays in the address until the switch.
SURFACE_TOUR = (("plateau", "basin width w", 2), ("booth", None, None),
                ("six_hump_camel", None, None), ("rastrigin", None, None), ("bowl", None, None))


@pytest.mark.parametrize("path", ["/lab", "/race"])
def test_switching_surfaces_never_shows_a_link_notice(page, path):
    open_page(page, path)
    assert link_notices(page) == []
    for surface, label, value in SURFACE_TOUR:
        choose(page, "Loss surface", surface)
        assert page.locator("[data-testid='stException']").count() == 0
        assert link_notices(page) == [], (surface, page.url)
        assert f"surface={surface}" in page.url
        if label is not None:
            set_number(page, label, value)
            assert link_notices(page) == [], (surface, page.url)
