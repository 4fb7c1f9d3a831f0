"""/network through AppTest and its pure helpers: the URL reproduces a run, bad links give a
notice naming the parameter, and every figure shows the engine's own numbers."""

from __future__ import annotations

import csv
import io
import json

import jax.numpy as jnp
import numpy as np
import pytest

from lrviz import nets
from lrviz.figures.specs import array, trace_named
from lrviz.nets.model import forward
from lrviz.ui.network import url
from lrviz.ui.network.view import predict_grid, run_csv, run_json

PAGE = "lrviz/ui/pages/network.py"
# Small and quick, and a different structure from the page default so the URL must be read.
SMALL = nets.NetConfig(dataset="circles", hidden=(16,), activation="relu", optimizer="momentum",
                       optimizer_params={"momentum": 0.5}, lr=0.05, steps=60,
                       sharpness_every=5, seed=3)


def page(app_test, **query):
    at = app_test(PAGE, query={k: str(v) for k, v in query.items()}, timeout=300)
    assert not at.exception, at.exception
    return at


def chart(at, key: str) -> dict:
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(key):
            return json.loads(element.proto.spec)
    raise KeyError(key)


def notices(at) -> list[str]:
    return [t.value for t in at.text]


# --- pure URL scheme ---------------------------------------------------------------------------


def test_an_empty_url_is_the_default_run():
    q = url.parse_query({})
    assert q.config == url.DEFAULT and q.preset is None and not q.notices and q.view == "run"


def test_written_params_parse_back_to_the_same_config():
    q = url.parse_query(url.query_params(SMALL))
    assert q.config == SMALL and not q.notices and not q.rejected


@pytest.mark.parametrize("key, value, why", [
    ("lr", "abc", "not a number"),
    ("lr", "50", "outside the allowed range"),
    ("hidden", "0-5", "between 1"),
    ("hidden", "a,b", "layer widths"),
    ("dataset", "mnist", "choose one of"),
    ("batch", "-3", "positive whole number"),
    ("steps", "12.5", "not a whole number"),
    ("momentum", "7", "outside the allowed range"),
    ("tm_n", "1000", "choose one of"),
])
def test_a_bad_value_falls_back_with_a_notice_naming_it(key, value, why):
    q = url.parse_query({"optimizer": "momentum", key: value})
    assert q.rejected == (key,)
    assert len(q.notices) == 1 and f"{key}=" in q.notices[0] and why in q.notices[0]
    assert q.config.optimizer == "momentum"


def test_unknown_keys_and_impossible_combinations_are_reported():
    q = url.parse_query({"colour": "red"})
    assert q.rejected == ("colour",) and "colour" in q.notices[0]
    q = url.parse_query({"optimizer": "adamw", "wd": "0.01"})
    assert "cannot run together" in q.notices[0] and q.config == url.DEFAULT
    q = url.parse_query({"dataset": "moons", "batch": "1000"})  # moons has 400 training points
    assert "cannot run together" in q.notices[0] and q.config == url.DEFAULT


def test_url_text_in_a_notice_is_cut_short():
    q = url.parse_query({"lr": "x" * 500})
    assert len(q.notices[0]) < 200


# --- numbers behind the figures and exports ------------------------------------------------


@pytest.fixture(scope="module")
def small_run() -> nets.NetRun:
    return nets.train(SMALL)


def test_decision_grid_uses_the_engines_forward_pass(small_run):
    xs, ys = np.linspace(-2, 2, 7), np.linspace(-1.5, 1.5, 5)
    got = predict_grid(SMALL, small_run.params, xs, ys)
    gx, gy = np.meshgrid(xs, ys)
    points = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1), jnp.float32)
    params = tuple((jnp.asarray(W), jnp.asarray(b)) for W, b in small_run.params)
    expected = np.asarray(forward(params, points, "relu")).argmax(1).reshape(gx.shape)
    assert got.shape == (5, 7) and np.array_equal(got, expected)


