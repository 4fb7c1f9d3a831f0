"""Glossary: every term the lessons define, in one searchable list (`/glossary?q=...`)."""

import streamlit as st

from lrviz.learning.content import load_course
from lrviz.ui import state
from lrviz.ui.lesson_glossary import course_terms, search, show_term
from lrviz.ui.safe_text import cut, md, visible

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
