"""/finder: the LR range test and the phase map for the chosen surface, optimizer and schedule.

The range test runs one full run per learning rate (one vmapped batch) and plots the final
loss against the rate, next to the curvature's verdict (the largest stable constant rate at the
start and at the nearest minimum, from `theory.stability`). The phase map colours a grid of
learning rate x one optimizer or schedule parameter by regime, also in one batch.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.surfaces import get_surface
from lrviz.engine.theory import stability
from lrviz.figures.captions import map_caption
from lrviz.figures.finder import phase_map_figure, range_test_figure, regime_counts
from lrviz.figures.labels import fmt_number
from lrviz.figures.trajectory import trajectory_figure
from lrviz.ui import presenter, state
from lrviz.ui.lab import runs
from lrviz.ui.lab.controls import BIND, component, runnable, steps_slider, surface_and_start
from lrviz.ui.lab.view import show_notices
from lrviz.ui.links import lab_query, query_params_dict
from lrviz.ui.urlstate import LR_RANGE

BASE = RunConfig(surface="ravine", optimizer="momentum", lr=0.01, steps=200)
BASE_JSON = BASE.model_dump_json()
CURVE_KEY = "finder_curve"
MAP_KEY = "finder_map"  # presenter mode only: the run at the chosen rate
LAB_PAGE = "lrviz/ui/pages/lab.py"


def controls() -> tuple[RunConfig, np.ndarray]:
    """Sidebar: the run being tested and the range of rates."""
    sb = st.sidebar
    sb.header("Range test setup")
    surface, surface_params, start = surface_and_start(sb, BASE, BASE_JSON)
    optimizer, optimizer_params = component(sb, "optimizer", BASE, label="Optimizer",
                                            base_json=BASE_JSON)
    schedule, schedule_params = component(sb, "schedule", BASE, label="Schedule",
                                          base_json=BASE_JSON, describe=False)
    steps = steps_slider(sb, BASE.steps)
    left, right = sb.columns(2)
    lo = left.number_input("lowest lr", LR_RANGE[0], LR_RANGE[1], 1e-4, format="%.2e",
                           key="lr_min", bind=BIND)
    hi = right.number_input("highest lr", LR_RANGE[0], LR_RANGE[1], 10.0, format="%.3g",
                            key="lr_max", bind=BIND)
    points = sb.slider("rates to try", 10, 200, 60, step=5, key="points", bind=BIND)
    if hi <= lo:
        sb.warning("The highest rate must exceed the lowest; using 10× the lowest.")
        hi = min(lo * 10, LR_RANGE[1])
    cfg = runnable(BASE, surface=surface, surface_params=surface_params, start=start,
                   optimizer=optimizer, optimizer_params=optimizer_params, schedule=schedule,
                   schedule_params=schedule_params, steps=steps, lr=math.sqrt(lo * hi))
    return cfg, np.logspace(math.log10(lo), math.log10(hi), int(points))


def nearest_minimum(cfg: RunConfig) -> tuple[float, float]:
    surface = get_surface(cfg.surface)
    start = np.asarray(cfg.start_point)
    best = min(surface.minima(cfg.surface_values()),
               key=lambda m: float(np.hypot(*(np.asarray(m.point) - start))))
    return best.point


def theory_lines(cfg: RunConfig) -> tuple[dict[str, float], str]:
    """Largest stable constant rates at the nearest minimum and at the start, and a sentence."""
    values = cfg.optimizer_values()
    factor = get_optimizer(cfg.optimizer).stability_factor(values)
    if factor is None:
        return {}, (f"{cfg.optimizer} rescales each step by its gradient history, so no fixed "
                    "curvature bound applies: read the limit off the sweep instead.")
    lines, parts = {}, []
    for where, point in (("minimum", nearest_minimum(cfg)), ("start", cfg.start_point)):
        st_ = stability(cfg.surface, point, cfg.optimizer, cfg.surface_values(), **values)
        limit = st_.max_stable_lr
        if limit is not None and math.isfinite(limit):
            same = [k for k, v in lines.items() if abs(v - limit) <= 0.01 * limit]
            if same:  # a quadratic has one curvature everywhere: one line, both names
                lines[f"{same[0]} and {where}"] = lines.pop(same[0])
                parts[-1] = parts[-1].replace("at the minimum", "at the minimum and the start")
                continue
            lines[f"{fmt_number(factor)}/λ_max at {where}"] = limit
            parts.append(f"at the {where} λ_max = {fmt_number(st_.lambda_max)}, so constant "
                         f"rates above {fmt_number(factor)}/λ_max = "
                         f"{fmt_number(st_.max_stable_lr)} are unstable there")
    return lines, ("Theory: " + "; ".join(parts) + ".") if parts else ""


def clicked_lr() -> float | None:
    """The learning rate of the point clicked on the range test (None before any click)."""
    selection = st.session_state.get(CURVE_KEY) or {}
    points = selection.get("selection", {}).get("points", [])
    return float(points[0]["x"]) if points else None


def lab_link(cfg: RunConfig, label: str) -> None:
    st.page_link(LAB_PAGE, label=label, icon=":material/science:",
                 query_params=query_params_dict(lab_query(config=cfg)))


def presenter_map(cfg: RunConfig, lr: float) -> None:
    """Presenter mode: the run at ``lr`` (the clicked or the suggested rate), animated, with
    its regime on the map."""
    run = runs.run(cfg.with_(lr=float(f"{lr:.6g}")))
    label = f"lr {fmt_number(run.config.lr)}"
    fig = trajectory_figure([run], labels=[label], height=600, animate=True, colorbar=False)
    st.plotly_chart(presenter.fit_map(fig, [(run.regime.label, label)]), key=MAP_KEY,
                    width="stretch")
    st.caption(f"The run at {label}: {run.regime.label}. {map_caption([run], [label])}")


def range_test(cfg: RunConfig, lrs: np.ndarray, present: bool = False) -> None:
    """The range test with its reading (``present``: beside the map of one of its runs)."""
    sweep = runs.sweep(cfg, lrs)
    lines, theory = theory_lines(cfg)
    offset = get_surface(cfg.surface).global_min_value(cfg.surface_values())
    figure = range_test_figure(sweep, loss_offset=offset, lines=lines)
    slot = st.container()
    if present:
        left, slot = presenter.stage_columns()
        with left:
            presenter_map(cfg, clicked_lr() or sweep.suggested_lr or cfg.lr)
        presenter.fit_curves(figure)
    slot.plotly_chart(figure, key=CURVE_KEY, width="stretch", selection_mode="points",
                      on_select="rerun")
    lr = clicked_lr()
    if lr is not None:
        k = int(np.argmin(np.abs(np.log(sweep.lrs / lr))))
        lab_link(cfg.with_(lr=float(f"{lr:.6g}")),
                 f"Open the clicked run in the lab: lr = {fmt_number(lr)} "
                 f"({sweep.regimes[k].label})")
    counts = ", ".join(f"{n} {name}" for name, n in regime_counts(sweep.regimes).items())
    suggested = sweep.suggested_lr
    stable = sweep.max_stable_lr
    text = (f"Range test: {len(lrs)} runs of {cfg.steps} steps from lr {fmt_number(lrs[0])} "
            f"to {fmt_number(lrs[-1])} ({counts}). ")
    text += (f"Suggested rate {fmt_number(suggested)} (the log-middle of the rates whose "
             "final loss came, on a log scale, within 10% of the best run's distance from the "
             "start, without diverging or oscillating). "
             if suggested is not None else "No rate converged usefully. ")
    if stable is not None:
        text += f"The largest rate below the first divergence is {fmt_number(stable)}. "
    st.caption(text + theory + " Click a point, then open that run in the lab.")
    cols = st.columns(2)
    with cols[0]:
        if suggested is not None:
            lab_link(cfg.with_(lr=float(f"{suggested:.6g}")),
                     f"Open the suggested rate {fmt_number(suggested)} in the lab")
    with cols[1]:
        if stable is not None:
            lab_link(cfg.with_(lr=stable), f"Open the edge rate {fmt_number(stable)} in the lab")


def phase_axis_options(cfg: RunConfig) -> dict[str, tuple[str, object]]:
    """URL-friendly option -> (kind, Param) for every optimizer and schedule parameter."""
    out = {}
    for kind, spec in (("optimizer", get_optimizer(cfg.optimizer)),
                       ("schedule", state.spec_of("schedule", cfg.schedule))):
        for p in spec.params:
            out[p.name] = (kind, p)
    return out


def phase_section(cfg: RunConfig, lrs: np.ndarray) -> None:
    st.subheader("Phase map: learning rate × one more knob")
    options = phase_axis_options(cfg)
    if not options:
        st.info("Plain SGD with a constant rate has no other knob: choose momentum, Nesterov, "
                "an adaptive optimizer or a schedule in the sidebar to map the regimes.")
        return
    names = list(options)
    left, right = st.columns([2, 1])
    name = left.selectbox("Parameter on the vertical axis", names, key="phase_param",
                          bind=BIND)
    rows = right.slider("rows", 4, 30, 12, key="rows", bind=BIND)
    kind, param = options[name]
    values = np.linspace(param.low, param.high, int(rows))
    if param.integer:
        values = np.unique(np.round(values))
    grid_lrs = lrs[:: max(1, math.ceil(len(lrs) / 40))]  # at most 40 columns
    pm = runs.phase(cfg, grid_lrs, kind, name, values)
    boundary = None
    if kind == "optimizer" and get_optimizer(cfg.optimizer).stability_factor(
            cfg.optimizer_values()) is not None:
        lam = stability(cfg.surface, nearest_minimum(cfg), "sgd",
                        cfg.surface_values()).lambda_max
        spec = get_optimizer(cfg.optimizer)

        def boundary(v: float) -> float | None:
            factor = spec.stability_factor({**cfg.optimizer_values(), name: v})
            return None if factor is None or lam <= 0 else factor / lam

    st.plotly_chart(phase_map_figure(pm, boundary=boundary), key="finder_phase",
                    width="stretch")
    counts = ", ".join(f"{n} {label}" for label, n in
                       regime_counts([r for row in pm.regimes for r in row]).items())
    line = (" The dashed line is the theory's largest stable constant rate at the minimum."
            if boundary is not None else "")
    st.caption(f"Phase map: {len(pm.values)} values of {name} × {len(pm.lrs)} rates = "
               f"{len(pm.values) * len(pm.lrs)} runs in one batch ({counts}).{line}")


def page() -> None:
    present = presenter.page_head("finder", "LR finder", "LR finder")
    state.check_url("finder", BASE)
    show_notices("finder")
    if not present:
        st.markdown("A learning-rate range test on your surface and optimizer: one full run "
                    "per rate, rates spaced evenly on a log scale. Read it with the theory "
                    "line: the curvature says where constant rates must start to fail.")
    cfg, lrs = controls()
    range_test(cfg, lrs, present)
    phase_section(cfg, lrs)
    if present:
        presenter.share_link("/finder")
