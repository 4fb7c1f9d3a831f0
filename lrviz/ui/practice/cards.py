"""The flashcards page: the due queue, show answer, rate Again/Hard/Good/Easy, export.

Each rating is saved at once (card state and review log in one transaction); the page shows
when the card comes back. ``/flashcards?deck=<lesson-id>`` limits the queue to one lesson.
"""

from __future__ import annotations

import functools

import streamlit as st

from lrviz.learning import export, srs
from lrviz.learning.content import Course
from lrviz.learning.schema import Lesson
from lrviz.learning.store import Learner, ProgressStore, StoreError
from lrviz.ui import state
from lrviz.ui.practice.common import course_or_stop, open_store, pick
from lrviz.ui.practice.learner import learner_sidebar

ALL = "all"
NEW_PER_DAY_RANGE = (0, 200)
SETTING = "new_per_day"
LAST_KEY = "fc_last"  # the message about the card just rated
SHOWN_KEY = "fc_shown"  # the id of the card whose answer is showing


def _new_per_day(store: ProgressStore, learner: Learner) -> int:
    raw = store.get_setting(learner.id, SETTING, str(srs.DEFAULT_NEW_PER_DAY))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return srs.DEFAULT_NEW_PER_DAY
    return min(max(value, NEW_PER_DAY_RANGE[0]), NEW_PER_DAY_RANGE[1])


def _on_new_per_day(store: ProgressStore, learner: Learner, key: str) -> None:
    try:
        store.set_setting(learner.id, SETTING, str(int(st.session_state[key])))
    except StoreError as exc:
        st.session_state[LAST_KEY] = ("error", f"The setting could not be saved: {exc}")


def _on_rate(store: ProgressStore, learner: Learner, ref: srs.CardRef, rating: int) -> None:
    """Apply a rating to the card's latest saved state and save it with its log."""
    now = srs.utc_now()
    try:
        saved = store.card_states(learner.id).get(ref.id)
        outcome = srs.review(ref.id, saved.card_json if saved else None, rating, now)
        store.save_review(learner.id, ref.id, ref.lesson_id, card_json=outcome.card_json,
                          due=outcome.due, rating=rating, reviewed_at=now,
                          log_json=outcome.log_json)
    except StoreError as exc:
        st.session_state[LAST_KEY] = ("error", f"That rating could not be saved: {exc}")
        return
    st.session_state.pop(SHOWN_KEY, None)
    label = srs.RATING_LABELS[rating]
    st.session_state[LAST_KEY] = (
        "ok", f"“{ref.card.front}” rated **{label}**: next due in "
              f"**{srs.describe_interval(outcome.interval)}** ({outcome.due:%Y-%m-%d %H:%M} UTC).")


def _show(card_id: str) -> None:
    st.session_state[SHOWN_KEY] = card_id


def _export(lessons: list[Lesson], scope: str) -> None:
    with st.expander(f"Export these {sum(len(x.flashcards) for x in lessons)} cards"):
        st.caption("The Anki deck keeps stable ids: importing a newer export updates your notes "
                   "instead of duplicating them.")
        left, right = st.columns(2)
        left.download_button(
            "Anki deck (.apkg)", functools.partial(export.anki_package, lessons),
            file_name=export.export_filename(lessons, "apkg"),
            mime="application/octet-stream", key=f"fc-apkg-{scope}", on_click="ignore")
        right.download_button(
            "CSV", functools.partial(export.cards_csv, lessons),
            file_name=export.export_filename(lessons, "csv"), mime="text/csv",
            key=f"fc-csv-{scope}", on_click="ignore")


def _browse(lessons: list[Lesson]) -> None:
    st.info("Enter your display name in the sidebar to review these cards with spaced "
            "repetition; your schedule is saved under that name. Meanwhile you can browse them.")
    for lesson in lessons:
        for card in lesson.flashcards:
            with st.expander(card.front):
                st.markdown(card.back)


def _card(store: ProgressStore, learner: Learner, ref: srs.CardRef, course: Course) -> None:
    lesson = course.get(ref.lesson_id)
    with st.container(border=True):
        st.caption(f"{lesson.title if lesson else ref.lesson_id} · "
                   f"{'new card' if ref.state is None else 'review'}")
        st.markdown(f"### {ref.card.front}")
        if st.session_state.get(SHOWN_KEY) != ref.id:
            st.button("Show answer", key="fc-show", type="primary", on_click=_show,
                      args=(ref.id,))
            return
        st.divider()
        st.markdown(ref.card.back)
    now = srs.utc_now()
    due = srs.preview(ref.id, ref.state.card_json if ref.state else None, now)
    st.caption("How well did you remember it? Each button says when the card comes back.")
    for column, rating in zip(st.columns(4), (1, 2, 3, 4), strict=True):
        column.button(f"{srs.RATING_LABELS[rating]} · {srs.describe_interval(due[rating] - now)}",
                      key=f"fc-rate-{rating}", on_click=_on_rate,
                      args=(store, learner, ref, rating), width="stretch")


def page() -> None:
    state.check_plain_url("flashcards")
    st.title("Flashcards")
    learner = learner_sidebar()
    course = course_or_stop()
    labels = {ALL: "All lessons"} | {x.id: f"{x.order}. {x.title}" for x in course.lessons}
    scope = pick("Cards from", [ALL, *(x.id for x in course.lessons)], labels, "deck",
                 "flashcards_deck")
    lessons = list(course.lessons) if scope == ALL else [course.get(scope)]
    _export(lessons, scope)
    store = open_store()
    if learner is None or store is None:
        _browse(lessons)
        return
    kind, message = st.session_state.pop(LAST_KEY, (None, None))
    if message:
        (st.success if kind == "ok" else st.error)(message)
    limit_key = f"fc-new-per-day-{learner.id}"
    try:
        new_per_day = _new_per_day(store, learner)
    except StoreError:
        new_per_day = srs.DEFAULT_NEW_PER_DAY
    st.sidebar.number_input("New cards per day", *NEW_PER_DAY_RANGE, value=new_per_day, step=1,
                            key=limit_key, on_change=_on_new_per_day,
                            args=(store, learner, limit_key),
                            help="How many never-seen cards to introduce per day (UTC), over "
                                 "all lessons.")
    now = srs.utc_now()
    try:
        states = store.card_states(learner.id)
    except StoreError as exc:
        st.error(f"Your flashcard schedule cannot be read right now. {exc}")
        return
    queue = srs.due_queue([(x.id, c) for x in lessons for c in x.flashcards], states, now,
                          new_per_day)
    own = [states[c.id] for x in lessons for c in x.flashcards if c.id in states]
    later = srs.due_counts(own, now).later_today
    due, soon, new, waiting = st.columns(4)
    due.metric("Due now", len(queue.due), help="Reviewed cards whose due time has passed.")
    soon.metric("Due later today", later,
                help="Reviewed cards that come due before midnight UTC; they join “Due now” "
                     "when their time comes.")
    new.metric("New today", len(queue.new),
               help=f"{queue.new_seen_today} of {new_per_day} new cards already started today.")
    waiting.metric("New, waiting", queue.new_waiting, help="Beyond today's new-card limit.")
    if not queue.cards:
        when = ("" if queue.next_due is None else
                f" The next card is due in {srs.describe_interval(queue.next_due - now)} "
                f"({queue.next_due:%Y-%m-%d %H:%M} UTC).")
        st.success(f"All caught up for now.{when}")
        return
    _card(store, learner, queue.cards[0], course)
