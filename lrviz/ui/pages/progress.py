"""Progress: reading, quiz mastery, cards due, review history; export or reset my data."""

from lrviz.ui.practice_progress import render_progress_page

render_progress_page()
