"""The lab's pure pieces: remedies that really help, exports that hold the run, captions."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from lrviz import RunConfig, simulate
from lrviz.engine.diagnose import Regime
from lrviz.engine.presets import PRESETS
from lrviz.figures.captions import curves_caption, first_crossing, map_caption
from lrviz.figures.trajectory import trajectory_figure
from lrviz.ui.lab.export import figure_html, runs_csv, runs_json
from lrviz.ui.lab.remedies import remedies
from lrviz.ui.state import LR_OPTIONS, nearest_lr_option


def _run(preset: str, k: int = 0):
    return simulate(PRESETS[preset].runs[k].config)


def _keys(run) -> list[str]:
    return [r.key for r in remedies(run)]


def test_remedies_for_divergence_actually_rescue_the_run():
    run = _run("divergence")
    assert run.regime is Regime.DIVERGED
    offered = {r.key: r for r in remedies(run)}
    assert "halve" in offered and "warmup" in offered
    halved = simulate(offered["halve"].apply(run.config))
    assert halved.config.lr == pytest.approx(0.0015)
    assert halved.regime is not Regime.DIVERGED


def test_warmup_remedy_matches_the_warmup_preset():
    run = _run("warmup")
    remedy = next(r for r in remedies(run) if r.key == "warmup")
    fixed = simulate(remedy.apply(run.config))
    assert fixed.config.schedule == "warmup_cosine"
    assert fixed.regime is not Regime.DIVERGED


def test_momentum_is_offered_only_below_its_wider_limit():
    edge = _run("stability-limit", 1)  # lr x lambda = 2.04 < 3.8: momentum helps
    assert edge.regime is Regime.DIVERGED and "momentum" in _keys(edge)
    far = simulate(RunConfig(surface="bowl", optimizer="sgd", lr=5.0, steps=50))
    assert far.regime is Regime.DIVERGED and "momentum" not in _keys(far)  # 5 > 3.8


def test_slow_stuck_and_converged_remedies():
    slow = _run("slow")
    assert {"double", "momentum", "more-steps"} <= set(_keys(slow))
    saddle = _run("saddle")
    assert "noise" in _keys(saddle)
    kicked = simulate(next(r for r in remedies(saddle) if r.key == "noise")
                      .apply(saddle.config))
    # off the ridge and well on the way down (the saddle sits at loss 0, the minima at -1)
    assert kicked.regime in (Regime.SLOW, Regime.CONVERGED)
    assert kicked.final_loss < -0.5 < saddle.final_loss
    plateau = _run("plateau")
    assert "adam" in _keys(plateau)
    assert remedies(_run("slow", 1)) == []  # converged: nothing to fix


def test_csv_export_has_every_step_of_every_run():
    runs = [_run("one-step", k) for k in range(3)]
    labels = ["a", "b", "c"]
    rows = list(csv.DictReader(io.StringIO(runs_csv(runs, labels))))
    assert len(rows) == sum(len(r.points) for r in runs)
    first_b = next(r for r in rows if r["run"] == "b")
    assert float(first_b["x"]) == pytest.approx(runs[1].points[0, 0])
    assert float(first_b["lr"]) == pytest.approx(1.5)
    assert float(first_b["lr_times_lambda_max"]) == pytest.approx(1.5, rel=1e-4)


def test_json_export_round_trips_the_config():
    run = _run("overshoot")
    doc = json.loads(runs_json([run], ["x"], link="/lab?preset=overshoot"))
    assert doc["link"] == "/lab?preset=overshoot"
    record = doc["runs"][0]
    assert RunConfig.model_validate(record["config"]) == run.config
    assert record["regime"] == "overshooting"
    np.testing.assert_allclose(record["losses"], run.losses)


def test_html_export_is_standalone_and_animated():
    run = _run("overshoot")
    html = figure_html(trajectory_figure([run], animate=True), title="t")
    assert 'src="http' not in html and "<title>t</title>" in html  # no CDN script
    assert len(html) > 1_000_000  # plotly.js itself is inside
    assert "Plotly.addFrames" in html  # the animation travels too...
    assert "Plotly.animate" not in html  # ...and waits for Play


def test_captions_state_what_happened():
    run = _run("stability-limit", 1)
    text = map_caption([run], ["fast"])
    assert f"blew up at step {run.diverged_at}" in text and "diverged" in text
    k = first_crossing(run)
    assert k == 0  # 0.102 x 20 = 2.04 > 2 from the very first step
    assert "above the limit 2 first at update 0" in curves_caption([run], ["fast"])
    adam = simulate(RunConfig(steps=50))
    assert "no fixed limit" in curves_caption([adam], ["adam"])


def test_log_slider_stops():
    assert LR_OPTIONS[0] == 1e-5 and LR_OPTIONS[-1] == 10.0 and len(LR_OPTIONS) == 121
    assert nearest_lr_option(0.01) == 0.01
    assert nearest_lr_option(0.0015) == 0.00158
    assert nearest_lr_option(1e-9) == 1e-5


def test_shared_figure_spec_survives_sending_presenting_and_downloading():
    """Every session gets the same cached map spec: sending it to the browser (what
    ``st.plotly_chart`` does), resizing it for presenter mode and the HTML download must
    leave it as it was, or the next session would see another session's map."""
    import copy

    import plotly.io
    import plotly.tools

    from lrviz.ui import presenter
    from lrviz.ui.lab import runs

    run = simulate(RunConfig(lr=0.0371))
    options = dict(labels=["now"], height=640, animate=True, colorbar=False, clickable=True)
    first = runs.trajectory_figure([run], **options)
    before = copy.deepcopy(first.to_dict())
    sent = plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(first, True),
                             validate=False)
    assert json.loads(sent)["layout"]["height"] == 640
    assert "<html>" in figure_html(first).lower()
    presented = runs.trajectory_figure([run], **options)
    presenter.fit_map(presented, [(run.regime.label, "now")])
    assert presented.to_dict()["layout"]["height"] == presenter.STAGE_HEIGHT != 640
    again = runs.trajectory_figure([run], **options)
    assert again.to_dict() == before
    assert again.to_dict()["layout"]["height"] == 640