def test_csv_has_one_row_per_step_with_the_engines_numbers(small_run):
    rows = list(csv.DictReader(io.StringIO(run_csv(small_run))))
    assert len(rows) == SMALL.steps + 1
    assert [float(r["train_loss"]) for r in rows] == pytest.approx(small_run.train_loss.tolist())
    assert float(rows[0]["lr"]) == pytest.approx(0.05) and rows[-1]["lr"] == ""
    measured = [float(r["sharpness"]) for r in rows if r["sharpness"]]
    assert measured == pytest.approx(small_run.sharpness.tolist())
    assert rows[5]["sharpness"] and not rows[6]["sharpness"]


def test_json_export_reproduces_the_config(small_run):
    doc = json.loads(run_json(small_run, link="/network?x=1"))
    assert nets.NetConfig(**doc["config"]) == SMALL
    assert doc["regime"] == small_run.regime.value and doc["link"] == "/network?x=1"
    assert doc["train_loss"] == pytest.approx(small_run.train_loss.tolist())


# --- the page ------------------------------------------------------------------------------------


def test_default_page_renders_and_its_figures_show_the_engines_run(app_test):
    at = page(app_test)
    run = nets.train(url.DEFAULT)
    loss = chart(at, "net-loss")
    np.testing.assert_allclose(array(trace_named(loss, "training")["y"]), run.train_loss,
                               rtol=1e-6)
    np.testing.assert_allclose(array(trace_named(loss, "validation")["y"]), run.val_loss,
                               rtol=1e-6)
    sharp = chart(at, "net-sharp")
    np.testing.assert_allclose(array(trace_named(sharp, "sharpness")["y"]), run.sharpness,
                               rtol=1e-6)
    limit = array(trace_named(sharp, "2 / learning rate")["y"])
    np.testing.assert_allclose(limit, 2 / url.DEFAULT.lr, rtol=1e-6)
    boundary = chart(at, "net-boundary")
    assert boundary["data"][0]["type"] == "heatmap"
    assert any(run.explanation in m.value for m in at.markdown)


def test_a_full_url_reproduces_that_run(app_test):
    at = page(app_test, **url.query_params(SMALL))
    assert not notices(at)
    assert at.selectbox(key="dataset").value == "circles"
    assert at.selectbox(key="hidden").value == "16"
    assert at.number_input(key="momentum").value == pytest.approx(0.5)
    run = nets.train(SMALL)
    loss = chart(at, "net-loss")
    np.testing.assert_allclose(array(trace_named(loss, "training")["y"]), run.train_loss,
                               rtol=1e-6)
    link = next(c.value for c in at.code if c.value.startswith("/network?"))
    assert url.parse_query(dict(pair.split("=", 1) for pair in link.split("?", 1)[1]
                                .split("&"))).config == SMALL


def test_a_bad_url_value_gives_a_notice_and_the_fallback(app_test):
    at = page(app_test, lr="fast", hidden="64-32")
    assert any("lr='fast'" in n and "not a number" in n for n in notices(at))
    assert at.number_input(key="lr").value == pytest.approx(url.DEFAULT.lr)
    assert at.selectbox(key="hidden").value == "64-32"  # the usable value is kept


def test_a_preset_url_loads_the_preset_and_its_companion_runs(app_test):
    preset = url.net_presets()["edge-of-stability"]
    at = page(app_test, preset="edge-of-stability")
    cfg = preset.config
    assert not notices(at)
    assert at.selectbox(key="dataset").value == cfg.dataset
    assert at.selectbox(key="loss").value == cfg.loss
    assert at.number_input(key="lr").value == pytest.approx(cfg.lr)
    assert any(preset.title in m.value and preset.expected in m.value for m in at.info)
    run = nets.train(cfg)
    np.testing.assert_allclose(array(trace_named(chart(at, "net-loss"), "training")["y"]),
                               run.train_loss, rtol=1e-6)
    compare = chart(at, "net-preset-compare")
    for label, variant in preset.variants:
        np.testing.assert_allclose(array(trace_named(compare, f"{label}: training")["y"]),
                                   nets.train(variant).train_loss, rtol=1e-6)


