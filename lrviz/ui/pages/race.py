"""/race — optimizers from one start, animated together, with a shared or a tuned rate."""

from lrviz.ui.lab import race

race.page()
