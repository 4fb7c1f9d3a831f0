"""Home: what lrviz is, the live hero figure, the course map and the ways into the lab."""

from lrviz.ui.course import home

home.page()
