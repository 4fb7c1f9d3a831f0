"""/lab — the playground: every setting in the sidebar (and the URL), the run on the map."""

import streamlit as st

from lrviz.ui import lab_view, runs, state
from lrviz.ui.controls import lab_controls

st.title("Lab: watch the learning rate steer")
query = state.load_lab_query()
lab_view.show_notices()
settings = lab_controls(query)
lab_view.preset_banner(query, settings.config)

live = runs.run(settings.config)
pinned = runs.runs([p.config for p in query.pins]) if query.pins else []

lab_view.regime_badge(live)
lab_view.remedy_buttons(live)
shown, labels, fig_map, fig_curves = lab_view.charts(live, pinned,
                                                     [p.label for p in query.pins], settings)
st.subheader("Compare")
lab_view.pin_panel(settings.config, query.pins)
st.subheader("Share and export")
lab_view.share_and_export(query, settings, query.pins, shown, labels, fig_map, fig_curves)
