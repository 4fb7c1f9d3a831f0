"""The public simulation API: `simulate`, `simulate_many`, `lr_sweep` and `phase_map`.

All four go through the one executor (`executor.execute`): runs come in blocks that differ
only in their learning rate, blocks are grouped by compiled structure, and each group runs as
one padded batch through `core.run_batch` into a typed `executor.Batch`. The scan measures the
classifier's path statistics itself, so sweeps and phase maps keep no trajectories (summary
mode) and are classified from the same numbers as a single run, which is also cut to its own
length and explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lrviz.engine import core, diagnose, runtime
from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Facts, Regime
from lrviz.engine.executor import Block, Trajectory, classify, execute
from lrviz.engine.registry import KINDS
from lrviz.engine.spec import check_lr
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
    batches = execute([Block.of(cfg) for cfg in cfgs])
    trajectories: list[Trajectory] = [None] * len(cfgs)  # type: ignore[list-item]
    lambda_max: list[np.ndarray] = [None] * len(cfgs)  # type: ignore[list-item]
    for idx, batch in batches:
        first = batch.pieces[0].block
        params = {k: batch.per_piece(lambda b, k=k: b.values("surface")[k]).astype(np.float32)
                  for k in first.values("surface")}
        k = len(idx)  # host views, no eager device ops: run-major (B, N+1, 2)
        paths = np.stack([np.asarray(batch.out.xs)[:, :k].T, np.asarray(batch.out.ys)[:, :k].T],
                         axis=-1)
        runtime.keep_mappings_in_check()
        eigs = np.asarray(core.curvature_batch(first.cfg.surface, paths, params).eigs)
        for j, i in enumerate(idx.tolist()):
            trajectories[i] = batch.trajectory(j)
            lambda_max[i] = eigs[j, : cfgs[i].steps + 1, 1].astype(np.float64)
    runs: list[Run] = [None] * len(cfgs)  # type: ignore[list-item]
    for idx, feats in classify(batches):
        for j, i in enumerate(idx.tolist()):
            cfg, tr = cfgs[i], trajectories[i]
            d = diagnose.explain(j, feats, cfg.surface, cfg.surface_values(), cfg.optimizer,
                                 cfg.optimizer_values(), tr.points, tr.losses, tr.lrs,
                                 tr.diverged_at, lambda_max[i])
            runs[i] = Run(config=cfg, points=tr.points, losses=tr.losses, lrs=tr.lrs,
                          regime=d.regime, diverged_at=tr.diverged_at, explanation=d.explanation,
                          lambda_max=lambda_max[i], facts=d.facts)
    return runs


def _grid(blocks: list[Block]) -> tuple[np.ndarray, list[Regime], list[int | None], float]:
    """Final losses, regimes and divergence steps of the runs of ``blocks`` laid end to end
    (a sweep or a phase map, sharing a surface and a length), plus the first run's initial
    loss."""
    batches = execute(blocks, paths=False)
    total = sum(len(b.lrs) for b in blocks)
    regimes = np.empty(total, object)
    for idx, feats in classify(batches):
        regimes[idx] = feats.regimes
    final, diverged = np.empty(total), np.empty(total, int)
    for idx, batch in batches:
        final[idx], diverged[idx] = batch.final_loss, batch.diverged_at
    steps = diverged.astype(object)  # Python ints, None where the run never blew up
    steps[diverged < 0] = None
    initial = float(batches[0][1].stats.first_loss[0])
    return final, regimes.tolist(), steps.tolist(), initial


def lr_sweep(cfg: RunConfig, lrs: Sequence[float] | np.ndarray) -> SweepResult:
    """One independent run per learning rate (same everything else), in one vmapped batch.

    The suggestion follows `theory.suggest_lr`: the log-middle of the longest stretch of rates
    whose runs neither diverged nor oscillated and ended (on a log scale) close to the best one.
    """
    lrs = _check_lrs(lrs)
    final, regimes, diverged, initial = _grid([Block.of(cfg, lrs)])
    unusable = {Regime.DIVERGED, Regime.OSCILLATING}  # one hash per run, no string compares
    usable = ~np.fromiter(map(unusable.__contains__, regimes), bool, len(regimes))
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
    final, regimes, _, _ = _grid([Block.of(cfg, lrs, (kind, name, float(v))) for v in values])
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
