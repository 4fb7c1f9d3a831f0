"""Quiz: ``/quiz?lesson=<id>`` for a lesson's quiz, ``/quiz?lesson=review`` for a mixed review."""

from lrviz.ui.practice import quiz

quiz.page()
