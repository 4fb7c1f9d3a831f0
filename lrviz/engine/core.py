"""The compiled heart of the engine: one ``jit(lax.scan(step))`` per run structure, each step
working on whole (B,) columns of a batch of runs.

Structure (surface, optimizer, whether the schedule watches the loss, whether paths are kept,
whether any run has gradient noise, step bucket, batch bucket) is static and compiles once.
Every number (start point, surface/optimizer/schedule parameters, the per-step learning rates,
the amount of noise, seed, the step budget) is a traced input, so moving a slider never
recompiles.

Divergence is handled inside the scan: a step whose point or loss is non-finite, or that leaves
the escape box (``ESCAPE`` domain-sizes around the plotted domain), is not taken; the run stays
frozen at its last good point, so no NaN or inf ever leaves this module.

On XLA's CPU backend a single run's step (8 lanes) costs what its kernel launches cost and a
thousand-run sweep's step what its arithmetic costs, so the step is laid out for both:
coordinates as (2, B) rows, one optimizer call on the whole batch (shared hyperparameters are
scalars: one ``beta ** t`` per step, not one per run), forward-mode slopes, the new point's
loss and gradient computed once, and path statistics in a few arrays, each updated by one
elementwise expression.
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
    """Traced inputs of a batch of B runs (leading axis B; ``lrs`` is step-major).

    A parameter shared by every run of the batch is a scalar (shape ``()``), one that differs
    between runs a column ``(B,)``; the shapes are part of the compiled structure. Sharing
    matters for speed: Adam's bias correction ``beta ** t`` is then one power per step, not
    one per run and step.
    """

    start: jax.Array  # (B, 2)
    surface_params: dict[str, jax.Array]  # each () or (B,)
    optimizer_params: dict[str, jax.Array]
    lrs: jax.Array  # (N, 1) or (N, B) rate table: update t of run b uses lrs[t, b] * scale[b]
    scale: jax.Array  # (B,) (a linear schedule is one column at base rate 1, scaled per run)
    plateau_params: dict[str, jax.Array]
    noise: jax.Array  # (B,)
    seed: jax.Array  # (B,)
    steps: jax.Array  # () the batch's real length (<= N); later updates are padding


class Watch(NamedTuple):
    """What the classifier asks the scan to measure along each path (see `diagnose`).

    The candidate references are the surface's known minima (M of them, padded by repetition)
    with the steepest direction at each; the classifier later keeps the candidate nearest to
    where the run ended. ``windows`` holds q (last quarter), tail (last tenth of the points, at
    least 2), late_tail (last tenth, at least 1) and the middle fifth [lo, hi); the runs of a
    batch share their length, so these are scalars and every window test is one comparison
    per step, not one per run.
    """

    ref_x: jax.Array  # (M, B)
    ref_y: jax.Array
    top_x: jax.Array  # (M, B) unit steepest direction at each candidate
    top_y: jax.Array
    swing: jax.Array  # (B,) a crossing counts only past this offset from the valley floor
    fmin: jax.Array  # (B,) the surface's global minimum value
    windows: jax.Array  # (5,) int32: q, tail, late_tail, lo, hi (the batch shares a length)


class PathStats(NamedTuple):
    """Per-run numbers measured along each path of n = ``steps`` updates (point k = the point
    after k updates; "the last K points" are k in (n-K, n])."""

    first_loss: jax.Array  # (B,) loss at k = 0
    half_loss: jax.Array  # loss at k = n // 2
    quarter_back_loss: jax.Array  # loss at k = n - q
    spread: jax.Array  # diagonal of the bounding box of the last `tail` points
    crossings: jax.Array  # (M, B) sign changes of the offset along each candidate's top
    late_dist: jax.Array  # (M, B) mean distance to each candidate over the last q points
    late_dist_max: jax.Array  # (M, B) its maximum there
    early_dist: jax.Array  # (M, B) mean distance over points q .. 2q
    late_gap: jax.Array  # (B,) mean of loss - fmin over the last q points
    late_peak: jax.Array  # max of loss - fmin over the last late_tail points
    middle_peak: jax.Array  # max of loss - fmin over points lo .. hi-1
    path_late: jax.Array  # path length over the last q updates
    falling: jax.Array  # fraction of the last q updates that lowered the loss


class Outputs(NamedTuple):
    """What a batch returns, step-major so each update writes one contiguous row per
    coordinate (x and y apart: a (B, 2) row would interleave them and split the step into
    more kernels)."""

    xs: jax.Array | None  # (N+1, B); None in summary mode
    ys: jax.Array | None  # (N+1, B)
    losses: jax.Array | None  # (N+1, B)
    lrs: jax.Array | None  # (N, B) learning rate each update used (with a plateau schedule)
    diverged_at: jax.Array  # (B,) first update (1-based) within ``steps`` that blew up, else -1
    final_point: jax.Array  # (B, 2) the point after ``steps`` updates (or the last good one)
    final_loss: jax.Array  # (B,)
    final_grad: jax.Array  # (B, 2) gradient there
    final_hessian: jax.Array  # (B, 2, 2) Hessian there
    stats: PathStats

    @property
    def points(self) -> jax.Array:
        """(N+1, B, 2), the two coordinates side by side (a copy)."""
        return jnp.stack([self.xs, self.ys], axis=-1)


def _kicks(noise: jax.Array, seed: jax.Array, n: int) -> jax.Array:
    """Each run's gradient noise for all n updates, (N, 2, B): ``noise * N(0, 1)`` drawn from
    the run's own seed (a run without noise in a noisy batch gets zeros)."""
    one = lambda s, k: s * jax.random.normal(jax.random.key(k), (n, 2))  # noqa: E731
    return jnp.transpose(jax.vmap(one)(noise, seed), (1, 2, 0))


