"""Read numbers back out of a figure's JSON spec (what the browser receives).

Plotly writes numpy arrays as base64 typed arrays (``{"dtype": "f4", "bdata": ..., "shape":
...}``); tests and benchmarks that inspect ``st.plotly_chart``'s spec decode them here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import plotly.graph_objects as go


def array(value: Any) -> np.ndarray:
    """A spec value (typed-array dict or plain list) as a numpy array."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            dims = [int(d) for d in str(shape).split(",")] if isinstance(shape, str) else shape
            data = data.reshape(dims)
        return data
    return np.asarray(value)


def spec(fig: go.Figure | str | dict) -> dict:
    """The JSON spec of a figure as Streamlit sends it (a dict)."""
    if isinstance(fig, dict):
        return fig
    if isinstance(fig, str):
        return json.loads(fig)
    return json.loads(fig.to_json())


def traces(fig: go.Figure | str | dict) -> list[dict]:
    return spec(fig)["data"]


def trace_named(fig: go.Figure | str | dict, fragment: str) -> dict:
    """The first trace whose name contains ``fragment`` (KeyError if none)."""
    for trace in traces(fig):
        if fragment in str(trace.get("name", "")):
            return trace
    raise KeyError(f"no trace named like {fragment!r}")


def json_size(fig: go.Figure) -> int:
    """Bytes of JSON the browser receives for this figure."""
    return len(fig.to_json().encode())
