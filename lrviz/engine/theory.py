"""Second-order theory: curvature, stability thresholds and learning-rate suggestions.

Near a point p the loss is approximately quadratic, f(p + d) ~ f(p) + g.d + d.H.d/2, and gradient
descent multiplies the error along the Hessian eigenvector i by (1 - lr * lambda_i) each step.
Hence the numbers below: stable iff lr * lambda_max < 2, fastest constant rate
2/(lambda_min + lambda_max) with contraction (kappa - 1)/(kappa + 1) per step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from lrviz.engine import core, runtime
from lrviz.engine.linalg2 import eigvals_2x2
from lrviz.engine.optimizers import get_optimizer, max_stable_lr
from lrviz.engine.surfaces import Surface, get_surface


def local_model(
    surface: str | Surface, point: Sequence[float], params: Mapping[str, float] | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(f(p), grad f(p), Hessian(p))`` as float64 numpy values.

    ``point`` must be finite and inside the surface's `start_box` (ValueError otherwise), so
    every number returned is an ordinary finite float.
    """
    s = get_surface(surface)
    point = s.check_point(point, "point")
    q = {k: jnp.full((1,), v, jnp.float32) for k, v in s.resolve(params).items()}
    runtime.keep_mappings_in_check()
    m = core.curvature_batch(s.name, jnp.asarray([[point]], jnp.float32), q)
    return (float(m.values[0, 0]), np.asarray(m.grads[0, 0], float),
            np.asarray(m.hessians[0, 0], float))


def hessian_eigenvalues(
    surface: str | Surface, point: Sequence[float], params: Mapping[str, float] | None = None
) -> np.ndarray:
    """Eigenvalues of the Hessian at ``point``, ascending."""
    return eigvals_2x2(local_model(surface, point, params)[2])


@functools.lru_cache(maxsize=512)
def _cached_hessian(name: str, point: tuple[float, float], items: tuple) -> np.ndarray:
    H = local_model(name, point, dict(items))[2]
    H.setflags(write=False)
    return H


def point_hessian(
    surface: str | Surface, point: Sequence[float], params: Mapping[str, float] | None = None
) -> np.ndarray:
    """The Hessian at a fixed point such as a minimum (cached: minima are asked for often)."""
    s = get_surface(surface)
    key = (float(point[0]), float(point[1]))
    return _cached_hessian(s.name, key, tuple(sorted(s.resolve(params).items())))


def minimum_eigenvalues(
    surface: str | Surface, point: Sequence[float], params: Mapping[str, float] | None = None
) -> tuple[float, float]:
    """Hessian eigenvalues (ascending) at a fixed point, cached."""
    lo, hi = eigvals_2x2(point_hessian(surface, point, params))
    return float(lo), float(hi)


@dataclass(frozen=True)
class Stability:
    """The curvature at a point and what it implies for a constant learning rate.

    ``max_stable_lr`` is c / lambda_max with c = 2 (SGD), 2 + 2 mu (heavy-ball momentum) or
    2 (1 + mu) / (1 + 2 mu) (Nesterov); it is None for adaptive optimizers, which have no fixed
    bound, and infinite where no direction curves upward. ``optimal_lr`` is the best constant
    rate for plain gradient descent on the local quadratic, 2 / (lambda_min + lambda_max), and
    ``rate`` its contraction per step (kappa - 1) / (kappa + 1); both need lambda_min > 0.
    ``optimal_momentum`` is the best heavy-ball pair (lr, mu) =
    (4 / (sqrt(L) + sqrt(l))^2, ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2).
    """

    eigenvalues: tuple[float, float]
    lambda_min: float
    lambda_max: float
    condition_number: float | None
    stability_factor: float | None
    max_stable_lr: float | None
    optimal_lr: float | None
    rate: float | None
    optimal_momentum: tuple[float, float] | None
    note: str


def stability(
    surface: str | Surface,
    point: Sequence[float],
    optimizer: str = "sgd",
    surface_params: Mapping[str, float] | None = None,
    **optimizer_params: float,
) -> Stability:
    """Hessian eigenvalues at ``point``, the largest stable constant lr and the best one.

    Raises ValueError (naming what is wrong and its valid range) for a point that is not
    finite or lies outside the surface's `start_box`, and for any surface or optimizer
    parameter outside its ``Param.valid`` range.
    """
    spec = get_optimizer(optimizer)
    values = spec.resolve(optimizer_params)
    lo, hi = (float(v) for v in hessian_eigenvalues(surface, point, surface_params))
    factor = spec.stability_factor(values)
    limit = max_stable_lr(spec, hi, values)
    if lo > 0:
        kappa = hi / lo
        optimal, rate = 2.0 / (lo + hi), (kappa - 1.0) / (kappa + 1.0)
        root = math.sqrt(kappa)
        momentum = (4.0 / (math.sqrt(hi) + math.sqrt(lo)) ** 2, ((root - 1) / (root + 1)) ** 2)
        note = "both directions curve upward: a minimum-like bowl"
    else:
        kappa = optimal = rate = momentum = None
        note = ("one direction curves downward: a saddle, gradient descent is pushed away along it"
                if lo < 0 and hi > 0 else
                "no direction curves upward here: curvature sets no step-size limit")
    if factor is None:
        note += "; adaptive optimizers rescale each coordinate, so no fixed lr bound applies"
    return Stability((lo, hi), lo, hi, kappa, factor, limit, optimal, rate, momentum, note)


def suggest_lr(
    lrs: Sequence[float], final_losses: Sequence[float], usable: Sequence[bool],
    initial_loss: float, floor: float = 0.0, tolerance: float = 0.1,
) -> float | None:
    """A learning rate from a sweep of independent runs (one full run per rate).

    Progress is measured on a log scale, as the gap to the surface's minimum ``floor`` (gaps
    below a millionth of the starting gap count as zero): a run is good when its log-gap got
    within ``tolerance`` (10%) of the way from the best run's log-gap back to the starting one.
    Among the runs that neither diverged nor kept oscillating (``usable``), the rule returns
    the geometric middle of the longest contiguous stretch of good rates.

    Why: each point of this curve is a whole run, so low final loss is what we want directly;
    but many rates often tie at the bottom, and the edge of that flat bottom is either slow (left)
    or one curvature change away from diverging (right). The log-middle of the good stretch is
    the choice that survives both. Log scale, because a run that ends at 1e-3 has not tied with
    one that ends at 1e-9. (The classic single-run range test, which ramps the rate within one
    run, instead takes a rate well below the loss minimum, because there the minimum already
    sits at the edge of instability.)
    """
    lrs = np.asarray(lrs, float)
    final = np.asarray(final_losses, float)
    ok = np.asarray(usable, bool) & np.isfinite(final)
    if not ok.any():
        return None
    # Runs that removed all but a millionth of the starting gap count as fully converged: below
    # that, float32 rounding rather than the learning rate decides who is "best".
    tiny = 1e-6 * max(abs(initial_loss - floor), 1e-12)
    log_gap = np.log10(np.maximum(final - floor, tiny))
    start = np.log10(max(initial_loss - floor, tiny))
    best = log_gap[ok].min()
    good = ok & (log_gap <= best + tolerance * max(start - best, 0.0) + 1e-9)
    order = np.argsort(lrs)
    flags, sorted_lrs = good[order], lrs[order]
    # stretches of good rates: where the padded flags switch on (starts) and off (ends);
    # the first longest one wins
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    k = int(np.argmax(ends - starts))
    lo, hi = sorted_lrs[starts[k]], sorted_lrs[ends[k] - 1]
    return float(math.sqrt(lo * hi))
