"""The network engine's public API: data sets, config validation, initial weights, training."""

import numpy as np
import pytest

import lrviz
from lrviz import nets
from lrviz.engine.diagnose import Regime


def test_digits_is_bundled_split_and_standardised():
    d = nets.load_dataset("digits")
    assert d.X_train.shape[1] == 64 and d.n_classes == 10
    assert d.X_train.shape[0] + d.X_val.shape[0] == 1797
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-5)
    stds = d.X_train.std(axis=0)
    assert np.all((np.abs(stds - 1) < 1e-4) | (stds == 0))
    assert set(np.unique(d.y_train)) == set(range(10))


@pytest.mark.parametrize("name", ["moons", "spirals", "circles"])
def test_generated_sets_are_two_class_2d_and_fixed(name):
    d = nets.load_dataset(name)
    assert d.X_train.shape == (400, 2) and d.X_val.shape == (100, 2) and d.n_classes == 2
    nets.load_dataset.cache_clear()
    again = nets.load_dataset(name)
    np.testing.assert_array_equal(d.X_train, again.X_train)
    np.testing.assert_array_equal(d.y_val, again.y_val)


@pytest.mark.parametrize("bad, words", [
    (dict(dataset="mnist"), "unknown dataset"),
    (dict(optimizer="lion"), "unknown optimizer"),
    (dict(schedule="linear"), "unknown schedule"),
    (dict(lr=-1.0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(hidden=()), "hidden"),
    (dict(hidden=(0,)), "hidden"),
    (dict(activation="gelu"), "activation"),
    (dict(loss="hinge"), "loss"),
    (dict(batch_size=5000), "larger than"),
    (dict(optimizer="adamw", weight_decay=0.1), "decoupled"),
    (dict(optimizer_params={"beta3": 0.5}), "no parameter"),
    (dict(steps=0), "steps"),
])
def test_bad_configs_say_what_is_wrong(bad, words):
    with pytest.raises(ValueError, match=words):
        nets.NetConfig(**bad)


def test_init_is_pytorch_linear_default():
    cfg = nets.NetConfig(dataset="digits", hidden=(32, 16))
    params = nets.init_params(cfg)
    assert [W.shape for W, _ in params] == [(64, 32), (32, 16), (16, 10)]
    for W, b in params:
        bound = 1 / np.sqrt(W.shape[0])
        assert np.abs(W).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(W).max() > 0.9 * bound  # uniform over the whole interval, not narrower
    again = nets.init_params(cfg)
    np.testing.assert_array_equal(params[0][0], again[0][0])
    other = nets.init_params(cfg.with_(seed=1))
    assert not np.array_equal(params[0][0], other[0][0])


def test_train_returns_curves_of_the_documented_lengths():
    cfg = nets.NetConfig(dataset="moons", hidden=(16,), lr=0.5, steps=120, sharpness_every=10)
    run = nets.train(cfg)
    assert run is not None and lrviz.nets.train is nets.train
    assert run.train_loss.shape == (121,) and run.lrs.shape == (120,)
    assert run.eval_steps[0] == 0 and run.eval_steps[-1] == 120
    assert run.val_loss.shape == run.val_acc.shape == run.train_acc.shape == run.eval_steps.shape
    np.testing.assert_array_equal(run.sharpness_steps, np.arange(0, 121, 10))
    assert run.sharpness.shape == (13,) and np.all(run.sharpness > 0)
    np.testing.assert_allclose(run.lrs, 0.5)
    assert run.diverged_at is None and run.train_loss[-1] < 0.5 * run.train_loss[0]
    assert run.val_acc[-1] > 0.8
    assert f"{run.train_loss[-1]:.3g}" in run.explanation
    assert run.regime in (Regime.CONVERGED, Regime.SLOW, Regime.OVERSHOOTING)


def test_train_from_given_weights_and_bad_weights():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), steps=20)
    params = nets.init_params(cfg)
    a, b = nets.train(cfg, params), nets.train(cfg)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    with pytest.raises(ValueError, match="layer 1"):
        nets.train(cfg, [(np.zeros((3, 8)), np.zeros(8)), params[1]])
    with pytest.raises(ValueError, match="finite"):
        nets.train(cfg, [(np.full((2, 8), np.nan), np.zeros(8)), params[1]])


