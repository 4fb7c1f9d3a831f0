"""The sharpness: the top eigenvalue of a Hessian given only as Hessian-vector products.

`lanczos_top` finds it by Lanczos; `objective_hvp` builds the products of a network's training
objective by forward-mode differentiation of its gradient; `track` measures it along a run, at
weights stored every S updates, each measurement warm-started from the last.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from lrviz.nets.model import Params

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


def track(hvp_at, i0: jax.Array, i1: jax.Array, sharpness: jax.Array,
          v: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The top eigenvalue of the Hessian whose product is ``hvp_at(i)`` for ``i0 <= i < i1``,
    written into ``sharpness[i]``; each measurement is warm-started from the
    last one's Ritz vector ``v``, the first (``i = 0``, from the seeded probe) with
    `FIRST_SHARPNESS_ITERS` steps and the tighter `FIRST_SHARPNESS_TOL`. Returns the filled
    ``sharpness`` and the last Ritz vector, which continues the chain in the next call."""

    def measure(i, values):
        sharpness, v = values
        hvp = hvp_at(i)
        theta, v = jax.lax.cond(
            i == 0,
            lambda v: lanczos_top(hvp, v, FIRST_SHARPNESS_ITERS, FIRST_SHARPNESS_TOL)[:2],
            lambda v: lanczos_top(hvp, v, SHARPNESS_ITERS, SHARPNESS_TOL, SHARPNESS_MIN)[:2],
            v)
        return sharpness.at[i].set(theta), v

    return jax.lax.fori_loop(i0, i1, measure, (sharpness, v))
