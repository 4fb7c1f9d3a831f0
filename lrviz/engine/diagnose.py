"""Classify a finished run into a `Regime` and explain it with the numbers behind it.

The classifier is vectorised over a batch of runs that share a surface and a step count (a
sweep classifies a thousand runs in one pass; the passes over whole paths run compiled, in
`_path_stats`). Every threshold is a named field of `Thresholds`; the numbers below are its
defaults. "Near" means within 1% of the domain size.

Decision order (first match wins):

1. diverged — the run blew up (``diverged_at`` set), or its loss gap to the minimum ended above
   1.5x the starting gap and was still climbing (last tenth above 1.2x the middle fifth).
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

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum

import jax
import jax.numpy as jnp
import numpy as np

from lrviz.engine.linalg2 import eigh_2x2
from lrviz.engine.numbers import fmt_number
from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.surfaces import Minimum, Surface, get_surface
from lrviz.engine.theory import minimum_eigenvalues, point_hessian


@dataclass(frozen=True)
class Thresholds:
    """Every number the classifier compares against, in one place.

    Distances are fractions of the surface's domain size (``near``); loss comparisons are
    relative to the starting gap ``L0 - f_min``; fractions of a run are fractions of its steps.
    """

    near: float = 0.01  # "at" a point: within this fraction of the domain size
    crossings: int = 4  # valley-floor crossings that make a path zig-zag
    swing: float = 0.1  # a crossing counts only if it swings past this fraction of `near`
    settled_gap: float = 1e-4  # loss within this fraction of the starting gap: settled
    noisy_radius: float = 10.0  # with noise, hovering within this many `near`s of a minimum
    noisy_gap: float = 0.01  # ... with a late loss keeping under this fraction of the gap
    tail: int = 10  # the last 1/tail of a run ("last tenth": still moving? still growing?)
    quarter: int = 4  # the last 1/quarter of a run (descending, noise, closing in)
    closing: float = 0.95  # closing in: late mean distance below this fraction of early
    grow_gap: float = 1.5  # diverging: final gap above this multiple of the starting gap
    grow_late: float = 1.2  # ... and the last tenth's peak above this multiple of the middle's
    middle: tuple[float, float] = (0.4, 0.6)  # the "middle fifth" of a run
    flat_slope: float = 0.02  # plateau: |gradient| below this fraction of gap / domain size
    no_progress: float = 0.01  # plateau: second half gained under this fraction of its gap
    stalled_path: float = 0.1  # stalled: last quarter's path under this fraction of `near`
    descending: float = 0.8  # slow: loss fell on at least this fraction of the last quarter
    min_eig: float = 1e-12  # smallest |curvature| used in a Newton distance


THRESHOLDS = Thresholds()
NEAR = THRESHOLDS.near  # kept for callers that read the old module constants
CROSSINGS = THRESHOLDS.crossings


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
class Facts:
    """The numbers behind an explanation, typed (None where the regime does not measure it).

    ``lr_times_lambda`` is the product the sentence quotes (at the minimum for settled runs,
    the first unstable one for diverged runs, the worst late one otherwise); ``arrival_step``
    the first step after which the path stays within `Thresholds.near` of its minimum (beyond
    ``steps`` when it never arrived); ``stuck_kind`` "saddle", "plateau" or "stalled".
    Lesson claims and exports read them by name: ``facts["final_loss"]``, ``facts.get(name)``.
    """

    final_loss: float = math.nan
    initial_loss: float = math.nan
    steps: int = 0
    crossings: int = 0
    stability_factor: float | None = None
    diverged_at: int | None = None
    lambda_max_at_minimum: float = math.nan
    arrival_step: int | None = None
    lr_times_lambda: float | None = None
    noise_radius: float | None = None
    stuck_kind: str | None = None

    def __getitem__(self, name: str) -> float | int | str | None:
        if name not in _FACT_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: object = None) -> object:
        """The fact called ``name``, ``default`` when there is no such fact or it is None."""
        value = getattr(self, name, None) if name in _FACT_NAMES else None
        return default if value is None else value

    def items(self) -> list[tuple[str, float | int | str | None]]:
        """(name, value) of every fact the explanation measured (None ones left out)."""
        return [(k, getattr(self, k)) for k in _FACT_NAMES if getattr(self, k) is not None]


_FACT_NAMES = tuple(f.name for f in fields(Facts))


@dataclass(frozen=True)
class Diagnosis:
    regime: Regime
    explanation: str
    facts: Facts = field(default_factory=Facts)


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


def classify_batch(
    surface: Surface, surface_params: Mapping[str, float], points, losses,
    diverged_at: np.ndarray, final_grad: np.ndarray, final_hessian: np.ndarray,
    noise: np.ndarray | float = 0.0, limits: Thresholds = THRESHOLDS, steps: int | None = None,
    cols: np.ndarray | None = None,
) -> BatchFeatures:
    """Regimes of B runs with the same surface and length.

    ``points`` (T, R, 2) and ``losses`` (T, R) are step-major paths of R >= B runs, as the
    executor's scan writes them (device arrays are read where they are, never copied); ``cols``
    picks this group's B runs (all R when None) and the per-run arrays ``diverged_at``,
    ``final_grad``, ``final_hessian`` and ``noise`` are already this group's. Only the first
    ``steps + 1`` points count (default: all T).
    """
    # The few per-run scalars are promoted to float64; passes over whole paths (~1M points for a
    # thousand-run sweep) run compiled in float32 in `_path_stats`, on every column at once.
    P, Lh = np.asarray(points), np.asarray(losses)  # zero-copy views of CPU device arrays
    T, R, _ = P.shape
    cols = np.arange(R) if cols is None else np.asarray(cols)
    B = cols.size
    n = T - 1 if steps is None else int(steps)
    noise = np.broadcast_to(np.asarray(noise, float), (B,))
    minima = surface.minima(surface_params)
    M = np.array([m.point for m in minima])
    values = np.array([m.value for m in minima])
    is_global = np.array([m.is_global for m in minima])
    fmin = values.min()
    tol = limits.near * surface.scale

    pT = P[n, cols].astype(np.float64)
    LT, L0 = Lh[n, cols].astype(np.float64), Lh[0, cols].astype(np.float64)
    gap0 = np.maximum(L0 - fmin, 1e-9)
    dists = np.linalg.norm(pT[:, None, :] - M[None], axis=2)
    nearest = dists.argmin(axis=1)
    dmin = dists[np.arange(B), nearest]

    H = final_hessian.astype(np.float64)
    eig, _ = eigh_2x2(H)
    g = final_grad.astype(np.float64)
    pd = eig[:, 0] > 0
    safe_H = np.where(pd[:, None, None], H, np.eye(2))
    step = np.where(pd[:, None], np.linalg.solve(safe_H, g[..., None])[..., 0], 0.0)
    newton = np.where(pd, np.linalg.norm(step, axis=1), np.inf)  # Newton step length
    # Newton distance for indefinite Hessians (saddles): |g| / min |lambda|.
    newton_any = np.linalg.norm(g, axis=1) / np.maximum(np.abs(eig).min(axis=1), limits.min_eig)

    near_listed = dmin < tol
    # A positive-definite point whose Newton step is tiny is a minimum even if it is not listed
    # (Rastrigin's dimples, say) — unless that step points at a listed minimum still ahead.
    ahead = np.linalg.norm((pT - step)[:, None, :] - M[None], axis=2).min(axis=1) < tol
    unlisted = ~near_listed & pd & (newton < tol) & ~ahead
    near_min = near_listed | unlisted
    ref = np.where(unlisted[:, None], pT, M[nearest])
    ref_value = np.where(unlisted, LT, values[nearest])
    local = np.where(unlisted, True, ~is_global[nearest])

    # The steepest direction at the reference point: crossings of the valley floor along it.
    minima_H = np.stack([point_hessian(surface, mm.point, surface_params) for mm in minima])
    _, top = eigh_2x2(np.where(unlisted[:, None, None], H, minima_H[nearest]))
    q = max(1, n // limits.quarter)
    tail, late_tail = max(2, n // limits.tail), max(1, n // limits.tail)
    lo, hi = int(limits.middle[0] * n), int(limits.middle[1] * n) + 1
    ref_all, top_all = np.zeros((R, 2), np.float32), np.zeros((R, 2), np.float32)
    ref_all[cols], top_all[cols] = ref, top
    ints = np.array([n, q, tail, late_tail, lo, hi], np.int32)
    stats = [np.asarray(a)[cols].astype(np.float64) for a in _compiled_path_stats(
        points, losses, ref_all, top_all, np.float32(fmin), np.float32(limits.swing * tol), ints)]
    moving, crossings, d_late, d_late_max, d_early, late_gap, late, middle, path_late, \
        descending = stats
    crossings = crossings.astype(int)

    settled = (moving < tol) | (LT - ref_value < limits.settled_gap * gap0)
    # With gradient noise a run never settles exactly; hovering close to a minimum, with a loss
    # that has kept less than 1% of the starting gap, counts as being there.
    noisy_bottom = (noise > 0) & (d_late < limits.noisy_radius * tol) & (
        late_gap - (ref_value - fmin) < limits.noisy_gap * gap0)
    at_bottom = (near_min & settled) | noisy_bottom
    zigzag = (crossings >= limits.crossings) & (noise <= 0)
    closing_in = (d_late < limits.closing * d_early) | near_min

    growing = (LT - fmin > limits.grow_gap * gap0) & (late > limits.grow_late * middle)
    diverged = (diverged_at >= 0) | growing

    grad_norm = np.linalg.norm(g, axis=1)
    slope_scale = gap0 / surface.scale
    # progress over the second half, relative to what was still left to gain at its start
    half = Lh[n // 2, cols].astype(np.float64)
    no_progress = (half - LT) / np.maximum(half - fmin, 1e-12) < limits.no_progress
    flat = (grad_norm < limits.flat_slope * slope_scale) & no_progress
    stalled = (path_late < limits.stalled_path * tol) & no_progress
    saddle = ~near_min & (eig[:, 0] < 0) & (newton_any < tol)
    descending = (descending >= limits.descending) & (Lh[n - q, cols] > LT)

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
    outcomes = (*choices, Regime.OSCILLATING)
    regimes = [outcomes[k] for k in codes.tolist()]
    stuck_kind = np.where(saddle, "saddle", np.where(flat, "plateau", "stalled"))
    return BatchFeatures(regimes, nearest, dmin, crossings, grad_norm,
                         np.minimum(newton, newton_any), eig, at_bottom, unlisted, stuck_kind,
                         d_late_max, noise)


@jax.jit
def _compiled_path_stats(points, losses, ref, top, fmin, swing, ints):
    """The classifier's passes over whole paths, compiled: step-major points (T, R, 2) and
    losses (T, R), the reference minimum ``ref`` (R, 2) and its steepest direction ``top``
    (R, 2); ``ints`` holds n, q, tail, late_tail, lo, hi as traced numbers (a new run length
    never recompiles).

    Returns per run: the farthest the last ``tail`` points lie from the final point; the number
    of sign changes of the offset from ``ref`` along ``top`` (ignoring swings under ``swing``);
    mean and max distance from ``ref`` over the last ``q`` points and its mean over points
    ``q .. 2q``; mean loss gap over the last ``q``; the largest gap over the last ``late_tail``
    points and over points ``lo .. hi-1``; the path length over the last ``q`` updates; and the
    fraction of those updates that lowered the loss.
    """
    n, q, tail, late_tail, lo, hi = (ints[k] for k in range(6))
    t = jnp.arange(points.shape[0])[:, None]
    last = lambda k: (t > n - k) & (t <= n)  # noqa: E731  (the last k points)
    masked_max = lambda a, m: jnp.max(jnp.where(m, a, -jnp.inf), axis=0)  # noqa: E731
    masked_mean = lambda a, m: jnp.sum(jnp.where(m, a, 0.0), axis=0) / jnp.sum(m)  # noqa: E731
    x, y = points[..., 0], points[..., 1]
    final = jax.lax.dynamic_index_in_dim(points, n, 0, keepdims=False)
    moving = masked_max(jnp.sqrt((x - final[:, 0]) ** 2 + (y - final[:, 1]) ** 2), last(tail))
    rx, ry = x - ref[:, 0], y - ref[:, 1]
    dist = jnp.sqrt(rx * rx + ry * ry)
    along = jnp.where(t <= n, rx * top[:, 0] + ry * top[:, 1], 0.0)
    # the side of the valley floor of the latest significant swing (0 before any): the last
    # non-zero sign so far, as an associative scan (O(T log T); lax.cummax would lower to a
    # reduce_window, O(T^2) on CPU)
    swings = jnp.where(along > swing, 1, jnp.where(along < -swing, -1, 0)).astype(jnp.int8)
    latest = lambda a, b: jnp.where(b != 0, b, a)  # noqa: E731
    side = jax.lax.associative_scan(latest, swings, axis=0)
    crossings = jnp.sum((side[1:] != side[:-1]) & (side[:-1] != 0), axis=0)
    gaps = losses - fmin
    lengths = jnp.sqrt(jnp.diff(x, axis=0) ** 2 + jnp.diff(y, axis=0) ** 2)
    late_updates = last(q)[1:]  # updates into each of the last q points
    path_late = jnp.sum(jnp.where(late_updates, lengths, 0.0), axis=0)
    falling = masked_mean(jnp.diff(losses, axis=0) < 0, late_updates)
    early = (t >= q) & (t <= 2 * q)
    return (moving, crossings, masked_mean(dist, last(q)), masked_max(dist, last(q)),
            masked_mean(dist, early), masked_mean(gaps, last(q)),
            masked_max(gaps, last(late_tail)), masked_max(gaps, (t >= lo) & (t < hi)),
            path_late, falling)


# --- explanations ------------------------------------------------------------------------------


def _pt(p) -> str:
    return f"({float(p[0]):.2f}, {float(p[1]):.2f})"


@dataclass(frozen=True)
class Story:
    """What the explanations read about one classified run (its row of a `BatchFeatures`)."""

    regime: Regime
    features: BatchFeatures
    i: int
    surface: Surface
    minima: tuple
    nearest_min: Minimum  # the nearest known minimum
    lam_at_min: float  # lambda_max at that minimum
    factor: float | None  # the optimizer's stability factor (None: adaptive)
    limit_text: str  # "2 + 2μ = 3.8, the stability limit of heavy-ball momentum"
    error_factor: Callable[[float], float] | None  # per-step error factor of lr x lambda
    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    diverged_at: int | None
    lambda_path: np.ndarray | None

    @property
    def n(self) -> int:
        return len(self.lrs)

    @property
    def lr_end(self) -> float:
        return float(self.lrs[-1]) if self.n else 0.0

    @property
    def q(self) -> int:
        return max(1, self.n // THRESHOLDS.quarter)

    def late_product(self) -> tuple[np.ndarray | None, float | None]:
        """The largest lr x lambda_max over the last quarter, and where."""
        q = self.q
        if self.lambda_path is None or self.n == 0:
            return None, None
        prod = np.asarray(self.lrs[-q:]) * np.asarray(self.lambda_path[-q - 1 : -1])
        k = int(np.argmax(prod))
        return self.points[-q - 1 + k], float(prod[k])


def explain(
    i: int, features: BatchFeatures, surface: Surface | str, surface_params: Mapping[str, float],
    optimizer: str, optimizer_params: Mapping[str, float], points: np.ndarray,
    losses: np.ndarray, lrs: np.ndarray, diverged_at: int | None,
    lambda_path: np.ndarray | None,
) -> Diagnosis:
    """The plain-language sentence (and the facts) for run ``i`` of a classified batch: the
    common facts here, the sentence from the regime's own explainer."""
    surface = get_surface(surface)
    spec = get_optimizer(optimizer)
    factor = spec.stability_factor(optimizer_params)
    minima = surface.minima(surface_params)
    m = minima[features.nearest[i]]
    lam_at_min = minimum_eigenvalues(surface, m.point, surface_params)[1]
    story = Story(features.regimes[i], features, i, surface, minima, m, lam_at_min, factor,
                  spec.limit_text(factor), spec.error_factor, points, losses, lrs,
                  diverged_at, lambda_path)
    facts: dict[str, float | int | str | None] = {
        "final_loss": float(losses[-1]), "initial_loss": float(losses[0]), "steps": story.n,
        "crossings": int(features.crossings[i]), "stability_factor": factor,
        "diverged_at": diverged_at, "lambda_max_at_minimum": lam_at_min,
    }
    if story.regime is not Regime.DIVERGED:
        facts["arrival_step"] = _arrival_step(
            points, m.point if not features.unlisted_min[i] else points[-1],
            THRESHOLDS.near * surface.scale)
    text = _EXPLAINERS[story.regime](story, facts)
    return Diagnosis(story.regime, text, Facts(**facts))


