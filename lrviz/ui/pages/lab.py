"""/lab — the playground: every setting in the sidebar (and the URL), the main ones also in a
row above the map, the run on the map. ``?present=1``: presenter mode (`lrviz.ui.presenter`)."""

from lrviz.ui.lab import view

view.page()
