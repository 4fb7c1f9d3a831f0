"""The course map: every lesson as a card (objectives, time, progress) and the lesson picker.

Used by the home page and by the lesson page when no (or an unknown) lesson is chosen. Broken
lessons keep their place in the map with the reason they cannot be shown.
"""

from __future__ import annotations

import re

import streamlit as st

from lrviz.learning.content import BrokenLesson, Course
from lrviz.learning.schema import Lesson
from lrviz.ui.course.progress import SECTION_IDS, progress_text
from lrviz.ui.safe_text import cut, md, visible

LESSON_PAGE = "lrviz/ui/pages/lesson.py"
LESSON_KEY = "lesson"  # the URL parameter: /lesson?lesson=<id>
_PICKER_KEY = "lesson_picker"


def lesson_label(course: Course, lesson_id: str) -> str:
    """"1 · What the learning rate does" (broken lessons say so)."""
    lesson = course.get(lesson_id)
    if lesson is not None:
        return f"{lesson.order} · {lesson.title}"
    broken = course.get_broken(lesson_id)
    if broken is not None:
        number = f"{broken.order} · " if broken.order < 999 else ""
        return f"{number}{broken.title} (has an error)"
    return lesson_id


def select_lesson(lesson_id: str | None) -> None:
    """Make ``lesson_id`` the current lesson (in the URL and the picker); None shows the map.

    Call it from a widget callback (it changes a widget's state) or before the picker exists.
    """
    if lesson_id is None:
        st.query_params.pop(LESSON_KEY, None)
    else:
        st.query_params[LESSON_KEY] = lesson_id
    st.session_state[_PICKER_KEY] = lesson_id


def _picked() -> None:
    select_lesson(st.session_state.get(_PICKER_KEY))


def lesson_picker(course: Course) -> str | None:
    """The sidebar lesson selector, kept in sync with ``?lesson=``; the chosen id or None.

    The URL is the source of truth (a shared link opens that lesson); choosing in the picker
    rewrites the URL. Not ``bind="query-params"``: a bound selectbox writes its displayed label
    into the URL, and the URL must carry the stable lesson id. An id that is not in the course
    gets a visible notice and no lesson is chosen.
    """
    requested = st.query_params.get(LESSON_KEY)
    ids = course.ids
    if requested is not None and requested not in ids:
        st.warning(f"There is no lesson called “{md(cut(visible(requested), 60))}”. Choose one "
                   "from the course below.", icon=":material/search:")
        requested = None
    if requested is not None:
        # Write the id back even though the server already has it: a page link to this same
        # page (the course map's "Open lesson N") reruns with ?lesson= but leaves the
        # browser's address bar at /lesson, and the next tab click would then rerun without it.
        st.query_params[LESSON_KEY] = requested
    if st.session_state.get(_PICKER_KEY) != requested:
        st.session_state[_PICKER_KEY] = requested
    return st.sidebar.selectbox(
        "Lesson", ids, index=None, key=_PICKER_KEY, on_change=_picked,
        format_func=lambda i: lesson_label(course, i), placeholder="Choose a lesson",
    )


def _lesson_card(lesson: Lesson, read: set[str] | None) -> None:
    st.markdown(f"#### {lesson.order} · {lesson.title}")
    st.caption(f"⏱ about {lesson.minutes} min")
    st.markdown("\n".join(f"- {objective}" for objective in lesson.objectives))
    if read is not None:
        st.progress(len(read) / len(SECTION_IDS), text=progress_text(read))
    st.page_link(LESSON_PAGE, label=f"Open lesson {lesson.order}", icon=":material/menu_book:",
                 query_params={LESSON_KEY: lesson.id})


def plain(text: str) -> str:
    """Text shown literally inside Markdown (a validation message may contain * _ $ ...)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|$~])", r"\\\1", " ".join(str(text).split()))


def _broken_card(course: Course, broken: BrokenLesson) -> None:
    st.markdown(f"#### {lesson_label(course, broken.id).removesuffix(' (has an error)')}")
    st.error(f"This lesson cannot be shown yet: its files have {len(broken.errors)} "
             f"problem(s). First: {plain(broken.errors[0])}", icon=":material/warning:")
    st.page_link(LESSON_PAGE, label="See what is wrong", icon=":material/build:",
                 query_params={LESSON_KEY: broken.id})


def course_map(course: Course, progress: dict[str, set[str]] | None, *,
               columns: int = 3) -> None:
    """Cards for every lesson in course order; ``progress`` maps lesson id -> sections read."""
    if course.errors:
        for error in course.errors:
            st.error(f"Course problem: {error}", icon=":material/warning:")
    ids = course.ids
    if not ids:
        st.info("No lessons are in the course yet.")
        return
    if progress is None:
        st.caption("Enter a display name in the sidebar to save and see your reading progress.")
    for row_start in range(0, len(ids), columns):
        cols = st.columns(columns)
        for col, lesson_id in zip(cols, ids[row_start:row_start + columns], strict=False):
            with col.container(border=True):
                lesson = course.get(lesson_id)
                if lesson is not None:
                    read = None if progress is None else progress.get(lesson_id, set())
                    _lesson_card(lesson, read)
                else:
                    _broken_card(course, course.get_broken(lesson_id))
