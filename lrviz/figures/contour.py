"""Contour maps of a loss surface: the grid, its colouring, the minima and fixed axes.

Shared by every map in the app (lab, race, schedules, hero). The grid is evaluated once per
(surface, parameters, resolution) and kept in a small bounded cache, so a rerun that only moves
the learning rate does not re-evaluate the surface.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from lrviz.engine.surfaces import Surface, get_surface

GRID_POINTS = 100  # per side: smooth enough on a projector, ~40 kB of float32 in the figure
LOG_FLOOR = 1e-3  # added before log10 so the minimum (loss gap 0) has a finite colour


@functools.lru_cache(maxsize=32)
def _grid(name: str, items: tuple[tuple[str, float], ...], n: int):
    xs, ys, Z = get_surface(name).grid(n, dict(items))
    for a in (xs, ys, Z):
        a.setflags(write=False)
    return xs, ys, Z


def surface_grid(surface: str | Surface, params: Mapping[str, float] | None = None,
                 n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, ys, Z)`` over the surface's domain, float32, ``Z[i, j] = f(xs[j], ys[i])``."""
    s = get_surface(surface)
    return _grid(s.name, tuple(sorted(s.resolve(params).items())), int(n))


def colour_values(surface: Surface, Z: np.ndarray) -> tuple[np.ndarray, bool]:
    """The values to colour by, and whether they are log10 of the loss gap.

    Surfaces that span many orders of magnitude (Rosenbrock's walls vs its valley floor) are
    coloured by log10(f - min f + LOG_FLOOR); otherwise a linear scale shows the shape better.
    """
    if not surface.log_scale:
        return Z.astype(np.float32), False
    gap = Z - np.nanmin(Z)
    return np.log10(gap + LOG_FLOOR).astype(np.float32), True


def contour_trace(surface: str | Surface, params: Mapping[str, float] | None = None,
                  n: int = GRID_POINTS, *, showscale: bool = True,
                  opacity: float = 0.75) -> dict:
    """Filled contours (a trace dict) in light greys, so PALETTE-coloured paths stay readable."""
    s = get_surface(surface)
    xs, ys, Z = surface_grid(s, params, n)
    values, is_log = colour_values(s, Z)
    colorbar = dict(title=dict(text="log₁₀ loss gap" if is_log else "loss", side="right"),
                    thickness=14, len=0.8)
    if is_log:
        lo, hi = int(np.floor(values.min())), int(np.ceil(values.max()))
        ticks = list(range(lo, hi + 1))
        colorbar.update(tickvals=ticks, ticktext=[f"1e{k}" for k in ticks])
    hover = ("x=%{x:.2f}, y=%{y:.2f}<br>"
             + ("log₁₀(loss − min) = %{z:.2f}" if is_log else "loss = %{z:.3g}")
             + "<extra></extra>")
    return dict(
        type="contour", x=xs, y=ys, z=values, colorscale="Greys", reversescale=True,
        ncontours=22, line=dict(width=0.5, color="rgba(0,0,0,0.35)"), opacity=opacity,
        showscale=showscale, colorbar=colorbar, hovertemplate=hover, name="loss surface",
        showlegend=False,
    )


def click_grid_trace(surface: str | Surface, params: Mapping[str, float] | None = None,
                     n: int = 41) -> dict:
    """Invisible markers on an n x n grid, so that a click anywhere on the map selects a point.

    Plotly reports clicks (selections) on scatter points only, never on a contour; these
    markers turn "click here" into "start here" and carry the loss for the hover label.
    """
    s = get_surface(surface)
    xs, ys, Z = surface_grid(s, params, n)
    X, Y = np.meshgrid(xs, ys)
    return dict(
        type="scatter", x=X.ravel(), y=Y.ravel(), mode="markers", name="click to start here",
        showlegend=False, customdata=Z.ravel().astype(np.float32),
        marker=dict(size=10, color="#000000", opacity=0),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        hovertemplate="(%{x:.2f}, %{y:.2f}): loss %{customdata:.4g}<br>click to start here"
                      "<extra></extra>",
    )


def minima_trace(surface: str | Surface, params: Mapping[str, float] | None = None) -> dict:
    """Known minima (a trace dict): filled stars for global ones, hollow stars for local ones."""
    s = get_surface(surface)
    minima = s.minima(params)
    return dict(
        type="scatter", x=[m.x for m in minima], y=[m.y for m in minima], mode="markers",
        name="minimum (hollow = local)", showlegend=False,
        unselected=dict(marker=dict(opacity=1)),
        marker=dict(symbol=["star" if m.is_global else "star-open" for m in minima], size=16,
                    color="#000000", line=dict(width=1.5, color="#000000")),
        text=[("global" if m.is_global else "local") + f" minimum, loss {m.value:.4g}"
              for m in minima],
        hovertemplate="%{text}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
    )


def map_axes(surface: str | Surface) -> dict:
    """Layout entries pinning the axes (x across, y up) to the surface's domain, equal scales.

    Equal scales make a round bowl look round; fixed ranges matter for animation, because
    Plotly frames played with ``redraw: False`` never rescale the axes.
    """
    s = get_surface(surface)
    (x0, x1), (y0, y1) = s.domain
    return dict(
        xaxis=dict(range=[x0, x1], autorange=False, constrain="domain", showgrid=False,
                   zeroline=False),
        yaxis=dict(range=[y0, y1], autorange=False, scaleanchor="x", scaleratio=1,
                   constrain="domain", showgrid=False, zeroline=False),
    )
