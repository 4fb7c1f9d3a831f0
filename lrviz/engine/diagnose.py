"""Classify a finished run into a `Regime` and explain it with the numbers behind it.

The classifier is vectorised over a batch of runs that share a surface and a step count (a
sweep classifies a thousand runs in one pass). "Near" means within 1% of the domain size.

Decision order (first match wins):

1. diverged — the run blew up (``diverged_at`` set), or its loss grew over 10x above the start
   and was still climbing.
2. at the bottom of a minimum (near a known minimum, or a point where the Newton step is tiny
   and the Hessian positive definite, and no longer moving) — ``local_minimum`` if that minimum
   is not global, ``overshooting`` if the path crossed the valley floor along the steepest
   direction at least 4 times, else ``converged``.
3. ``stuck`` at a saddle (Newton step tiny, one negative curvature).
4. ``overshooting`` — still crossing the valley floor back and forth while closing in.
5. ``stuck`` on a plateau — gradient under 2% of the surface's typical slope and under 1% of
   the initial loss gap gained over the second half.
6. ``slow`` — the loss fell on at least 80% of the last quarter's steps.
7. ``oscillating`` — anything else: bounded, but neither settling nor descending steadily.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.surfaces import Surface, get_surface
from lrviz.engine.theory import minimum_eigenvalues, point_hessian

NEAR = 0.01  # fraction of the domain size
CROSSINGS = 4


class Regime(StrEnum):
    CONVERGED = "converged"
    OVERSHOOTING = "overshooting"
    LOCAL_MINIMUM = "local_minimum"
    SLOW = "slow"
    STUCK = "stuck"
    OSCILLATING = "oscillating"
    DIVERGED = "diverged"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Diagnosis:
    regime: Regime
    explanation: str
    facts: dict[str, float | int | str | None] = field(default_factory=dict)


@dataclass
class BatchFeatures:
    """Per-run numbers the classifier and the explanations use (arrays over the batch)."""

    regimes: list[Regime]
    nearest: np.ndarray  # index of the nearest known minimum
    distance: np.ndarray  # distance from the final point to it
    crossings: np.ndarray
    grad_norm: np.ndarray
    newton: np.ndarray
    eig_final: np.ndarray  # (B, 2)
    at_bottom: np.ndarray
    unlisted_min: np.ndarray
    stuck_kind: np.ndarray  # "saddle", "plateau" or "stalled" (steps shrank to nothing)
    late_radius: np.ndarray  # farthest distance from the reference minimum in the last quarter
    noise: np.ndarray


def _eig2(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ascending eigenvalues (B, 2) and the top eigenvector (B, 2) of symmetric 2x2 matrices."""
    a, b, c = H[:, 0, 0], 0.5 * (H[:, 0, 1] + H[:, 1, 0]), H[:, 1, 1]
    m, d = 0.5 * (a + c), 0.5 * (a - c)
    r = np.sqrt(d * d + b * b)
    top = m + r
    vec = np.stack([b, top - a], axis=1)
    flat = np.linalg.norm(vec, axis=1) < 1e-12
    vec[flat] = np.where((a >= c)[flat, None], [1.0, 0.0], [0.0, 1.0])
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return np.stack([m - r, top], axis=1), vec


