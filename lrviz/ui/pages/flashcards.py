"""Flashcards: spaced repetition over the course's cards (``/flashcards?deck=<lesson-id>``)."""

from lrviz.ui import state
from lrviz.ui.practice_cards import render_flashcards_page

state.check_plain_url("flashcards")
render_flashcards_page()