def test_divergence_is_caught_and_frozen():
    cfg = nets.NetConfig(dataset="moons", hidden=(16,), activation="relu", loss="mse",
                         lr=50.0, steps=100)
    run = nets.train(cfg)
    assert run.regime is Regime.DIVERGED and run.diverged_at is not None
    assert np.all(np.isfinite(run.train_loss))
    assert np.all(run.train_loss[run.diverged_at:] == run.train_loss[run.diverged_at - 1])
    assert f"step {run.diverged_at}" in run.explanation
    assert all(np.all(np.isfinite(W)) for W, _ in run.params)


def test_minibatches_differ_from_full_batch_and_are_seeded():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), steps=50, batch_size=32, lr=0.3)
    a, b = nets.train(cfg), nets.train(cfg)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    full = nets.train(cfg.with_(batch_size=None))
    assert not np.allclose(a.train_loss, full.train_loss)
    c = nets.train(cfg.with_(seed=3))
    assert not np.allclose(a.train_loss, c.train_loss)


def test_schedule_rates_come_from_the_shared_registry():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), steps=60, lr=0.2, schedule="cosine")
    run = nets.train(cfg)
    np.testing.assert_allclose(run.lrs, lrviz.schedule_values("cosine", 0.2, 60), rtol=1e-6)


def test_predictions_match_the_engines_accuracy():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), lr=0.5, steps=50)
    run = nets.train(cfg)
    data = nets.load_dataset("moons")
    proba = nets.predict_proba(cfg, run.params, data.X_val)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    acc = np.mean(proba.argmax(axis=1) == data.y_val)
    assert acc == pytest.approx(run.val_acc[-1], abs=1e-6)
    with pytest.raises(ValueError, match="shape"):
        nets.predict_proba(cfg, run.params, np.zeros((4, 3)))


def test_a_sweep_is_the_same_runs_as_one_by_one():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), steps=50, schedule="cosine")
    lrs = [0.05, 0.5, 5.0]
    sweep = nets.lr_sweep(cfg, lrs)
    for k, lr in enumerate(lrs):
        run = nets.train(cfg.with_(lr=lr))
        np.testing.assert_allclose(sweep.train_loss[k], run.train_loss, rtol=1e-5, atol=1e-7)
        assert sweep.regimes[k] is run.regime
        assert sweep.final_val_acc[k] == pytest.approx(run.val_acc[-1])
    assert sweep.best_lr in lrs
    with pytest.raises(ValueError, match="positive"):
        nets.lr_sweep(cfg, [0.1, -1.0])


def test_range_test_ramps_exponentially_and_cuts_at_its_stop():
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), loss="mse", activation="relu")
    test = nets.range_test(cfg, 1e-3, 1e3, 100)
    n = len(test.lrs)
    assert test.lrs[0] == pytest.approx(1e-3)
    np.testing.assert_allclose(test.lrs[1:] / test.lrs[:-1], (1e6) ** (1 / 99), rtol=1e-4)
    assert test.stopped_at is not None and n == test.stopped_at < 100
    assert test.losses.shape == test.smoothed.shape == (n,)
    assert np.all(np.isfinite(test.losses))
    assert test.lrs[0] <= test.suggestion <= test.lr_at_min


def test_trainability_map_validates_and_reports_progress():
    cfg = nets.NetConfig(dataset="circles", hidden=(4,), loss="mse", steps=30)
    seen = []
    tmap = nets.trainability_map(cfg, [0.1, 1.0, 100.0], [0.1, 100.0], n_examples=8,
                                 chunk=4, progress=seen.append)
    assert tmap.final_loss.shape == (2, 3) and seen[-1] == 1.0 and len(seen) == 2
    assert not tmap.diverged[0, 0] and tmap.diverged[1, 2]
    with pytest.raises(ValueError, match="full batch"):
        nets.trainability_map(cfg.with_(batch_size=16), [0.1], [0.1])
    with pytest.raises(ValueError, match="n_examples"):
        nets.trainability_map(cfg, [0.1], [0.1], n_examples=0)
    with pytest.raises(ValueError, match="layer-2 rate"):
        nets.trainability_map(cfg, [0.1], [])


