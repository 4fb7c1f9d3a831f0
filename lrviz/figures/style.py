"""Shared look: a colour-blind-safe palette (Okabe–Ito) and readable, projector-sized fonts."""

from __future__ import annotations

import copy

import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

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
# A minimal white template: Plotly's full one is ~7 kB per figure (and slows every copy);
# in the app Streamlit's theme styles the charts anyway.
_AXIS = dict(gridcolor="#E5E8EE", zerolinecolor="#C9CED8", linecolor="#C9CED8", ticks="")
_WHITE = dict(layout=dict(paper_bgcolor="#FFFFFF", plot_bgcolor="#FFFFFF", xaxis=_AXIS,
                          yaxis=_AXIS, colorway=list(PALETTE)))


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


def layout(*, height: int, title: str | None = None, **extra) -> dict:
    """The `base_layout` settings as a plain dict (for figures built without validation).

    The template is passed as an object (a name would only be resolved by validation).
    Copies of it, because figures may be modified by their callers.
    """
    out = dict(
        template=copy.deepcopy(_WHITE),
        height=height,
        font=dict(size=FONT_SIZE),
        margin=dict(l=60, r=20, t=60 if title else 30, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    if title:
        out["title"] = dict(text=title)
    out.update(extra)
    return out


def make_figure(data: list[dict], layout_: dict, frames: list[dict] | None = None) -> go.Figure:
    """A ``go.Figure`` from plain dicts, skipping Plotly's per-property validation.

    Validation costs ~10x more than building the dicts (60 ms for an animated map), which
    would dominate a rerun; the test suite validates every builder's output instead.
    """
    spec: dict = {"data": data, "layout": layout_}
    if frames:
        return FramedFigure(spec, frames=frames)
    return go.Figure(spec, _validate=False)


class FramedFigure(go.Figure):
    """A ``go.Figure`` whose animation frames stay plain dicts until it is serialised.

    Plotly turns every frame's traces into objects even without validation (~0.2 ms each, so
    25 ms for 120 frames); here they are only copied into ``to_dict()`` (which ``to_json``,
    ``write_html`` and ``st.plotly_chart`` all use). Reading ``.frames`` builds the objects.
    """

    def __init__(self, data=None, layout=None, frames=None, **kwargs):
        if isinstance(data, dict):  # a spec dict, also how copies and pickles come back
            spec = dict(data)
            frames = spec.pop("frames", frames)
            spec.pop("_grid_str", None)
            spec.pop("_grid_ref", None)
            data, layout = spec.get("data"), spec.get("layout", layout)
        super().__init__(data=data, layout=layout, _validate=False, **kwargs)
        self._raw_frames = list(frames or [])

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self._raw_frames:
            frames = copy.deepcopy(self._raw_frames)
            convert_to_base64(frames)
            out["frames"] = frames
        return out

    @property
    def frames(self):
        return go.Figure(self.to_dict(), _validate=False).frames

    @frames.setter
    def frames(self, new_frames) -> None:
        self._raw_frames = [f.to_plotly_json() if hasattr(f, "to_plotly_json") else dict(f)
                            for f in (new_frames or [])]
