"""/schedules through AppTest: the preview follows the formulas, each slot's formula is shown,
and the runs compare every schedule against a constant rate on the same setup."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrviz import RunConfig, schedule_values, simulate
from lrviz.engine.schedules import SCHEDULES
from lrviz.figures.specs import array

PAGE = "lrviz/ui/pages/schedules.py"


def page(app_test, **query):
    at = app_test(PAGE, query={k: str(v) for k, v in query.items()})
    assert not at.exception, at.exception
    return at


def chart(at, key: str) -> dict:
    for element in at.get("plotly_chart"):
        if key in element.proto.id:
            return json.loads(element.proto.spec)
    raise KeyError(key)


def preview_curves(at) -> dict[str, np.ndarray]:
    return {t["name"]: array(t["y"]) for t in chart(at, "schedules_preview")["data"]}


def test_preview_matches_the_schedule_formulas(app_test):
    at = page(app_test)
    curves = preview_curves(at)
    assert set(curves) == {"constant η₀", "1: Cosine annealing", "2: Linear warmup, then cosine",
                           "3: One-cycle"}
    np.testing.assert_allclose(curves["1: Cosine annealing"],
                               schedule_values("cosine", 0.03, 300), rtol=1e-5)
    np.testing.assert_allclose(curves["3: One-cycle"],
                               schedule_values("one_cycle", 0.03, 300), rtol=1e-5, atol=1e-9)
    assert np.all(curves["constant η₀"] == np.float32(0.03))
    formulas = [e.value for e in at.latex]
    for name in ("cosine", "warmup_cosine", "one_cycle"):
        assert any(SCHEDULES[name].latex in f for f in formulas), name


def test_slot_parameters_reshape_the_preview(app_test):
    at = page(app_test)
    at.selectbox(key="s1").set_value("step").run()
    default = next(p.default for p in SCHEDULES["step"].params if p.name == "step_size")
    assert at.number_input(key="s1_step_size").value == default
    at.number_input(key="s1_step_size").set_value(100).run()
    at.number_input(key="s1_gamma").set_value(0.5).run()
    curve = preview_curves(at)["1: Step decay"]
    assert curve[99] == pytest.approx(0.03) and curve[100] == pytest.approx(0.015)
    assert curve[200] == pytest.approx(0.0075)


def test_runs_compare_each_schedule_with_a_constant_rate(app_test):
    at = page(app_test)
    labels = [t["name"] for t in chart(at, "schedules_map")["data"]
              if t.get("mode") == "lines+markers"]
    assert labels[0].startswith("constant η₀ — oscillating")  # 0.03 is too much on Himmelblau
    assert len(labels) == 4
    constant = simulate(RunConfig(surface="himmelblau", optimizer="sgd", lr=0.03, steps=300))
    path = next(t for t in chart(at, "schedules_map")["data"] if t.get("mode") ==
                "lines+markers")
    np.testing.assert_allclose(array(path["x"]), constant.points[:, 0], atol=1e-4)
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == 4
    assert "CONVERGED" in badges[3]  # one-cycle settles (the schedule-zoo preset agrees)


def test_shared_setup_drives_every_run(app_test):
    at = page(app_test, surface="bowl", optimizer="sgd", lr=0.5, steps=100)
    starts = {(round(float(array(t["x"])[0]), 3), round(float(array(t["y"])[0]), 3))
              for t in chart(at, "schedules_map")["data"] if t.get("mode") == "lines+markers"}
    assert starts == {(2.5, 2.0)}
    lrs = [t for t in chart(at, "schedules_curves")["data"] if t["yaxis"] == "y2"]
    assert all(array(t["y"])[0] <= 0.5 + 1e-6 for t in lrs)
    assert len(array(lrs[0]["y"])) == 100


def test_empty_slot_and_hidden_runs(app_test):
    at = page(app_test)
    at.selectbox(key="s2").set_value("none").run()
    assert len(preview_curves(at)) == 3
    at.toggle(key="run").set_value(False).run()
    assert not at.exception
    keys = [e.proto.id for e in at.get("plotly_chart")]
    assert any("schedules_preview" in k for k in keys)
    assert not any("schedules_map" in k for k in keys)


def test_url_sets_slots(app_test):
    at = page(app_test, s1="exponential", s1_gamma=0.98, s3="none")
    curves = preview_curves(at)
    assert curves["1: Exponential decay"][10] == pytest.approx(0.03 * 0.98 ** 10, rel=1e-4)
    assert "3: One-cycle" not in curves


def test_malformed_url_values_give_notices_not_errors(app_test):
    at = page(app_test, s1="bogus", s2_warmup_steps=-5, lr="abc", foo=1)
    text = " ".join(w.value for w in at.warning)
    for name in ("s1=", "s2_warmup_steps=", "lr=", "'foo'"):
        assert name in text
    assert at.selectbox(key="s1").value == "cosine"  # the slot's default
    assert at.number_input(key="lr").value == 0.03
    at.button(key="schedules_dismiss").click().run()
    assert not at.warning
