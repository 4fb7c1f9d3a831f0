"""/network — train a small real network; the bowl's learning-rate story, measured."""

from lrviz.ui import network_view

network_view.page()
