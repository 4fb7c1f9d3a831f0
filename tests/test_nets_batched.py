"""The rate-batched path of the network trainer: many networks on the same data, layer 1 of all
of them as one wide matmul (`model.rates_loss_and_grad`, used through `model.shared_*` under
vmap). Every test compares it with the one-network code it replaces, network by network, with
networks that differ, so a mix-up between rates cannot pass."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lrviz import nets
from lrviz.engine.spec import step_bucket
from lrviz.nets import core
from lrviz.nets.model import (
    loss_and_grad,
    rates_loss,
    rates_loss_and_grad,
    shared_loss,
    shared_loss_and_grad,
)
from lrviz.nets.train import (
    batch_slices,
    batched_inputs,
    rate_rows,
    run_batches,
    shared_data,
    static_for,
    train_and_track,
)


def stacked_params(cfg: nets.NetConfig, seeds) -> tuple:
    """Weights of ``len(seeds)`` different networks stacked on a leading axis."""
    nets_ = [nets.init_params(cfg.with_(seed=s)) for s in seeds]
    return tuple((jnp.stack([jnp.asarray(p[k][0]) for p in nets_]),
                  jnp.stack([jnp.asarray(p[k][1]) for p in nets_]))
                 for k in range(len(nets_[0])))


def one(params, r):
    return tuple((W[r], b[r]) for W, b in params)


def assert_tree_close(got, want, rtol=2e-5):
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert g.shape == w.shape
        scale = float(jnp.max(jnp.abs(w))) + 1e-30
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6 * scale)


# digits has 1438 training examples, which the batched path pads to 1440 (`EXAMPLE_ALIGN`):
# its cases check that the padding adds nothing, for both losses.
CASES = [("spirals", (7, 5), "tanh", "cross_entropy"), ("spirals", (6,), "relu", "mse"),
         ("digits", (32,), "tanh", "cross_entropy"), ("digits", (9, 4, 6), "relu", "cross_entropy"),
         ("digits", (6,), "tanh", "mse"), ("moons", (5, 3), "tanh", "mse")]


@pytest.mark.parametrize("dataset, hidden, activation, loss", CASES)
def test_rates_loss_and_grad_is_each_networks_own(dataset, hidden, activation, loss):
    cfg = nets.NetConfig(dataset=dataset, hidden=hidden, activation=activation, loss=loss)
    d = nets.load_dataset(dataset)
    X = jnp.asarray(d.X_train)
    target = jax.nn.one_hot(jnp.asarray(d.y_train), d.n_classes, dtype=jnp.float32)
    params = stacked_params(cfg, [0, 1, 2])
    values, grads = jax.jit(rates_loss_and_grad, static_argnums=(3, 4))(
        params, X.T, target.T, activation, loss)
    assert values.shape == (3,)
    np.testing.assert_allclose(rates_loss(params, X.T, target.T, activation, loss), values,
                               rtol=1e-6)
    for r in range(3):
        want_value, want_grads = loss_and_grad(one(params, r), X, target, activation, loss)
        assert float(values[r]) == pytest.approx(float(want_value), rel=1e-5)
        assert_tree_close(one(grads, r), want_grads)
    assert len({round(float(v), 6) for v in values}) == 3  # the networks really differ


def test_shared_functions_batch_over_weights_and_fall_back_for_per_network_data():
    cfg = nets.NetConfig(dataset="digits", hidden=(8, 6), activation="relu")
    d = nets.load_dataset("digits")
    X = jnp.asarray(d.X_train[:200])
    target = jax.nn.one_hot(jnp.asarray(d.y_train[:200]), 10, dtype=jnp.float32)
    params = stacked_params(cfg, [3, 4, 5, 6])
    grad_fn = shared_loss_and_grad(cfg.activation, cfg.loss)
    loss_fn = shared_loss(cfg.activation, cfg.loss)

    values, grads = jax.jit(jax.vmap(grad_fn, in_axes=(0, None, None, None)))(
        params, X, target, X.T)
    losses = jax.vmap(loss_fn, in_axes=(0, None, None, None))(params, X, target, X.T)
    for r in range(4):
        want_value, want_grads = loss_and_grad(one(params, r), X, target, "relu",
                                               "cross_entropy")
        assert float(values[r]) == pytest.approx(float(want_value), rel=1e-5)
        assert float(losses[r]) == pytest.approx(float(want_value), rel=1e-5)
        assert_tree_close(one(grads, r), want_grads)

    # different examples per network: the ordinary vmap, still network by network
    Xs = jnp.stack([X[50 * r : 50 * r + 50] for r in range(4)])
    Ts = jnp.stack([target[50 * r : 50 * r + 50] for r in range(4)])
    values, grads = jax.vmap(grad_fn, in_axes=(0, 0, 0, 0))(
        params, Xs, Ts, jnp.swapaxes(Xs, 1, 2))
    for r in range(4):
        want_value, want_grads = loss_and_grad(one(params, r), Xs[r], Ts[r], "relu",
                                               "cross_entropy")
        assert float(values[r]) == pytest.approx(float(want_value), rel=1e-5)
        assert_tree_close(one(grads, r), want_grads)


def test_digits_sweep_takes_the_batched_path_and_each_row_is_its_own_run():
    """The benchmark's net shape (64-32-10 on digits, relu so that a rate can diverge): the
    sweep vmaps (one wide matmul for layer 1 of all rates) while `train` runs one network
    alone; row k equals train() at rate k, including the rate that diverges, and the rows
    differ from each other. (Rates that catapult chaotically are left out: the two paths'
    different float32 rounding grows there, as between any two correct implementations.)"""
    cfg = nets.NetConfig(dataset="digits", hidden=(32,), activation="relu",
                         loss="cross_entropy", optimizer="sgd", steps=60)
    lrs = [0.03, 0.3, 1.0, 30.0]
    assert core.vmap_width(nets.load_dataset("digits").n_train, cfg.layer_sizes, 4) == 4
    sweep = nets.lr_sweep(cfg, lrs)
    finals = []
    for k, lr in enumerate(lrs):
        run = nets.train(cfg.with_(lr=lr))
        assert sweep.diverged_at[k] == run.diverged_at
        assert sweep.regimes[k] is run.regime
        np.testing.assert_allclose(sweep.train_loss[k], run.train_loss, rtol=2e-4, atol=1e-6)
        assert sweep.final_val_loss[k] == pytest.approx(run.val_loss[-1], rel=2e-4)
        assert sweep.final_val_acc[k] == pytest.approx(run.val_acc[-1], abs=1e-3)
        finals.append(sweep.final_loss[k])
    assert sweep.diverged_at[-1] is not None and sweep.diverged_at[0] is None
    assert len({round(f, 5) for f in finals}) == len(lrs)


@pytest.mark.parametrize("cfg, lrs", [
    (nets.NetConfig(dataset="digits", hidden=(16, 8), activation="relu", loss="mse",
                    optimizer="momentum", weight_decay=1e-3, steps=40), [0.01, 0.1, 0.7]),
    (nets.NetConfig(dataset="digits", hidden=(24,), activation="tanh", optimizer="adam",
                    schedule="cosine", batch_size=64, steps=40), [1e-3, 1e-2, 3e-2]),
    (nets.NetConfig(dataset="spirals", hidden=(12, 12), activation="tanh", optimizer="sgd",
                    schedule="reduce_on_plateau", weight_decay=1e-2, steps=40), [0.01, 0.1, 0.7]),
], ids=["relu-mse-momentum-decay-deep", "minibatch-adam-cosine", "plateau-decay"])
def test_sweep_rows_equal_single_runs(cfg, lrs):
    sweep = nets.lr_sweep(cfg, lrs)
    for k, lr in enumerate(lrs):
        run = nets.train(cfg.with_(lr=lr))
        assert sweep.diverged_at[k] == run.diverged_at
        assert sweep.regimes[k] is run.regime
        np.testing.assert_allclose(sweep.train_loss[k], run.train_loss, rtol=2e-4, atol=1e-6)
    assert len({round(f, 5) for f in sweep.final_loss}) == len(lrs)


def test_batched_trainer_equals_runs_in_turn_with_sharpness_and_decay():
    """`core.train_batch` vmapped (batched gradient, sharpness through its forward-mode
    derivative) gives what the same runs give one after another (`lax.map`)."""
    cfg = nets.NetConfig(dataset="moons", hidden=(6, 5), activation="tanh", optimizer="momentum",
                         weight_decay=1e-3, steps=30, sharpness_every=10)
    length = step_bucket(cfg.steps)
    rows = rate_rows(cfg, [0.05, 0.4, 2.0], length)
    x = batched_inputs(cfg, nets.init_params(cfg), rows)
    static, data = static_for(cfg, length), shared_data(cfg, length)
    in_turn = core.train_batch(static, data, x, 1)
    batched = core.train_batch(static, data, x, 4)
    assert in_turn.sharpness.shape == (4, length // 10 + 1)
    for name in ("train_loss", "sharpness", "eval_val_loss", "ok"):
        a, b = np.asarray(getattr(batched, name)), np.asarray(getattr(in_turn, name))
        np.testing.assert_allclose(a, b, rtol=1e-3 if name == "sharpness" else 1e-4, atol=1e-6)
    last = np.asarray(batched.sharpness)[:3, cfg.steps // 10]
    assert np.all(last > 0) and len({round(float(s), 3) for s in last}) == 3


def test_a_run_shorter_than_its_bucket_stops_at_its_last_update():
    """The trainer loops over the real number of updates only; the outputs padded up to the
    bucket hold the run as it ended: the last loss repeated, rate 0, no blow-up, and at every
    evaluation due there the final weights' accuracy and validation loss."""
    cfg = nets.NetConfig(dataset="moons", hidden=(6,), activation="tanh", optimizer="adam",
                         steps=30)
    length = step_bucket(cfg.steps)
    assert length > cfg.steps
    rows = rate_rows(cfg, [0.01, 0.2], length)
    x = batched_inputs(cfg, nets.init_params(cfg), rows)
    out = core.train_batch(static_for(cfg, length), shared_data(cfg, length), x, 2)
    loss, lrs = np.asarray(out.train_loss), np.asarray(out.lrs)
    n, E = cfg.steps, static_for(cfg, length).eval_every
    assert np.all(lrs[:, :n] > 0) and np.all(lrs[:, n:] == 0)
    assert np.all(np.asarray(out.ok)[:, n:])
    np.testing.assert_array_equal(loss[:, n:], np.repeat(loss[:, n : n + 1], length + 1 - n, 1))
    assert np.all(np.abs(np.diff(loss[:, : n + 1], axis=1)) > 0)  # it did move until then
    evals_past = np.arange(len(out.eval_val_loss[0])) * E > n
    for name, final in (("eval_val_loss", out.final_val_loss),
                        ("eval_train_acc", out.final_train_acc)):
        got = np.asarray(getattr(out, name))[:, evals_past]
        np.testing.assert_array_equal(got, np.repeat(np.asarray(final)[:, None], got.shape[1], 1))