def test_train_sizes_are_known_without_loading_and_lrviz_imports_light():
    import subprocess
    import sys

    from lrviz.nets.data import DATASETS, load_dataset, train_size

    assert {n: train_size(n) for n in DATASETS} == {n: load_dataset(n).n_train for n in DATASETS}
    probe = ("import sys, lrviz; print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"  # configs and presets are validated without scikit-learn


@pytest.mark.parametrize("activation, loss", [("tanh", "cross_entropy"), ("relu", "mse"),
                                              ("relu", "cross_entropy"), ("tanh", "mse")])
def test_hand_written_backprop_equals_autodiff(activation, loss):
    """The trainer's explicit backpropagation gives jax.grad's loss and gradient, with and
    without the pre-transposed data, on a net with two hidden layers."""
    import jax
    import jax.numpy as jnp

    from lrviz.nets.model import data_loss, loss_and_grad

    cfg = nets.NetConfig(dataset="spirals", hidden=(7, 5), activation=activation, loss=loss,
                         seed=3)
    d = nets.load_dataset(cfg.dataset)
    X, y = jnp.asarray(d.X_train), jnp.asarray(d.y_train)
    params = tuple((jnp.asarray(W), jnp.asarray(b)) for W, b in nets.init_params(cfg))
    want_loss, want = jax.value_and_grad(data_loss)(params, X, y, activation, loss)
    target = jax.nn.one_hot(y, d.n_classes, dtype=jnp.float32)
    for XT in (None, X.T):
        got_loss, got = loss_and_grad(params, X, target, activation, loss, XT)
        assert float(got_loss) == pytest.approx(float(want_loss), rel=1e-6)
        for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7 * float(jnp.max(jnp.abs(w))))


def _diagonal_lanczos(eigenvalues, v0, max_iters, tol=0.0, min_iters=1):
    import jax.numpy as jnp

    from lrviz.nets.lanczos import lanczos_top

    d = jnp.asarray(eigenvalues, jnp.float32)
    value, vector, products = lanczos_top(lambda u: d * u, jnp.asarray(v0, jnp.float32),
                                          max_iters, tol, min_iters)
    return float(value), np.asarray(vector), int(products)


def test_lanczos_finds_the_top_eigenvalue_and_stops_when_converged():
    spectrum = np.array([3.0, -5.0, 2.5, 1.0, 0.5, -1.0, 2.9, 0.1])  # largest, not largest |.|
    probe = np.random.default_rng(0).standard_normal(8)
    # tol = 0 runs every step (until the Krylov space is the whole space) and is exact
    value, vector, products = _diagonal_lanczos(spectrum, probe, 8)
    assert value == pytest.approx(3.0, rel=1e-5) and products == 8
    assert abs(vector[0]) == pytest.approx(1.0, abs=1e-4)
    # a few steps are a lower bound (Ritz values approach the top from below)
    assert _diagonal_lanczos(spectrum, probe, 2)[0] < 3.0
    # warm-started next to the top eigenvector: the residual test stops early, and the value
    # is within the tolerance of the top eigenvalue
    near = np.eye(8)[0] + 0.01 * probe
    value, _, products = _diagonal_lanczos(spectrum, near, 8, tol=1e-2)
    assert products < 8 and value == pytest.approx(3.0, rel=1e-2)
    # ... but never before the minimum number of steps
    assert _diagonal_lanczos(spectrum, near, 8, tol=1e-2, min_iters=4)[2] >= 4
    # an exact eigenvector spans an invariant space: one product, exact value
    value, _, products = _diagonal_lanczos(spectrum, np.eye(8)[0], 8)
    assert products == 1 and value == pytest.approx(3.0, rel=1e-6)