def _explain_diverged(s: Story, facts: dict) -> str:
    L0, LT = float(s.losses[0]), float(s.losses[-1])
    k, product = _first_unstable(s.lrs, s.lambda_path, s.diverged_at, s.factor)
    facts["lr_times_lambda"] = product
    if s.diverged_at is not None:
        head = f"Diverged at step {s.diverged_at}"
    else:
        head = (f"Diverging: the loss grew from {fmt_number(L0)} to {fmt_number(LT)} and is "
                f"still climbing")
    if product is not None and s.factor is not None and product > s.factor:
        at = "at the start" if k == 0 else f"at step {k}"
        return (f"{head}: {at} {_pt(s.points[k])} lr × λ_max = {fmt_number(product)}, above "
                f"{s.limit_text}, so each step overshoots by more than it corrects.")
    if product is not None and s.factor is not None:
        return (f"{head}: the steps grew as the run climbed onto steeper ground "
                f"(lr × λ_max up to {fmt_number(product)}; the limit is {fmt_number(s.factor)}).")
    return (f"{head}: with lr = {fmt_number(s.lr_end)} the steps carried the point off the "
            f"surface faster than the gradient could pull it back.")


def _at_minimum(s: Story, facts: dict) -> tuple[np.ndarray, float]:
    """The minimum a settled run sits in and lr x lambda_max there (recorded in the facts)."""
    f, i = s.features, s.i
    target = s.points[-1] if f.unlisted_min[i] else s.nearest_min.point
    lam = float(f.eig_final[i, 1]) if f.unlisted_min[i] else s.lam_at_min
    product = s.lr_end * lam
    facts["lr_times_lambda"] = product
    if f.noise[i] > 0:
        facts["noise_radius"] = float(f.late_radius[i])
    return target, product


