"""/race: several optimizers from one start on one surface, animated together.

Two modes. *Shared*: every optimizer gets the same learning rate — simple, and unfair, because
each update rule has its own useful range (SGD's is set by the curvature, Adam's by the distance
to travel). *Tuned*: each optimizer first gets a quick learning-rate sweep and races at the rate
the sweep suggests; the page reports what that tuning cost in runs.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.simulate import Run, SweepResult
from lrviz.figures.captions import curves_caption, map_caption
from lrviz.figures.curves import curves_figure
from lrviz.figures.labels import fmt_number
from lrviz.figures.trajectory import colour, trajectory_figure
from lrviz.ui import presenter, state, url_table
from lrviz.ui.lab import runs
from lrviz.ui.lab.controls import (
    BIND,
    lr_controls,
    runnable,
    steps_slider,
    surface_and_start,
)
from lrviz.ui.lab.view import show_notices
from lrviz.ui.safe_text import md

BASE = RunConfig(surface="rosenbrock", optimizer="sgd", lr=0.001, steps=500)
BASE_JSON = BASE.model_dump_json()
DEFAULT_RACERS = ["sgd", "momentum", "rmsprop", "adam"]
TUNE_LRS = tuple(float(f"{v:.3g}") for v in np.logspace(-4, 1, 26))  # 5 per decade
# The URL carries the option itself (``mode=tuned``), so options are plain words with captions.
MODES = {"shared": "the same learning rate for everyone",
         "tuned": "each optimizer at its own best rate (a sweep first)"}


def controls() -> tuple[RunConfig, list[str], str]:
    """Sidebar: surface, start, racers, mode, shared rate and budget."""
    sb = st.sidebar
    sb.header("Race setup")
    surface, surface_params, start = surface_and_start(sb, BASE, BASE_JSON)
    racers = sb.multiselect("Optimizers", list(OPTIMIZERS), default=DEFAULT_RACERS,
                            key="optimizers", bind=BIND, max_selections=7,
                            help="Each uses its PyTorch default hyperparameters.")
    mode = sb.radio("Learning rate mode", list(MODES), captions=list(MODES.values()),
                    key="mode", bind=BIND)
    lr = lr_controls(sb, BASE.lr, label="Shared learning rate", page=url_table.RACE)
    steps = steps_slider(sb, BASE.steps)
    setup = runnable(BASE, surface=surface, surface_params=surface_params, start=start, lr=lr,
                     steps=steps, optimizer="sgd")
    return setup, list(racers), str(mode)


def best_rate(result: SweepResult) -> float | None:
    """The swept rate with the lowest final loss among runs that neither diverged nor kept
    oscillating (None if every run did)."""
    usable = [k for k, r in enumerate(result.regimes)
              if r not in (Regime.DIVERGED, Regime.OSCILLATING)]
    if not usable:
        return None
    return float(result.lrs[min(usable, key=lambda k: result.final_losses[k])])


def tuned_rates(setup: RunConfig, racers: list[str]) -> tuple[dict[str, float | None], int]:
    """Each racer's best rate from a sweep over TUNE_LRS, and the number of runs it cost."""
    rates = {name: best_rate(runs.sweep(setup.with_(optimizer=name), TUNE_LRS))
             for name in racers}
    return rates, len(TUNE_LRS) * len(racers)


def arrival(run: Run) -> int | None:
    """The step after which the run stayed at the global minimum (None if it never did)."""
    step = run.facts.arrival_step
    if run.regime not in (Regime.CONVERGED, Regime.OVERSHOOTING) or step is None:
        return None
    return int(step) if step <= len(run.lrs) else None


