"""Sweeps and phase maps keep no trajectories: the scan measures what the classifier reads.

These tests hold that summary to the full trajectories it replaces: the same final numbers
and statistics with and without paths, statistics that match their definitions recomputed
from a recorded path (so a window off by one point fails), a divergence step that matches the
closed form, and phase-map cells that equal the single runs for every optimizer setting.
"""

import numpy as np
import pytest

from lrviz import RunConfig, lr_sweep, phase_map, simulate
from lrviz.engine import core, diagnose
from lrviz.engine.diagnose import Regime
from lrviz.engine.executor import Block, classify, execute

# A mix of regimes, optimizers and schedules (each case: a config and its rates).
CASES = [
    # plain gradient descent on the bowl: settles, zig-zags in, blows up at a known step
    (RunConfig(surface="bowl", optimizer="sgd", steps=60), [0.4, 1.6, 2.5]),
    # Adam on Rosenbrock with a cosine schedule: too slow, fine, diverging
    (RunConfig(surface="rosenbrock", optimizer="adam", steps=150, schedule="cosine",
               schedule_params={"eta_min": 1e-4}), [1e-4, 0.02, 30.0]),
    # heavy-ball momentum on Beale
    (RunConfig(surface="beale", optimizer="momentum", steps=120, start=(1.0, 1.5)),
     [0.001, 0.02, 0.2]),
    # RMSprop with the loss-watching schedule on a surface with four minima
    (RunConfig(surface="himmelblau", optimizer="rmsprop", steps=90,
               schedule="reduce_on_plateau"), [0.003, 0.05, 0.5]),
    # Nesterov on the ravine with gradient noise
    (RunConfig(surface="ravine", optimizer="nesterov", steps=100, noise=0.3, seed=5),
     [0.01, 0.1]),
]


def _rows(cfg, lrs):
    return [Block.of(cfg, lrs)]


def test_the_cases_cover_settling_slow_and_diverging_runs():
    regimes = {g for cfg, lrs in CASES for g in lr_sweep(cfg, lrs).regimes}
    assert {Regime.CONVERGED, Regime.SLOW, Regime.DIVERGED} <= regimes


def test_a_bowl_run_blows_up_at_the_step_the_closed_form_gives():
    # x_t = x_0 (1 - lr a)^t; the run escapes once |x_t| > ESCAPE * domain size = 60:
    # 2.5 * 1.5^7 = 42.7 stays inside, 2.5 * 1.5^8 = 64.1 does not, so update 8 blew up.
    cfg = RunConfig(surface="bowl", optimizer="sgd", steps=60, start=(2.5, 2.0))
    radius = core.ESCAPE * 6.0
    expected = next(t for t in range(1, 60) if 2.5 * 1.5**t > radius)
    assert expected == 8
    sweep = lr_sweep(cfg, [0.4, 2.5])
    run = simulate(cfg.with_(lr=2.5))
    assert sweep.diverged_at == [None, expected]
    assert run.diverged_at == expected and run.regime is Regime.DIVERGED
    # the run keeps its last good point (after update 7) from then on
    np.testing.assert_array_equal(run.points[expected:], np.repeat(run.points[[7]], 53, 0))
    assert sweep.final_losses[1] == run.final_loss == run.losses[7]


@pytest.mark.parametrize("cfg,lrs", CASES)
def test_summary_mode_equals_the_full_trajectories(cfg, lrs):
    (idx_s, lean), = execute(_rows(cfg, lrs), paths=False)
    (idx_f, full), = execute(_rows(cfg, lrs), paths=True)
    assert list(idx_s) == list(idx_f) and lean.out.xs is None
    np.testing.assert_array_equal(lean.final_loss, full.final_loss)
    np.testing.assert_array_equal(lean.diverged_at, full.diverged_at)
    np.testing.assert_array_equal(lean.per_run("final_point"), full.per_run("final_point"))
    for a, b in zip(lean.stats, full.stats, strict=True):
        np.testing.assert_array_equal(a, b)
    lean_regimes = classify([(idx_s, lean)])[0][1].regimes
    assert lean_regimes == classify([(idx_f, full)])[0][1].regimes
    # and the summary's last point and loss are where the recorded path ends
    n = cfg.steps
    for i in range(len(lrs)):
        tr = full.trajectory(i)
        assert lean.final_loss[i] == np.float32(tr.losses[n])
        np.testing.assert_array_equal(lean.per_run("final_point")[i], tr.points[n])


