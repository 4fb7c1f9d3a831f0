"""The compiled heart of the engine: one ``jit(lax.scan(vmap(step)))`` per run structure.

Structure (surface, optimizer, whether the schedule watches the loss, step bucket, batch
bucket) is static and compiles once. Every number
(start point, surface/optimizer/schedule parameters, the per-step learning rates, noise, seed,
the step budget) is a traced input, so moving a slider never recompiles.

Divergence is handled inside the scan: a step whose point or loss is non-finite, or that leaves
the escape box (``ESCAPE`` domain-sizes around the plotted domain), is not taken; the run stays
frozen at its last good point, so no NaN or inf ever leaves this module.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from lrviz.engine import runtime, schedules
from lrviz.engine.linalg2 import eigvals_2x2
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.surfaces import SURFACES

ESCAPE = 10.0  # a point this many domain-sizes from the domain's centre has diverged
UNROLL = 1  # scan iterations per loop trip (more would cut loop overhead but slow compiles)


class Inputs(NamedTuple):
    """Traced inputs of a batch of B runs (leading axis B; ``lrs`` is step-major)."""

    start: jax.Array  # (B, 2)
    surface_params: dict[str, jax.Array]  # each (B,)
    optimizer_params: dict[str, jax.Array]
    lrs: jax.Array  # (N, B) base learning rate of each update, before any plateau factor
    plateau_params: dict[str, jax.Array]
    noise: jax.Array  # (B,)
    seed: jax.Array  # (B,)
    steps: jax.Array  # (B,) each run's real length (<= N); later updates are padding


class Outputs(NamedTuple):
    """What a batch returns, step-major so each update writes one contiguous row."""

    points: jax.Array  # (N+1, B, 2)
    losses: jax.Array  # (N+1, B)
    lrs: jax.Array  # (N, B) learning rate each update actually used
    diverged_at: jax.Array  # (B,) first update (1-based) within ``steps`` that blew up, else -1
    final_grad: jax.Array  # (B, 2) gradient at points[steps]
    final_hessian: jax.Array  # (B, 2, 2) Hessian at points[steps]


def _all_finite(v: jax.Array) -> jax.Array:
    # spelled out per coordinate: a reduction would split the step into more kernels
    return jnp.isfinite(v[0]) & jnp.isfinite(v[1])


def _kicks(noise: jax.Array, seed: jax.Array, n: int) -> jax.Array:
    """Each run's gradient noise for all n updates, (N, B, 2); all zeros (no draw) without noise."""
    def draw():
        one = lambda s, k: s * jax.random.normal(jax.random.key(k), (n, 2))  # noqa: E731
        return jnp.swapaxes(jax.vmap(one)(noise, seed), 0, 1)

    zeros = lambda: jnp.zeros((n, noise.shape[0], 2), jnp.float32)  # noqa: E731
    return jax.lax.cond(jnp.any(noise > 0), draw, zeros)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def run_batch(surface_name: str, optimizer_name: str, plateau: bool, x: Inputs) -> Outputs:
    """All runs of one structure at once: one ``lax.scan`` over the updates whose body is
    ``vmap``-ped over the runs.

    Without a loss-watching schedule the rates are an input and the scan does not write them
    again (``lrs`` is then ``x.lrs``). Noise stays a traced number (no recompile when it moves
    off 0); without noise in any run no random numbers are drawn.

    The optimizer is the registry's optax transformation built with learning rate 1 and the
    run's other hyperparameters; its update is scaled by the step's rate. Every optimizer in the
    registry applies the rate as a final linear scale (optax's ``scale_by_learning_rate``), so
    this is the same update as ``factory(lr)`` with no per-step hyperparameter injection
    (a test checks the linearity for every optimizer).
    """
    surface = SURFACES[surface_name]
    factory = OPTIMIZERS[optimizer_name].factory
    value_and_grad = jax.value_and_grad(surface.fn)
    cx, cy = surface.center
    radius = ESCAPE * surface.scale
    n, B = x.lrs.shape
    kicks = _kicks(x.noise, x.seed, n)

    def first(p, q, h):
        loss, grad = value_and_grad(p, q)
        return p, loss, grad, factory(1.0, **h).init(p)

    def update(run, lr, kick, q, h, t, steps):
        p, loss, grad, opt_state, alive, accepted = run
        step, new_opt_state = factory(1.0, **h).update(grad + kick, opt_state, p)
        p_new = p + lr * step
        # One value_and_grad per step: the new point's gradient drives the next update.
        loss_new, grad_new = value_and_grad(p_new, q)
        ok = (alive & _all_finite(p_new) & jnp.isfinite(loss_new) & _all_finite(grad_new)
              & (jnp.abs(p_new[0] - cx) <= radius) & (jnp.abs(p_new[1] - cy) <= radius))
        # Rejected values are never used, not even by later gradients (a "double where").
        keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
        return (keep(p_new, p), keep(loss_new, loss), keep(grad_new, grad),
                jax.tree.map(keep, new_opt_state, opt_state), ok,
                accepted + (ok & (t < steps)).astype(jnp.int32))

    batched = jax.vmap(update, in_axes=(0, 0, 0, 0, 0, None, 0))

    def body(carry, xs):
        runs, plateau_state = carry
        t, base_lr, kick = xs
        lr = base_lr * plateau_state.scale if plateau else base_lr
        loss_before = runs[1]
        runs = batched(runs, lr, kick, x.surface_params, x.optimizer_params, t, x.steps)
        if plateau:
            plateau_state = jax.vmap(schedules.plateau_update)(
                plateau_state, loss_before, x.lrs[0], x.plateau_params)
        return (runs, plateau_state), (runs[0], runs[1], lr if plateau else None)

    start = x.start.astype(jnp.float32)
    p0, loss0, grad0, opt0 = jax.vmap(first)(start, x.surface_params, x.optimizer_params)
    runs0 = (p0, loss0, grad0, opt0, jnp.ones(B, bool), jnp.zeros(B, jnp.int32))
    plateau0 = jax.tree.map(lambda v: jnp.broadcast_to(v, (B,)), schedules.plateau_init())
    (runs, _), (ps, ls, lrs) = jax.lax.scan(
        body, (runs0, plateau0), (jnp.arange(n), x.lrs, kicks), unroll=UNROLL)
    lrs = x.lrs if lrs is None else lrs
    points = jnp.concatenate([start[None], ps])
    losses = jnp.concatenate([loss0[None], ls])
    accepted = runs[5]
    diverged_at = jnp.where(accepted < x.steps, accepted + 1, -1)
    final = points[x.steps, jnp.arange(B)]
    hess = jax.vmap(jax.hessian(surface.fn))(final, x.surface_params)
    grads = jax.vmap(jax.grad(surface.fn))(final, x.surface_params)
    clean = lambda a: jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38)  # noqa: E731
    return Outputs(points, losses, lrs, diverged_at, clean(grads), clean(hess))