def standings(results: list[Run], labels: list[str]) -> str:
    """A markdown table: rate, regime, final loss and the step each run arrived (if it did)."""
    rows = ["| optimizer | learning rate | regime | final loss | arrived at step |",
            "|---|---|---|---|---|"]
    for run, label in zip(results, labels, strict=True):
        step = arrival(run)
        rows.append(f"| {md(label)} | {fmt_number(run.config.lr)} | {run.regime.label} | "
                    f"{fmt_number(run.final_loss)} | {'—' if step is None else step} |")
    return "\n".join(rows)


def winner(results: list[Run], labels: list[str]) -> str:
    """Who reached the global minimum first, in one sentence."""
    arrived = [(arrival(run), label) for run, label in zip(results, labels, strict=True)
               if arrival(run) is not None]
    if not arrived:
        return "Nobody reached the minimum within the budget."
    step, label = min(arrived)
    return f"First at the minimum: **{md(label)}**, at step {step}."


def race_charts(results: list[Run], labels: list[str], present: bool) -> None:
    """The race map (animated) and the curves: stacked on the page, side by side on the
    presenter's stage with every runner's regime drawn on the map."""
    colours = [colour(k) for k in range(len(results))]
    fig_map = trajectory_figure(results, labels=labels, colours=colours, height=640,
                                animate=True, colorbar=False)
    fig_curves = curves_figure(results, labels=labels, colours=colours, height=600)
    if present:
        presenter.fit_map(fig_map, [(r.regime.label, label)
                                    for r, label in zip(results, labels, strict=True)],
                          colours)
        presenter.fit_curves(fig_curves)
        left, right = presenter.stage_columns()
    else:
        left = right = st.container()
    with left:
        st.plotly_chart(fig_map, key="race_map", width="stretch")
        st.caption(f"Race map (press Play: all markers move together). "
                   f"{map_caption(results, labels)}")
    if not present:
        st.markdown(winner(results, labels))
        st.markdown(standings(results, labels))
    with right:
        st.plotly_chart(fig_curves, key="race_curves", width="stretch")
        st.caption(f"Top: loss, middle: learning rate, bottom: stability meter. "
                   f"{curves_caption(results, labels)}")
    if present:
        st.markdown(winner(results, labels))
        st.markdown(standings(results, labels))
        presenter.share_link("/race")


def page() -> None:
    present = presenter.page_head("race", "Optimizer race", "Race")
    state.check_url("race", BASE)
    show_notices("race")
    setup, racers, mode = controls()
    if not racers:
        st.info("Pick at least one optimizer in the sidebar.")
        return
    # On the presenter's stage the figures come first, the explanation under them.
    stage, explain = st.container(), st.container()
    if not present:
        explain, stage = stage, explain
    if mode == "tuned":
        rates, cost = tuned_rates(setup, racers)
        explain.markdown(f"Each optimizer raced at its best rate from a quick sweep (lowest "
                         f"final loss without diverging or oscillating; "
                         f"{len(TUNE_LRS)} rates from 1e-4 to 10, log-spaced). **Tuning cost: "
                         f"{cost} runs** ({len(TUNE_LRS)} × {len(racers)} optimizers) before "
                         f"the race itself — the price of fairness.")
        failed = [name for name, lr in rates.items() if lr is None]
        if failed:
            explain.warning(f"No rate in the sweep worked for {', '.join(failed)}: they race "
                            f"at the shared rate {fmt_number(setup.lr)}.")
        configs = [setup.with_(optimizer=n, lr=rates[n] or setup.lr) for n in racers]
    else:
        explain.markdown(f"Every optimizer uses the same rate, lr = {fmt_number(setup.lr)}. "
                         "That is unfair: each update rule has its own useful range (plain "
                         "SGD's is capped by the curvature, Adam's steps are about lr long "
                         "whatever the gradient). Switch to **Tuned** to give each its own "
                         "best rate.")
        configs = [setup.with_(optimizer=n) for n in racers]
    results = runs.runs(configs)
    labels = [f"{c.optimizer} (lr {fmt_number(c.lr)})" for c in configs]
    with stage:
        race_charts(results, labels, present)
