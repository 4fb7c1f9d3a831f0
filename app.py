"""lrviz entry point: page configuration and navigation; every page lives in lrviz/ui/pages."""

import streamlit as st

st.set_page_config(page_title="lrviz — the learning rate, visible", page_icon="📉",
                   layout="wide", initial_sidebar_state="expanded")

PAGES = "lrviz/ui/pages/"
st.navigation(
    {
        "Learn": [
            st.Page(PAGES + "home.py", title="Home", icon="🏠", default=True),
            st.Page(PAGES + "lesson.py", title="Lessons", icon="📖", url_path="lesson"),
            st.Page(PAGES + "glossary.py", title="Glossary", icon="🔤", url_path="glossary"),
        ],
        "Lab": [
            st.Page(PAGES + "lab.py", title="Lab", icon="🧪", url_path="lab"),
            st.Page(PAGES + "schedules.py", title="Schedules", icon="📅", url_path="schedules"),
            st.Page(PAGES + "race.py", title="Optimizer race", icon="🏁", url_path="race"),
            st.Page(PAGES + "finder.py", title="LR finder", icon="🔎", url_path="finder"),
        ],
        "Practice": [
            st.Page(PAGES + "quiz.py", title="Quiz", icon="❓", url_path="quiz"),
            st.Page(PAGES + "flashcards.py", title="Flashcards", icon="🃏", url_path="flashcards"),
            st.Page(PAGES + "progress.py", title="Progress", icon="📈", url_path="progress"),
        ],
    }
).run()