def _explain_local_minimum(s: Story, facts: dict) -> str:
    target, _ = _at_minimum(s, facts)
    best = min(s.minima, key=lambda mm: mm.value)
    return (f"Settled in a local minimum at {_pt(target)} with loss {fmt_number(s.losses[-1])} "
            f"(step {facts['arrival_step']}); the global minimum at {_pt(best.point)} has loss "
            f"{fmt_number(best.value)}. Gradient descent cannot see past the hill between them.")


def _explain_overshooting(s: Story, facts: dict) -> str:
    target, product = _at_minimum(s, facts)
    f, i, LT = s.features, s.i, float(s.losses[-1])
    detail = (f"lr × λ_max = {fmt_number(product)} at the minimum is between 1 and "
              f"{fmt_number(s.factor)}, so each step lands past the valley floor (error factor "
              f"1 − {fmt_number(product)} = {fmt_number(s.error_factor(product))} per step)"
              if s.factor is not None and s.error_factor is not None and 1 < product < s.factor
              else f"the path crossed the valley floor {int(f.crossings[i])} "
              f"times on the way in")
    if f.at_bottom[i]:
        return (f"Converged while zig-zagging: {detail}. It reached {_pt(target)} by "
                f"step {facts['arrival_step']}, final loss {fmt_number(LT)}.")
    return (f"Zig-zagging toward the minimum {_pt(target)}: {detail}. After {s.n} "
            f"steps it is still {fmt_number(f.distance[i])} away (loss {fmt_number(LT)}).")


