"""The home page's hero: three learning rates on one ravine — too small, good, too large."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.config import RunConfig
from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.style import REGIME_COLORS, base_layout

HERO_SURFACE = "ravine"
HERO_PARAMS = {"condition": 10.0, "angle": 30.0}
HERO_START = (-2.5, 1.5)
HERO_STEPS = 60
HERO_RATES: tuple[tuple[str, float], ...] = (
    ("too small", 0.01), ("about right", 0.1), ("too large", 0.21),
)


def hero_configs() -> list[RunConfig]:
    """The three runs: lr x lambda_max = 0.1, 1.0 and 2.1 on a ravine with lambda_max = 10."""
    return [
        RunConfig(surface=HERO_SURFACE, surface_params=HERO_PARAMS, optimizer="sgd", lr=lr,
                  start=HERO_START, steps=HERO_STEPS)
        for _, lr in HERO_RATES
    ]


def hero_figure(runs: list[Run]) -> go.Figure:
    """Contours of the ravine with the three trajectories and their regimes in the legend."""
    surface = get_surface(HERO_SURFACE)
    xs, ys, Z = surface.grid(90, HERO_PARAMS)
    fig = go.Figure(
        go.Contour(x=xs, y=ys, z=np.log10(Z + 1e-3), colorscale="Greys", reversescale=True,
                   showscale=False, ncontours=18, line=dict(width=0.5), hoverinfo="skip",
                   opacity=0.55)
    )
    (x0, x1), (y0, y1) = surface.domain
    for (name, lr), run in zip(HERO_RATES, runs, strict=True):
        pts = run.points
        symbol = {"slow": "circle", "converged": "diamond"}.get(run.regime.value, "x")
        fig.add_trace(go.Scatter(
            x=pts[:, 0], y=pts[:, 1], mode="lines+markers",
            name=f"lr {lr:g} — {name}: {run.regime.label}",
            # colour by what happened (and a marker shape too, for colour-blind readers)
            line=dict(color=REGIME_COLORS[run.regime.value],
                      width=1.5 if run.diverged_at is not None else 3),
            marker=dict(size=7, symbol=symbol),
            hovertemplate="step %{customdata}<br>x=%{x:.3f}, y=%{y:.3f}<extra></extra>",
            customdata=np.arange(len(pts)),
        ))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name="minimum",
                             marker=dict(symbol="star", size=16, color="#000000")))
    # keep the plot to the surface's square domain; the diverging run leaves it, as it should
    fig.update_xaxes(range=[x0, x1], title="x", constrain="domain")
    fig.update_yaxes(range=[y0, y1], title="y", scaleanchor="x", scaleratio=1,
                     constrain="domain")
    return base_layout(fig, height=520)