def test_view_settings_come_from_the_preset_unless_the_url_sets_them():
    q = url.parse_query({"preset": "range-test-vs-sweep"})
    assert q.view == "range" and q.view_defaults["view"] == "range"
    assert q.map_settings["rt_hi"] == pytest.approx(np.log10(30.0), abs=1e-3)
    assert q.map_settings["sw_n"] == 25
    q = url.parse_query({"preset": "trainability-map", "tm_n": "16", "view": "run"})
    assert q.view == "run" and q.map_settings["tm_n"] == "16"
    assert q.view_defaults["tm_n"] == "128" and q.view_defaults["tm_ex"] == 16


# --- the trainability map ----------------------------------------------------------------------


def test_boundary_point_is_a_trained_cell_next_to_a_diverged_one():
    from lrviz.ui.network.view import boundary_point

    lrs = np.array([0.01, 0.1, 1.0, 10.0])
    diverged = np.array([[False, False, True, True]] * 4)  # rows: layer 2, columns: layer 1
    lr1, lr2 = boundary_point(diverged, lrs, lrs)
    assert lr1 == 0.1 and lr2 in lrs  # column 1 trained, column 2 diverged
    assert boundary_point(np.zeros((4, 4), bool), lrs, lrs) is None


def test_map_view_shows_the_engines_grid_and_zooms_on_the_boundary(app_test):
    at = page(app_test, view="map", tm_n="16", tm_steps="40", loss="mse", tm_lo1="-2",
              tm_hi1="1", tm_lo2="-2", tm_hi2="1")
    lrs = np.logspace(-2, 1, 16)
    expected = nets.trainability_map(url.DEFAULT.with_(loss="mse", steps=40), lrs, lrs)
    spec = chart(at, "net-map")
    shown = array(trace_named(spec, "diverged")["z"])
    np.testing.assert_array_equal(np.isfinite(shown), expected.diverged)
    assert 0 < expected.diverged.mean() < 1  # the range holds a boundary
    np.testing.assert_allclose(array(spec["data"][0]["x"]), np.log10(lrs), rtol=1e-9)
    at.button(key="tm_zoom_in").click().run()
    assert not at.exception
    lo, hi = at.number_input(key="tm_lo1").value, at.number_input(key="tm_hi1").value
    assert hi - lo == pytest.approx(3 / 4, abs=2e-3) and (lo + hi) / 2 == pytest.approx(-0.5)


# --- the range test beside the sweep ---------------------------------------------------------


def test_range_view_shows_the_engines_range_test_and_sweep(app_test):
    at = page(app_test, view="range", dataset="digits", steps="50", rt_lo="-3", rt_hi="1",
              rt_steps="100", sw_lo="-2", sw_hi="1.5", sw_n="12")
    cfg = url.DEFAULT.with_(dataset="digits", steps=50, sharpness_every=0)
    test = nets.range_test(cfg, 1e-3, 10.0, 100)
    sweep = nets.lr_sweep(cfg, np.logspace(-2, 1.5, 12))
    spec = chart(at, "net-range")
    np.testing.assert_allclose(array(trace_named(spec, "smoothed")["y"]), test.smoothed,
                               rtol=1e-6)
    ok = np.array([r.value != "diverged" for r in sweep.regimes])
    np.testing.assert_allclose(array(trace_named(spec, "final loss")["y"]),
                               sweep.final_loss[ok], rtol=1e-6)
    assert len(array(trace_named(spec, "sweep: diverged")["x"])) == int((~ok).sum())
    if test.steepest is not None:
        assert any(f"{test.steepest:.3g}" in m.value for m in at.markdown)
