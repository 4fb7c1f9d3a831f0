"""/schedules — build, preview and race learning-rate schedules against a constant rate."""

from lrviz.ui import schedules_view

schedules_view.page()
