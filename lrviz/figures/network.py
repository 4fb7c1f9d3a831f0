"""Figures of the /network page: loss, accuracy and sharpness curves, decision boundaries and
the trainability map. NumPy arrays in, ``go.Figure`` out; nothing here knows about Streamlit.

Every function takes plain arrays (not an engine object), so a figure can be checked against
the numbers it was given: a test reads the traces back and compares them with the engine's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.figures.sampling import keep_indices
from lrviz.figures.style import PALETTE, REGIME_COLORS, layout, make_figure

MAX_POINTS = 1500  # per curve: more than a screen can show
DIVERGED_COLOR = REGIME_COLORS["diverged"]
TRAINED_COLOR = REGIME_COLORS["converged"]


def _finite(values: np.ndarray) -> np.ndarray:
    """``values`` as float with non-finite entries as None-able NaN (Plotly leaves a gap)."""
    out = np.asarray(values, dtype=float).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def _divergence_marker(step: int | None) -> tuple[list[dict], list[dict]]:
    if step is None:
        return [], []
    shape = dict(type="line", xref="x", yref="paper", x0=step, x1=step, y0=0, y1=1,
                 line=dict(color=DIVERGED_COLOR, width=2, dash="dot"))
    note = dict(xref="x", yref="paper", x=step, y=1.0, text=f"diverged at step {step}",
                showarrow=False, xanchor="left", yanchor="top",
                bgcolor="rgba(255,255,255,0.8)")
    return [shape], [note]


def loss_figure(train_loss: np.ndarray, eval_steps: np.ndarray, val_loss: np.ndarray, *,
                diverged_at: int | None = None, height: int = 360) -> go.Figure:
    """Training loss at every step (``train_loss[t]`` = loss before update t+1) and validation
    loss at the evaluation steps, on a log axis; a dotted line where the run diverged."""
    train = _finite(train_loss)
    keep = keep_indices(len(train), MAX_POINTS, [diverged_at])
    data = [
        dict(type="scatter", x=keep, y=train[keep], mode="lines", name="training loss",
             line=dict(color=PALETTE[0], width=2),
             hovertemplate="step %{x}: training loss %{y:.4g}<extra></extra>"),
        dict(type="scatter", x=np.asarray(eval_steps, dtype=int), y=_finite(val_loss),
             mode="lines+markers", name="validation loss",
             line=dict(color=PALETTE[1], width=2, dash="dash"), marker=dict(size=5),
             hovertemplate="step %{x}: validation loss %{y:.4g}<extra></extra>"),
    ]
    shapes, notes = _divergence_marker(diverged_at)
    lay = layout(height=height, shapes=shapes, annotations=notes,
                 xaxis=dict(title=dict(text="step")),
                 yaxis=dict(type="log", title=dict(text="loss (log)"), exponentformat="power"))
    return make_figure(data, lay)


def accuracy_figure(eval_steps: np.ndarray, train_acc: np.ndarray, val_acc: np.ndarray, *,
                    height: int = 300) -> go.Figure:
    """Training and validation accuracy (fractions shown as percentages) at evaluation steps."""
    steps = np.asarray(eval_steps, dtype=int)
    data = [
        dict(type="scatter", x=steps, y=_finite(train_acc), mode="lines+markers",
             name="training accuracy", line=dict(color=PALETTE[0], width=2),
             marker=dict(size=5), hovertemplate="step %{x}: %{y:.1%}<extra>training</extra>"),
        dict(type="scatter", x=steps, y=_finite(val_acc), mode="lines+markers",
             name="validation accuracy", line=dict(color=PALETTE[1], width=2, dash="dash"),
             marker=dict(size=5),
             hovertemplate="step %{x}: %{y:.1%}<extra>validation</extra>"),
    ]
    lay = layout(height=height, xaxis=dict(title=dict(text="step")),
                 yaxis=dict(title=dict(text="accuracy"), tickformat=".0%", range=[0, 1.02]))
    return make_figure(data, lay)


def sharpness_figure(sharpness_steps: np.ndarray, sharpness: np.ndarray,
                     limit: np.ndarray | None, *, limit_label: str = "2 / learning rate",
                     diverged_at: int | None = None, height: int = 340) -> go.Figure:
    """The sharpness λ_max at the measured steps next to the stability limit (dashed).

    ``limit[t]`` is the limit for update t (2/η_t for gradient descent, so it moves with a
    schedule); ``None`` for adaptive optimizers, which have no single limit. Log axis, because
    sharpness spans decades.
    """
    data = [
        dict(type="scatter", x=np.asarray(sharpness_steps, dtype=int), y=_finite(sharpness),
             mode="lines+markers", name="sharpness λ_max", line=dict(color=PALETTE[2], width=2.5),
             marker=dict(size=5),
             hovertemplate="step %{x}: λ_max %{y:.4g}<extra></extra>"),
    ]
    if limit is not None:
        ceiling = _finite(limit)
        keep = keep_indices(len(ceiling), MAX_POINTS)
        data.append(dict(type="scatter", x=keep, y=ceiling[keep], mode="lines",
                         name=limit_label, line=dict(color="#000000", width=2, dash="dash"),
                         hovertemplate="step %{x}: limit %{y:.4g}<extra></extra>"))
    shapes, notes = _divergence_marker(diverged_at)
    lay = layout(height=height, shapes=shapes, annotations=notes,
                 xaxis=dict(title=dict(text="step")),
                 yaxis=dict(type="log", title=dict(text="curvature (log)"),
                            exponentformat="power"))
    return make_figure(data, lay)


def compare_figure(labels: Sequence[str], train_losses: Sequence[np.ndarray], *,
                   validation: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                   height: int = 340) -> go.Figure:
    """Training-loss curves of several runs (a preset's runs) on one log axis; with
    ``validation`` (each run's evaluation steps and validation losses) also dashed validation
    curves in the same colours."""
    data = []
    for k, (label, loss) in enumerate(zip(labels, train_losses, strict=True)):
        values = _finite(loss)
        keep = keep_indices(len(values), MAX_POINTS)
        color = PALETTE[k % len(PALETTE)]
        data.append(dict(type="scatter", x=keep, y=values[keep], mode="lines",
                         name=f"{label}: training", line=dict(color=color, width=2),
                         hovertemplate=f"{label}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"))
        if validation is not None:
            steps, val = validation[k]
            data.append(dict(type="scatter", x=np.asarray(steps, dtype=int), y=_finite(val),
                             mode="lines", name=f"{label}: validation",
                             line=dict(color=color, width=2, dash="dash"),
                             hovertemplate=f"{label} (validation)<br>step %{{x}}: %{{y:.4g}}"
                                           "<extra></extra>"))
    lay = layout(height=height, xaxis=dict(title=dict(text="step")),
                 yaxis=dict(type="log", title=dict(text="loss (log)"), exponentformat="power"))
    return make_figure(data, lay)


def decision_figure(grid_x: np.ndarray, grid_y: np.ndarray, predicted: np.ndarray,
                    points: np.ndarray, labels: np.ndarray, *, n_classes: int,
                    height: int = 420) -> go.Figure:
    """The class the network predicts over a 2-D grid (shaded) and the data points on top.

    ``predicted[i, j]`` is the class at ``(grid_x[j], grid_y[i])``; ``points`` is (n, 2) and
    ``labels`` their true classes.
    """
    colors = [PALETTE[k % len(PALETTE)] for k in range(n_classes)]
    scale = []
    for k, c in enumerate(colors):  # a step colour scale: one flat band per class
        lo, hi = k / n_classes, (k + 1) / n_classes
        scale += [[lo, c], [hi, c]]
    data: list[dict] = [dict(
        type="heatmap", x=np.asarray(grid_x, dtype=float), y=np.asarray(grid_y, dtype=float),
        z=np.asarray(predicted, dtype=float), zmin=-0.5, zmax=n_classes - 0.5,
        colorscale=scale, opacity=0.35, showscale=False, hoverinfo="skip")]
    pts, lab = np.asarray(points, dtype=float), np.asarray(labels, dtype=int)
    for k in range(n_classes):
        mask = lab == k
        data.append(dict(type="scatter", x=pts[mask, 0], y=pts[mask, 1], mode="markers",
                         name=f"class {k}",
                         marker=dict(size=6, color=colors[k], line=dict(width=0.5,
                                                                        color="#000000")),
                         hovertemplate=f"class {k}<extra></extra>"))
    lay = layout(height=height, xaxis=dict(title=dict(text="x₁")),
                 yaxis=dict(title=dict(text="x₂"), scaleanchor="x", scaleratio=1))
    return make_figure(data, lay)


def _log_ticks(values: Sequence[float]) -> tuple[list[float], list[str]]:
    lo, hi = np.log10(min(values)), np.log10(max(values))
    ticks = [float(k) for k in range(int(np.ceil(lo)), int(np.floor(hi)) + 1)]
    if len(ticks) < 2:
        ticks = [float(v) for v in np.linspace(lo, hi, 4)]
    return ticks, [f"{10 ** t:.2g}" for t in ticks]


def trainability_figure(lrs_layer1: np.ndarray, lrs_layer2: np.ndarray, diverged: np.ndarray,
                        final_loss: np.ndarray, *, height: int = 520) -> go.Figure:
    """Trained-or-diverged over a grid of per-layer rates, shaded by the final loss.

    Grids have shape (len(lrs_layer2), len(lrs_layer1)): ``diverged[i, j]`` and
    ``final_loss[i, j]`` belong to layer-2 rate ``lrs_layer2[i]`` (y axis) and layer-1 rate
    ``lrs_layer1[j]`` (x axis), as `lrviz.nets.trainability_map` returns them. Cells that
    trained are shaded by log10 of the final training loss (darker is lower); diverged cells are
    drawn in the divergence colour. Axes are log10 of the rates, labelled with the rates.
    """
    x = np.log10(np.asarray(lrs_layer1, dtype=float))
    y = np.log10(np.asarray(lrs_layer2, dtype=float))
    bad = np.asarray(diverged, dtype=bool)
    loss = np.asarray(final_loss, dtype=float)
    shade = np.where(~bad & np.isfinite(loss) & (loss > 0), np.log10(np.maximum(loss, 1e-12)),
                     np.nan)
    custom = np.stack(np.broadcast_arrays(10 ** x[None, :], 10 ** y[:, None]), -1)
    hover = "layer-1 lr %{customdata[0]:.3g}, layer-2 lr %{customdata[1]:.3g}<br>"
    data = [
        dict(type="heatmap", x=x, y=y, z=shade, colorscale="Viridis", name="trained",
             colorbar=dict(title=dict(text="log10 final loss")), customdata=custom,
             hovertemplate=hover + "trained: log10 final loss %{z:.2f}<extra></extra>"),
        dict(type="heatmap", x=x, y=y, z=np.where(bad, 1.0, np.nan), name="diverged",
             colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]], showscale=False,
             customdata=custom, hovertemplate=hover + "diverged<extra></extra>"),
    ]
    xt, xl = _log_ticks(10 ** x)
    yt, yl = _log_ticks(10 ** y)
    lay = layout(height=height,
                 xaxis=dict(title=dict(text="learning rate of layer 1 (log)"), tickvals=xt,
                            ticktext=xl),
                 yaxis=dict(title=dict(text="learning rate of layer 2 (log)"), tickvals=yt,
                            ticktext=yl))
    return make_figure(data, lay)


def range_figure(test_lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray,
                 sweep_lrs: np.ndarray, sweep_final: np.ndarray, sweep_diverged: np.ndarray, *,
                 marks: dict[str, float] | None = None, height: int = 440) -> go.Figure:
    """The range test (loss after each update of one run whose rate rises, raw and smoothed)
    next to the sweep (final loss of one full run per rate; diverged runs as crosses at the
    top), both against the learning rate on a log axis; ``marks`` adds labelled vertical
    lines (the suggestions)."""
    final = _finite(sweep_final)
    bad = np.asarray(sweep_diverged, dtype=bool)
    ceiling = np.nanmax(np.concatenate([_finite(smoothed), final[~bad]])) if (~bad).any() else 1
    data = [
        dict(type="scatter", x=np.asarray(test_lrs, float), y=_finite(losses), mode="lines",
             name="range test: loss", line=dict(color="#BBBBBB", width=1),
             hovertemplate="lr %{x:.3g}: loss %{y:.4g}<extra>range test</extra>"),
        dict(type="scatter", x=np.asarray(test_lrs, float), y=_finite(smoothed), mode="lines",
             name="range test: smoothed", line=dict(color=PALETTE[0], width=3),
             hovertemplate="lr %{x:.3g}: smoothed %{y:.4g}<extra>range test</extra>"),
        dict(type="scatter", x=np.asarray(sweep_lrs, float)[~bad], y=final[~bad],
             mode="lines+markers", name="sweep: final loss of a full run",
             line=dict(color=PALETTE[1], width=2, dash="dash"), marker=dict(size=7),
             hovertemplate="lr %{x:.3g}: final loss %{y:.4g}<extra>sweep</extra>"),
        dict(type="scatter", x=np.asarray(sweep_lrs, float)[bad],
             y=np.full(int(bad.sum()), float(ceiling)), mode="markers",
             name="sweep: diverged", marker=dict(size=11, symbol="x", color=DIVERGED_COLOR),
             hovertemplate="lr %{x:.3g}: diverged<extra>sweep</extra>"),
    ]
    shapes, notes = [], []
    for i, (label, x) in enumerate((marks or {}).items()):
        shapes.append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                           line=dict(color="#000000", width=2, dash=("dash", "dot")[i % 2])))
        notes.append(dict(xref="x", yref="paper", x=float(np.log10(x)), y=1.0 - 0.08 * i,
                          text=label, showarrow=False, xanchor="left", yanchor="top",
                          bgcolor="rgba(255,255,255,0.8)"))
    lay = layout(height=height, shapes=shapes, annotations=notes,
                 xaxis=dict(type="log", title=dict(text="learning rate (log)"),
                            exponentformat="power"),
                 yaxis=dict(type="log", title=dict(text="training loss (log)"),
                            exponentformat="power"))
    return make_figure(data, lay)
