"""Property-based: any surface, optimizer, schedule, rate in [1e-6, 1e3], start and length gives
finite arrays of the promised shapes; blow-ups are flagged and frozen, never propagated."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrviz
from lrviz import RunConfig, simulate_many

surfaces = st.sampled_from(sorted(lrviz.SURFACES))
optimizers = st.sampled_from(sorted(lrviz.OPTIMIZERS))
schedules = st.sampled_from(sorted(lrviz.SCHEDULES))


@st.composite
def configs(draw):
    surface = lrviz.SURFACES[draw(surfaces)]
    (x0, x1), (y0, y1) = surface.domain
    start = (draw(st.floats(x0, x1)), draw(st.floats(y0, y1)))
    return RunConfig(
        surface=surface.name, optimizer=draw(optimizers), schedule=draw(schedules),
        lr=draw(st.floats(1e-6, 1e3)), start=start, steps=draw(st.sampled_from([1, 7, 50, 90])),
        noise=draw(st.sampled_from([0.0, 0.0, 0.3, 5.0])), seed=draw(st.integers(0, 2**31 - 1)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(configs(), min_size=1, max_size=6))
def test_any_configuration_runs_and_returns_finite_arrays(cfgs):
    for cfg, run in zip(cfgs, simulate_many(cfgs), strict=True):
        n = cfg.steps
        assert run.points.shape == (n + 1, 2)
        assert run.losses.shape == (n + 1,)
        assert run.lrs.shape == (n,)
        assert np.all(np.isfinite(run.points)) and np.all(np.isfinite(run.losses))
        assert np.all(np.isfinite(run.lrs)) and np.all(np.isfinite(run.lambda_max))
        np.testing.assert_allclose(run.points[0], cfg.start_point, rtol=1e-6, atol=1e-6)
        assert isinstance(run.regime, lrviz.Regime)
        assert run.explanation
        if run.diverged_at is not None:
            assert run.regime is lrviz.Regime.DIVERGED
            assert 1 <= run.diverged_at <= n
            frozen = run.points[run.diverged_at - 1 :]
            assert np.all(frozen == frozen[0]), "a blown-up run stays at its last good point"


@settings(max_examples=15, deadline=None)
@given(configs())
def test_losses_are_the_surface_at_the_points(cfg):
    run = simulate_many([cfg])[0]
    surface = lrviz.SURFACES[cfg.surface]
    f = surface(run.points[:, 0], run.points[:, 1], **cfg.surface_values())
    np.testing.assert_allclose(run.losses, f, rtol=1e-4, atol=1e-4)
