"""Shared look: a colour-blind-safe palette (Okabe–Ito) and readable, projector-sized fonts."""

from __future__ import annotations

import base64
import copy
import marshal

import numpy as np
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
        spec["frames"] = frames
    return SpecFigure(spec)


# --- figures kept as their JSON spec -----------------------------------------------------------

# Plotly.js's names for the typed arrays it decodes from base64.
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "float32": "f4", "float64": "f8"}
# Keys whose arrays Plotly writes as plain lists (axis ranges, map layers).
_PLAIN_KEYS = frozenset({"geojson", "layer", "layers", "range"})


def _narrowed(a: np.ndarray) -> np.ndarray:
    """64-bit integers in the smallest type that holds them (plotly.js has no 64-bit ints)."""
    if a.dtype.kind not in "iu" or a.dtype.itemsize < 8:
        return a
    lo, hi = int(a.min()), int(a.max())
    for kind in ("int8", "int16", "int32") if a.dtype.kind == "i" else ("uint8", "uint16",
                                                                          "uint32"):
        info = np.iinfo(kind)
        if info.min <= lo and hi <= info.max:
            return a.astype(kind)
    return a


def typed_array(a: np.ndarray) -> dict | list:
    """A numpy array as plotly.js's typed-array spec ``{"dtype", "bdata"[, "shape"]}``.

    The same encoding ``go.Figure.to_dict()`` produces (base64 of the raw little-endian bytes);
    arrays plotly.js cannot type (empty, boolean, object, 64-bit integers out of range) are
    plain lists.
    """
    a = _narrowed(np.asarray(a))
    name = _TYPED.get(a.dtype.name)
    if a.size == 0 or name is None or not a.dtype.isnative:
        return a.tolist()
    out = {"dtype": name, "bdata": base64.b64encode(np.ascontiguousarray(a)).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(d) for d in a.shape)
    return out


_LEAVES = frozenset({str, int, float, bool, type(None)})  # copied as they are, not visited


def json_ready(value, key: str = ""):
    """A new copy of a figure's dicts and lists with every numpy value made JSON-ready:
    arrays as `typed_array` (plain lists under ``range``-like keys), scalars as Python numbers.
    """
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _LEAVES else json_ready(v, k) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _LEAVES else json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if key in _PLAIN_KEYS else typed_array(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):  # a dict subclass: walked like a dict
        return {k: json_ready(v, k) for k, v in value.items()}
    if hasattr(value, "to_plotly_json"):  # a Plotly object (go.Scatter(...), a layout, ...)
        return json_ready(value.to_plotly_json(), key)
    return value


def _copied(value):
    """A copy of the dicts and lists of a JSON-ready spec (strings and numbers are shared)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _LEAVES else _copied(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _copied(v) for v in value]
    return value


# What a SpecFigure answers from its spec without building Plotly's objects.
_FROM_SPEC = frozenset({"to_dict", "to_plotly_json", "to_json", "to_html", "write_html",
                        "write_json", "__reduce__", "__reduce_ex__", "__deepcopy__", "__copy__",
                        "__class__", "__dict__", "_spec", "_materialize"})


class SpecFigure(go.Figure):
    """A ``go.Figure`` kept as its finished JSON spec until something reads or edits it.

    Building Plotly's objects costs milliseconds even without validation (an empty
    ``go.Figure()`` ~1 ms for its template, an animated map's frames 25 ms more), and
    ``to_dict()`` then deep-copies and re-encodes every array. A page only sends the figure
    (``st.plotly_chart`` calls ``to_dict()``, as do ``to_json`` and ``to_html``), so this
    figure answers those from its spec - arrays encoded once, at construction - and builds
    the objects on the first other use (``fig.data``, ``fig.update_layout(...)``, ...), after
    which it is an ordinary ``go.Figure``. Pickles and copies come back as SpecFigures.
    """

    def __init__(self, data=None, layout=None, frames=None, **_kwargs):
        if isinstance(data, dict):  # a spec dict (also how pickles and copies come back)
            spec = {k: data[k] for k in ("data", "layout", "frames") if data.get(k)}
        else:
            spec = {"data": data or [], "layout": layout or {}}
            if frames:
                spec["frames"] = frames
        spec.setdefault("data", [])
        spec.setdefault("layout", {})
        object.__setattr__(self, "_spec", json_ready(spec))

    def __getattribute__(self, name: str):
        if name not in _FROM_SPEC and object.__getattribute__(self, "_spec") is not None:
            object.__getattribute__(self, "_materialize")()
        return object.__getattribute__(self, name)

    @classmethod
    def from_json_ready(cls, spec: dict) -> SpecFigure:
        """A figure over a spec that is already JSON-ready (another figure's ``to_dict()``),
        e.g. one kept in a cache: not walked or copied here, and never modified afterwards."""
        figure = cls.__new__(cls)
        object.__setattr__(figure, "_spec", spec)
        return figure

    def _materialize(self) -> None:
        spec = self._spec
        object.__setattr__(self, "_spec", None)
        go.Figure.__init__(self, _copied(spec), _validate=False)

    def to_dict(self) -> dict:
        if self._spec is None:
            return super().to_dict()
        try:  # a JSON-ready spec is plain dicts, lists, strings and numbers: marshal copies
            return marshal.loads(marshal.dumps(self._spec))  # it 3x faster than Python code
        except ValueError:  # something json_ready left as it was (a date, ...)
            return _copied(self._spec)

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def __reduce__(self):
        return (self.__class__, (self.to_dict(),))

    def __copy__(self) -> SpecFigure:
        return self.__class__(self.to_dict())

    def __deepcopy__(self, memo: dict) -> SpecFigure:
        return self.__copy__()
