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

from lrviz.engine import schedules
from lrviz.engine.linalg2 import eigvals_2x2
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.surfaces import SURFACES

ESCAPE = 10.0  # a point this many domain-sizes from the domain's centre has diverged
UNROLL = 1  # scan iterations per loop trip (more would cut loop overhead but slow compiles)


class Inputs(NamedTuple):
    """Traced inputs of a batch of B runs (leading axis B; ``lrs`` is step-major).

    A parameter shared by every run of the batch is a scalar (shape ``()``), one that differs
    between runs a column ``(B,)``; the shapes are part of the compiled structure. Sharing
    matters for speed: Adam's bias correction ``beta ** t`` is then one power per step, not
    one per run and step.
    """

    start: jax.Array  # (B, 2)
    surface_params: dict[str, jax.Array]  # each () or (B,)
    optimizer_params: dict[str, jax.Array]
    lrs: jax.Array  # (N, B) base learning rate of each update, before any plateau factor
    plateau_params: dict[str, jax.Array]
    noise: jax.Array  # (B,)
    seed: jax.Array  # (B,)
    steps: jax.Array  # (B,) each run's real length (<= N); later updates are padding


class Outputs(NamedTuple):
    """What a batch returns, step-major so each update writes one contiguous row per
    coordinate (x and y apart: a (B, 2) row would interleave them and split the step into
    more kernels)."""

    xs: jax.Array  # (N+1, B)
    ys: jax.Array  # (N+1, B)
    losses: jax.Array  # (N+1, B)
    lrs: jax.Array  # (N, B) learning rate each update actually used
    diverged_at: jax.Array  # (B,) first update (1-based) within ``steps`` that blew up, else -1
    final_grad: jax.Array  # (B, 2) gradient at the point after ``steps`` updates
    final_hessian: jax.Array  # (B, 2, 2) Hessian there

    @property
    def points(self) -> jax.Array:
        """(N+1, B, 2), the two coordinates side by side (a copy)."""
        return jnp.stack([self.xs, self.ys], axis=-1)


