"""The compiled trainer: one ``jit(lax.map/vmap(lax.fori_loop))`` per network structure.

A run with a sharpness cadence S stores its weights every S updates; the sharpness at them is
measured by a separate program (`track_batch`), which `train.train_and_track` runs on a second
thread while the next stretch of updates trains (`start_batch`, `advance_batch`,
`finish_batch`). `train_batch` does all of it in one program.

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
# The sharpness by Lanczos (`lanczos_top`): the first measurement from the seeded random probe,
# each later one warm-started from the last Ritz vector, stopping once the Ritz pair's residual
# is under the tolerance (relative to the value), but never before the minimum number of steps:
# a warm start with too few steps can lock onto the previous top eigenvector after another one
# has overtaken it. Measured against a fresh 60-step Lanczos at the same weights over the
# digits presets (catapult, edge of stability, below the edge) and the 64-32-10 cross-entropy
# net: worst error 2.8% (one measurement of 100 at the edge of stability; 1.2% on the wide net
# at eta = 1, 0.4% in the catapult, under 4e-4 elsewhere) with 3-4 products per measurement on
# average, where a fixed 4 steps were off by up to 12-13% at both edges, 11 and 18 times by
# more than 1% (tests/test_nets_phenomena.py checks the tracking). Cost: a product took about
# as long as a full-batch gradient (0.31-0.45 vs 0.34-0.42 ms on the digits net, measured side
# by side by benchmarks/bench_nets.py), and a measurement also linearises the gradient once,
# so measuring every S steps takes about 4.5/S extra CPU time, most of it on a second core
# while training goes on (`train.train_and_track`).
FIRST_SHARPNESS_ITERS, FIRST_SHARPNESS_TOL = 20, 1e-3
SHARPNESS_ITERS, SHARPNESS_TOL, SHARPNESS_MIN = 20, 1e-2, 3


class Static(NamedTuple):
    """The compile-time structure of a batch of runs."""

    activation: str
    loss: str
    optimizer: str
    plateau: bool
    full_batch: bool
    eval_every: int
    sharpness_every: int  # 0: never


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


def lanczos_top(hvp, v0: jax.Array, max_iters: int, tol: float = 0.0, min_iters: int = 1
                ) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Top eigenvalue of a symmetric :math:`H`, given as the product ``hvp(v)`` = :math:`Hv`
    on flat vectors, by at most ``max_iters`` Lanczos steps from ``v0``.

    Lanczos builds an orthonormal basis :math:`V` of the Krylov space
    :math:`\{v_0, Hv_0, \dots, H^{k-1}v_0\}` and the tridiagonal :math:`T_k = V^\top H V`; the
    largest eigenvalue :math:`\theta` of :math:`T_k` (a Ritz value) approaches
    :math:`\lambda_{max}(H)` from below, much faster than power iteration with the same number
    of products. The basis is fully re-orthogonalised (k is small). It stops early when the
    Krylov space is invariant (no new direction) or when the Ritz pair :math:`(\theta, y)`,
    :math:`y = V s`, has converged: its residual :math:`\|Hy - \theta y\| = \beta_k |s_k|`
    (no extra product needed) is at most ``tol`` :math:`|\theta|`. Then some eigenvalue of
    :math:`H` lies within ``tol`` :math:`|\theta|` of :math:`\theta`, and, if the next
    eigenvalue is more than a gap :math:`\delta` away, within
    :math:`(\mathrm{tol}\,\theta)^2/\delta` (the Ritz value's error is quadratic in the
    residual). ``tol = 0`` always runs ``max_iters`` steps (unless the space is invariant).

    Warm-started from a previous Ritz vector of a nearby :math:`H`, one or two products often
    meet the tolerance; a step where the top eigenvector changed takes more. Returns the Ritz
    value, its unit Ritz vector (which warm-starts the next measurement) and the number of
    products taken.
    """
    dtype = v0.dtype
    idx = jnp.arange(max_iters)

    def top_ritz(alphas, betas, k):
        # T_k, padded to max_iters x max_iters by a decoupled diagonal strictly below
        # alpha_0 = v0' H v0 <= theta, so the padding never holds the top Ritz pair.
        pad = alphas[0] - 1.0 - jnp.abs(alphas[0])
        diag = jnp.where(idx < k, alphas, pad)
        off = jnp.where(idx[:-1] < k - 1, betas[:-1], 0.0)
        T = jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1)
        values, vectors = jnp.linalg.eigh(T)
        return values[-1], vectors[:, -1]

    def running(state):
        k, done = state[0], state[-1]
        return (k < max_iters) & ~done

    def step(state):
        k, V, alphas, betas, v, v_prev, beta_prev, _ = state
        V = V.at[k].set(v)
        w = hvp(v)
        alpha = jnp.vdot(v, w)
        w = w - alpha * v - beta_prev * v_prev
        w = w - V.T @ (V @ w)  # full re-orthogonalisation against the basis so far
        beta = jnp.sqrt(jnp.vdot(w, w))
        alphas, betas = alphas.at[k].set(alpha), betas.at[k].set(beta)
        theta, s = top_ritz(alphas, betas, k + 1)
        invariant = ~(beta > 1e-6 * (jnp.abs(alpha) + 1e-12))  # also stops on NaN
        converged = (beta * jnp.abs(s[k]) <= tol * jnp.abs(theta)) & (k + 1 >= min_iters)
        v_next = w / jnp.where(invariant, 1.0, beta)
        return k + 1, V, alphas, betas, v_next, v, beta, invariant | converged

    v0 = v0 / jnp.maximum(jnp.sqrt(jnp.vdot(v0, v0)), 1e-30)
    zeros = jnp.zeros(max_iters, dtype)
    init = (jnp.int32(0), jnp.zeros((max_iters, v0.size), dtype), zeros, zeros, v0,
            jnp.zeros_like(v0), jnp.zeros((), dtype), jnp.bool_(False))
    k, V, alphas, betas, *_ = jax.lax.while_loop(running, step, init)
    theta, s = top_ritz(alphas, betas, k)
    ritz = V.T @ s  # rows of V past k are zero, and so are s's entries there
    return theta, ritz / jnp.maximum(jnp.sqrt(jnp.vdot(ritz, ritz)), 1e-30), k


