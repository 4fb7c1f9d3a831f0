"""The optional 3D view: the loss surface as a landscape with each run walking on it.

Heights are the loss, or log10 of the loss gap on surfaces coloured logarithmically (Rosenbrock's
walls would otherwise dwarf its valley). The grid is coarser than the contour map's: a 3D mesh
costs the browser far more per point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.contour import LOG_FLOOR, colour_values, surface_grid
from lrviz.figures.labels import run_labels
from lrviz.figures.sampling import keep_indices
from lrviz.figures.style import PALETTE, layout, make_figure

GRID_3D = 60
MAX_3D_POINTS = 400


def surface_figure(runs: Sequence[Run], labels: Sequence[str] | None = None,
                   height: int = 520) -> go.Figure:
    """3D surface of the first run's landscape with every run's path drawn on it."""
    if not runs:
        raise ValueError("surface_figure needs at least one run")
    names = run_labels(runs, labels)
    cfg = runs[0].config
    surface = get_surface(cfg.surface)
    params = cfg.surface_values()
    xs, ys, Z = surface_grid(surface, params, GRID_3D)
    heights, is_log = colour_values(surface, Z)
    zmin = float(np.nanmin(Z))
    data: list[dict] = [dict(type="surface", x=xs, y=ys, z=heights, colorscale="Greys",
                             reversescale=True, opacity=0.85, showscale=False,
                             name="loss surface", hoverinfo="skip")]
    lo, hi = float(heights.min()), float(heights.max())
    (x0, x1), (y0, y1) = surface.domain
    for k, (run, label) in enumerate(zip(runs, names, strict=True)):
        keep = keep_indices(len(run.points), MAX_3D_POINTS, [run.diverged_at])
        pts = run.points[keep]
        inside = ((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
        loss = run.losses[keep]
        z = np.log10(np.maximum(loss - zmin, 0) + LOG_FLOOR) if is_log else loss
        z = np.clip(z, lo, hi)  # points that flew off the map stay on its rim
        data.append(dict(
            type="scatter3d", x=np.where(inside, pts[:, 0], np.nan).astype(np.float32),
            y=pts[:, 1].astype(np.float32), z=z.astype(np.float32), mode="lines+markers",
            name=f"{label} — {run.regime.label}", line=dict(color=PALETTE[k % len(PALETTE)],
                                                            width=6),
            marker=dict(size=3, color=PALETTE[k % len(PALETTE)]),
        ))
    ztitle = "log₁₀(loss − min)" if is_log else "loss"
    lay = layout(height=height, scene=dict(
        xaxis=dict(title=dict(text="x"), range=[x0, x1]),
        yaxis=dict(title=dict(text="y"), range=[y0, y1]),
        zaxis=dict(title=dict(text=ztitle)), aspectmode="manual",
        aspectratio=dict(x=1, y=1, z=0.6), camera=dict(eye=dict(x=1.4, y=-1.4, z=1.0))))
    lay["margin"] = dict(l=0, r=0, t=30, b=0)
    return make_figure(data, lay)
