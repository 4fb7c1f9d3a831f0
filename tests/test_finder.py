"""/finder through AppTest and its figures: the range test agrees with lr_sweep and the
curvature's 2/lambda bound; the phase map colours lr x parameter by regime in one batch."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from lrviz import RunConfig, lr_sweep, phase_map
from lrviz.engine.diagnose import Regime
from lrviz.figures.finder import phase_map_figure, range_test_figure
from lrviz.figures.specs import array
from lrviz.figures.style import REGIME_COLORS
from lrviz.ui.urlstate import parse_lab_query

PAGE = "lrviz/ui/pages/finder.py"


def page(app_test, **query):
    at = app_test(PAGE, query={k: str(v) for k, v in query.items()})
    assert not at.exception, at.exception
    return at


def chart(at, key: str) -> dict:
    element = next(e for e in at.get("plotly_chart") if key in e.proto.id)
    return json.loads(element.proto.spec)


def markers(spec: dict) -> dict[str, np.ndarray]:
    return {t["name"]: array(t["x"]) for t in spec["data"] if t.get("mode") == "markers"}


def test_range_test_matches_the_sweep_and_the_theory_line(app_test):
    at = page(app_test, optimizer="sgd", surface="bowl", a=4, b=1, points=30, steps=100)
    spec = chart(at, "finder_curve")
    cfg = RunConfig(surface="bowl", surface_params={"a": 4.0, "b": 1.0}, optimizer="sgd",
                    steps=100)
    lrs = np.logspace(-4, 1, 30)
    sweep = lr_sweep(cfg, lrs)
    by_regime = markers(spec)
    for regime in set(sweep.regimes):
        expected = np.sort(lrs[[r is regime for r in sweep.regimes]])
        np.testing.assert_allclose(np.sort(by_regime[regime.label]), expected, rtol=1e-6)
    # lambda_max = a = 4 everywhere on the bowl: one line at 2/4, for start and minimum alike
    lines = [s["x0"] for s in spec["layout"]["shapes"] if s["line"]["dash"] != "solid"]
    assert lines == [pytest.approx(0.5)]
    notes = [a["text"] for a in spec["layout"]["annotations"]]
    assert any("2/λ_max at minimum and start" in n for n in notes)
    # every diverged rate lies above the line, every converged one below it
    assert by_regime["diverged"].min() > 0.5
    assert by_regime["converged"].max() < 0.5
    suggested = [s["x0"] for s in spec["layout"]["shapes"] if s["line"]["dash"] == "solid"]
    assert suggested == [pytest.approx(sweep.suggested_lr)]


def test_range_controls_change_the_sweep(app_test):
    at = page(app_test)
    at.slider(key="points").set_value(20).run()
    assert sum(len(v) for v in markers(chart(at, "finder_curve")).values()) == 20
    at.number_input(key="lr_min").set_value(0.001).run()
    at.number_input(key="lr_max").set_value(0.1).run()
    xs = np.concatenate(list(markers(chart(at, "finder_curve")).values()))
    assert xs.min() == pytest.approx(0.001) and xs.max() == pytest.approx(0.1)


def test_adaptive_optimizer_has_no_theory_line(app_test):
    at = page(app_test, optimizer="adam")
    spec = chart(at, "finder_curve")
    assert all(s["line"]["dash"] == "solid" for s in spec["layout"]["shapes"])
    assert any("no fixed curvature bound" in c.value for c in at.caption)


def test_open_in_lab_links_carry_the_run(app_test):
    at = page(app_test, optimizer="sgd", surface="bowl", a=4, b=1, points=30, steps=100)
    links = [e for e in at.get("page_link")]
    assert links, "the finder offers links into the lab"
    href = links[0].proto.page  # the page path; query params travel in query_string
    assert "lab" in href
    query = parse_qs(urlparse("/lab?" + links[0].proto.query_string).query)
    parsed = parse_lab_query({k: v[-1] for k, v in query.items()})
    assert parsed.notices == ()
    assert parsed.config.surface == "bowl" and parsed.config.optimizer == "sgd"


def test_phase_map_over_momentum_follows_the_two_plus_two_mu_bound(app_test):
    at = page(app_test, points=40, rows=6)
    spec = chart(at, "finder_phase")
    heat = spec["data"][0]
    z = array(heat["z"]).reshape(len(array(heat["y"])), -1)
    assert z.shape == (6, 40)
    theory = next(t for t in spec["data"] if t.get("name", "").startswith("theory"))
    xs, ys = np.asarray(theory["x"], float), np.asarray(theory["y"], float)
    # lambda_max = 20 on the default ravine: (2 + 2 mu)/20 at every mu
    np.testing.assert_allclose(10 ** xs, (2 + 2 * ys) / 20, rtol=1e-3)
    at.selectbox(key="phase_param").set_value("momentum").run()
    assert not at.exception


def test_phase_map_needs_a_parameter(app_test):
    at = page(app_test, optimizer="sgd")
    assert any("no other knob" in i.value for i in at.info)
    at.selectbox(key="schedule").set_value("exponential").run()
    spec = chart(at, "finder_phase")
    assert spec["layout"]["yaxis"]["title"]["text"] == "gamma"


def test_figures_use_regime_colours_and_theory():
    cfg = RunConfig(surface="bowl", optimizer="momentum", steps=60)
    lrs = np.logspace(-2, 1, 12)
    pm = phase_map(cfg, lrs, "optimizer", "momentum", [0.0, 0.5, 0.9])
    fig = phase_map_figure(pm, boundary=lambda mu: (2 + 2 * mu) / 1.0).to_dict()
    legend = {t["name"]: t["marker"]["color"] for t in fig["data"][1:] if t.get("mode") ==
              "markers"}
    for name, color in legend.items():
        assert REGIME_COLORS[Regime(name.replace(" ", "_")).value] == color
    # on a bowl of curvature 1 with mu = 0, lr = 2.15 (> 2) diverges and lr = 1 converges
    row0 = pm.regimes[0]
    assert row0[list(lrs).index(lrs[lrs > 2][0])] is Regime.DIVERGED
    sweep = lr_sweep(cfg.with_(optimizer="sgd"), lrs)
    spec = range_test_figure(sweep, lines={"2/λ_max": 2.0}).to_dict()
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert any(s["x0"] == 2.0 for s in spec["layout"]["shapes"])


def test_url_sets_the_finder_and_bad_values_give_notices(app_test):
    at = page(app_test, points=25, lr_min=0.001, lr_max=1, optimizer="adam",
              phase_param="beta2", rows=5)
    assert at.slider(key="points").value == 25
    assert at.selectbox(key="phase_param").value == "beta2"
    xs = np.concatenate(list(markers(chart(at, "finder_curve")).values()))
    assert len(xs) == 25 and xs.min() == pytest.approx(0.001)
    bad = page(app_test, points=7, phase_param="zzz", lr_min="x", optimizer="adam")
    text = " ".join(w.value for w in bad.warning)
    assert "points=" in text and "phase_param=" in text and "lr_min=" in text
    assert bad.slider(key="points").value == 60
