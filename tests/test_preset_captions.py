"""The numbers that preset captions state about their runs, re-measured with the engine (the
regimes are checked in test_content; here the measured figures a teacher reads aloud)."""

from __future__ import annotations

import numpy as np
import pytest

import lrviz
from lrviz.engine.presets import PRESETS


def _run(preset: str, k: int = 0):
    return lrviz.simulate(PRESETS[preset].runs[k].config)


@pytest.mark.parametrize(("preset", "ratio", "text"), [
    ("overshoot", 1.8, "lr × λ_max = 1.8"),
    ("divergence", 6.0, "lr × λ_max ≈ 6"),
])
def test_stated_rate_times_curvature_at_the_start(preset, ratio, text):
    assert text in PRESETS[preset].caption
    run = _run(preset)
    assert run.config.lr * run.lambda_max[0] == pytest.approx(ratio, rel=0.06)


@pytest.mark.parametrize(("preset", "curvature", "text"), [
    ("stability-limit", 20.0, "λ_max = 20"),
    ("momentum-edge", 100.0, "λ_max = 100"),
])
def test_stated_curvature(preset, curvature, text):
    assert text in PRESETS[preset].caption
    assert _run(preset).lambda_max[-1] == pytest.approx(curvature, rel=1e-3)


def test_schedule_rescue_minimum_is_too_sharp_for_the_constant_rate():
    assert "lr × λ_max ≈ 2.5" in PRESETS["schedule-rescue"].caption
    rescued = _run("schedule-rescue", 1)  # the decayed run settles in the minimum in question
    sharp = lrviz.stability("himmelblau", tuple(rescued.points[-1])).lambda_max
    assert 0.03 * sharp == pytest.approx(2.5, abs=0.1)


def test_local_minimum_gap_and_warmup_blow_up_step():
    assert "28 loss units above" in PRESETS["local-minimum"].caption
    run = _run("local-minimum")
    surface = lrviz.SURFACES[run.config.surface]
    gap = run.losses[-1] - surface.global_min_value(run.config.surface_values())
    assert gap == pytest.approx(28, abs=0.5)
    assert "blows up at step 3" in PRESETS["warmup-length"].caption
    assert _run("warmup-length", 0).diverged_at == 3
    assert _run("warmup-length", 1).diverged_at is None  # 5 warmup steps get it past the wall


def test_plateau_gradient_is_about_two_thousandths():
    assert "gradient is about 0.002" in PRESETS["plateau"].caption
    run = _run("plateau")
    surface = lrviz.SURFACES[run.config.surface]
    (x, y), h = run.points[0], 1e-3
    gx = (surface(x + h, y) - surface(x - h, y)) / (2 * h)
    gy = (surface(x, y + h) - surface(x, y - h)) / (2 * h)
    assert float(np.hypot(gx, gy)) == pytest.approx(0.002, rel=0.15)
