"""/network — train a small real network; the bowl's learning-rate story, measured."""

import streamlit as st

from lrviz.ui import network_view as view

st.title("Network: the learning rate on a real network")
query = view.load_query()
view.show_notices()
config = view.controls(query)
mode = st.segmented_control("Show one training run, the range test beside a sweep of full runs, "
                            "or the trainability map of per-layer rates",
                            list(view.VIEWS), default=query.view_defaults["view"], key="view",
                            bind="query-params", required=True)
if config is not None:
    view.preset_banner(query, config)
    {"map": view.map_view, "range": view.range_view}.get(mode, view.run_view)(query, config)