def test_batch_slices_cover_every_run_once_and_give_each_worker_a_batch():
    for total, chunk, workers in [(32, 64, 2), (5, 64, 2), (7, 2, 3), (1, 64, 2), (100, 16, 1)]:
        parts = batch_slices(total, chunk, workers)
        covered = np.concatenate([np.arange(total)[part] for part in parts])
        np.testing.assert_array_equal(covered, np.arange(total))
        assert max(part.stop - part.start for part in parts) <= chunk
        assert len(parts) >= min(workers, total)
    assert [(p.start, p.stop) for p in batch_slices(32, 64, 2)] == [(0, 16), (16, 32)]


def test_threaded_sweep_and_map_equal_one_batch_at_a_time():
    """Batches run on worker threads (`runtime.run_batches`) give the rows of the same sweep run
    as one batch on the calling thread, whatever the split (5 rates on 1, 2 or 3 workers), up
    to float32 rounding (a batch of another size rounds differently: the same tolerance as
    sweep rows against single runs), and report progress up to 1.0; the same for a map."""
    cfg = nets.NetConfig(dataset="digits", hidden=(32,), activation="tanh", optimizer="sgd",
                         steps=40)
    lrs = [0.05, 0.3, 1.0, 3.0, 8.0]
    one = nets.lr_sweep(cfg, lrs, workers=1)
    for workers in (2, 3):
        seen = []
        threaded = nets.lr_sweep(cfg, lrs, workers=workers, progress=seen.append)
        assert seen == sorted(seen) and seen[-1] == 1.0
        assert len(seen) == len(batch_slices(len(lrs), 64, workers)) > 1
        np.testing.assert_allclose(threaded.train_loss, one.train_loss, rtol=2e-4, atol=1e-6)
        assert threaded.diverged_at == one.diverged_at
    assert len({round(f, 5) for f in one.final_loss}) == len(lrs)
    map_cfg = nets.NetConfig(dataset="circles", hidden=(4,), loss="mse", steps=30)
    grid = [0.1, 1.0, 10.0, 100.0]
    maps = [nets.trainability_map(map_cfg, grid, grid, n_examples=8, chunk=4, workers=w)
            for w in (1, 2)]
    np.testing.assert_array_equal(maps[0].diverged, maps[1].diverged)
    np.testing.assert_allclose(maps[0].final_loss, maps[1].final_loss, rtol=2e-4)
    assert maps[0].diverged.any() and not maps[0].diverged.all()