def _explain_converged(s: Story, facts: dict) -> str:
    target, product = _at_minimum(s, facts)
    f, i, LT = s.features, s.i, float(s.losses[-1])
    if f.noise[i] > 0:
        return (f"Converged to the global minimum {_pt(target)} up to the noise: with "
                f"gradient noise σ = {fmt_number(f.noise[i])} it keeps jittering within "
                f"{fmt_number(f.late_radius[i])} of it (final loss {fmt_number(LT)}).")
    text = (f"Converged to the global minimum {_pt(target)} by step {facts['arrival_step']}: "
            f"final loss {fmt_number(LT)}.")
    if s.factor is not None:
        rate = "" if np.ptp(s.lrs) == 0 else f" with the final rate {fmt_number(s.lr_end)}"
        text += f" There{rate} lr × λ_max = {fmt_number(product)}, below {s.limit_text}."
    return text


def _explain_stuck(s: Story, facts: dict) -> str:
    f, i, pT = s.features, s.i, s.points[-1]
    lo, hi = f.eig_final[i]
    kind = str(f.stuck_kind[i])
    facts["stuck_kind"] = kind
    away = (f"the nearest minimum is {fmt_number(f.distance[i])} away "
            f"(loss {fmt_number(s.losses[-1])})")
    if kind == "stalled":
        return (f"Stuck at {_pt(pT)}: the learning rate has shrunk to {fmt_number(s.lr_end)}, so "
                f"the steps are too small to move, although {away}.")
    where = (f"at a saddle point (curvatures {fmt_number(lo)} and {fmt_number(hi)})"
             if kind == "saddle" else "on a near-flat plateau")
    return (f"Stuck {where} at {_pt(pT)}: the gradient is only {fmt_number(f.grad_norm[i])}, so "
            f"each step moves almost nothing, yet {away}.")


