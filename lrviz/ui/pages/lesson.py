"""Lessons: `/lesson?lesson=<id>` shows one lesson; with no (or an unknown) id, the course."""

from lrviz.ui.course import lesson

lesson.page()
