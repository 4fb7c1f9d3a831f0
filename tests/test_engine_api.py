"""The public API: shapes, validation messages, sweeps, phase maps and no recompiles."""

import logging
import re

import jax
import numpy as np
import pytest

import lrviz
from lrviz import Regime, RunConfig, lr_sweep, phase_map, simulate
from lrviz.engine import core, runtime, theory


def test_design_example_runs_with_the_documented_fields():
    cfg = RunConfig(surface="rosenbrock", optimizer="adam", lr=0.01, schedule="constant",
                    start=(-1.5, 2.0), steps=300, surface_params={}, optimizer_params={},
                    schedule_params={}, noise=0.0, seed=0)
    run = simulate(cfg)
    assert run.points.shape == (301, 2) and run.losses.shape == (301,) and run.lrs.shape == (300,)
    assert tuple(run.points[0]) == (-1.5, 2.0)
    assert run.losses[0] == pytest.approx(12.5)  # (1 + 1.5)^2 + 100 (2 - 2.25)^2
    assert np.all(run.lrs == np.float32(0.01))


@pytest.mark.parametrize("bad,message", [
    (dict(surface="bananas"), "unknown surface 'bananas'"),
    (dict(optimizer="adamax"), "unknown optimizer 'adamax'"),
    (dict(schedule="linear"), "unknown schedule 'linear'"),
    (dict(lr=-1.0), "lr = -1 is outside its valid range (0, 1000]"),
    (dict(lr=float("nan")), "lr = nan is outside its valid range"),
    (dict(steps=0), "steps = 0 is outside its valid range [1, 5000]"),
    (dict(steps=10**6), "steps = 1000000 is outside its valid range [1, 5000]"),
    (dict(optimizer="adam", optimizer_params={"momentum": 0.9}), "has no parameter 'momentum'"),
    (dict(start=(float("inf"), 0.0)), "start (inf, 0) must be finite and inside the allowed box"),
])
def test_bad_configurations_are_rejected_with_a_message_naming_the_problem(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RunConfig(**bad)


def test_changing_optimizer_drops_parameters_it_does_not_have():
    cfg = RunConfig(optimizer="adam", optimizer_params={"beta1": 0.8})
    assert cfg.with_(optimizer="sgd").optimizer_params == {}
    assert cfg.with_(optimizer="adamw").optimizer_params == {"beta1": 0.8}


@pytest.fixture
def no_program_release(monkeypatch):
    """Keep the mapping guard (tested in test_runtime_mappings) from dropping programs mid-test,
    which would make the next call compile again; and empty the cache of Hessians at minima, so
    the first run really runs every program its variants need (after an earlier test dropped
    the programs, a cached Hessian would skip the one that computes it)."""
    monkeypatch.setattr(runtime, "CHECK_EVERY", 10**9)
    theory._cached_hessian.cache_clear()


def test_numeric_changes_never_recompile(no_program_release):
    base = RunConfig(surface="ravine", optimizer="adam", lr=0.01, steps=120, schedule="cosine")
    simulate(base)
    before = core.compiled_count()
    variants = [
        base.with_(lr=0.3), base.with_(start=(1.0, -2.0)),
        base.with_(optimizer_params={"beta1": 0.5, "beta2": 0.9, "eps": 1e-6}),
        base.with_(surface_params={"condition": 300.0, "angle": -10.0}),
        base.with_(schedule_params={"eta_min": 0.001, "T_max": 40}),
        base.with_(steps=150),  # same 200-step bucket
    ]
    compiles = []

    class Recorder(logging.Handler):
        def emit(self, record):
            if "ompil" in record.getMessage():
                compiles.append(record.getMessage())

    handler = Recorder()
    logging.getLogger("jax").addHandler(handler)
    try:
        with jax.log_compiles(True):
            for cfg in variants:
                simulate(cfg)
    finally:
        logging.getLogger("jax").removeHandler(handler)
    assert core.compiled_count() == before
    assert compiles == [], "no XLA program may be compiled for a numeric change"


def test_noise_compiles_once_then_its_amount_and_seed_never_do(no_program_release):
    # gradient noise on or off is structure (a run without noise draws no random numbers)
    base = RunConfig(surface="ravine", optimizer="adam", lr=0.01, steps=120, schedule="cosine")
    simulate(base)
    before = core.compiled_count()
    simulate(base.with_(noise=0.7, seed=5))
    assert core.compiled_count() == before + 1
    for cfg in (base.with_(noise=0.2, seed=5), base.with_(noise=0.7, seed=9),
                base.with_(noise=3.0, seed=1, lr=0.3)):
        simulate(cfg)
    assert core.compiled_count() == before + 1


def test_a_new_structure_compiles_once(no_program_release):
    cfg = RunConfig(surface="matyas", optimizer="rmsprop", lr=0.01, steps=40)
    simulate(cfg)
    after_first = core.compiled_count()
    simulate(cfg.with_(lr=0.02))
    assert core.compiled_count() == after_first


def test_lr_sweep_brackets_the_theory_on_a_bowl():
    cfg = RunConfig(surface="bowl", surface_params={"a": 1.0, "b": 4.0}, optimizer="sgd",
                    steps=100)
    lrs = np.logspace(-3, 0.5, 36)
    sweep = lr_sweep(cfg, lrs)
    assert sweep.final_losses.shape == (36,)
    edge = 2 / 4.0
    for lr, regime in zip(lrs, sweep.regimes, strict=True):
        if lr > 1.05 * edge:
            assert regime is Regime.DIVERGED
    assert sweep.max_stable_lr is not None and sweep.max_stable_lr < edge
    # the suggestion sits inside the stable range, well clear of both edges
    assert 0.05 < sweep.suggested_lr < edge


def test_lr_sweep_agrees_with_single_runs():
    cfg = RunConfig(surface="rosenbrock", optimizer="adam", steps=200)
    lrs = [0.001, 0.05, 1.0, 12.0]
    sweep = lr_sweep(cfg, lrs)
    for lr, loss, regime in zip(lrs, sweep.final_losses, sweep.regimes, strict=True):
        run = simulate(cfg.with_(lr=lr))
        assert loss == pytest.approx(run.final_loss, rel=1e-5, abs=1e-7)
        assert regime is run.regime


def test_phase_map_shows_momentum_widening_the_stable_range():
    cfg = RunConfig(surface="bowl", surface_params={"a": 2.0, "b": 2.0}, optimizer="momentum",
                    steps=400)
    lrs = np.array([0.5, 1.2, 1.8])
    pm = phase_map(cfg, lrs, "optimizer", "momentum", [0.0, 0.5, 0.9])
    assert pm.final_losses.shape == (3, 3)
    diverged = [[r is Regime.DIVERGED for r in row] for row in pm.regimes]
    # stable iff lr * 2 < 2 + 2 mu
    for i, mu in enumerate([0.0, 0.5, 0.9]):
        for j, lr in enumerate(lrs):
            assert diverged[i][j] == (lr * 2.0 > 2 + 2 * mu)


def test_sweep_rejects_bad_rates():
    with pytest.raises(ValueError, match=re.escape("lr = -1 is outside its valid range (0, 1000]")):
        lr_sweep(RunConfig(), [0.1, -1.0])
    with pytest.raises(ValueError, match=re.escape("lr = nan is outside")):
        lr_sweep(RunConfig(), [0.1, float("nan")])


def test_schedule_values_needs_losses_only_for_plateau():
    values = lrviz.schedule_values("step", 0.1, 10, step_size=3, gamma=0.5)
    np.testing.assert_allclose(values, 0.1 * 0.5 ** (np.arange(10) // 3), rtol=1e-6)
    flat = lrviz.schedule_values("reduce_on_plateau", 0.1, 5)
    assert np.all(flat == np.float32(0.1))
