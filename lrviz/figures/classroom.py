"""The class poll's distribution: how many students predicted each outcome.

Numpy-free and streamlit-free: counts in, a bar chart out. Before the reveal every bar is the
same neutral grey (colour must not hint at the answer); after it the engine's answer is drawn
in its regime colour and labelled, the other bars fade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from lrviz.engine.diagnose import Regime
from lrviz.figures.style import REGIME_COLORS, layout, make_figure

NEUTRAL = "#5B6470"  # 6.3:1 on white: readable on a projector
FADED = "#C9CED8"


def poll_figure(choices: Sequence[str], counts: Mapping[str, int], *,
                answer: str | None = None, height: int = 380) -> go.Figure:
    """Horizontal bars, one per choice in the question's order, each labelled with its count.

    ``answer`` (given once the run is revealed) is marked "✓ the run" and coloured.
    """
    labels = [Regime(c).label for c in choices]
    values = [int(counts.get(c, 0)) for c in choices]
    if answer is None:
        colours = [NEUTRAL] * len(choices)
    else:
        colours = [REGIME_COLORS[c] if c == answer else FADED for c in choices]
        labels = [f"{lab}  ✓ the run" if c == answer else lab
                  for c, lab in zip(choices, labels, strict=True)]
    total = sum(values)
    bar = dict(type="bar", orientation="h", y=labels, x=values, marker=dict(color=colours),
               text=[str(v) for v in values], textposition="outside", cliponaxis=False,
               hovertemplate="%{y}: %{x} predictions<extra></extra>", name="predictions")
    lay = layout(height=height, title=f"{total} prediction{'s' if total != 1 else ''}",
                 xaxis=dict(title="students", rangemode="tozero", dtick=1 if total <= 10
                            else None, range=[0, max(*values, 1) * 1.2]),
                 yaxis=dict(autorange="reversed", automargin=True), showlegend=False)
    lay["margin"] = {**lay["margin"], "l": 20}
    return make_figure([bar], lay)
