"""The course glossary: every term defined in any lesson, searchable, with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from lrviz.learning.content import Course
from lrviz.ui.lesson_map import LESSON_KEY, LESSON_PAGE


@dataclass(frozen=True)
class Term:
    term: str
    definition: str
    lessons: tuple[str, ...]  # ids of the lessons that use it, in course order


def course_terms(course: Course) -> list[Term]:
    """The shared glossary: one entry per term, with the lessons that list it."""
    return [Term(entry.term, entry.definition, tuple(ids)) for entry, ids in course.glossary()]


def matches(term: Term, query: str) -> bool:
    """True when every word of ``query`` appears in the term or its definition (any case)."""
    haystack = f"{term.term} {term.definition}".casefold()
    return all(word in haystack for word in query.casefold().split())


def search(terms: list[Term], query: str) -> list[Term]:
    """Terms matching ``query``; terms whose name matches come first (then alphabetical)."""
    found = [t for t in terms if matches(t, query)]
    words = query.casefold().split()
    return sorted(found, key=lambda t: (not all(w in t.term.casefold() for w in words),
                                        t.term.casefold()))


def show_term(course: Course, term: Term) -> None:
    with st.container(border=True):
        st.markdown(f"**{term.term}** — {term.definition}")
        for lesson_id in term.lessons:
            lesson = course.get(lesson_id)
            st.page_link(LESSON_PAGE, label=f"Lesson {lesson.order}: {lesson.title}",
                         icon=":material/menu_book:",
                         query_params={LESSON_KEY: lesson_id, "section": "Glossary"})
