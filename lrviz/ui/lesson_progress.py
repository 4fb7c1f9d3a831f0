"""Reading progress for the lesson pages: which sections of which lesson a learner has opened.

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
    """Record that ``learner`` opened a section (no-op without a learner)."""
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


def progress_text(read: set[str]) -> str:
    """"3 of 7 sections read" (and which ones are left when few are)."""
    left = [label for sid, label in LESSON_SECTIONS if sid not in read]
    done = len(SECTION_IDS) - len(left)
    if not left:
        return f"All {len(SECTION_IDS)} sections read"
    tail = f" — still to read: {', '.join(left)}" if len(left) <= 3 else ""
    return f"{done} of {len(SECTION_IDS)} sections read{tail}"
