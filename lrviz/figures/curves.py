"""Per-step curves: loss, learning rate and the stability meter (lr x lambda_max).

Every builder takes finished `Run` objects and returns a ``go.Figure`` whose k-th run has the
same colour as in the trajectory map, so a legend entry means the same run in every chart.
`curves_figure` stacks the three panels over one shared step axis, as the lab shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.numbers import fmt_number
from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.labels import run_labels
from lrviz.figures.sampling import keep_indices
from lrviz.figures.style import PALETTE, layout, make_figure

MAX_CURVE_POINTS = 1000
GAP_FLOOR = 1e-12  # a log axis cannot show 0: gaps below this are drawn at the floor
LIMIT_LINE = dict(color="#000000", dash="dash", width=2)


def _colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _colours(runs: Sequence[Run], colours: Sequence[str] | None) -> list[str]:
    return list(colours) if colours is not None else [_colour(k) for k in range(len(runs))]


def loss_offset(run: Run) -> float:
    """The global minimum value of the run's surface (0 for most surfaces)."""
    cfg = run.config
    return float(get_surface(cfg.surface).global_min_value(cfg.surface_values()))


def loss_gap(run: Run) -> np.ndarray:
    """``loss - min f``, floored at GAP_FLOOR so a log axis can show every step."""
    return np.maximum(run.losses - loss_offset(run), GAP_FLOOR)


def stability_limit(run: Run) -> float | None:
    """The optimizer's constant-rate limit on lr x lambda_max (None for adaptive ones)."""
    return get_optimizer(run.config.optimizer).stability_factor(run.config.optimizer_values())


# --- traces (axis suffix "" for the first panel, "2", "3" for stacked ones) ----------------


def _loss_traces(runs, names, cols, axis: str = "", legend: bool = True) -> list[dict]:
    out = []
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        keep = keep_indices(len(run.losses), MAX_CURVE_POINTS, [run.diverged_at])
        gap = loss_gap(run)
        out.append(dict(
            type="scatter", x=keep, y=gap[keep].astype(np.float32), mode="lines", name=label,
            line=dict(color=cols[k], width=2.5), legendgroup=f"run{k}", showlegend=legend,
            customdata=run.losses[keep].astype(np.float32), xaxis=f"x{axis}", yaxis=f"y{axis}",
            hovertemplate=f"{label}<br>step %{{x}}: loss %{{customdata:.4g}}<extra></extra>",
        ))
        if run.diverged_at is not None:
            text = f"{label}: blew up at step {run.diverged_at}"
            out.append(dict(
                type="scatter", x=[len(gap) - 1], y=[float(gap[-1])], mode="markers",
                marker=dict(symbol="x", size=14, color=cols[k], line=dict(width=3)),
                name=text, showlegend=False, legendgroup=f"run{k}", xaxis=f"x{axis}",
                yaxis=f"y{axis}", hovertemplate=f"{text}<extra></extra>",
            ))
    return out


def _loss_title(runs: Sequence[Run]) -> str:
    offsets = {loss_offset(r) for r in runs}
    nonzero = offsets - {0.0}
    if not nonzero:
        return "loss (log)"
    if len(offsets) > 1:
        return "loss − minimum (log)"
    return f"loss − ({next(iter(nonzero)):.4g}) (log)"


def _lr_traces(runs, names, cols, axis: str = "",
               legend: bool = True) -> tuple[list[dict], bool]:
    """The rate traces and whether a log axis suits them.

    A linear axis shows a schedule's shape best; a log axis is used only when most of the run
    is spent below 1% of the peak rate (reduce-on-plateau's repeated cuts), which a linear axis
    would flatten into the zero line.
    """
    out, medians, peak = [], [], 0.0
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        keep = keep_indices(len(run.lrs), MAX_CURVE_POINTS)
        medians.append(float(np.median(run.lrs)))
        peak = max(peak, float(run.lrs.max()))
        out.append(dict(
            type="scatter", x=keep, y=run.lrs[keep].astype(np.float32), mode="lines",
            name=label, line=dict(color=cols[k], width=2.5), legendgroup=f"run{k}",
            showlegend=legend, xaxis=f"x{axis}", yaxis=f"y{axis}",
            hovertemplate=f"{label}<br>update %{{x}}: lr %{{y:.4g}}<extra></extra>",
        ))
    return out, bool(peak > 0 and min(medians) < 0.01 * peak)


def _stability_traces(runs, names, cols, axis: str = "",
                      legend: bool = True) -> tuple[list[dict], dict[float, str], float]:
    """lr_t x lambda_max(p_t) traces, the limits {value: optimizer} and the peak value."""
    out, limits, peak = [], {}, 0.0
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        ratio = run.stability_ratio
        if ratio is None or len(ratio) == 0:
            continue
        keep = keep_indices(len(ratio), MAX_CURVE_POINTS, [run.diverged_at])
        peak = max(peak, float(np.max(ratio)))
        out.append(dict(
            type="scatter", x=keep, y=ratio[keep].astype(np.float32), mode="lines", name=label,
            line=dict(color=cols[k], width=2.5), legendgroup=f"run{k}", showlegend=legend,
            xaxis=f"x{axis}", yaxis=f"y{axis}",
            hovertemplate=f"{label}<br>update %{{x}}: lr × λ_max = %{{y:.3g}}<extra></extra>",
        ))
        limit = stability_limit(run)
        if limit is not None:
            limits.setdefault(round(limit, 6), run.config.optimizer)
    return out, limits, peak


