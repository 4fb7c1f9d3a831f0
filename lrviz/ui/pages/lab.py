"""/lab — the playground: every setting in the sidebar (and the URL), the main ones also in a
row above the map, the run on the map. ``?present=1``: presenter mode (`lrviz.ui.presenter`)."""

import streamlit as st

from lrviz.ui import lab_view, presenter, runs, state
from lrviz.ui.controls import lab_controls

present = presenter.presenter_requested()
query = state.load_lab_query()
if present:  # toolbar, the stage (map and curves), then the control row
    presenter.install_style()
    head, stage, row = st.container(), st.container(), st.container()
else:  # title and notices, the control row, then everything else in page order
    st.title("Lab: watch the learning rate steer")
    lab_view.show_notices()
    head, row, stage = None, st.container(), st.container()
columns = lab_view.control_row(row)
settings = lab_controls(query, lr_container=columns[0])
lab_view.fill_control_row(columns, query, settings.config)

live = runs.run(settings.config)
pinned = runs.runs([p.config for p in query.pins]) if query.pins else []

if present:
    with head:
        lab_view.presenter_toolbar(query)
    with stage:
        shown, labels, fig_map, fig_curves = lab_view.charts(
            live, pinned, [p.label for p in query.pins], settings, present=True)
    lab_view.show_notices()
    lab_view.preset_banner(query, settings.config)
    lab_view.regime_badge(live)
    lab_view.remedy_buttons(live)
else:
    with stage:
        lab_view.preset_banner(query, settings.config)
        lab_view.regime_badge(live)
        lab_view.remedy_buttons(live)
        shown, labels, fig_map, fig_curves = lab_view.charts(
            live, pinned, [p.label for p in query.pins], settings)
st.subheader("Compare")
lab_view.pin_panel(settings.config, query.pins)
st.subheader("Share and export")
if present:
    presenter.share_link("/lab")
lab_view.share_and_export(query, settings, query.pins, shown, labels, fig_map, fig_curves)
