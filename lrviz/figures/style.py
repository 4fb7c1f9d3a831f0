"""Shared look: a colour-blind-safe palette (Okabe–Ito) and readable, projector-sized fonts."""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe & Ito (2008): distinguishable with every common form of colour blindness.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
                            "#F0E442", "#000000")

REGIME_COLORS: dict[str, str] = {
    "converged": "#009E73",
    "overshooting": "#56B4E9",
    "local_minimum": "#CC79A7",
    "slow": "#E69F00",
    "stuck": "#999999",
    "oscillating": "#0072B2",
    "diverged": "#D55E00",
}

FONT_SIZE = 16


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 480) -> go.Figure:
    """Common layout: white background, large fonts, legend on top, tight margins."""
    fig.update_layout(
        template="plotly_white",
        title=title,
        height=height,
        font=dict(size=FONT_SIZE),
        margin=dict(l=60, r=20, t=60 if title else 30, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    return fig
