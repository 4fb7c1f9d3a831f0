"""One lesson page: header, the seven sections as tabs, and previous/next navigation.

The tabs are bound to ``?section=`` so a teacher can link straight to a section, and only the
open tab runs (which keeps the simulator idle until Examples is opened). A section counts as
read when the learner presses "Mark as read" at its end, never merely by opening its tab.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lrviz.engine.presets import PRESETS
from lrviz.figures.captions import curves_caption, map_caption
from lrviz.figures.curves import curves_figure
from lrviz.figures.trajectory import colour, trajectory_figure
from lrviz.learning.content import LESSON_SECTIONS, BrokenLesson, Course, load_course
from lrviz.learning.schema import Lesson
from lrviz.learning.store import Learner
from lrviz.ui import presenter, state
from lrviz.ui.course.examples import show_examples
from lrviz.ui.course.links import open_in_lab
from lrviz.ui.course.listen import show_audiobook, show_dialogue
from lrviz.ui.course.overview import course_map, lesson_label, lesson_picker, plain, select_lesson
from lrviz.ui.course.progress import course_progress, progress_text, section_end, sections_read
from lrviz.ui.course.sections import (
    show_glossary,
    show_key_concepts,
    show_memory_aids,
    show_summary,
)
from lrviz.ui.lab import runs
from lrviz.ui.practice.learner import learner_sidebar

SECTION_KEY = "section"  # the tabs' key and URL parameter: /lesson?lesson=<id>&section=Summary
EXAMPLE_KEY = "present_example"  # presenter mode: "<lesson id>/<example index>" on the stage
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


# --- presenter mode: the lesson's examples, one per slide ------------------------------------


def simulated_examples(lesson: Lesson) -> list[int]:
    """Indices of the examples the 2-D simulator runs (a lab preset with that run)."""
    return [k for k, ex in enumerate(lesson.examples)
            if ex.preset in PRESETS and 0 <= ex.run < len(PRESETS[ex.preset].runs)]


def _show_example(example_id: str) -> None:
    st.session_state[EXAMPLE_KEY] = example_id


def show_lesson_presenter(course: Course, lesson: Lesson) -> bool:
    """Presenter mode: one example on the stage (its preset's runs on the map beside their
    curves), n/p stepping through the examples; False when no example runs in the simulator
    (the caller then shows the lesson as usual)."""
    ids = [f"{lesson.id}/{k}" for k in simulated_examples(lesson)]
    if not ids:
        return False
    current = st.session_state.get(EXAMPLE_KEY)
    if current not in ids:
        current = st.session_state[EXAMPLE_KEY] = ids[0]
    example = lesson.examples[int(current.rsplit("/", 1)[1])]
    preset = PRESETS[example.preset]
    presenter.toolbar(f"Lesson {lesson.order}", example.title, _show_example, ids, current)
    results = runs.runs([spec.config for spec in preset.runs])
    labels = [spec.label for spec in preset.runs]
    colours = [colour(k) for k in range(len(results))]
    fig_map = trajectory_figure(results, labels=labels, colours=colours, height=600,
                                animate=True, colorbar=False)
    fig_curves = curves_figure(results, labels=labels, colours=colours, height=600)
    presenter.fit_map(fig_map, [(r.regime.label, label)
                                for r, label in zip(results, labels, strict=True)], colours)
    presenter.fit_curves(fig_curves)
    left, right = presenter.stage_columns()
    left.plotly_chart(fig_map, key="lesson_present_map", width="stretch")
    left.caption(f"Map: {map_caption(results, labels)}")
    right.plotly_chart(fig_curves, key="lesson_present_curves", width="stretch")
    right.caption(f"Top: loss, middle: learning rate, bottom: stability meter. "
                  f"{curves_caption(results, labels)}")
    st.markdown(f"**The situation.** {example.scenario}")
    st.markdown(f"**In the lab:** {preset.title}. {preset.caption}")
    st.markdown(f"**Takeaway.** {example.takeaway}")
    open_in_lab(example.preset)
    presenter.share_link("/lesson")
    return True


# --- the page ------------------------------------------------------------------------------


def page() -> None:
    """/lesson?lesson=<id> shows one lesson; with no (or an unknown) id, the course map."""
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