def _axes(params: dict[str, jax.Array]) -> dict[str, int | None]:
    """vmap axes of a parameter dict: 0 for per-run columns, None for shared scalars."""
    return {k: (0 if jnp.ndim(v) else None) for k, v in params.items()}


class _Tally(NamedTuple):
    """The running sums, extremes and picks behind `PathStats`, carried through the scan.

    Each field is updated by one elementwise expression over the whole array, its rows told
    apart by their row index (``where`` on an iota, never a concatenation): XLA's CPU backend
    then runs each field as one vectorised kernel per step, and a small scan body is dominated
    by the number of kernels it launches (a concatenation of rows would compile to one kernel
    per row, or to scalar code). Falls are counted in float32 (small integers, exact); the
    crossings and the side they count from share one int32 array, so one kernel and no loop
    copy update both (two arrays cost ~5% of a sweep's scan).
    """

    sums: jax.Array  # (3, B) over the late window: loss - fmin, path length, falls
    peaks: jax.Array  # (6, B) maxima: loss - fmin over the last late_tail | over the middle;
    # x, y, -x, -y over the tail window (the bounding box)
    picks: jax.Array  # (2, B) loss at n // 2 | at n - q
    dist_sums: jax.Array  # (2, M, B) distance to each candidate summed over late | early
    dist_max: jax.Array  # (M, B) its maximum over the late window
    swings: jax.Array  # (M, B) int32: 4 x the sign changes so far + 1 + the side of the
    # last swing (-1, 1; 0 before any), two counters in one array (one kernel per step)


class _Windows(NamedTuple):
    """Loop-invariant window bounds (inclusive), shared by the batch's runs."""

    late: tuple[jax.Array, jax.Array]  # ()
    peaks: tuple[jax.Array, jax.Array]  # (6, 1) rows of `_Tally.peaks`
    picks: jax.Array  # (2, 1) n // 2 | n - q
    dist: tuple[jax.Array, jax.Array]  # (2, 1, 1) late | early


