"""The engine against closed forms and against the formulas it displays (NumPy references)."""

import math

import numpy as np
import pytest
import reference as ref

import lrviz
from lrviz import RunConfig, simulate
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.schedules import SCHEDULES


@pytest.mark.parametrize("lr", [0.1, 0.5, 1.2, 1.9])
def test_gd_on_bowl_matches_closed_form(lr):
    a, b = 1.0, 0.6
    start = np.array([2.5, -2.0])
    run = simulate(RunConfig(surface="bowl", surface_params={"a": a, "b": b}, optimizer="sgd",
                             lr=lr, start=tuple(start), steps=40))
    k = np.arange(41)
    expected = np.stack([start[0] * (1 - lr * a) ** k, start[1] * (1 - lr * b) ** k], axis=1)
    np.testing.assert_allclose(run.points, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("condition,angle,lr", [(10.0, 30.0, 0.15), (50.0, -60.0, 0.03)])
def test_gd_on_ravine_matches_closed_form_in_the_eigenbasis(condition, angle, lr):
    start = np.array([-2.5, 1.5])
    run = simulate(RunConfig(surface="ravine", surface_params={"condition": condition,
                             "angle": angle}, optimizer="sgd", lr=lr, start=tuple(start),
                             steps=60))
    th = math.radians(angle)
    R = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
    u0, v0 = R @ start
    k = np.arange(61)
    uv = np.stack([u0 * (1 - lr) ** k, v0 * (1 - lr * condition) ** k], axis=1)
    np.testing.assert_allclose(run.points, uv @ R, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("surface,params,lam_max", [
    ("bowl", {"a": 1.0, "b": 4.0}, 4.0),
    ("ravine", {"condition": 25.0, "angle": 20.0}, 25.0),
    ("booth", {}, 18.0),
])
def test_sgd_converges_just_below_two_over_lambda_and_diverges_just_above(surface, params, lam_max):
    edge = 2.0 / lam_max
    below = simulate(RunConfig(surface=surface, surface_params=params, optimizer="sgd",
                               lr=0.97 * edge, steps=500))
    above = simulate(RunConfig(surface=surface, surface_params=params, optimizer="sgd",
                               lr=1.05 * edge, steps=500))
    assert below.regime in (lrviz.Regime.CONVERGED, lrviz.Regime.OVERSHOOTING)
    assert above.regime is lrviz.Regime.DIVERGED


@pytest.mark.parametrize("optimizer,beta,factor", [
    ("momentum", 0.5, 2 + 2 * 0.5),
    ("momentum", 0.9, 2 + 2 * 0.9),
    ("nesterov", 0.5, 2 * 1.5 / 2.0),
    ("nesterov", 0.9, 2 * 1.9 / 2.8),
])
def test_momentum_stability_edges(optimizer, beta, factor):
    lam = 4.0
    cfg = RunConfig(surface="bowl", surface_params={"a": lam, "b": lam}, optimizer=optimizer,
                    optimizer_params={"momentum": beta}, steps=1500)
    below = simulate(cfg.with_(lr=0.97 * factor / lam))
    above = simulate(cfg.with_(lr=1.03 * factor / lam))
    assert below.regime in (lrviz.Regime.CONVERGED, lrviz.Regime.OVERSHOOTING), below.explanation
    assert above.regime is lrviz.Regime.DIVERGED, above.explanation
    assert OPTIMIZERS[optimizer].stability_factor({"momentum": beta}) == pytest.approx(factor)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_follows_its_displayed_formula_for_200_steps(name):
    # Beale is non-quadratic; a modest rate keeps float32 rounding from being amplified.
    lr = ref.BEALE_RATES[name]
    start = (1.0, 1.5)
    run = simulate(RunConfig(surface="beale", optimizer=name, lr=lr, start=start, steps=200))
    hp = OPTIMIZERS[name].resolve()
    expected = ref.optimizer_trajectory(name, ref.beale_grad, start, [lr] * 200, **hp)
    np.testing.assert_allclose(run.points, expected, rtol=2e-4, atol=2e-5)
    assert np.abs(np.diff(run.points, axis=0)).sum() > 0.05, "the run must actually move"


@pytest.mark.parametrize("name", [n for n, s in SCHEDULES.items() if not s.needs_loss])
@pytest.mark.parametrize("steps", [37, 300])
def test_each_schedule_follows_its_displayed_formula_for_all_steps(name, steps):
    params = {"step_size": 20, "gamma": 0.5} if name == "step" else {}
    if name == "exponential":
        params = {"gamma": 0.98}
    if name == "warmup_cosine":
        params = {"warmup_steps": 10, "start_factor": 0.1, "eta_min": 0.001}
    if name == "cosine":
        params = {"eta_min": 0.002}
    if name == "cosine_restarts":
        params = {"T_0": 12, "T_mult": 2, "eta_min": 0.001}
    if name == "cyclic":
        params = {"step_size_up": 9, "base_factor": 0.2}
    values = lrviz.schedule_values(name, 0.1, steps, **params)
    expected = ref.schedule_values(name, 0.1, steps, **params)
    assert values.shape == (steps,)
    np.testing.assert_allclose(values, expected, rtol=2e-5, atol=1e-8)


def test_the_simulation_uses_the_schedule_it_displays():
    cfg = RunConfig(surface="bowl", optimizer="sgd", lr=0.3, steps=120, schedule="one_cycle")
    run = simulate(cfg)
    np.testing.assert_allclose(run.lrs, ref.schedule_values("one_cycle", 0.3, 120), rtol=2e-5)


def test_reduce_on_plateau_matches_pytorch_semantics_inside_a_run():
    cfg = RunConfig(surface="booth", optimizer="adam", lr=0.5, steps=300,
                    schedule="reduce_on_plateau",
                    schedule_params={"patience": 5, "factor": 0.5, "cooldown": 3})
    run = simulate(cfg)
    expected = ref.plateau_rates(0.5, run.losses[:-1], factor=0.5, patience=5, cooldown=3)
    np.testing.assert_allclose(run.lrs, expected, rtol=1e-6)
    assert run.lrs[-1] < 0.5, "the plateau scheduler should have cut the rate at least once"


def test_reduce_on_plateau_agrees_with_optax_contrib_when_aligned():
    """optax's version counts patience one step earlier and applies the cut to the update whose
    loss it just saw; shifted by one step with patience + 1 the two agree."""
    import jax.numpy as jnp
    import optax

    losses = np.concatenate([np.linspace(10, 5, 20), np.full(40, 5.0), np.linspace(5, 4, 10),
                             np.full(40, 4.0)]).astype(np.float32)
    ours = lrviz.schedule_values("reduce_on_plateau", 1.0, len(losses), losses=losses,
                                 patience=7, factor=0.5, cooldown=2)
    tx = optax.contrib.reduce_on_plateau(factor=0.5, patience=8, rtol=1e-4, cooldown=2)
    state = tx.init(jnp.zeros(1))
    scales = []
    for loss in losses:
        _, state = tx.update(jnp.ones(1), state, value=jnp.float32(loss))
        scales.append(float(state.scale))
    np.testing.assert_allclose(ours[1:], np.array(scales[:-1]), rtol=1e-6)


def test_stability_numbers_match_the_reference_facts():
    assert lrviz.stability("rosenbrock", (1, 1)).max_stable_lr == pytest.approx(0.0020, abs=5e-5)
    assert lrviz.stability("beale", (3, 0.5)).max_stable_lr == pytest.approx(0.041, abs=1e-3)
    assert lrviz.stability("booth", (1, 3)).max_stable_lr == pytest.approx(2 / 18, rel=1e-4)
    assert lrviz.stability("himmelblau", (3, 2)).max_stable_lr == pytest.approx(0.0243, abs=3e-4)
    s = lrviz.stability("bowl", (0, 0), surface_params={"a": 1.0, "b": 9.0})
    assert s.eigenvalues == pytest.approx((1.0, 9.0))
    assert s.optimal_lr == pytest.approx(0.2)
    assert s.rate == pytest.approx(0.8)
    m = lrviz.stability("bowl", (0, 0), "momentum", surface_params={"a": 1.0, "b": 9.0},
                        momentum=0.5)
    assert m.max_stable_lr == pytest.approx(3.0 / 9.0)
    assert lrviz.stability("bowl", (0, 0), "adam").max_stable_lr is None
    saddle = lrviz.stability("saddle", (0, 0))
    assert saddle.lambda_min < 0 < saddle.lambda_max and saddle.optimal_lr is None
