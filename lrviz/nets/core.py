"""The compiled trainer: one ``jit(lax.map/vmap(lax.fori_loop))`` per network structure.

A run with a sharpness cadence S trains in stretches of `Static.stretch` updates (a multiple
of S) and stores its weights every S updates of a stretch; the sharpness at them is measured by
a separate program (`track_batch`), which `train.train_and_track` runs on a second thread
while the next stretch trains (`start_batch`, `advance_batch`, `finish_batch`). `train_batch`
does the same stretch after stretch in one program.

Structure (layer sizes, activation, loss, optimizer, loss-driven schedule or not, full batch or
mini-batches, evaluation and sharpness cadence, step bucket, batch bucket) is static. Every number
(initial weights, learning rates per step, per-layer rate factors, optimizer parameters, weight
decay) is a traced input, so a new rate never recompiles.

Runs of one batch share the data and the real step count, which is the trip count of the
training loop (a traced number), so padding a run's outputs up to its bucket costs nothing.
Divergence is caught inside the loop: an update that makes the weights, the loss or the
gradient non-finite, or the loss larger than `BLOWUP` times the starting loss, is not taken,
and the run stays frozen at its last finite weights.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from lrviz.engine import schedules
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.nets import lanczos
from lrviz.nets.lanczos import lanczos_top, objective_hvp
from lrviz.nets.model import (
    Params,
    accuracy,
    forward,
    loss_and_grad,
    loss_from_outputs,
    shared_loss,
    shared_loss_and_grad,
)

BLOWUP = 1e4  # a loss this many times the starting loss (or non-finite) has diverged


class Static(NamedTuple):
    """The compile-time structure of a batch of runs."""

    activation: str
    loss: str
    optimizer: str
    plateau: bool
    full_batch: bool
    eval_every: int
    sharpness_every: int  # 0: never
    stretch: int = 0  # updates per stretch when S > 0: a multiple of S (see `train.stretch_for`)


class Data(NamedTuple):
    """Unbatched inputs every run of a batch shares."""

    X_train: jax.Array
    y_train: jax.Array
    X_val: jax.Array
    y_val: jax.Array
    batches: jax.Array  # (N, batch) example indices of each update; (N, 0) for full batch
    steps: jax.Array  # the real number of updates (<= N)


class Inputs(NamedTuple):
    """Per-run traced inputs (a leading batch axis when batched)."""

    params: Params
    optimizer_params: dict[str, jax.Array]
    lrs: jax.Array  # (N,) base rate of each update, before any plateau factor
    layer_scales: jax.Array  # (L,) factor on each layer's update (per-layer learning rates)
    weight_decay: jax.Array  # L2 coefficient added to the gradient
    plateau_params: dict[str, jax.Array]
    probe: jax.Array  # flat starting vector of the first sharpness measurement


class Outputs(NamedTuple):
    params: Params  # final (last finite) weights
    train_loss: jax.Array  # (N+1,) full training loss before update t (and after the last)
    lrs: jax.Array  # (N,) rate update t used
    ok: jax.Array  # (N,) False from the first update that blew up on
    eval_train_acc: jax.Array  # (N//E + 1,) at steps 0, E, 2E, ...
    eval_val_loss: jax.Array
    eval_val_acc: jax.Array
    sharpness: jax.Array  # (N//S + 1,) at steps 0, S, 2S, ... (empty when S = 0)
    final_train_acc: jax.Array  # at the real last step
    final_val_loss: jax.Array
    final_val_acc: jax.Array


def with_decay(grads: Params, params: Params, weight_decay: jax.Array) -> Params:
    """The gradient of loss + weight_decay/2 |theta|^2: PyTorch's ``g + weight_decay * theta``."""
    return jax.tree.map(lambda g, p: g + weight_decay * p, grads, params)


def objective_gradient(activation: str, loss: str, data: Data, n_classes: int,
                       weight_decay: jax.Array):
    """The gradient, as a function of the weights, of the training objective: the loss over
    the whole training set plus weight_decay/2 |theta|^2 (the function whose Hessian every
    sharpness measurement takes, by the plain backprop: `jax.linearize` cannot go through the
    batched path's `custom_vmap`)."""
    target = jax.nn.one_hot(data.y_train, n_classes, dtype=jnp.float32)
    XT = jnp.transpose(data.X_train)

    def gradient(p: Params) -> Params:
        return with_decay(loss_and_grad(p, data.X_train, target, activation, loss, XT)[1], p,
                          weight_decay)

    return gradient