def _windows(steps: jax.Array, w: Watch) -> _Windows:
    q, tail, late_tail, lo, hi = (w.windows[i] for i in range(5))
    first = lambda size: steps - size + 1  # noqa: E731  (first of the last `size` points)
    tails = [first(tail)] * 4
    column = lambda *v: jnp.stack(v)[:, None]  # noqa: E731
    return _Windows(
        (first(q), steps),
        (column(first(late_tail), lo, *tails), column(steps, hi - 1, *[steps] * 4)),
        column(steps // 2, steps - q),
        (column(first(q), q)[:, None], column(steps, 2 * q)[:, None]))


def _rows(n: int) -> jax.Array:
    return jax.lax.broadcasted_iota(jnp.int32, (n, 1), 0)


def _observe(tally: _Tally | None, k, win: _Windows, w: Watch, p, loss, prev=None) -> _Tally:
    """Fold point k of every path (``p`` (2, B), ``loss`` (B,)) into the tally; ``prev`` is
    point k-1 and its loss (None at k = 0). Everything is masked by position, so points past
    a run's own length count nowhere."""
    inside = lambda bounds: (k >= bounds[0]) & (k <= bounds[1])  # noqa: E731
    late = inside(win.late)
    inf = jnp.float32(jnp.inf)
    px, py = p[0], p[1]
    dx, dy = px - w.ref_x, py - w.ref_y  # (M, B)
    dist = jnp.sqrt(dx * dx + dy * dy)
    along = dx * w.top_x + dy * w.top_y
    swing = jnp.where(along > w.swing, 1, jnp.where(along < -w.swing, -1, 0))
    swing = jnp.where(k <= win.late[1], swing, 0)
    gap = loss - w.fmin
    if tally is None:
        tally = _Tally(jnp.zeros((3, *loss.shape)), jnp.full((6, *loss.shape), -inf),
                       jnp.stack([loss, loss]), jnp.zeros((2, *dist.shape)),
                       jnp.full_like(dist, -inf), swing + 1)
        swings = tally.swings
    else:
        old = (tally.swings & 3) - 1
        side = jnp.where(swing != 0, swing, old)
        crossed = ((side != old) & (old != 0)).astype(jnp.int32)
        swings = (((tally.swings >> 2) + crossed) << 2) + side + 1
    if prev is None:
        length = fell = jnp.zeros_like(loss)
    else:
        step = p - prev[0]
        length = jnp.sqrt(step[0] * step[0] + step[1] * step[1])
        fell = (loss < prev[1]).astype(jnp.float32)
    r3, r6 = _rows(3), _rows(6)
    added = jnp.where(r3 == 0, gap, jnp.where(r3 == 1, length, fell))
    seen = jnp.where(r6 < 2, gap, jnp.where(r6 % 2 == 0, px, py) * jnp.where(r6 < 4, 1.0, -1.0))
    return _Tally(
        tally.sums + jnp.where(late, added, 0.0),
        jnp.maximum(tally.peaks, jnp.where(inside(win.peaks), seen, -inf)),
        jnp.where(k == win.picks, loss, tally.picks),
        tally.dist_sums + jnp.where(inside(win.dist), dist, 0.0),
        jnp.maximum(tally.dist_max, jnp.where(late, dist, -inf)),
        swings)


def _stats(first_loss: jax.Array, t: _Tally, w: Watch) -> PathStats:
    q = w.windows[0].astype(jnp.float32)
    width, height = t.peaks[2] + t.peaks[4], t.peaks[3] + t.peaks[5]  # max x - min x, ...
    return PathStats(first_loss, t.picks[0], t.picks[1],
                     jnp.sqrt(width * width + height * height),
                     t.swings >> 2, t.dist_sums[0] / q,
                     t.dist_max, t.dist_sums[1] / (q + 1.0), t.sums[0] / q, t.peaks[0],
                     t.peaks[1], t.sums[1], t.sums[2] / q)


# XLA:CPU options of the trajectory programs (per program, not process-wide). The scan body
# is a chain of small elementwise kernels over (B,) rows: letting LLVM use the full 512-bit
# registers where the CPU has them (AVX-512; it falls back to the widest it has elsewhere)
# and the region-based copy analysis (fewer loop-carry copies) made a 1000-run sweep's scan
# ~10% faster, with bit-identical results (a test compares against the default options).
XLA_OPTIONS = {"xla_cpu_prefer_vector_width": 512,
               "xla_cpu_copy_insertion_use_region_analysis": True}


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4), compiler_options=XLA_OPTIONS)
def run_batch(surface_name: str, optimizer_name: str, plateau: bool, paths: bool, noisy: bool,
              x: Inputs, watch: Watch) -> Outputs:
    """All runs of one structure at once: one ``lax.scan`` over the updates, each step working
    on whole (B,) columns.

    With ``paths`` the scan also writes every point, loss and (with a loss-watching schedule)
    rate; without, it only carries what the classifier reads (`PathStats`, measured in the same
    scan in both modes, so a sweep row and a single run are classified from identical numbers).
    Without a loss-watching schedule the rates are an input and the scan does not write them
    (``lrs`` is then None): update t of run b uses ``x.lrs[t, b] * x.scale[b]`` in float32, a
    product the host repeats (`executor.Batch.rates`). A schedule linear in its base rate is a
    single column at rate 1, so a thousand-rate sweep feeds one (N, 1) table and its rates
    instead of an (N, B) one. Whether any run has gradient noise (``noisy``) is
    structure: a batch without noise draws no random numbers and adds no kicks, which is most
    runs and a fifth of a sweep's time (a traced "maybe noise" still had to fill, carry and
    read an (N, 2, B) array of zeros). The amount of noise and the seed stay traced numbers.

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
    n, B = x.lrs.shape[0], x.scale.shape[0]
    q = x.surface_params

    def loss_and_slopes(px, py, params):
        # forward mode, one coordinate at a time: each slope comes out as its own (B,) row
        # (reverse mode would assemble (B, 2) gradients and split them again every step)
        f = lambda a, b: surface.fn(jnp.stack([a, b]), params)  # noqa: E731
        loss, gx = jax.jvp(lambda a: f(a, py), (px,), (jnp.ones_like(px),))
        _, gy = jax.jvp(lambda b: f(px, b), (py,), (jnp.ones_like(py),))
        return loss, gx, gy

    batched = jax.vmap(loss_and_slopes, in_axes=(0, 0, _axes(q)))

    def evaluate(p, params):  # points are (2, B): x and y rows, each contiguous
        loss, gx, gy = batched(p[0], p[1], params)
        return loss, jnp.stack([gx, gy])

    optimizer = factory(1.0, **x.optimizer_params)

    def body(carry, xs):
        (p, loss, g, opt_state, alive, accepted), tally, plateau_state = carry
        t, row, *kick = xs
        base_lr = row * x.scale
        lr = base_lr * plateau_state.scale if plateau else base_lr
        u, new_opt_state = optimizer.update(g + kick[0] if noisy else g, opt_state, p)
        new_p = p + lr * u
        # One value_and_grad per step: the new point's gradient drives the next update.
        new_loss, new_g = evaluate(new_p, q)
        # computed once and read by the checks and the selects below (XLA would otherwise
        # fuse a fresh copy of the surface's formula into each of them)
        new_p, new_loss, new_g = jax.lax.optimization_barrier((new_p, new_loss, new_g))
        finite = lambda v: jnp.isfinite(v[0]) & jnp.isfinite(v[1])  # noqa: E731
        ok = (alive & (t < x.steps) & finite(new_p) & jnp.isfinite(new_loss) & finite(new_g)
              & (jnp.abs(new_p[0] - cx) <= radius) & (jnp.abs(new_p[1] - cy) <= radius))
        # Rejected values are never used, not even by later gradients (a "double where"):
        # the point and loss stay at the last good ones. The gradient is not kept: once a
        # step is rejected the run is dead and every later update is rejected too, so only
        # a live run reads it (the final gradient is evaluated again after the scan).
        keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
        runs = (keep(new_p, p), keep(new_loss, loss), new_g, new_opt_state, ok,
                accepted + ok.astype(jnp.int32))
        tally = _observe(tally, t + 1, win, watch, runs[0], runs[1], (p, loss))
        if plateau:
            plateau_state = jax.vmap(schedules.plateau_update, in_axes=(
                0, 0, 0, _axes(x.plateau_params)))(plateau_state, loss, x.lrs[0] * x.scale,
                                                   x.plateau_params)
        out = (runs[0], runs[1], lr if plateau else None) if paths else None
        return (runs, tally, plateau_state), out

    p0 = x.start.astype(jnp.float32).T
    loss0, g0 = evaluate(p0, q)
    runs0 = (p0, loss0, g0, optimizer.init(p0), jnp.ones(B, bool), jnp.zeros(B, jnp.int32))
    win = _windows(x.steps, watch)
    tally0 = _observe(None, 0, win, watch, p0, loss0)
    plateau0 = jax.tree.map(lambda v: jnp.broadcast_to(v, (B,)), schedules.plateau_init())
    (runs, tally, _), out = jax.lax.scan(
        body, (runs0, tally0, plateau0),
        (jnp.arange(n), x.lrs, *([_kicks(x.noise, x.seed, n)] if noisy else [])), unroll=UNROLL)
    accepted = runs[5]
    # a run that stopped before its own length blew up at the update after its last good one
    diverged_at = jnp.where(accepted < x.steps, accepted + 1, -1)
    final = runs[0].T
    _, final_grad = evaluate(runs[0], q)
    hess = jax.vmap(jax.hessian(surface.fn), in_axes=(0, _axes(q)))(final, q)
    clean = lambda a: jnp.nan_to_num(a, nan=0.0, posinf=3e38, neginf=-3e38)  # noqa: E731
    summary = (diverged_at, final, runs[1], clean(final_grad.T), clean(hess),
               _stats(loss0, tally, watch))
    if not paths:
        return Outputs(None, None, None, None, *summary)
    ps, ls, lrs = out
    ps = jnp.concatenate([p0[None], ps])  # (N+1, 2, B)
    return Outputs(ps[:, 0], ps[:, 1], jnp.concatenate([loss0[None], ls]), lrs, *summary)


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
