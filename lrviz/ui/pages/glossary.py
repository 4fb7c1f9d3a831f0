"""Glossary: every term the lessons define, in one searchable list (`/glossary?q=...`)."""

from lrviz.ui.course import glossary

glossary.page()
