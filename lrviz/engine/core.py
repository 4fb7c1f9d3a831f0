"""The compiled heart of the engine: one ``jit(vmap(lax.scan))`` per run structure.

Structure (surface, optimizer, whether the schedule watches the loss, whether per-point
curvature is wanted, step bucket, batch bucket) is static and compiles once. Every number
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

from lrviz.engine import schedules
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.surfaces import SURFACES

ESCAPE = 10.0  # a point this many domain-sizes from the domain's centre has diverged


class Inputs(NamedTuple):
    """Traced inputs of one run (a leading batch axis when batched)."""

    start: jax.Array  # (2,)
    surface_params: dict[str, jax.Array]
    optimizer_params: dict[str, jax.Array]
    lrs: jax.Array  # (N,) base learning rate of each update, before any plateau factor
    plateau_params: dict[str, jax.Array]
    noise: jax.Array
    seed: jax.Array
    steps: jax.Array  # the run's real length (<= N); later updates are padding


class Outputs(NamedTuple):
    points: jax.Array  # (N+1, 2)
    losses: jax.Array  # (N+1,)
    lrs: jax.Array  # (N,) learning rate each update actually used
    ok: jax.Array  # (N,) False from the first update that blew up on


def hessian_eigs_2x2(H: jax.Array) -> jax.Array:
    """Eigenvalues (ascending) of a symmetric 2x2 matrix, in closed form.

    lambda = m -+ sqrt(d^2 + b^2) with m = (a + c)/2, d = (a - c)/2, b the off-diagonal.
    """
    a, b, c = H[0, 0], 0.5 * (H[0, 1] + H[1, 0]), H[1, 1]
    m, d = 0.5 * (a + c), 0.5 * (a - c)
    r = jnp.sqrt(d * d + b * b)
    return jnp.stack([m - r, m + r])


def _trajectory(surface_name: str, optimizer_name: str, plateau: bool, x: Inputs) -> Outputs:
    surface = SURFACES[surface_name]
    value_and_grad = jax.value_and_grad(lambda p: surface.fn(p, x.surface_params))
    opt = OPTIMIZERS[optimizer_name].build(x.optimizer_params)
    center = jnp.asarray(surface.center, jnp.float32)
    radius = ESCAPE * surface.scale
    start = x.start.astype(jnp.float32)
    n = x.lrs.shape[0]
    # All of a run's noise in one draw: far cheaper than a key split inside every step.
    kicks = x.noise * jax.random.normal(jax.random.key(x.seed), (n, 2))

    def body(carry, t):
        p, loss, grad, opt_state, plateau_state, alive = carry
        noisy = grad + kicks[t]
        lr = x.lrs[t] * plateau_state.scale if plateau else x.lrs[t]
        opt_state = opt_state._replace(
            hyperparams={**opt_state.hyperparams, "learning_rate": lr}
        )
        updates, new_opt_state = opt.update(noisy, opt_state, p)
        p_new = p + updates
        # One value_and_grad per step: the new point's gradient drives the next update.
        loss_new, grad_new = value_and_grad(p_new)
        ok = (
            alive
            & jnp.all(jnp.isfinite(p_new))
            & jnp.isfinite(loss_new)
            & jnp.all(jnp.isfinite(grad_new))
            & jnp.all(jnp.abs(p_new - center) <= radius)
        )
        # Rejected values are never used, not even by later gradients (a "double where").
        keep = lambda n, o: jnp.where(ok, n, o)  # noqa: E731
        if plateau:
            plateau_next = schedules.plateau_update(plateau_state, loss, x.lrs[0],
                                                    x.plateau_params)
        else:
            plateau_next = plateau_state
        carry = (keep(p_new, p), keep(loss_new, loss), keep(grad_new, grad),
                 jax.tree.map(keep, new_opt_state, opt_state), plateau_next, ok)
        return carry, (carry[0], carry[1], lr, ok)

    loss0, grad0 = value_and_grad(start)
    init = (start, loss0, grad0, opt.init(start), schedules.plateau_init(), jnp.bool_(True))
    _, (ps, ls, lrs, oks) = jax.lax.scan(body, init, jnp.arange(n))
    return Outputs(jnp.concatenate([start[None], ps]), jnp.concatenate([loss0[None], ls]),
                   lrs, oks)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def run_batch(surface_name: str, optimizer_name: str, plateau: bool, inputs: Inputs) -> Outputs:
    """All runs of one structure at once: ``vmap`` of the scan over the leading batch axis."""
    single = functools.partial(_trajectory, surface_name, optimizer_name, plateau)
    return jax.vmap(single)(inputs)


def compiled_count() -> int:
    """How many structures `run_batch` has compiled in this process (for recompile checks)."""
    return run_batch._cache_size()


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
        return values, grads, hessians, jax.vmap(hessian_eigs_2x2)(hessians)

    out = jax.vmap(one_run)(points.astype(jnp.float32), params)
    return Curvature(*(jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38) for a in out))
