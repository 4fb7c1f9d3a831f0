"""Per-step curves: loss, learning rate and the stability meter (lr x lambda_max).

Every builder takes finished `Run` objects and returns a ``go.Figure`` whose k-th run has the
same colour as in the trajectory map, so a legend entry means the same run in every chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.labels import run_labels
from lrviz.figures.sampling import keep_indices
from lrviz.figures.style import PALETTE, base_layout

MAX_CURVE_POINTS = 1000
GAP_FLOOR = 1e-12  # a log axis cannot show 0: gaps below this are drawn at the floor


def _colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def loss_offset(run: Run) -> float:
    """The global minimum value of the run's surface (0 for most surfaces)."""
    cfg = run.config
    return float(get_surface(cfg.surface).global_min_value(cfg.surface_values()))


def loss_gap(run: Run) -> np.ndarray:
    """``loss - min f``, floored at GAP_FLOOR so a log axis can show every step."""
    return np.maximum(run.losses - loss_offset(run), GAP_FLOOR)


def loss_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                height: int = 300) -> go.Figure:
    """Loss vs step on a log y axis; a cross marks the step where a run blew up.

    On surfaces whose minimum is not 0 (Styblinski–Tang, the camel, the saddle) the curve is the
    gap to the global minimum, f - f*, so that the log axis works and "0" means "at the best".
    """
    names = run_labels(runs, labels)
    fig = go.Figure()
    offsets = {loss_offset(r) for r in runs}
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        keep = keep_indices(len(run.losses), MAX_CURVE_POINTS, [run.diverged_at])
        gap = loss_gap(run)[keep].astype(np.float32)
        fig.add_trace(go.Scatter(
            x=keep, y=gap, mode="lines", name=label, line=dict(color=_colour(k), width=2.5),
            customdata=run.losses[keep].astype(np.float32), legendgroup=f"run{k}",
            hovertemplate=f"{label}<br>step %{{x}}: loss %{{customdata:.4g}}<extra></extra>",
        ))
        if run.diverged_at is not None:
            fig.add_trace(go.Scatter(
                x=[len(run.losses) - 1], y=[float(loss_gap(run)[-1])], mode="markers",
                marker=dict(symbol="x", size=14, color=_colour(k), line=dict(width=3)),
                name=f"{label}: blew up at step {run.diverged_at}", showlegend=False,
                hovertemplate=f"{label}: blew up at step {run.diverged_at}<extra></extra>",
            ))
    nonzero = offsets - {0.0}
    title = ("loss (log scale)" if not nonzero else
             "loss − minimum (log scale)" if len(offsets) > 1 else
             f"loss − minimum {next(iter(nonzero)):.4g} (log scale)")
    fig.update_yaxes(type="log", title=title, exponentformat="power")
    fig.update_xaxes(title="step")
    return base_layout(fig, height=height)


def lr_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
              height: int = 260) -> go.Figure:
    """The learning rate each update used (after the schedule and any plateau cuts).

    A linear axis shows a schedule's shape best; a log axis is used only when most of the run
    is spent below 1% of the peak rate (reduce-on-plateau's repeated cuts), which a linear axis
    would flatten into the zero line.
    """
    names = run_labels(runs, labels)
    fig = go.Figure()
    medians, peak = [], 0.0
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        keep = keep_indices(len(run.lrs), MAX_CURVE_POINTS)
        lrs = run.lrs[keep]
        medians.append(float(np.median(run.lrs)))
        peak = max(peak, float(run.lrs.max()))
        fig.add_trace(go.Scatter(
            x=keep, y=lrs.astype(np.float32), mode="lines", name=label,
            line=dict(color=_colour(k), width=2.5), legendgroup=f"run{k}",
            hovertemplate=f"{label}<br>update %{{x}}: lr %{{y:.4g}}<extra></extra>",
        ))
    log = peak > 0 and min(medians) < 0.01 * peak
    fig.update_yaxes(type="log" if log else "linear", title="learning rate",
                     rangemode="tozero" if not log else None, exponentformat="power")
    fig.update_xaxes(title="update")
    return base_layout(fig, height=height)


def stability_limit(run: Run) -> float | None:
    """The optimizer's constant-rate limit on lr x lambda_max (None for adaptive ones)."""
    return get_optimizer(run.config.optimizer).stability_factor(run.config.optimizer_values())


def stability_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                     height: int = 260) -> go.Figure:
    """The stability meter: lr_t x lambda_max(p_t) at every visited point against the limit.

    Above the dashed line (2 for SGD, 2 + 2 mu for heavy ball, Nesterov's bound) a constant rate
    amplifies the error along the steepest direction. The y range is capped at a few times the
    limit so that one huge value at a blown-up point does not flatten the rest.
    """
    names = run_labels(runs, labels)
    fig = go.Figure()
    limits: dict[float, str] = {}
    peak = 0.0
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        ratio = run.stability_ratio
        if ratio is None:
            continue
        keep = keep_indices(len(ratio), MAX_CURVE_POINTS, [run.diverged_at])
        values = ratio[keep]
        peak = max(peak, float(np.max(values)))
        fig.add_trace(go.Scatter(
            x=keep, y=values.astype(np.float32), mode="lines", name=label,
            line=dict(color=_colour(k), width=2.5), legendgroup=f"run{k}",
            hovertemplate=f"{label}<br>update %{{x}}: lr × λ_max = %{{y:.3g}}<extra></extra>",
        ))
        limit = stability_limit(run)
        if limit is not None:
            limits.setdefault(round(limit, 6), run.config.optimizer)
    for limit, optimizer in limits.items():
        fig.add_hline(y=limit, line=dict(color="#000000", dash="dash", width=2),
                      annotation_text=f"limit {limit:.3g} ({optimizer})",
                      annotation_position="top left")
    top = max(limits, default=2.0)
    fig.update_yaxes(title="lr × λ_max", range=[min(0.0, -0.1 * top), max(1.3 * top,
                                                    min(peak * 1.1, 4 * top))])
    fig.update_xaxes(title="update")
    return base_layout(fig, height=height)
