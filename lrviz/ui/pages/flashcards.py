"""Flashcards: spaced repetition over the course's cards (``/flashcards?deck=<lesson-id>``)."""

from lrviz.ui.practice import cards

cards.page()
