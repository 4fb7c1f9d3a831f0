"""The vectorised classifier against a plain reference of the same rules.

`diagnose.classify_batch` is written for speed (coordinates as separate float64 columns, the
2x2 eigenvalues and the Newton step spelled out, the first matching rule found by masked
assignment). The reference below states the rules the straightforward way, with (B, 2) points,
(B, 2, 2) Hessians, `np.linalg.norm` and `np.select`; both must agree exactly, feature by
feature, on sweeps that between them reach every regime, several minima, an unlisted minimum
(Rastrigin's dimples), a saddle, a plateau and gradient noise.
"""

import numpy as np
import pytest

from lrviz import RunConfig
from lrviz.engine import diagnose
from lrviz.engine.diagnose import THRESHOLDS, Regime
from lrviz.engine.executor import Block, classify, execute
from lrviz.engine.linalg2 import eigh_2x2, solve_2x2


def reference_features(surface, surface_params, final_point, final_loss, stats, diverged_at,
                       final_grad, final_hessian, noise, limits=THRESHOLDS):
    """The classifier's rules, one readable expression each (see the `diagnose` docstring)."""
    B = len(final_loss)
    noise = np.broadcast_to(np.asarray(noise, float), (B,))
    refs = diagnose.references(surface, surface_params)
    M, values, is_global = refs.points, refs.values, refs.is_global
    fmin = values.min()
    tol = limits.near * surface.scale
    f64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
    pT, LT, L0 = f64(final_point), f64(final_loss), f64(stats.first_loss)
    gap0 = np.maximum(L0 - fmin, 1e-9)
    dists = np.linalg.norm(pT[:, None, :] - M[None], axis=2)
    nearest = dists.argmin(axis=1)
    dmin = dists[np.arange(B), nearest]
    H = final_hessian.astype(np.float64)
    eig, top_final = eigh_2x2(H)
    g = final_grad.astype(np.float64)
    pd = eig[:, 0] > 0
    safe_H = np.where(pd[:, None, None], H, np.eye(2))
    step = np.where(pd[:, None], solve_2x2(safe_H, g), 0.0)
    newton = np.where(pd, np.linalg.norm(step, axis=1), np.inf)
    newton_any = np.linalg.norm(g, axis=1) / np.maximum(np.abs(eig).min(axis=1), limits.min_eig)
    near_listed = dmin < tol
    ahead = np.linalg.norm((pT - step)[:, None, :] - M[None], axis=2).min(axis=1) < tol
    unlisted = ~near_listed & pd & (newton < tol) & ~ahead
    near_min = near_listed | unlisted
    ref_value = np.where(unlisted, LT, values[nearest])
    local = np.where(unlisted, True, ~is_global[nearest])
    pick = lambda a: f64(a)[nearest, np.arange(B)]  # noqa: E731
    crossings = pick(stats.crossings).astype(int)
    d_late, d_late_max, d_early = (pick(stats.late_dist), pick(stats.late_dist_max),
                                   pick(stats.early_dist))
    late_gap, late, middle = f64(stats.late_gap), f64(stats.late_peak), f64(stats.middle_peak)
    settled = (f64(stats.spread) < tol) | (LT - ref_value < limits.settled_gap * gap0)
    noisy_bottom = (noise > 0) & (d_late < limits.noisy_radius * tol) & (
        late_gap - (ref_value - fmin) < limits.noisy_gap * gap0)
    at_bottom = (near_min & settled) | noisy_bottom
    zigzag = (crossings >= limits.crossings) & (noise <= 0)
    closing_in = (d_late < limits.closing * d_early) | near_min
    growing = (LT - fmin > limits.grow_gap * gap0) & (late > limits.grow_late * middle)
    diverged = (diverged_at >= 0) | growing
    grad_norm = np.linalg.norm(g, axis=1)
    half = f64(stats.half_loss)
    no_progress = (half - LT) / np.maximum(half - fmin, 1e-12) < limits.no_progress
    flat = (grad_norm < limits.flat_slope * gap0 / surface.scale) & no_progress
    stalled = (f64(stats.path_late) < limits.stalled_path * tol) & no_progress
    saddle = ~near_min & (eig[:, 0] < 0) & (newton_any < tol)
    descending = (f64(stats.falling) >= limits.descending) & (f64(stats.quarter_back_loss) > LT)
    conditions = [diverged, at_bottom & local, at_bottom & zigzag, at_bottom, saddle,
                  zigzag & (closing_in | descending), flat | stalled, descending]
    choices = [Regime.DIVERGED, Regime.LOCAL_MINIMUM, Regime.OVERSHOOTING, Regime.CONVERGED,
               Regime.STUCK, Regime.OVERSHOOTING, Regime.STUCK, Regime.SLOW]
    codes = np.select(conditions, list(range(len(choices))), default=len(choices))
    return {
        "regimes": [(*choices, Regime.OSCILLATING)[k] for k in codes.tolist()],
        "nearest": nearest, "distance": dmin, "crossings": crossings, "grad_norm": grad_norm,
        "newton": np.minimum(newton, newton_any), "eig_final": eig, "at_bottom": at_bottom,
        "unlisted_min": unlisted,
        "stuck_kind": np.where(saddle, "saddle", np.where(flat, "plateau", "stalled")),
        "late_radius": d_late_max, "noise": noise, "top_final": top_final,
    }