def _explain_slow(s: Story, facts: dict) -> str:
    q, LT = s.q, float(s.losses[-1])
    recent = float(s.losses[-q - 1] - LT)
    _, product = s.late_product()
    facts["lr_times_lambda"] = product
    text = (f"Still descending when the budget ran out: the loss fell from "
            f"{fmt_number(s.losses[0])} to {fmt_number(LT)} in {s.n} steps, "
            f"{fmt_number(recent)} of it in the last {q}, and the nearest minimum is still "
            f"{fmt_number(s.features.distance[s.i])} away.")
    if product is not None and s.factor is not None and product < 0.5 * s.factor:
        text += (f" lr × λ_max is only {fmt_number(product)}, far below {s.limit_text}: "
                 f"larger steps would be safe here.")
    return text


def _explain_oscillating(s: Story, facts: dict) -> str:
    window = s.losses[-s.q - 1 :]
    swing = (f"the loss swung between {fmt_number(window.min())} and {fmt_number(window.max())}"
             if np.ptp(window) > 1e-3 * max(abs(window.mean()), 1e-12) else
             f"the loss stayed at {fmt_number(window.mean())} while the point jumped back and "
             f"forth")
    where, product = s.late_product()
    facts["lr_times_lambda"] = product
    text = f"Bouncing without settling: over the last {s.q} steps {swing}."
    if product is not None and s.factor is not None and product > s.factor:
        text += (f" lr × λ_max = {fmt_number(product)} near {_pt(where)} is above {s.limit_text}, "
                 f"yet the run stays bounded: farther out the surface curves less, so the "
                 f"steps stop growing.")
    elif s.factor is None:
        text += " The adaptive steps stay about lr in size, too large to settle at this rate."
    return text


