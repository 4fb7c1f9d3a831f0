"""/lab through AppTest: controls change the figures they should, the URL drives the controls,
bad links give notices (never exceptions), and every preset shows the regime it promises."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from lrviz import RunConfig, simulate
from lrviz.engine.presets import PRESETS
from lrviz.figures.specs import array
from lrviz.ui.urlstate import DEFAULT_CONFIG, parse_lab_query

LAB = "lrviz/ui/pages/lab.py"


def lab(app_test, **query):
    at = app_test(LAB, query={k: str(v) for k, v in query.items()})
    assert not at.exception, at.exception
    return at


def surface_values(spec: dict) -> np.ndarray:
    """The loss on the map's hover/click grid (it spans the domain, corners included)."""
    grid = next(t for t in spec["data"] if t.get("name") == "click to start here")
    return array(grid["customdata"])


def chart(at, key: str) -> dict:
    """The spec of the chart with this key (lab_map, lab_curves, lab_3d)."""
    for element in at.get("plotly_chart"):
        if element.proto.id and key in element.proto.id:
            return json.loads(element.proto.spec)
    raise KeyError(f"no chart {key!r}")


def paths(at, key: str = "lab_map") -> list[dict]:
    return [t for t in chart(at, key)["data"] if t.get("mode") == "lines+markers"]


def all_paths(at) -> list[dict]:
    """Paths on every map of the page (pins on other surfaces get maps of their own)."""
    return [t for e in at.get("plotly_chart") if "lab_map" in e.proto.id
            for t in json.loads(e.proto.spec)["data"] if t.get("mode") == "lines+markers"]


def path_xy(at, k: int = 0) -> np.ndarray:
    t = paths(at)[k]
    return np.stack([array(t["x"]), array(t["y"])], axis=1)


def panel(at, axis: str) -> list[dict]:
    """Traces of one panel of the stacked curves: y (loss), y2 (lr), y3 (lr x lambda_max)."""
    return [t for t in chart(at, "lab_curves")["data"] if t["yaxis"] == axis]


def badge(at) -> str:
    return next(m.value for m in at.markdown if "-badge[" in m.value)


def rerun(changed):
    """Run the app after a widget change (``changed`` is the widget or the AppTest)."""
    at = changed.run()
    assert not at.exception, at.exception
    return at


# --- the default view ------------------------------------------------------------------------


def test_default_lab_shows_the_default_run(app_test):
    at = lab(app_test)
    expected = simulate(DEFAULT_CONFIG)
    np.testing.assert_allclose(path_xy(at), expected.points, atol=1e-4)
    assert expected.regime.label.upper() in badge(at)
    assert any(expected.explanation[:40] in m.value for m in at.markdown)
    spec = chart(at, "lab_map")
    assert spec["frames"] and spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    assert len(at.get("plotly_chart")) == 2  # no 3D view unless asked for
    captions = " ".join(c.value for c in at.caption)
    assert "started at (-1.50, 2.00)" in captions and "stability" in captions.lower()


# --- each control changes the figure it should -----------------------------------------------


def test_lr_number_input_moves_path_and_lr_panel(app_test):
    at = lab(app_test, optimizer="sgd", lr=0.001)
    before = path_xy(at)
    rerun(at.number_input(key="lr").set_value(0.0015))
    after = path_xy(at)
    assert not np.allclose(before, after)
    assert array(panel(at, "y2")[0]["y"])[0] == pytest.approx(0.0015)
    assert at.select_slider(key="lr_log").value == pytest.approx(0.00158)  # nearest stop


def test_log_slider_sets_the_exact_rate(app_test):
    at = lab(app_test, optimizer="sgd", lr=0.001)
    rerun(at.select_slider(key="lr_log").set_value(0.00316))
    assert at.number_input(key="lr").value == pytest.approx(0.00316)
    assert array(panel(at, "y2")[0]["y"])[0] == pytest.approx(0.00316)
    assert "DIVERGED" in badge(at)  # 2/lambda_max ~ 0.002 on Rosenbrock's wall


def test_surface_and_its_parameters_change_the_contour(app_test):
    at = lab(app_test, surface="ravine")
    z_20 = surface_values(chart(at, "lab_map"))
    rerun(at.number_input(key="condition").set_value(200.0))
    z_200 = surface_values(chart(at, "lab_map"))
    assert z_200.max() > 5 * z_20.max()
    rerun(at.number_input(key="angle").set_value(-30.0))
    assert not np.allclose(surface_values(chart(at, "lab_map")), z_200)
    # switching the surface resets the start to the new surface's own start
    rerun(at.selectbox(key="surface").set_value("himmelblau"))
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (0.0, 0.0)
    assert path_xy(at)[0] == pytest.approx((0.0, 0.0))
    minima = next(t for t in chart(at, "lab_map")["data"] if "minimum" in t.get("name", ""))
    assert len(minima["x"]) == 4


