"""/finder — the LR range test with the curvature's verdict, and the regime phase map."""

from lrviz.ui import finder_view

finder_view.page()
