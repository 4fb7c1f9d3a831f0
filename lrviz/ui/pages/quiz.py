"""Quiz: ``/quiz?lesson=<id>`` for a lesson's quiz, ``/quiz?lesson=review`` for a mixed review."""

from lrviz.ui import state
from lrviz.ui.practice_quiz import render_quiz_page

state.check_plain_url("quiz")
render_quiz_page()
