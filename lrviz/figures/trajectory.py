"""The trajectory map: contours of the surface with each run's path, and its animation.

``trajectory_figure`` draws the contours of the first run's surface (with that run's surface
parameters), the known minima and every run's path in the colour-blind-safe `PALETTE`. With
``animate=True`` it adds one marker per run that a Play/Pause button and a step slider move in
the browser: the frames are computed here once and Plotly plays them without any rerun.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.numbers import fmt_number
from lrviz.engine.simulate import Run
from lrviz.figures.contour import (
    GRID_POINTS,
    colorbar_trace,
    contour_lines_trace,
    map_axes,
    minima_trace,
    surface_grid_trace,
    surface_image,
)
from lrviz.figures.curves import loss_figure
from lrviz.figures.labels import run_labels
from lrviz.figures.sampling import frame_steps, keep_indices
from lrviz.figures.style import PALETTE, layout, make_figure

__all__ = ["MAX_FRAMES", "MAX_PATH_POINTS", "colour", "loss_figure", "trajectory_figure"]

MAX_PATH_POINTS = 1000  # per run; longer runs are decimated with an odd stride
MAX_FRAMES = 120  # animation frames per figure, played at FRAME_MS each
FRAME_MS = 60


def colour(k: int) -> str:
    """Colour of the k-th run in every figure of a page (legend colours must agree)."""
    return PALETTE[k % len(PALETTE)]


def _path_trace(run: Run, label: str, k: int, col: str) -> dict:
    keep = keep_indices(len(run.points), MAX_PATH_POINTS, [run.diverged_at])
    pts = run.points[keep].astype(np.float32)
    custom = np.stack([keep, run.losses[keep]], axis=1).astype(np.float32)
    return dict(
        type="scatter", x=pts[:, 0], y=pts[:, 1], mode="lines+markers",
        name=f"{label} — {run.regime.label}", line=dict(color=col, width=2.5),
        marker=dict(size=5, color=col), customdata=custom, legendgroup=f"run{k}",
        unselected=dict(marker=dict(opacity=1)),  # a click on the map must not fade paths
        hovertemplate=(f"{label}<br>step %{{customdata[0]:.0f}}: (%{{x:.3f}}, %{{y:.3f}})"
                       "<br>loss %{customdata[1]:.4g}<extra></extra>"),
    )


def _endpoints_trace(runs: Sequence[Run], labels: Sequence[str],
                     cols: Sequence[str]) -> dict:
    """Hollow circles at the starts; a cross where a run blew up."""
    xs, ys, symbols, colours, texts = [], [], [], [], []
    for k, (run, label) in enumerate(zip(runs, labels, strict=True)):
        ends = [(run.points[0], "circle-open", f"{label}: start")]
        if run.diverged_at is not None:
            ends.append((run.points[-1], "x", f"{label}: blew up at step {run.diverged_at}"))
        for point, symbol, text in ends:
            xs.append(float(point[0]))
            ys.append(float(point[1]))
            symbols.append(symbol)
            colours.append(cols[k])
            texts.append(text)
    return dict(
        type="scatter", x=xs, y=ys, mode="markers", name="start (○) / blew up (×)", text=texts,
        showlegend=False,
        marker=dict(symbol=symbols, size=15, color=colours, line=dict(width=3, color=colours)),
        unselected=dict(marker=dict(opacity=1)), hovertemplate="%{text}<extra></extra>",
    )


def map_description(runs: Sequence[Run], labels: Sequence[str]) -> str:
    """The map in words, for screen readers: the surface, then each run's path and outcome."""
    surface = runs[0].config.surface.replace("_", " ")
    parts = [f"Map of the {surface} loss surface with {len(runs)} "
             f"run{'s' if len(runs) != 1 else ''}."]
    for run, label in zip(runs, labels, strict=True):
        (x0, y0), (x1, y1) = run.points[0], run.points[-1]
        parts.append(f"{label}: {run.regime.label}, from ({fmt_number(x0)}, {fmt_number(y0)}) "
                     f"to ({fmt_number(x1)}, {fmt_number(y1)}), loss "
                     f"{fmt_number(run.losses[0])} to {fmt_number(run.losses[-1])}.")
    return " ".join(parts)