def _kicks(noise: jax.Array, seed: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """Each run's gradient noise for all n updates, two (N, B) arrays (x and y); all zeros (no
    draw) without noise."""
    def draw():
        one = lambda s, k: s * jax.random.normal(jax.random.key(k), (n, 2))  # noqa: E731
        return jnp.transpose(jax.vmap(one)(noise, seed), (2, 1, 0))

    zeros = lambda: jnp.zeros((2, n, noise.shape[0]), jnp.float32)  # noqa: E731
    kicks = jax.lax.cond(jnp.any(noise > 0), draw, zeros)
    return kicks[0], kicks[1]


def _axes(params: dict[str, jax.Array]) -> dict[str, int | None]:
    """vmap axes of a parameter dict: 0 for per-run columns, None for shared scalars."""
    return {k: (0 if jnp.ndim(v) else None) for k, v in params.items()}


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def run_batch(surface_name: str, optimizer_name: str, plateau: bool, x: Inputs) -> Outputs:
    """All runs of one structure at once: one ``lax.scan`` over the updates, each step working
    on whole (B,) columns.

    Without a loss-watching schedule the rates are an input and the scan does not write them
    again (``lrs`` is then ``x.lrs``). Noise stays a traced number (no recompile when it moves
    off 0); without noise in any run no random numbers are drawn.

    The optimizer is the registry's optax transformation built with learning rate 1 and the
    run's other hyperparameters, applied to the batch's parameter columns ``(x, y)`` at once
    (every optimizer in the registry is elementwise, so run r's update only reads run r's
    numbers; its step count is one scalar for the batch). Its update is scaled by the step's
    rate: every optimizer applies the rate as a final linear scale (optax's
    ``scale_by_learning_rate``), so this is the same update as ``factory(lr)`` with no per-step
    hyperparameter injection (a test checks the linearity for every optimizer).

    A step whose point, loss or gradient is non-finite, or that leaves the escape box, is not
    taken, and neither is any later one: the run keeps its last good point, loss and gradient
    (the optimizer state of a dead run is never read again, so it is not kept). Updates past a
    run's own ``steps`` are not taken either, so every run ends on its own last point.
    """
    surface = SURFACES[surface_name]
    factory = OPTIMIZERS[optimizer_name].factory
    cx, cy = surface.center
    radius = ESCAPE * surface.scale
    n, B = x.lrs.shape
    kick_x, kick_y = _kicks(x.noise, x.seed, n)
    q = x.surface_params
    point_loss_grad = jax.vmap(jax.value_and_grad(surface.fn), in_axes=(0, _axes(q)))

    def evaluate(px, py):
        loss, grad = point_loss_grad(jnp.stack([px, py], axis=-1), q)
        return loss, grad[:, 0], grad[:, 1]

    optimizer = factory(1.0, **x.optimizer_params)

    def body(carry, xs):
        (px, py, loss, gx, gy, opt_state, alive, accepted), plateau_state = carry
        t, base_lr, kx, ky = xs
        lr = base_lr * plateau_state.scale if plateau else base_lr
        (ux, uy), new_opt_state = optimizer.update((gx + kx, gy + ky), opt_state, (px, py))
        nx, ny = px + lr * ux, py + lr * uy
        # One value_and_grad per step: the new point's gradient drives the next update.
        new_loss, ngx, ngy = evaluate(nx, ny)
        ok = (alive & (t < x.steps) & jnp.isfinite(nx) & jnp.isfinite(ny)
              & jnp.isfinite(new_loss) & jnp.isfinite(ngx) & jnp.isfinite(ngy)
              & (jnp.abs(nx - cx) <= radius) & (jnp.abs(ny - cy) <= radius))
        # Rejected values are never used, not even by later gradients (a "double where").
        keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
        runs = (keep(nx, px), keep(ny, py), keep(new_loss, loss), keep(ngx, gx), keep(ngy, gy),
                new_opt_state, ok, accepted + ok.astype(jnp.int32))
        if plateau:
            plateau_state = jax.vmap(schedules.plateau_update, in_axes=(
                0, 0, 0, _axes(x.plateau_params)))(plateau_state, loss, x.lrs[0],
                                                   x.plateau_params)
        return (runs, plateau_state), (runs[0], runs[1], runs[2], lr if plateau else None)

    start = x.start.astype(jnp.float32)
    x0, y0 = start[:, 0], start[:, 1]
    loss0, gx0, gy0 = evaluate(x0, y0)
    runs0 = (x0, y0, loss0, gx0, gy0, optimizer.init((x0, y0)), jnp.ones(B, bool),
             jnp.zeros(B, jnp.int32))
    plateau0 = jax.tree.map(lambda v: jnp.broadcast_to(v, (B,)), schedules.plateau_init())
    (runs, _), (xs, ys, ls, lrs) = jax.lax.scan(
        body, (runs0, plateau0), (jnp.arange(n), x.lrs, kick_x, kick_y), unroll=UNROLL)
    lrs = x.lrs if lrs is None else lrs
    accepted = runs[7]
    # a run that stopped before its own length blew up at the update after its last good one
    diverged_at = jnp.where(accepted < x.steps, accepted + 1, -1)
    final = jnp.stack([runs[0], runs[1]], axis=-1)
    hess = jax.vmap(jax.hessian(surface.fn), in_axes=(0, _axes(q)))(final, q)
    clean = lambda a: jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38)  # noqa: E731
    return Outputs(jnp.concatenate([x0[None], xs]), jnp.concatenate([y0[None], ys]),
                   jnp.concatenate([loss0[None], ls]), lrs, diverged_at,
                   clean(jnp.stack([runs[3], runs[4]], axis=-1)), clean(hess))


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
        return values, grads, hessians, eigvals_2x2(hessians, jnp)

    out = jax.vmap(one_run)(points.astype(jnp.float32), params)
    return Curvature(*(jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38) for a in out))
