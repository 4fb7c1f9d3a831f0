"""The progress page: per-lesson reading, quiz mastery and cards due; charts; export; reset."""

from __future__ import annotations

import functools
import json
import re

import streamlit as st

from lrviz.figures.progress import reviews_figure, scores_figure
from lrviz.learning import srs
from lrviz.learning.content import load_course
from lrviz.learning.practice import MASTERY_THRESHOLD, course_progress
from lrviz.learning.store import Learner, ProgressStore, StoreError, TooManyAttemptsError
from lrviz.ui import state
from lrviz.ui.practice.common import open_store, percent
from lrviz.ui.practice.learner import escape_markdown, learner_sidebar

CONFIRM_KEY = "progress_confirm_reset"
NOTICE_KEY = "progress_notice"
SECRET_KEY = "progress-reset-secret"


def _export_json(store: ProgressStore, learner: Learner) -> str:
    return json.dumps(store.export_learner(learner.id), indent=2, ensure_ascii=False)


def _ask_reset() -> None:
    st.session_state[CONFIRM_KEY] = True


def _cancel_reset() -> None:
    st.session_state.pop(CONFIRM_KEY, None)


def _do_reset(store: ProgressStore, learner: Learner) -> None:
    """Delete the learner's progress once their passphrase or recovery code is re-entered."""
    secret = st.session_state.get(SECRET_KEY) or ""
    st.session_state[SECRET_KEY] = ""
    try:
        if not store.check_secret(learner.id, secret):
            st.session_state[NOTICE_KEY] = ("error", "Nothing was deleted: that passphrase or "
                                                     "recovery code is not right.")
            return
    except (StoreError, TooManyAttemptsError) as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Nothing was deleted: {exc}")
        return
    st.session_state.pop(CONFIRM_KEY, None)
    try:
        removed = store.reset_learner(learner.id)
    except StoreError as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Nothing was deleted: {exc}")
        return
    st.session_state.pop("quiz_runs", None)  # their saved attempts no longer exist
    st.session_state[NOTICE_KEY] = ("ok", f"Your progress was reset ({removed} records deleted).")


def _table(store: ProgressStore, learner: Learner) -> None:
    course = load_course()
    now = srs.utc_now()
    rows = course_progress(course, store, learner.id, now)
    if not rows:
        st.info("There are no lessons yet, so there is no per-lesson progress to show.")
        return
    states = store.card_states(learner.id)
    # The same counts as the Flashcards page (srs.due_counts), per lesson.
    due = {x.id: srs.due_counts([states[c.id] for c in x.flashcards if c.id in states], now)
           for x in course.lessons}
    mastered = sum(r.mastery.mastered for r in rows)
    confirmed = sum(r.mastery.confirmed for r in rows)
    a, b, c, d = st.columns(4)
    a.metric("Lessons mastered", f"{mastered} of {len(rows)}", help=f"Confirmed: {confirmed}")
    b.metric("Cards due now", sum(x.now for x in due.values()),
             help="Reviewed cards whose due time has passed: the Flashcards page offers them.")
    c.metric("Due later today", sum(x.later_today for x in due.values()),
             help="Reviewed cards that come due before midnight UTC.")
    d.metric("Cards started", f"{sum(r.cards_started for r in rows)} of "
                               f"{sum(r.cards_total for r in rows)}")
    st.dataframe(
        [{"Lesson": f"{r.order}. {r.title}",
          "Sections read": f"{len(r.sections_read)} of {r.sections_total}",
          "Quiz best": percent(r.mastery.best_score),
          "Attempts": r.mastery.attempts,
          "Mastery": r.mastery.label,
          "Cards due now": due[r.lesson_id].now,
          "Due later today": due[r.lesson_id].later_today,
          "Cards started": f"{r.cards_started} of {r.cards_total}"}
         for r in rows],
        hide_index=True, width="stretch", key="progress-table")
    st.caption(f"A lesson is mastered at {MASTERY_THRESHOLD:.0%} in its quiz and confirmed by a "
               f"later mixed review. “Today” is the UTC day.")


def _charts(store: ProgressStore, learner: Learner) -> None:
    reviews = store.reviews(learner.id)
    st.subheader("Flashcard reviews")
    if reviews:
        st.plotly_chart(reviews_figure([(r.reviewed_at, r.rating) for r in reviews],
                                       srs.utc_now()),
                        key="progress-reviews", width="stretch")
    else:
        st.caption("No reviews yet: the Flashcards page starts your first ones.")
    st.subheader("Quiz attempts")
    course = load_course()
    titles = {x.id: x.title for x in course.lessons}
    finished = [a for a in store.attempts(learner.id) if a.finished_at is not None]
    if not finished:
        st.caption("No finished quiz attempt yet.")
        return
    points = [(a.finished_at, a.score,
               "Mixed review" if a.kind == "review" else titles.get(a.lesson_id, a.lesson_id))
              for a in finished]
    st.plotly_chart(scores_figure(points, MASTERY_THRESHOLD),
                    key="progress-scores", width="stretch")


def _data(store: ProgressStore, learner: Learner) -> None:
    st.subheader("Your data")
    st.download_button(
        "Export my data (JSON)", functools.partial(_export_json, store, learner),
        file_name=f"lrviz-progress-{re.sub(r'[^A-Za-z0-9]+', '_', learner.name)}.json",
        mime="application/json", key="progress-export", on_click="ignore")
    if not st.session_state.get(CONFIRM_KEY):
        st.button("Reset my progress…", key="progress-reset", on_click=_ask_reset)
        return
    st.warning(f"This deletes everything saved for **{escape_markdown(learner.name)}**: "
               f"sections read, quiz attempts, flashcard schedules and review history. It "
               f"cannot be undone; export your data first if you may want it back.")
    st.text_input("Your passphrase or recovery code, to confirm", type="password",
                  key=SECRET_KEY)
    yes, no = st.columns(2)
    yes.button("Yes, delete all my progress", key="progress-reset-yes", type="primary",
               on_click=_do_reset, args=(store, learner))
    no.button("Cancel", key="progress-reset-no", on_click=_cancel_reset)


def page() -> None:
    state.check_plain_url("progress")
    st.title("Progress")
    learner = learner_sidebar()
    kind, message = st.session_state.pop(NOTICE_KEY, (None, None))
    if message:
        (st.success if kind == "ok" else st.error)(message)
    store = open_store()
    if store is None:
        return
    if learner is None:
        st.info("Enter your display name in the sidebar to see your progress. A name that is "
                "already taken needs its passphrase or recovery code.")
        return
    st.markdown(f"Progress of **{escape_markdown(learner.name)}**.")
    try:
        _table(store, learner)
        _charts(store, learner)
    except StoreError as exc:
        st.error(f"Your progress cannot be read right now. {exc}")
        return
    _data(store, learner)