def _positions(runs: Sequence[Run], step: int) -> tuple[list[float], list[float]]:
    """Where each run is after ``step`` updates (a finished run stays at its end)."""
    xs, ys = [], []
    for run in runs:
        p = run.points[min(step, len(run.points) - 1)]
        xs.append(round(float(p[0]), 5))
        ys.append(round(float(p[1]), 5))
    return xs, ys


def _animation(runs: Sequence[Run], marker_index: int,
               colours: Sequence[str]) -> tuple[dict, list[dict], dict]:
    """The moving-marker trace, its frames and the Play/Pause + step-slider layout."""
    n_steps = max(len(r.points) - 1 for r in runs)
    steps = [int(s) for s in frame_steps(n_steps, MAX_FRAMES)]
    x0, y0 = _positions(runs, 0)
    marker = dict(type="scatter", x=x0, y=y0, mode="markers", name="current step",
                  showlegend=False, hoverinfo="skip",
                  marker=dict(size=16, color=colours, line=dict(width=2, color="#000000")))
    frames = []
    for s in steps:
        xs, ys = _positions(runs, s)
        frames.append(dict(name=str(s), traces=[marker_index],
                           data=[dict(type="scatter", x=xs, y=ys)]))
    still = dict(frame=dict(duration=0, redraw=False), mode="immediate",
                 transition=dict(duration=0))
    play = dict(frame=dict(duration=FRAME_MS, redraw=False), fromcurrent=True,
                mode="immediate", transition=dict(duration=0))
    controls = dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0, xanchor="left", yanchor="top",
            pad=dict(t=40, r=10), showactive=False,
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], still])],
        )],
        sliders=[dict(
            # its own row under the buttons, so that narrow screens never overlap the two
            active=0, x=0.0, y=0, len=1.0, xanchor="left", yanchor="top",
            pad=dict(t=80, b=0), currentvalue=dict(prefix="step ", visible=True,
                                                   xanchor="right"),
            steps=[dict(method="animate", label=str(s), args=[[str(s)], still]) for s in steps],
        )],
    )
    return marker, frames, controls


def trajectory_figure(runs: Sequence[Run], *, labels: Sequence[str] | None = None,
                      height: int = 420, animate: bool = False,
                      grid_points: int = GRID_POINTS,
                      colours: Sequence[str] | None = None,
                      colorbar: bool = True, clickable: bool = False) -> go.Figure:
    """Contour map of the first run's surface with every run's path (and optional animation).

    The surface is a layout image of filled bands under a trace of contour lines (a contour
    trace would vanish while the animation plays, see `surface_image`). Trace order: contour
    lines, colour bar (unless ``colorbar=False``, which leaves the width to the map), minima,
    one path per run, start/blow-up markers, an invisible grid that reads out the loss on hover,
    then (animated) the moving-marker trace that the frames update. ``colours`` overrides the
    PALETTE order (so a run keeps its colour when a page splits runs over several maps).
    ``clickable=True`` lets a click on that grid select a point, e.g. to set a new start.
    """
    if not runs:
        raise ValueError("trajectory_figure needs at least one run")
    names = run_labels(runs, labels)
    cols = list(colours) if colours is not None else [colour(k) for k in range(len(runs))]
    first = runs[0].config
    params = first.surface_values()
    data = [contour_lines_trace(first.surface, params, grid_points)]
    if colorbar:
        data.append(colorbar_trace(first.surface, params, grid_points))
    data.append(minima_trace(first.surface, params))
    data += [_path_trace(run, label, k, cols[k])
             for k, (run, label) in enumerate(zip(runs, names, strict=True))]
    data.append(_endpoints_trace(runs, names, cols))
    data.append(surface_grid_trace(first.surface, params, clickable=clickable))
    lay = layout(height=height, images=[surface_image(first.surface, params, grid_points)],
                 meta=dict(description=map_description(runs, names)), **map_axes(first.surface))
    frames = None
    if animate:
        marker, frames, controls = _animation(runs, len(data), cols)
        data.append(marker)
        lay.update(controls)
        lay["margin"] = {**lay["margin"], "b": 190}
    return make_figure(data, lay, frames)
