"""Plotly figure builders: numpy (and engine results) in, ``go.Figure`` out. No streamlit."""
