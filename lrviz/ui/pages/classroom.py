"""/class — live class poll: students predict from their phones, the projector shows the class."""

from lrviz.ui.classroom_view import render_class_page

render_class_page()
