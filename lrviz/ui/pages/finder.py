"""/finder — the LR range test with the curvature's verdict, and the regime phase map."""

from lrviz.ui.lab import finder

finder.page()
