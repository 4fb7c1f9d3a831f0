"""Progress: reading, quiz mastery, cards due, review history; export or reset my data."""

from lrviz.ui import state
from lrviz.ui.practice_progress import render_progress_page

state.check_plain_url("progress")
render_progress_page()