_dropped = 0  # compiled structures dropped by `runtime.release_compiled_programs`


def _count_dropped() -> None:
    global _dropped
    _dropped += run_batch._cache_size()


runtime.on_release(_count_dropped)


def compiled_count() -> int:
    """How many times `run_batch` has compiled a structure in this process (for recompile
    checks; a structure compiled again after its program was dropped counts again)."""
    return _dropped + run_batch._cache_size()


class Curvature(NamedTuple):
    """The second-order picture at points (B, M, 2) of B runs."""

    values: jax.Array  # (B, M)
    grads: jax.Array  # (B, M, 2)
    hessians: jax.Array  # (B, M, 2, 2)
    eigs: jax.Array  # (B, M, 2) Hessian eigenvalues, ascending


@functools.partial(jax.jit, static_argnums=0)
def curvature_batch(surface_name: str, points: jax.Array, params: dict[str, jax.Array]
                    ) -> Curvature:
    """f, its gradient, Hessian and Hessian eigenvalues at points (B, M, 2), each run with its
    own surface parameters (B,).

    Compiled per surface (not per optimizer), which keeps the trajectory programs small; the
    engine's diagnosis and `theory` both read curvature through here. Non-finite values (far
    out on steep surfaces) are clamped so none reaches a caller.
    """
    fn = SURFACES[surface_name].fn

    def one_run(pts, q):
        f = lambda p: fn(p, q)  # noqa: E731
        values, grads = jax.vmap(jax.value_and_grad(f))(pts)
        hessians = jax.vmap(jax.hessian(f))(pts)
        return values, grads, hessians, eigvals_2x2(hessians, jnp)

    out = jax.vmap(one_run)(points.astype(jnp.float32), params)
    return Curvature(*(jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38) for a in out))
