"""The lab's controls: every setting is a keyed widget bound to the URL.

Keys follow DESIGN.md (``surface``, ``optimizer``, ``lr``, ``schedule``, ``steps``, ``x0``, ``y0``,
then the parameter names of the chosen surface, optimizer and schedule, ``noise``, ``seed``).
A control's default is the base setting (the URL's preset, else the app defaults), so the URL
only carries what differs from that base and always reproduces the view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.presets import PRESETS
from lrviz.engine.schedules import SCHEDULES
from lrviz.engine.spec import Param
from lrviz.engine.surfaces import SURFACES
from lrviz.ui import state
from lrviz.ui.urlstate import (
    LR_RANGE,
    NOISE_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    LabQuery,
    spec_of,
    start_range,
    widget_defaults,
)

BIND = "query-params"


@dataclass(frozen=True)
class LabSettings:
    config: RunConfig
    view3d: bool


def nice_step(p: Param, default: float) -> float:
    """The +/- step of a number input: a round fraction of the range (or of the value, for
    parameters that live on a log scale)."""
    scale = abs(default) if p.log and default else (p.high - p.low) / 20
    return float(10 ** math.floor(math.log10(scale))) if scale > 0 else 0.1


def param_input(container, p: Param, default: float) -> float:
    """A number input for one surface/optimizer/schedule parameter, bound to ``?<name>=``."""
    help_text = p.help or None
    if p.integer:
        return float(container.number_input(
            p.label, min_value=int(p.low), max_value=int(p.high), value=int(default), step=1,
            key=p.name, bind=BIND, help=help_text))
    fmt = "%.2e" if p.log and p.low < 1e-3 else "%.4g"
    return float(container.number_input(
        p.label, min_value=float(p.low), max_value=float(p.high), value=float(default),
        step=nice_step(p, default), format=fmt, key=p.name, bind=BIND, help=help_text))


def _choice(container, label: str, options, default: str, key: str, help_text: str) -> str:
    names = list(options)
    return container.selectbox(label, names, index=names.index(default), key=key, bind=BIND,
                               on_change=state.reset_component, args=(key,), help=help_text)


def _on_lr_log() -> None:
    st.session_state["lr"] = float(st.session_state[state.LR_LOG_KEY])


def _on_lr_exact() -> None:
    st.session_state[state.LR_LOG_KEY] = state.nearest_lr_option(st.session_state["lr"])


def lr_controls(container, default: float, current: float) -> float:
    """A log slider (20 stops per decade, 1e-5 … 10) and an exact number input, kept in sync."""
    if state.LR_LOG_KEY not in st.session_state:
        st.session_state[state.LR_LOG_KEY] = state.nearest_lr_option(current)
    container.select_slider(
        "Learning rate (log scale)", options=state.LR_OPTIONS, key=state.LR_LOG_KEY,
        format_func=lambda v: f"{v:g}", on_change=_on_lr_log,
        help="Drag across decades; type an exact value below.")
    return float(container.number_input(
        "exact learning rate", min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=float(default),
        step=1e-4, format="%.6g", key="lr", bind=BIND, on_change=_on_lr_exact))


def preset_buttons(container) -> None:
    """One button per preset (one click loads it), plus a reset."""
    with container.expander("Presets: one-click scenarios", expanded=False):
        for preset in PRESETS.values():
            st.button(preset.title, key=f"preset_{preset.id}", on_click=state.load_preset,
                      args=(preset.id,), help=preset.caption, width="stretch")
        st.button("Reset to defaults", key="lab_reset", on_click=state.reset_lab,
                  width="stretch")


def lab_controls(query: LabQuery) -> LabSettings:
    """Draw the sidebar controls and return the settings they hold."""
    sb = st.sidebar
    preset_buttons(sb)
    base = query.base
    sections = {name: sb.container() for name in ("surface", "optimizer", "lr", "schedule",
                                                  "budget")}
    surface = _choice(sections["surface"], "Loss surface", SURFACES, base.surface, "surface",
                      "The landscape the optimizer walks on.")
    optimizer = _choice(sections["optimizer"], "Optimizer", OPTIMIZERS, base.optimizer,
                        "optimizer", "The update rule (PyTorch definitions).")
    schedule = _choice(sections["schedule"], "Schedule", SCHEDULES, base.schedule, "schedule",
                       "How the learning rate changes from step to step.")
    defaults = widget_defaults(base, surface, optimizer, schedule)
    values: dict[str, dict[str, float]] = {}
    for kind, name in (("surface", surface), ("optimizer", optimizer), ("schedule", schedule)):
        box = sections[kind]
        spec = spec_of(kind, name)
        box.caption(spec.teaches if kind == "surface" else spec.summary)
        values[kind] = {p.name: param_input(box, p, defaults[p.name]) for p in spec.params}
        if kind == "surface":
            values["start"] = _start_inputs(box, surface, defaults)
    lr = lr_controls(sections["lr"], float(defaults["lr"]), query.config.lr)
    budget = sections["budget"]
    steps = budget.slider("Steps", STEPS_RANGE[0], STEPS_RANGE[1], int(defaults["steps"]),
                          step=10, key="steps", bind=BIND)
    noise = budget.slider("Gradient noise σ", NOISE_RANGE[0], NOISE_RANGE[1],
                          float(defaults["noise"]), step=0.05, key="noise", bind=BIND,
                          help="Adds N(0, σ²) to each gradient component, like mini-batches.")
    seed = int(defaults["seed"])
    if noise > 0:
        seed = int(budget.number_input("Noise seed", SEED_RANGE[0], SEED_RANGE[1], seed,
                                       key="seed", bind=BIND))
    view3d = sb.toggle("3D surface view", value=False, key="view3d", bind=BIND)
    start = values.pop("start")
    config = RunConfig(surface=surface, optimizer=optimizer, schedule=schedule, lr=lr,
                       steps=int(steps), start=(start["x0"], start["y0"]), noise=float(noise),
                       seed=seed, surface_params=values["surface"],
                       optimizer_params=values["optimizer"], schedule_params=values["schedule"])
    return LabSettings(config, bool(view3d))


def _start_inputs(container, surface: str, defaults: dict) -> dict[str, float]:
    """x0, y0 inside the plotted domain (a click on the map sets them too)."""
    (xlo, xhi), (ylo, yhi) = start_range(surface)
    left, right = container.columns(2)
    x0 = left.number_input("start x0", min_value=float(xlo), max_value=float(xhi),
                           value=float(defaults["x0"]), step=0.1, format="%.3f", key="x0",
                           bind=BIND, help="Or click on the map.")
    y0 = right.number_input("start y0", min_value=float(ylo), max_value=float(yhi),
                            value=float(defaults["y0"]), step=0.1, format="%.3f", key="y0",
                            bind=BIND)
    return {"x0": float(x0), "y0": float(y0)}


def set_start_from_click(chart_key: str, surface: str) -> None:
    """Callback of the map: the clicked point becomes the start (clamped to the domain)."""
    selection = st.session_state.get(chart_key)
    points = (selection or {}).get("selection", {}).get("points", [])
    if not points:
        return
    (xlo, xhi), (ylo, yhi) = start_range(surface)
    x, y = float(points[0]["x"]), float(points[0]["y"])
    st.session_state["x0"] = round(min(max(x, xlo), xhi), 3)
    st.session_state["y0"] = round(min(max(y, ylo), yhi), 3)
