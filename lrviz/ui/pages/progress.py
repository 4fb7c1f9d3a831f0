"""Progress: reading, quiz mastery, cards due, review history; export or reset my data."""

from lrviz.ui.practice import progress

progress.page()
