"""Home: what lrviz is, the live hero figure and the ways in."""

import streamlit as st

from lrviz.figures.hero import HERO_RATES, hero_configs, hero_figure
from lrviz.ui import runs

st.title("lrviz — see what the learning rate does")
st.markdown(
    "Every neural network is trained by taking steps downhill on a loss surface, and the "
    "**learning rate** decides how long each step is. Below, the same optimizer starts from the "
    "same point three times, changing only that one number."
)
hero_runs = runs.runs(hero_configs())
st.plotly_chart(hero_figure(hero_runs), key="hero", width="stretch")
for (name, lr), run in zip(HERO_RATES, hero_runs, strict=True):
    st.markdown(f"**lr = {lr:g} ({name}) — {run.regime.label}.** {run.explanation}")

left, middle, right = st.columns(3)
left.page_link("lrviz/ui/pages/lesson.py", label="Start the course", icon="📖")
middle.page_link("lrviz/ui/pages/lab.py", label="Open the lab", icon="🧪")
right.page_link("lrviz/ui/pages/flashcards.py", label="Review flashcards", icon="🃏")