def _path_stats(points, losses, refs, swing, fmin, steps):
    """The statistics' definitions, recomputed from a recorded path in float64."""
    n = steps
    q, tail, late_tail, lo, hi = diagnose.windows(n)
    last = lambda k: slice(n - k + 1, n + 1)  # noqa: E731  (the last k points)
    box = points[last(tail)]
    extent = box.max(axis=0) - box.min(axis=0)
    offsets = points[None, :, :] - refs.points[:, None, :]  # (M, n+1, 2)
    dist = np.linalg.norm(offsets, axis=2)
    along = np.einsum("mtk,mk->mt", offsets, refs.tops)
    crossings = []
    for row in along:
        sides = np.sign(np.where(np.abs(row) > swing, row, 0.0))
        sides = sides[sides != 0]
        crossings.append(int(np.count_nonzero(sides[1:] != sides[:-1])))
    gaps = losses - fmin
    steps_len = np.linalg.norm(np.diff(points, axis=0), axis=1)
    fell = np.diff(losses) < 0
    return dict(
        first_loss=losses[0], half_loss=losses[n // 2], quarter_back_loss=losses[n - q],
        spread=np.hypot(*extent), crossings=np.array(crossings),
        late_dist=dist[:, last(q)].mean(axis=1), late_dist_max=dist[:, last(q)].max(axis=1),
        early_dist=dist[:, q : 2 * q + 1].mean(axis=1), late_gap=gaps[last(q)].mean(),
        late_peak=gaps[last(late_tail)].max(), middle_peak=gaps[lo:hi].max(),
        path_late=steps_len[n - q : n].sum(), falling=fell[n - q : n].mean())


@pytest.mark.parametrize("cfg,lrs", CASES)
def test_the_scan_statistics_match_their_definitions_on_the_recorded_path(cfg, lrs):
    (_, full), = execute(_rows(cfg, lrs), paths=True)
    refs = diagnose.references(cfg.surface, cfg.surface_values())
    m = len(refs.points)
    swing = diagnose.swing(cfg.surface)
    for i in range(len(lrs)):
        tr = full.trajectory(i)
        # the definitions read the path as the scan saw it: float32 points and losses
        points, losses = tr.points.astype(np.float32), tr.losses.astype(np.float32)
        expected = _path_stats(points.astype(float), losses.astype(float), refs, swing,
                               refs.values.min(), cfg.steps)
        for name, want in expected.items():
            got = np.asarray(getattr(full.stats, name))
            got = got[:m, i] if got.ndim == 2 else got[i]
            if name == "crossings":
                np.testing.assert_array_equal(got, want, err_msg=name)
            else:
                np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("optimizer,name,values", [
    ("adam", "beta2", [0.9, 0.999]), ("adam", "beta1", [0.5, 0.9]),
    ("rmsprop", "alpha", [0.9, 0.99]), ("adamw", "weight_decay", [0.0, 0.1]),
    ("nesterov", "momentum", [0.5, 0.9]),
])
def test_a_phase_map_over_an_optimizer_setting_equals_the_single_runs(optimizer, name, values):
    cfg = RunConfig(surface="rosenbrock", optimizer=optimizer, steps=120)
    lrs = [1e-3, 1e-2, 0.1]
    pm = phase_map(cfg, lrs, "optimizer", name, values)
    for i, value in enumerate(values):
        for j, lr in enumerate(lrs):
            run = simulate(cfg.with_(lr=lr, optimizer_params={name: value}))
            assert pm.final_losses[i, j] == run.final_loss
            assert pm.regimes[i][j] is run.regime


def test_a_sweep_of_many_rates_keeps_no_paths_and_agrees_with_its_single_runs():
    cfg = RunConfig(surface="rosenbrock", optimizer="adam", steps=200)
    lrs = np.geomspace(1e-4, 10, 40)
    sweep = lr_sweep(cfg, lrs)
    for k in (0, 17, 33, 39):
        run = simulate(cfg.with_(lr=float(lrs[k])))
        assert sweep.final_losses[k] == run.final_loss
        assert sweep.regimes[k] is run.regime
        assert sweep.diverged_at[k] == run.diverged_at
