"""/class — live class poll: students predict from their phones, the projector shows the class."""

from lrviz.ui.classroom import view

view.page()
