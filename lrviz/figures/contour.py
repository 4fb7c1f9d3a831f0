"""Contour maps of a loss surface: the grid, its colouring, the minima and fixed axes.

Shared by every map in the app (lab, race, schedules, hero). The surface is drawn as a layout
image of filled bands plus a line trace of the band edges, never as a ``contour`` trace, so it
stays on screen while an animation plays (see `surface_image`). The grid is evaluated once per
(surface, parameters, resolution) and kept in a small bounded cache, so a rerun that only moves
the learning rate does not re-evaluate the surface.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Mapping

import contourpy
import numpy as np
from PIL import Image

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


N_LEVELS = 22  # contour bands: enough to read the shape, few enough to stay light
SURFACE_OPACITY = 0.75  # how dark the darkest band is over the white plot background


def _levels(values: np.ndarray) -> np.ndarray:
    """``N_LEVELS + 1`` evenly spaced band edges from the lowest to the highest value."""
    return np.linspace(float(values.min()), float(values.max()), N_LEVELS + 1)


def _band_greys(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Grey level (0-255, uint8) of each grid cell, light for low loss.

    A cell in band k of K is drawn at ``255 * (1 - o * k / (K - 1))`` with o the
    `SURFACE_OPACITY`: the lowest band white, the highest ``255 * (1 - o)``, the look of a
    reversed "Greys" filled contour at that opacity over a white background.
    """
    band = np.clip(np.searchsorted(levels, values, side="right") - 1, 0, N_LEVELS - 1)
    darkness = SURFACE_OPACITY * band / (N_LEVELS - 1)
    return np.round(255.0 * (1.0 - darkness)).astype(np.uint8)


@functools.lru_cache(maxsize=32)
def _png_uri(name: str, items: tuple[tuple[str, float], ...], n: int) -> str:
    s = get_surface(name)
    _, _, Z = surface_grid(s, dict(items), n)
    values, _ = colour_values(s, Z)
    greys = _band_greys(values, _levels(values))[::-1]  # image rows run top (high y) down
    buffer = io.BytesIO()
    Image.fromarray(greys, mode="L").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=32)
def _line_xy(name: str, items: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    s = get_surface(name)
    xs, ys, Z = surface_grid(s, dict(items), n)
    values, _ = colour_values(s, Z)
    gen = contourpy.contour_generator(xs, ys, values,
                                      line_type=contourpy.LineType.ChunkCombinedNan)
    pieces = [chunk for level in _levels(values)[1:-1] for chunk in gen.lines(level)[0]
              if chunk is not None]
    gap = np.full((1, 2), np.nan)
    xy = (np.concatenate([p for c in pieces for p in (c, gap)]) if pieces
          else np.empty((0, 2))).astype(np.float32)
    xy.setflags(write=False)
    return xy


def surface_image(surface: str | Surface, params: Mapping[str, float] | None = None,
                  n: int = GRID_POINTS) -> dict:
    """The filled contour bands as a layout image (a PNG data URI) pinned to the domain.

    Why an image and not a ``contour`` trace: Plotly's animation with ``redraw: False`` (the
    only smooth way to move a marker) removes contour and heatmap traces from the plot while it
    plays. Layout images are not traces, so the surface stays visible through Play and while the
    step slider is dragged, and in the exported HTML too.
    """
    s = get_surface(surface)
    uri = _png_uri(s.name, tuple(sorted(s.resolve(params).items())), int(n))
    (x0, x1), (y0, y1) = s.domain
    return dict(source=uri, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                sizing="stretch", layer="below", name="loss surface")


def contour_lines_trace(surface: str | Surface, params: Mapping[str, float] | None = None,
                        n: int = GRID_POINTS) -> dict:
    """The band edges as one line trace (segments separated by NaN gaps), from contourpy.

    A scatter trace, unlike a contour trace, survives ``redraw: False`` animation frames.
    """
    s = get_surface(surface)
    xy = _line_xy(s.name, tuple(sorted(s.resolve(params).items())), int(n))
    return dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="lines", name="loss surface",
                line=dict(width=0.5, color="rgba(0,0,0,0.35)"), hoverinfo="skip",
                showlegend=False, connectgaps=False)


def colorbar_trace(surface: str | Surface, params: Mapping[str, float] | None = None,
                   n: int = GRID_POINTS) -> dict:
    """An invisible trace that carries the colour bar of `surface_image` (log ticks if log)."""
    s = get_surface(surface)
    _, _, Z = surface_grid(s, params, n)
    values, is_log = colour_values(s, Z)
    lo, hi = float(values.min()), float(values.max())
    colorbar = dict(title=dict(text="log₁₀ loss gap" if is_log else "loss", side="right"),
                    thickness=14, len=0.8)
    if is_log:
        ticks = list(range(int(np.ceil(lo)), int(np.floor(hi)) + 1))
        colorbar.update(tickvals=ticks, ticktext=[f"1e{k}" for k in ticks])
    dark = round(255 * (1 - SURFACE_OPACITY))
    return dict(
        type="scatter", x=[None, None], y=[None, None], mode="markers", hoverinfo="skip",
        showlegend=False, name="loss colour scale",
        marker=dict(color=[lo, hi], cmin=lo, cmax=hi, showscale=True, colorbar=colorbar,
                    colorscale=[[0.0, "rgb(255,255,255)"], [1.0, f"rgb({dark},{dark},{dark})"]]),
    )


def surface_grid_trace(surface: str | Surface, params: Mapping[str, float] | None = None,
                       n: int = 41, *, clickable: bool = False) -> dict:
    """Invisible markers on an n x n grid that read out the loss on hover.

    With ``clickable=True`` a click on one selects it (Plotly reports clicks on scatter points
    only), turning "click here" into "start here". ``customdata`` holds the loss at each point,
    corners of the domain included.
    """
    s = get_surface(surface)
    xs, ys, Z = surface_grid(s, params, n)
    X, Y = np.meshgrid(xs, ys)
    tail = "<br>click to start here" if clickable else ""
    return dict(
        type="scatter", x=X.ravel(), y=Y.ravel(), mode="markers",
        name="click to start here" if clickable else "loss readout",
        showlegend=False, customdata=Z.ravel().astype(np.float32),
        marker=dict(size=10, color="#000000", opacity=0),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        hovertemplate=f"(%{{x:.2f}}, %{{y:.2f}}): loss %{{customdata:.4g}}{tail}<extra></extra>",
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