def test_shared_parameter_names_take_each_surfaces_default(app_test):
    at = lab(app_test, surface="bowl", b=5)
    assert at.number_input(key="b").value == 5.0
    rerun(at.selectbox(key="surface").set_value("rosenbrock"))
    assert at.number_input(key="b").value == 100.0  # Rosenbrock's b, not the bowl's


def test_start_point_inputs_move_the_start(app_test):
    at = lab(app_test)
    rerun(at.number_input(key="x0").set_value(1.5))
    rerun(at.number_input(key="y0").set_value(-0.5))
    assert path_xy(at)[0] == pytest.approx((1.5, -0.5))


def test_optimizer_and_its_hyperparameters(app_test):
    at = lab(app_test, surface="ravine", optimizer="sgd", lr=0.01)
    sgd = path_xy(at)
    rerun(at.selectbox(key="optimizer").set_value("momentum"))
    assert at.number_input(key="momentum").value == 0.9
    heavy = path_xy(at)
    assert not np.allclose(sgd, heavy)
    rerun(at.number_input(key="momentum").set_value(0.5))
    assert not np.allclose(path_xy(at), heavy)
    limits = [s["y0"] for s in chart(at, "lab_curves")["layout"]["shapes"]]
    assert limits == [pytest.approx(3.0)]  # the meter's threshold is 2 + 2 mu


def test_schedule_and_its_parameters_shape_the_lr_panel(app_test):
    at = lab(app_test, optimizer="sgd", lr=0.001)
    assert np.ptp(array(panel(at, "y2")[0]["y"])) == 0
    rerun(at.selectbox(key="schedule").set_value("exponential"))
    lrs = array(panel(at, "y2")[0]["y"])
    assert lrs[-1] == pytest.approx(0.001 * 0.99 ** 299, rel=1e-3)
    rerun(at.number_input(key="gamma").set_value(0.95))
    assert array(panel(at, "y2")[0]["y"])[1] == pytest.approx(0.001 * 0.95, rel=1e-4)


def test_steps_and_noise(app_test):
    at = lab(app_test, surface="bowl", optimizer="sgd", lr=0.1)
    rerun(at.slider(key="steps").set_value(120))
    assert len(path_xy(at)) == 121
    assert int(chart(at, "lab_map")["frames"][-1]["name"]) == 120
    clean = path_xy(at)
    rerun(at.slider(key="noise").set_value(0.5))
    noisy = path_xy(at)
    assert not np.allclose(clean, noisy)
    rerun(at.number_input(key="seed").set_value(3))
    assert not np.allclose(noisy, path_xy(at))


def test_3d_view_on_request(app_test):
    at = lab(app_test)
    rerun(at.toggle(key="view3d").set_value(True))
    spec = chart(at, "lab_3d")
    assert spec["data"][0]["type"] == "surface" and spec["data"][1]["type"] == "scatter3d"


# --- the URL drives the controls ---------------------------------------------------------------


def test_url_sets_every_control(app_test):
    at = lab(app_test, surface="ravine", optimizer="momentum", lr=0.05, schedule="cosine",
             steps=200, x0=1, y0=-2, condition=50, angle=10, momentum=0.5, eta_min=0.001)
    assert at.selectbox(key="surface").value == "ravine"
    assert at.selectbox(key="optimizer").value == "momentum"
    assert at.selectbox(key="schedule").value == "cosine"
    assert at.number_input(key="lr").value == 0.05
    assert at.slider(key="steps").value == 200
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (1.0, -2.0)
    assert at.number_input(key="condition").value == 50
    assert at.number_input(key="momentum").value == 0.5
    assert at.number_input(key="eta_min").value == 0.001
    cfg = RunConfig(surface="ravine", optimizer="momentum", lr=0.05, schedule="cosine",
                    steps=200, start=(1.0, -2.0), surface_params={"condition": 50, "angle": 10},
                    optimizer_params={"momentum": 0.5}, schedule_params={"eta_min": 0.001})
    np.testing.assert_allclose(path_xy(at), simulate(cfg).points, atol=1e-4)


@pytest.mark.parametrize(("query", "named"), [
    ({"lr": "abc"}, "lr"),
    ({"lr": "1e9"}, "lr"),
    ({"surface": "moon"}, "surface"),
    ({"steps": "-4"}, "steps"),
    ({"x0": "inf"}, "x0"),
    ({"preset": "no-such-preset"}, "preset"),
    ({"frobnicate": "1"}, "frobnicate"),
    ({"pins": "lr:zzz"}, "lr"),
])
def test_malformed_url_values_fall_back_with_a_notice(app_test, query, named):
    at = lab(app_test, **query)
    warnings = " ".join(w.value for w in at.warning)
    assert named in warnings
    # the control shows the default and the run is the default run
    assert at.number_input(key="lr").value == DEFAULT_CONFIG.lr
    assert at.selectbox(key="surface").value == DEFAULT_CONFIG.surface
    rerun(at.button(key="lab_dismiss").click())
    assert not at.warning


