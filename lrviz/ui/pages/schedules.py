"""/schedules — build, preview and race learning-rate schedules against a constant rate."""

from lrviz.ui.lab import schedules

schedules.page()
