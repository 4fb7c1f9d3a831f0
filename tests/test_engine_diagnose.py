"""The regime classifier on curated cases for every regime, and the numbers in its sentences."""

import re

import pytest

from lrviz import Regime, RunConfig, simulate, simulate_many
from lrviz.engine.presets import PRESETS

CASES = {
    Regime.CONVERGED: RunConfig(surface="bowl", optimizer="sgd", lr=0.5, steps=60),
    Regime.OVERSHOOTING: RunConfig(surface="bowl", optimizer="sgd", lr=1.6, steps=80),
    Regime.LOCAL_MINIMUM: RunConfig(surface="styblinski_tang", optimizer="sgd", lr=0.01,
                                    start=(4.0, 4.0), steps=200),
    Regime.SLOW: RunConfig(surface="bowl", optimizer="sgd", lr=0.005, steps=100),
    Regime.STUCK: RunConfig(surface="plateau", optimizer="sgd", lr=0.1, start=(3.0, 2.5),
                            steps=200),
    Regime.OSCILLATING: RunConfig(surface="himmelblau", optimizer="sgd", lr=0.03, steps=300),
    Regime.DIVERGED: RunConfig(surface="bowl", optimizer="sgd", lr=2.5, steps=100),
}


@pytest.mark.parametrize("regime", list(Regime))
def test_curated_case_for_every_regime(regime):
    run = simulate(CASES[regime])
    assert run.regime is regime, run.explanation


def test_every_preset_shows_the_regime_its_caption_promises():
    configs = [r.config for p in PRESETS.values() for r in p.runs]
    expected = [(p.id, r.label, r.expect) for p in PRESETS.values() for r in p.runs]
    wrong = [(pid, label, exp.value, run.regime.value)
             for (pid, label, exp), run in zip(expected, simulate_many(configs), strict=True)
             if run.regime is not exp]
    assert not wrong
    assert {r.expect for p in PRESETS.values() for r in p.runs} == set(Regime)


def test_divergence_is_explained_with_the_step_and_lr_times_lambda():
    run = simulate(RunConfig(surface="bowl", optimizer="sgd", lr=2.7, steps=100,
                             surface_params={"a": 1.0, "b": 1.0}))
    assert run.regime is Regime.DIVERGED
    assert run.diverged_at is not None
    assert f"step {run.diverged_at}" in run.explanation
    assert "lr × λ_max = 2.7" in run.explanation and "above 2" in run.explanation


def test_overshoot_is_explained_with_the_error_factor():
    run = simulate(CASES[Regime.OVERSHOOTING])
    assert "lr × λ_max = 1.6" in run.explanation
    assert "-0.6" in run.explanation  # error factor 1 - 1.6 per step


def test_slow_run_reports_how_far_it_still_is():
    run = simulate(CASES[Regime.SLOW])
    distance = float(re.search(r"still ([0-9.e+-]+) away", run.explanation).group(1))
    expected = (2.5**2 + 2.0**2) ** 0.5 * (1 - 0.005) ** 100
    assert distance == pytest.approx(expected, rel=0.02)


def test_local_minimum_names_both_minima():
    run = simulate(CASES[Regime.LOCAL_MINIMUM])
    assert "(2.75, 2.75)" in run.explanation and "(-2.90, -2.90)" in run.explanation


def test_saddle_and_plateau_are_told_apart():
    saddle = simulate(RunConfig(surface="saddle", optimizer="sgd", lr=0.01, start=(2.0, 1e-6),
                                steps=300))
    plateau = simulate(CASES[Regime.STUCK])
    assert saddle.regime is plateau.regime is Regime.STUCK
    assert "saddle point" in saddle.explanation
    assert "plateau" in plateau.explanation


def test_noise_is_acknowledged_when_it_keeps_a_run_jittering():
    run = simulate(RunConfig(surface="bowl", optimizer="sgd", lr=0.05, noise=1.0, steps=300))
    assert run.regime is Regime.CONVERGED
    assert "noise" in run.explanation
