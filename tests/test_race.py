"""/race through AppTest: racers, shared vs tuned rates (with the tuning cost), animation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrviz import RunConfig, lr_sweep, simulate
from lrviz.figures.specs import array
from lrviz.ui.lab.race import TUNE_LRS, best_rate

PAGE = "lrviz/ui/pages/race.py"


def page(app_test, **query):
    at = app_test(PAGE, query=query)
    assert not at.exception, at.exception
    return at


def race_map(at) -> dict:
    element = next(e for e in at.get("plotly_chart") if "race_map" in e.proto.id)
    return json.loads(element.proto.spec)


def paths(at) -> list[dict]:
    return [t for t in race_map(at)["data"] if t.get("mode") == "lines+markers"]


def test_shared_rate_race_runs_every_optimizer_from_one_start(app_test):
    at = page(app_test)
    names = [t["name"] for t in paths(at)]
    assert [n.split(" ")[0] for n in names] == ["sgd", "momentum", "rmsprop", "adam"]
    assert all("(lr 0.001)" in n for n in names)
    sgd = simulate(RunConfig(surface="rosenbrock", optimizer="sgd", lr=0.001, steps=500))
    np.testing.assert_allclose(array(paths(at)[0]["x"]), sgd.points[:, 0], atol=1e-4)
    # all markers move together: one frame trace holds every racer's position
    frame = race_map(at)["frames"][10]
    assert len(frame["data"][0]["x"]) == 4
    assert "unfair" in " ".join(m.value for m in at.markdown)


def test_racers_and_shared_rate_controls(app_test):
    at = page(app_test)
    at.multiselect(key="optimizers").set_value(["sgd", "adam"]).run()
    assert len(paths(at)) == 2
    at.number_input(key="lr").set_value(0.0005).run()
    assert all("(lr 0.0005)" in t["name"] for t in paths(at))
    at.selectbox(key="surface").set_value("bowl").run()
    assert array(paths(at)[0]["x"])[0] == pytest.approx(2.5)


def test_tuned_mode_gives_each_its_best_swept_rate_and_reports_the_cost(app_test):
    at = page(app_test, optimizers=["sgd", "adam"], steps="300")
    at.radio(key="mode").set_value("tuned").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert f"Tuning cost: {len(TUNE_LRS) * 2} runs" in text
    base = RunConfig(surface="rosenbrock", lr=0.001, steps=300)
    for trace, name in zip(paths(at), ["sgd", "adam"], strict=True):
        best = best_rate(lr_sweep(base.with_(optimizer=name), TUNE_LRS))
        assert f"(lr {best:.3g})" in trace["name"]
    # tuning makes Adam's rate far larger than SGD's (SGD is capped by the walls' curvature)
    lrs = [float(t["name"].split("(lr ")[1].split(")")[0]) for t in paths(at)]
    assert lrs[1] > 10 * lrs[0]


def test_url_selects_mode_and_racers(app_test):
    at = page(app_test, mode="tuned", optimizers=["momentum", "nesterov"])
    assert at.radio(key="mode").value == "tuned"
    assert [t["name"].split(" ")[0] for t in paths(at)] == ["momentum", "nesterov"]


def test_no_racers_is_a_message_not_an_error(app_test):
    at = page(app_test)
    at.multiselect(key="optimizers").set_value([]).run()
    assert not at.exception
    assert any("at least one optimizer" in i.value for i in at.info)


def test_malformed_url_values_give_notices_not_errors(app_test):
    at = page(app_test, mode="fast", optimizers=["sgd", "nope"], surface="moon")
    text = " ".join(w.value for w in at.warning)
    assert "mode=" in text and "'nope'" in text and "surface=" in text
    assert at.radio(key="mode").value == "shared"
    assert at.selectbox(key="surface").value == "rosenbrock"
    assert [t["name"].split(" ")[0] for t in paths(at)] == ["sgd"]  # the valid racer stays
