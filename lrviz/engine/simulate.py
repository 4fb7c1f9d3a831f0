"""The public simulation API: `simulate`, `simulate_many`, `lr_sweep` and `phase_map`.

All four go through one executor, `execute`: every run is a `Row` (config, base rate, at most
one parameter override); rows are grouped by structure (surface, optimizer and its
hyperparameter values, loss-driven schedule or not, step bucket) and each group runs as one
padded batch through `core.run_batch` into a typed `Batch`. The scan measures the
classifier's path statistics itself, so sweeps and phase maps keep no trajectories (summary
mode) and are classified from the same numbers as a single run, which is also cut to its own
length and explained.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from lrviz.engine import core, diagnose, runtime
from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Facts, Regime
from lrviz.engine.registry import KINDS
from lrviz.engine.schedules import base_values, get_schedule
from lrviz.engine.spec import batch_bucket, check_lr, step_bucket
from lrviz.engine.surfaces import get_surface
from lrviz.engine.theory import suggest_lr


def largest_rate_before_divergence(lrs: Sequence[float] | np.ndarray,
                                   regimes: Sequence[Regime]) -> float | None:
    """Going up the swept rates, the last one before the first divergence (None: none diverged;
    also None when the smallest rate already diverged)."""
    last = None
    for k in np.argsort(np.asarray(lrs)):
        if regimes[k] is Regime.DIVERGED:
            return last
        last = float(lrs[k])
    return None


@dataclass(frozen=True, eq=False)
class Run:
    """One finished trajectory.

    ``points[t]`` is the parameter vector before update ``t`` (``points[0]`` is the start),
    ``losses[t] = f(points[t])``, ``lrs[t]`` the learning rate update ``t`` used. After a blow-up
    the run stays at its last good point and ``diverged_at`` is the first step that blew up; a run
    can also be classified ``diverged`` with ``diverged_at = None`` when its loss is still finite
    but growing geometrically. ``lambda_max[t]`` is the largest Hessian eigenvalue at
    ``points[t]`` (the stability meter plots ``lrs * lambda_max[:-1]``).
    """

    config: RunConfig
    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    regime: Regime
    diverged_at: int | None
    explanation: str
    lambda_max: np.ndarray | None = None
    facts: Facts = field(default_factory=Facts)

    @property
    def final_point(self) -> tuple[float, float]:
        return (float(self.points[-1, 0]), float(self.points[-1, 1]))

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def stability_ratio(self) -> np.ndarray | None:
        """lr_t x lambda_max(p_t) for every update (compare with the optimizer's limit)."""
        if self.lambda_max is None:
            return None
        return self.lrs * self.lambda_max[:-1]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Independent runs that differ only in the learning rate (see `theory.suggest_lr`)."""

    config: RunConfig
    lrs: np.ndarray
    final_losses: np.ndarray
    regimes: list[Regime]
    diverged_at: list[int | None]
    suggested_lr: float | None
    initial_loss: float

    @property
    def max_stable_lr(self) -> float | None:
        """The largest swept rate below the first one that diverged (None if none diverged)."""
        return largest_rate_before_divergence(self.lrs, self.regimes)


MIN_BATCH = 8  # one AVX register of float32 lanes


class Row(NamedTuple):
    """One run of a batch: a config, the base learning rate it runs at and at most one
    parameter changed from the config (``(kind, name, value)``, as in a phase map)."""

    cfg: RunConfig
    lr: float
    override: tuple[str, str, float] | None = None

    def values(self, kind: str) -> dict[str, float]:
        """The resolved surface/optimizer/schedule parameters of this run."""
        owner = self.cfg.values(kind)
        if self.override is not None and self.override[0] == kind:
            owner[self.override[1]] = float(self.override[2])
        return owner


class Trajectory(NamedTuple):
    """The executor's result for one run, cut to its own length (float64 host arrays)."""

    points: np.ndarray  # (n+1, 2)
    losses: np.ndarray  # (n+1,)
    lrs: np.ndarray  # (n,)
    diverged_at: int | None  # first update that blew up (1-based), None if none did
    final_grad: np.ndarray  # (2,)
    final_hessian: np.ndarray  # (2, 2)


@functools.lru_cache(maxsize=256)
def _unit_rates(schedule: str, steps: int, length: int, params: tuple) -> tuple[np.ndarray, bool]:
    """The schedule at base rate 1 and whether it scales linearly with the base rate."""
    one = base_values(schedule, 1.0, steps, length, dict(params))
    two = base_values(schedule, 2.0, steps, length, dict(params))
    one.setflags(write=False)
    return one, bool(np.allclose(two, 2.0 * one, rtol=1e-6, atol=0))


def _rates(schedule: str, lrs: np.ndarray, steps: int, length: int,
           params: dict[str, float]) -> np.ndarray:
    """Per-update rates (length, R) for base rates ``lrs`` (R,): the one way every run gets its
    rates, so a sweep row and the single run with the same settings use identical numbers.

    A schedule that scales linearly with the base rate (checked numerically) is evaluated once
    at rate 1 and scaled; padding repeats the last real rate and is cut off afterwards.
    """
    unit, linear = _unit_rates(schedule, steps, length, tuple(sorted(params.items())))
    if linear:
        out = (unit[:, None] * np.asarray(lrs, np.float32)[None, :]).astype(np.float32)
    else:
        out = np.stack([base_values(schedule, float(lr), steps, length, params) for lr in lrs],
                       axis=1)
    out[steps:] = out[steps - 1]
    return out


def _group(rows: Sequence[Row], key) -> dict[tuple, list[int]]:
    """Row indices by ``key(row)``, evaluated once per distinct (config, override): a sweep's
    thousand rows share one config, so its keys cost one evaluation, not a thousand."""
    first = rows[0] if rows else None
    if first and all(row.cfg is first.cfg and row.override == first.override for row in rows):
        return {key(first): list(range(len(rows)))}  # a sweep: one group
    seen: dict[tuple, tuple] = {}
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        ident = (id(row.cfg), row.override)
        if ident not in seen:
            seen[ident] = key(row)
        groups[seen[ident]].append(i)
    return groups


def _classify_key(row: Row) -> tuple[str, tuple, int]:
    return row.cfg.surface, tuple(sorted(row.values("surface").items())), row.cfg.steps


def _structure(row: Row) -> tuple[str, str, bool, int, tuple]:
    """What runs as one batch: the compiled structure (surface, optimizer, loss-watching
    schedule or not, step bucket) and the optimizer's hyperparameter values.

    The values do not compile (they are traced scalars) but every batch shares them: one
    ``beta ** t`` per step instead of one per run, and every run, whether alone, in a sweep
    or in a phase map, goes through the very same program (a phase map over an optimizer
    parameter runs one batch per value)."""
    cfg = row.cfg
    return (cfg.surface, cfg.optimizer, get_schedule(cfg.schedule).needs_loss,
            step_bucket(cfg.steps), tuple(sorted(row.values("optimizer").items())))


def _inputs(rows: Sequence[Row], length: int) -> core.Inputs:
    """The stacked traced inputs of rows sharing a structure, padded to a batch bucket.

    Rows are grouped by their config and override, so a thousand-rate sweep builds its
    parameter columns once and its rates in one array operation.
    """
    # At least MIN_BATCH runs: XLA compiles very small batches to scalar code whose rounding
    # differs from the SIMD code of larger ones, and a single run must equal its sweep row.
    size = max(MIN_BATCH, batch_bucket(len(rows)))
    padded = list(rows) + [rows[0]] * (size - len(rows))  # padding repeats the first run
    f32 = np.float32
    groups: dict[tuple, list[int]] = defaultdict(list)
    for k, row in enumerate(padded):
        groups[(id(row.cfg), row.override)].append(k)
    lrs = np.empty((length, size), f32)
    columns: dict[str, dict[str, np.ndarray]] = {}
    # The optimizer's hyperparameters are shared by the batch (see `_structure`) and go in as
    # scalars; surface and plateau parameters are columns (sharing them would buy nothing and
    # compile the surface differently from a phase map that varies them).
    start, noise = np.empty((size, 2), f32), np.empty(size, f32)
    seed, steps = np.empty(size, np.int32), np.empty(size, np.int32)
    for members in groups.values():
        # one group (a sweep): whole columns, not a thousand-index fancy assignment
        idx = slice(None) if len(groups) == 1 else np.asarray(members)
        row = padded[members[0]]
        cfg, spec = row.cfg, get_schedule(row.cfg.schedule)
        sched = row.values("schedule")
        lrs[:, idx] = _rates(cfg.schedule, np.array([padded[k].lr for k in members]),
                             cfg.steps, length, sched)
        plateau = get_schedule("reduce_on_plateau").resolve(sched if spec.needs_loss else {})
        for kind, values in (("surface", row.values("surface")),
                             ("optimizer", row.values("optimizer")), ("plateau", plateau)):
            col = columns.setdefault(kind, {})
            for name, v in values.items():
                if kind == "optimizer":
                    col[name] = f32(v)
                else:
                    col.setdefault(name, np.empty(size, f32))[idx] = v
        start[idx], noise[idx] = cfg.start_point, cfg.noise
        seed[idx], steps[idx] = cfg.seed, cfg.steps
    return core.Inputs(start=start, surface_params=columns["surface"],
                       optimizer_params=columns["optimizer"], lrs=lrs,
                       plateau_params=columns["plateau"], noise=noise, seed=seed, steps=steps)


def _watch(rows: Sequence[Row], size: int) -> core.Watch:
    """What the scan measures for the classifier, per run (padded like `_inputs`): every known
    minimum of the run's surface as a candidate reference (groups with fewer minima repeat
    their last), the swing that counts as a crossing, and the run's windows."""
    padded = list(rows) + [rows[0]] * (size - len(rows))
    groups: dict[tuple, list[int]] = defaultdict(list)
    for k, row in enumerate(padded):
        groups[(id(row.cfg), row.override)].append(k)
    found = []
    for members in groups.values():
        row = padded[members[0]]
        refs = diagnose.references(row.cfg.surface, row.values("surface"))
        found.append((members, row, refs))
    # a surface whose minima move with its parameters (two wells merging into one) pads its
    # count to a power of two (at least 2), so a slider never changes the compiled shape
    m = max(len(refs.points) if get_surface(row.cfg.surface).minima_fn is None
            else max(2, 1 << (len(refs.points) - 1).bit_length()) for _, row, refs in found)
    f32 = np.float32
    ref, top = np.empty((2, m, size), f32), np.empty((2, m, size), f32)
    swing, fmin = np.empty(size, f32), np.empty(size, f32)
    wins = np.empty((5, size), np.int32)
    for members, row, refs in found:
        idx = slice(None) if len(found) == 1 else np.asarray(members)
        pad = np.minimum(np.arange(m), len(refs.points) - 1)  # repeat the last minimum
        ref[:, :, idx] = refs.points[pad].T[:, :, None]
        top[:, :, idx] = refs.tops[pad].T[:, :, None]
        swing[idx] = diagnose.swing(row.cfg.surface)
        fmin[idx] = refs.values.min()
        wins[:, idx] = np.array(diagnose.windows(row.cfg.steps))[:, None]
    return core.Watch(ref[0], ref[1], top[0], top[1], swing, fmin, wins)


@dataclass(frozen=True, eq=False)
class Batch:
    """The executor's typed result for rows of one structure.

    ``out`` holds the scan's arrays where it left them (step-major, padded to a batch bucket;
    without paths only the per-run summary); the host views below are zero-copy on CPU.
    """

    rows: list[Row]
    out: core.Outputs
    input_lrs: np.ndarray  # (N, R) the rates fed in (what the runs used, unless a plateau cut)
    plateau: bool

    def _host(self, a) -> np.ndarray:
        return np.asarray(a)[..., : len(self.rows)]

    @functools.cached_property
    def diverged_at(self) -> np.ndarray:
        """(B,) first update that blew up, -1 when the run never did."""
        return self._host(self.out.diverged_at)

    @functools.cached_property
    def final_loss(self) -> np.ndarray:
        return self._host(self.out.final_loss)

    @functools.cached_property
    def stats(self) -> core.PathStats:
        """The scan's path statistics as host arrays (per-candidate fields (M, B))."""
        return core.PathStats(*(self._host(a) for a in self.out.stats))

    def per_run(self, name: str) -> np.ndarray:
        """(B, ...) ``final_point``, ``final_grad`` or ``final_hessian``."""
        return np.asarray(getattr(self.out, name))[: len(self.rows)]

    def trajectory(self, i: int) -> Trajectory:
        """Run ``i`` cut to its own length, as float64 host arrays (needs a batch with paths)."""
        n = self.rows[i].cfg.steps
        at = int(self.diverged_at[i])
        lrs = np.asarray(self.out.lrs) if self.plateau else self.input_lrs
        points = np.stack([np.asarray(self.out.xs)[: n + 1, i],
                           np.asarray(self.out.ys)[: n + 1, i]], axis=-1)
        return Trajectory(points.astype(np.float64),
                          np.asarray(self.out.losses)[: n + 1, i].astype(np.float64),
                          lrs[:n, i].astype(np.float64), at if at >= 0 else None,
                          self.per_run("final_grad")[i].astype(np.float64),
                          self.per_run("final_hessian")[i].astype(np.float64))


THREAD_MIN_RUNS = 256  # runs per thread below which a batch is launch-bound: one thread


def _parts(idx: list[int], workers: int) -> list[list[int]]:
    """``idx`` cut into up to ``workers`` near-equal consecutive parts of at least
    `THREAD_MIN_RUNS` runs each (one part when too few)."""
    count = min(workers, len(idx) // THREAD_MIN_RUNS)
    if count < 2:
        return [idx]
    return [idx[part] for part in runtime.batch_slices(len(idx), len(idx), count)]


def execute(rows: Sequence[Row], paths: bool = True,
            workers: int | None = None) -> list[tuple[list[int], Batch]]:
    """Run every row; rows sharing a structure run as one batch. Returns (row indices, batch)
    pairs. Single runs, sweeps and phase maps all come through here; sweeps and phase maps
    ask for no ``paths`` (the scan then keeps only what the classifier reads).

    A large batch (a sweep, a phase map) is cut into one part per core (``workers``, default
    every usable core), and parts and batches run side by side on threads
    (`runtime.run_batches`). Each run is elementwise in its own lane, so a run's numbers do not
    depend on which part it is in (a test checks a threaded sweep against the one-batch one)."""
    workers = runtime.usable_cores() if workers is None else max(1, int(workers))
    jobs = []
    for (surface, optimizer, plateau, length, _), group in _group(rows, _structure).items():
        for idx in _parts(group, workers):
            jobs.append(functools.partial(_run_part, rows, idx, surface, optimizer, plateau,
                                          length, paths))
    return runtime.run_batches(jobs, [1] * len(jobs), workers)


def _run_part(rows: Sequence[Row], idx: list[int], surface: str, optimizer: str, plateau: bool,
              length: int, paths: bool) -> tuple[list[int], Batch]:
    members = [rows[i] for i in idx]
    x = _inputs(members, length)
    runtime.keep_mappings_in_check()
    o = core.run_batch(surface, optimizer, plateau, paths, x, _watch(members, x.lrs.shape[1]))
    return idx, Batch(members, o, x.lrs, plateau)


def _classify(rows: Sequence[Row], batches: list[tuple[list[int], Batch]]
              ) -> list[tuple[list[int], diagnose.BatchFeatures]]:
    """Classify runs in groups sharing a surface, its parameters and a length."""
    out = []
    for idx, batch in batches:
        stats = batch.stats
        point, grad, hessian = (batch.per_run(k) for k in
                                ("final_point", "final_grad", "final_hessian"))
        for (surface, params, _steps), js in _group(batch.rows, _classify_key).items():
            cols = np.asarray(js)
            refs = diagnose.references(surface, dict(params))
            group = core.PathStats(*(a[: len(refs.points), cols] if a.ndim == 2 else a[cols]
                                     for a in stats))
            feats = diagnose.classify_batch(
                get_surface(surface), dict(params), point[cols], batch.final_loss[cols], group,
                batch.diverged_at[cols], grad[cols], hessian[cols],
                np.array([batch.rows[j].cfg.noise for j in js]))
            out.append(([idx[j] for j in js], feats))
    return out


def simulate(cfg: RunConfig | None = None, **fields) -> Run:
    """Run one trajectory: ``simulate(RunConfig(...))`` or ``simulate(surface=..., lr=...)``."""
    if cfg is None:
        cfg = RunConfig(**fields)
    elif fields:
        cfg = cfg.with_(**fields)
    return simulate_many([cfg])[0]


def simulate_many(cfgs: Iterable[RunConfig]) -> list[Run]:
    """Several runs; configs that share a structure run as one vmapped batch."""
    cfgs = list(cfgs)
    if not cfgs:
        return []
    rows = [Row(cfg, cfg.lr) for cfg in cfgs]
    batches = execute(rows)
    trajectories: list[Trajectory] = [None] * len(rows)  # type: ignore[list-item]
    lambda_max: list[np.ndarray] = [None] * len(rows)  # type: ignore[list-item]
    for idx, batch in batches:
        surface = rows[idx[0]].cfg.surface
        params = {k: np.array([r.values("surface")[k] for r in batch.rows], np.float32)
                  for k in rows[idx[0]].values("surface")}
        k = len(idx)  # host views, no eager device ops: run-major (B, N+1, 2)
        paths = np.stack([np.asarray(batch.out.xs)[:, :k].T, np.asarray(batch.out.ys)[:, :k].T],
                         axis=-1)
        runtime.keep_mappings_in_check()
        eigs = np.asarray(core.curvature_batch(surface, paths, params).eigs)
        for j, i in enumerate(idx):
            trajectories[i] = batch.trajectory(j)
            lambda_max[i] = eigs[j, : cfgs[i].steps + 1, 1].astype(np.float64)
    runs: list[Run] = [None] * len(rows)  # type: ignore[list-item]
    for idx, feats in _classify(rows, batches):
        for j, i in enumerate(idx):
            cfg, tr = cfgs[i], trajectories[i]
            d = diagnose.explain(j, feats, cfg.surface, cfg.surface_values(), cfg.optimizer,
                                 cfg.optimizer_values(), tr.points, tr.losses, tr.lrs,
                                 tr.diverged_at, lambda_max[i])
            runs[i] = Run(config=cfg, points=tr.points, losses=tr.losses, lrs=tr.lrs,
                          regime=d.regime, diverged_at=tr.diverged_at, explanation=d.explanation,
                          lambda_max=lambda_max[i], facts=d.facts)
    return runs


def _grid(rows: list[Row]) -> tuple[np.ndarray, list[Regime], list[int | None], float]:
    """Final losses, regimes and divergence steps of rows that share a surface and a length
    (a sweep or a phase map), plus the first run's initial loss."""
    batches = execute(rows, paths=False)
    regimes: list[Regime] = [None] * len(rows)  # type: ignore[list-item]
    for members, feats in _classify(rows, batches):
        for j, i in enumerate(members):
            regimes[i] = feats.regimes[j]
    final, diverged = np.empty(len(rows)), np.empty(len(rows), int)
    for idx, batch in batches:
        final[idx], diverged[idx] = batch.final_loss, batch.diverged_at
    initial = float(batches[0][1].stats.first_loss[0])
    return final, regimes, [None if d < 0 else int(d) for d in diverged.tolist()], initial


def lr_sweep(cfg: RunConfig, lrs: Sequence[float] | np.ndarray) -> SweepResult:
    """One independent run per learning rate (same everything else), in one vmapped batch.

    The suggestion follows `theory.suggest_lr`: the log-middle of the longest stretch of rates
    whose runs neither diverged nor oscillated and ended (on a log scale) close to the best one.
    """
    lrs = _check_lrs(lrs)
    final, regimes, diverged, initial = _grid([Row(cfg, float(lr)) for lr in lrs])
    usable = [g not in (Regime.DIVERGED, Regime.OSCILLATING) for g in regimes]
    return SweepResult(
        config=cfg, lrs=lrs, final_losses=final, regimes=regimes, diverged_at=diverged,
        suggested_lr=suggest_lr(lrs, final, usable, initial,
                                floor=get_surface(cfg.surface).global_min_value(
                                    cfg.surface_values())),
        initial_loss=initial,
    )


@dataclass(frozen=True, eq=False)
class PhaseMap:
    """Regimes over a grid: ``regimes[i][j]`` is the run with ``values[i]`` and ``lrs[j]``."""

    config: RunConfig
    kind: str
    name: str
    lrs: np.ndarray
    values: np.ndarray
    final_losses: np.ndarray  # (len(values), len(lrs))
    regimes: list[list[Regime]]


def phase_map(cfg: RunConfig, lrs: Sequence[float], kind: str, name: str,
              values: Sequence[float]) -> PhaseMap:
    """Regime of every (parameter value, learning rate) pair, all in one vmapped batch.

    ``kind`` is ``"optimizer"``, ``"schedule"`` or ``"surface"`` and ``name`` one of its
    parameters, e.g. ``phase_map(cfg, lrs, "optimizer", "momentum", [0, 0.5, 0.9])``.
    """
    lrs = _check_lrs(lrs)
    values = np.asarray(values, float).ravel()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("phase_map needs at least one finite parameter value")
    owner = cfg.values(kind)
    if name not in owner:
        raise ValueError(f"{kind} {getattr(cfg, kind)!r} has no parameter {name!r}; "
                         f"its parameters are: {', '.join(owner) or 'none'}")
    key = f"{kind}_params"
    for value in np.unique(values):  # every grid value must be valid, as in a RunConfig
        cfg.with_(**{key: {**getattr(cfg, key), name: float(value)}})
    rows = [Row(cfg, float(lr), (kind, name, float(v))) for v in values for lr in lrs]
    final, regimes, _, _ = _grid(rows)
    shape = (values.size, lrs.size)
    return PhaseMap(
        config=cfg, kind=kind, name=name, lrs=lrs, values=values,
        final_losses=final.reshape(shape),
        regimes=[regimes[i * lrs.size : (i + 1) * lrs.size] for i in range(values.size)],
    )


def _check_lrs(lrs) -> np.ndarray:
    lrs = np.asarray(lrs, dtype=float).ravel()
    if lrs.size == 0:
        raise ValueError("a sweep needs at least one learning rate")
    who = "every learning rate in a sweep must be valid: lr"
    try:  # the same range as a RunConfig's lr (spec.LR_VALID), an interval: its ends decide
        check_lr(lrs.min(), who)
        check_lr(lrs.max(), who)
    except ValueError:
        for lr in np.unique(lrs):  # name the smallest offending rate
            check_lr(lr, who)
        raise
    return lrs
