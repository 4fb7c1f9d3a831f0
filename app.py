"""lrviz entry point: page configuration and navigation; every page lives in lrviz/ui/pages."""

import streamlit as st

from lrviz.ui import a11y

st.set_page_config(page_title="lrviz — the learning rate, visible",
                   page_icon="📉", layout="wide",
                   initial_sidebar_state="auto")


def page(file: str, title: str, icon: str, url_path: str | None = None, **kw) -> st.Page:
    return st.Page(f"lrviz/ui/pages/{file}", title=title, icon=f":material/{icon}:",
                   url_path=url_path, **kw)


a11y.install()  # chart descriptions and keyboard-operable animation controls on every page
st.navigation(
    {
        "Learn": [
            page("home.py", "Home", "home", default=True),
            page("lesson.py", "Lessons", "menu_book", "lesson"),
            page("glossary.py", "Glossary", "sort_by_alpha", "glossary"),
        ],
        "Lab": [
            page("lab.py", "Lab", "science", "lab"),
            page("schedules.py", "Schedules", "timeline", "schedules"),
            page("race.py", "Optimizer race", "sports_score", "race"),
            page("finder.py", "LR finder", "search", "finder"),
            page("network.py", "Network", "hub", "network"),
        ],
        "Practice": [
            page("quiz.py", "Quiz", "quiz", "quiz"),
            page("flashcards.py", "Flashcards", "style", "flashcards"),
            page("progress.py", "Progress", "insights", "progress"),
            page("classroom.py", "Class poll", "groups", "class"),
        ],
    }
).run()