def test_run_batches_keeps_job_order_and_raises_a_jobs_error():
    def job(k):
        return lambda: k

    assert run_batches([job(k) for k in range(5)], [1] * 5, workers=2) == list(range(5))

    def bad():
        raise ValueError("this batch failed")

    with pytest.raises(ValueError, match="this batch failed"):
        run_batches([job(0), bad], [1, 1], workers=2)


def test_run_batches_starts_no_further_batch_once_progress_raises():
    """An interrupt raised from ``progress`` (as a page rerun does) stops the work: the
    batches not yet started never run."""
    started = []

    def job(k):
        def run():
            started.append(k)
            time.sleep(0.05)
            return k
        return run

    def interrupt(fraction):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batches([job(k) for k in range(8)], [1] * 8, workers=2, progress=interrupt)
    assert len(started) < 8


@pytest.mark.parametrize("width", [1, 3])
def test_sharpness_tracked_on_a_second_thread_equals_the_one_program_run(width):
    """`train.train_and_track` (stretches of updates, each stretch's sharpness measured on
    another thread while the next one trains) gives what `core.train_batch` gives in one
    program: every output, each measurement at its step (37 steps at cadence 3 come in 5
    stretches of 9, the last one a single update), none past the last step, each equal to a
    fresh measurement at the weights of its step; the run at rate 20 diverges and its later
    measurements are those of its last finite weights."""
    cfg = nets.NetConfig(dataset="moons", hidden=(8,), activation="tanh", loss="mse",
                         optimizer="sgd", steps=37, sharpness_every=3)
    length = step_bucket(cfg.steps)
    x = batched_inputs(cfg, nets.init_params(cfg), rate_rows(cfg, [0.3, 1.5, 20.0], length))
    static, data = static_for(cfg, length), shared_data(cfg, length)
    assert static.stretch == 9
    whole = core.train_batch(static, data, x, width)
    pieces = train_and_track(static, data, x, width)
    for name, a in whole._asdict().items():
        for got, want in zip(jax.tree.leaves(getattr(pieces, name)), jax.tree.leaves(a),
                             strict=True):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5,
                                       atol=1e-7, err_msg=name)
    sharp = np.asarray(pieces.sharpness)[:3]
    measured = np.arange(sharp.shape[1]) * 3 <= cfg.steps
    assert np.all(sharp[:, measured] > 0) and np.all(sharp[:, ~measured] == 0)
    ok = np.asarray(pieces.ok)[2]
    assert not ok[: cfg.steps].all()  # rate 20 diverged ...
    for i in (3, 4, 8, 12):  # at, inside, ending and in the last stretch
        trained = nets.train(cfg.with_(lr=1.5, steps=3 * i, sharpness_every=0))
        assert sharp[1, i] == pytest.approx(nets.sharpness(cfg, trained.params), rel=1e-2)
    frozen = np.arange(sharp.shape[1]) * 3 > np.argmin(ok)
    assert frozen[measured].sum() > 5
    assert np.ptp(sharp[2, frozen & measured]) < 1e-2 * sharp[2, 0]  # ... and stayed put


def test_measuring_the_sharpness_leaves_the_training_unchanged():
    cfg = nets.NetConfig(dataset="moons", hidden=(16,), lr=0.5, steps=60)
    plain, measured = nets.train(cfg), nets.train(cfg.with_(sharpness_every=7))
    np.testing.assert_allclose(measured.train_loss, plain.train_loss, rtol=1e-6)
    np.testing.assert_allclose(measured.val_loss, plain.val_loss, rtol=1e-6)
    assert len(measured.sharpness) == 60 // 7 + 1 and len(plain.sharpness) == 0