class State(NamedTuple):
    """A run between two calls of `advance_batch`."""

    carry: tuple  # weights, loss, gradient, optimizer state, plateau state, alive, first loss
    record: tuple  # (N,) per-update records: loss, rate, ok, train acc, val loss, val acc
    # (stretch/S + 1, P) flat weights at steps t0, t0 + S, ... of the current stretch (from
    # update t0 on); (0, 0) when S = 0
    snapshots: jax.Array


def _loop(static: Static, data: Data, x: Inputs):
    """The pieces of one run's training loop: ``(start, body, evaluate)``."""
    act, loss_kind = static.activation, static.loss
    opt = OPTIMIZERS[static.optimizer].build(x.optimizer_params)
    E, S = static.eval_every, static.sharpness_every

    # Loop invariants built once, outside the loop (see `loss_and_grad`).
    target = jax.nn.one_hot(data.y_train, x.params[-1][1].shape[0], dtype=jnp.float32)
    XT = jnp.transpose(data.X_train)

    # Every run of a batch trains on the same examples, so under vmap these run one wide
    # product for layer 1 of all runs (`model.shared_loss_and_grad`).
    loss_fn, loss_and_grad_fn = shared_loss(act, loss_kind), shared_loss_and_grad(act, loss_kind)

    def full_loss_and_grad(p):
        return loss_and_grad_fn(p, data.X_train, target, XT)

    def evaluate(p):
        train_acc = accuracy(forward(p, data.X_train, act), data.y_train)
        val_out = forward(p, data.X_val, act)
        return train_acc, loss_from_outputs(val_out, data.y_val, loss_kind), accuracy(
            val_out, data.y_val)

    def batch_grad(p, t):
        X = data.X_train[data.batches[t]]
        return loss_and_grad_fn(p, X, target[data.batches[t]], jnp.transpose(X))[1]

    def update(carry, t):
        p, loss, grad, opt_state, plateau_state, alive, loss0 = carry
        g = grad if static.full_batch else batch_grad(p, t)
        g = with_decay(g, p, x.weight_decay)
        lr = x.lrs[t] * plateau_state.scale if static.plateau else x.lrs[t]
        opt_state = opt_state._replace(hyperparams={**opt_state.hyperparams,
                                                    "learning_rate": lr})
        updates, new_opt_state = opt.update(g, opt_state, p)
        p_new = tuple((W + s * dW, b + s * db)
                      for (W, b), (dW, db), s in zip(p, updates, x.layer_scales, strict=True))
        if static.full_batch:
            loss_new, grad_new = full_loss_and_grad(p_new)
            grad_ok = jnp.all(jnp.array([jnp.all(jnp.isfinite(a))
                                         for a in jax.tree.leaves(grad_new)]))
        else:
            loss_new, grad_new, grad_ok = loss_fn(p_new, data.X_train, target, XT), grad, True
        ok = (alive & grad_ok & jnp.isfinite(loss_new) & (loss_new <= BLOWUP * loss0)
              & jnp.all(jnp.array([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(p_new)])))
        # Rejected values are never used again, not even by later gradients ("double where").
        keep = lambda a, b: jnp.where(ok, a, b)  # noqa: E731
        plateau_next = (schedules.plateau_update(plateau_state, loss, x.lrs[0],
                                                 x.plateau_params)
                        if static.plateau else plateau_state)
        carry = (jax.tree.map(keep, p_new, p), keep(loss_new, loss),
                 jax.tree.map(keep, grad_new, grad), jax.tree.map(keep, new_opt_state, opt_state),
                 plateau_next, ok, loss0)
        return carry, (lr, ok)

    def body(t, state: State, snapshot: bool = False) -> State:
        carry, (lr, ok) = update(state.carry, t)
        p = carry[0]
        zero = jnp.float32(0.0)
        evals = jax.lax.cond((t + 1) % E == 0, evaluate, lambda p: (zero, zero, zero), p)
        values = (carry[1], lr, ok, *evals)
        record = tuple(r.at[t].set(value) for r, value in zip(state.record, values, strict=True))
        snapshots = state.snapshots
        if snapshot:  # the weights after the update (the last finite ones once diverged)
            snapshots = snapshots.at[(t % static.stretch + 1) // S].set(ravel_pytree(p)[0])
        return State(carry, record, snapshots)

    def start() -> State:
        p0 = x.params
        loss0, grad0 = full_loss_and_grad(p0)
        carry = (p0, loss0, grad0, opt.init(p0), schedules.plateau_init(), jnp.bool_(True),
                 loss0)
        n = x.lrs.shape[0]
        zeros = jnp.zeros(n, jnp.float32)
        record = (zeros, zeros, jnp.ones(n, bool), zeros, zeros, zeros)
        flat = ravel_pytree(p0)[0]
        snapshots = (jnp.zeros((static.stretch // S + 1, flat.size), flat.dtype) if S
                     else jnp.zeros((0, 0), flat.dtype))
        return State(carry, record, snapshots)

    return start, body, evaluate


def _advance(static: Static, data: Data, x: Inputs, state: State, t0: jax.Array,
             t1: jax.Array) -> State:
    """Updates ``t0 <= t < min(t1, data.steps)``; with a sharpness cadence, one stretch
    (``t0`` a multiple of `Static.stretch`, ``t1 <= t0 + stretch``), whose weights at steps
    ``t0, t0 + S, ...`` it stores.

    A loop of exactly these updates (a while loop: the count is traced), not a scan over the
    whole bucket with a per-step ``lax.cond`` around the update: XLA hoists loop-invariant work
    out of a loop body but not out of a branch inside it, so the cond kept the batched gradient
    padding the data and transposing the targets every step (about 2% of a step of the 16-rate
    digits sweep per core, seen in XLA's profile). With a sharpness cadence S, blocks of S - 1
    plain updates and one that also stores the weights, again with no branch."""
    _, body, _ = _loop(static, data, x)
    S = static.sharpness_every
    t1 = jnp.minimum(t1, data.steps)
    if not S:
        return jax.lax.fori_loop(t0, t1, body, state)

    def block(b, state):
        state = jax.lax.fori_loop(b * S, (b + 1) * S - 1, body, state)
        return body((b + 1) * S - 1, state, snapshot=True)

    start = ravel_pytree(state.carry[0])[0]
    state = state._replace(snapshots=state.snapshots.at[0].set(start))
    state = jax.lax.fori_loop(t0 // S, t1 // S, block, state)
    return jax.lax.fori_loop(jnp.maximum(t0, t1 // S * S), t1, body, state)


def _finish(static: Static, data: Data, x: Inputs, state: State) -> Outputs:
    """The outputs of a run whose updates are all done (the sharpness zero: see `_track`)."""
    _, _, evaluate = _loop(static, data, x)
    n, E, S = x.lrs.shape[0], static.eval_every, static.sharpness_every
    losses, lrs, oks, tr_acc, va_loss, va_acc = state.record
    p0, p_final = x.params, state.carry[0]
    loss0 = state.carry[-1]
    acc0, vloss0, vacc0 = evaluate(p0)
    accT, vlossT, vaccT = evaluate(p_final)
    # Past the real step count the run stays where it ended: its loss is the last one, and the
    # evaluations due there are those of the final weights (rates 0, no sharpness).
    index = jnp.arange(n)
    past = index >= data.steps
    losses = jnp.where(past, state.carry[1], losses)
    due_past = past & ((index + 1) % E == 0)
    tr_acc, va_loss, va_acc = (jnp.where(due_past, final, a) for a, final in
                               ((tr_acc, accT), (va_loss, vlossT), (va_acc, vaccT)))
    pick = lambda a, first: jnp.concatenate([first[None], a[E - 1 :: E]])  # noqa: E731
    return Outputs(
        params=p_final,
        train_loss=jnp.concatenate([loss0[None], losses]),
        lrs=lrs,
        ok=oks,
        eval_train_acc=pick(tr_acc, acc0),
        eval_val_loss=pick(va_loss, vloss0),
        eval_val_acc=pick(va_acc, vacc0),
        sharpness=jnp.zeros(n // S + 1 if S else 0, jnp.float32),
        final_train_acc=accT,
        final_val_loss=vlossT,
        final_val_acc=vaccT,
    )


def _track(static: Static, data: Data, x: Inputs, snapshots: jax.Array, t0: jax.Array,
           t1: jax.Array, sharpness: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`lanczos.track` on the weights one run stored in its stretch of updates ``t0 <= t <
    t1``: the sharpness of its training objective (loss + weight_decay/2 |theta|^2) at the steps
    ``i * S`` in ``(t0, t1]`` (and at step 0 for the first stretch)."""
    gradient = objective_gradient(static.activation, static.loss, data,
                                  x.params[-1][1].shape[0], x.weight_decay)
    unravel = ravel_pytree(x.params)[1]
    S = static.sharpness_every
    base = t0 // S

    def hvp_at(i):
        return objective_hvp(gradient, unravel(snapshots[i - base]))

    t1 = jnp.minimum(t1, data.steps)
    return lanczos.track(hvp_at, base + (t0 > 0), t1 // S + 1, sharpness, v)


def _train_one(static: Static, data: Data, x: Inputs) -> Outputs:
    """A whole run in one program: its updates, each stretch followed by its measurements."""
    start, _, _ = _loop(static, data, x)
    n, S, L = x.lrs.shape[0], static.sharpness_every, static.stretch
    if not S:
        return _finish(static, data, x, _advance(static, data, x, start(), 0, data.steps))

    def stretch(k, values):
        state, sharpness, v = values
        t0, t1 = k * L, (k + 1) * L
        state = _advance(static, data, x, state, t0, t1)
        return (state, *_track(static, data, x, state.snapshots, t0, t1, sharpness, v))

    values = (start(), jnp.zeros(n // S + 1, jnp.float32), x.probe)
    state, sharpness, _ = jax.lax.fori_loop(0, (data.steps + L - 1) // L, stretch, values)
    return _finish(static, data, x, state)._replace(sharpness=sharpness)


def _over_runs(fn, width: int, *args):
    """``fn`` on each run along the leading axis of ``args``: one after another inside the
    program (``lax.map``) for ``width=1``, else vmapped (see `train_batch`)."""
    if width == 1:
        return jax.lax.map(lambda a: fn(*a), args)
    return jax.vmap(fn)(*args)


@functools.partial(jax.jit, static_argnums=(0, 3))
def train_batch(static: Static, data: Data, inputs: Inputs, width: int) -> Outputs:
    """All runs of one structure in one compiled program, ``data`` shared.

    ``width=1`` runs the runs along the leading axis of ``inputs`` one after another inside the
    program (``lax.map``); any other width vmaps them all at once, and then every gradient of
    the batch is computed together (`model.shared_loss_and_grad`): since the runs share their
    examples, layer 1 of all of them is one wide matmul. `vmap_width` picks between the two.
    """
    return _over_runs(functools.partial(_train_one, static, data), width, inputs)


# The same runs in pieces, so that the sharpness of one stretch of updates is measured (on
# another thread) while the next stretch trains: see `train.train_and_track`.


@functools.partial(jax.jit, static_argnums=(0, 3))
def start_batch(static: Static, data: Data, inputs: Inputs, width: int) -> State:
    return _over_runs(lambda x: _loop(static, data, x)[0](), width, inputs)


@functools.partial(jax.jit, static_argnums=(0, 3))
def advance_batch(static: Static, data: Data, inputs: Inputs, width: int, state: State,
                  t0: jax.Array, t1: jax.Array) -> State:
    return _over_runs(lambda x, s: _advance(static, data, x, s, t0, t1), width, inputs, state)


@functools.partial(jax.jit, static_argnums=(0, 3))
def finish_batch(static: Static, data: Data, inputs: Inputs, width: int,
                 state: State) -> Outputs:
    return _over_runs(functools.partial(_finish, static, data), width, inputs, state)


@functools.partial(jax.jit, static_argnums=(0, 3))
def track_batch(static: Static, data: Data, inputs: Inputs, width: int, snapshots: jax.Array,
                t0: jax.Array, t1: jax.Array, sharpness: jax.Array,
                v: jax.Array) -> tuple[jax.Array, jax.Array]:
    return _over_runs(lambda x, s, h, v: _track(static, data, x, s, t0, t1, h, v), width,
                      inputs, snapshots, sharpness, v)


VMAP_BYTES = 64 * 2**20  # layer outputs of a vmapped batch above which runs go one by one


def vmap_width(n_examples: int, layer_sizes: tuple[int, ...], batch: int) -> int:
    """How many runs to vmap together: the whole batch, unless its layer outputs (float32,
    batch x examples x every layer's width) pass `VMAP_BYTES`; then, and for a single run,
    one at a time. Vmapped, the runs' first layers are one wide matmul, which on the 64-32-10
    digits net ran a 32-rate sweep 2-3x faster than the runs in turn (whose per-run matmuls
    XLA's CPU backend runs far below its large-matmul speed); the memory bound keeps wide,
    deep nets from holding several hundred MB of activations at once."""
    if batch == 1:
        return 1
    size = 4 * batch * n_examples * sum(layer_sizes[1:])
    return batch if size <= VMAP_BYTES else 1


@functools.partial(jax.jit, static_argnums=(0, 1, 4))
def top_eigenvalue(activation: str, loss: str, data: Data, params: Params, iters: int,
                   probe: jax.Array, weight_decay: jax.Array) -> jax.Array:
    """The sharpness of one set of weights with ``iters`` Lanczos steps."""
    gradient = objective_gradient(activation, loss, data, params[-1][1].shape[0], weight_decay)
    return lanczos_top(objective_hvp(gradient, params), probe, iters)[0]
