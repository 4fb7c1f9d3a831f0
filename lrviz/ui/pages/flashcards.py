"""Flashcards: spaced repetition over the course's cards (``/flashcards?deck=<lesson-id>``)."""

from lrviz.ui.practice_cards import render_flashcards_page

render_flashcards_page()
