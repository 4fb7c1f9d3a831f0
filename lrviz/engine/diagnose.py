"""Classify a finished run into a `Regime` and explain it with the numbers behind it.

The classifier is vectorised over a batch of runs that share a surface and a step count (a
sweep classifies a thousand runs in one pass). It reads no paths: the statistics it needs are
measured inside the simulation's scan (`core.PathStats`, against every known minimum), so a
sweep keeps no trajectories and a single run is classified from the very same numbers. Every
threshold is a named field of `Thresholds`; the numbers below are its defaults. "Near" means
within 1% of the domain size; "no longer moving" means the last tenth of the path fits in a
box whose diagonal is under that.

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

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from lrviz.engine.linalg2 import eigh_2x2, eigvals_2x2_entries, solve_2x2_entries
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
    hessian: np.ndarray  # (B, 2, 2) at the final point

    @property
    def top_final(self) -> np.ndarray:
        """(B, 2) steepest direction at the final point (only an unlisted minimum's
        explanation reads it, so it is not worked out for every run of a sweep)."""
        return eigh_2x2(np.asarray(self.hessian, np.float64))[1]


class References(NamedTuple):
    """A surface's known minima as the classifier's candidate references."""

    points: np.ndarray  # (M, 2)
    values: np.ndarray  # (M,)
    is_global: np.ndarray  # (M,) bool
    tops: np.ndarray  # (M, 2) unit eigenvector of the larger Hessian eigenvalue (steepest)


@functools.lru_cache(maxsize=256)
def _references(name: str, params: tuple[tuple[str, float], ...]) -> References:
    surface = get_surface(name)
    minima = surface.minima(dict(params))
    hessians = np.stack([point_hessian(surface, m.point, dict(params)) for m in minima])
    refs = References(np.array([m.point for m in minima], float),
                      np.array([m.value for m in minima], float),
                      np.array([m.is_global for m in minima]), eigh_2x2(hessians)[1])
    for a in refs:
        a.setflags(write=False)
    return refs


def references(surface: Surface | str, surface_params: Mapping[str, float]) -> References:
    """The candidate references of a surface with these parameters (cached)."""
    surface = get_surface(surface)
    return _references(surface.name, tuple(sorted(surface.resolve(surface_params).items())))


def windows(steps: int, limits: Thresholds = THRESHOLDS) -> tuple[int, int, int, int, int]:
    """The stretches of a run of ``steps`` updates the path statistics look at: q (the last
    quarter), tail (the last tenth of the points, at least 2), late_tail (at least 1) and the
    middle [lo, hi)."""
    n = int(steps)
    return (max(1, n // limits.quarter), max(2, n // limits.tail), max(1, n // limits.tail),
            int(limits.middle[0] * n), int(limits.middle[1] * n) + 1)


def swing(surface: Surface | str, limits: Thresholds = THRESHOLDS) -> float:
    """How far from the valley floor a swing must reach to count as a crossing."""
    return limits.swing * limits.near * get_surface(surface).scale


_OUTCOMES = np.array([Regime.DIVERGED, Regime.LOCAL_MINIMUM, Regime.OVERSHOOTING,
                      Regime.CONVERGED, Regime.STUCK, Regime.OVERSHOOTING, Regime.STUCK,
                      Regime.SLOW, Regime.OSCILLATING], dtype=object)
_STUCK_KINDS = np.array(["saddle", "plateau", "stalled"], dtype=object)


def classify_batch(
    surface: Surface, surface_params: Mapping[str, float], final_point: np.ndarray,
    final_loss: np.ndarray, stats, diverged_at: np.ndarray, final_grad: np.ndarray,
    final_hessian: np.ndarray, noise: np.ndarray | float = 0.0, limits: Thresholds = THRESHOLDS,
    refs: References | None = None,
) -> BatchFeatures:
    """Regimes of B runs with the same surface and length from what the scan measured.

    ``stats`` holds this group's `core.PathStats` as host arrays (per-candidate fields (M, B),
    the candidates being `references` of the surface in order); the per-run arrays are this
    group's too. The path statistics were measured against every known minimum; the one the
    run ended nearest to is the reference. A run that settled in a minimum that is not listed
    (Rastrigin's dimples, say) is classified without path statistics: it is at a minimum by
    construction. The windows and the crossing swing were fixed when the scan ran (from
    `THRESHOLDS`, see `windows` and `swing`); ``limits`` sets the comparisons made here.
    ``refs`` are the surface's `references` when the caller has them already.

    Everything is float64 and worked coordinate by coordinate on (B,) columns (the 2x2
    eigenvalues and the Newton step written out, as in `linalg2`): a sweep classifies a
    thousand runs in about sixty small array operations.
    """
    B = len(final_loss)
    noise = np.asarray(noise, float)
    if noise.shape != (B,):
        noise = np.broadcast_to(noise, (B,))
    refs = references(surface, surface_params) if refs is None else refs
    values, is_global = refs.values, refs.is_global
    fmin = values.min()
    tol = limits.near * surface.scale
    f64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
    runs = np.arange(B)

    LT, L0 = f64(final_loss), f64(stats.first_loss)
    # the per-run vectors and matrices as contiguous float64 rows (three conversions instead
    # of strided access in every operation below)
    rows = np.empty((8, B))
    rows[:2], rows[2:4] = np.asarray(final_point).T, np.asarray(final_grad).T
    rows[4:] = np.asarray(final_hessian).reshape(B, 4).T
    px, py, gx, gy, h00, h01, h10, h11 = rows
    gap0 = np.maximum(L0 - fmin, 1e-9)
    # distance to every listed minimum, (M, B); the same sums as a 2-vector norm
    ref_x, ref_y = refs.points[:, :1], refs.points[:, 1:]
    dists = _norm(px - ref_x, py - ref_y)
    nearest = np.zeros(B, np.intp) if len(dists) == 1 else dists.argmin(axis=0)
    dmin = dists[nearest, runs]

    lo, hi = eigvals_2x2_entries(h00, h01, h10, h11)  # ascending
    pd = lo > 0
    # Newton step H^-1 g where H is positive definite (identity elsewhere: a step never used)
    a, b, c, d = (np.where(pd, h, float(i == j))
                  for h, (i, j) in zip((h00, h01, h10, h11), _ENTRIES, strict=True))
    sx, sy = (np.where(pd, s, 0.0) for s in solve_2x2_entries(a, b, c, d, gx, gy))
    newton = np.where(pd, _norm(sx, sy), np.inf)  # Newton step length
    grad_norm = _norm(gx, gy)
    # Newton distance for indefinite Hessians (saddles): |g| / min |lambda|.
    newton_any = grad_norm / np.maximum(np.minimum(np.abs(lo), np.abs(hi)), limits.min_eig)

    near_listed = dmin < tol
    # A positive-definite point whose Newton step is tiny is a minimum even if it is not listed
    # (Rastrigin's dimples, say) — unless that step points at a listed minimum still ahead.
    ahead = _norm(px - sx - ref_x, py - sy - ref_y).min(axis=0) < tol
    unlisted = ~near_listed & pd & (newton < tol) & ~ahead
    near_min = near_listed | unlisted
    ref_value = np.where(unlisted, LT, values[nearest])
    local = unlisted | ~is_global[nearest]

    # the statistics measured against the nearest listed minimum (copies: explanations of
    # unlisted minima overwrite a run's crossings and late radius)
    pick = ((lambda a: np.asarray(a)[0]) if len(dists) == 1
            else (lambda a: np.asarray(a)[nearest, runs]))
    crossings = pick(stats.crossings).astype(int)
    d_late, d_early = f64(pick(stats.late_dist)), f64(pick(stats.early_dist))
    d_late_max = np.array(pick(stats.late_dist_max), np.float64)
    late_gap, late, middle = f64(stats.late_gap), f64(stats.late_peak), f64(stats.middle_peak)

    settled = (f64(stats.spread) < tol) | (LT - ref_value < limits.settled_gap * gap0)
    # With gradient noise a run never settles exactly; hovering close to a minimum, with a loss
    # that has kept less than 1% of the starting gap, counts as being there.
    noisy_bottom = (noise > 0) & (d_late < limits.noisy_radius * tol) & (
        late_gap - (ref_value - fmin) < limits.noisy_gap * gap0)
    at_bottom = (near_min & settled) | noisy_bottom
    zigzag = (crossings >= limits.crossings) & (noise <= 0)
    closing_in = (d_late < limits.closing * d_early) | near_min

    growing = (LT - fmin > limits.grow_gap * gap0) & (late > limits.grow_late * middle)
    diverged = (diverged_at >= 0) | growing

    slope_scale = gap0 / surface.scale
    # progress over the second half, relative to what was still left to gain at its start
    half = f64(stats.half_loss)
    no_progress = (half - LT) / np.maximum(half - fmin, 1e-12) < limits.no_progress
    flat = (grad_norm < limits.flat_slope * slope_scale) & no_progress
    stalled = (f64(stats.path_late) < limits.stalled_path * tol) & no_progress
    saddle = ~near_min & (lo < 0) & (newton_any < tol)
    descending = (f64(stats.falling) >= limits.descending) & (
        f64(stats.quarter_back_loss) > LT)

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
    # the first condition that holds picks the outcome (the last, oscillating, when none does)
    codes = np.full(B, len(conditions), np.intp)
    for k in range(len(conditions) - 1, -1, -1):
        np.copyto(codes, k, where=conditions[k])
    kinds = np.where(saddle, 0, np.where(flat, 1, 2))
    return BatchFeatures(_OUTCOMES[codes].tolist(), nearest, dmin, crossings, grad_norm,
                         np.minimum(newton, newton_any), np.stack([lo, hi]).T, at_bottom,
                         unlisted, _STUCK_KINDS[kinds], d_late_max, noise, final_hessian)


_ENTRIES = ((0, 0), (0, 1), (1, 0), (1, 1))


def _norm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lengths of the vectors (x, y), elementwise (the sums `np.linalg.norm` forms)."""
    return np.sqrt(x * x + y * y)


def unlisted_path_facts(points: np.ndarray, top: np.ndarray, surface: Surface,
                        limits: Thresholds = THRESHOLDS) -> tuple[int, float]:
    """Crossings and farthest late distance of a path that settled in an unlisted minimum,
    measured from where it ended along the steepest direction ``top`` there. The scan measures
    against listed minima only; for such a run these two numbers only feed the explanation
    (the regime is settled without them), so they are taken from the recorded path."""
    offset = np.asarray(points, float) - np.asarray(points, float)[-1]
    along = offset @ np.asarray(top, float)
    cut = swing(surface, limits)
    sides = np.sign(np.where(np.abs(along) > cut, along, 0.0))
    sides = sides[sides != 0]
    crossings = int(np.count_nonzero(sides[1:] != sides[:-1]))
    q = max(1, (len(points) - 1) // limits.quarter)
    return crossings, float(np.linalg.norm(offset[-q:], axis=1).max())


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
    if features.unlisted_min[i]:  # measured from the path's end, not a listed minimum
        features.crossings[i], features.late_radius[i] = unlisted_path_facts(
            points, features.top_final[i], surface)
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
