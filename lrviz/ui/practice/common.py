"""Shared pieces of the practice pages: the course, the store, the quiz/lesson picker, runs."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.figures.trajectory import loss_figure, trajectory_figure
from lrviz.learning.content import Course, load_course
from lrviz.learning.store import ProgressStore, StoreError, get_store
from lrviz.ui.lab import runs
from lrviz.ui.safe_text import cut, md, visible


def course_or_stop() -> Course:
    """The course; stops the page with a clear message when it has no usable lesson."""
    course = load_course()
    if course.broken:
        names = ", ".join(b.title for b in course.broken)
        st.warning(f"Some lessons have content errors and are left out here: {names}. "
                   f"The Lessons page lists what is wrong.")
    if not course.lessons:
        st.info("There are no lessons to practise yet. Lessons live in the `lessons/` folder; "
                "once one is valid, its quiz and flashcards appear here.")
        st.stop()
    return course


def open_store() -> ProgressStore | None:
    """The progress store, or None after showing why it cannot be used (the page goes on)."""
    try:
        return get_store()
    except StoreError as exc:
        st.error(f"Your progress cannot be loaded or saved right now. {exc}")
        return None


def pick(label: str, options: Sequence[str], labels: dict[str, str], param: str,
         key: str) -> str:
    """A selectbox kept in sync with the URL parameter ``param`` (the URL wins on load).

    Not ``bind="query-params"``: a bound selectbox writes its displayed label into the URL,
    and the URL must carry the stable id. An unknown URL value gets a notice and the default.
    """
    requested = st.query_params.get(param)
    if requested is not None and requested not in options:
        st.warning(f"The link asks for {param} “{md(cut(visible(requested), 60))}”, which does "
                   f"not exist; showing “{labels[options[0]]}” instead.")
        requested = None
    if requested is not None:
        st.session_state[key] = requested
    elif st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    value = st.selectbox(label, list(options), format_func=lambda v: labels.get(v, v), key=key,
                         on_change=_sync_url, args=(param, key))
    st.query_params[param] = value
    return value


def _sync_url(param: str, key: str) -> None:
    st.query_params[param] = st.session_state[key]


def show_run(config: RunConfig, key: str, label: str) -> None:
    """The trajectory map and loss curve of one simulated run (cached engine call)."""
    run = runs.run(config)
    st.plotly_chart(trajectory_figure([run], labels=[label], height=360), key=f"{key}-map",
                    width="stretch")
    st.plotly_chart(loss_figure([run], labels=[label], height=240), key=f"{key}-loss",
                    width="stretch")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
