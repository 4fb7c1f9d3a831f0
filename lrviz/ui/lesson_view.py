"""One lesson page: header, the seven sections as tabs, and previous/next navigation.

The tabs are bound to ``?section=`` so a teacher can link straight to a section, and only the
open tab runs (which keeps the simulator idle until Examples is opened). A section counts as
read when the learner presses "Mark as read" at its end, never merely by opening its tab.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lrviz.learning.content import LESSON_SECTIONS, BrokenLesson, Course
from lrviz.learning.schema import Lesson
from lrviz.learning.store import Learner
from lrviz.ui.lesson_examples import show_examples
from lrviz.ui.lesson_listen import show_audiobook, show_dialogue
from lrviz.ui.lesson_map import lesson_label, plain, select_lesson
from lrviz.ui.lesson_progress import progress_text, section_end, sections_read
from lrviz.ui.lesson_sections import (
    show_glossary,
    show_key_concepts,
    show_memory_aids,
    show_summary,
)

SECTION_KEY = "section"  # the tabs' key and URL parameter: /lesson?lesson=<id>&section=Summary
RENDERERS: dict[str, Callable[[Lesson], None]] = {
    "listen": show_dialogue,
    "summary": show_summary,
    "audiobook": show_audiobook,
    "concepts": show_key_concepts,
    "examples": show_examples,
    "memory-aids": show_memory_aids,
    "glossary": show_glossary,
}


def _go_to(lesson_id: str) -> None:
    """Button callback: switch lesson and start it from its first section."""
    select_lesson(lesson_id)
    st.session_state[SECTION_KEY] = LESSON_SECTIONS[0][1]


def _header(course: Course, lesson: Lesson) -> DeltaGenerator:
    """Title, time, objectives and intro; returns a slot for the progress line."""
    st.title(f"Lesson {lesson.order}: {lesson.title}")
    facts = [f"⏱ about {lesson.minutes} min"]
    if lesson.prerequisites:
        facts.append("builds on " + ", ".join(lesson_label(course, p)
                                              for p in lesson.prerequisites))
    st.caption(" · ".join(facts))
    st.markdown("**After this lesson you can:**\n"
                + "\n".join(f"- {objective}" for objective in lesson.objectives))
    progress_slot = st.empty()
    if lesson.intro:
        st.markdown(lesson.intro)
    return progress_slot


def _navigation(course: Course, lesson_id: str) -> None:
    previous, following = course.neighbours(lesson_id)
    st.divider()
    left, right = st.columns(2)
    if previous is not None:
        left.button(f"← Previous: {lesson_label(course, previous)}", key="lesson-previous",
                    on_click=_go_to, args=(previous,))
    if following is not None:
        right.button(f"Next: {lesson_label(course, following)} →", key="lesson-next",
                     on_click=_go_to, args=(following,), type="primary")
    else:
        right.markdown("🎓 **This is the last lesson.**")
        right.page_link("lrviz/ui/pages/quiz.py", label="Test yourself in the quiz",
                        icon=":material/quiz:")


def show_lesson(course: Course, lesson: Lesson, learner: Learner | None) -> None:
    """Render ``lesson`` with its sections as tabs, each ending with its "Mark as read"."""
    progress_slot = _header(course, lesson)
    labels = [label for _, label in LESSON_SECTIONS]
    tabs = st.tabs(labels, key=SECTION_KEY, bind="query-params")
    for (section_id, _), tab in zip(LESSON_SECTIONS, tabs, strict=True):
        # .open is None only if the tabs do not track state; then render every section.
        if tab.open is False:
            continue
        with tab:
            RENDERERS[section_id](lesson)
            section_end(learner, lesson.id, section_id, SECTION_KEY)  # read only when said so
    read = sections_read(learner, lesson.id)
    if read is not None:
        progress_slot.caption(f"Your progress: {progress_text(read)}.")
    _navigation(course, lesson.id)


def show_broken(course: Course, broken: BrokenLesson) -> None:
    """A lesson whose files do not validate: what is wrong, where, and the way around it."""
    st.title(broken.title)
    st.error("This lesson cannot be shown because its files do not match the lesson format. "
             "The rest of the course works as usual.", icon=":material/warning:")
    st.markdown("**What is wrong** (file: field: problem):\n"
                + "\n".join(f"- `{e.path}`: `{e.field or '(file)'}`: {plain(e.message)}"
                            for e in broken.errors))
    st.caption("Fix the file and reload the page; the lesson appears as soon as it is valid.")
    _navigation(course, broken.id)