def _limit_shapes(limits: dict[float, str], axis: str = "") -> tuple[list[dict], list[dict]]:
    """Dashed horizontal lines at each limit, labelled with the optimizer they belong to."""
    shapes, notes = [], []
    for value, optimizer in limits.items():
        shapes.append(dict(type="line", xref=f"x{axis} domain", yref=f"y{axis}", x0=0, x1=1,
                           y0=value, y1=value, line=LIMIT_LINE))
        # in the right margin, so close limits (2, 3.8, Nesterov's 1.4) never cover the curves
        notes.append(dict(xref=f"x{axis} domain", yref=f"y{axis}", x=1.01, y=value,
                          xanchor="left", yanchor="middle", showarrow=False,
                          font=dict(size=12), text=f"{optimizer} {fmt_number(value)}"))
    return shapes, notes


def _stability_range(limits: dict[float, str], peak: float) -> list[float]:
    """Capped at a few times the limit so one huge value at a blown-up point does not flatten
    the rest; always tall enough to show the limit line. Without a limit (adaptive optimizers
    only) the whole curve is shown."""
    if not limits:
        return [0.0, max(peak * 1.1, 1e-9)]
    top = max(limits)
    return [-0.1 * top, max(1.3 * top, min(peak * 1.1, 4 * top))]


def _no_limit_note(runs: Sequence[Run], limits: dict[float, str], axis: str = "") -> list[dict]:
    """Say why there is no dashed line when every run uses an adaptive optimizer."""
    if limits or not runs:
        return []
    return [dict(xref=f"x{axis} domain", yref=f"y{axis} domain", x=0.01, y=0.97,
                 xanchor="left", yanchor="top", showarrow=False, font=dict(size=12),
                 text="no fixed limit: adaptive optimizers rescale each coordinate's step")]


# --- figures -----------------------------------------------------------------------------


def loss_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                height: int = 300, colours: Sequence[str] | None = None) -> go.Figure:
    """Loss vs step on a log y axis; a cross marks the step where a run blew up.

    On surfaces whose minimum is not 0 (Styblinski–Tang, the camel, the saddle) the curve is the
    gap to the global minimum, f - f*, so that the log axis works and "0" means "at the best".
    """
    names = run_labels(runs, labels)
    lay = layout(height=height, xaxis=dict(title=dict(text="step")),
                 yaxis=dict(type="log", title=dict(text=_loss_title(runs)),
                            exponentformat="power"))
    return make_figure(_loss_traces(runs, names, _colours(runs, colours)), lay)


def lr_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
              height: int = 260, colours: Sequence[str] | None = None) -> go.Figure:
    """The learning rate each update used (after the schedule and any plateau cuts)."""
    names = run_labels(runs, labels)
    traces, log = _lr_traces(runs, names, _colours(runs, colours))
    lay = layout(height=height, xaxis=dict(title=dict(text="update")),
                 yaxis=dict(type="log" if log else "linear", title=dict(text="learning rate"),
                            rangemode="normal" if log else "tozero", exponentformat="power"))
    return make_figure(traces, lay)


def stability_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                     height: int = 260, colours: Sequence[str] | None = None) -> go.Figure:
    """The stability meter: lr_t x lambda_max(p_t) at every visited point against the limit.

    Above the dashed line (2 for SGD, 2 + 2 mu for heavy ball, Nesterov's bound) a constant rate
    amplifies the error along the steepest direction.
    """
    names = run_labels(runs, labels)
    traces, limits, peak = _stability_traces(runs, names, _colours(runs, colours))
    shapes, notes = _limit_shapes(limits)
    notes += _no_limit_note(runs, limits)
    lay = layout(height=height, xaxis=dict(title=dict(text="update")),
                 yaxis=dict(title=dict(text="lr × λ_max"), range=_stability_range(limits, peak)),
                 shapes=shapes, annotations=notes)
    lay["margin"] = {**lay["margin"], "r": 110}
    return make_figure(traces, lay)


def curves_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                  height: int = 620, colours: Sequence[str] | None = None) -> go.Figure:
    """Loss, learning rate and stability meter stacked over one shared step axis.

    Reading them aligned is the point: a blow-up in the loss sits right above the step where
    lr x lambda_max crossed its limit, and a schedule's cut sits above the loss it rescued.
    """
    names = run_labels(runs, labels)
    cols = _colours(runs, colours)
    lr_traces, log_lr = _lr_traces(runs, names, cols, "2", legend=False)
    stab, limits, peak = _stability_traces(runs, names, cols, "3", legend=False)
    shapes, notes = _limit_shapes(limits, "3")
    notes += _no_limit_note(runs, limits, "3")
    data = _loss_traces(runs, names, cols, "") + lr_traces + stab
    lay = layout(
        height=height, shapes=shapes, annotations=notes,
        xaxis=dict(anchor="y", matches="x3", showticklabels=False),
        xaxis2=dict(anchor="y2", matches="x3", showticklabels=False),
        xaxis3=dict(anchor="y3", title=dict(text="step")),
        yaxis=dict(domain=[0.68, 1.0], type="log", title=dict(text=_loss_title(runs)),
                   exponentformat="power"),
        yaxis2=dict(domain=[0.36, 0.62], type="log" if log_lr else "linear",
                    rangemode="normal" if log_lr else "tozero", title=dict(text="lr"),
                    exponentformat="power"),
        yaxis3=dict(domain=[0.0, 0.30], title=dict(text="lr × λ_max"),
                    range=_stability_range(limits, peak)),
    )
    lay["margin"] = {**lay["margin"], "r": 110}  # room for the limit labels
    return make_figure(data, lay)
