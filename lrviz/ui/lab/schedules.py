"""/schedules: build up to three schedules, preview their learning-rate curves, then run them
against a constant rate on one surface, optimizer and start.

URL keys: the shared setup uses the lab's names (``surface``, ``optimizer``, ``lr``, ``steps``,
``x0``, ``y0`` and parameter names); schedule slot i is ``s<i>`` with parameters ``s<i>_<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.figures.captions import curves_caption, map_caption
from lrviz.figures.curves import curves_figure
from lrviz.figures.schedules import schedule_caption, schedule_figure
from lrviz.figures.trajectory import colour, trajectory_figure
from lrviz.ui import presenter, state, url_table
from lrviz.ui.lab import runs
from lrviz.ui.lab.controls import (
    BIND,
    component,
    lr_controls,
    runnable,
    steps_slider,
    surface_and_start,
)
from lrviz.ui.lab.view import regime_badge, show_notices
from lrviz.ui.links import lab_query, query_params_dict
from lrviz.ui.safe_text import swatch_line
from lrviz.ui.url_table import SLOT_DEFAULTS

# Constant lr 0.03 bounces on Himmelblau's minimum (lr x lambda_max ~ 2.5): every schedule has
# something to rescue.
BASE = RunConfig(surface="himmelblau", optimizer="sgd", lr=0.03, steps=300)
BASE_JSON = BASE.model_dump_json()
NONE = "none"


@dataclass(frozen=True)
class Slot:
    index: int
    schedule: str
    params: dict[str, float]


def setup_controls() -> RunConfig:
    """Sidebar: the surface, start, optimizer, base rate and budget every run shares."""
    sb = st.sidebar
    sb.header("Shared setup")
    surface, surface_params, start = surface_and_start(sb, BASE, BASE_JSON)
    optimizer, optimizer_params = component(sb, "optimizer", BASE, label="Optimizer",
                                            base_json=BASE_JSON)
    lr = lr_controls(sb, BASE.lr, label="Base learning rate η₀",
                     page=url_table.SCHEDULES_PAGE)
    steps = steps_slider(sb, BASE.steps)
    return runnable(BASE, surface=surface, optimizer=optimizer, lr=lr, steps=steps, start=start,
                     surface_params=surface_params, optimizer_params=optimizer_params)


def slot_controls() -> list[Slot]:
    """Three columns, one schedule each (or none), with its parameters; then the formulas,
    full width (a case formula does not fit in a column)."""
    slots = []
    for i, column in enumerate(st.columns(len(SLOT_DEFAULTS)), start=1):
        base = BASE.with_(schedule=SLOT_DEFAULTS[i - 1])
        name, params = component(column, "schedule", base, label=f"Schedule {i}",
                                 options=[NONE, *(s for s in SCHEDULES if s != "constant")],
                                 key=f"s{i}", prefix=f"s{i}_",
                                 base_json=base.model_dump_json())
        if name != NONE:
            slots.append(Slot(i, name, params))
    for slot in slots:
        st.markdown(f"**{slot_label(slot)}** — `{get_schedule(slot.schedule).torch_name}`")
        st.latex(get_schedule(slot.schedule).latex)
    return slots


def slot_label(slot: Slot) -> str:
    return f"{slot.index}: {get_schedule(slot.schedule).title}"


def preview(setup: RunConfig, slots: list[Slot]) -> None:
    """The learning-rate curves straight from the formulas, before any run."""
    curves = [("constant η₀", runs.schedule_curve("constant", setup.lr, setup.steps, {}))]
    dotted = [False]
    for slot in slots:
        curves.append((slot_label(slot), runs.schedule_curve(slot.schedule, setup.lr,
                                                             setup.steps, slot.params)))
        dotted.append(get_schedule(slot.schedule).needs_loss)
    st.plotly_chart(schedule_figure(curves, dotted=dotted), key="schedules_preview",
                    width="stretch")
    note = (" Reduce on plateau (dotted) reacts to the loss, so only the run shows its cuts."
            if any(dotted) else "")
    st.caption(f"Learning-rate preview. {schedule_caption(curves)}{note}")


def run_all(setup: RunConfig, slots: list[Slot], present: bool = False) -> None:
    """The constant run and one run per schedule, then the map, the curves and the verdicts
    (``present``: sized for the presenter's stage, each run's regime drawn on the map)."""
    configs = [setup] + [setup.with_(schedule=s.schedule, schedule_params=s.params)
                         for s in slots]
    labels = ["constant η₀"] + [slot_label(s) for s in slots]
    results = runs.runs(configs)
    colours = [colour(k) for k in range(len(results))]
    fig_map = trajectory_figure(results, labels=labels, colours=colours, height=600,
                                animate=True, colorbar=False)
    fig_curves = curves_figure(results, labels=labels, colours=colours, height=600)
    if present:
        presenter.fit_map(fig_map, [(r.regime.label, label)
                                    for r, label in zip(results, labels, strict=True)],
                          colours)
        presenter.fit_curves(fig_curves)
        left, right = presenter.stage_columns()
    else:
        left, right = st.columns([1.1, 1], gap="medium")
    with left:
        st.plotly_chart(fig_map, key="schedules_map", width="stretch")
        st.caption(f"Map: {map_caption(results, labels)}")
    with right:
        st.plotly_chart(fig_curves, key="schedules_curves", width="stretch")
        st.caption(f"Top: loss, middle: learning rate, bottom: stability meter. "
                   f"{curves_caption(results, labels)}")
    for k, (run, label) in enumerate(zip(results, labels, strict=True)):
        st.markdown(swatch_line(colours[k], label), unsafe_allow_html=True)
        regime_badge(run)
        st.page_link("lrviz/ui/pages/lab.py", label="Open this run in the lab",
                     icon=":material/science:",
                     query_params=query_params_dict(lab_query(config=run.config)))


def page() -> None:
    present = presenter.page_head("schedules", "Schedules: shape the learning rate over time",
                                  "Schedules")
    # In presenter mode the stage comes first; the slots and the preview go under it.
    stage = st.container() if present else None
    state.check_url("schedules", BASE)
    show_notices("schedules")
    if not present:
        st.markdown("Build up to three schedules, read their learning-rate curves, predict "
                    "what each does to the run, then compare them with a constant rate on the "
                    "same surface, optimizer and start.")
    setup = setup_controls()
    slots = slot_controls()
    preview(setup, slots)
    running = st.toggle("Run them on the surface", value=True, key="run", bind=BIND,
                        help="Switch off to predict from the curves first.")
    if present:
        with stage:
            if running:
                run_all(setup, slots, present=True)
            else:
                st.info("The runs are hidden: predict from the learning-rate curves below, "
                        "then switch on “Run them on the surface”.")
        presenter.share_link("/schedules")
    elif running:
        run_all(setup, slots)
