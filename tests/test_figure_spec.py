"""SpecFigure: a figure kept as its JSON spec sends exactly what Plotly itself would send."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import plotly.graph_objects as go
import pytest

from lrviz import RunConfig, simulate_many
from lrviz.figures.curves import curves_figure
from lrviz.figures.specs import array
from lrviz.figures.style import SpecFigure, make_figure, typed_array
from lrviz.figures.trajectory import trajectory_figure


def plotly_json(spec: dict) -> dict:
    """The JSON Plotly's own Figure produces from the same dicts (no validation, as the app)."""
    return json.loads(go.Figure(copy.deepcopy(spec), _validate=False).to_json())


@pytest.fixture(scope="module")
def runs():
    return simulate_many([RunConfig(lr=0.09), RunConfig(lr=3.0)])


def test_lab_figures_send_what_plotly_would(runs):
    for fig in (trajectory_figure(runs, labels=["a", "b"], animate=True, clickable=True),
                curves_figure(runs)):
        sent = json.loads(fig.to_json())
        assert sent == plotly_json(fig.to_dict()) and len(sent["data"]) >= 3
        go.Figure(fig.to_dict())  # and Plotly's validation accepts every property


@pytest.mark.parametrize("values", [
    np.arange(5, dtype=np.int64),             # narrowed to int8, as Plotly does
    np.arange(70_000, dtype=np.int64),        # int32
    np.array([2**40, 1], dtype=np.int64),     # no 32-bit type holds it: a plain list
    np.linspace(0, 1, 7, dtype=np.float32),
    np.array([1.5, np.nan, -2.0]),            # NaN gaps survive
    np.arange(6, dtype=np.uint16).reshape(2, 3),
    np.array([True, False]),
    np.array([], dtype=np.float64),
])
def test_arrays_are_encoded_as_plotly_encodes_them(values):
    spec = {"data": [{"type": "scatter", "x": values, "y": [1, 2]}],
            "layout": {"xaxis": {"range": np.array([0.0, 2.0])}, "template": {"layout": {}}}}
    ours = json.loads(make_figure(spec["data"], spec["layout"]).to_json())
    assert ours == plotly_json(spec)
    np.testing.assert_array_equal(array(ours["data"][0]["x"]), values)
    assert ours["layout"]["xaxis"]["range"] == [0.0, 2.0]  # ranges stay plain lists


def test_typed_array_round_trips_through_the_spec_reader():
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    encoded = typed_array(grid)
    assert encoded["dtype"] == "f4" and encoded["shape"] == "3, 4"
    np.testing.assert_array_equal(array(encoded), grid)


def test_reading_or_editing_builds_a_normal_figure(runs):
    fig = trajectory_figure(runs[:1], animate=True)
    frames = len(json.loads(fig.to_json())["frames"])
    assert len(fig.frames) == frames > 1 and fig.data[0].type == "scatter"
    fig.update_layout(height=123)
    fig.add_trace(go.Scatter(x=[0], y=[0], name="added"))
    sent = json.loads(fig.to_json())
    assert sent["layout"]["height"] == 123 and sent["data"][-1]["name"] == "added"


def test_copies_and_pickles_stay_spec_figures_and_are_independent(runs):
    fig = curves_figure(runs)
    for twin in (pickle.loads(pickle.dumps(fig)), copy.deepcopy(fig), copy.copy(fig)):
        assert type(twin) is SpecFigure and twin.to_dict() == fig.to_dict()
    out = fig.to_dict()
    out["layout"]["height"] = 1
    out["data"][0]["line"]["color"] = "red"
    assert fig.to_dict()["layout"]["height"] != 1  # to_dict hands out a copy
    assert fig.to_dict()["data"][0]["line"]["color"] != "red"


def test_a_cached_spec_is_shared_but_never_modified(runs):
    spec = trajectory_figure(runs[:1]).to_dict()
    before = json.dumps(spec, sort_keys=True)
    first = SpecFigure.from_json_ready(spec)
    first.update_layout(title="edited")  # builds its own objects from a copy
    second = SpecFigure.from_json_ready(spec)
    assert json.dumps(spec, sort_keys=True) == before
    assert "title" not in second.to_dict()["layout"]
