"""Every surface: its minima are minima, its gradients are finite everywhere it can be visited."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lrviz
from lrviz.engine.theory import local_model

NAMES = sorted(lrviz.SURFACES)


def test_there_are_at_least_twelve_surfaces_with_complete_metadata():
    assert len(NAMES) >= 12
    for s in lrviz.SURFACES.values():
        assert s.latex and s.teaches and s.starts and s.minima()
        assert any(m.is_global for m in s.minima())
        (x0, x1), (y0, y1) = s.domain
        for x, y in s.starts:
            assert x0 <= x <= x1 and y0 <= y <= y1


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_are_critical_points_with_positive_curvature(name):
    s = lrviz.SURFACES[name]
    values = [m.value for m in s.minima()]
    for m in s.minima():
        value, grad, H = local_model(s, m.point)
        assert np.linalg.norm(grad) < 2e-3 * max(1.0, np.abs(H).max())
        assert np.linalg.eigvalsh(H).min() > 0
        assert value == pytest.approx(m.value, abs=1e-3)
        assert m.is_global == (m.value <= min(values) + 1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_are_finite_across_and_beyond_the_domain(name):
    s = lrviz.SURFACES[name]
    (x0, x1), (y0, y1) = s.domain
    cx, cy = s.center
    # the engine stops runs 10 domain-sizes from the centre; check out to there
    span = 10 * s.scale
    xs = np.concatenate([np.linspace(x0, x1, 41), np.linspace(cx - span, cx + span, 21)])
    ys = np.concatenate([np.linspace(y0, y1, 41), np.linspace(cy - span, cy + span, 21)])
    X, Y = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([X.ravel(), Y.ravel()], 1), jnp.float32)
    q = {k: jnp.float32(v) for k, v in s.resolve().items()}
    grads = jax.vmap(jax.grad(lambda p: s.fn(p, q)))(pts)
    assert np.all(np.isfinite(np.asarray(grads)))


def test_wells_minima_follow_their_parameters():
    s = lrviz.SURFACES["gaussian_wells"]
    moved = s.minima({"x1": 1.0, "y1": -2.0, "depth1": 0.5, "x2": -1.0, "y2": 1.5,
                      "depth2": 2.0})
    deepest = min(moved, key=lambda m: m.value)
    assert deepest.is_global and abs(deepest.x + 1.0) < 0.1 and abs(deepest.y - 1.5) < 0.1
    assert len(moved) == 2


def test_surface_call_evaluates_numpy_grids():
    s = lrviz.SURFACES["booth"]
    np.testing.assert_allclose(s(np.array([1.0, 0.0]), np.array([3.0, 0.0])), [0.0, 74.0],
                               atol=1e-5)
    xs, ys, Z = s.grid(30)
    assert xs.shape == ys.shape == (30,)
    assert Z.shape == (30, 30) and np.all(np.isfinite(Z))
