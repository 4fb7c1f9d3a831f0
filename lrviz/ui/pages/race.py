"""/race — optimizers from one start, animated together, with a shared or a tuned rate."""

from lrviz.ui import race_view

race_view.page()
