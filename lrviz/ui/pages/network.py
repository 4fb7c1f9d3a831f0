"""/network — train a small real network; the bowl's learning-rate story, measured."""

from lrviz.ui.network import view

view.page()
