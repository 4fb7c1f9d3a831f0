"""Lessons: `/lesson?lesson=<id>` shows one lesson; with no (or an unknown) id, the course."""

import streamlit as st

from lrviz.learning.content import load_course
from lrviz.ui import presenter, state
from lrviz.ui.learner import learner_sidebar
from lrviz.ui.lesson_map import course_map, lesson_picker
from lrviz.ui.lesson_progress import course_progress
from lrviz.ui.lesson_view import show_broken, show_lesson, show_lesson_presenter

course = load_course()
state.check_plain_url("lesson")
learner = learner_sidebar()
lesson_id = lesson_picker(course)
present = presenter.presenter_requested()  # ?present=1: the lesson's examples, slide by slide
if present:
    presenter.install_style()

if lesson_id is None:
    st.title("The course")
    st.markdown(f"{len(course.ids)} lessons on the one number every training run depends on. "
                "Each has a dialogue to listen to, summaries at three depths, audiobook "
                "chapters, live examples and memory aids.")
    course_map(course, course_progress(learner))
elif (lesson := course.get(lesson_id)) is not None:
    if not (present and show_lesson_presenter(course, lesson)):
        show_lesson(course, lesson, learner)
else:
    show_broken(course, course.get_broken(lesson_id))
