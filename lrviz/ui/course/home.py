"""Home: what lrviz is, the live hero figure, the course map and the ways into the lab."""

from __future__ import annotations

import streamlit as st

from lrviz.figures.hero import HERO_RATES, hero_configs, hero_figure
from lrviz.learning.content import load_course
from lrviz.ui import state
from lrviz.ui.course.overview import course_map
from lrviz.ui.course.progress import course_progress
from lrviz.ui.lab import runs
from lrviz.ui.practice.learner import learner_sidebar


def page() -> None:
    """The home page: three runs that differ only in the rate, then the course and the lab."""
    state.check_plain_url("home", drop=False)
    learner = learner_sidebar()

    st.title("lrviz — see what the learning rate does")
    st.markdown(
        "Every neural network is trained by taking steps downhill on a loss surface, and the "
        "**learning rate** decides how long each step is. Below, the same optimizer starts from "
        "the same point three times, changing only that one number."
    )
    hero_runs = runs.runs(hero_configs())
    st.plotly_chart(hero_figure(hero_runs), key="hero", width="stretch")
    for (name, lr), run in zip(HERO_RATES, hero_runs, strict=True):
        st.markdown(f"**lr = {lr:g} ({name}) — {run.regime.label}.** {run.explanation}")

    left, middle, right = st.columns(3)
    left.page_link("lrviz/ui/pages/lesson.py", label="Start the course",
                   icon=":material/menu_book:")
    middle.page_link("lrviz/ui/pages/lab.py", label="Open the lab", icon=":material/science:")
    right.page_link("lrviz/ui/pages/flashcards.py", label="Review flashcards",
                    icon=":material/style:")

    st.header("The course")
    course_map(load_course(), course_progress(learner))

    st.header("Try it yourself")
    lab_pages = (
        ("lab.py", "Lab", ":material/science:",
         "Any surface, optimizer, rate and schedule; watch the path."),
        ("schedules.py", "Schedules", ":material/timeline:",
         "See how each schedule shapes the rate over time."),
        ("race.py", "Optimizer race", ":material/sports_score:",
         "Several optimizers from one start, side by side."),
        ("finder.py", "LR finder", ":material/search:",
         "Run a learning-rate range test and read it."),
    )
    for col, (page, label, icon, blurb) in zip(st.columns(len(lab_pages)), lab_pages, strict=True):
        with col.container(border=True):
            st.page_link(f"lrviz/ui/pages/{page}", label=label, icon=icon)
            st.caption(blurb)
