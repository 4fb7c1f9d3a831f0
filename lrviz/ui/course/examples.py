"""The Examples section: each real-world scenario next to a live run of the preset it links.

The runs come from the engine (cached in `lrviz.ui.lab.runs`), so the figure, the regime and the
"the simulator agrees" check always describe what really happens, never a stored picture.
"""

from __future__ import annotations

import streamlit as st

from lrviz.engine.presets import PRESETS, Preset
from lrviz.engine.simulate import Run
from lrviz.figures.trajectory import trajectory_figure
from lrviz.learning.net_questions import is_net_preset
from lrviz.learning.schema import Example, Lesson
from lrviz.ui.course.links import open_in_lab
from lrviz.ui.lab import runs

FIGURE_HEIGHT = 380


def _run_lines(preset: Preset, results: list[Run], focus: int) -> str:
    lines = []
    for k, (spec, run) in enumerate(zip(preset.runs, results, strict=True)):
        marker = " ◀ *this example*" if k == focus and len(results) > 1 else ""
        lines.append(f"- **{spec.label}** — {run.regime.label}.{marker} {run.explanation}")
    return "\n".join(lines)


def _claim_check(example: Example, run: Run) -> None:
    """Say whether the regime the text promises is what the simulator shows."""
    if example.expect is None:
        return
    if run.regime == example.expect:
        st.caption(f"✔ The simulator agrees: this run is **{run.regime.label}**.")
    else:
        st.warning(f"The lesson says this run is {example.expect.label}, but the simulator "
                   f"shows {run.regime.label}. Please tell your teacher.",
                   icon=":material/warning:")


def show_example(lesson: Lesson, k: int, example: Example) -> None:
    """One example: scenario and takeaway on the left, the live figure on the right."""
    st.markdown(f"### {example.title}")
    if is_net_preset(example.preset):  # a real-network scenario (lesson 6): lrviz.nets runs it
        from lrviz.ui.network.view import show_net_example

        show_net_example(lesson, k, example)
        return
    preset = PRESETS.get(example.preset)
    if preset is None or not 0 <= example.run < len(preset.runs):
        st.warning(f"This example links preset “{example.preset}” (run {example.run}), "
                   "which the lab does not have.", icon=":material/warning:")
        st.markdown(example.scenario)
        st.markdown(f"**Takeaway:** {example.takeaway}")
        return
    results = runs.runs([spec.config for spec in preset.runs])
    text, figure = st.columns([2, 3])
    with text:
        st.markdown(f"**The situation.** {example.scenario}")
        st.markdown(f"**In the lab:** {preset.title}. {preset.caption}")
        st.markdown(_run_lines(preset, results, example.run))
        _claim_check(example, results[example.run])
        st.markdown(f"**Takeaway.** {example.takeaway}")
        open_in_lab(example.preset)
    with figure:
        fig = trajectory_figure(results, labels=[spec.label for spec in preset.runs],
                                height=FIGURE_HEIGHT)
        st.plotly_chart(fig, key=f"lesson-{lesson.id}-example-{k}", width="stretch")


def show_examples(lesson: Lesson) -> None:
    st.caption("Each example is a situation you may meet in real training, next to a live run "
               "from the simulator. Open it in the lab to change the settings yourself.")
    for k, example in enumerate(lesson.examples):
        with st.container(border=True):
            show_example(lesson, k, example)
