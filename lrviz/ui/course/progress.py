"""Reading progress for the lesson pages: which sections of which lesson a learner has read.

A section counts as read only when the learner says so (the button at its end), not when its
tab opens: clicking through the tabs to look around is not reading them.

A thin layer over the progress store that never breaks a page: when no learner is signed in
these functions do nothing (or return None), and a database problem becomes one warning
instead of an exception, because reading a lesson must work even when saving does not.
"""

from __future__ import annotations

import streamlit as st

from lrviz.learning.content import LESSON_SECTIONS
from lrviz.learning.store import Learner, StoreError, get_store

SECTION_IDS: tuple[str, ...] = tuple(section_id for section_id, _ in LESSON_SECTIONS)


def mark_read(learner: Learner | None, lesson_id: str, section_id: str) -> None:
    """Record that ``learner`` read a section (no-op without a learner)."""
    if learner is None:
        return
    try:
        get_store().mark_section_read(learner.id, lesson_id, section_id)
    except StoreError as exc:
        st.warning(f"Your reading progress could not be saved: {exc}")


def sections_read(learner: Learner | None, lesson_id: str) -> set[str] | None:
    """The known sections of ``lesson_id`` the learner has read; None without a learner."""
    if learner is None:
        return None
    try:
        return get_store().sections_read(learner.id, lesson_id) & set(SECTION_IDS)
    except StoreError:
        return None


def course_progress(learner: Learner | None) -> dict[str, set[str]] | None:
    """Sections read per lesson id for the whole course; None without a learner."""
    if learner is None:
        return None
    try:
        every = get_store().all_sections_read(learner.id)
    except StoreError:
        return None
    return {lesson: read & set(SECTION_IDS) for lesson, read in every.items()}


def _finish(learner: Learner | None, lesson_id: str, section_id: str, tab_key: str,
            next_label: str | None) -> None:
    """Button callback: record the section as read and open the next one."""
    mark_read(learner, lesson_id, section_id)
    if next_label is not None:
        st.session_state[tab_key] = next_label


def section_end(learner: Learner | None, lesson_id: str, section_id: str, tab_key: str) -> None:
    """The end of an open section: one button that marks it read and moves on.

    "Mark as read · next: Summary →" (or "Mark as read" on the last section); once the section
    is read, or without a learner (nothing is saved), the button only moves on. ``tab_key`` is
    the key of the section tabs, set to the next section's label.
    """
    labels = dict(LESSON_SECTIONS)
    index = SECTION_IDS.index(section_id)
    next_label = labels[SECTION_IDS[index + 1]] if index + 1 < len(SECTION_IDS) else None
    read = sections_read(learner, lesson_id)
    done = read is not None and section_id in read
    to_mark = read is not None and not done
    if not (done or to_mark or next_label):
        return  # no learner, last section: nothing to record and nowhere to go
    st.divider()
    if done:
        st.caption("✓ You have read this section.")
    if to_mark:
        label = "Mark as read" + (f" · next: {next_label} →" if next_label else "")
    elif next_label:
        label = f"Next: {next_label} →"
    else:
        return
    st.button(label, key=f"section-done-{section_id}", type="primary" if to_mark else "secondary",
              on_click=_finish, args=(learner, lesson_id, section_id, tab_key, next_label),
              help="Counts this section as read in your progress." if to_mark else None)


def progress_text(read: set[str]) -> str:
    """"3 of 7 sections read" (and which ones are left when few are)."""
    left = [label for sid, label in LESSON_SECTIONS if sid not in read]
    done = len(SECTION_IDS) - len(left)
    if not left:
        return f"All {len(SECTION_IDS)} sections read"
    tail = f" — still to read: {', '.join(left)}" if len(left) <= 3 else ""
    return f"{done} of {len(SECTION_IDS)} sections read{tail}"
