"""Lab links and the lab's URL parser: a link reproduces its run; a bad link never raises."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from lrviz import RunConfig
from lrviz.engine.presets import PRESETS
from lrviz.ui.links import lab_url
from lrviz.ui.urlstate import (
    DEFAULT_CONFIG,
    encode_pin,
    normalized,
    parse_lab_query,
    widget_defaults,
)


def _query(url: str) -> dict[str, list[str]]:
    parsed = urlparse(url)
    assert parsed.path == "/lab"
    return parse_qs(parsed.query, keep_blank_values=True)


def test_preset_link():
    assert lab_url(preset="overshoot") == "/lab?preset=overshoot"
    assert lab_url() == "/lab"
    with pytest.raises(ValueError, match="unknown preset"):
        lab_url(preset="nope")


def test_config_link_writes_only_what_differs_in_table_order():
    cfg = RunConfig(surface="ravine", optimizer="momentum", lr=0.05, schedule="cosine",
                    steps=500, start=(1.0, -1.5), optimizer_params={"momentum": 0.5})
    assert lab_url(config=cfg) == ("/lab?surface=ravine&optimizer=momentum&lr=0.05"
                                   "&schedule=cosine&steps=500&x0=1&y0=-1.5&momentum=0.5")
    assert lab_url(config=RunConfig()) == "/lab"  # the defaults need no parameter
    assert lab_url(config=RunConfig(lr=0.2)) == "/lab?lr=0.2"
    preset = PRESETS["overshoot"]
    assert lab_url(preset=preset.id, config=preset.config) == f"/lab?preset={preset.id}"


@pytest.mark.parametrize("cfg", [
    RunConfig(surface="ravine", surface_params={"condition": 100.0, "angle": -45.0},
              optimizer="nesterov", optimizer_params={"momentum": 0.7}, lr=0.0123,
              schedule="warmup_cosine", schedule_params={"warmup_steps": 40}, steps=500,
              start=(1.0, -2.0), noise=0.25, seed=7),
    RunConfig(surface="bowl", surface_params={"a": 0.3, "b": 7.0}, optimizer="adagrad",
              optimizer_params={"eps": 1e-11}, lr=2.5e-5, steps=20),
    *(p.config for p in PRESETS.values()),
])
def test_config_round_trips_through_the_url(cfg):
    q = parse_lab_query(_query(lab_url(config=cfg)))
    assert q.notices == ()
    assert q.config == normalized(cfg)


def test_preset_link_with_overrides_and_pins():
    preset = PRESETS["momentum-ravine"]
    changed = preset.config.with_(lr=0.02)
    pin = RunConfig(surface="ravine", optimizer="adam", lr=0.1)
    q = parse_lab_query(_query(lab_url(preset=preset.id, config=changed, pins=[pin])))
    assert q.preset is preset and q.config.lr == 0.02 and q.notices == ()
    assert q.pins_explicit and [p.config.optimizer for p in q.pins] == ["adam"]
    assert q.base == preset.config


def test_preset_pins_are_its_other_runs():
    q = parse_lab_query({"preset": "adam-needs-tuning"})
    assert q.config == normalized(PRESETS["adam-needs-tuning"].config)
    assert [p.label for p in q.pins] == [r.label for r in PRESETS["adam-needs-tuning"].runs[1:]]
    assert parse_lab_query({"preset": "adam-needs-tuning", "pins": "none"}).pins == ()


@pytest.mark.parametrize(("params", "bad"), [
    ({"lr": "abc"}, "lr"),
    ({"lr": "100"}, "lr"),
    ({"lr": "nan"}, "lr"),
    ({"steps": "12.5"}, "steps"),
    ({"surface": "moon"}, "surface"),
    ({"optimizer": "sgdx"}, "optimizer"),
    ({"x0": "99"}, "x0"),
    ({"surface": "ravine", "condition": "-3"}, "condition"),
    ({"momentum": "0.9"}, "momentum"),  # adam (the default) has no momentum parameter
    ({"preset": "nope"}, "preset"),
    ({"view3d": "maybe"}, "view3d"),
])
def test_malformed_values_fall_back_with_a_notice(params, bad):
    q = parse_lab_query(params)
    assert bad in q.rejected
    assert any(repr(bad) in n or f"{bad}=" in n for n in q.notices), q.notices
    # everything that was not named keeps the default
    assert q.config.lr == (DEFAULT_CONFIG.lr if bad == "lr" else q.config.lr)


def test_bad_pins_are_reported_not_raised():
    q = parse_lab_query({"pins": ["garbage", "surface:bowl,lr:zz", encode_pin(DEFAULT_CONFIG)]})
    assert len(q.pins) == 2  # the second keeps the default lr, with a notice
    assert any("pinned run 1" in n for n in q.notices)
    assert any("Pinned run 2" in n and "lr" in n for n in q.notices)


def test_widget_defaults_follow_the_base_only_for_its_own_components():
    base = PRESETS["overshoot"].config  # ravine, sgd, lr 0.09
    same = widget_defaults(base, "ravine", "sgd", "constant")
    assert same["lr"] == 0.09 and (same["x0"], same["y0"]) == (-2.5, 1.5)
    other = widget_defaults(base, "rosenbrock", "momentum", "constant")
    assert other["b"] == 100 and other["momentum"] == 0.9
    assert (other["x0"], other["y0"]) == (-1.5, 2.0)  # rosenbrock's own start