def classify_batch(
    surface: Surface, surface_params: Mapping[str, float], points: np.ndarray,
    losses: np.ndarray, diverged_at: np.ndarray, final_grad: np.ndarray,
    final_hessian: np.ndarray, noise: np.ndarray | float = 0.0,
) -> BatchFeatures:
    """Regimes of B runs with the same surface and length: ``points`` (B, n+1, 2)."""
    # Bulk arrays stay in the engine's float32 (a thousand-run sweep is ~1M points); the few
    # per-run scalars below are promoted to float64.
    B, n1, _ = points.shape
    n = n1 - 1
    noise = np.broadcast_to(np.asarray(noise, float), (B,))
    minima = surface.minima(surface_params)
    M = np.array([m.point for m in minima])
    values = np.array([m.value for m in minima])
    is_global = np.array([m.is_global for m in minima])
    fmin = values.min()
    tol = NEAR * surface.scale

    pT = points[:, -1].astype(np.float64)
    LT, L0 = losses[:, -1].astype(np.float64), losses[:, 0].astype(np.float64)
    gap0 = np.maximum(L0 - fmin, 1e-9)
    dists = np.linalg.norm(pT[:, None, :] - M[None], axis=2)
    nearest = dists.argmin(axis=1)
    dmin = dists[np.arange(B), nearest]

    H = final_hessian.astype(np.float64)
    eig, _ = _eig2(H)
    g = final_grad.astype(np.float64)
    pd = eig[:, 0] > 0
    safe_H = np.where(pd[:, None, None], H, np.eye(2))
    step = np.where(pd[:, None], np.linalg.solve(safe_H, g[..., None])[..., 0], 0.0)
    newton = np.where(pd, np.linalg.norm(step, axis=1), np.inf)  # Newton step length
    # Newton distance for indefinite Hessians (saddles): |g| / min |lambda|.
    newton_any = np.linalg.norm(g, axis=1) / np.maximum(np.abs(eig).min(axis=1), 1e-12)

    near_listed = dmin < tol
    # A positive-definite point whose Newton step is tiny is a minimum even if it is not listed
    # (Rastrigin's dimples, say) — unless that step points at a listed minimum still ahead.
    ahead = np.linalg.norm((pT - step)[:, None, :] - M[None], axis=2).min(axis=1) < tol
    unlisted = ~near_listed & pd & (newton < tol) & ~ahead
    near_min = near_listed | unlisted
    ref = np.where(unlisted[:, None], pT, M[nearest])
    ref_value = np.where(unlisted, LT, values[nearest])
    local = np.where(unlisted, True, ~is_global[nearest])

    tail = max(2, n // 10)
    late_move = points[:, -tail:] - pT[:, None]
    moving = np.hypot(late_move[..., 0], late_move[..., 1]).max(axis=1)
    settled = (moving < tol) | (LT - ref_value < 1e-4 * gap0)
    q = max(1, n // 4)
    rel = points - ref[:, None]
    d_ref = np.hypot(rel[..., 0], rel[..., 1])
    # With gradient noise a run never settles exactly; hovering close to a minimum, with a loss
    # that has kept less than 1% of the starting gap, counts as being there.
    late_gap = losses[:, -q:].mean(axis=1) - ref_value
    noisy_bottom = (noise > 0) & (d_ref[:, -q:].mean(axis=1) < 10 * tol) & (
        late_gap < 0.01 * gap0)
    at_bottom = (near_min & settled) | noisy_bottom

    # Crossings of the valley floor along the steepest direction at the reference point.
    minima_H = np.stack([point_hessian(surface, mm.point, surface_params) for mm in minima])
    ref_H = np.where(unlisted[:, None, None], H, minima_H[nearest])
    _, top = _eig2(ref_H)
    c = rel[..., 0] * top[:, None, 0] + rel[..., 1] * top[:, None, 1]
    signif = np.abs(c) > 0.1 * tol  # swings visible on the plot, not float32 dust
    signs = np.where(signif, np.sign(c), 0.0)
    crossings = _count_sign_changes(signs)
    zigzag = (crossings >= CROSSINGS) & (noise <= 0)

    closing_in = d_ref[:, -q:].mean(axis=1) < 0.95 * d_ref[:, q : 2 * q + 1].mean(axis=1)
    closing_in |= near_min

    gaps = losses - fmin
    late = gaps[:, -max(1, n // 10):].max(axis=1)
    middle = gaps[:, int(0.4 * n) : int(0.6 * n) + 1].max(axis=1)
    growing = (gaps[:, -1] > 1.5 * gap0) & (late > 1.2 * middle)
    diverged = (diverged_at >= 0) | growing

    grad_norm = np.linalg.norm(g, axis=1)
    slope_scale = gap0 / surface.scale
    # progress over the second half, relative to what was still left to gain at its start
    half_gap = np.maximum(losses[:, n // 2] - fmin, 1e-12)
    half_progress = (losses[:, n // 2] - LT) / half_gap
    no_progress = half_progress < 0.01
    late_steps = np.diff(points[:, -q - 1 :], axis=1)
    path_late = np.hypot(late_steps[..., 0], late_steps[..., 1]).sum(axis=1)
    flat = (grad_norm < 0.02 * slope_scale) & no_progress
    stalled = (path_late < 0.1 * tol) & no_progress
    saddle = ~near_min & (eig[:, 0] < 0) & (newton_any < tol)
    descending = (np.diff(losses[:, -q - 1 :], axis=1) < 0).mean(axis=1) >= 0.8
    descending &= losses[:, -q - 1] > LT

    conditions = [
        diverged,
        at_bottom & local,
        at_bottom & zigzag,
        at_bottom,
        saddle,
        zigzag & (closing_in | descending),
        flat | stalled,
        descending,
    ]
    choices = [Regime.DIVERGED, Regime.LOCAL_MINIMUM, Regime.OVERSHOOTING, Regime.CONVERGED,
               Regime.STUCK, Regime.OVERSHOOTING, Regime.STUCK, Regime.SLOW]
    codes = np.select(conditions, list(range(len(choices))), default=len(choices))
    regimes = [([*choices, Regime.OSCILLATING])[k] for k in codes]
    stuck_kind = np.where(saddle, "saddle", np.where(flat, "plateau", "stalled"))
    return BatchFeatures(regimes, nearest, dmin, crossings, grad_norm,
                         np.minimum(newton, newton_any), eig, at_bottom, unlisted, stuck_kind,
                         d_ref[:, -q:].max(axis=1), noise)


def _count_sign_changes(signs: np.ndarray) -> np.ndarray:
    """Sign changes along each row of a (B, T) array of -1/0/+1, ignoring the zeros."""
    T = signs.shape[1]
    idx = np.where(signs != 0, np.arange(T), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)  # index of the latest non-zero sign so far
    filled = np.take_along_axis(signs, idx, axis=1)
    a, b = filled[:, :-1], filled[:, 1:]
    return np.count_nonzero((a != b) & (a != 0) & (b != 0), axis=1)


# --- explanations ------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.2e}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def _pt(p) -> str:
    return f"({float(p[0]):.2f}, {float(p[1]):.2f})"


def explain(
    i: int, features: BatchFeatures, surface: Surface | str, surface_params: Mapping[str, float],
    optimizer: str, optimizer_params: Mapping[str, float], points: np.ndarray,
    losses: np.ndarray, lrs: np.ndarray, diverged_at: int | None,
    lambda_path: np.ndarray | None,
) -> Diagnosis:
    """The plain-language sentence (and the facts) for run ``i`` of a classified batch."""
    surface = get_surface(surface)
    spec = get_optimizer(optimizer)
    regime = features.regimes[i]
    factor = spec.stability_factor(optimizer_params)
    minima = surface.minima(surface_params)
    m = minima[features.nearest[i]]
    n = len(lrs)
    pT, L0, LT = points[-1], float(losses[0]), float(losses[-1])
    facts: dict[str, float | int | str | None] = {
        "final_loss": LT, "initial_loss": L0, "steps": n, "crossings": int(features.crossings[i]),
        "stability_factor": factor, "diverged_at": diverged_at,
    }
    lam_min_at = minimum_eigenvalues(surface, m.point, surface_params)[1]
    facts["lambda_max_at_minimum"] = lam_min_at
    lr_end = float(lrs[-1]) if n else 0.0
    limit_text = _limit_text(spec.name, factor)

    if regime is Regime.DIVERGED:
        k, product = _first_unstable(lrs, lambda_path, diverged_at, factor)
        facts["lr_times_lambda"] = product
        if diverged_at is not None:
            head = f"Diverged at step {diverged_at}"
        else:
            head = f"Diverging: the loss grew from {_fmt(L0)} to {_fmt(LT)} and is still climbing"
        if product is not None and factor is not None and product > factor:
            at = "at the start" if k == 0 else f"at step {k}"
            text = (f"{head}: {at} {_pt(points[k])} lr × λ_max = {_fmt(product)}, above "
                    f"{limit_text}, so each step overshoots by more than it corrects.")
        elif product is not None and factor is not None:
            text = (f"{head}: the steps grew as the run climbed onto steeper ground "
                    f"(lr × λ_max up to {_fmt(product)}; the limit is {_fmt(factor)}).")
        else:
            text = (f"{head}: with lr = {_fmt(lr_end)} the steps carried the point off the "
                    f"surface faster than the gradient could pull it back.")
        return Diagnosis(regime, text, facts)

    arrival = _arrival_step(points, m.point if not features.unlisted_min[i] else pT,
                            NEAR * surface.scale)
    facts["arrival_step"] = arrival
    if regime in (Regime.CONVERGED, Regime.OVERSHOOTING, Regime.LOCAL_MINIMUM):
        target = pT if features.unlisted_min[i] else m.point
        lam = (float(features.eig_final[i, 1]) if features.unlisted_min[i] else lam_min_at)
        product = lr_end * lam
        facts["lr_times_lambda"] = product
        noisy = features.noise[i] > 0
        if noisy:
            facts["noise_radius"] = float(features.late_radius[i])
        if regime is Regime.LOCAL_MINIMUM:
            best = min(minima, key=lambda mm: mm.value)
            text = (f"Settled in a local minimum at {_pt(target)} with loss {_fmt(LT)} "
                    f"(step {arrival}); the global minimum at {_pt(best.point)} has loss "
                    f"{_fmt(best.value)}. Gradient descent cannot see past the hill between them.")
        elif regime is Regime.OVERSHOOTING:
            detail = (f"lr × λ_max = {_fmt(product)} at the minimum is between 1 and "
                      f"{_fmt(factor)}, so each step lands past the valley floor (error factor "
                      f"1 − {_fmt(product)} = {_fmt(1 - product)} per step)"
                      if factor is not None and spec.name == "sgd" and 1 < product < factor
                      else f"the path crossed the valley floor {int(features.crossings[i])} "
                      f"times on the way in")
            if features.at_bottom[i]:
                text = (f"Converged while zig-zagging: {detail}. It reached {_pt(target)} by "
                        f"step {arrival}, final loss {_fmt(LT)}.")
            else:
                text = (f"Zig-zagging toward the minimum {_pt(target)}: {detail}. After {n} "
                        f"steps it is still {_fmt(features.distance[i])} away (loss {_fmt(LT)}).")
        elif noisy:
            text = (f"Converged to the global minimum {_pt(target)} up to the noise: with "
                    f"gradient noise σ = {_fmt(features.noise[i])} it keeps jittering within "
                    f"{_fmt(features.late_radius[i])} of it (final loss {_fmt(LT)}).")
        else:
            text = (f"Converged to the global minimum {_pt(target)} by step {arrival}: final "
                    f"loss {_fmt(LT)}.")
            if factor is not None:
                rate = "" if np.ptp(lrs) == 0 else f" with the final rate {_fmt(lr_end)}"
                text += f" There{rate} lr × λ_max = {_fmt(product)}, below {limit_text}."
        return Diagnosis(regime, text, facts)

    if regime is Regime.STUCK:
        lo, hi = features.eig_final[i]
        kind = str(features.stuck_kind[i])
        facts["stuck_kind"] = kind
        away = f"the nearest minimum is {_fmt(features.distance[i])} away (loss {_fmt(LT)})"
        if kind == "stalled":
            text = (f"Stuck at {_pt(pT)}: the learning rate has shrunk to {_fmt(lr_end)}, so "
                    f"the steps are too small to move, although {away}.")
        else:
            where = (f"at a saddle point (curvatures {_fmt(lo)} and {_fmt(hi)})"
                     if kind == "saddle" else "on a near-flat plateau")
            text = (f"Stuck {where} at {_pt(pT)}: the gradient is only "
                    f"{_fmt(features.grad_norm[i])}, so each step moves almost nothing, yet "
                    f"{away}.")
        return Diagnosis(regime, text, facts)

    q = max(1, n // 4)
    if regime is Regime.SLOW:
        recent = float(losses[-q - 1] - LT)
        _, product = _worst_product(points[-q - 1 :], lrs[-q:], None if lambda_path is None
                                    else lambda_path[-q - 1 :], None)
        facts["lr_times_lambda"] = product
        text = (f"Still descending when the budget ran out: the loss fell from {_fmt(L0)} to "
                f"{_fmt(LT)} in {n} steps, {_fmt(recent)} of it in the last {q}, and the nearest "
                f"minimum is still {_fmt(features.distance[i])} away.")
        if product is not None and factor is not None and product < 0.5 * factor:
            text += (f" lr × λ_max is only {_fmt(product)}, far below {limit_text}: "
                     f"larger steps would be safe here.")
        return Diagnosis(regime, text, facts)

    window = losses[-q - 1 :]
    swing = (f"the loss swung between {_fmt(window.min())} and {_fmt(window.max())}"
             if np.ptp(window) > 1e-3 * max(abs(window.mean()), 1e-12) else
             f"the loss stayed at {_fmt(window.mean())} while the point jumped back and forth")
    where, product = _worst_product(points[-q - 1 :], lrs[-q:], None if lambda_path is None
                                    else lambda_path[-q - 1 :], None)
    facts["lr_times_lambda"] = product
    text = f"Bouncing without settling: over the last {q} steps {swing}."
    if product is not None and factor is not None and product > factor:
        text += (f" lr × λ_max = {_fmt(product)} near {_pt(where)} is above {limit_text}, "
                 f"yet the run stays bounded: farther out the surface curves less, so the "
                 f"steps stop growing.")
    elif factor is None:
        text += " The adaptive steps stay about lr in size, too large to settle at this rate."
    return Diagnosis(regime, text, facts)


def _limit_text(name: str, factor: float | None) -> str:
    """'2, the stability limit of plain gradient descent' and the like."""
    if factor is None:
        return ""
    rule = {"sgd": "", "momentum": "2 + 2μ = ", "nesterov": "2(1 + μ)/(1 + 2μ) = "}.get(name, "")
    who = {"sgd": "plain gradient descent", "momentum": "heavy-ball momentum",
           "nesterov": "Nesterov momentum"}.get(name, name)
    return f"{rule}{_fmt(factor)}, the stability limit of {who}"


def _first_unstable(lrs, lambda_path, upto, factor) -> tuple[int, float | None]:
    """The first update whose lr_t x lambda_max(p_t) exceeded the limit (else the largest)."""
    if lambda_path is None or len(lrs) == 0:
        return 0, None
    stop = len(lrs) if upto is None else max(1, upto)
    prod = np.asarray(lrs[:stop]) * np.asarray(lambda_path[:stop])
    over = np.flatnonzero(prod > factor) if factor is not None else np.array([], int)
    k = int(over[0]) if over.size else int(np.argmax(prod))
    return k, float(prod[k])


def _worst_product(points, lrs, lambda_path, upto):
    """The largest lr_t x lambda_max(p_t) along the (pre-divergence) path, and where."""
    if lambda_path is None or len(lrs) == 0:
        return None, None
    stop = len(lrs) if upto is None else max(1, upto)
    prod = np.asarray(lrs[:stop]) * np.asarray(lambda_path[:stop])
    k = int(np.argmax(prod))
    return points[k], float(prod[k])


def _arrival_step(points: np.ndarray, target, tol: float) -> int:
    """First step after which the path stays within ``tol`` of ``target``."""
    d = np.linalg.norm(points - np.asarray(target, float), axis=1)
    outside = np.nonzero(d >= tol)[0]
    return int(outside[-1] + 1) if outside.size else 0
