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
from lrviz.engine.registry import REGISTRIES
from lrviz.engine.spec import Param
from lrviz.ui import state, url_table
from lrviz.ui.safe_text import md
from lrviz.ui.urlstate import (
    LR_RANGE,
    NOISE_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    LabQuery,
    component_defaults,
    spec_of,
    start_default,
    start_range,
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


def param_input(container, p: Param, default: float, prefix: str = "") -> float:
    """A number input for one surface/optimizer/schedule parameter, bound to ``?<name>=``."""
    help_text = p.help or None
    key = prefix + p.name
    if p.integer:
        return float(container.number_input(
            p.label, min_value=int(p.low), max_value=int(p.high), value=int(default), step=1,
            key=key, bind=BIND, help=help_text))
    fmt = "%.2e" if p.log and p.low < 1e-3 else "%.4g"
    return float(container.number_input(
        p.label, min_value=float(p.low), max_value=float(p.high), value=float(default),
        step=nice_step(p, default), format=fmt, key=key, bind=BIND, help=help_text))


def component(container, kind: str, base: RunConfig, *, label: str, options=None,
              key: str | None = None, prefix: str = "", base_json: str | None = None,
              describe: bool = True) -> tuple[str, dict[str, float]]:
    """A surface/optimizer/schedule choice and the number inputs of its parameters.

    Changing the choice resets its parameters to the defaults (callback), so a shared name such
    as ``b`` never carries the bowl's value over to Rosenbrock.
    """
    registry = REGISTRIES[kind]
    names = list(options or registry)
    default = getattr(base, kind)
    key = key or kind
    name = container.selectbox(
        label, names, index=names.index(default) if default in names else 0, key=key,
        bind=BIND, on_change=state.reset_component, args=(kind, key, prefix, base_json))
    if name not in registry:  # "none": an empty slot
        return name, {}
    spec = spec_of(kind, name)
    if describe:
        container.caption(spec.teaches if kind == "surface" else spec.summary)
    defaults = component_defaults(base, kind, name)
    values = {p.name: param_input(container, p, defaults[p.name], prefix) for p in spec.params}
    return name, values


def _on_lr_log() -> None:
    st.session_state["lr"] = float(st.session_state[state.LR_LOG_KEY])


def _on_lr_exact() -> None:
    st.session_state[state.LR_LOG_KEY] = state.nearest_lr_option(st.session_state["lr"])


def url_lr(page: str) -> float | None:
    """The URL's ``lr`` as the URL table reads it on ``page`` (None: absent or unusable; the
    page's URL check has already said why)."""
    text = st.query_params.get("lr")
    if text is None:
        return None
    try:
        return float(url_table.row("lr", page).read(text))
    except url_table.BadValueError:
        return None


def lr_controls(container, default: float, current: float | None = None,
                label: str = "Learning rate", exact_container=None,
                page: str = url_table.LAB) -> float:
    """A log slider (20 stops per decade, 1e-5 … 10) and an exact number input, kept in sync
    (the exact input goes in ``exact_container`` when given).

    ``current``: the rate the page will run (default: the URL's ``lr`` if usable on ``page``,
    else ``default``); the slider starts at its nearest stop and labels that stop with it."""
    if current is None:
        current = url_lr(page)
    if state.LR_LOG_KEY not in st.session_state:
        start = st.session_state.get("lr", current if current is not None else default)
        st.session_state[state.LR_LOG_KEY] = state.nearest_lr_option(float(start))
    exact = float(st.session_state.get("lr", current if current is not None else default))
    near = state.nearest_lr_option(exact)  # once per run, not once for each of the 121 stops
    container.select_slider(
        f"{label} (log scale)", options=state.LR_OPTIONS, key=state.LR_LOG_KEY,
        format_func=lambda v: state.lr_stop_label(v, exact, near), on_change=_on_lr_log,
        help="Drag across decades; type an exact value below.")
    return float((exact_container or container).number_input(
        f"exact {label.lower()}", min_value=LR_RANGE[0], max_value=LR_RANGE[1],
        value=float(default), step=1e-4, format=state.LR_FORMAT, key="lr", bind=BIND,
        on_change=_on_lr_exact))


def steps_slider(container, default: int) -> int:
    return int(container.slider("Steps", STEPS_RANGE[0], STEPS_RANGE[1], int(default), step=10,
                                key="steps", bind=BIND))


def surface_and_start(container, base: RunConfig, base_json: str | None = None
                      ) -> tuple[str, dict[str, float], tuple[float, float]]:
    """The loss-surface choice with its parameters, then the start inside its domain."""
    surface, surface_params = component(container, "surface", base, label="Loss surface",
                                        base_json=base_json)
    return surface, surface_params, start_inputs(container, surface,
                                                 start_default(base, surface))


def start_inputs(container, surface: str, default: tuple[float, float]) -> tuple[float, float]:
    """x0, y0 inside the plotted domain (on the lab, a click on the map sets them too)."""
    (xlo, xhi), (ylo, yhi) = start_range(surface)
    left, right = container.columns(2)
    x0 = left.number_input("start x0", min_value=float(xlo), max_value=float(xhi),
                           value=float(default[0]), step=0.1, format="%.3f", key="x0",
                           bind=BIND, help="Where the optimizer starts.")
    y0 = right.number_input("start y0", min_value=float(ylo), max_value=float(yhi),
                            value=float(default[1]), step=0.1, format="%.3f", key="y0",
                            bind=BIND)
    return float(x0), float(y0)


def reset_button(container) -> None:
    """Back to the lab's defaults. (Presets are loaded from the picker in the control row above
    the map: one selectbox, where 24 buttons made every rerun send 25 more elements.)"""
    container.button("Reset to defaults", key="lab_reset", on_click=state.reset_lab,
                     width="stretch")


@dataclass(frozen=True)
class SidebarSettings:
    """Every lab setting but the learning rate (``values``: `RunConfig` fields), and the
    sidebar slot where the exact learning-rate input goes.

    The learning rate is drawn apart, by the fragment that shows the run (`lrviz.ui.lab.view`):
    changing it reruns that fragment only, not the sidebar and the page head."""

    base: RunConfig
    values: dict[str, object]
    view3d: bool
    lr_slot: object  # a container in the sidebar, between the optimizer and the schedule

    def with_lr(self, lr: float) -> LabSettings:
        """The settings with learning rate ``lr`` (the base run, with a visible reason, when
        the engine refuses the combination)."""
        return LabSettings(runnable(self.base, lr=lr, **self.values), self.view3d)


def sidebar_controls(query: LabQuery) -> SidebarSettings:
    """Draw the lab's sidebar controls (the exact learning rate is left to `lr_controls`, in
    the returned slot) and return the settings they hold."""
    sb = st.sidebar
    reset_button(sb)
    base = query.base
    surface, surface_params, start = surface_and_start(sb, base)
    sb.caption("Tip: click the map to start from that point.")
    optimizer, optimizer_params = component(sb, "optimizer", base, label="Optimizer")
    lr_slot = sb.container()
    schedule, schedule_params = component(sb, "schedule", base, label="Schedule")
    steps = steps_slider(sb, base.steps)
    noise = sb.slider("Gradient noise σ", NOISE_RANGE[0], NOISE_RANGE[1], float(base.noise),
                      step=0.05, key="noise", bind=BIND,
                      help="Adds N(0, σ²) to each gradient component, like mini-batches.")
    seed = int(base.seed)
    if noise > 0:
        seed = int(sb.number_input("Noise seed", SEED_RANGE[0], SEED_RANGE[1], seed,
                                   key="seed", bind=BIND))
    view3d = sb.toggle("3D surface view", value=False, key="view3d", bind=BIND)
    values = dict(surface=surface, optimizer=optimizer, schedule=schedule, steps=steps,
                  start=start, noise=float(noise), seed=seed, surface_params=surface_params,
                  optimizer_params=optimizer_params, schedule_params=schedule_params)
    return SidebarSettings(base, values, bool(view3d), lr_slot)


def runnable(fallback: RunConfig, **settings) -> RunConfig:
    """``RunConfig(**settings)``, or ``fallback`` with a visible reason when the engine refuses
    the combination (each control keeps its range, but some settings exclude each other)."""
    try:
        return RunConfig(**settings)
    except ValueError as exc:
        st.warning(f"These settings cannot run: {md(str(exc))}. Showing the default run "
                   "instead until you change them.", icon=":material/error:")
        return fallback


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
