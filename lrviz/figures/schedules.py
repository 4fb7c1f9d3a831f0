"""The schedule preview: learning-rate curves drawn from the schedule formulas alone.

No simulation is needed to draw a step-driven schedule, so the learner sees the curve before
running anything. Reduce-on-plateau depends on the losses; its preview is the starting rate
drawn dotted, with the note that the run decides the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lrviz.engine.numbers import fmt_number
from lrviz.figures.labels import plotly_text
from lrviz.figures.sampling import keep_indices
from lrviz.figures.style import PALETTE, layout, make_figure

MAX_POINTS = 1000


def schedule_figure(curves: Sequence[tuple[str, np.ndarray]], *,
                    colours: Sequence[str] | None = None, dotted: Sequence[bool] | None = None,
                    height: int = 340) -> go.Figure:
    """One line per (label, rates) pair: ``rates[t]`` is the learning rate of update t."""
    cols = list(colours) if colours is not None else [PALETTE[k % len(PALETTE)]
                                                       for k in range(len(curves))]
    dots = list(dotted) if dotted is not None else [False] * len(curves)
    data = []
    for (text, rates), col, dot in zip(curves, cols, dots, strict=True):
        label = plotly_text(text)
        keep = keep_indices(len(rates), MAX_POINTS)
        data.append(dict(
            type="scatter", x=keep, y=np.asarray(rates)[keep].astype(np.float32), mode="lines",
            name=label, line=dict(color=col, width=3, dash="dot" if dot else "solid"),
            hovertemplate=f"{label}<br>update %{{x}}: lr %{{y:.4g}}<extra></extra>",
        ))
    lay = layout(height=height, xaxis=dict(title=dict(text="update t")),
                 yaxis=dict(title=dict(text="learning rate η_t"), rangemode="tozero"))
    return make_figure(data, lay)


def schedule_caption(curves: Sequence[tuple[str, np.ndarray]]) -> str:
    """Start, peak and end rate of every curve, as text."""
    parts = []
    for label, rates in curves:
        rates = np.asarray(rates)
        peak = int(np.argmax(rates))
        parts.append(f"{label}: starts at {fmt_number(rates[0])}, peaks at "
                     f"{fmt_number(rates[peak])} (update {peak}), ends at {fmt_number(rates[-1])}.")
    return " ".join(parts)