_EXPLAINERS = {
    Regime.DIVERGED: _explain_diverged,
    Regime.LOCAL_MINIMUM: _explain_local_minimum,
    Regime.OVERSHOOTING: _explain_overshooting,
    Regime.CONVERGED: _explain_converged,
    Regime.STUCK: _explain_stuck,
    Regime.SLOW: _explain_slow,
    Regime.OSCILLATING: _explain_oscillating,
}


def _first_unstable(lrs, lambda_path, upto, factor) -> tuple[int, float | None]:
    """The first update whose lr_t x lambda_max(p_t) exceeded the limit (else the largest)."""
    if lambda_path is None or len(lrs) == 0:
        return 0, None
    stop = len(lrs) if upto is None else max(1, upto)
    prod = np.asarray(lrs[:stop]) * np.asarray(lambda_path[:stop])
    over = np.flatnonzero(prod > factor) if factor is not None else np.array([], int)
    k = int(over[0]) if over.size else int(np.argmax(prod))
    return k, float(prod[k])


def _arrival_step(points: np.ndarray, target, tol: float) -> int:
    """First step after which the path stays within ``tol`` of ``target``."""
    d = np.linalg.norm(points - np.asarray(target, float), axis=1)
    outside = np.nonzero(d >= tol)[0]
    return int(outside[-1] + 1) if outside.size else 0
