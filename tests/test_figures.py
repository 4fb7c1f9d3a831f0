"""Figure builders: what a learner sees is what the engine computed (no streamlit involved)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lrviz import RunConfig, simulate, simulate_many
from lrviz.engine.presets import PRESETS
from lrviz.engine.surfaces import get_surface
from lrviz.figures.contour import colour_values, contour_trace, surface_grid
from lrviz.figures.curves import curves_figure, lr_figure, stability_figure
from lrviz.figures.sampling import frame_steps, keep_indices, odd_stride
from lrviz.figures.specs import array, trace_named
from lrviz.figures.specs import spec as raw_spec
from lrviz.figures.style import PALETTE
from lrviz.figures.trajectory import MAX_FRAMES, loss_figure, trajectory_figure

RAVINE = dict(surface="ravine", surface_params={"condition": 20.0, "angle": 30.0},
              start=(-2.5, 1.5), optimizer="sgd", steps=150)


def spec(fig: go.Figure) -> dict:
    """The figure's JSON, after checking that Plotly's validation accepts every property
    (builders skip validation for speed, so the tests do it)."""
    go.Figure(fig.to_dict())
    return raw_spec(fig)


@pytest.fixture(scope="module")
def ravine_runs():
    return simulate_many([RunConfig(lr=0.09, **RAVINE), RunConfig(lr=0.2, **RAVINE)])


def test_trajectory_draws_each_path_exactly(ravine_runs):
    fig = spec(trajectory_figure(ravine_runs, labels=["safe", "too big"]))
    safe = trace_named(fig, "safe")
    big = trace_named(fig, "too big")
    # every step of a 150-step run is drawn, in the palette colours, starting at the start
    np.testing.assert_allclose(array(safe["x"]), ravine_runs[0].points[:, 0], atol=1e-5)
    np.testing.assert_allclose(array(safe["y"]), ravine_runs[0].points[:, 1], atol=1e-5)
    assert safe["line"]["color"] == PALETTE[0] and big["line"]["color"] == PALETTE[1]
    # the legend names the regime the engine diagnosed
    assert "overshooting" in safe["name"] and "diverged" in big["name"]


def test_trajectory_contour_uses_the_runs_surface_parameters():
    flat = simulate(RunConfig(lr=0.01, **{**RAVINE, "surface_params": {"condition": 1.0}}))
    steep = simulate(RunConfig(lr=0.01, **RAVINE))
    z_flat = array(spec(trajectory_figure([flat]))["data"][0]["z"])
    z_steep = array(spec(trajectory_figure([steep]))["data"][0]["z"])
    # condition 1 is a round bowl (f = r^2/2 = 9 at a corner); condition 20 is much steeper
    assert z_flat.max() == pytest.approx(9.0, rel=1e-3)
    assert z_steep.max() > 5 * z_flat.max()


def test_minima_are_marked_global_and_local():
    run = simulate(surface="styblinski_tang", optimizer="sgd", lr=0.01, steps=50,
                   start=(4.0, 4.0))
    minima = trace_named(trajectory_figure([run]), "minimum")
    symbols = minima["marker"]["symbol"]
    assert symbols.count("star") == 1 and symbols.count("star-open") == 3
    i = symbols.index("star")
    assert (array(minima["x"])[i], array(minima["y"])[i]) == pytest.approx((-2.903534,) * 2)


def test_log_colour_only_where_the_surface_needs_it():
    rosen = get_surface("rosenbrock")
    _, _, Z = surface_grid(rosen)
    values, is_log = colour_values(rosen, Z)
    assert is_log and values.max() < 4 and Z.max() > 1000  # 3+ decades squeezed to ~6 units
    bowl = get_surface("bowl")
    _, _, Zb = surface_grid(bowl)
    assert colour_values(bowl, Zb)[1] is False
    assert contour_trace("rosenbrock")["colorbar"]["ticktext"][0].startswith("1e")


def test_animation_frames_move_the_marker_along_the_path(ravine_runs):
    fig = spec(trajectory_figure(ravine_runs[:1], animate=True))
    frames = fig["frames"]
    assert 2 <= len(frames) <= MAX_FRAMES
    marker_index = len(fig["data"]) - 1
    run = ravine_runs[0]
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        step = int(frame["name"])
        assert frame["traces"] == [marker_index]
        xy = (frame["data"][0]["x"][0], frame["data"][0]["y"][0])
        assert xy == pytest.approx(tuple(run.points[step]), abs=1e-4)
    assert int(frames[-1]["name"]) == 150
    play = fig["layout"]["updatemenus"][0]["buttons"][0]
    assert play["args"][1]["frame"]["redraw"] is False
    assert fig["layout"]["xaxis"]["autorange"] is False  # fixed ranges: frames never rescale
    slider = fig["layout"]["sliders"][0]
    assert [s["label"] for s in slider["steps"]] == [f["name"] for f in frames]


def test_long_runs_are_decimated_but_keep_their_zigzag():
    cfg = RunConfig(surface="bowl", optimizer="sgd", lr=1.9, steps=2000, start=(2.5, 2.0))
    run = simulate(cfg)
    fig = trajectory_figure([run], animate=True)
    path = array(spec(fig)["data"][2]["x"])
    assert len(path) <= 1001 and len(fig.frames) <= MAX_FRAMES
    # lr*lambda = 1.9: x flips sign every step; an odd stride keeps the flips
    kept = path[:20]
    assert np.all(np.sign(kept[1:]) != np.sign(kept[:-1]))
    assert len(fig.to_json()) < 250_000


def test_sampling_helpers():
    assert odd_stride(100, 1000) == 1 and odd_stride(2001, 1000) == 3
    idx = keep_indices(5001, 1000, [1234, None, 99999])
    assert idx[0] == 0 and idx[-1] == 5000 and 1234 in idx and len(idx) <= 1003
    regular = idx[(idx != 1234) & (idx != 5000)]
    assert np.all(np.diff(regular) % 2 == 1)  # odd stride
    steps = frame_steps(300, 120)
    assert steps[0] == 0 and steps[-1] == 300 and len(steps) <= 120
    assert list(steps[:41]) == list(range(41))  # every early step has its own frame
    assert list(frame_steps(5, 120)) == [0, 1, 2, 3, 4, 5]


def test_diverged_run_is_marked_where_it_blew_up(ravine_runs):
    big = ravine_runs[1]
    assert big.diverged_at is not None
    fig = spec(trajectory_figure([big]))
    ends = trace_named(fig, "blew up")
    assert any(f"step {big.diverged_at}" in t for t in ends["text"])
    loss = spec(loss_figure([big]))
    assert any("blew up" in t.get("name", "") for t in loss["data"])


def test_loss_figure_is_log_and_shows_the_gap_to_the_minimum():
    run = simulate(surface="styblinski_tang", optimizer="sgd", lr=0.01, steps=100,
                   start=(-4.0, -4.0))
    fig = spec(loss_figure([run]))
    assert fig["layout"]["yaxis"]["type"] == "log"
    y = array(fig["data"][0]["y"])
    np.testing.assert_allclose(y, np.maximum(run.losses + 78.332331, 1e-12), rtol=1e-3,
                               atol=1e-4)
    assert "-78.33" in fig["layout"]["yaxis"]["title"]["text"]


def test_lr_figure_follows_the_schedule():
    run = simulate(surface="bowl", optimizer="sgd", lr=0.1, steps=100, schedule="cosine")
    fig = spec(lr_figure([run]))
    y = array(fig["data"][0]["y"])
    assert y[0] == pytest.approx(0.1) and y[-1] < 0.001
    assert fig["layout"]["yaxis"]["type"] == "linear"
    cut = simulate(PRESETS["plateau-schedule-stall"].config)  # cut by 10x again and again
    fig = spec(lr_figure([cut]))
    assert fig["layout"]["yaxis"]["type"] == "log"
    y = array(fig["data"][0]["y"])
    assert y[0] == pytest.approx(0.5) and y[-1] < 0.005


def test_stability_meter_against_each_optimizers_limit():
    sgd = simulate(surface="bowl", surface_params={"a": 4.0, "b": 1.0}, optimizer="sgd",
                   lr=0.3, steps=30)
    fig = spec(stability_figure([sgd]))
    y = array(fig["data"][0]["y"])
    np.testing.assert_allclose(y, 0.3 * 4.0, rtol=1e-4)  # a quadratic: lambda_max = a
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    assert [s["y0"] for s in lines] == [2.0]
    mom = simulate(surface="bowl", optimizer="momentum", optimizer_params={"momentum": 0.5},
                   lr=0.3, steps=30)
    lines = spec(stability_figure([mom]))["layout"]["shapes"]
    assert [s["y0"] for s in lines] == [pytest.approx(3.0)]  # 2 + 2 mu


def test_labels_must_match_runs(ravine_runs):
    with pytest.raises(ValueError, match="labels"):
        trajectory_figure(ravine_runs, labels=["only one"])
    with pytest.raises(ValueError):
        trajectory_figure([])


def test_curves_figure_stacks_loss_lr_and_stability_on_one_step_axis():
    run = simulate(PRESETS["stability-limit"].runs[1].config)  # lr 0.102 on lambda 20
    fig = spec(curves_figure([run]))
    by_axis = {}
    for t in fig["data"]:
        by_axis.setdefault(t["yaxis"], []).append(t)
    assert set(by_axis) == {"y", "y2", "y3"}
    assert fig["layout"]["yaxis"]["type"] == "log"
    ratio = array(by_axis["y3"][0]["y"])
    assert ratio[0] == pytest.approx(0.102 * 20, rel=1e-3)  # 2.04: just over the limit
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [2.0]
    assert fig["layout"]["xaxis"]["matches"] == "x3"


def test_every_figure_is_small():
    runs = simulate_many([RunConfig(steps=2000, lr=lr) for lr in (0.001, 0.01, 0.1, 1.0)])
    for fig in (trajectory_figure(runs, animate=True), curves_figure(runs)):
        assert len(fig.to_json()) < 300_000


def test_stability_meter_for_adaptive_runs_shows_the_whole_curve_and_says_why_no_limit():
    run = simulate(RunConfig(surface="rosenbrock", optimizer="adam", lr=0.01, steps=100))
    spec = stability_figure([run]).to_plotly_json()
    top = spec["layout"]["yaxis"]["range"][1]
    assert top >= float(run.stability_ratio.max())  # lr x lambda reaches ~21 here
    assert any("adaptive" in a["text"] for a in spec["layout"]["annotations"])
    assert not spec["layout"].get("shapes")