def objective_hvp(gradient, params: Params):
    """The Hessian-vector product (on flat vectors) of the objective whose gradient is
    ``gradient(params)``:
    ``jax.linearize`` differentiates the gradient at :math:`\theta` once (forward over the
    explicit backpropagation), and each product :math:`Hv` then evaluates only its linear
    (tangent) part, never the gradient again (Pearlmutter's R-operator, without forming H)."""
    flat, unravel = ravel_pytree(params)
    return jax.linearize(lambda f: ravel_pytree(gradient(unravel(f)))[0], flat)[1]


def with_decay(grads: Params, params: Params, weight_decay: jax.Array) -> Params:
    """The gradient of loss + weight_decay/2 |theta|^2: PyTorch's ``g + weight_decay * theta``."""
    return jax.tree.map(lambda g, p: g + weight_decay * p, grads, params)


class State(NamedTuple):
    """A run between two calls of `advance_batch`."""

    carry: tuple  # weights, loss, gradient, optimizer state, plateau state, alive, first loss
    record: tuple  # (N,) per-update records: loss, rate, ok, train acc, val loss, val acc
    snapshots: jax.Array  # (N//S + 1, P) flat weights at steps 0, S, 2S, ... ((0, 0) if S = 0)


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
            snapshots = snapshots.at[(t + 1) // S].set(ravel_pytree(p)[0])
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
        snapshots = (jnp.zeros((n // S + 1, flat.size), flat.dtype).at[0].set(flat) if S
                     else jnp.zeros((0, 0), flat.dtype))
        return State(carry, record, snapshots)

    return start, body, evaluate


def _advance(static: Static, data: Data, x: Inputs, state: State, t0: jax.Array,
             t1: jax.Array) -> State:
    """Updates ``t0 <= t < min(t1, data.steps)`` (``t0`` a multiple of the sharpness cadence).

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


def _track(static: Static, data: Data, x: Inputs, snapshots: jax.Array, i0: jax.Array,
           i1: jax.Array, sharpness: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The sharpness at the stored weights ``i0 <= i < i1`` (step ``i * S``), each measurement
    warm-started from the last one's Ritz vector ``v`` (the first, at step 0, from the seeded
    probe, with more Lanczos steps and a tighter tolerance): returns the filled ``sharpness``
    and the last Ritz vector."""
    target = jax.nn.one_hot(data.y_train, x.params[-1][1].shape[0], dtype=jnp.float32)
    XT = jnp.transpose(data.X_train)
    unravel = ravel_pytree(x.params)[1]

    def objective_grad(p):
        return with_decay(loss_and_grad(p, data.X_train, target, static.activation,
                                        static.loss, XT)[1], p, x.weight_decay)

    def measure(i, values):
        sharpness, v = values
        hvp = objective_hvp(objective_grad, unravel(snapshots[i]))
        theta, v = jax.lax.cond(
            i == 0,
            lambda v: lanczos_top(hvp, v, FIRST_SHARPNESS_ITERS, FIRST_SHARPNESS_TOL)[:2],
            lambda v: lanczos_top(hvp, v, SHARPNESS_ITERS, SHARPNESS_TOL, SHARPNESS_MIN)[:2],
            v)
        return sharpness.at[i].set(theta), v

    return jax.lax.fori_loop(i0, i1, measure, (sharpness, v))


def _train_one(static: Static, data: Data, x: Inputs) -> Outputs:
    """A whole run in one program: every update, then every sharpness measurement."""
    start, _, _ = _loop(static, data, x)
    state = _advance(static, data, x, start(), 0, data.steps)
    out = _finish(static, data, x, state)
    if static.sharpness_every:
        count = data.steps // static.sharpness_every + 1
        sharpness = _track(static, data, x, state.snapshots, 0, count, out.sharpness,
                           x.probe)[0]
        out = out._replace(sharpness=sharpness)
    return out


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
# another thread) while the next stretch trains: see `train.run_batch`.


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
                i0: jax.Array, i1: jax.Array, sharpness: jax.Array,
                v: jax.Array) -> tuple[jax.Array, jax.Array]:
    return _over_runs(lambda x, s, h, v: _track(static, data, x, s, i0, i1, h, v), width,
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

    target = jax.nn.one_hot(data.y_train, params[-1][1].shape[0], dtype=jnp.float32)

    def objective_grad(p):
        return with_decay(loss_and_grad(p, data.X_train, target, activation, loss)[1], p,
                          weight_decay)

    return lanczos_top(objective_hvp(objective_grad, params), probe, iters)[0]
