"""Home: what lrviz is, the live hero figure, the course map and the ways into the lab."""

from lrviz.ui import home_view

home_view.page()
