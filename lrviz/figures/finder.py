"""The LR finder's figures: the range test (final loss vs learning rate) and the phase map.

Both read engine results only: a `SweepResult` (one full run per rate) and a `PhaseMap`
(the regime of every learning rate x parameter pair).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.diagnose import Regime
from lrviz.engine.numbers import fmt_number
from lrviz.engine.simulate import PhaseMap, SweepResult
from lrviz.figures.style import REGIME_COLORS, layout, make_figure

GAP_FLOOR = 1e-12
REGIME_ORDER = [Regime.CONVERGED, Regime.OVERSHOOTING, Regime.SLOW, Regime.LOCAL_MINIMUM,
                Regime.STUCK, Regime.OSCILLATING, Regime.DIVERGED]
LINE_STYLES = ("dash", "dot", "dashdot")


def range_test_figure(sweep: SweepResult, *, loss_offset: float = 0.0,
                      lines: Mapping[str, float] | None = None, height: int = 460) -> go.Figure:
    """Final loss (gap to the minimum, log) vs learning rate (log); points coloured by regime.

    ``lines`` adds labelled vertical lines (e.g. the theoretical 2/lambda_max); the suggested
    rate is drawn as a solid vertical line. Each point carries its rate in ``customdata`` so a
    click can open that run.
    """
    order = np.argsort(sweep.lrs)
    lrs = sweep.lrs[order]
    gap = np.maximum(sweep.final_losses[order] - loss_offset, GAP_FLOOR)
    regimes = [sweep.regimes[k] for k in order]
    data: list[dict] = [dict(type="scatter", x=lrs, y=gap, mode="lines", showlegend=False,
                             line=dict(color="#999999", width=1.5), hoverinfo="skip")]
    for regime in REGIME_ORDER:
        idx = [k for k, r in enumerate(regimes) if r is regime]
        if not idx:
            continue
        data.append(dict(
            type="scatter", x=lrs[idx], y=gap[idx], mode="markers", name=regime.label,
            marker=dict(size=11, color=REGIME_COLORS[regime.value],
                        symbol="x" if regime is Regime.DIVERGED else "circle",
                        line=dict(width=1, color="#000000")),
            customdata=lrs[idx],
            hovertemplate=(f"lr %{{x:.3g}}: {regime.label}<br>final loss − min %{{y:.3g}}"
                           "<br>click to open this run in the lab<extra></extra>"),
        ))
    shapes, notes = [], []
    marks = dict(lines or {})
    if sweep.suggested_lr is not None:
        marks = {f"suggested {fmt_number(sweep.suggested_lr)}": sweep.suggested_lr, **marks}
    for i, (label, x) in enumerate(marks.items()):
        solid = label.startswith("suggested")
        shapes.append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                           line=dict(color="#009E73" if solid else "#000000", width=2.5,
                                     dash="solid" if solid else LINE_STYLES[i % 3])))
        notes.append(dict(xref="x", yref="paper", x=float(np.log10(x)), y=1.0 - 0.07 * i,
                          text=label, showarrow=False, xanchor="left", yanchor="top",
                          bgcolor="rgba(255,255,255,0.8)"))
    lay = layout(height=height, shapes=shapes, annotations=notes, clickmode="event+select",
                 xaxis=dict(type="log", title=dict(text="learning rate (log)"),
                            exponentformat="power"),
                 yaxis=dict(type="log", title=dict(text="final loss − minimum (log)"),
                            exponentformat="power"))
    return make_figure(data, lay)


def phase_map_figure(pm: PhaseMap, *, boundary: Callable[[float], float | None] | None = None,
                     height: int = 460) -> go.Figure:
    """Regime of every (parameter value, learning rate) cell, with an optional theory curve.

    ``boundary(value)`` returns the largest stable rate for that parameter value (e.g.
    (2 + 2 mu)/lambda_max for heavy-ball momentum) or None; it is drawn as a dashed line.
    """
    codes = {r: i for i, r in enumerate(REGIME_ORDER)}
    z = np.array([[codes[r] for r in row] for row in pm.regimes], dtype=np.int8)
    n = len(REGIME_ORDER)
    scale = []
    for i, regime in enumerate(REGIME_ORDER):  # a stepped scale: one flat band per regime
        scale += [[i / n, REGIME_COLORS[regime.value]], [(i + 1) / n, REGIME_COLORS[regime.value]]]
    text = [[r.label for r in row] for row in pm.regimes]
    data: list[dict] = [dict(
        type="heatmap", x=np.log10(pm.lrs), y=pm.values, z=z, zmin=-0.5, zmax=n - 0.5,
        colorscale=scale, showscale=False, text=text, xgap=1, ygap=1,
        hovertemplate=(f"lr 10^%{{x:.2f}}, {pm.name} %{{y:.3g}}: %{{text}}<extra></extra>"),
    )]
    present = {r for row in pm.regimes for r in row}
    for regime in REGIME_ORDER:  # legend entries for the regimes that occur
        if regime in present:
            data.append(dict(type="scatter", x=[None], y=[None], mode="markers",
                             name=regime.label, marker=dict(size=12, symbol="square",
                                                            color=REGIME_COLORS[regime.value])))
    if boundary is not None:
        ys = np.linspace(pm.values.min(), pm.values.max(), 60)
        xs = [boundary(float(v)) for v in ys]
        keep = [(np.log10(x), y) for x, y in zip(xs, ys, strict=True) if x and x > 0]
        if keep:
            bx, by = zip(*keep, strict=True)
            data.append(dict(type="scatter", x=list(bx), y=list(by), mode="lines",
                             name="theory: largest stable lr",
                             line=dict(color="#000000", width=3, dash="dash")))
    lo, hi = np.log10(pm.lrs.min()), np.log10(pm.lrs.max())
    ticks = list(range(int(np.ceil(lo)), int(np.floor(hi)) + 1))
    lay = layout(height=height,
                 xaxis=dict(title=dict(text="learning rate"), range=[lo - 0.05, hi + 0.05],
                            tickvals=ticks, ticktext=[f"1e{t}" for t in ticks]),
                 yaxis=dict(title=dict(text=pm.name)))
    return make_figure(data, lay)


def regime_counts(regimes: Sequence[Regime]) -> dict[str, int]:
    """How many runs ended in each regime (for captions)."""
    out: dict[str, int] = {}
    for r in regimes:
        out[r.label] = out.get(r.label, 0) + 1
    return out