def test_share_link_reproduces_the_view(app_test):
    at = lab(app_test, preset="momentum-ravine")
    rerun(at.number_input(key="lr").set_value(0.02))
    link = next(c.value for c in at.code if "/lab?" in c.value)
    query = {k: v if k == "pins" else v[-1]
             for k, v in parse_qs(urlparse(link).query).items()}
    assert query["preset"] == "momentum-ravine" and query["lr"] == "0.02"
    again = lab(app_test, **{k: v for k, v in query.items() if k != "pins"})
    np.testing.assert_allclose(path_xy(again), path_xy(at), atol=1e-6)
    assert len(paths(again)) == len(paths(at)) == 3
    parsed = parse_lab_query(query)
    assert parsed.config.lr == 0.02 and not parsed.notices


# --- presets, remedies, pins ---------------------------------------------------------------------


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_every_preset_shows_the_regime_its_caption_promises(app_test, preset_id):
    preset = PRESETS[preset_id]
    at = lab(app_test, preset=preset_id)
    assert preset.runs[0].expect.label.upper() in badge(at)
    assert any(preset.caption in i.value for i in at.info)
    names = [t["name"] for t in all_paths(at)]
    assert len(names) == len(preset.runs)
    assert len(panel(at, "y2")) == len(preset.runs)  # every run on the curves
    for run, name in zip(preset.runs[1:], names[1:], strict=True):
        assert name == f"{run.label} — {run.expect.label}"


def test_preset_picker_loads_in_one_choice(app_test):
    at = lab(app_test)
    rerun(at.selectbox(key="preset_pick").select("stability-limit"))
    assert at.query_params["preset"] == ["stability-limit"] or at.query_params[
        "preset"] == "stability-limit"
    assert at.number_input(key="lr").value == 0.098
    assert at.selectbox(key="surface").value == "ravine"
    assert "OVERSHOOTING" in badge(at)
    assert [t["name"] for t in paths(at)][1] == "SGD, lr 0.102 — diverged"


def test_remedy_halves_the_learning_rate(app_test):
    at = lab(app_test, preset="divergence")
    assert "DIVERGED" in badge(at)
    rerun(at.button(key="remedy_halve").click())
    assert at.number_input(key="lr").value == pytest.approx(0.0015)
    assert "DIVERGED" not in badge(at)


def test_remedy_adds_warmup(app_test):
    at = lab(app_test, preset="warmup")
    rerun(at.button(key="remedy_warmup").click())
    assert at.selectbox(key="schedule").value == "warmup_cosine"
    lrs = array(panel(at, "y2")[0]["y"])
    assert lrs[0] == pytest.approx(0.0016 * 0.01, rel=1e-3)


def test_pin_compare_and_unpin(app_test):
    at = lab(app_test, surface="bowl", optimizer="sgd", lr=0.1, steps=50)
    rerun(at.button(key="pin_add").click())
    rerun(at.number_input(key="lr").set_value(1.9))
    traces = paths(at)
    assert len(traces) == 2
    assert traces[0]["line"]["color"] != traces[1]["line"]["color"]
    assert "lr 0.1" in traces[1]["name"] and "lr 1.9" in traces[0]["name"]
    # the pinned run keeps its own settings
    np.testing.assert_allclose(path_xy(at, 1), simulate(
        surface="bowl", optimizer="sgd", lr=0.1, steps=50).points, atol=1e-5)
    rerun(at.button(key="pin_load_0").click())
    assert at.number_input(key="lr").value == 0.1
    rerun(at.button(key="pin_remove_0").click())
    assert len(paths(at)) == 1


def test_pins_are_capped_at_four(app_test):
    at = lab(app_test, surface="bowl", optimizer="sgd", steps=50)
    for lr in (0.1, 0.2, 0.3, 0.4):
        rerun(at.number_input(key="lr").set_value(lr))
        rerun(at.button(key="pin_add").click())
    rerun(at.number_input(key="lr").set_value(0.5))
    assert at.button(key="pin_add").disabled
    assert len(paths(at)) == 5
    colours = {t["line"]["color"] for t in paths(at)}
    assert len(colours) == 5


@pytest.mark.parametrize("page", ["lab", "race", "schedules"])
def test_a_link_rate_the_url_table_refuses_moves_neither_rate_control(page):
    """``lr`` in another script's digits is refused by the URL table (the link notice says
    so): the log slider must not start at it while the exact input shows the default."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from lrviz.ui.state import nearest_lr_option

    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"lrviz/ui/pages/{page}.py")
    at.query_params["lr"] = "٠.٣"  # 0.3 in Arabic-Indic digits
    at.run()
    assert not at.exception
    exact = at.number_input(key="lr").value
    assert exact != pytest.approx(0.3)
    assert at.select_slider(key="lr_log").value == nearest_lr_option(exact)
