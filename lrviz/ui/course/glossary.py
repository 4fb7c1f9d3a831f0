"""The course glossary: every term defined in any lesson, searchable, with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from lrviz.learning.content import Course, load_course
from lrviz.ui import state
from lrviz.ui.course.overview import LESSON_KEY, LESSON_PAGE
from lrviz.ui.safe_text import cut, md, visible


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


# --- the page ------------------------------------------------------------------------------


def page() -> None:
    """/glossary: every term the lessons define, in one searchable list (``?q=...``)."""
    state.check_plain_url("glossary")
    course = load_course()
    terms = course_terms(course)

    st.title("Glossary")
    st.markdown("Every term of the course, defined once. Each links back to the lessons that "
                "use it.")
    query = st.text_input("Search terms and definitions", key="q", bind="query-params",
                          placeholder="e.g. warmup, curvature, Adam")
    found = search(terms, query or "")
    if not terms:
        st.info("No glossary terms yet: no lesson is in the course.")
    elif not found:
        st.warning(f"No term or definition contains “{md(cut(visible(query), 60))}”. Try a "
                   "shorter word.", icon=":material/search:")
    else:
        st.caption(f"{len(found)} of {len(terms)} terms"
                   + (f" matching “{md(cut(visible(query), 60))}”" if query else ""))
        letter = ""
        for term in found:
            initial = term.term[:1].upper()
            if initial != letter and not query:
                letter = initial
                st.subheader(letter)
            show_term(course, term)
