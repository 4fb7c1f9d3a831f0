"""Glossary: every term the lessons define, in one searchable list (`/glossary?q=...`)."""

from lrviz.ui import lesson_glossary

lesson_glossary.page()
