"""Page under construction in this change set."""

import streamlit as st

st.title("schedules")