RATES = np.geomspace(1e-4, 10, 120)
SWEEPS = [
    RunConfig(surface="rosenbrock", optimizer="adam", steps=500),
    RunConfig(surface="bowl", optimizer="sgd", steps=80),
    RunConfig(surface="styblinski_tang", optimizer="sgd", start=(4.0, 4.0), steps=200),
    RunConfig(surface="plateau", optimizer="sgd", start=(3.0, 2.5), steps=200),
    RunConfig(surface="himmelblau", optimizer="momentum", steps=300),
    RunConfig(surface="saddle", optimizer="sgd", start=(2.0, 1e-6), steps=150),
    RunConfig(surface="rastrigin", optimizer="sgd", start=(2.2, -1.3), steps=150),
    RunConfig(surface="ravine", optimizer="nesterov", steps=100, noise=0.3, seed=5),
    RunConfig(surface="bowl", optimizer="rmsprop", steps=100, schedule="reduce_on_plateau"),
]


@pytest.fixture(scope="module")
def classified():
    blocks = [Block.of(cfg, RATES) for cfg in SWEEPS]
    batches = execute(blocks, paths=False)
    return batches, classify(batches)


def test_the_sweeps_reach_every_regime_and_an_unlisted_minimum(classified):
    _, groups = classified
    assert {r for _, f in groups for r in f.regimes} == set(Regime)
    assert any(f.unlisted_min.any() for _, f in groups)
    assert any((np.asarray(f.stuck_kind) == "saddle").any() for _, f in groups)


def test_every_feature_equals_the_reference(classified):
    batches, groups = classified
    for (_, batch), (_, feats) in zip(batches, groups, strict=True):
        cfg = batch.pieces[0].block.cfg
        refs = diagnose.references(cfg.surface, cfg.surface_values())
        stats = type(batch.stats)(*(a[: len(refs.points)] if a.ndim == 2 else a
                                    for a in batch.stats))
        want = reference_features(
            diagnose.get_surface(cfg.surface), cfg.surface_values(), batch.per_run("final_point"),
            batch.final_loss, stats, batch.diverged_at, batch.per_run("final_grad"),
            batch.per_run("final_hessian"), batch.per_piece(lambda b: b.cfg.noise))
        assert feats.regimes == want.pop("regimes"), cfg.surface
        for name, value in want.items():
            got = np.asarray(getattr(feats, name))
            assert got.shape == value.shape, name
            if value.dtype.kind == "U":  # the kind of stuck, as text
                assert [str(k) for k in got] == value.tolist(), (cfg.surface, name)
            else:
                assert got.dtype == value.dtype, name
                assert np.array_equal(got, value, equal_nan=value.dtype.kind == "f"), (
                    cfg.surface, name)


def test_the_explanations_may_overwrite_their_own_copies(classified):
    """An unlisted minimum's explanation overwrites its run's crossings and late radius; the
    scan's statistics must not change with them."""
    batches, groups = classified
    for (_, batch), (_, feats) in zip(batches, groups, strict=True):
        before = [a.copy() for a in batch.stats]
        feats.crossings[:] = -7
        feats.late_radius[:] = -7.0
        for a, b in zip(before, batch.stats, strict=True):
            assert np.array_equal(a, b, equal_nan=True)
